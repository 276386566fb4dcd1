//! typenet: a neural network is a type.
//!
//! `network![Input<1, 28, 28>, Conv2D<32, 3>, MaxPool<2>, Flatten, Dense<10>]` expands to a
//! type-level tree of numbered layers whose every tensor shape the macro has inferred and checked.
//! The result builds into ordinary dfdx modules that train with dfdx's optimizers.

// dfdx tensor types with their shapes and tapes are long by nature.
#![allow(clippy::type_complexity)]

// The macro's expansion names `::typenet`, in this crate's own tests too.
extern crate self as typenet;

pub mod chain;
pub mod data;
pub mod layers;
pub mod numbered;
pub mod ops;
/// The window arithmetic (output sizes, `same` padding) that the macro and the layer types share.
pub use typenet_shape as shape;
pub mod summary;
pub mod train;

pub use chain::{Chain, End};
pub use numbered::Numbered;
pub use summary::{Network, Summary};
pub use typenet_macros::network;

/// Re-exported so that users and the macro's expansion name one dfdx.
pub use dfdx;

/// `use typenet::prelude::*;` brings dfdx's prelude, the `network!` macro and typenet's
/// layer types (whose names take precedence over dfdx's modules of the same name).
pub mod prelude {
    pub use crate::chain::{Chain, End};
    pub use crate::data::{Dataset, Mnist, Samples, Tokens};
    pub use crate::layers::{
        Activation, BatchNorm1D, BatchNorm2D, Dense, Dropout, Embedding, Flatten, GlobalAvgPool,
        GlobalMaxPool, LayerInfo, LeakyReLU, ReLU, GELU,
    };
    pub use crate::network;
    pub use crate::numbered::Numbered;
    pub use crate::summary::Network;
    pub use crate::train::{
        load_checkpoint, save_checkpoint, EarlyStopping, History, Loss, LrSchedule,
        ModelCheckpoint, Monitor, Trainer, Verbosity,
    };
    pub use dfdx::optim::{
        Adam, AdamConfig, Momentum, Optimizer, RMSprop, RMSpropConfig, Sgd, SgdConfig, WeightDecay,
    };
    pub use dfdx::prelude::*;
}
