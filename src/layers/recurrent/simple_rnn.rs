//! `SimpleRNN<F, U, RETURN_SEQUENCES>`: the Elman RNN with tanh.

use super::module::{array_names, ArrayNames, Recurrent, RecurrentCell, RecurrentModule};
use crate::ops::recurrent::Cell;

/// A simple (Elman) recurrent layer with `F` input features, `U` units and tanh: a
/// [`Recurrent`] layer of the [`SimpleRnnCell`]. Builds a [`SimpleRnnModule`].
///
/// - Input shape: `(S, F)`, a batch `(B, S, F)`, or a [`Masked`](crate::layers::Masked) batch
///   `(B, S, F)` with its mask `(B, S)`.
/// - Output shape: with `RETURN_SEQUENCES`, `h_1..h_S`: `(S, U)`, `(B, S, U)` or `Masked`
///   `(B, S, U)`; without, `h_S`: `(U,)` or `(B, U)`.
/// - Arguments in `network!`: `SimpleRNN<U>`, option `return_sequences`. Keras's
///   `SimpleRNN(U)`; PyTorch's `nn.RNN(F, U, batch_first=True)`.
/// - Parameters, as Keras counts them (one bias): `F*U + U*U + U`; `SimpleRNN<28, 64, _>` has
///   5,952.
///
/// For each step `t` of a sequence `x_1..x_S`, from `h_0 = 0`:
///
/// ```text
/// h_t = tanh(W x_t + b + R h_{t-1})
/// ```
///
/// ```rust
/// # use typenet::prelude::*;
/// # use typenet::layers::SimpleRNN;
/// let dev: Cpu = Default::default();
/// let rnn = dev.build_module::<SimpleRNN<28, 64, false>, f32>();
/// assert_eq!(rnn.num_trainable_params(), 5_952);
/// let x: Tensor<(usize, Const<28>), f32, _> = dev.sample_normal_like(&(10, Const));
/// let h: Tensor<Rank1<64>, f32, _> = rnn.forward(x);
/// ```
pub type SimpleRNN<const F: usize, const U: usize, const RETURN_SEQUENCES: bool> =
    Recurrent<SimpleRnnCell, 1, F, U, RETURN_SEQUENCES>;

/// The parameters of a [`SimpleRNN`] layer: `w_ih` `(1, U, F)`, `w_hh` `(1, U, U)`, `bias`
/// `(1, U)`; no recurrent bias.
pub type SimpleRnnModule<const F: usize, const U: usize, const SEQ: bool, E, D> =
    RecurrentModule<SimpleRnnCell, 1, F, U, SEQ, E, D>;

/// The simple RNN's cell: one gate, tanh, one bias.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimpleRnnCell;

impl RecurrentCell<1> for SimpleRnnCell {
    const CELL: Cell = Cell::SimpleRnn;
    const NAME: &'static str = "SimpleRNN";
    const BIASES: usize = 1;
    const KERAS_GATES: [usize; 1] = [0];
    const ARRAYS: ArrayNames = array_names!("SimpleRNN");
    type RecurrentBias<const U: usize, E: dfdx::prelude::Dtype, D: dfdx::prelude::Storage<E>> = ();
}
