//! `GRU<F, U, RETURN_SEQUENCES>`: gated recurrent unit, reset gate after the recurrent matmul.

use dfdx::prelude::*;

use super::module::{array_names, ArrayNames, Recurrent, RecurrentCell, RecurrentModule};
use crate::ops::recurrent::Cell;

/// A GRU layer with `F` input features and `U` units: a [`Recurrent`] layer of the
/// [`GruCell`]. Builds a [`GruModule`].
///
/// - Input shape: `(S, F)`, a batch `(B, S, F)`, or a [`Masked`](crate::layers::Masked) batch
///   `(B, S, F)` with its mask `(B, S)`.
/// - Output shape: with `RETURN_SEQUENCES`, `h_1..h_S`: `(S, U)`, `(B, S, U)` or `Masked`
///   `(B, S, U)`; without, `h_S`: `(U,)` or `(B, U)`.
/// - Arguments in `network!`: `GRU<U>`, option `return_sequences`. Keras's `GRU(U)`
///   (`reset_after=True`, its default); PyTorch's `nn.GRU(F, U, batch_first=True)`.
/// - Parameters, as Keras counts them with `reset_after=True` (two biases per gate):
///   `3 * (F*U + U*U + 2U)`; `GRU<28, 64, _>` has 18,048, as PyTorch's `nn.GRU(28, 64)`.
///
/// For each step `t` of a sequence `x_1..x_S`, from `h_0 = 0` (PyTorch's equations; the reset
/// gate multiplies the recurrent projection *with* its bias, as Keras's `reset_after=True` and
/// cuDNN do):
///
/// ```text
/// r_t = σ(W_r x_t + b_r + R_r h_{t-1} + rb_r)            reset gate
/// z_t = σ(W_z x_t + b_z + R_z h_{t-1} + rb_z)            update gate
/// n_t = tanh(W_n x_t + b_n + r_t * (R_n h_{t-1} + rb_n))  candidate
/// h_t = (1 - z_t) * n_t + z_t * h_{t-1}
/// ```
///
/// ```rust
/// # use typenet::prelude::*;
/// # use typenet::layers::GRU;
/// let dev: Cpu = Default::default();
/// let gru = dev.build_module::<GRU<28, 64, true>, f32>();
/// assert_eq!(gru.num_trainable_params(), 18_048);
/// let x: Tensor<Rank3<16, 28, 28>, f32, _> = dev.sample_normal();
/// let hs: Tensor<Rank3<16, 28, 64>, f32, _> = gru.forward(x);
/// ```
pub type GRU<const F: usize, const U: usize, const RETURN_SEQUENCES: bool> =
    Recurrent<GruCell, 3, F, U, RETURN_SEQUENCES>;

/// The parameters of a [`GRU`] layer: `w_ih` `(3, U, F)`, `w_hh` `(3, U, U)`, `bias` and
/// `recurrent_bias` `(3, U)`, gates r, z, n.
pub type GruModule<const F: usize, const U: usize, const SEQ: bool, E, D> =
    RecurrentModule<GruCell, 3, F, U, SEQ, E, D>;

/// The GRU's cell: three gates r, z, n, and a bias on each projection.
#[derive(Clone, Copy, Debug, Default)]
pub struct GruCell;

impl RecurrentCell<3> for GruCell {
    const CELL: Cell = Cell::Gru;
    const NAME: &'static str = "GRU";
    const BIASES: usize = 2;
    // Our r, z, n are Keras's gates 1, 0, 2 (z, r, h).
    const KERAS_GATES: [usize; 3] = [1, 0, 2];
    const ARRAYS: ArrayNames = ArrayNames {
        bias: "GRU bias (reset_after=True: input and recurrent rows)",
        ..array_names!("GRU")
    };
    type RecurrentBias<const U: usize, E: Dtype, D: Storage<E>> = Tensor<Rank2<3, U>, E, D>;
}
