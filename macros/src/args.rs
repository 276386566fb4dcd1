//! Reading a layer's arguments: counts, kinds and option names, each wrong one a spanned error.

use crate::parse::{LayerSpec, Value};
use crate::registry::Entry;
use crate::suggest::did_you_mean;
use syn::Ident;

/// The arguments of one layer, checked against what its registry entry says it takes.
pub struct LayerArgs<'a> {
    spec: &'a LayerSpec,
    /// The written layer's number, as messages give it: `4`, or `4.2` for the second layer
    /// in the block of layer 4; empty for the input.
    pub label: String,
    /// How messages name the layer: "layer 4, `Conv2D<0, 3>`" or "the input, `Input<0>`".
    who: String,
    /// How the layer is written, e.g. "Conv2D<filters, kernel>".
    usage: &'static str,
    pub positional: Vec<&'a Value>,
    named: Vec<(&'a Ident, &'a Value)>,
}

impl<'a> LayerArgs<'a> {
    /// Splits the arguments of `spec`, numbered `label` (empty for the input), as `entry`
    /// takes them; an option not among the entry's options is an error naming the ones there
    /// are, and so is an option given twice.
    pub fn new(spec: &'a LayerSpec, label: &str, entry: &Entry) -> syn::Result<Self> {
        let who = if label.is_empty() {
            format!("the input, `{}`", spec.display())
        } else {
            format!("layer {label}, `{}`", spec.display())
        };
        let options = entry.options;
        let mut positional = Vec::new();
        let mut named = Vec::new();
        for arg in &spec.args {
            match &arg.key {
                None => positional.push(&arg.value),
                Some(key) => {
                    let name = key.to_string();
                    if !options.contains(&name.as_str()) {
                        let mut message = if options.is_empty() {
                            format!(
                                "{who}: `{}` takes no options, so `{name}` is not one",
                                spec.name
                            )
                        } else {
                            format!(
                                "{who}: `{}` has no option `{name}`; its options are {}",
                                spec.name,
                                options.join(", ")
                            )
                        };
                        if let Some(close) = did_you_mean(&name, options) {
                            message += &format!("\n  = help: did you mean `{close}`?");
                        }
                        return Err(syn::Error::new(key.span(), message));
                    }
                    if named.iter().any(|(k, _): &(&Ident, &Value)| *k == key) {
                        return Err(syn::Error::new(
                            key.span(),
                            format!("{who}: option `{name}` is given twice"),
                        ));
                    }
                    named.push((key, &arg.value));
                }
            }
        }
        Ok(LayerArgs {
            spec,
            label: label.to_string(),
            who,
            usage: entry.usage,
            positional,
            named,
        })
    }

    /// How messages name the layer.
    pub fn who(&self) -> &str {
        &self.who
    }

    /// An error about the whole layer: "layer 4, `Conv2D<0, 3>`: {problem}".
    pub fn error(&self, problem: impl std::fmt::Display) -> syn::Error {
        self.spec.error(format!("{}: {problem}", self.who))
    }

