//! The layers `network!` knows, one entry each: the name, how it is written, its options, an
//! example, and how its arguments decode into a [`LayerKind`] (with the wording of every
//! message about them).
//!
//! Adding a layer is adding an entry to [`LAYERS`] and a variant to [`LayerKind`]; the
//! compiler then points at its shape rule in `infer.rs` and its type in `expand.rs`, whose
//! matches have no catch-all arm.

use crate::args::{rate_ppm, Extent, LayerArgs};
use crate::decode::DecodedLayer;
use crate::infer::{Activation, Cell, Dims};
use crate::parse::Value;

/// One layer name and what it takes.
pub struct Entry {
    pub name: &'static str,
    /// How the layer is written, for messages about its argument count.
    pub usage: &'static str,
    /// The `name = value` options it takes.
    pub options: &'static [&'static str],
    /// A correct use, for reading and for the tests, which decode and infer every one.
    #[cfg_attr(not(test), allow(dead_code))]
    pub example: &'static str,
    pub decode: Decode,
}

/// How an entry's arguments become what shape inference reads.
#[derive(Clone, Copy)]
pub enum Decode {
    /// The network's input, which comes first and once: the shape of one sample.
    Input(fn(&LayerArgs) -> syn::Result<Dims>),
    /// A layer.
    Layer(fn(&LayerArgs) -> syn::Result<LayerKind>),
    /// A recurrent layer: a layer of its own, and what `Bidirectional` wraps.
    Recurrent(Cell),
}

/// A layer with its arguments decoded and checked, before its input shape is known.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LayerKind {
    /// Kernel, stride and dilation are (rows, columns).
    Conv2D {
        filters: usize,
        kernel: (usize, usize),
        stride: (usize, usize),
        dilation: (usize, usize),
        padding: Padding,
        activation: Option<Activation>,
    },
    /// Over sequences `(T, F)`, channels last.
    Conv1D {
        filters: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
        padding: Padding,
        activation: Option<Activation>,
    },
    /// Size and stride are (rows, columns).
    Pool {
        max: bool,
        size: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
    },
    Pool1D {
        max: bool,
        size: usize,
        stride: usize,
        padding: Padding,
    },
    GlobalPool {
        max: bool,
    },
    GlobalPool1D {
        max: bool,
    },
    Flatten,
    Dense {
        units: usize,
        activation: Option<Activation>,
    },
    Activation(Activation),
    Dropout {
        rate_ppm: u32,
    },
    BatchNorm,
    Recurrent(Recurrent),
    Bidirectional(Recurrent),
    ToSequence {
        height_as_time: bool,
    },
    Embedding {
        vocab: usize,
        dim: usize,
    },
    /// A block of layers whose input is added to its output. The layers of the block (and of
    /// the shortcut, if `shortcut`) are in the written arguments, checked by
    /// [`residual_lists`], which shape inference calls again to walk them.
    Residual {
        shortcut: bool,
    },
    /// Parallel branches joined by a merge. The branches are in the written arguments,
    /// checked by [`merge_branches`], which shape inference calls again to walk them.
    Merge(MergeKind),
}

/// Keras's merge layers: how parallel branches become one tensor.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MergeKind {
    Concat,
    Add,
    Multiply,
    Average,
    Maximum,
}

impl MergeKind {
    pub const ALL: [MergeKind; 5] = [
        MergeKind::Concat,
        MergeKind::Add,
        MergeKind::Multiply,
        MergeKind::Average,
        MergeKind::Maximum,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MergeKind::Concat => "Concat",
            MergeKind::Add => "Add",
            MergeKind::Multiply => "Multiply",
            MergeKind::Average => "Average",
            MergeKind::Maximum => "Maximum",
        }
    }
}

/// The most branches a merge takes (dfdx visits up to 6 fields of a module), and the most
/// inputs a network takes.
pub const MAX_BRANCHES: usize = 6;
pub const MAX_INPUTS: usize = 4;

/// One branch of a merge: its own input, if it starts with one, and its layers.
pub struct DecodedBranch<'a> {
    pub input: Option<(&'a crate::parse::LayerSpec, Dims)>,
    pub layers: Vec<DecodedLayer<'a>>,
}

/// The `padding` option of a window (convolution or pooling).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Padding {
    /// `valid`, the default: none.
    Valid,
    /// `same`: Keras's, possibly one more after than before.
    Same,
    /// A number of pixels on every side.
    Pixels(usize),
}

/// `LSTM<64, return_sequences>` and the like, alone or inside `Bidirectional`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Recurrent {
    pub cell: Cell,
    /// The name as written, for messages.
    pub name: &'static str,
    pub units: usize,
    pub return_sequences: bool,
}

