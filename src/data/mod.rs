//! Data: IDX/MNIST reading, batching and sequence padding.
//!
//! A data set is flat `f32` rows of one sample shape per model input plus a class index per
//! sample ([`Dataset`]); a model's input type says which sample shapes it takes
//! ([`InputShape`]), whether it reads token ids ([`Tokens`]) and how a batch of one or
//! several inputs becomes tensors ([`ModelInput`]); batches are copied into one buffer per
//! input and step ([`Batches`]), shuffled per epoch from a seed ([`epoch_order`]).
//!
//! ```no_run
//! use typenet::data::Mnist;
//! let mnist = Mnist::load("/data/mnist")?; // the full 60,000/10,000, raw or .gz
//! let small = Mnist::shipped()?.train.take(1_000);
//! # Ok::<(), typenet::data::DataError>(())
//! ```

pub mod augment;
mod batches;
mod dataset;
mod error;
mod idx;
mod input;
mod input_tuples;
mod masked_tokens;
mod mnist;
mod model_input;
mod pad;
mod tokens;

pub use batches::{epoch_order, Batch, Batches};
pub(crate) use dataset::train_len;
pub use dataset::{Dataset, Inputs, Samples};
pub use error::{DataError, IdxError};
pub use idx::Idx;
pub use input::InputShape;
pub use masked_tokens::MaskedTokens;
pub use mnist::{read_split, Mnist};
pub use model_input::{ModelInput, SingleInput};
pub use pad::{pad_sequences, Padded, Padding, Side, MAX_PADDED_VALUES};
pub use tokens::Tokens;
