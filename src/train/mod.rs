//! Training: the fit loop, losses, metrics, progress and checkpoints.
//!
//! [`Trainer`] is Keras's `compile` + `fit` for any dfdx model: pick an optimizer (dfdx's
//! `Adam`, `Sgd`, `RMSprop`), a [`Loss`], epochs, batch size, validation, callbacks
//! ([`EarlyStopping`], [`ModelCheckpoint`], an [`LrSchedule`]); `fit` returns a
//! [`History`] that writes itself as CSV or draws itself as an SVG. Checkpoints are
//! safetensors files, saved atomically ([`save_checkpoint`], [`load_checkpoint`]).
//! Every failure is a [`TrainError`].

pub(crate) mod atomic;
mod callbacks;
mod checkpoint;
mod error;
mod evaluate;
mod fit;
mod history;
mod last_layer;
mod loss;
mod module_tree;
mod monitor;
mod params;
pub(crate) mod plot;
mod progress;
mod pytorch;
mod schedule;
mod trainer;
mod vocabulary;

pub use callbacks::{EarlyStopping, ModelCheckpoint};
pub use checkpoint::{load_checkpoint, save_checkpoint};
pub use error::TrainError;
pub use history::{EpochStats, History, Metrics};
pub use loss::Loss;
pub use monitor::Monitor;
pub use params::{gradient, param, tensor_specs, HostTensor, TensorSpec};
pub use progress::Verbosity;
pub use pytorch::{export_pytorch, import_pytorch, pytorch_modules, PyTorchModule};
pub use schedule::{LearningRate, LrSchedule};
pub use trainer::{Classifier, InputNotSet, Trainer};

/// dfdx's optimizers and their settings, for `Trainer::new(&mut model, Adam::new(&model, ..))`.
pub use dfdx::optim::{
    Adam, AdamConfig, Momentum, RMSprop, RMSpropConfig, Sgd, SgdConfig, WeightDecay,
};
