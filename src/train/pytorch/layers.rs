//! Which PyTorch module each typenet layer becomes, and how its tensors are named and laid
//! out there: the one place that knows layers one by one (a new layer kind is one arm here).
//!
//! A network's layers are read from its type
//! ([`module_tree`](super::super::module_tree::module_tree)): the leaves of its tree of
//! `Chain`s and `Numbered` layers, in order, tensor-less ones (activations, pooling,
//! `Flatten`) included, since each takes a place in an `nn.Sequential` and so shifts the
//! indices of the modules after it. Each leaf becomes exactly one PyTorch module at the next
//! index. A layer kind is recognised by its type's path, as the trainer's last-layer check
//! does; its tensors' names and shapes come from the model itself.

use super::super::error::TrainError;
use super::super::module_tree::{base, is, is_identity, is_sequence, unfused, Node};
use super::super::params::Snapshot;
use crate::layers;
use dfdx::nn::modules;
use dfdx::prelude::Cpu;
use std::any::type_name;

/// One PyTorch module of the `nn.Sequential` a network is exported as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PyTorchModule {
    /// Its index in the `nn.Sequential`, the first part of its tensors' names there.
    pub index: usize,
    /// The typenet layer's number, as the summary and checkpoints give it (`1` for both
    /// the `Conv2D` and the `ReLU` of `Conv2D<32, 3, activation = relu>`).
    pub layer: String,
    /// The typenet layer, as a user knows it: `Conv2D`, `ReLU`, `LSTM`.
    pub name: &'static str,
    /// The PyTorch module to put at `index`: `nn.Conv2d`, `nn.ReLU`, `nn.LSTM`
    /// (`batch_first=True`, with a `forward` that returns only the output; see the README).
    pub torch: &'static str,
    /// The names of its tensors in the `state_dict`, e.g. `0.weight`, `0.bias`.
    pub tensors: Vec<String>,
}

/// How one tensor (or a pair) of PyTorch's `state_dict` relates to typenet's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Link {
    /// PyTorch's `theirs` holds typenet's `ours`, the same values in the same row-major
    /// order; `shape` is PyTorch's (a recurrent `(G, U, F)` is PyTorch's `(G*U, F)`).
    Same {
        ours: String,
        theirs: String,
        shape: Vec<usize>,
    },
    /// typenet's one bias per gate where PyTorch has two that it adds (`bias_ih`,
    /// `bias_hh` of an LSTM or a simple RNN): exported as `ih` = ours, `hh` = 0; imported as
    /// their sum.
    SummedBias {
        ours: String,
        ih: String,
        hh: String,
        len: usize,
    },
    /// A batch norm's `num_batches_tracked`, which typenet does not keep (its momentum is
    /// fixed, PyTorch reads the counter only with `momentum=None`): exported as 0, not
    /// required on import, ignored.
    BatchCounter { theirs: String },
}

impl Link {
    /// PyTorch's names of the tensors this link covers.
    pub(crate) fn theirs(&self) -> Vec<&str> {
        match self {
            Link::Same { theirs, .. } | Link::BatchCounter { theirs } => vec![theirs],
            Link::SummedBias { ih, hh, .. } => vec![ih, hh],
        }
    }

    /// typenet's name of the tensor this link covers, if any.
    fn ours(&self) -> Option<&str> {
        match self {
            Link::Same { ours, .. } | Link::SummedBias { ours, .. } => Some(ours),
            Link::BatchCounter { .. } => None,
        }
    }
}

/// The PyTorch modules of the model whose module tree is `tree` and whose tensors are in
/// `snapshot`, with the links between the two sets of names; an error for a layer an
/// `nn.Sequential` cannot hold or that this mapping does not know.
pub(crate) fn modules<E>(
    tree: &Node,
    snapshot: &Snapshot<E>,
) -> Result<Vec<(PyTorchModule, Vec<Link>)>, TrainError> {
    let mut leaves = Vec::new();
    collect_leaves(tree, "", &mut leaves);
    let shape = |name: &str| {
        snapshot
            .tensors
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.shape.clone())
    };
    let mut out = Vec::with_capacity(leaves.len());
    for (index, (label, type_name)) in leaves.into_iter().enumerate() {
        let (name, torch, links) = layer(unfused(type_name), &label, index, &shape)
            .ok_or_else(|| unsupported(&label, type_name))?;
        let module = PyTorchModule {
            index,
            layer: label,
            name,
            torch,
            tensors: links
                .iter()
                .flat_map(|l| l.theirs())
                .map(String::from)
                .collect(),
        };
        out.push((module, links));
    }
    // Every tensor of the model must have gone somewhere: a layer whose tensors the arms
    // below do not all name (a new field) is refused rather than exported without them.
    if let Some(left) = snapshot.tensors.iter().find(|t| {
        !out.iter()
            .flat_map(|(_, links)| links)
            .any(|l| l.ours() == Some(t.name.as_str()))
    }) {
        let layer = out
            .iter()
            .rev()
            .find(|(m, _)| !m.layer.is_empty() && left.name.starts_with(&format!("{}.", m.layer)))
            .map_or_else(String::new, |(m, _)| m.layer.clone());
        return Err(TrainError::NoPyTorchEquivalent {
            layer,
            name: format!("a layer holding `{}`", left.name),
        });
    }
    Ok(out)
}

