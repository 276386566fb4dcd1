//! A network's weights as the `state_dict` of the equivalent PyTorch `nn.Sequential`, in a
//! safetensors file, both ways.
//!
//! Each layer of the network is one module of the `nn.Sequential`, in order, tensor-less
//! layers included ([`layers`] says which module and how its tensors are named). The file
//! is written as [`save_checkpoint`](super::save_checkpoint) writes: atomically, never with
//! NaN or infinity; it is read as [`load_checkpoint`](super::load_checkpoint) reads: nothing
//! is loaded unless every name, shape and dtype matches.

mod layers;

pub use layers::PyTorchModule;

use super::checkpoint::{check_view, non_finite, write_safetensors, FileTensor};
use super::error::TrainError;
use super::module_tree::module_tree;
use super::params::{self, HostTensor, Snapshot};
use crate::layers::recurrent::sum_biases;
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::prelude::{Device, Dtype};
use layers::Link;
use safetensors::{Dtype as FileDtype, SafeTensors};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The `nn.Sequential` that `model` is exported as: one [`PyTorchModule`] per layer, in
/// order, with the names of its tensors in the `state_dict`.
///
/// A layer that an `nn.Sequential` cannot hold (a residual block, a merge of branches) is
/// [`TrainError::NoPyTorchEquivalent`].
///
/// ```
/// use typenet::prelude::*;
/// use typenet::train::pytorch_modules;
/// type Net = network![Input<1, 8, 8>, Conv2D<4, 3, activation = relu>, MaxPool<2>, Flatten, Dense<2>];
/// let model = Cpu::default().build_module::<Net, f32>();
/// let modules = pytorch_modules(&model)?;
/// let torch: Vec<&str> = modules.iter().map(|m| m.torch).collect();
/// assert_eq!(torch, ["nn.Conv2d", "nn.ReLU", "nn.MaxPool2d", "nn.Flatten", "nn.Linear"]);
/// assert_eq!(modules[4].layer, "4"); // typenet's layer 4 is the Sequential's module 4
/// assert_eq!(modules[4].tensors, ["4.weight", "4.bias"]);
/// assert_eq!(modules[0].tensors, ["0.weight", "0.bias"]);
/// # Ok::<(), typenet::train::TrainError>(())
/// ```
pub fn pytorch_modules<M, E, D>(model: &M) -> Result<Vec<PyTorchModule>, TrainError>
where
    M: TensorCollection<E, D>,
    E: Dtype,
    D: Device<E>,
{
    let snapshot = params::read(model);
    Ok(layers::modules(&module_tree::<M, E, D>(), &snapshot)?
        .into_iter()
        .map(|(module, _)| module)
        .collect())
}

/// Saves `model`'s weights as the `state_dict` of the equivalent PyTorch `nn.Sequential`
/// ([`pytorch_modules`] lists it), `f32`, in a safetensors file that
/// `model.load_state_dict(safetensors.torch.load_file(path))` loads.
///
/// Names are PyTorch's (`0.weight`, `3.running_var`, `5.weight_ih_l0`), shapes too (a
/// recurrent `(G, U, F)` weight is `(G*U, F)`). An LSTM's or simple RNN's one bias per gate
/// is saved as `bias_ih_l0`, with `bias_hh_l0` zero (PyTorch adds the two); a batch norm's
/// `num_batches_tracked` is 0, its epsilon and momentum are not saved (PyTorch keeps them in
/// the module, and typenet's equal PyTorch's defaults, 1e-5 and 0.1). The save is atomic
/// and refuses NaN or infinity, as [`save_checkpoint`](super::save_checkpoint)'s.
pub fn export_pytorch<M, E, D>(model: &M, path: impl AsRef<Path>) -> Result<(), TrainError>
where
    M: TensorCollection<E, D>,
    E: Dtype,
    D: Device<E>,
{
    let path = path.as_ref();
    let snapshot = params::read(model);
    if let Some(tensor) = snapshot.first_non_finite() {
        return Err(TrainError::NonFiniteCheckpoint {
            path: path.into(),
            tensor: tensor.into(),
        });
    }
    let modules = layers::modules(&module_tree::<M, E, D>(), &snapshot)?;
    let values: HashMap<&str, &HostTensor<E>> = snapshot
        .tensors
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let f32_bytes = |values: &[E]| -> Vec<u8> {
        values
            .iter()
            .flat_map(|v| v.to_f32().unwrap_or(f32::NAN).to_le_bytes())
            .collect()
    };
    let mut owned: Vec<FileTensor> = Vec::new();
    for link in modules.iter().flat_map(|(_, links)| links) {
        match link {
            Link::Same {
                ours,
                theirs,
                shape,
            } => owned.push((
                theirs.clone(),
                FileDtype::F32,
                shape.clone(),
                f32_bytes(&values[ours.as_str()].values),
            )),
            Link::SummedBias { ours, ih, hh, len } => {
                owned.push((
                    ih.clone(),
                    FileDtype::F32,
                    vec![*len],
                    f32_bytes(&values[ours.as_str()].values),
                ));
                owned.push((hh.clone(), FileDtype::F32, vec![*len], vec![0; 4 * len]));
            }
            Link::BatchCounter { theirs } => owned.push((
                theirs.clone(),
                FileDtype::I64,
                Vec::new(),
                0i64.to_le_bytes().to_vec(),
            )),
        }
    }
    let metadata = HashMap::from([
        // What `safetensors.torch.save_file` writes: these are PyTorch's tensors.
        ("format".to_string(), "pt".to_string()),
        ("typenet_layers".to_string(), describe(&modules)),
    ]);
    write_safetensors(path, &owned, Some(metadata))
}

