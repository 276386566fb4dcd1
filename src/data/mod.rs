//! Data: IDX/MNIST reading, batching and sequence padding.
//!
//! A data set is flat `f32` rows of one sample shape plus a class index per sample
//! ([`Dataset`]); a model's input type says which sample shapes it takes ([`InputShape`]);
//! batches are copied into one buffer per step ([`Batches`]), shuffled per epoch from a
//! seed ([`epoch_order`]).
//!
//! ```no_run
//! use typenet::data::Mnist;
//! let mnist = Mnist::load("/data/mnist")?; // the full 60,000/10,000, raw or .gz
//! let small = Mnist::shipped()?.train.take(1_000);
//! # Ok::<(), typenet::data::DataError>(())
//! ```

mod batches;
mod dataset;
mod error;
mod idx;
mod input;
mod mnist;
mod pad;

pub use batches::{epoch_order, Batch, Batches};
pub(crate) use dataset::train_len;
pub use dataset::{Dataset, Samples};
pub use error::{DataError, IdxError};
pub use idx::Idx;
pub use input::InputShape;
pub use mnist::{read_split, Mnist};
pub use pad::{pad_sequences, Padded, Padding, Side, MAX_PADDED_VALUES};