/// The layers of a network in order, each with its label (`3`, or `1.3` for a network in
/// place 1 of a dfdx tuple): the leaves below the modules that run in sequence.
fn collect_leaves(node: &Node, path: &str, out: &mut Vec<(String, &'static str)>) {
    let path = match (path.is_empty(), node.name.is_empty()) {
        (_, true) => path.to_string(),
        (true, false) => node.name.clone(),
        (false, false) => format!("{path}.{}", node.name),
    };
    if is_identity(node.type_name) {
    } else if is_sequence(node.type_name) {
        for child in &node.children {
            collect_leaves(child, &path, out);
        }
    } else {
        out.push((path, node.type_name));
    }
}

/// The typenet name, the PyTorch module and the links of the layer of type `type_name`
/// labelled `label`, at `index` of the `nn.Sequential`; `None` for a layer with no
/// counterpart there.
fn layer(
    type_name: &str,
    label: &str,
    index: usize,
    shape: &dyn Fn(&str) -> Option<Vec<usize>>,
) -> Option<(&'static str, &'static str, Vec<Link>)> {
    let ours = |field: &str| match label {
        "" => field.to_string(),
        _ => format!("{label}.{field}"),
    };
    let theirs = |field: &str| format!("{index}.{field}");
    // Same name, same shape.
    let same = |ours_field: &str, theirs_field: &str| {
        let ours = ours(ours_field);
        shape(&ours).map(|shape| Link::Same {
            ours,
            theirs: theirs(theirs_field),
            shape,
        })
    };
    let no_tensors = |name, torch| Some((name, torch, Vec::new()));

    if is::<layers::DenseModule<1, 1, f32, Cpu>>(type_name)
        || is::<modules::Linear<1, 1, f32, Cpu>>(type_name)
    {
        let links = vec![same("weight", "weight")?, same("bias", "bias")?];
        return Some(("Dense", "nn.Linear", links));
    }
    if is::<layers::Conv2DModule<1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, f32, Cpu>>(type_name) {
        let links = vec![same("weight", "weight")?, same("bias", "bias")?];
        return Some(("Conv2D", "nn.Conv2d", links));
    }
    if is::<layers::EmbeddingModule<1, 1, f32, Cpu>>(type_name) {
        return Some(("Embedding", "nn.Embedding", vec![same("weight", "weight")?]));
    }
    if is::<layers::BatchNormModule<(), ()>>(type_name) {
        let (name, torch) = if type_name.contains("BatchNorm2D<") {
            ("BatchNorm2D", "nn.BatchNorm2d")
        } else {
            ("BatchNorm1D", "nn.BatchNorm1d")
        };
        let links = vec![
            same("scale", "weight")?,
            same("bias", "bias")?,
            same("running_mean", "running_mean")?,
            same("running_var", "running_var")?,
            Link::BatchCounter {
                theirs: theirs("num_batches_tracked"),
            },
        ];
        return Some((name, torch, links));
    }
    if is::<layers::LstmModule<1, 1, false, f32, Cpu>>(type_name) {
        return recurrent(&[("", "")], &ours, &theirs, shape);
    }
    if is::<layers::BidirectionalModule<(), 2>>(type_name) {
        let directions = [("forward.", ""), ("backward.", "_reverse")];
        let (name, torch, links) = recurrent(&directions, &ours, &theirs, shape)?;
        let name = match name {
            "LSTM" => "Bidirectional(LSTM)",
            "GRU" => "Bidirectional(GRU)",
            _ => "Bidirectional(SimpleRNN)",
        };
        return Some((name, torch, links));
    }

    // Layers without tensors: their place in the `nn.Sequential` is all that matters.
    let tensorless: [(&str, &'static str, &'static str); 14] = [
        (type_name_of::<layers::ReLU>(), "ReLU", "nn.ReLU"),
        (type_name_of::<modules::ReLU>(), "ReLU", "nn.ReLU"),
        (
            type_name_of::<layers::LeakyReLU<0>>(),
            "LeakyReLU",
            "nn.LeakyReLU",
        ),
        (type_name_of::<modules::Sigmoid>(), "Sigmoid", "nn.Sigmoid"),
        (type_name_of::<modules::Tanh>(), "Tanh", "nn.Tanh"),
        (
            type_name_of::<modules::Softmax>(),
            "Softmax",
            "nn.Softmax(dim=-1)",
        ),
        (type_name_of::<modules::AccurateGeLU>(), "GELU", "nn.GELU"),
        (
            type_name_of::<layers::MaxPool2D<1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1>>(),
            "MaxPool2D",
            "nn.MaxPool2d",
        ),
        (
            type_name_of::<layers::AvgPool2D<1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1>>(),
            "AvgPool2D",
            "nn.AvgPool2d",
        ),
        (
            type_name_of::<layers::GlobalAvgPool<1, 1, 1>>(),
            "GlobalAvgPool",
            "GlobalAvgPool (mean over H, W)",
        ),
        (
            type_name_of::<layers::GlobalMaxPool<1, 1, 1>>(),
            "GlobalMaxPool",
            "GlobalMaxPool (max over H, W)",
        ),
        (
            type_name_of::<layers::Flatten<(), 1>>(),
            "Flatten",
            "nn.Flatten",
        ),
        (
            type_name_of::<layers::Dropout<0, 1>>(),
            "Dropout",
            "nn.Dropout",
        ),
        (
            type_name_of::<layers::ImageToSequence<1, 1, 1, 1, 1>>(),
            "ToSequence",
            "ImageToSequence (permute, flatten)",
        ),
    ];
    // Pooling layers differ only in their mode (`Pool2D<Max, ..>`, `GlobalPool<Avg, ..>`),
    // so these compare the first generic argument too.
    tensorless
        .into_iter()
        .find(|(known, _, _)| base(known) == base(type_name) && mode(known) == mode(type_name))
        .and_then(|(_, name, torch)| no_tensors(name, torch))
}

/// The type name of `T`.
fn type_name_of<T>() -> &'static str {
    type_name::<T>()
}