/// Loads a PyTorch `state_dict` of the equivalent `nn.Sequential` (one written by
/// [`export_pytorch`], or by `safetensors.torch.save_file(model.state_dict(), path)`) into
/// `model`.
///
/// Nothing is loaded unless the file matches: every tensor [`pytorch_modules`] names must be
/// in the file, `f32`, with PyTorch's shape, and the file must hold no other
/// ([`TrainError::MissingTensor`], [`TrainError::UnexpectedTensor`],
/// [`TrainError::ShapeMismatch`], [`TrainError::DtypeMismatch`], all naming PyTorch's
/// tensor). An LSTM's or simple RNN's `bias_ih_l0` and `bias_hh_l0` are loaded as their sum,
/// as [`RecurrentModule::load_pytorch`](crate::layers::RecurrentModule::load_pytorch) loads
/// them; a batch norm's `num_batches_tracked` may be absent and is ignored.
pub fn import_pytorch<M, E, D>(model: &mut M, path: impl AsRef<Path>) -> Result<(), TrainError>
where
    M: TensorCollection<E, D>,
    E: Dtype,
    D: Device<E>,
{
    let path = path.as_ref();
    let ours = params::read(model);
    let modules = layers::modules(&module_tree::<M, E, D>(), &ours)?;
    let bytes = std::fs::read(path).map_err(TrainError::io(path))?;
    let file = SafeTensors::deserialize(&bytes).map_err(|source| TrainError::Safetensors {
        path: path.into(),
        source,
    })?;
    let shape_of = |name: &str| {
        ours.tensors
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.shape.clone())
            .unwrap_or_default()
    };
    let read = |name: &str, shape: &[usize]| -> Result<Vec<E>, TrainError> {
        let view = file.tensor(name).map_err(|_| TrainError::MissingTensor {
            path: path.into(),
            tensor: name.into(),
        })?;
        check_view(&view, name, FileDtype::F32, shape, path)?;
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if !values.iter().all(|v| v.is_finite()) {
            return Err(non_finite(name, path));
        }
        Ok(values
            .into_iter()
            .map(|v| E::from_f32(v).unwrap_or_default())
            .collect())
    };
    let mut tensors = Vec::with_capacity(ours.tensors.len());
    for link in modules.iter().flat_map(|(_, links)| links) {
        match link {
            Link::Same {
                ours,
                theirs,
                shape,
            } => tensors.push(HostTensor {
                name: ours.clone(),
                shape: shape_of(ours),
                values: read(theirs, shape)?,
            }),
            Link::SummedBias { ours, ih, hh, len } => tensors.push(HostTensor {
                name: ours.clone(),
                shape: shape_of(ours),
                values: sum_biases(&read(ih, &[*len])?, &read(hh, &[*len])?),
            }),
            Link::BatchCounter { theirs } => {
                if let Ok(view) = file.tensor(theirs) {
                    if !view.shape().is_empty() {
                        return Err(TrainError::ShapeMismatch {
                            path: path.into(),
                            tensor: theirs.clone(),
                            expected: Vec::new(),
                            found: view.shape().to_vec(),
                        });
                    }
                }
            }
        }
    }
    let expected: HashSet<&str> = modules
        .iter()
        .flat_map(|(_, links)| links)
        .flat_map(Link::theirs)
        .collect();
    let mut names = file.names();
    names.sort();
    if let Some(extra) = names.into_iter().find(|n| !expected.contains(n.as_str())) {
        return Err(TrainError::UnexpectedTensor {
            path: path.into(),
            tensor: extra.clone(),
        });
    }
    params::write(
        model,
        &Snapshot {
            tensors,
            scalars: Vec::new(),
        },
    );
    Ok(())
}

/// `0=1 Conv2D nn.Conv2d; 1=1 ReLU nn.ReLU; ..`: the file's modules, for a reader of its
/// metadata.
fn describe(modules: &[(PyTorchModule, Vec<Link>)]) -> String {
    modules
        .iter()
        .map(|(m, _)| format!("{}={} {} {}", m.index, m.layer, m.name, m.torch))
        .collect::<Vec<_>>()
        .join("; ")
}
