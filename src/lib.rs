//! typenet: a neural network is a type.
//!
//! `network![Input<1, 28, 28>, Conv2D<32, 3>, MaxPool<2>, Flatten, Dense<10>]` expands to a
//! type-level list of layers whose every tensor shape the macro has inferred and checked.
//! The result builds into ordinary dfdx modules that train with dfdx's optimizers.

pub mod chain;
pub mod data;
pub mod layers;
pub mod ops;
pub mod shape;
pub mod train;

pub use chain::{Chain, End};
pub use typenet_macros::network;

/// Re-exported so that users and the macro's expansion name one dfdx.
pub use dfdx;

pub mod prelude {
    pub use crate::chain::{Chain, End};
    pub use crate::data::{Dataset, Mnist, Samples};
    pub use crate::network;
    pub use crate::train::{
        load_checkpoint, save_checkpoint, EarlyStopping, History, Loss, LrSchedule,
        ModelCheckpoint, Monitor, Trainer, Verbosity,
    };
    pub use dfdx::prelude::*;
}
