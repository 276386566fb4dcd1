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
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod data;
pub mod explain;
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
///
/// dfdx's prelude is re-exported item by item but for one name: its `safetensors` module
/// (`dfdx::tensor::safetensors`), which a glob import would put in front of the
/// `safetensors` crate, so that `safetensors::SafeTensors` in a file that imports this
/// prelude would name dfdx's module and not the crate. The module is still
/// `typenet::dfdx::tensor::safetensors`.
pub mod prelude {
    pub use crate::chain::{Chain, End};
    pub use crate::data::{Dataset, MaskedTokens, Mnist, Samples, Tokens};
    pub use crate::layers::{
        Activation, BatchNorm1D, BatchNorm2D, Dense, Dropout, Embedding, Flatten, GlobalAvgPool,
        GlobalAvgPool1D, GlobalMaxPool, GlobalMaxPool1D, LayerInfo, LeakyReLU, ReLU, GELU,
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
    // dfdx::prelude::* without `dfdx::tensor::safetensors`.
    pub use dfdx::losses::*;
    pub use dfdx::nn::builders::*;
    pub use dfdx::optim::prelude::*;
    pub use dfdx::shapes::*;
    pub use dfdx::tensor::{
        AsArray, AutoDevice, Cache, CopySlice, Cpu, CpuError, Gradients, HasErr, Merge, NoneTape,
        OnesTensor, OwnedTape, PutTape, RandomU64, SampleTensor, SplitTape, Storage, Synchronize,
        Tape, Tensor, Tensor0D, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Tensor5D, Tensor6D,
        TensorFrom, TensorFromVec, TensorToArray, Trace, TriangleTensor, UniqueId, WithEmptyTape,
        ZerosTensor,
    };
    #[cfg(feature = "cuda")]
    pub use dfdx::tensor::{Cuda, CudaError};
    pub use dfdx::tensor_ops::*;
}
