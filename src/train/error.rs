//! The typed errors of training, evaluation, checkpoints and history output.

use crate::data::DataError;
use std::path::PathBuf;

/// What can go wrong training a model, saving or loading it, or writing its history.
///
/// Training never panics on bad data or a diverging loss; it returns one of these.
/// Tensors are named by their path in the model: `5.weight` is the weight of a network's
/// layer 5 (the number compile errors and the summary give), `0.bias` the bias of the first
/// module of a dfdx tuple. Messages say "layer 5's weight".
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The data could not be read or does not fit the model (see [`DataError`]).
    #[error(transparent)]
    Data(#[from] DataError),

    /// The augmentation cannot transform the training data (see
    /// [`AugmentError`](crate::data::augment::AugmentError)); `fit` checks before any update.
    #[error("augmentation: {0}")]
    Augment(#[from] crate::data::augment::AugmentError),

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
    /// training stopped before any checkpoint of it was written, and the model was given back
    /// its weights from the start of that epoch.
    #[error("tensor {tensor} became NaN or infinite during epoch {epoch}; training stopped and the model holds its weights from before that epoch")]
    NonFiniteWeights {
        /// The epoch, from 1.
        epoch: usize,
        /// The first such tensor.
        tensor: String,
    },

    /// The validation loss is NaN or infinite although the weights are finite: the
    /// validation data holds NaN or infinite values (or values so large that the model's
    /// outputs overflow). Training stopped; no checkpoint of that epoch was written.
    #[error("the validation loss became {loss} at epoch {epoch} while every weight is finite; check the validation data for NaN or infinite values")]
    NonFiniteValidationLoss {
        /// The epoch, from 1.
        epoch: usize,
        /// The loss: NaN or an infinity.
        loss: f64,
    },

    /// A model with a batch norm (a tensor named `running_var`) would train on a batch of one
    /// sample, whose variance is undefined: dfdx's running-variance update divides by
    /// `n - 1 = 0` and fills the model with NaN. `fit` checks this before training. (A last
    /// batch of one sample left over by the batch size is merged into the batch before it
    /// instead; this error is for a batch size of 1 or a single training sample.)
    #[error("{} belongs to a batch norm, which cannot train on a batch of one sample (its variance is undefined); {}", place(tensor), if *batch_size == 1 { "use a batch size of 2 or more" } else { "train on at least 2 samples" })]
    BatchNormSingleSample {
        /// The batch norm's running variance.
        tensor: String,
        /// The batch size set.
        batch_size: usize,
        /// The number of training samples.
        samples: usize,
    },

    /// The loss expects the other kind of output than the model's last layer gives: a
    /// model ending in `Sigmoid` (or `Softmax`) gives probabilities, which
    /// `Loss::BinaryCrossentropy { from_logits: true }` would take for logits (it would apply
    /// a second sigmoid, and a binary classifier would predict 1 for every sample); a model
    /// ending in `Dense` gives logits, which `from_logits: false` would clip to [0, 1].
    /// `fit` checks this before any update, and `evaluate` and `predict_classes` before
    /// running the model. Where the last layer is a block (a residual sum, a merge) or a
    /// module typenet does not know, nothing is assumed.
    #[error("{}", mismatch(*loss, *suggested, layer, place, *probabilities))]
    LossMismatch {
        /// The loss set.
        loss: super::Loss,
        /// The loss that takes what the model gives.
        suggested: super::Loss,
        /// The model's last layer, as a user knows it: `Sigmoid`, `Dense`, `Linear`.
        layer: &'static str,
        /// Its place in the model: `3` for layer 3 of a network (or place 3 of a dfdx
        /// tuple), `1.2` nested; empty when the model is that layer alone.
        place: String,
        /// Whether the model's outputs are probabilities (it ends in `Sigmoid` or
        /// `Softmax`) rather than values not confined to [0, 1].
        probabilities: bool,
    },

    /// A loss on probabilities (`Loss::BinaryCrossentropy { from_logits: false }`) met an
    /// output outside [0, 1]: the model does not end in `Sigmoid`. In `fit` this stops
    /// training before that step's update.
    #[error("`Loss::BinaryCrossentropy {{ from_logits: false }}` takes probabilities in [0, 1], but the model output {value}: end the model in `Sigmoid`, or, if its outputs are logits, use `Loss::BinaryCrossentropy {{ from_logits: true }}`")]
    OutputNotProbability {
        /// The first output outside [0, 1].
        value: f64,
    },

    /// There is nothing to evaluate: the data set is empty, so loss and accuracy are
    /// undefined.
    #[error("no samples to evaluate: the data set is empty")]
    NoSamples,

    /// A checkpoint holds a NaN or infinite value; nothing was loaded and the model is
    /// unchanged. (Saving refuses such weights, so the file was written by another program,
    /// or is damaged.)
    #[error("{}: not loaded, {} holds NaN or infinity (a diverged run or a damaged file); the model is unchanged", path.display(), place(tensor))]
    NonFiniteInCheckpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// The first such tensor (or scalar).
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
    #[error("{}: the checkpoint has no {}, which the model has", path.display(), place(tensor))]
    MissingTensor {
        /// The checkpoint file.
        path: PathBuf,
        /// The model's tensor.
        tensor: String,
    },

    /// A checkpoint holds a tensor the model does not have.
    #[error("{}: the checkpoint has {}, which the model lacks", path.display(), place(tensor))]
    UnexpectedTensor {
        /// The checkpoint file.
        path: PathBuf,
        /// The file's tensor.
        tensor: String,
    },

    /// A checkpoint's tensor has another shape than the model's tensor of that name.
    #[error("{}: {} is {} in the model but {} in the checkpoint", path.display(), place(tensor), dims(expected), dims(found))]
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
    #[error("{}: {} is {expected} in the model but {found} in the checkpoint", path.display(), place(tensor))]
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

    /// A checkpoint written before networks named their tensors by layer number: its names
    /// follow the nested `Chain` of that time (`tail.tail.head.weight`), which says nothing
    /// about which layer a tensor belongs to, so it cannot be matched to the model.
    #[error("{}: {tensor} is named by the nested `head`/`tail` layout of typenet 0.1; networks now name tensors by layer number (`3.weight`), so this checkpoint cannot be matched to the model's layers: train the model again (or rename the file's tensors to their layer numbers)", path.display())]
    LegacyCheckpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// One of its tensors with an old name.
        tensor: String,
    },

    /// A layer has no counterpart in a PyTorch `nn.Sequential`, so the network cannot be
    /// exported to or imported from a PyTorch `state_dict`: a block (a residual sum, a merge
    /// of branches) that a `Sequential` cannot hold, or a module the mapping does not know.
    #[error("{} ({name}) has no PyTorch module in an nn.Sequential: the network cannot be exported to or imported from PyTorch", if layer.is_empty() { "the model".to_string() } else { format!("layer {layer}") })]
    NoPyTorchEquivalent {
        /// The layer's number (`4`, `1.3` nested); empty for a model that is one module.
        layer: String,
        /// The layer as a user knows it: `Residual`, `Parallel`.
        name: String,
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
        /// The plot file.
        path: PathBuf,
        /// What plotters said.
        message: String,
    },

    /// [`param`](super::param) or [`gradient`](super::gradient) was asked for a tensor the
    /// model does not have.
    #[error("the model has no tensor `{name}`{}", suggest(close, available))]
    UnknownTensor {
        /// The name asked for.
        name: String,
        /// The model's names closest to it (a likely typo), possibly none.
        close: Vec<String>,
        /// Every tensor name of the model, in dfdx's visiting order.
        available: Vec<String>,
    },

    /// [`gradient`](super::gradient) was asked for a tensor that gradients do not train (a
    /// batch norm's `running_mean` or `running_var`), so no backward pass gives it one.
    #[error(
        "{} is not trained by gradients (it is updated in the forward pass), so it has no gradient",
        place(tensor)
    )]
    NoGradient {
        /// The tensor.
        tensor: String,
    },
}

