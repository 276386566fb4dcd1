//! Checkpoints: a model's tensors in a safetensors file, saved atomically and loaded only
//! after every name, shape and dtype has been checked against the model.
//!
//! The file layout is dfdx's own (`SaveToSafetensors`): one tensor per dfdx path, scalars
//! such as a batch norm's epsilon as rank-0 `F64` tensors. Files written by dfdx load
//! here, and files written here load with dfdx.

use super::atomic::write_atomic;
use super::error::TrainError;
use super::params::{self, HostTensor, Snapshot};
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::prelude::{Device, Dtype};
use dfdx::tensor::safetensors::SafeDtype;
use safetensors::tensor::TensorView;
use safetensors::{Dtype as FileDtype, SafeTensors};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Saves every tensor of `model` to `path` in the safetensors format.
///
/// The save is atomic: the file is written as `<path>.<pid>.<n>.tmp` in the same
/// directory (a name no other writer uses, so two processes saving one path at once do not
/// mix their files), flushed to disk, then renamed over `path`, so a crash or a full disk
/// leaves the previous checkpoint intact. A model holding NaN or infinity is not saved
/// ([`TrainError::NonFiniteCheckpoint`]), so a diverged run never replaces a good file.
///
/// The element type `E` and the device `D` are read from the model's tensors. A model
/// without any (a network of activations, pooling and `Flatten` only) has none to read them
/// from: it is a `TensorCollection` for every `E` and `D`, so name them,
/// `save_checkpoint::<_, f32, Cpu>(&model, path)` (the file then holds no tensor). No
/// signature can infer them there: Rust has neither default type parameters on functions
/// nor specialization, and the built layers of such a model carry no element type.
///
/// ```
/// use typenet::dfdx::prelude::*;
/// use typenet::train::{load_checkpoint, save_checkpoint};
/// let dev = Cpu::default();
/// let model = dev.build_module::<Linear<4, 2>, f32>();
/// let path = std::env::temp_dir().join("typenet-doc-linear.safetensors");
/// save_checkpoint(&model, &path)?;
/// let mut copy = dev.build_module::<Linear<4, 2>, f32>();
/// load_checkpoint(&mut copy, &path)?;
/// assert_eq!(copy.weight.array(), model.weight.array());
///
/// // A model without tensors: name the element type and the device.
/// let activations = dev.build_module::<(ReLU, Tanh), f32>();
/// save_checkpoint::<_, f32, Cpu>(&activations, &path)?;
/// # Ok::<(), typenet::train::TrainError>(())
/// ```
pub fn save_checkpoint<M, E, D>(model: &M, path: impl AsRef<Path>) -> Result<(), TrainError>
where
    M: TensorCollection<E, D>,
    E: Dtype + SafeDtype,
    D: Device<E>,
{
    save_snapshot(&params::read(model), path.as_ref())
}

/// Saves tensors already copied from a model, as [`save_checkpoint`] does.
pub(crate) fn save_snapshot<E: Dtype + SafeDtype>(
    snapshot: &Snapshot<E>,
    path: &Path,
) -> Result<(), TrainError> {
    if let Some(tensor) = snapshot.first_non_finite() {
        return Err(TrainError::NonFiniteCheckpoint {
            path: path.into(),
            tensor: tensor.into(),
        });
    }
    write_safetensors(path, &file_tensors(snapshot), None)
}

