//! The layers a `network!` is made of.
//!
//! Each layer is a zero-sized *builder* type that carries every dimension as a const
//! generic (what the macro writes, what `dev.build_module::<..>()` takes) and builds into a
//! module that is a plain struct of tensors, laid out and named as dfdx's own (`Dense` builds
//! a `DenseModule` with a `Linear`'s `weight` and `bias`). Layers that keep their input's shape carry the number of elements per
//! sample, `N`, so that the summary can count their cost from the type alone.

mod activation;
mod batch;
mod batchnorm;
mod conv1d;
mod conv2d;
mod dense;
mod dropout;
mod embedding;
mod flatten;
mod global_pool;
mod global_pool1d;
pub mod image_to_sequence;
mod info;
pub mod masked;
mod merge_op;
mod parallel;
mod per_step;
mod pool1d;
mod pool2d;
mod pool_mode;
pub mod recurrent;
mod residual;
mod steps;

pub use activation::{
    Activation, Fused, FusedActivation, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, GELU,
};
pub use batch::{BatchOf, SampleShape};
pub use batchnorm::{BatchNorm1D, BatchNorm2D, BatchNormModule};
pub use conv1d::{Conv1D, Conv1DModule};
pub use conv2d::{Conv2D, Conv2DModule, FusedPool, NoPool};
pub use dense::{Dense, DenseModule, Features};
pub use dropout::Dropout;
pub use embedding::{Embedding, EmbeddingModule};
pub use flatten::Flatten;
pub use global_pool::{GlobalAvgPool, GlobalMaxPool, GlobalPool};
pub use global_pool1d::{GlobalAvgPool1D, GlobalMaxPool1D, GlobalPool1D};
pub use image_to_sequence::ImageToSequence;
pub use info::LayerInfo;
pub use masked::{
    lengths_mask, MaskShapeError, Masked, SequenceBatch, SequenceLengthError, SequencePadding,
};
pub use merge_op::{Add, Average, Concat, Maximum, MergeOp, Multiply, Rows};
pub use parallel::{
    BranchOutput, Inputs, JoinTape, JoinTapes, Parallel, Route, Shared, SharedInput,
};
pub use pool1d::{AvgPool1D, MaxPool1D, Pool1D};
pub use pool2d::{AvgPool2D, MaxPool2D, Pool2D};
pub use pool_mode::{Avg, Max, PoolMode};
pub use recurrent::{
    Bidirectional, BidirectionalModule, GruCell, GruModule, LstmCell, LstmModule, Recurrent,
    RecurrentCell, RecurrentModule, ShapeError, SimpleRNN, SimpleRnnCell, SimpleRnnModule, GRU,
    LSTM,
};
pub use residual::Residual;
pub use steps::{RecurrentInfo, Steps};
