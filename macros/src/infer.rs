//! Infer: walk the layers, compute every intermediate shape, and reject what cannot fit.
//!
//! Pure (no token output), so it is unit-tested on its own. The arithmetic is the
//! `typenet-shape` crate, which the layer types of typenet check themselves with too.

use crate::args::{positive, rate_ppm, LayerArgs};
use crate::parse::{LayerSpec, NetworkSpec, Value};
use typenet_shape::{same_pad, window_out};
use crate::suggest::did_you_mean;
use std::fmt;

/// The shape of one sample between two layers (the batch dimension is never written).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dims {
    /// `(T)` token ids.
    Tokens(usize),
    /// `(N)`.
    Vector(usize),
    /// `(T, F)`: T steps of F features.
    Sequence(usize, usize),
    /// `(C, H, W)`.
    Image(usize, usize, usize),
}

impl Dims {
    pub fn list(&self) -> Vec<usize> {
        match *self {
            Dims::Tokens(t) => vec![t],
            Dims::Vector(n) => vec![n],
            Dims::Sequence(t, f) => vec![t, f],
            Dims::Image(c, h, w) => vec![c, h, w],
        }
    }

    pub fn numel(&self) -> usize {
        self.list().iter().product()
    }

    fn tuple(&self) -> String {
        let dims: Vec<String> = self.list().iter().map(usize::to_string).collect();
        format!("({})", dims.join(", "))
    }
}