    /// Requires between `min` and `max` positional arguments.
    pub fn count(&self, min: usize, max: usize) -> syn::Result<()> {
        let n = self.positional.len();
        if (min..=max).contains(&n) {
            return Ok(());
        }
        let expected = match (min, max) {
            (0, 0) => "no arguments".to_string(),
            (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
            (a, b) => format!("{a} to {b} arguments"),
        };
        Err(self.spec.error(format!(
            "{}: `{}` takes {expected}, written `{}`, but was given {n}",
            self.who, self.spec.name, self.usage
        )))
    }

    /// Positional argument `index`, a whole number of at least 1 naming `what` (or one
    /// per axis: see [`Extent`]).
    pub fn positive<T: Extent>(&self, index: usize, what: &str) -> syn::Result<T> {
        T::read(self.positional[index], &self.who, what)
    }

    pub fn named(&self, name: &str) -> Option<&'a Value> {
        self.named.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    /// Named option `name`, a whole number of at least 1 (or one per axis: see
    /// [`Extent`]), or `default`.
    pub fn positive_option<T: Extent>(&self, name: &str, default: T) -> syn::Result<T> {
        match self.named(name) {
            Some(value) => T::read(value, &self.who, name),
            None => Ok(default),
        }
    }

    /// A yes/no option written as a bare flag (`return_sequences`, `ReturnSequences`) or as
    /// `name = true`.
    pub fn flag(&self, name: &str, flag_words: &[&str]) -> syn::Result<bool> {
        let bare = self.positional.iter().any(|v| {
            v.bare_word()
                .is_some_and(|w| flag_words.contains(&w.as_str()))
        });
        match self.named(name) {
            None => Ok(bare),
            Some(Value::Bool(b)) => Ok(b.value),
            Some(other) => Err(syn::Error::new(
                other.span(),
                format!("{}: `{name}` is `true` or `false`", self.who),
            )),
        }
    }
}

/// A value that must be a whole number of at least 1.
pub fn positive(value: &Value, who: &str, what: &str) -> syn::Result<usize> {
    match value {
        Value::Int(lit) => match lit.base10_parse::<usize>() {
            Ok(0) => Err(syn::Error::new(
                lit.span(),
                format!("{who}: {what} must be at least 1, not 0"),
            )),
            Ok(n) => Ok(n),
            Err(_) => Err(syn::Error::new(
                lit.span(),
                format!("{who}: {what} must be a whole number"),
            )),
        },
        other => Err(syn::Error::new(
            other.span(),
            format!(
                "{who}: {what} must be a whole number, not `{}`",
                other.display()
            ),
        )),
    }
}

/// A size that a window has along each of its axes: one number for a sequence's steps; a
/// (rows, columns) pair for an image, written as one number for both or as Keras's tuple
/// `(3, 5)`.
pub trait Extent: Copy {
    /// `value`, a whole number of at least 1 per axis naming `what`, or an error saying so.
    fn read(value: &Value, who: &str, what: &str) -> syn::Result<Self>;
    /// The smallest size over the axes.
    fn smallest(self) -> usize;
}

impl Extent for usize {
    fn read(value: &Value, who: &str, what: &str) -> syn::Result<Self> {
        positive(value, who, what)
    }
    fn smallest(self) -> usize {
        self
    }
}

impl Extent for (usize, usize) {
    fn read(value: &Value, who: &str, what: &str) -> syn::Result<Self> {
        match value {
            Value::Tuple(values, span) => match &values[..] {
                [rows, cols] => Ok((positive(rows, who, what)?, positive(cols, who, what)?)),
                _ => Err(syn::Error::new(
                    *span,
                    format!(
                        "{who}: {what} is one number for both axes or a pair `(rows, columns)`, not {} number{}",
                        values.len(),
                        if values.len() == 1 { "" } else { "s" }
                    ),
                )),
            },
            Value::Int(_) => positive(value, who, what).map(|n| (n, n)),
            other => Err(syn::Error::new(
                other.span(),
                format!(
                    "{who}: {what} must be a whole number or a pair `(rows, columns)`, not `{}`",
                    other.display()
                ),
            )),
        }
    }
    fn smallest(self) -> usize {
        self.0.min(self.1)
    }
}

/// A value that must be a number (`0.25`, or `0`) in `[0, 1)`, returned in parts per million.
pub fn rate_ppm(value: &Value, who: &str, what: &str) -> syn::Result<u32> {
    let (rate, span) = match value {
        Value::Float(lit) => (lit.base10_parse::<f64>().ok(), lit.span()),
        Value::Int(lit) => (lit.base10_parse::<f64>().ok(), lit.span()),
        other => (None, other.span()),
    };
    match rate {
        Some(r) if (0.0..1.0).contains(&r) => Ok((r * 1e6).round() as u32),
        _ => Err(syn::Error::new(
            span,
            format!("{who}: {what} must be a number from 0 up to (not including) 1"),
        )),
    }
}