/// Every layer name, in the order the unknown-layer message lists them.
pub static LAYERS: &[Entry] = &[
    Entry {
        name: "Input",
        usage: "Input<C, H, W>, Input<T, F> or Input<N>",
        options: &[],
        example: "Input<1, 28, 28>",
        decode: Decode::Input(input),
    },
    Entry {
        name: "Tokens",
        usage: "Tokens<steps>",
        options: &[],
        example: "Tokens<20>",
        decode: Decode::Input(tokens),
    },
    Entry {
        name: "Conv2D",
        usage: "Conv2D<filters, kernel>",
        options: &["stride", "padding", "dilation", "activation"],
        example: "Conv2D<32, 3, stride = 2, padding = same, activation = relu>",
        decode: Decode::Layer(conv2d),
    },
    Entry {
        name: "Conv1D",
        usage: "Conv1D<filters, kernel>",
        options: &["stride", "padding", "dilation", "activation"],
        example: "Conv1D<64, 5, padding = same, activation = relu>",
        decode: Decode::Layer(conv1d),
    },
    Entry {
        name: "MaxPool",
        usage: "MaxPool<size>",
        options: &["stride", "padding"],
        example: "MaxPool<2>",
        decode: Decode::Layer(|a| pool(a, true)),
    },
    Entry {
        name: "AvgPool",
        usage: "AvgPool<size>",
        options: &["stride", "padding"],
        example: "AvgPool<3, stride = 2, padding = 1>",
        decode: Decode::Layer(|a| pool(a, false)),
    },
    Entry {
        name: "MaxPool1D",
        usage: "MaxPool1D<size>",
        options: &["stride", "padding"],
        example: "MaxPool1D<2>",
        decode: Decode::Layer(|a| pool1d(a, true)),
    },
    Entry {
        name: "AvgPool1D",
        usage: "AvgPool1D<size>",
        options: &["stride", "padding"],
        example: "AvgPool1D<3, stride = 1, padding = same>",
        decode: Decode::Layer(|a| pool1d(a, false)),
    },
    Entry {
        name: "GlobalAvgPool",
        usage: "GlobalAvgPool",
        options: &[],
        example: "GlobalAvgPool",
        decode: Decode::Layer(|a| bare(a, LayerKind::GlobalPool { max: false })),
    },
    Entry {
        name: "GlobalMaxPool",
        usage: "GlobalMaxPool",
        options: &[],
        example: "GlobalMaxPool",
        decode: Decode::Layer(|a| bare(a, LayerKind::GlobalPool { max: true })),
    },
    Entry {
        name: "GlobalAvgPool1D",
        usage: "GlobalAvgPool1D",
        options: &[],
        example: "GlobalAvgPool1D",
        decode: Decode::Layer(|a| bare(a, LayerKind::GlobalPool1D { max: false })),
    },
    Entry {
        name: "GlobalMaxPool1D",
        usage: "GlobalMaxPool1D",
        options: &[],
        example: "GlobalMaxPool1D",
        decode: Decode::Layer(|a| bare(a, LayerKind::GlobalPool1D { max: true })),
    },
    Entry {
        name: "Flatten",
        usage: "Flatten",
        options: &[],
        example: "Flatten",
        decode: Decode::Layer(|a| bare(a, LayerKind::Flatten)),
    },
    Entry {
        name: "Dense",
        usage: "Dense<units>",
        options: &["activation"],
        example: "Dense<10, activation = softmax>",
        decode: Decode::Layer(dense),
    },
    Entry {
        name: "ReLU",
        usage: "an activation without arguments",
        options: &[],
        example: "ReLU",
        decode: Decode::Layer(|a| bare(a, LayerKind::Activation(Activation::Relu))),
    },
    Entry {
        name: "LeakyReLU",
        usage: "LeakyReLU or LeakyReLU<negative_slope>",
        options: &[],
        example: "LeakyReLU<0.1>",
        decode: Decode::Layer(leaky_relu),
    },
    Entry {
        name: "Sigmoid",
        usage: "an activation without arguments",
        options: &[],
        example: "Sigmoid",
        decode: Decode::Layer(|a| bare(a, LayerKind::Activation(Activation::Sigmoid))),
    },
    Entry {
        name: "Tanh",
        usage: "an activation without arguments",
        options: &[],
        example: "Tanh",
        decode: Decode::Layer(|a| bare(a, LayerKind::Activation(Activation::Tanh))),
    },
    Entry {
        name: "GELU",
        usage: "an activation without arguments",
        options: &[],
        example: "GELU",
        decode: Decode::Layer(|a| bare(a, LayerKind::Activation(Activation::Gelu))),
    },
    Entry {
        name: "Softmax",
        usage: "an activation without arguments",
        options: &[],
        example: "Softmax",
        decode: Decode::Layer(|a| bare(a, LayerKind::Activation(Activation::Softmax))),
    },
    Entry {
        name: "Dropout",
        usage: "Dropout<rate>",
        options: &[],
        example: "Dropout<0.25>",
        decode: Decode::Layer(dropout),
    },
    Entry {
        name: "BatchNorm",
        usage: "BatchNorm",
        options: &[],
        example: "BatchNorm",
        decode: Decode::Layer(|a| bare(a, LayerKind::BatchNorm)),
    },
    Entry {
        name: "LSTM",
        usage: "LSTM<units> or LSTM<units, return_sequences>",
        options: &["return_sequences"],
        example: "LSTM<64, return_sequences>",
        decode: Decode::Recurrent(Cell::Lstm),
    },
    Entry {
        name: "GRU",
        usage: "GRU<units> or GRU<units, return_sequences>",
        options: &["return_sequences"],
        example: "GRU<32, return_sequences = true>",
        decode: Decode::Recurrent(Cell::Gru),
    },
    Entry {
        name: "SimpleRNN",
        usage: "SimpleRNN<units> or SimpleRNN<units, return_sequences>",
        options: &["return_sequences"],
        example: "SimpleRNN<16>",
        decode: Decode::Recurrent(Cell::SimpleRnn),
    },
    Entry {
        name: "Bidirectional",
        usage: "Bidirectional<LSTM<units>>",
        options: &[],
        example: "Bidirectional<GRU<16, ReturnSequences>>",
        decode: Decode::Layer(bidirectional),
    },
    Entry {
        name: "ToSequence",
        usage: "ToSequence",
        options: &["time"],
        example: "ToSequence<time = height>",
        decode: Decode::Layer(to_sequence),
    },
    Entry {
        name: "Embedding",
        usage: "Embedding<vocabulary, dim>",
        options: &[],
        example: "Embedding<1000, 16>",
        decode: Decode::Layer(embedding),
    },
    Entry {
        name: "Residual",
        usage: "Residual<[layers..]> or Residual<[layers..], shortcut = [layers..]>",
        options: &["shortcut"],
        example: "Residual<[Dense<8>, ReLU], shortcut = [Dense<8>]>",
        decode: Decode::Layer(residual),
    },
    Entry {
        name: "Concat",
        usage: "Concat<[layers..], [layers..], ..>",
        options: &[],
        example: "Concat<[Dense<8>], [Dense<4>, ReLU], []>",
        decode: Decode::Layer(|a| merge(a, MergeKind::Concat)),
    },
    Entry {
        name: "Add",
        usage: "Add<[layers..], [layers..], ..>",
        options: &[],
        example: "Add<[Dense<8>, ReLU], [Dense<8>]>",
        decode: Decode::Layer(|a| merge(a, MergeKind::Add)),
    },
    Entry {
        name: "Multiply",
        usage: "Multiply<[layers..], [layers..], ..>",
        options: &[],
        example: "Multiply<[Dense<8>, Sigmoid], [Dense<8>]>",
        decode: Decode::Layer(|a| merge(a, MergeKind::Multiply)),
    },
    Entry {
        name: "Average",
        usage: "Average<[layers..], [layers..], ..>",
        options: &[],
        example: "Average<[Dense<8>], [Dense<8>]>",
        decode: Decode::Layer(|a| merge(a, MergeKind::Average)),
    },
    Entry {
        name: "Maximum",
        usage: "Maximum<[layers..], [layers..], ..>",
        options: &[],
        example: "Maximum<[Dense<8>], [Dense<8>]>",
        decode: Decode::Layer(|a| merge(a, MergeKind::Maximum)),
    },
];