/// Loads the tensors of a checkpoint written by [`save_checkpoint`] (or dfdx) into `model`.
///
/// Nothing is loaded unless the file matches the model: every tensor of the model must be
/// in the file with the same shape and dtype, and the file must hold no other tensor.
/// A checkpoint of another network fails with an error naming the first tensor that
/// differs and, for a shape, both shapes ([`TrainError::ShapeMismatch`]). A file holding
/// NaN or infinity is refused ([`TrainError::NonFiniteInCheckpoint`]), as saving refuses
/// such weights. Scalars the file lacks (older files) keep the model's values.
pub fn load_checkpoint<M, E, D>(model: &mut M, path: impl AsRef<Path>) -> Result<(), TrainError>
where
    M: TensorCollection<E, D>,
    E: Dtype + SafeDtype,
    D: Device<E>,
{
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(TrainError::io(path))?;
    let file = SafeTensors::deserialize(&bytes).map_err(|source| TrainError::Safetensors {
        path: path.into(),
        source,
    })?;
    let snapshot = decode(&file, &params::read(model), path)?;
    params::write(model, &snapshot);
    Ok(())
}

/// A snapshot's tensors and scalars in dfdx's layout.
fn file_tensors<E: Dtype + SafeDtype>(snapshot: &Snapshot<E>) -> Vec<FileTensor> {
    let tensors = snapshot.tensors.iter().map(|t| {
        let bytes: Vec<u8> = t
            .values
            .iter()
            .flat_map(|&v| SafeDtype::to_le_bytes(v))
            .collect();
        (t.name.clone(), E::safe_dtype(), t.shape.clone(), bytes)
    });
    let scalars = snapshot.scalars.iter().map(|(name, v)| {
        (
            name.clone(),
            FileDtype::F64,
            Vec::new(),
            v.to_le_bytes().to_vec(),
        )
    });
    tensors.chain(scalars).collect()
}

/// A tensor as a safetensors file holds it: name, dtype, dimensions, little-endian bytes.
pub(super) type FileTensor = (String, FileDtype, Vec<usize>, Vec<u8>);

/// Writes `tensors` to `path` as a safetensors file, with `metadata` in its header,
/// atomically: a failed write leaves what was at `path` as it was.
pub(super) fn write_safetensors(
    path: &Path,
    tensors: &[FileTensor],
    metadata: Option<HashMap<String, String>>,
) -> Result<(), TrainError> {
    let safetensors_error = |source| TrainError::Safetensors {
        path: path.into(),
        source,
    };
    let views = tensors
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            Ok((
                name.as_str(),
                TensorView::new(*dtype, shape.clone(), bytes)?,
            ))
        })
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()
        .map_err(safetensors_error)?;
    let bytes = safetensors::serialize(views, &metadata).map_err(safetensors_error)?;
    write_atomic(path, |file| file.write_all(&bytes)).map_err(TrainError::io(path))
}

/// Checks `file` against the model (described by `model`, a snapshot of it) and returns
/// the file's values as a snapshot, or the first difference as an error.
fn decode<E: Dtype + SafeDtype>(
    file: &SafeTensors,
    model: &Snapshot<E>,
    path: &Path,
) -> Result<Snapshot<E>, TrainError> {
    let owned = || PathBuf::from(path);
    let mut expected_names = HashSet::new();
    let mut tensors = Vec::with_capacity(model.tensors.len());
    for t in &model.tensors {
        expected_names.insert(t.name.as_str());
        let view = file
            .tensor(&t.name)
            .map_err(|_| missing(file, &t.name, path))?;
        check_view(&view, &t.name, E::safe_dtype(), &t.shape, path)?;
        let size = std::mem::size_of::<E>();
        let values: Vec<E> = (0..view.data().len() / size)
            .map(|i| <E as SafeDtype>::from_le_bytes(view.data(), i * size))
            .collect();
        if !values
            .iter()
            .all(|v| v.to_f64().is_some_and(f64::is_finite))
        {
            return Err(non_finite(&t.name, path));
        }
        tensors.push(HostTensor {
            name: t.name.clone(),
            shape: t.shape.clone(),
            values,
        });
    }
    let mut scalars = Vec::new();
    for (name, _) in &model.scalars {
        expected_names.insert(name.as_str());
        if let Ok(view) = file.tensor(name) {
            check_view(&view, name, FileDtype::F64, &[], path)?;
            let mut le = [0; 8];
            le.copy_from_slice(view.data());
            let value = f64::from_le_bytes(le);
            if !value.is_finite() {
                return Err(non_finite(name, path));
            }
            scalars.push((name.clone(), value));
        }
    }
    let mut names = file.names();
    names.sort();
    if let Some(extra) = names
        .into_iter()
        .find(|n| !expected_names.contains(n.as_str()))
    {
        return Err(TrainError::UnexpectedTensor {
            path: owned(),
            tensor: extra.clone(),
        });
    }
    Ok(Snapshot { tensors, scalars })
}

