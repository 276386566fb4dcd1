//! Decode: every written layer, looked up in the [registry](crate::registry), becomes a
//! [`LayerKind`] with its arguments checked, before any shape is computed.
//!
//! Each layer decodes on its own, so every layer that does not is reported: two misspelled
//! layers are two errors.

use crate::args::LayerArgs;
use crate::infer::Dims;
use crate::parse::{LayerSpec, NetworkSpec, Value};
use crate::registry::{lookup, recurrent, Decode, DecodedBranch, LayerKind, MergeKind, LAYERS};
use crate::suggest::did_you_mean;

/// The network with every layer decoded.
pub struct Decoded<'a> {
    /// The first layer, `Input<..>` or `Tokens<..>`, and the shape it declares; `None` for
    /// a network with several inputs, whose first layer is a merge of branches that each
    /// start with their own.
    pub input: Option<(&'a LayerSpec, Dims)>,
    pub layers: Vec<DecodedLayer<'a>>,
}

pub struct DecodedLayer<'a> {
    /// The written layer's position in its list, from 1 (after the input, or at the start
    /// of a block).
    pub position: usize,
    /// Its number as messages give it: `4`, or `4.2` inside the block of layer 4.
    pub label: String,
    /// The layer as written, for messages.
    pub spec: &'a LayerSpec,
    pub kind: LayerKind,
}

pub fn decode(net: &NetworkSpec) -> syn::Result<Decoded<'_>> {
    let Some(first) = net.layers.first() else {
        return Err(syn::Error::new(net.end, "an empty network: start with `Input<..>`, the shape of one sample, e.g. `network![Input<1, 28, 28>, Flatten, Dense<10>]`"));
    };
    let mut errors: Option<syn::Error> = None;
    let mut keep = |error: syn::Error| match &mut errors {
        Some(errors) => errors.combine(error),
        None => errors = Some(error),
    };
    let several_inputs = starts_with_inputs(first);
    let input = if several_inputs {
        None
    } else {
        input(first)
            .map_err(&mut keep)
            .ok()
            .map(|dims| (first, dims))
    };
    let rest = if several_inputs {
        &net.layers[..]
    } else {
        &net.layers[1..]
    };
    let layers = match list(rest, "") {
        Ok(layers) => layers,
        Err(error) => {
            keep(error);
            Vec::new()
        }
    };
    match errors {
        Some(errors) => Err(errors),
        None => Ok(Decoded { input, layers }),
    }
}

/// Whether `spec` is a merge whose first branch starts with an input: the first layer of a
/// network with several inputs.
fn starts_with_inputs(spec: &LayerSpec) -> bool {
    let is_merge = MergeKind::ALL.iter().any(|kind| spec.name == kind.name());
    let first_branch = spec.args.first().map(|arg| &arg.value);
    is_merge
        && matches!(first_branch, Some(Value::List(specs, _)) if specs.first().is_some_and(is_input))
}

/// A branch of a merge: its own input if its first layer is one, then its layers, numbered
/// from 1 after `prefix`.
pub fn branch<'a>(specs: &'a [LayerSpec], prefix: &str) -> syn::Result<DecodedBranch<'a>> {
    match specs.first() {
        Some(first) if is_input(first) => {
            let dims = input(first);
            let layers = list(&specs[1..], prefix);
            match (dims, layers) {
                (Ok(dims), Ok(layers)) => Ok(DecodedBranch {
                    input: Some((first, dims)),
                    layers,
                }),
                (Err(mut e), Err(other)) => {
                    e.combine(other);
                    Err(e)
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
        _ => Ok(DecodedBranch {
            input: None,
            layers: list(specs, prefix)?,
        }),
    }
}

fn is_input(spec: &LayerSpec) -> bool {
    lookup(&spec.name.to_string()).is_some_and(|entry| matches!(entry.decode, Decode::Input(_)))
}

/// Decodes a list of layers numbered from 1 after `prefix` (`""` at the top, `"4."` in the
/// block of layer 4), reporting every layer that does not decode.
pub fn list<'a>(specs: &'a [LayerSpec], prefix: &str) -> syn::Result<Vec<DecodedLayer<'a>>> {
    let mut errors: Option<syn::Error> = None;
    let mut layers = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let position = i + 1;
        let label = format!("{prefix}{position}");
        match layer(spec, &label) {
            Ok(kind) => layers.push(DecodedLayer {
                position,
                label,
                spec,
                kind,
            }),
            Err(error) => match &mut errors {
                Some(errors) => errors.combine(error),
                None => errors = Some(error),
            },
        }
    }
    match errors {
        Some(errors) => Err(errors),
        None => Ok(layers),
    }
}