/// The entry named exactly `name`.
pub fn lookup(name: &str) -> Option<&'static Entry> {
    LAYERS.iter().find(|entry| entry.name == name)
}

fn input(a: &LayerArgs) -> syn::Result<Dims> {
    a.count(1, 3)?;
    let d: Vec<usize> = (0..a.positional.len())
        .map(|i| a.positive(i, "every dimension"))
        .collect::<syn::Result<_>>()?;
    Ok(match d[..] {
        [n] => Dims::Vector(n),
        [t, f] => Dims::Sequence(t, f),
        [c, h, w] => Dims::Image(c, h, w),
        _ => unreachable!("counted above"),
    })
}

fn tokens(a: &LayerArgs) -> syn::Result<Dims> {
    a.count(1, 1)?;
    Ok(Dims::Tokens(a.positive(0, "every dimension")?))
}

/// A layer written without arguments.
fn bare(a: &LayerArgs, kind: LayerKind) -> syn::Result<LayerKind> {
    a.count(0, 0)?;
    Ok(kind)
}

/// The arguments `Conv1D` and `Conv2D` share; `T` is a size per axis (see [`Extent`]).
struct Conv<T> {
    filters: usize,
    kernel: T,
    stride: T,
    dilation: T,
    padding: Padding,
    activation: Option<Activation>,
}

fn conv<T: Extent>(a: &LayerArgs, one: T) -> syn::Result<Conv<T>> {
    a.count(2, 2)?;
    Ok(Conv {
        filters: a.positive(0, "the number of filters")?,
        kernel: a.positive(1, "the kernel size")?,
        stride: a.positive_option("stride", one)?,
        dilation: a.positive_option("dilation", one)?,
        padding: padding(a)?,
        activation: activation_option(a)?,
    })
}

fn conv2d(a: &LayerArgs) -> syn::Result<LayerKind> {
    let Conv {
        filters,
        kernel,
        stride,
        dilation,
        padding,
        activation,
    } = conv(a, (1, 1))?;
    Ok(LayerKind::Conv2D {
        filters,
        kernel,
        stride,
        dilation,
        padding,
        activation,
    })
}

fn conv1d(a: &LayerArgs) -> syn::Result<LayerKind> {
    let Conv {
        filters,
        kernel,
        stride,
        dilation,
        padding,
        activation,
    } = conv(a, 1)?;
    Ok(LayerKind::Conv1D {
        filters,
        kernel,
        stride,
        dilation,
        padding,
        activation,
    })
}

/// A pool's size, stride (Keras: the pool size by default) and padding; `window` names
/// its window in messages ("2x2", "2-step").
fn pool_args<T: Extent>(
    a: &LayerArgs,
    window: impl Fn(T) -> String,
) -> syn::Result<(T, T, Padding)> {
    a.count(1, 1)?;
    let size: T = a.positive(0, "the pool size")?;
    let stride = a.positive_option("stride", size)?;
    let padding = padding(a)?;
    if let Padding::Pixels(p) = padding {
        if 2 * p > size.smallest() {
            return Err(a.error(format!(
                "padding {p} is more than half the {} pool window; no window could hold a real value",
                window(size)
            )));
        }
    }
    Ok((size, stride, padding))
}

fn pool(a: &LayerArgs, max: bool) -> syn::Result<LayerKind> {
    let (size, stride, padding) = pool_args(a, |(kh, kw)| format!("{kh}x{kw}"))?;
    Ok(LayerKind::Pool {
        max,
        size,
        stride,
        padding,
    })
}

fn pool1d(a: &LayerArgs, max: bool) -> syn::Result<LayerKind> {
    let (size, stride, padding) = pool_args(a, |k: usize| format!("{k}-step"))?;
    Ok(LayerKind::Pool1D {
        max,
        size,
        stride,
        padding,
    })
}