impl fmt::Display for Dims {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let kind = match self {
            Dims::Tokens(_) => "token ids",
            Dims::Vector(_) => "a vector",
            Dims::Sequence(..) => "a sequence",
            Dims::Image(..) => "an image",
        };
        write!(f, "{kind} {}", self.tuple())
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Activation {
    Relu,
    LeakyRelu { slope_ppm: u32 },
    Sigmoid,
    Tanh,
    Gelu,
    Softmax,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cell {
    Lstm,
    Gru,
    SimpleRnn,
}

/// A layer with every dimension resolved: what the expansion writes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Layer {
    Conv2D {
        c: usize,
        f: usize,
        k: usize,
        stride: usize,
        dilation: usize,
        pad: (usize, usize),
        input: (usize, usize),
        output: (usize, usize),
    },
    Pool {
        max: bool,
        c: usize,
        k: usize,
        stride: usize,
        pad: (usize, usize),
        input: (usize, usize),
        output: (usize, usize),
    },
    GlobalPool {
        max: bool,
        c: usize,
        h: usize,
        w: usize,
    },
    Flatten {
        input: Vec<usize>,
        n: usize,
    },
    Dense {
        i: usize,
        o: usize,
        steps: usize,
    },
    Activation {
        kind: Activation,
        n: usize,
    },
    Dropout {
        rate_ppm: u32,
        n: usize,
    },
    BatchNorm2D {
        c: usize,
        h: usize,
        w: usize,
    },
    BatchNorm1D {
        c: usize,
    },
    Recurrent {
        cell: Cell,
        steps: usize,
        f: usize,
        u: usize,
        return_sequences: bool,
        bidirectional: bool,
    },
    ToSequence {
        c: usize,
        h: usize,
        w: usize,
        height_as_time: bool,
    },
    Embedding {
        vocab: usize,
        dim: usize,
        steps: usize,
    },
}

/// Layers with their output shapes: what one written layer resolves to (an `activation`
/// option or an inserted `ToSequence` makes it more than one).
pub type Resolved = Vec<(Layer, Dims)>;

/// The resolved layers, in order, each with its number (the written layer's position, from
/// 1 after the input) and its output shape.
#[derive(Debug)]
pub struct Inferred {
    pub layers: Vec<(usize, Layer, Dims)>,
}

const LAYERS: &[&str] = &[
    "Input",
    "Tokens",
    "Conv2D",
    "MaxPool",
    "AvgPool",
    "GlobalAvgPool",
    "GlobalMaxPool",
    "Flatten",
    "Dense",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "GELU",
    "Softmax",
    "Dropout",
    "BatchNorm",
    "LSTM",
    "GRU",
    "SimpleRNN",
    "Bidirectional",
    "ToSequence",
    "Embedding",
];

/// Where the current shape came from, for messages: "Input<1, 28, 28>" or
/// "MaxPool<2> (layer 3)".
struct Source {
    text: String,
}

pub fn infer(spec: &NetworkSpec) -> syn::Result<Inferred> {
    let Some(first) = spec.layers.first() else {
        return Err(syn::Error::new(spec.end, "an empty network: start with `Input<..>`, the shape of one sample, e.g. `network![Input<1, 28, 28>, Flatten, Dense<10>]`"));
    };
    let mut dims = input_dims(first)?;
    let mut source = Source {
        text: format!("`{}`", first.display()),
    };
    let mut layers = Vec::new();
    for (position, spec) in spec.layers.iter().enumerate().skip(1) {
        let ctx = Context {
            spec,
            position,
            source: &source,
        };
        for (layer, out) in ctx.resolve(dims)? {
            dims = out;
            layers.push((position, layer, out));
        }
        source = Source {
            text: format!("`{}` (layer {position})", spec.display()),
        };
    }
    Ok(Inferred { layers })
}

fn input_dims(spec: &LayerSpec) -> syn::Result<Dims> {
    let name = spec.name.to_string();
    let tokens = name == "Tokens";
    if name != "Input" && !tokens {
        return Err(spec.error(format!(
            "a network starts with `Input<..>`, the shape of one sample (e.g. `Input<1, 28, 28>` for 28x28 grey images, `Input<28, 28>` for 28 steps of 28 features), or `Tokens<T>` for T token ids; found `{}`",
            spec.display()
        )));
    }
    let usage = if tokens {
        "Tokens<steps>"
    } else {
        "Input<C, H, W>, Input<T, F> or Input<N>"
    };
    let args = LayerArgs::new(spec, format!("the input, `{}`", spec.display()), usage, &[])?;
    args.count(1, if tokens { 1 } else { 3 })?;
    let d: Vec<usize> = (0..args.positional.len())
        .map(|i| args.positive(i, "every dimension"))
        .collect::<syn::Result<_>>()?;
    Ok(match (tokens, d.as_slice()) {
        (true, [t]) => Dims::Tokens(*t),
        (false, [n]) => Dims::Vector(*n),
        (false, [t, f]) => Dims::Sequence(*t, *f),
        (false, [c, h, w]) => Dims::Image(*c, *h, *w),
        _ => unreachable!("counted above"),
    })
}

struct Context<'a> {
    // 'a: the network spec and the source it was read from
    spec: &'a LayerSpec,
    position: usize,
    source: &'a Source,
}

impl<'a> Context<'a> {
    fn who(&self, spec: &LayerSpec) -> String {
        format!("layer {}, `{}`", self.position, spec.display())
    }

