//! The typed errors of training, evaluation, checkpoints and history output.

use crate::data::DataError;
use std::path::PathBuf;

/// What can go wrong training a model, saving or loading it, or writing its history.
///
/// Training never panics on bad data or a diverging loss; it returns one of these.
/// Tensors are named as dfdx names them (`0.weight`, `tail.head.bias`).
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The data could not be read or does not fit the model (see [`DataError`]).
    #[error(transparent)]
    Data(#[from] DataError),

    /// A label is not a class the model's output can name.
    #[error("sample {index} has label {label}, but the model's output has {classes} classes")]
    LabelOutOfRange {
        /// The sample's index in its data set.
        index: usize,
        /// Its label.
        label: usize,
        /// The number of classes the model distinguishes.
        classes: usize,
    },

    /// The loss became NaN or infinite; training stopped before the step's update, so no
    /// checkpoint holds weights from this step.
    #[error("the loss became {loss} at epoch {epoch}, step {step}; training stopped")]
    NonFiniteLoss {
        /// The epoch, from 1.
        epoch: usize,
        /// The step (batch) within the epoch, from 1.
        step: usize,
        /// The loss: NaN or an infinity.
        loss: f64,
    },

    /// A weight became NaN or infinite during an epoch although every loss was finite;
    /// training stopped before any checkpoint of it was written.
    #[error("tensor {tensor} became NaN or infinite during epoch {epoch}; training stopped")]
    NonFiniteWeights {
        /// The epoch, from 1.
        epoch: usize,
        /// The first such tensor.
        tensor: String,
    },

    /// A checkpoint was not written because a weight is NaN or infinite; the file that
    /// was there, if any, is untouched.
    #[error("{}: not saved, tensor {tensor} holds NaN or infinity", path.display())]
    NonFiniteCheckpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// The first such tensor.
        tensor: String,
    },

    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// A checkpoint is not a safetensors file.
    #[error("{}: not a safetensors checkpoint: {source}", path.display())]
    Safetensors {
        /// The checkpoint file.
        path: PathBuf,
        /// What the safetensors parser said.
        #[source]
        source: safetensors::SafeTensorError,
    },

    /// A checkpoint lacks a tensor the model has.
    #[error("{}: the checkpoint has no tensor {tensor}, which the model has", path.display())]
    MissingTensor {
        /// The checkpoint file.
        path: PathBuf,
        /// The model's tensor.
        tensor: String,
    },

    /// A checkpoint holds a tensor the model does not have.
    #[error("{}: the checkpoint has a tensor {tensor}, which the model lacks", path.display())]
    UnexpectedTensor {
        /// The checkpoint file.
        path: PathBuf,
        /// The file's tensor.
        tensor: String,
    },

    /// A checkpoint's tensor has another shape than the model's tensor of that name.
    #[error("{}: tensor {tensor} has shape {found:?} in the checkpoint but {expected:?} in the model", path.display())]
    ShapeMismatch {
        /// The checkpoint file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// Its shape in the model.
        expected: Vec<usize>,
        /// Its shape in the file.
        found: Vec<usize>,
    },

    /// A checkpoint's tensor has another element type than the model's.
    #[error("{}: tensor {tensor} is {found} in the checkpoint but {expected} in the model", path.display())]
    DtypeMismatch {
        /// The checkpoint file.
        path: PathBuf,
        /// The tensor.
        tensor: String,
        /// Its element type in the model, as safetensors names it (`F32`).
        expected: String,
        /// Its element type in the file.
        found: String,
    },

    /// A setting is invalid or contradicts another (e.g. early stopping on `val_loss`
    /// without validation data); the text says which.
    #[error("invalid training setting: {0}")]
    Config(String),

    /// The model has no tensors, so there is nothing to train and no device to train on.
    #[error("the model has no tensors")]
    NoParameters,

    /// The device failed (e.g. out of memory); the text is the device's error.
    #[error("device error: {0}")]
    Device(String),

    /// The optimizer refused to update (e.g. a parameter got no gradient).
    #[error("optimizer error: {0}")]
    Optimizer(String),

    /// Drawing a plot failed.
    #[error("{}: plotting failed: {message}", path.display())]
    Plot {
        /// The image file.
        path: PathBuf,
        /// What plotters or the PNG encoder said.
        message: String,
    },
}

impl TrainError {
    /// Wraps an I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| TrainError::Io { path, source }
    }

    /// Wraps a device error (whose type depends on the device) as text.
    pub(crate) fn device(err: impl std::fmt::Debug) -> Self {
        TrainError::Device(format!("{err:?}"))
    }
}