fn padding(a: &LayerArgs) -> syn::Result<Padding> {
    let Some(value) = a.named("padding") else {
        return Ok(Padding::Valid);
    };
    match (value, value.word().as_deref()) {
        (_, Some("valid")) => Ok(Padding::Valid),
        (_, Some("same")) => Ok(Padding::Same),
        (Value::Int(lit), _) => Ok(Padding::Pixels(lit.base10_parse()?)),
        (other, _) => Err(syn::Error::new(
            other.span(),
            "`padding` is `valid`, `same` or a whole number of pixels",
        )),
    }
}

/// The `activation = relu` option of `Conv1D`, `Conv2D` and `Dense`: an activation layer after it
/// (`linear`, none).
fn activation_option(a: &LayerArgs) -> syn::Result<Option<Activation>> {
    let Some(value) = a.named("activation") else {
        return Ok(None);
    };
    Ok(Some(match value.word().as_deref() {
        Some("linear") => return Ok(None),
        Some("relu") => Activation::Relu,
        Some("leaky_relu") => Activation::LeakyRelu { slope_ppm: 300_000 },
        Some("sigmoid") => Activation::Sigmoid,
        Some("tanh") => Activation::Tanh,
        Some("gelu") => Activation::Gelu,
        Some("softmax") => Activation::Softmax,
        _ => {
            return Err(syn::Error::new(
                value.span(),
                "`activation` is one of relu, leaky_relu, sigmoid, tanh, gelu, softmax, linear",
            ))
        }
    }))
}

fn dense(a: &LayerArgs) -> syn::Result<LayerKind> {
    a.count(1, 1)?;
    Ok(LayerKind::Dense {
        units: a.positive(0, "the number of units")?,
        activation: activation_option(a)?,
    })
}

fn leaky_relu(a: &LayerArgs) -> syn::Result<LayerKind> {
    a.count(0, 1)?;
    let slope_ppm = match a.positional.first() {
        Some(v) => rate_ppm(v, a.who(), "the negative slope")?,
        // Keras's default negative slope.
        None => 300_000,
    };
    Ok(LayerKind::Activation(Activation::LeakyRelu { slope_ppm }))
}

fn dropout(a: &LayerArgs) -> syn::Result<LayerKind> {
    a.count(1, 1)?;
    Ok(LayerKind::Dropout {
        rate_ppm: rate_ppm(a.positional[0], a.who(), "the rate")?,
    })
}

/// A recurrent layer's arguments: the units and the `return_sequences` flag, written bare
/// (`return_sequences`, `ReturnSequences`) or as `return_sequences = true`.
pub fn recurrent(a: &LayerArgs, cell: Cell, name: &'static str) -> syn::Result<Recurrent> {
    let return_sequences = a.flag("return_sequences", &["return_sequences", "ReturnSequences"])?;
    a.count(
        1,
        1 + usize::from(return_sequences && a.named("return_sequences").is_none()),
    )?;
    Ok(Recurrent {
        cell,
        name,
        units: a.positive(0, "the number of units")?,
        return_sequences,
    })
}

fn residual(a: &LayerArgs) -> syn::Result<LayerKind> {
    a.count(1, 1)?;
    residual_lists(a)?;
    Ok(LayerKind::Residual {
        shortcut: a.named("shortcut").is_some(),
    })
}

/// The block and the shortcut of a `Residual`, each decoded (`4.1`, `4.2`, ... and
/// `4.shortcut.1`, ...), with every error in either.
pub fn residual_lists<'a>(
    a: &LayerArgs<'a>,
) -> syn::Result<(Vec<DecodedLayer<'a>>, Option<Vec<DecodedLayer<'a>>>)> {
    let layers = |value: &'a Value, what: &str, prefix: String| {
        match value {
        Value::List(specs, _) if !specs.is_empty() => crate::decode::list(specs, &prefix),
        other => Err(syn::Error::new(
            other.span(),
            format!(
                "{}: {what} is a list of layers in brackets, e.g. `[Conv2D<32, 3, padding = same>, ReLU]`",
                a.who()
            ),
        )),
    }
    };
    let block = layers(a.positional[0], "the block", format!("{}.", a.label));
    let shortcut = a
        .named("shortcut")
        .map(|value| layers(value, "`shortcut`", format!("{}.shortcut.", a.label)))
        .transpose();
    match (block, shortcut) {
        (Ok(block), Ok(shortcut)) => Ok((block, shortcut)),
        (Err(mut e), Err(other)) => {
            e.combine(other);
            Err(e)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

fn merge(a: &LayerArgs, kind: MergeKind) -> syn::Result<LayerKind> {
    a.count(2, MAX_BRANCHES)?;
    merge_branches(a)?;
    Ok(LayerKind::Merge(kind))
}

/// The branches of a merge, each decoded (`4.1.1`, `4.1.2`, ... for branch 1 of layer 4),
/// with every error in any of them. Either every branch starts with an input of its own (the
/// network's inputs) or none does.
pub fn merge_branches<'a>(a: &LayerArgs<'a>) -> syn::Result<Vec<DecodedBranch<'a>>> {
    let mut errors: Option<syn::Error> = None;
    let mut keep = |error: syn::Error| match &mut errors {
        Some(errors) => errors.combine(error),
        None => errors = Some(error),
    };
    let mut branches = Vec::new();
    for (i, value) in a.positional.iter().enumerate() {
        let b = i + 1;
        let decoded = match value {
            Value::List(specs, _) => crate::decode::branch(specs, &format!("{}.{b}.", a.label)),
            other => Err(syn::Error::new(
                other.span(),
                format!(
                    "{}: branch {b} is a list of layers in brackets, e.g. `[Conv2D<32, 3, padding = same>, ReLU]`; `[]` passes the input through",
                    a.who()
                ),
            )),
        };
        match decoded {
            Ok(branch) => branches.push(branch),
            Err(error) => keep(error),
        }
    }
    if let Some(errors) = errors {
        return Err(errors);
    }
    let inputs = branches.iter().filter(|b| b.input.is_some()).count();
    if inputs > 0 {
        if let Some(b) = branches.iter().position(|b| b.input.is_none()) {
            return Err(a.error(format!(
                "branch {} has no input of its own but the other branches start with theirs; in a network with several inputs, every branch of the first layer starts with its `Input<..>` or `Tokens<..>`",
                b + 1
            )));
        }
        if inputs > MAX_INPUTS {
            return Err(a.error(format!(
                "a network takes at most {MAX_INPUTS} inputs, not {inputs}"
            )));
        }
    }
    Ok(branches)
}

