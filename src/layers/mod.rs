//! The layers a `network!` is made of.

pub mod image_to_sequence;
pub mod masked;
pub mod recurrent;

pub use image_to_sequence::ImageToSequence;
pub use masked::{lengths_mask, Masked, SequencePadding};
pub use recurrent::{
    Bidirectional, BidirectionalModule, GruModule, LstmModule, ShapeError, SimpleRNN,
    SimpleRnnModule, GRU, LSTM,
};
