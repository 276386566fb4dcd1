//! Infer: walk the decoded layers, compute every intermediate shape, and reject what cannot
//! fit. The arguments are already checked (`decode.rs`); what is left are the shape rules.
//!
//! Pure (no token output), so it is unit-tested on its own. The arithmetic is the
//! `typenet-shape` crate, which the layer types of typenet check themselves with too.

use crate::args::LayerArgs;
use crate::decode::{Decoded, DecodedLayer};
use crate::registry::{
    lookup, merge_branches, residual_lists, LayerKind, MergeKind, Padding, Recurrent,
};
use std::fmt;
use typenet_shape::{same_pad, window_out};

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
    /// `k`, `stride`, `dilation` and `pad` (the padding before) are (rows, columns).
    Conv2D {
        c: usize,
        f: usize,
        k: (usize, usize),
        stride: (usize, usize),
        dilation: (usize, usize),
        pad: (usize, usize),
        input: (usize, usize),
        output: (usize, usize),
    },
    Pool {
        max: bool,
        c: usize,
        k: (usize, usize),
        stride: (usize, usize),
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
    /// Over `steps` steps of `c` channels; `pad` is the padding before the first step.
    Conv1D {
        c: usize,
        f: usize,
        k: usize,
        stride: usize,
        dilation: usize,
        pad: usize,
        steps: usize,
        output: usize,
    },
    Pool1D {
        max: bool,
        c: usize,
        k: usize,
        stride: usize,
        pad: usize,
        steps: usize,
        output: usize,
    },
    GlobalPool1D {
        max: bool,
        steps: usize,
        c: usize,
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
    Residual {
        block: Layers,
        /// `None`: the identity.
        shortcut: Option<Layers>,
    },
    Merge {
        kind: MergeKind,
        /// Rows per sample when the merge works on a matrix view: a sequence's steps when
        /// sequences' features are concatenated, 1 otherwise.
        steps: usize,
        route: MergeInput,
        branches: Vec<Layers>,
        output: Dims,
    },
}

/// What the branches of a merge read.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum MergeInput {
    /// The same input, of this shape.
    Shared(Dims),
    /// One input each, of these shapes: the network's inputs.
    Own(Vec<Dims>),
}

/// Layers with their output shapes: what one written layer resolves to (an `activation`
/// option or an inserted `ToSequence` makes it more than one).
pub type Resolved = Vec<(Layer, Dims)>;

/// Resolved layers in order, each with its number within its list and its output shape.
pub type Layers = Vec<(usize, Layer, Dims)>;

/// The resolved layers, in order, each with its number (the written layer's position, from
/// 1 after the input) and its output shape.
#[derive(Debug)]
pub struct Inferred {
    pub layers: Layers,
}

/// Where the current shape came from, for messages: "`Input<1, 28, 28>`" or
/// "`MaxPool<2>` (layer 3)".
struct Source {
    text: String,
}

/// Walks the decoded layers from the input's shape; the first layer that does not fit the
/// shape reaching it is the error (after it, the shapes are unknown).
pub fn infer(decoded: &Decoded) -> syn::Result<Inferred> {
    if let Some((input, dims)) = decoded.input {
        let source = Source {
            text: format!("`{}`", input.display()),
        };
        let (layers, _) = chain(&decoded.layers, dims, source)?;
        return Ok(Inferred { layers });
    }
    // Several inputs: the first layer is a merge of branches that start with their own.
    let first = &decoded.layers[0];
    let LayerKind::Merge(kind) = first.kind else {
        unreachable!("decode starts a network with an input or a merge of inputs")
    };
    let ctx = Context {
        layer: first,
        source: &Source {
            text: String::new(),
        },
    };
    let (merge, out) = ctx.merge(kind, None)?.remove(0);
    let source = Source {
        text: format!("`{}` (layer {})", first.spec.display(), first.label),
    };
    let (rest, _) = chain(&decoded.layers[1..], out, source)?;
    let mut layers = vec![(first.position, merge, out)];
    layers.extend(rest);
    Ok(Inferred { layers })
}

/// The layers of a list resolved from `dims`, which comes from `source`, and the list's
/// output shape.
fn chain(list: &[DecodedLayer], mut dims: Dims, mut source: Source) -> syn::Result<(Layers, Dims)> {
    let mut layers = Vec::new();
    for layer in list {
        let ctx = Context {
            layer,
            source: &source,
        };
        for (resolved, out) in ctx.resolve(dims)? {
            dims = out;
            layers.push((layer.position, resolved, out));
        }
        source = Source {
            text: format!("`{}` (layer {})", layer.spec.display(), layer.label),
        };
    }
    Ok((layers, dims))
}

/// How a shortcut can reach the block's output shape, as a Keras ResNet's projection does.
fn projection_hint(input: Dims, out: Dims) -> String {
    match (input, out) {
        (Dims::Image(_, h, w), Dims::Image(f, oh, ow))
            if oh > 0 && ow > 0 && h % oh == 0 && w % ow == 0 =>
        {
            let stride = match (h / oh, w / ow) {
                (1, 1) => String::new(),
                (s, t) if s == t => format!(", stride = {s}"),
                (s, t) => format!(", stride = ({s}, {t})"),
            };
            format!("project the shortcut: `shortcut = [Conv2D<{f}, 1{stride}>]`")
        }
        (_, Dims::Vector(n)) => format!("project the shortcut: `shortcut = [Dense<{n}>]`"),
        _ => "give the shortcut layers that output the block's shape: `shortcut = [..]`".into(),
    }
}