fn input(spec: &LayerSpec) -> syn::Result<Dims> {
    match lookup(&spec.name.to_string()).map(|entry| (entry, entry.decode)) {
        Some((entry, Decode::Input(decode))) => decode(&LayerArgs::new(spec, "", entry)?),
        _ => Err(spec.error(format!(
            "a network starts with `Input<..>`, the shape of one sample (e.g. `Input<1, 28, 28>` for 28x28 grey images, `Input<28, 28>` for 28 steps of 28 features), or `Tokens<T>` for T token ids, or with a merge of branches that each start with an input of their own (`Concat<[Input<1, 28, 28>, ..], [Tokens<20>, ..]>`); found `{}`",
            spec.display()
        ))),
    }
}

fn layer(spec: &LayerSpec, label: &str) -> syn::Result<LayerKind> {
    let name = spec.name.to_string();
    let Some(entry) = lookup(&name) else {
        return Err(unknown(spec, &name));
    };
    match entry.decode {
        Decode::Input(_) => Err(spec.error(format!(
            "layer {label}, `{}`: `Input` and `Tokens` describe the network's input and come first, once",
            spec.display()
        ))),
        Decode::Layer(decode) => decode(&LayerArgs::new(spec, label, entry)?),
        Decode::Recurrent(cell) => Ok(LayerKind::Recurrent(recurrent(
            &LayerArgs::new(spec, label, entry)?,
            cell,
            entry.name,
        )?)),
    }
}

/// "unknown layer `Conv2d`; did you mean `Conv2D`?", and the layers there are.
fn unknown(spec: &LayerSpec, name: &str) -> syn::Error {
    let names: Vec<&str> = LAYERS.iter().map(|entry| entry.name).collect();
    let layers: Vec<&str> = LAYERS
        .iter()
        .filter(|entry| !matches!(entry.decode, Decode::Input(_)))
        .map(|entry| entry.name)
        .collect();
    let mut message = format!("unknown layer `{name}`");
    if let Some(close) = did_you_mean(name, &names) {
        message += &format!("; did you mean `{close}`?");
    }
    message += &format!("\n  = note: the layers are {}", layers.join(", "));
    syn::Error::new_spanned(&spec.name, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(s: &str) -> Vec<String> {
        match decode(&syn::parse_str(s).unwrap()) {
            Ok(_) => panic!("`{s}` decoded"),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn every_layer_that_does_not_decode_is_an_error() {
        let found = errors("Input<1, 28, 28>, Conv2d<32, 3>, MaxPooling2D<2>, Flatten, Dense<10>");
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("unknown layer `Conv2d`; did you mean `Conv2D`?"));
        assert!(found[1].starts_with("unknown layer `MaxPooling2D`; did you mean `MaxPool`?"));
        // A missing input, a bad argument and an unknown option: three errors, in order.
        let found = errors("Conv2D<32, 3>, Dense<0>, Flatten, LSTM<8, stateful = true>");
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("a network starts with `Input<..>`"));
        assert!(found[1].ends_with("the number of units must be at least 1, not 0"));
        assert!(found[2].contains("`LSTM` has no option `stateful`"));
    }

    #[test]
    fn a_layer_with_bad_arguments_is_reported_before_any_shape() {
        // Dense<4> on an image would be a shape error; the argument error comes first.
        let found = errors("Input<1, 28, 28>, Dense<4>, Dropout<2>");
        assert_eq!(
            found,
            ["layer 2, `Dropout<2>`: the rate must be a number from 0 up to (not including) 1"]
        );
    }

    #[test]
    fn unknown_layers_list_the_layers_there_are() {
        let found = errors("Input<8>, Transformer<8>");
        assert_eq!(found, ["unknown layer `Transformer`\n  = note: the layers are Conv2D, Conv1D, MaxPool, AvgPool, MaxPool1D, AvgPool1D, GlobalAvgPool, GlobalMaxPool, GlobalAvgPool1D, GlobalMaxPool1D, Flatten, Dense, ReLU, LeakyReLU, Sigmoid, Tanh, GELU, Softmax, Dropout, BatchNorm, LSTM, GRU, SimpleRNN, Bidirectional, ToSequence, Embedding, Residual, Concat, Add, Multiply, Average, Maximum"]);
    }

    #[test]
    fn the_empty_network_and_a_missing_input() {
        assert!(errors("")[0].starts_with("an empty network"));
        assert_eq!(errors("Conv2D<32, 3>, Dense<10>").len(), 1);
        assert!(errors("Inptu<8>")[0].ends_with("found `Inptu<8>`"));
    }
}