/// "; did you mean `3.weight`?" for close names, else the names there are.
fn suggest(close: &[String], available: &[String]) -> String {
    let quoted = |names: &[String], separator: &str| {
        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        names.join(separator)
    };
    match (close, available) {
        ([], []) => "; it has no tensors".to_string(),
        ([], _) => format!("; its tensors are {}", quoted(available, ", ")),
        _ => format!("; did you mean {}?", quoted(close, " or ")),
    }
}

/// "layer 5's weight" for `5.weight` (a network's layer, or a place in a dfdx tuple), else
/// "tensor `name`".
fn place(tensor: &str) -> String {
    match tensor.rsplit_once('.') {
        Some((layer, field)) if layer.split('.').all(|n| n.parse::<usize>().is_ok()) => {
            format!("layer {layer}'s {field}")
        }
        _ => format!("tensor `{tensor}`"),
    }
}

/// The message of [`TrainError::LossMismatch`]: what the model ends in, what that gives,
/// what the loss takes, and which loss to use instead.
fn mismatch(
    loss: super::Loss,
    suggested: super::Loss,
    layer: &str,
    place: &str,
    probabilities: bool,
) -> String {
    let at = if place.is_empty() {
        String::new()
    } else {
        format!(" (layer {place})")
    };
    let (gives, takes, or) = if probabilities {
        (
            "probabilities",
            "logits and applies the sigmoid itself",
            format!("or remove the `{layer}`"),
        )
    } else {
        (
            "not probabilities",
            "probabilities in [0, 1]",
            "or end the model in `Sigmoid`".to_string(),
        )
    };
    format!("the model ends in `{layer}`{at}, whose outputs are {gives}, but `Loss::{loss:?}` takes {takes}: use `Loss::{suggested:?}`, {or}")
}

/// `(64, 576)`.
fn dims(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("({})", dims.join(", "))
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