    fn args(&self, usage: &'static str, options: &[&str]) -> syn::Result<LayerArgs<'a>> {
        LayerArgs::new(self.spec, self.who(self.spec), usage, options)
    }

    fn error(&self, problem: impl fmt::Display) -> syn::Error {
        self.spec.error(format!(
            "layer {}, `{}`: {problem}",
            self.position,
            self.spec.display()
        ))
    }

    /// The shape does not suit the layer: say what reached it, from where, and what it takes.
    fn wrong_input(&self, dims: Dims, takes: &str, help: Option<String>) -> syn::Error {
        let mut message = format!("{takes}, but receives {dims} from {}", self.source.text);
        if let Some(help) = help {
            message += &format!("\n  = help: {help}");
        }
        self.error(message)
    }

    fn resolve(&self, dims: Dims) -> syn::Result<Resolved> {
        let name = self.spec.name.to_string();
        if let Dims::Tokens(_) = dims {
            if name != "Embedding" {
                return Err(self.wrong_input(
                    dims,
                    &format!("`{name}` takes floating-point values"),
                    Some("token ids go through `Embedding<vocab, dim>` first".into()),
                ));
            }
        }
        match name.as_str() {
            "Conv2D" => self.conv2d(dims),
            "MaxPool" | "AvgPool" => self.pool(dims, name == "MaxPool"),
            "GlobalAvgPool" | "GlobalMaxPool" => self.global_pool(dims, name == "GlobalMaxPool"),
            "Flatten" => self.flatten(dims),
            "Dense" => self.dense(dims),
            "ReLU" | "LeakyReLU" | "Sigmoid" | "Tanh" | "GELU" | "Softmax" => self.activation(dims),
            "Dropout" => self.dropout(dims),
            "BatchNorm" => self.batch_norm(dims),
            "LSTM" | "GRU" | "SimpleRNN" => self.recurrent(self.spec, dims, false),
            "Bidirectional" => self.bidirectional(dims),
            "ToSequence" => self.to_sequence(dims),
            "Embedding" => self.embedding(dims),
            "Input" | "Tokens" => Err(self
                .error("`Input` and `Tokens` describe the network's input and come first, once")),
            _ => {
                let mut message = format!("unknown layer `{name}`");
                if let Some(close) = did_you_mean(&name, LAYERS) {
                    message += &format!("; did you mean `{close}`?");
                }
                message += &format!("\n  = note: the layers are {}", LAYERS[2..].join(", "));
                Err(syn::Error::new_spanned(&self.spec.name, message))
            }
        }
    }

    fn image(&self, dims: Dims, takes: &str) -> syn::Result<(usize, usize, usize)> {
        match dims {
            Dims::Image(c, h, w) => Ok((c, h, w)),
            _ => Err(self.wrong_input(dims, takes, None)),
        }
    }

    /// Padding before each axis and the output size, or an error saying why the window
    /// does not fit.
    fn window(
        &self,
        args: &LayerArgs,
        what: &str,
        (h, w): (usize, usize),
        k: usize,
        stride: usize,
        dilation: usize,
    ) -> syn::Result<((usize, usize), (usize, usize))> {
        let span = dilation * (k - 1) + 1;
        let (pads, output) = match args.named("padding") {
            None => (
                (0, 0),
                (
                    window_out(h, k, stride, dilation, 0, 0),
                    window_out(w, k, stride, dilation, 0, 0),
                ),
            ),
            Some(v) if v.word().as_deref() == Some("valid") => (
                (0, 0),
                (
                    window_out(h, k, stride, dilation, 0, 0),
                    window_out(w, k, stride, dilation, 0, 0),
                ),
            ),
            Some(v) if v.word().as_deref() == Some("same") => {
                let (ph, ph_after) = same_pad(h, k, stride, dilation);
                let (pw, pw_after) = same_pad(w, k, stride, dilation);
                (
                    (ph, pw),
                    (
                        window_out(h, k, stride, dilation, ph, ph_after),
                        window_out(w, k, stride, dilation, pw, pw_after),
                    ),
                )
            }
            Some(Value::Int(lit)) => {
                let p: usize = lit.base10_parse()?;
                if what == "pool window" && 2 * p > k {
                    return Err(self.error(format!("padding {p} is more than half the {k}x{k} pool window; no window could hold a real value")));
                }
                (
                    (p, p),
                    (
                        window_out(h, k, stride, dilation, p, p),
                        window_out(w, k, stride, dilation, p, p),
                    ),
                )
            }
            Some(other) => {
                return Err(syn::Error::new(
                    other.span(),
                    "`padding` is `valid`, `same` or a whole number of pixels",
                ))
            }
        };
        if output.0 == 0 || output.1 == 0 {
            let dilated = if dilation > 1 {
                format!(" (dilated to {span}x{span})")
            } else {
                String::new()
            };
            let padded = if pads != (0, 0) {
                format!(" ({}x{} with padding)", h + 2 * pads.0, w + 2 * pads.1)
            } else {
                String::new()
            };
            return Err(self.error(format!(
                "a {k}x{k} {what}{dilated} does not fit the {h}x{w} input{padded} coming from {}",
                self.source.text
            )));
        }
        Ok((pads, output))
    }

    fn conv2d(&self, dims: Dims) -> syn::Result<Resolved> {
        let args = self.args(
            "Conv2D<filters, kernel>",
            &["stride", "padding", "dilation", "activation"],
        )?;
        args.count(2, 2)?;
        let (c, h, w) = self.image(dims, "`Conv2D` takes an image (C, H, W)")?;
        let f = args.positive(0, "the number of filters")?;
        let k = args.positive(1, "the kernel size")?;
        let stride = args.positive_option("stride", 1)?;
        let dilation = args.positive_option("dilation", 1)?;
        let (pad, output) = self.window(&args, "kernel", (h, w), k, stride, dilation)?;
        let out = Dims::Image(f, output.0, output.1);
        let mut layers = vec![(
            Layer::Conv2D {
                c,
                f,
                k,
                stride,
                dilation,
                pad,
                input: (h, w),
                output,
            },
            out,
        )];
        layers.extend(self.activation_option(&args, out)?);
        Ok(layers)
    }

    fn pool(&self, dims: Dims, max: bool) -> syn::Result<Resolved> {
        let usage = if max {
            "MaxPool<size>"
        } else {
            "AvgPool<size>"
        };
        let args = self.args(usage, &["stride", "padding"])?;
        args.count(1, 1)?;
        let (c, h, w) = self.image(
            dims,
            &format!("`{}` takes an image (C, H, W)", self.spec.name),
        )?;
        let k = args.positive(0, "the pool size")?;
        // Keras: the stride defaults to the pool size.
        let stride = args.positive_option("stride", k)?;
        let (pad, output) = self.window(&args, "pool window", (h, w), k, stride, 1)?;
        Ok(vec![(
            Layer::Pool {
                max,
                c,
                k,
                stride,
                pad,
                input: (h, w),
                output,
            },
            Dims::Image(c, output.0, output.1),
        )])
    }

    fn global_pool(&self, dims: Dims, max: bool) -> syn::Result<Resolved> {
        self.args("GlobalAvgPool", &[])?.count(0, 0)?;
        let (c, h, w) = self.image(
            dims,
            &format!("`{}` takes an image (C, H, W)", self.spec.name),
        )?;
        Ok(vec![(Layer::GlobalPool { max, c, h, w }, Dims::Vector(c))])
    }

    fn flatten(&self, dims: Dims) -> syn::Result<Resolved> {
        self.args("Flatten", &[])?.count(0, 0)?;
        match dims {
            Dims::Image(..) | Dims::Sequence(..) => Ok(vec![(
                Layer::Flatten {
                    input: dims.list(),
                    n: dims.numel(),
                },
                Dims::Vector(dims.numel()),
            )]),
            _ => Err(self.wrong_input(
                dims,
                "`Flatten` takes an image (C, H, W) or a sequence (T, F)",
                Some("the input is already flat: remove `Flatten`".into()),
            )),
        }
    }

    fn dense(&self, dims: Dims) -> syn::Result<Resolved> {
        let args = self.args("Dense<units>", &["activation"])?;
        args.count(1, 1)?;
        let o = args.positive(0, "the number of units")?;
        let (layer, out) = match dims {
            Dims::Vector(i) => (Layer::Dense { i, o, steps: 0 }, Dims::Vector(o)),
            Dims::Sequence(t, i) => (Layer::Dense { i, o, steps: t }, Dims::Sequence(t, o)),
            _ => {
                return Err(self.wrong_input(
                    dims,
                    "`Dense` takes a vector (N) or a sequence (T, N)",
                    Some(format!(
                        "add `Flatten` before `{}` to make the image a vector of {}",
                        self.spec.display(),
                        dims.numel()
                    )),
                ))
            }
        };
        let mut layers = vec![(layer, out)];
        layers.extend(self.activation_option(&args, out)?);
        Ok(layers)
    }

    /// The `activation = relu` option of `Conv2D` and `Dense`: an activation layer after it.
    fn activation_option(
        &self,
        args: &LayerArgs,
        dims: Dims,
    ) -> syn::Result<Option<(Layer, Dims)>> {
        let Some(value) = args.named("activation") else {
            return Ok(None);
        };
        let word = value.word().unwrap_or_default();
        let kind =
            match word.as_str() {
                "linear" => return Ok(None),
                "relu" => Activation::Relu,
                "leaky_relu" => Activation::LeakyRelu { slope_ppm: 300_000 },
                "sigmoid" => Activation::Sigmoid,
                "tanh" => Activation::Tanh,
                "gelu" => Activation::Gelu,
                "softmax" => Activation::Softmax,
                _ => return Err(syn::Error::new(
                    value.span(),
                    "`activation` is one of relu, leaky_relu, sigmoid, tanh, gelu, softmax, linear",
                )),
            };
        Ok(Some((
            Layer::Activation {
                kind,
                n: dims.numel(),
            },
            dims,
        )))
    }

    fn activation(&self, dims: Dims) -> syn::Result<Resolved> {
        let leaky = self.spec.name == "LeakyReLU";
        let args = self.args(
            if leaky {
                "LeakyReLU or LeakyReLU<negative_slope>"
            } else {
                "an activation without arguments"
            },
            &[],
        )?;
        args.count(0, usize::from(leaky))?;
        let kind = match self.spec.name.to_string().as_str() {
            "ReLU" => Activation::Relu,
            "LeakyReLU" => Activation::LeakyRelu {
                // Keras's default negative slope.
                slope_ppm: match args.positional.first() {
                    Some(v) => rate_ppm(v, &self.who(self.spec), "the negative slope")?,
                    None => 300_000,
                },
            },
            "Sigmoid" => Activation::Sigmoid,
            "Tanh" => Activation::Tanh,
            "GELU" => Activation::Gelu,
            _ => Activation::Softmax,
        };
        Ok(vec![(
            Layer::Activation {
                kind,
                n: dims.numel(),
            },
            dims,
        )])
    }

    fn dropout(&self, dims: Dims) -> syn::Result<Resolved> {
        let args = self.args("Dropout<rate>", &[])?;
        args.count(1, 1)?;
        let rate_ppm = rate_ppm(args.positional[0], &self.who(self.spec), "the rate")?;
        Ok(vec![(
            Layer::Dropout {
                rate_ppm,
                n: dims.numel(),
            },
            dims,
        )])
    }

    fn batch_norm(&self, dims: Dims) -> syn::Result<Resolved> {
        self.args("BatchNorm", &[])?.count(0, 0)?;
        match dims {
            Dims::Image(c, h, w) => Ok(vec![(Layer::BatchNorm2D { c, h, w }, dims)]),
            Dims::Vector(c) => Ok(vec![(Layer::BatchNorm1D { c }, dims)]),
            _ => Err(self.wrong_input(
                dims,
                "`BatchNorm` takes an image (C, H, W) or a vector (N)",
                None,
            )),
        }
    }

    /// An image meeting a recurrent layer becomes a sequence: width is time (CRNN).
    /// The steps and features a recurrent layer reads, and the `ToSequence` step the macro
    /// inserts when the input is an image.
    fn as_sequence(&self, dims: Dims, takes: &str) -> syn::Result<(Resolved, usize, usize)> {
        match dims {
            Dims::Sequence(t, f) => Ok((vec![], t, f)),
            Dims::Image(c, h, w) => {
                let seq = Dims::Sequence(w, c * h);
                Ok((vec![(Layer::ToSequence { c, h, w, height_as_time: false }, seq)], w, c * h))
            }
            _ => Err(self.wrong_input(dims, takes, Some("a recurrent layer reads steps: give it a sequence (T, F), e.g. from `Input<T, F>`, an `Embedding`, or a recurrent layer with `return_sequences`".into()))),
        }
    }

    fn recurrent(
        &self,
        spec: &LayerSpec,
        dims: Dims,
        bidirectional: bool,
    ) -> syn::Result<Resolved> {
        let usage = match spec.name.to_string().as_str() {
            "LSTM" => "LSTM<units> or LSTM<units, return_sequences>",
            "GRU" => "GRU<units> or GRU<units, return_sequences>",
            _ => "SimpleRNN<units> or SimpleRNN<units, return_sequences>",
        };
        let args = LayerArgs::new(spec, self.who(spec), usage, &["return_sequences"])?;
        let return_sequences =
            args.flag("return_sequences", &["return_sequences", "ReturnSequences"])?;
        args.count(
            1,
            1 + usize::from(return_sequences && args.named("return_sequences").is_none()),
        )?;
        let u = positive(args.positional[0], &self.who(spec), "the number of units")?;
        let cell = match spec.name.to_string().as_str() {
            "LSTM" => Cell::Lstm,
            "GRU" => Cell::Gru,
            _ => Cell::SimpleRnn,
        };
        let takes = format!(
            "`{}` takes a sequence (T, F) or an image (C, H, W)",
            spec.name
        );
        let (mut layers, steps, f) = self.as_sequence(dims, &takes)?;
        let width = if bidirectional { 2 * u } else { u };
        let out = if return_sequences {
            Dims::Sequence(steps, width)
        } else {
            Dims::Vector(width)
        };
        let layer = Layer::Recurrent {
            cell,
            steps,
            f,
            u,
            return_sequences,
            bidirectional,
        };
        layers.push((layer, out));
        Ok(layers)
    }

    fn bidirectional(&self, dims: Dims) -> syn::Result<Resolved> {
        let args = self.args("Bidirectional<LSTM<units>>", &[])?;
        args.count(1, 1)?;
        match args.positional[0] {
            Value::Layer(inner) if ["LSTM", "GRU", "SimpleRNN"].contains(&inner.name.to_string().as_str()) => {
                self.recurrent(inner, dims, true)
            }
            other => Err(syn::Error::new(
                other.span(),
                format!("layer {}, `{}`: `Bidirectional` wraps a recurrent layer (`LSTM`, `GRU` or `SimpleRNN`), not `{}`", self.position, self.spec.display(), other.display()),
            )),
        }
    }

    fn to_sequence(&self, dims: Dims) -> syn::Result<Resolved> {
        let args = self.args("ToSequence", &["time"])?;
        args.count(0, 0)?;
        let height_as_time = match args.named("time").map(|v| (v.word(), v.span())) {
            None => false,
            Some((Some(w), _)) if w == "width" => false,
            Some((Some(w), _)) if w == "height" => true,
            Some((_, span)) => return Err(syn::Error::new(span, "`time` is `width` or `height`")),
        };
        let (c, h, w) = self.image(dims, "`ToSequence` takes an image (C, H, W)")?;
        let out = if height_as_time {
            Dims::Sequence(h, c * w)
        } else {
            Dims::Sequence(w, c * h)
        };
        Ok(vec![(
            Layer::ToSequence {
                c,
                h,
                w,
                height_as_time,
            },
            out,
        )])
    }

    fn embedding(&self, dims: Dims) -> syn::Result<Resolved> {
        let args = self.args("Embedding<vocabulary, dim>", &[])?;
        args.count(2, 2)?;
        let vocab = args.positive(0, "the vocabulary size")?;
        let dim = args.positive(1, "the embedding size")?;
        match dims {
            Dims::Tokens(steps) => Ok(vec![(
                Layer::Embedding { vocab, dim, steps },
                Dims::Sequence(steps, dim),
            )]),
            _ => Err(self.wrong_input(
                dims,
                "`Embedding` takes token ids (T)",
                Some("declare the input as `Tokens<T>`: T token ids of type usize".into()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer_str(s: &str) -> syn::Result<Inferred> {
        infer(&syn::parse_str(s).unwrap())
    }

    fn outputs(s: &str) -> Vec<Vec<usize>> {
        infer_str(s)
            .unwrap()
            .layers
            .iter()
            .map(|(_, _, d)| d.list())
            .collect()
    }

    fn error(s: &str) -> String {
        infer_str(s).unwrap_err().to_string()
    }

    #[test]
    fn the_seed_cnn_has_keras_shapes() {
        let shapes = outputs(
            "Input<1, 28, 28>, Conv2D<32, 3>, ReLU, MaxPool<2>, Conv2D<64, 3>, ReLU, MaxPool<2>, \
             Conv2D<64, 3>, ReLU, Flatten, Dense<64>, ReLU, Dense<10>",
        );
        let expected: Vec<Vec<usize>> = vec![
            vec![32, 26, 26],
            vec![32, 26, 26],
            vec![32, 13, 13],
            vec![64, 11, 11],
            vec![64, 11, 11],
            vec![64, 5, 5],
            vec![64, 3, 3],
            vec![64, 3, 3],
            vec![576],
            vec![64],
            vec![64],
            vec![10],
        ];
        assert_eq!(shapes, expected);
    }

    #[test]
    fn options_change_shapes_as_keras_does() {
        assert_eq!(
            outputs("Input<3, 28, 28>, Conv2D<8, 3, stride = 2, padding = same>")[0],
            [8, 14, 14]
        );
        assert_eq!(
            outputs("Input<3, 28, 20>, Conv2D<8, 3, padding = 1, dilation = 2>")[0],
            [8, 26, 18]
        );
        assert_eq!(
            outputs("Input<3, 7, 7>, MaxPool<3, stride = 2>")[0],
            [3, 3, 3]
        );
        assert_eq!(
            outputs("Input<3, 7, 7>, AvgPool<2, padding = same>")[0],
            [3, 4, 4]
        );
        assert_eq!(outputs("Input<3, 7, 7>, GlobalMaxPool")[0], [3]);
        assert_eq!(outputs("Input<5, 8>, Dense<4>")[0], [5, 4]);
        // the activation option is a layer of its own
        assert_eq!(outputs("Input<8>, Dense<4, activation = relu>").len(), 2);
    }

    #[test]
    fn same_padding_is_asymmetric_like_keras() {
        let inferred =
            infer_str("Input<1, 28, 28>, Conv2D<4, 3, stride = 2, padding = same>").unwrap();
        match &inferred.layers[0].1 {
            Layer::Conv2D { pad, output, .. } => assert_eq!((*pad, *output), ((0, 0), (14, 14))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn recurrent_shapes_and_the_image_to_sequence_rule() {
        assert_eq!(
            outputs("Input<28, 28>, LSTM<64, return_sequences>, LSTM<64>, Dense<10>"),
            vec![vec![28, 64], vec![64], vec![10]]
        );
        assert_eq!(
            outputs("Input<28, 28>, Bidirectional<GRU<16, ReturnSequences>>")[0],
            [28, 32]
        );
        // CRNN: (32, 13, 13) becomes 13 steps of 32 * 13 features, a step of its own.
        let crnn = outputs("Input<1, 28, 28>, Conv2D<32, 3>, MaxPool<2>, LSTM<64>, Dense<10>");
        assert_eq!(
            crnn,
            vec![
                vec![32, 26, 26],
                vec![32, 13, 13],
                vec![13, 416],
                vec![64],
                vec![10]
            ]
        );
        assert_eq!(
            outputs("Input<2, 4, 6>, ToSequence<time = height>")[0],
            [4, 12]
        );
        assert_eq!(
            outputs("Tokens<20>, Embedding<1000, 16>, SimpleRNN<8>")[0],
            [20, 16]
        );
    }

    #[test]
    fn a_kernel_too_large_names_the_layer_and_its_source() {
        let msg = error("Input<1, 28, 28>, Conv2D<32, 3>, MaxPool<2>, Conv2D<64, 3>, MaxPool<2>, Conv2D<64, 5>, Conv2D<8, 5>");
        assert_eq!(msg, "layer 6, `Conv2D<8, 5>`: a 5x5 kernel does not fit the 1x1 input coming from `Conv2D<64, 5>` (layer 5)");
        let msg = error("Input<1, 8, 8>, Conv2D<4, 3, dilation = 4>");
        assert!(msg.contains("a 3x3 kernel (dilated to 9x9) does not fit the 8x8 input coming from `Input<1, 8, 8>`"), "{msg}");
        let msg = error("Input<1, 3, 3>, MaxPool<4>");
        assert!(
            msg.contains("a 4x4 pool window does not fit the 3x3 input"),
            "{msg}"
        );
    }

    #[test]
    fn wrong_ranks_are_explained_with_help() {
        let msg = error("Input<1, 28, 28>, Conv2D<32, 3>, Dense<10>");
        assert!(msg.starts_with("layer 2, `Dense<10>`: `Dense` takes a vector (N) or a sequence (T, N), but receives an image (32, 26, 26) from `Conv2D<32, 3>` (layer 1)"), "{msg}");
        assert!(
            msg.contains(
                "help: add `Flatten` before `Dense<10>` to make the image a vector of 21632"
            ),
            "{msg}"
        );
        assert!(error("Input<10>, Dense<4>, LSTM<8>").contains("`LSTM` takes a sequence (T, F) or an image (C, H, W), but receives a vector (4) from `Dense<4>` (layer 1)"));
        assert!(error("Input<10>, Conv2D<4, 3>")
            .contains("`Conv2D` takes an image (C, H, W), but receives a vector (10)"));
        assert!(error("Input<5, 5>, Embedding<10, 4>").contains("`Embedding` takes token ids (T)"));
        assert!(error("Tokens<5>, Dense<4>")
            .contains("token ids go through `Embedding<vocab, dim>` first"));
    }

    #[test]
    fn zero_sizes_and_bad_arguments_are_rejected() {
        assert!(error("Input<1, 0, 28>").contains("every dimension must be at least 1, not 0"));
        assert!(error("Input<1, 28, 28>, Conv2D<0, 3>")
            .contains("the number of filters must be at least 1"));
        assert!(error("Input<1, 28, 28>, Conv2D<8, 3, stride = 0>")
            .contains("stride must be at least 1"));
        assert!(error("Input<8>, Dense<0>").contains("the number of units must be at least 1"));
        assert!(error("Input<1, 28, 28>, Conv2D<32>").contains(
            "`Conv2D` takes 2 arguments, written `Conv2D<filters, kernel>`, but was given 1"
        ));
        assert!(error("Input<1, 28, 28>, Conv2D<32, 3, strides = 2>")
            .contains("did you mean `stride`?"));
        assert!(error("Input<8>, Dropout<1.5>")
            .contains("the rate must be a number from 0 up to (not including) 1"));
        assert!(error("Input<8>, Dense<relu>")
            .contains("the number of units must be a whole number, not `relu`"));
    }

    #[test]
    fn input_must_come_first_and_layers_must_exist() {
        assert!(error("Conv2D<32, 3>, Dense<10>").starts_with("a network starts with `Input<..>`"));
        assert!(error("Input<8>, Input<8>").contains("come first, once"));
        assert!(error("Input<1, 28, 28>, Conv2d<32, 3>")
            .starts_with("unknown layer `Conv2d`; did you mean `Conv2D`?"));
        assert!(error("Input<8, 8>, Bidirectional<Dense<4>>")
            .contains("`Bidirectional` wraps a recurrent layer"));
    }
}