fn bidirectional(a: &LayerArgs) -> syn::Result<LayerKind> {
    a.count(1, 1)?;
    let value = a.positional[0];
    if let Value::Layer(inner) = value {
        if let Some(entry) = lookup(&inner.name.to_string()) {
            if let Decode::Recurrent(cell) = entry.decode {
                let args = LayerArgs::new(inner, &a.label, entry)?;
                return Ok(LayerKind::Bidirectional(recurrent(
                    &args, cell, entry.name,
                )?));
            }
        }
    }
    Err(syn::Error::new(
        value.span(),
        format!(
            "{}: `Bidirectional` wraps a recurrent layer (`LSTM`, `GRU` or `SimpleRNN`), not `{}`",
            a.who(),
            value.display()
        ),
    ))
}

fn to_sequence(a: &LayerArgs) -> syn::Result<LayerKind> {
    a.count(0, 0)?;
    let height_as_time = match a.named("time") {
        None => false,
        Some(value) => match value.word().as_deref() {
            Some("width") => false,
            Some("height") => true,
            _ => {
                return Err(syn::Error::new(
                    value.span(),
                    "`time` is `width` or `height`",
                ))
            }
        },
    };
    Ok(LayerKind::ToSequence { height_as_time })
}

fn embedding(a: &LayerArgs) -> syn::Result<LayerKind> {
    a.count(2, 2)?;
    Ok(LayerKind::Embedding {
        vocab: a.positive(0, "the vocabulary size")?,
        dim: a.positive(1, "the embedding size")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;
    use crate::parse::NetworkSpec;

    /// Every message decoding `layer` after an image input gives.
    fn errors(layer: &str) -> Vec<String> {
        let net: NetworkSpec = syn::parse_str(&format!("Input<1, 28, 28>, {layer}")).unwrap();
        match decode(&net) {
            Ok(_) => panic!("`{layer}` decoded"),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    /// Each layer's argument errors: (the layer as written, the whole message).
    const DECODE_ERRORS: &[(&str, &str)] = &[
        ("Conv2D<32>", "layer 1, `Conv2D<32>`: `Conv2D` takes 2 arguments, written `Conv2D<filters, kernel>`, but was given 1"),
        ("Conv2D<0, 3>", "layer 1, `Conv2D<0, 3>`: the number of filters must be at least 1, not 0"),
        ("Conv2D<8, x>", "layer 1, `Conv2D<8, x>`: the kernel size must be a whole number or a pair `(rows, columns)`, not `x`"),
        ("Conv2D<8, (3, 0)>", "layer 1, `Conv2D<8, (3, 0)>`: the kernel size must be at least 1, not 0"),
        ("Conv2D<8, (3, 3, 3)>", "layer 1, `Conv2D<8, (3, 3, 3)>`: the kernel size is one number for both axes or a pair `(rows, columns)`, not 3 numbers"),
        ("Conv2D<8, 3, stride = (2, x)>", "layer 1, `Conv2D<8, 3, stride = (2, x)>`: stride must be a whole number, not `x`"),
        ("Conv2D<8, 3, stride = 0>", "layer 1, `Conv2D<8, 3, stride = 0>`: stride must be at least 1, not 0"),
        ("Conv2D<8, 3, dilation = 0>", "layer 1, `Conv2D<8, 3, dilation = 0>`: dilation must be at least 1, not 0"),
        ("Conv2D<8, 3, padding = full>", "`padding` is `valid`, `same` or a whole number of pixels"),
        ("Conv2D<8, 3, padding = 1.5>", "`padding` is `valid`, `same` or a whole number of pixels"),
        ("Conv2D<8, 3, padding = \"full\">", "`padding` is `valid`, `same` or a whole number of pixels"),
        ("Conv2D<8, 3, activation = \"swish\">", "`activation` is one of relu, leaky_relu, sigmoid, tanh, gelu, softmax, linear"),
        ("Conv2D<8, 3, activation = swish>", "`activation` is one of relu, leaky_relu, sigmoid, tanh, gelu, softmax, linear"),
        ("Conv2D<8, 3, strides = 2>", "layer 1, `Conv2D<8, 3, strides = 2>`: `Conv2D` has no option `strides`; its options are stride, padding, dilation, activation\n  = help: did you mean `stride`?"),
        ("Conv2D<8, 3, stride = 2, stride = 1>", "layer 1, `Conv2D<8, 3, stride = 2, stride = 1>`: option `stride` is given twice"),
        ("MaxPool", "layer 1, `MaxPool`: `MaxPool` takes 1 argument, written `MaxPool<size>`, but was given 0"),
        ("MaxPool<0>", "layer 1, `MaxPool<0>`: the pool size must be at least 1, not 0"),
        ("MaxPool<2, stride = 0>", "layer 1, `MaxPool<2, stride = 0>`: stride must be at least 1, not 0"),
        ("MaxPool<2, padding = 2>", "layer 1, `MaxPool<2, padding = 2>`: padding 2 is more than half the 2x2 pool window; no window could hold a real value"),
        ("MaxPool<(2, 1), padding = 1>", "layer 1, `MaxPool<(2, 1), padding = 1>`: padding 1 is more than half the 2x1 pool window; no window could hold a real value"),
        ("AvgPool<2, 2>", "layer 1, `AvgPool<2, 2>`: `AvgPool` takes 1 argument, written `AvgPool<size>`, but was given 2"),
        ("AvgPool<3, padding = same, dilation = 2>", "layer 1, `AvgPool<3, padding = same, dilation = 2>`: `AvgPool` has no option `dilation`; its options are stride, padding"),
        ("GlobalAvgPool<2>", "layer 1, `GlobalAvgPool<2>`: `GlobalAvgPool` takes no arguments, written `GlobalAvgPool`, but was given 1"),
        ("GlobalMaxPool<2>", "layer 1, `GlobalMaxPool<2>`: `GlobalMaxPool` takes no arguments, written `GlobalMaxPool`, but was given 1"),
        ("GlobalMaxPool<keepdims = true>", "layer 1, `GlobalMaxPool<keepdims = true>`: `GlobalMaxPool` takes no options, so `keepdims` is not one"),
        ("Conv1D<8>", "layer 1, `Conv1D<8>`: `Conv1D` takes 2 arguments, written `Conv1D<filters, kernel>`, but was given 1"),
        ("Conv1D<8, (3, 5)>", "layer 1, `Conv1D<8, (3, 5)>`: the kernel size must be a whole number, not `(3, 5)`"),
        ("Conv1D<8, 0>", "layer 1, `Conv1D<8, 0>`: the kernel size must be at least 1, not 0"),
        ("Conv1D<8, 3, padding = causal>", "`padding` is `valid`, `same` or a whole number of pixels"),
        ("Conv1D<8, 3, padding = \"causal\">", "`padding` is `valid`, `same` or a whole number of pixels"),
        ("Conv1D<8, 3, strides = 2>", "layer 1, `Conv1D<8, 3, strides = 2>`: `Conv1D` has no option `strides`; its options are stride, padding, dilation, activation\n  = help: did you mean `stride`?"),
        ("MaxPool1D<0>", "layer 1, `MaxPool1D<0>`: the pool size must be at least 1, not 0"),
        ("MaxPool1D<2, padding = 2>", "layer 1, `MaxPool1D<2, padding = 2>`: padding 2 is more than half the 2-step pool window; no window could hold a real value"),
        ("AvgPool1D<2, 2>", "layer 1, `AvgPool1D<2, 2>`: `AvgPool1D` takes 1 argument, written `AvgPool1D<size>`, but was given 2"),
        ("GlobalAvgPool1D<2>", "layer 1, `GlobalAvgPool1D<2>`: `GlobalAvgPool1D` takes no arguments, written `GlobalAvgPool1D`, but was given 1"),
        ("GlobalMaxPool1D<keepdims = true>", "layer 1, `GlobalMaxPool1D<keepdims = true>`: `GlobalMaxPool1D` takes no options, so `keepdims` is not one"),
        ("Flatten<1>", "layer 1, `Flatten<1>`: `Flatten` takes no arguments, written `Flatten`, but was given 1"),
        ("Dense", "layer 1, `Dense`: `Dense` takes 1 argument, written `Dense<units>`, but was given 0"),
        ("Dense<0>", "layer 1, `Dense<0>`: the number of units must be at least 1, not 0"),
        ("Dense<relu>", "layer 1, `Dense<relu>`: the number of units must be a whole number, not `relu`"),
        ("Dense<\"10\">", "layer 1, `Dense<\"10\">`: the number of units must be a whole number, not `\"10\"`"),
        ("Dense<99999999999999999999999>", "layer 1, `Dense<99999999999999999999999>`: the number of units must be a whole number"),
        ("Dense<10, activation = 3>", "`activation` is one of relu, leaky_relu, sigmoid, tanh, gelu, softmax, linear"),
        ("ReLU<1>", "layer 1, `ReLU<1>`: `ReLU` takes no arguments, written `an activation without arguments`, but was given 1"),
        ("Sigmoid<1>", "layer 1, `Sigmoid<1>`: `Sigmoid` takes no arguments, written `an activation without arguments`, but was given 1"),
        ("Tanh<x>", "layer 1, `Tanh<x>`: `Tanh` takes no arguments, written `an activation without arguments`, but was given 1"),
        ("GELU<1>", "layer 1, `GELU<1>`: `GELU` takes no arguments, written `an activation without arguments`, but was given 1"),
        ("Softmax<axis = 1>", "layer 1, `Softmax<axis = 1>`: `Softmax` takes no options, so `axis` is not one"),
        ("LeakyReLU<2>", "layer 1, `LeakyReLU<2>`: the negative slope must be a number from 0 up to (not including) 1"),
        ("LeakyReLU<0.1, 0.2>", "layer 1, `LeakyReLU<0.1, 0.2>`: `LeakyReLU` takes 0 to 1 arguments, written `LeakyReLU or LeakyReLU<negative_slope>`, but was given 2"),
        ("Dropout", "layer 1, `Dropout`: `Dropout` takes 1 argument, written `Dropout<rate>`, but was given 0"),
        ("Dropout<1.5>", "layer 1, `Dropout<1.5>`: the rate must be a number from 0 up to (not including) 1"),
        ("Dropout<0.5, seed = 1>", "layer 1, `Dropout<0.5, seed = 1>`: `Dropout` takes no options, so `seed` is not one"),
        ("BatchNorm<1>", "layer 1, `BatchNorm<1>`: `BatchNorm` takes no arguments, written `BatchNorm`, but was given 1"),
        ("LSTM", "layer 1, `LSTM`: `LSTM` takes 1 argument, written `LSTM<units> or LSTM<units, return_sequences>`, but was given 0"),
        ("LSTM<0>", "layer 1, `LSTM<0>`: the number of units must be at least 1, not 0"),
        ("LSTM<64, return_sequences = yes>", "layer 1, `LSTM<64, return_sequences = yes>`: `return_sequences` is `true` or `false`"),
        ("LSTM<64, return_sequences = \"true\">", "layer 1, `LSTM<64, return_sequences = \"true\">`: `return_sequences` is `true` or `false`"),
        ("LSTM<64, \"return_sequences\">", "layer 1, `LSTM<64, \"return_sequences\">`: `LSTM` takes 1 argument, written `LSTM<units> or LSTM<units, return_sequences>`, but was given 2"),
        ("GRU<64, 2>", "layer 1, `GRU<64, 2>`: `GRU` takes 1 argument, written `GRU<units> or GRU<units, return_sequences>`, but was given 2"),
        ("GRU<64, return_sequence = true>", "layer 1, `GRU<64, return_sequence = true>`: `GRU` has no option `return_sequence`; its options are return_sequences\n  = help: did you mean `return_sequences`?"),
        ("SimpleRNN<return_sequences>", "layer 1, `SimpleRNN<return_sequences>`: the number of units must be a whole number, not `return_sequences`"),
        ("Bidirectional", "layer 1, `Bidirectional`: `Bidirectional` takes 1 argument, written `Bidirectional<LSTM<units>>`, but was given 0"),
        ("Bidirectional<Dense<4>>", "layer 1, `Bidirectional<Dense<4>>`: `Bidirectional` wraps a recurrent layer (`LSTM`, `GRU` or `SimpleRNN`), not `Dense<4>`"),
        ("Bidirectional<4>", "layer 1, `Bidirectional<4>`: `Bidirectional` wraps a recurrent layer (`LSTM`, `GRU` or `SimpleRNN`), not `4`"),
        ("Bidirectional<Lstm<4>>", "layer 1, `Bidirectional<Lstm<4>>`: `Bidirectional` wraps a recurrent layer (`LSTM`, `GRU` or `SimpleRNN`), not `Lstm<4>`"),
        ("Bidirectional<LSTM<0>>", "layer 1, `LSTM<0>`: the number of units must be at least 1, not 0"),
        ("Bidirectional<GRU<4, return_sequences = 1>>", "layer 1, `GRU<4, return_sequences = 1>`: `return_sequences` is `true` or `false`"),
        ("ToSequence<1>", "layer 1, `ToSequence<1>`: `ToSequence` takes no arguments, written `ToSequence`, but was given 1"),
        ("ToSequence<time = depth>", "`time` is `width` or `height`"),
        ("ToSequence<time = 3>", "`time` is `width` or `height`"),
        ("ToSequence<time = \"depth\">", "`time` is `width` or `height`"),
        ("Embedding<10>", "layer 1, `Embedding<10>`: `Embedding` takes 2 arguments, written `Embedding<vocabulary, dim>`, but was given 1"),
        ("Embedding<0, 4>", "layer 1, `Embedding<0, 4>`: the vocabulary size must be at least 1, not 0"),
        ("Embedding<10, 0>", "layer 1, `Embedding<10, 0>`: the embedding size must be at least 1, not 0"),
        ("Residual<Dense<4>>", "layer 1, `Residual<Dense<4>>`: the block is a list of layers in brackets, e.g. `[Conv2D<32, 3, padding = same>, ReLU]`"),
        ("Residual<[]>", "layer 1, `Residual<[]>`: the block is a list of layers in brackets, e.g. `[Conv2D<32, 3, padding = same>, ReLU]`"),
        ("Residual<[Dense<4>], shortcut = Dense<4>>", "layer 1, `Residual<[Dense<4>], shortcut = Dense<4>>`: `shortcut` is a list of layers in brackets, e.g. `[Conv2D<32, 3, padding = same>, ReLU]`"),
        ("Residual<[Dense<0>, ReLU]>", "layer 1.1, `Dense<0>`: the number of units must be at least 1, not 0"),
        ("Residual<[Dense<4>], [Dense<4>]>", "layer 1, `Residual<[Dense<4>], [Dense<4>]>`: `Residual` takes 1 argument, written `Residual<[layers..]> or Residual<[layers..], shortcut = [layers..]>`, but was given 2"),
        ("Residual<[Dense<4>], shortcut = [Dense<x>]>", "layer 1.shortcut.1, `Dense<x>`: the number of units must be a whole number, not `x`"),
        ("Concat<[Dense<4>]>", "layer 1, `Concat<[Dense<4>]>`: `Concat` takes 2 to 6 arguments, written `Concat<[layers..], [layers..], ..>`, but was given 1"),
        ("Concat<[Dense<4>], Dense<4>>", "layer 1, `Concat<[Dense<4>], Dense<4>>`: branch 2 is a list of layers in brackets, e.g. `[Conv2D<32, 3, padding = same>, ReLU]`; `[]` passes the input through"),
        ("Add<[Dense<0>], [Dense<4>]>", "layer 1.1.1, `Dense<0>`: the number of units must be at least 1, not 0"),
        ("Multiply<[], [], [], [], [], [], []>", "layer 1, `Multiply<[], [], [], [], [], [], []>`: `Multiply` takes 2 to 6 arguments, written `Multiply<[layers..], [layers..], ..>`, but was given 7"),
        ("Average<[Input<4>], []>", "layer 1, `Average<[Input<4>], []>`: branch 2 has no input of its own but the other branches start with theirs; in a network with several inputs, every branch of the first layer starts with its `Input<..>` or `Tokens<..>`"),
        ("Maximum<[Dense<4>], [Dense<4>, Input<4>]>", "layer 1.2.2, `Input<4>`: `Input` and `Tokens` describe the network's input and come first, once"),
        ("Input<8>", "layer 1, `Input<8>`: `Input` and `Tokens` describe the network's input and come first, once"),
        ("Tokens<8>", "layer 1, `Tokens<8>`: `Input` and `Tokens` describe the network's input and come first, once"),
    ];

    #[test]
    fn each_layer_s_argument_errors() {
        for (layer, message) in DECODE_ERRORS {
            assert_eq!(errors(layer), [*message], "{layer}");
        }
        // Every entry has its argument errors above.
        for entry in LAYERS {
            assert!(
                DECODE_ERRORS
                    .iter()
                    .any(|(layer, _)| layer.split('<').next() == Some(entry.name)),
                "no decode error for `{}`",
                entry.name
            );
        }
    }

    #[test]
    fn quoted_option_values_decode_as_the_bare_words() {
        let kind = |layer: &str| {
            let net: NetworkSpec = syn::parse_str(&format!("Input<1, 28, 28>, {layer}")).unwrap();
            match decode(&net) {
                Ok(net) => net.layers[0].kind,
                Err(e) => panic!("`{layer}`: {e}"),
            }
        };
        for (quoted, bare) in [
            (
                r#"Conv2D<8, 3, padding = "same", activation = "relu">"#,
                "Conv2D<8, 3, padding = same, activation = relu>",
            ),
            (r#"Conv2D<8, 3, padding = "valid">"#, "Conv2D<8, 3>"),
            (
                r#"AvgPool<3, padding = "same">"#,
                "AvgPool<3, padding = same>",
            ),
            (r#"Dense<4, activation = "linear">"#, "Dense<4>"),
            (
                r#"Dense<4, activation = "leaky_relu">"#,
                "Dense<4, activation = leaky_relu>",
            ),
            (
                r#"Dense<4, activation = "softmax">"#,
                "Dense<4, activation = softmax>",
            ),
            (
                r#"ToSequence<time = "height">"#,
                "ToSequence<time = height>",
            ),
            (r#"ToSequence<time = "width">"#, "ToSequence"),
        ] {
            assert_eq!(kind(quoted), kind(bare), "{quoted}");
        }
    }

    #[test]
    fn the_input_s_argument_errors() {
        let error = |s: &str| match decode(&syn::parse_str(s).unwrap()) {
            Ok(_) => panic!("`{s}` decoded"),
            Err(e) => e.to_string(),
        };
        assert_eq!(error("Input<1, 2, 3, 4>"), "the input, `Input<1, 2, 3, 4>`: `Input` takes 1 to 3 arguments, written `Input<C, H, W>, Input<T, F> or Input<N>`, but was given 4");
        assert_eq!(
            error("Input<1, 0, 28>"),
            "the input, `Input<1, 0, 28>`: every dimension must be at least 1, not 0"
        );
        assert_eq!(
            error("Input<x>"),
            "the input, `Input<x>`: every dimension must be a whole number, not `x`"
        );
        assert_eq!(
            error("Input<8, seed = 1>"),
            "the input, `Input<8, seed = 1>`: `Input` takes no options, so `seed` is not one"
        );
        assert_eq!(error("Tokens<20, 4>"), "the input, `Tokens<20, 4>`: `Tokens` takes 1 argument, written `Tokens<steps>`, but was given 2");
        assert_eq!(
            error("Tokens<0>"),
            "the input, `Tokens<0>`: every dimension must be at least 1, not 0"
        );
    }

    #[test]
    fn every_entry_is_reached_by_its_name_and_decodes_to_a_kind_of_its_own() {
        let mut kinds: Vec<(String, &str)> = Vec::new();
        for entry in LAYERS {
            let found = lookup(entry.name).unwrap();
            assert!(std::ptr::eq(found, entry), "`{}` is shadowed", entry.name);
            assert!(entry.example.starts_with(entry.name), "{}", entry.example);
            if let Decode::Input(_) = entry.decode {
                let net: NetworkSpec = syn::parse_str(entry.example).unwrap();
                assert!(decode(&net).unwrap().layers.is_empty());
                continue;
            }
            // The example fits at least one input, and decodes the same after each.
            let mut decoded = Vec::new();
            let mut inferred = 0;
            for input in [
                "Input<3, 28, 28>",
                "Input<28, 28>",
                "Input<64>",
                "Tokens<20>",
            ] {
                let net: NetworkSpec =
                    syn::parse_str(&format!("{input}, {}", entry.example)).unwrap();
                let net = decode(&net).unwrap_or_else(|e| panic!("{}: {e}", entry.example));
                inferred += usize::from(crate::infer::infer(&net).is_ok());
                decoded.push(net.layers[0].kind);
            }
            assert!(inferred > 0, "`{}` fits no input", entry.example);
            assert!(decoded.windows(2).all(|w| w[0] == w[1]));
            // Which kind, without its numbers (but with the digits of its name, `Conv1D` is
            // not `Conv2D`): no two names may decode to the same.
            let debug = format!("{:?}", decoded[0]);
            let name_end = debug
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(debug.len());
            let (name, args) = debug.split_at(name_end);
            let kind: String = name
                .chars()
                .chain(args.chars().filter(|c| !c.is_ascii_digit()))
                .collect();
            if let Some((_, other)) = kinds.iter().find(|(k, _)| *k == kind) {
                panic!("`{}` and `{other}` both decode to {kind}", entry.name);
            }
            kinds.push((kind, entry.name));
        }
    }

    #[test]
    fn names_are_unique() {
        for (i, entry) in LAYERS.iter().enumerate() {
            assert!(
                LAYERS[i + 1..].iter().all(|e| e.name != entry.name),
                "{}",
                entry.name
            );
        }
    }
}
