//! `LSTM<F, U, RETURN_SEQUENCES>`: long short-term memory.

use dfdx::prelude::*;

use super::init;
use super::module::{array_names, ArrayNames, Recurrent, RecurrentCell, RecurrentModule};
use crate::ops::recurrent::Cell;

/// An LSTM layer with `F` input features and `U` units: a [`Recurrent`] layer of the
/// [`LstmCell`]. Builds an [`LstmModule`].
///
/// - Input shape: `(S, F)`, a batch `(B, S, F)`, or a [`Masked`](crate::layers::Masked) batch
///   `(B, S, F)` with its mask `(B, S)`.
/// - Output shape: with `RETURN_SEQUENCES`, `h_1..h_S`: `(S, U)`, `(B, S, U)` or `Masked`
///   `(B, S, U)`; without, `h_S`: `(U,)` or `(B, U)`.
/// - Arguments in `network!`: `LSTM<U>`, option `return_sequences`. Keras's `LSTM(U)`;
///   PyTorch's `nn.LSTM(F, U, batch_first=True)`.
/// - Parameters, counted as Keras counts them (one bias per gate): `4 * (F*U + U*U + U)`;
///   `LSTM<28, 64, _>` has 23,808. PyTorch's two biases sum to
///   [`bias`](RecurrentModule::bias).
///
/// For each step `t` of a sequence `x_1..x_S`, from `h_0 = c_0 = 0` (PyTorch's equations):
///
/// ```text
/// i_t = σ(W_i x_t + b_i + R_i h_{t-1})        input gate
/// f_t = σ(W_f x_t + b_f + R_f h_{t-1})        forget gate
/// g_t = tanh(W_g x_t + b_g + R_g h_{t-1})     cell candidate
/// o_t = σ(W_o x_t + b_o + R_o h_{t-1})        output gate
/// c_t = f_t * c_{t-1} + i_t * g_t
/// h_t = o_t * tanh(c_t)
/// ```
///
/// ```rust
/// # use typenet::prelude::*;
/// # use typenet::layers::LSTM;
/// let dev: Cpu = Default::default();
/// let lstm = dev.build_module::<LSTM<28, 64, false>, f32>();
/// assert_eq!(lstm.num_trainable_params(), 23_808);
/// let x: Tensor<Rank3<16, 28, 28>, f32, _> = dev.sample_normal(); // (batch, steps, features)
/// let h: Tensor<Rank2<16, 64>, f32, _> = lstm.forward(x);          // the last step
/// let every_step = dev.build_module::<LSTM<28, 64, true>, f32>();
/// let hs: Tensor<Rank2<28, 64>, f32, _> = every_step.forward(dev.sample_normal::<Rank2<28, 28>>());
/// ```
pub type LSTM<const F: usize, const U: usize, const RETURN_SEQUENCES: bool> =
    Recurrent<LstmCell, 4, F, U, RETURN_SEQUENCES>;

/// The parameters of an [`LSTM`] layer: `w_ih` `(4, U, F)`, `w_hh` `(4, U, U)`, `bias`
/// `(4, U)`, gates i, f, g, o; no recurrent bias.
pub type LstmModule<const F: usize, const U: usize, const SEQ: bool, E, D> =
    RecurrentModule<LstmCell, 4, F, U, SEQ, E, D>;

/// The LSTM's cell: four gates i, f, g, o, one bias, the forget gate's initially 1 (Keras's
/// `unit_forget_bias=True`).
#[derive(Clone, Copy, Debug, Default)]
pub struct LstmCell;

impl RecurrentCell<4> for LstmCell {
    const CELL: Cell = Cell::Lstm;
    const NAME: &'static str = "LSTM";
    const BIASES: usize = 1;
    // Keras's i, f, c, o is PyTorch's i, f, g, o.
    const KERAS_GATES: [usize; 4] = [0, 1, 2, 3];
    const ARRAYS: ArrayNames = array_names!("LSTM");
    type RecurrentBias<const U: usize, E: Dtype, D: Storage<E>> = ();

    fn reset_bias<const U: usize, E: Dtype, D: Device<E>>(
        bias: &mut Tensor<Rank2<4, U>, E, D>,
    ) -> Result<(), D::Err> {
        init::unit_forget_bias(bias)
    }
}
