//! The typed errors of saliency, integrated gradients and heat maps.

use std::path::PathBuf;

/// What can go wrong explaining a model's outputs or drawing the explanation.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// One class must be named per sample of the batch.
    #[error(
        "{classes} classes were given for a batch of {batch} samples; give one class per sample"
    )]
    ClassCount {
        /// The number of classes given.
        classes: usize,
        /// The batch size of the input.
        batch: usize,
    },

    /// A class is not one of the model's outputs.
    #[error("sample {sample} asks for class {class}, but the model has {classes} outputs")]
    ClassOutOfRange {
        /// The sample's index in the batch.
        sample: usize,
        /// The class asked for.
        class: usize,
        /// The model's number of outputs per sample.
        classes: usize,
    },

    /// The model's output is not one row of class scores per sample, `(batch, classes)`.
    #[error("the model's output has shape {shape:?}, not (batch, classes): a class score is one entry of a row per sample")]
    OutputShape {
        /// The output's dimensions.
        shape: Vec<usize>,
    },

    /// The input has no batch axis (a rank-0 tensor).
    #[error("the input is a scalar; give a batch, e.g. (batch, channels, height, width)")]
    NoBatch,

    /// Integrated gradients need at least one step along the path.
    #[error("integrated gradients need at least 1 step")]
    NoSteps,

    /// Two tensors that must have one shape (an input and its baseline, or an image and its
    /// saliency) do not.
    #[error("the {what} has shape {found:?} but the input has shape {expected:?}")]
    ShapeMismatch {
        /// Which tensor: `baseline` or `saliency`.
        what: &'static str,
        /// The input's dimensions.
        expected: Vec<usize>,
        /// The other tensor's dimensions.
        found: Vec<usize>,
    },

    /// A heat map needs a batch of images of at least (batch, width) and a scale of 1 or more.
    #[error("cannot draw a heat map of shape {shape:?} at scale {scale}: give (batch, [channels,] height, width) and a scale of at least 1")]
    NotAnImage {
        /// The tensor's dimensions.
        shape: Vec<usize>,
        /// The scale asked for.
        scale: u32,
    },

    /// The device failed (e.g. out of memory); the text is the device's error.
    #[error("device error: {0}")]
    Device(String),

    /// A file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// The PNG encoder failed.
    #[error("{}: PNG encoding failed: {message}", path.display())]
    Png {
        /// The image file.
        path: PathBuf,
        /// What the encoder said.
        message: String,
    },
}

impl ExplainError {
    /// Wraps a device error (whose type depends on the device) as text.
    pub(crate) fn device(err: impl std::fmt::Debug) -> Self {
        ExplainError::Device(format!("{err:?}"))
    }
}