pub(super) fn non_finite(tensor: &str, path: &Path) -> TrainError {
    TrainError::NonFiniteInCheckpoint {
        path: path.into(),
        tensor: tensor.into(),
    }
}

/// The model's tensor `name` is not in the file: say so, or say that the file is of the old
/// naming scheme, where a missing name is expected.
fn missing(file: &SafeTensors, name: &str, path: &Path) -> TrainError {
    let legacy = file
        .names()
        .into_iter()
        .find(|n| n.split('.').any(|part| part == "head" || part == "tail"));
    match legacy {
        Some(old) => TrainError::LegacyCheckpoint {
            path: path.into(),
            tensor: old.clone(),
        },
        None => TrainError::MissingTensor {
            path: path.into(),
            tensor: name.into(),
        },
    }
}

pub(super) fn check_view(
    view: &TensorView,
    name: &str,
    dtype: FileDtype,
    shape: &[usize],
    path: &Path,
) -> Result<(), TrainError> {
    if view.dtype() != dtype {
        return Err(TrainError::DtypeMismatch {
            path: path.into(),
            tensor: name.into(),
            expected: format!("{dtype:?}"),
            found: format!("{:?}", view.dtype()),
        });
    }
    if view.shape() != shape {
        return Err(TrainError::ShapeMismatch {
            path: path.into(),
            tensor: name.into(),
            expected: shape.to_vec(),
            found: view.shape().to_vec(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::prelude::*;

    #[test]
    fn files_are_dfdx_compatible_both_ways() {
        let dir = tempfile::tempdir().unwrap();
        let dev = Cpu::seed_from_u64(1);
        type Net = (Linear<3, 4>, BatchNorm1D<4>);
        let ours = dev.build_module::<Net, f32>();
        save_checkpoint(&ours, dir.path().join("ours")).unwrap();
        let mut theirs = dev.build_module::<Net, f32>();
        theirs.load_safetensors(dir.path().join("ours")).unwrap();
        assert_eq!(theirs.0.weight.array(), ours.0.weight.array());

        theirs.save_safetensors(dir.path().join("theirs")).unwrap();
        let mut back = dev.build_module::<Net, f32>();
        load_checkpoint(&mut back, dir.path().join("theirs")).unwrap();
        assert_eq!(back.0.bias.array(), ours.0.bias.array());
    }

    #[test]
    fn a_different_dtype_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f64");
        let dev = Cpu::default();
        save_checkpoint(&dev.build_module::<Linear<2, 2>, f64>(), &path).unwrap();
        let err = load_checkpoint(&mut dev.build_module::<Linear<2, 2>, f32>(), &path).unwrap_err();
        assert!(
            matches!(&err, TrainError::DtypeMismatch { tensor, .. } if tensor == "weight"),
            "{err}"
        );
        assert!(
            err.to_string().contains("F64") && err.to_string().contains("F32"),
            "{err}"
        );
    }

    #[test]
    fn not_a_checkpoint_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk");
        std::fs::write(&path, b"\x05\0\0\0\0\0\0\0{junk").unwrap();
        let mut model = Cpu::default().build_module::<Linear<2, 2>, f32>();
        assert!(matches!(
            load_checkpoint(&mut model, &path),
            Err(TrainError::Safetensors { .. })
        ));
        assert!(matches!(
            load_checkpoint(&mut model, dir.path().join("absent")),
            Err(TrainError::Io { .. })
        ));
    }
}