struct Context<'a> {
    layer: &'a DecodedLayer<'a>,
    source: &'a Source,
}

impl Context<'_> {
    fn error(&self, problem: impl fmt::Display) -> syn::Error {
        self.layer.spec.error(format!(
            "layer {}, `{}`: {problem}",
            self.layer.label,
            self.layer.spec.display()
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

    /// The layers the written layer resolves to, with their output shapes.
    fn resolve(&self, dims: Dims) -> syn::Result<Resolved> {
        let name = &self.layer.spec.name;
        if let Dims::Tokens(_) = dims {
            if !matches!(self.layer.kind, LayerKind::Embedding { .. }) {
                return Err(self.wrong_input(
                    dims,
                    &format!("`{name}` takes floating-point values"),
                    Some("token ids go through `Embedding<vocab, dim>` first".into()),
                ));
            }
        }
        match self.layer.kind {
            LayerKind::Conv2D {
                filters,
                kernel,
                stride,
                dilation,
                padding,
                activation,
            } => self.conv2d(dims, filters, kernel, stride, dilation, padding, activation),
            LayerKind::Pool {
                max,
                size,
                stride,
                padding,
            } => self.pool(dims, max, size, stride, padding),
            LayerKind::GlobalPool { max } => {
                let (c, h, w) = self.image(dims, &format!("`{name}` takes an image (C, H, W)"))?;
                Ok(vec![(Layer::GlobalPool { max, c, h, w }, Dims::Vector(c))])
            }
            LayerKind::Conv1D {
                filters,
                kernel,
                stride,
                dilation,
                padding,
                activation,
            } => self.conv1d(dims, filters, kernel, stride, dilation, padding, activation),
            LayerKind::Pool1D {
                max,
                size,
                stride,
                padding,
            } => self.pool1d(dims, max, size, stride, padding),
            LayerKind::GlobalPool1D { max } => {
                let (steps, c) = self.sequence(dims)?;
                Ok(vec![(
                    Layer::GlobalPool1D { max, steps, c },
                    Dims::Vector(c),
                )])
            }
            LayerKind::Flatten => Ok(self.flatten(dims)),
            LayerKind::Dense { units, activation } => self.dense(dims, units, activation),
            LayerKind::Activation(kind) => Ok(vec![(
                Layer::Activation {
                    kind,
                    n: dims.numel(),
                },
                dims,
            )]),
            LayerKind::Dropout { rate_ppm } => Ok(vec![(
                Layer::Dropout {
                    rate_ppm,
                    n: dims.numel(),
                },
                dims,
            )]),
            LayerKind::BatchNorm => self.batch_norm(dims),
            LayerKind::Recurrent(spec) => self.recurrent(dims, spec, false),
            LayerKind::Bidirectional(spec) => self.recurrent(dims, spec, true),
            LayerKind::ToSequence { height_as_time } => self.to_sequence(dims, height_as_time),
            LayerKind::Embedding { vocab, dim } => self.embedding(dims, vocab, dim),
            LayerKind::Residual { .. } => self.residual(dims),
            LayerKind::Merge(kind) => self.merge(kind, Some(dims)),
        }
    }

    /// Each branch from `dims` (or from its own input, for the network's first layer when
    /// `dims` is `None`), and the merged shape.
    fn merge(&self, kind: MergeKind, dims: Option<Dims>) -> syn::Result<Resolved> {
        let entry = lookup(kind.name()).expect("a registry entry");
        let args = LayerArgs::new(self.layer.spec, &self.layer.label, entry)?;
        let mut branches = Vec::new();
        let mut outputs = Vec::new();
        let mut inputs = Vec::new();
        for branch in merge_branches(&args)? {
            let (start, source) = match (branch.input, dims) {
                (Some((input, own)), None) => {
                    inputs.push(own);
                    let text = format!("`{}`", input.display());
                    (own, Source { text })
                }
                (Some((input, _)), Some(_)) => {
                    return Err(self.error(format!(
                        "its branches start with inputs of their own (`{}`), which only the network's first layer can do: a network's inputs come first",
                        input.display()
                    )))
                }
                (None, Some(dims)) => {
                    let text = self.source.text.clone();
                    (dims, Source { text })
                }
                (None, None) => unreachable!("decode gives the first merge its inputs"),
            };
            let (layers, out) = chain(&branch.layers, start, source)?;
            branches.push(layers);
            outputs.push(out);
        }
        let output = self.merged(kind, &outputs)?;
        let steps = match (kind, output) {
            (MergeKind::Concat, Dims::Sequence(t, _)) => t,
            _ => 1,
        };
        let route = match dims {
            Some(dims) => MergeInput::Shared(dims),
            None => MergeInput::Own(inputs),
        };
        let layer = Layer::Merge {
            kind,
            steps,
            route,
            branches,
            output,
        };
        Ok(vec![(layer, output)])
    }

    /// The shape of the branches' `outputs` merged, or an error naming two that cannot be.
    fn merged(&self, kind: MergeKind, outputs: &[Dims]) -> syn::Result<Dims> {
        let name = kind.name();
        let first = outputs[0];
        if let Some(b) = outputs.iter().position(|d| matches!(d, Dims::Tokens(_))) {
            return Err(self.error(format!(
                "branch {} gives {}, but `{name}` merges floating-point values\n  = help: token ids go through `Embedding<vocab, dim>` first",
                b + 1,
                outputs[b]
            )));
        }
        if kind != MergeKind::Concat {
            return match outputs.iter().position(|&d| d != first) {
                None => Ok(first),
                Some(b) => Err(self.error(format!(
                    "`{name}` needs every branch to give the same shape, but branch 1 gives {first} and branch {} gives {}",
                    b + 1,
                    outputs[b]
                ))),
            };
        }
        let mut total = first;
        for (b, &out) in outputs.iter().enumerate().skip(1) {
            total = match (total, out) {
                (Dims::Image(c, h, w), Dims::Image(more, oh, ow)) if (h, w) == (oh, ow) => {
                    Dims::Image(c + more, h, w)
                }
                (Dims::Vector(n), Dims::Vector(more)) => Dims::Vector(n + more),
                (Dims::Sequence(t, f), Dims::Sequence(ot, more)) if t == ot => {
                    Dims::Sequence(t, f + more)
                }
                _ => return self.concat_mismatch(first, b, out),
            };
        }
        Ok(total)
    }

    /// Branch `b` (from 0) gives `out`, which cannot join branch 1's `first`.
    fn concat_mismatch(&self, first: Dims, b: usize, out: Dims) -> syn::Result<Dims> {
        let gives = format!("branch 1 gives {first} and branch {} {out}", b + 1);
        let message = match (first, out) {
            (Dims::Image(..), Dims::Image(..)) => format!(
                "`Concat` joins images along their channels, so their heights and widths must agree, but {gives}"
            ),
            (Dims::Sequence(..), Dims::Sequence(..)) => format!(
                "`Concat` joins sequences along their features, so their lengths must agree, but {gives}"
            ),
            _ => {
                let mut message = format!(
                    "`Concat` joins images with images, vectors with vectors and sequences with sequences, but {gives}"
                );
                let image = [(0, first), (b, out)]
                    .into_iter()
                    .find(|(_, d)| matches!(d, Dims::Image(..)));
                if let (Some((i, _)), true) = (image, matches!((first, out), (Dims::Vector(_), _) | (_, Dims::Vector(_)))) {
                    message += &format!(
                        "\n  = help: end branch {} with `Flatten` (or `GlobalAvgPool`) to make the image a vector",
                        i + 1
                    );
                }
                message
            }
        };
        Err(self.error(message))
    }

    /// The block from `dims`, the shortcut (or the identity) from `dims`, and their outputs,
    /// which the sum needs equal.
    fn residual(&self, dims: Dims) -> syn::Result<Resolved> {
        let entry = lookup("Residual").expect("a registry entry");
        let args = LayerArgs::new(self.layer.spec, &self.layer.label, entry)?;
        let (block, shortcut) = residual_lists(&args)?;
        let source = || Source {
            text: self.source.text.clone(),
        };
        let (block, out) = chain(&block, dims, source())?;
        let (shortcut, shortcut_out) = match shortcut {
            Some(list) => {
                let (layers, out) = chain(&list, dims, source())?;
                (Some(layers), out)
            }
            None => (None, dims),
        };
        if out != shortcut_out {
            let shape = |d: Dims| d.tuple();
            return Err(match &shortcut {
                None => {
                    let mut message = format!(
                        "the block turns {} into {}; the sum with its input needs them equal",
                        shape(dims),
                        shape(out)
                    );
                    message += &format!("\n  = help: {}", projection_hint(dims, out));
                    self.error(message)
                }
                Some(_) => self.error(format!(
                    "the block turns {} into {} but the shortcut into {}; the sum needs them equal",
                    shape(dims),
                    shape(out),
                    shape(shortcut_out)
                )),
            });
        }
        Ok(vec![(Layer::Residual { block, shortcut }, out)])
    }

    fn image(&self, dims: Dims, takes: &str) -> syn::Result<(usize, usize, usize)> {
        match dims {
            Dims::Image(c, h, w) => Ok((c, h, w)),
            // The layer has a counterpart over steps: say so.
            Dims::Sequence(..) => {
                let help = self.counterpart().map(|other| {
                    format!("for a sequence (T, F), write `{other}`: the same layer over steps")
                });
                Err(self.wrong_input(dims, takes, help))
            }
            _ => Err(self.wrong_input(dims, takes, None)),
        }
    }

    /// The layer as written, under the name of its counterpart over the other rank
    /// (`Conv2D<32, 3>` for `Conv1D<32, 3>`), if it has one.
    fn counterpart(&self) -> Option<String> {
        let name = self.layer.spec.name.to_string();
        let other = one_d_counterpart(&name)?;
        let written = self.layer.spec.display();
        Some(format!("{other}{}", written.strip_prefix(&name)?))
    }

    /// The steps and channels of a sequence, for the layers over steps (`Conv1D` and the
    /// 1-D pools); what else reaches them is explained.
    fn sequence(&self, dims: Dims) -> syn::Result<(usize, usize)> {
        let name = &self.layer.spec.name;
        let takes = format!("`{name}` takes a sequence (T, F)");
        match dims {
            Dims::Sequence(t, f) => Ok((t, f)),
            Dims::Image(..) => {
                let other = self.counterpart().unwrap_or_default();
                Err(self.wrong_input(dims, &takes, Some(format!(
                    "for an image (C, H, W), write `{other}`: the same layer over rows and columns; or put `ToSequence` before `{}` to read the image's columns as steps",
                    self.layer.spec.display()
                ))))
            }
            _ => Err(self.wrong_input(dims, &takes, Some(format!(
                "`{name}` slides over steps: give it a sequence (T, F), e.g. from `Input<T, F>`, an `Embedding`, or a recurrent layer with `return_sequences`"
            )))),
        }
    }

    /// The padding before each axis and the output size along it of a window, or an error
    /// saying why the window does not fit: one sentence for both ranks, "a 5-step kernel
    /// does not fit the 4 steps coming from ..." and "a 3x5 kernel does not fit the 28x4
    /// input coming from ...".
    fn fit_window<const N: usize>(
        &self,
        what: &str,
        axes: [Axis; N],
        padding: Padding,
    ) -> syn::Result<[(usize, usize); N]> {
        let fitted = axes.map(|a| a.fit(padding));
        if fitted.iter().all(|&(_, out)| out > 0) {
            return Ok(fitted.map(|((before, _), out)| (before, out)));
        }
        // One size per axis, "3" or "3x5".
        let sizes = |size: &dyn Fn(usize) -> usize| {
            let each: Vec<String> = (0..N).map(|i| size(i).to_string()).collect();
            each.join("x")
        };
        let kernel = sizes(&|i| axes[i].kernel);
        let span = sizes(&|i| axes[i].span());
        let input = sizes(&|i| axes[i].input);
        let padded = sizes(&|i| axes[i].input + fitted[i].0 .0 + fitted[i].0 .1);
        let (kernel, span, input) = if N == 1 {
            (
                format!("{kernel}-step"),
                format!("{span} steps"),
                format!("{input} steps"),
            )
        } else {
            (kernel, span, format!("{input} input"))
        };
        let mut message = format!("a {kernel} {what}");
        if axes.iter().any(|a| a.dilation > 1) {
            message += &format!(" (dilated to {span})");
        }
        message += &format!(" does not fit the {input}");
        if fitted
            .iter()
            .any(|&((before, after), _)| before + after > 0)
        {
            message += &format!(" ({padded} with padding)");
        }
        message += &format!(" coming from {}", self.source.text);
        // A rectangular window may fit one axis and not the other: say which.
        if let [(_, rows), (_, cols)] = fitted[..] {
            if (rows == 0) != (cols == 0) {
                let (fits, fails) = if rows == 0 { (1, 0) } else { (0, 1) };
                let size = |axis: usize| {
                    let n = axes[axis].input;
                    let name = ["row", "column"][axis];
                    format!("{n} {name}{}", if n == 1 { "" } else { "s" })
                };
                message += &format!(
                    "\n  = note: it fits the {} but not the {}",
                    size(fits),
                    size(fails)
                );
            }
        }
        Err(self.error(message))
    }

    #[allow(clippy::too_many_arguments)]
    fn conv1d(
        &self,
        dims: Dims,
        f: usize,
        k: usize,
        stride: usize,
        dilation: usize,
        padding: Padding,
        activation: Option<Activation>,
    ) -> syn::Result<Resolved> {
        let (steps, c) = self.sequence(dims)?;
        let axis = Axis::new(steps, k, stride, dilation);
        let [(pad, output)] = self.fit_window("kernel", [axis], padding)?;
        let out = Dims::Sequence(output, f);
        let mut layers = vec![(
            Layer::Conv1D {
                c,
                f,
                k,
                stride,
                dilation,
                pad,
                steps,
                output,
            },
            out,
        )];
        layers.extend(activation_after(activation, out));
        Ok(layers)
    }

    fn pool1d(
        &self,
        dims: Dims,
        max: bool,
        k: usize,
        stride: usize,
        padding: Padding,
    ) -> syn::Result<Resolved> {
        let (steps, c) = self.sequence(dims)?;
        let axis = Axis::new(steps, k, stride, 1);
        let [(pad, output)] = self.fit_window("pool window", [axis], padding)?;
        let layer = Layer::Pool1D {
            max,
            c,
            k,
            stride,
            pad,
            steps,
            output,
        };
        Ok(vec![(layer, Dims::Sequence(output, c))])
    }

    #[allow(clippy::too_many_arguments)]
    fn conv2d(
        &self,
        dims: Dims,
        f: usize,
        k: (usize, usize),
        stride: (usize, usize),
        dilation: (usize, usize),
        padding: Padding,
        activation: Option<Activation>,
    ) -> syn::Result<Resolved> {
        let (c, h, w) = self.image(dims, "`Conv2D` takes an image (C, H, W)")?;
        let axes = Axis::image((h, w), k, stride, dilation);
        let [(ph, oh), (pw, ow)] = self.fit_window("kernel", axes, padding)?;
        let (pad, output) = ((ph, pw), (oh, ow));
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
        layers.extend(activation_after(activation, out));
        Ok(layers)
    }

    fn pool(
        &self,
        dims: Dims,
        max: bool,
        k: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
    ) -> syn::Result<Resolved> {
        let (c, h, w) = self.image(
            dims,
            &format!("`{}` takes an image (C, H, W)", self.layer.spec.name),
        )?;
        let axes = Axis::image((h, w), k, stride, (1, 1));
        let [(ph, oh), (pw, ow)] = self.fit_window("pool window", axes, padding)?;
        let (pad, output) = ((ph, pw), (oh, ow));
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

    /// An image or a sequence becomes a vector; a vector passes through unchanged, as
    /// Keras's `Flatten` lets it (token ids never reach here: only `Embedding` takes them).
    fn flatten(&self, dims: Dims) -> Resolved {
        vec![(
            Layer::Flatten {
                input: dims.list(),
                n: dims.numel(),
            },
            Dims::Vector(dims.numel()),
        )]
    }

    fn dense(&self, dims: Dims, o: usize, activation: Option<Activation>) -> syn::Result<Resolved> {
        let (layer, out) = match dims {
            Dims::Vector(i) => (Layer::Dense { i, o, steps: 0 }, Dims::Vector(o)),
            Dims::Sequence(t, i) => (Layer::Dense { i, o, steps: t }, Dims::Sequence(t, o)),
            Dims::Image(..) | Dims::Tokens(_) => {
                return Err(self.wrong_input(
                    dims,
                    "`Dense` takes a vector (N) or a sequence (T, N)",
                    Some(format!(
                        "add `Flatten` before `{}` to make the image a vector of {}",
                        self.layer.spec.display(),
                        dims.numel()
                    )),
                ))
            }
        };
        let mut layers = vec![(layer, out)];
        layers.extend(activation_after(activation, out));
        Ok(layers)
    }

    fn batch_norm(&self, dims: Dims) -> syn::Result<Resolved> {
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

    /// The steps and features a recurrent layer reads, and the `ToSequence` step the macro
    /// inserts when the input is an image: width is time (CRNN).
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

    fn recurrent(&self, dims: Dims, spec: Recurrent, bidirectional: bool) -> syn::Result<Resolved> {
        let Recurrent {
            cell,
            name,
            units: u,
            return_sequences,
        } = spec;
        let takes = format!("`{name}` takes a sequence (T, F) or an image (C, H, W)");
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

    fn to_sequence(&self, dims: Dims, height_as_time: bool) -> syn::Result<Resolved> {
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

    fn embedding(&self, dims: Dims, vocab: usize, dim: usize) -> syn::Result<Resolved> {
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

/// One axis of a sliding window as written, with the input size along it.
#[derive(Clone, Copy)]
struct Axis {
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
}

impl Axis {
    fn new(input: usize, kernel: usize, stride: usize, dilation: usize) -> Self {
        Axis {
            input,
            kernel,
            stride,
            dilation,
        }
    }

    /// The rows and the columns of a window over an `(h, w)` image, each argument a
    /// (rows, columns) pair.
    fn image(
        (h, w): (usize, usize),
        kernel: (usize, usize),
        stride: (usize, usize),
        dilation: (usize, usize),
    ) -> [Axis; 2] {
        [
            Axis::new(h, kernel.0, stride.0, dilation.0),
            Axis::new(w, kernel.1, stride.1, dilation.1),
        ]
    }

    /// The inputs one window covers, dilation included.
    fn span(self) -> usize {
        self.dilation * (self.kernel - 1) + 1
    }

    /// The padding (before, after) that `padding` means along this axis, and the output
    /// size: 0 when the window does not fit.
    fn fit(self, padding: Padding) -> ((usize, usize), usize) {
        let Axis {
            input,
            kernel,
            stride,
            dilation,
        } = self;
        let pads = match padding {
            Padding::Valid => (0, 0),
            Padding::Same => same_pad(input, kernel, stride, dilation),
            Padding::Pixels(p) => (p, p),
        };
        (
            pads,
            window_out(input, kernel, stride, dilation, pads.0, pads.1),
        )
    }
}

/// The layer over a sequence's steps that does what the image layer `name` does, and back.
fn one_d_counterpart(name: &str) -> Option<&'static str> {
    Some(match name {
        "Conv2D" => "Conv1D",
        "Conv1D" => "Conv2D",
        "MaxPool" => "MaxPool1D",
        "MaxPool1D" => "MaxPool",
        "AvgPool" => "AvgPool1D",
        "AvgPool1D" => "AvgPool",
        "GlobalAvgPool" => "GlobalAvgPool1D",
        "GlobalAvgPool1D" => "GlobalAvgPool",
        "GlobalMaxPool" => "GlobalMaxPool1D",
        "GlobalMaxPool1D" => "GlobalMaxPool",
        _ => return None,
    })
}

/// The `activation = relu` option of `Conv1D`, `Conv2D` and `Dense`: an activation layer after it.
fn activation_after(activation: Option<Activation>, dims: Dims) -> Option<(Layer, Dims)> {
    activation.map(|kind| {
        (
            Layer::Activation {
                kind,
                n: dims.numel(),
            },
            dims,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer_str(s: &str) -> syn::Result<Inferred> {
        infer(&crate::decode::decode(&syn::parse_str(s).unwrap())?)
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
    fn sequence_layers_have_keras_shapes() {
        // The README's text CNN: Keras gives (50, 32), (46, 64), (64,), (2,).
        let shapes = outputs(
            "Tokens<50>, Embedding<1000, 32>, Conv1D<64, 5, activation = relu>, GlobalMaxPool1D, Dense<2>",
        );
        assert_eq!(
            shapes,
            [vec![50, 32], vec![46, 64], vec![46, 64], vec![64], vec![2]]
        );
        // Keras: Conv1D(8, 3, strides=2, padding="same") on (25, 4) -> (13, 8);
        // MaxPooling1D(2) -> (6, 8); AveragePooling1D(3, strides=1, padding="same") -> (6, 8);
        // Conv1D(4, 3, dilation_rate=2) -> (2, 4); GlobalAveragePooling1D -> (4,)
        let shapes = outputs(
            "Input<25, 4>, Conv1D<8, 3, stride = 2, padding = same>, MaxPool1D<2>, \
             AvgPool1D<3, stride = 1, padding = same>, Conv1D<4, 3, dilation = 2>, GlobalAvgPool1D",
        );
        assert_eq!(
            shapes,
            [vec![13, 8], vec![6, 8], vec![6, 8], vec![2, 4], vec![4]]
        );
        let net = infer_str(
            "Input<6, 2>, Conv1D<3, 4, padding = same>, MaxPool1D<2, padding = same, stride = 1>",
        )
        .unwrap();
        // same on 6 steps, kernel 4: padding (1, 2); pool 2, stride 1: padding (0, 1)
        assert!(matches!(
            net.layers[0].1,
            Layer::Conv1D {
                pad: 1,
                output: 6,
                ..
            }
        ));
        assert!(matches!(
            net.layers[1].1,
            Layer::Pool1D {
                pad: 0,
                output: 6,
                ..
            }
        ));
    }

    #[test]
    fn sequence_and_image_layers_point_to_each_other() {
        let msg = error("Input<1, 28, 28>, Conv1D<16, 3>");
        assert_eq!(msg, "layer 1, `Conv1D<16, 3>`: `Conv1D` takes a sequence (T, F), but receives an image (1, 28, 28) from `Input<1, 28, 28>`\n  = help: for an image (C, H, W), write `Conv2D<16, 3>`: the same layer over rows and columns; or put `ToSequence` before `Conv1D<16, 3>` to read the image's columns as steps");
        let msg = error("Tokens<20>, Embedding<100, 8>, Conv2D<16, 3, padding = same>");
        assert_eq!(msg, "layer 2, `Conv2D<16, 3, padding = same>`: `Conv2D` takes an image (C, H, W), but receives a sequence (20, 8) from `Embedding<100, 8>` (layer 1)\n  = help: for a sequence (T, F), write `Conv1D<16, 3, padding = same>`: the same layer over steps");
        assert!(error("Input<20, 8>, MaxPool<2>").contains("write `MaxPool1D<2>`"));
        assert!(error("Input<2, 8, 8>, GlobalMaxPool1D").contains("write `GlobalMaxPool`"));
        assert!(error("Input<10>, Conv1D<4, 3>").contains("`Conv1D` takes a sequence (T, F), but receives a vector (10) from `Input<10>`\n  = help: `Conv1D` slides over steps"));
        assert!(error("Tokens<5>, Conv1D<4, 3>")
            .contains("token ids go through `Embedding<vocab, dim>` first"));
    }

    #[test]
    fn a_window_longer_than_the_sequence_names_the_layer_and_its_source() {
        assert_eq!(
            error("Input<4, 8>, Conv1D<8, 5>"),
            "layer 1, `Conv1D<8, 5>`: a 5-step kernel does not fit the 4 steps coming from `Input<4, 8>`"
        );
        assert_eq!(
            error("Input<10, 8>, MaxPool1D<2>, Conv1D<8, 3, dilation = 3>"),
            "layer 2, `Conv1D<8, 3, dilation = 3>`: a 3-step kernel (dilated to 7 steps) does not fit the 5 steps coming from `MaxPool1D<2>` (layer 1)"
        );
        assert_eq!(
            error("Input<3, 8>, AvgPool1D<6, padding = 1>"),
            "layer 1, `AvgPool1D<6, padding = 1>`: a 6-step pool window does not fit the 3 steps (5 with padding) coming from `Input<3, 8>`"
        );
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
        // Keras's tuples: Conv2D(8, (3, 5), strides=(2, 1)) on 28x28 -> (13, 24);
        // MaxPooling2D((2, 1)) -> (6, 24); Conv2D(8, (1, 3), padding="same",
        // dilation_rate=(1, 2)) keeps (6, 24); then 3x3 with padding 1 and a stride of 2
        // along the columns: (24 + 2 - 3) / 2 + 1 = 12.
        let inferred = outputs(
            "Input<3, 28, 28>, Conv2D<8, (3, 5), stride = (2, 1)>, MaxPool<(2, 1)>, \
             Conv2D<8, (1, 3), padding = same, dilation = (1, 2)>, Conv2D<8, 3, stride = (1, 2), padding = 1>",
        );
        assert_eq!(
            inferred,
            [
                vec![8, 13, 24],
                vec![8, 6, 24],
                vec![8, 6, 24],
                vec![8, 6, 12]
            ]
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
    fn flatten_makes_a_vector_and_passes_a_vector_through() {
        assert_eq!(outputs("Input<2, 3, 4>, Flatten")[0], [24]);
        assert_eq!(outputs("Input<5, 4>, Flatten")[0], [20]);
        // Keras accepts `Flatten` on a vector: it changes nothing.
        assert_eq!(
            outputs("Input<64>, Flatten, Dense<10>"),
            vec![vec![64], vec![10]]
        );
        let inferred = infer_str("Input<64>, Flatten").unwrap();
        assert_eq!(
            inferred.layers[0].1,
            Layer::Flatten {
                input: vec![64],
                n: 64
            }
        );
        // after a layer that gives a vector, too
        assert_eq!(outputs("Input<1, 8, 8>, GlobalAvgPool, Flatten")[1], [1]);
        // token ids still go through `Embedding` first
        assert!(error("Tokens<5>, Flatten")
            .contains("`Flatten` takes floating-point values, but receives token ids (5)"));
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
    fn a_rectangular_window_too_big_along_one_axis_says_which() {
        let msg = error("Input<1, 28, 4>, Conv2D<8, (3, 5)>");
        assert_eq!(msg, "layer 1, `Conv2D<8, (3, 5)>`: a 3x5 kernel does not fit the 28x4 input coming from `Input<1, 28, 4>`\n  = note: it fits the 28 rows but not the 4 columns");
        let msg = error("Input<1, 1, 9>, MaxPool<(2, 1)>");
        assert!(msg.ends_with("a 2x1 pool window does not fit the 1x9 input coming from `Input<1, 1, 9>`\n  = note: it fits the 9 columns but not the 1 row"), "{msg}");
        // Too big both ways: no note.
        assert!(!error("Input<1, 2, 2>, Conv2D<8, (3, 5)>").contains("note"));
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

    #[test]
    fn a_residual_block_keeps_or_projects_its_shape() {
        let shapes = outputs(
            "Input<8, 14, 14>, Residual<[Conv2D<8, 3, padding = same>, ReLU, Conv2D<8, 3, padding = same>]>, \
             Residual<[Conv2D<16, 3, stride = 2, padding = same>], shortcut = [Conv2D<16, 1, stride = 2>]>, \
             Flatten, Residual<[Dense<784>, ReLU]>",
        );
        assert_eq!(
            shapes,
            vec![vec![8, 14, 14], vec![16, 7, 7], vec![784], vec![784]]
        );
        // the block's layers are numbered within it
        let inferred = infer_str("Input<4>, Residual<[Dense<4>, ReLU]>").unwrap();
        match &inferred.layers[0].1 {
            Layer::Residual { block, shortcut } => {
                let numbers: Vec<usize> = block.iter().map(|(n, _, _)| *n).collect();
                assert_eq!(numbers, [1, 2]);
                assert!(shortcut.is_none());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_residual_block_that_changes_the_shape_says_so_and_suggests_a_projection() {
        let msg = error(
            "Input<1, 28, 28>, Conv2D<32, 3, padding = same>, MaxPool<2>, \
             Residual<[Conv2D<64, 3, stride = 2, padding = same>, ReLU]>",
        );
        assert_eq!(
            msg,
            "layer 3, `Residual<[Conv2D<64, 3, stride = 2, padding = same>, ReLU]>`: the block turns \
             (32, 14, 14) into (64, 7, 7); the sum with its input needs them equal\n  = help: project \
             the shortcut: `shortcut = [Conv2D<64, 1, stride = 2>]`"
        );
        let msg = error("Input<8>, Residual<[Dense<4>], shortcut = [Dense<5>]>");
        assert!(
            msg.ends_with(
                "the block turns (8) into (4) but the shortcut into (5); the sum needs them equal"
            ),
            "{msg}"
        );
        // a layer inside the block that does not fit is named by its place in the block
        let msg = error("Input<1, 4, 4>, Residual<[Conv2D<1, 5>]>");
        assert_eq!(msg, "layer 1.1, `Conv2D<1, 5>`: a 5x5 kernel does not fit the 4x4 input coming from `Input<1, 4, 4>`");
        let msg = error("Input<1, 8, 8>, Residual<[Conv2D<1, 3, padding = same>, Conv2D<1, 9>]>");
        assert!(
            msg.contains("coming from `Conv2D<1, 3, padding = same>` (layer 1.1)"),
            "{msg}"
        );
    }

    #[test]
    fn branches_merge_into_the_shapes_keras_gives() {
        // Inception: channels add up, height and width are kept.
        let inception = "Input<8, 14, 14>, Concat<[Conv2D<4, 1>], [Conv2D<6, 3, padding = same>, ReLU], [MaxPool<3, stride = 1, padding = same>], []>";
        assert_eq!(outputs(inception)[0], [4 + 6 + 8 + 8, 14, 14]);
        assert_eq!(outputs("Input<8>, Concat<[Dense<3>], [Dense<5>]>")[0], [8]);
        assert_eq!(
            outputs("Input<6, 4>, Concat<[Dense<3>], [LSTM<5, return_sequences>]>")[0],
            [6, 8]
        );
        for kind in ["Add", "Multiply", "Average", "Maximum"] {
            assert_eq!(
                outputs(&format!("Input<8>, {kind}<[Dense<4>], [Dense<4>, ReLU]>"))[0],
                [4]
            );
        }
        // Branch layers are numbered within their branch.
        let inferred = infer_str(inception).unwrap();
        match &inferred.layers[0].1 {
            Layer::Merge {
                branches, steps, ..
            } => {
                let numbers: Vec<Vec<usize>> = branches
                    .iter()
                    .map(|b| b.iter().map(|(n, _, _)| *n).collect())
                    .collect();
                assert_eq!(numbers, vec![vec![1], vec![1, 2], vec![1], vec![]]);
                assert_eq!(*steps, 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_network_with_several_inputs_starts_with_their_merge() {
        let inferred = infer_str(
            "Concat<[Input<1, 28, 28>, Conv2D<4, 3>, MaxPool<2>, Flatten], [Tokens<5>, Embedding<10, 8>, LSTM<16>]>, Dense<2>",
        )
        .unwrap();
        let shapes: Vec<Vec<usize>> = inferred.layers.iter().map(|(_, _, d)| d.list()).collect();
        assert_eq!(shapes, vec![vec![4 * 13 * 13 + 16], vec![2]]);
        match &inferred.layers[0].1 {
            Layer::Merge { route, .. } => assert_eq!(
                route,
                &MergeInput::Own(vec![Dims::Image(1, 28, 28), Dims::Tokens(5)])
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn merge_errors_name_the_branches_and_the_layer() {
        assert_eq!(
            error("Input<8, 14, 14>, Concat<[Conv2D<4, 1>], [Conv2D<4, 3, stride = 2>]>"),
            "layer 1, `Concat<[Conv2D<4, 1>], [Conv2D<4, 3, stride = 2>]>`: `Concat` joins images along their channels, so their heights and widths must agree, but branch 1 gives an image (4, 14, 14) and branch 2 an image (4, 6, 6)"
        );
        assert_eq!(
            error("Input<8, 14, 14>, Add<[Conv2D<4, 1>], [Conv2D<8, 1>]>"),
            "layer 1, `Add<[Conv2D<4, 1>], [Conv2D<8, 1>]>`: `Add` needs every branch to give the same shape, but branch 1 gives an image (4, 14, 14) and branch 2 gives an image (8, 14, 14)"
        );
        let msg = error("Input<8, 6, 6>, Concat<[Conv2D<4, 1>], [Flatten, Dense<4>]>");
        assert!(msg.contains("`Concat` joins images with images, vectors with vectors and sequences with sequences, but branch 1 gives an image (4, 6, 6) and branch 2 a vector (4)\n  = help: end branch 1 with `Flatten` (or `GlobalAvgPool`) to make the image a vector"), "{msg}");
        assert!(
            error("Input<6, 4>, Concat<[LSTM<3, return_sequences>], [Dense<3>, MaxPool<2>]>")
                .contains("layer 1.2.2, `MaxPool<2>`: `MaxPool` takes an image (C, H, W), but receives a sequence (6, 3) from `Dense<3>` (layer 1.2.1)")
        );
        // A branch's first layer hears of the block's input
        assert!(error("Input<1, 28, 28>, Conv2D<4, 3>, Concat<[Dense<3>], []>")
            .contains("layer 2.1.1, `Dense<3>`: `Dense` takes a vector (N) or a sequence (T, N), but receives an image (4, 26, 26) from `Conv2D<4, 3>` (layer 1)"));
        assert!(error("Input<4>, Concat<[Input<4>], [Input<4>]>").contains(
            "which only the network's first layer can do: a network's inputs come first"
        ));
        assert!(error("Tokens<5>, Concat<[], [Embedding<10, 4>]>")
            .contains("`Concat` takes floating-point values, but receives token ids (5)"));
        assert!(error("Concat<[Tokens<5>], [Input<3>]>")
            .contains("branch 1 gives token ids (5), but `Concat` merges floating-point values"));
        assert!(error(
            "Concat<[Input<1, 8, 8>, Conv2D<2, 9>], [Tokens<3>, Embedding<10, 4>, LSTM<4>]>"
        )
        .contains("layer 1.1.1, `Conv2D<2, 9>`: a 9x9 kernel does not fit the 8x8 input coming from `Input<1, 8, 8>`"));
    }
}