/// The first generic argument of a pooling layer (its mode), else `""`.
fn mode(type_name: &str) -> &str {
    let is_pool = base(type_name).ends_with("Pool2D") || base(type_name).ends_with("GlobalPool");
    match type_name.split_once('<') {
        Some((_, args)) if is_pool => args.split(',').next().unwrap_or(""),
        _ => "",
    }
}

/// An LSTM, GRU or simple RNN (one direction per entry of `directions`: typenet's field
/// prefix and PyTorch's name suffix), told apart by its gate count `G` in `w_ih` `(G, U, F)`.
fn recurrent(
    directions: &[(&str, &str)],
    ours: &dyn Fn(&str) -> String,
    theirs: &dyn Fn(&str) -> String,
    shape: &dyn Fn(&str) -> Option<Vec<usize>>,
) -> Option<(&'static str, &'static str, Vec<Link>)> {
    let mut links = Vec::new();
    let mut gates = 0;
    for (prefix, suffix) in directions {
        let field = |f: &str| ours(&format!("{prefix}{f}"));
        let torch = |f: &str| theirs(&format!("{f}_l0{suffix}"));
        // (G, U, n) is PyTorch's (G*U, n); (G, U) its (G*U).
        let merged = |s: Vec<usize>| -> Vec<usize> {
            std::iter::once(s[0] * s[1])
                .chain(s[2..].iter().copied())
                .collect()
        };
        let w_ih = shape(&field("w_ih"))?;
        gates = w_ih[0];
        for (f, t) in [("w_ih", "weight_ih"), ("w_hh", "weight_hh")] {
            links.push(Link::Same {
                ours: field(f),
                theirs: torch(t),
                shape: merged(shape(&field(f))?),
            });
        }
        let bias = merged(shape(&field("bias"))?);
        match shape(&field("recurrent_bias")) {
            // The GRU keeps both of PyTorch's biases (the recurrent one sits inside the
            // reset gate's product, so the two do not add up).
            Some(recurrent) => {
                links.push(Link::Same {
                    ours: field("bias"),
                    theirs: torch("bias_ih"),
                    shape: bias,
                });
                links.push(Link::Same {
                    ours: field("recurrent_bias"),
                    theirs: torch("bias_hh"),
                    shape: merged(recurrent),
                });
            }
            None => links.push(Link::SummedBias {
                ours: field("bias"),
                ih: torch("bias_ih"),
                hh: torch("bias_hh"),
                len: bias[0],
            }),
        }
    }
    let (name, torch) = match gates {
        4 => ("LSTM", "nn.LSTM"),
        3 => ("GRU", "nn.GRU"),
        _ => ("SimpleRNN", "nn.RNN"),
    };
    Some((name, torch, links))
}

/// The error for a layer with no counterpart: `Residual` for `typenet::layers::..::Residual<..>`.
fn unsupported(label: &str, type_name: &str) -> TrainError {
    let short = base(type_name).rsplit("::").next().unwrap_or(type_name);
    TrainError::NoPyTorchEquivalent {
        layer: label.to_string(),
        name: short.trim_end_matches("Module").to_string(),
    }
}
