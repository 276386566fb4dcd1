//! `LSTM<F, U, RETURN_SEQUENCES>`: long short-term memory.

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::nn::{BuildModule, BuildOnDevice};
use dfdx::prelude::*;
use num_traits::Float;
use rand_distr::uniform::SampleUniform;

use super::load::{check_len, copy, from_keras_matrix, from_keras_vector, sum, ShapeError};
use super::{init, recurrent_module_impls, RecurrentLayer, ReturnSequences, Sequences};
use crate::ops::recurrent::{Cell, RecurrentKernel, RecurrentWeights};

/// An LSTM layer with `F` input features and `U` units; builds an [`LstmModule`].
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
/// | input | output, `RETURN_SEQUENCES = true` | output, `false` |
/// |---|---|---|
/// | `(S, F)` | `(S, U)`: `h_1..h_S` | `(U,)`: `h_S` |
/// | `(B, S, F)` | `(B, S, U)` | `(B, U)` |
/// | [`Masked`](crate::layers::Masked) `(B, S, F)` with mask `(B, S)` | `Masked` `(B, S, U)` | `(B, U)` |
///
/// Parameters, counted as Keras counts them (one bias per gate): `4 * (F*U + U*U + U)`;
/// `LSTM<28, 64, _>` has 23,808. Keras's `LSTM(64)` on 28 features; PyTorch's `nn.LSTM(28, 64)`
/// has the same weights and two biases whose sum is [`LstmModule::bias`].
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
#[derive(Clone, Copy, Debug, Default)]
pub struct LSTM<const F: usize, const U: usize, const RETURN_SEQUENCES: bool>;

/// The parameters of an [`LSTM`] layer, in PyTorch's layout.
#[derive(Clone, Debug)]
pub struct LstmModule<const F: usize, const U: usize, const SEQ: bool, E: Dtype, D: Storage<E>> {
    /// `W`: PyTorch's `weight_ih_l0` `(4U, F)`, gates i, f, g, o.
    pub w_ih: Tensor<Rank3<4, U, F>, E, D>,
    /// `R`: PyTorch's `weight_hh_l0` `(4U, U)`.
    pub w_hh: Tensor<Rank3<4, U, U>, E, D>,
    /// `b`: PyTorch's `bias_ih_l0 + bias_hh_l0`; Keras's `bias`.
    pub bias: Tensor<Rank2<4, U>, E, D>,
}

/// The shape relation every impl checks at compile time.
const fn check_shape<const F: usize, const U: usize>() {
    const {
        assert!(
            F > 0 && U > 0,
            "LSTM<F, U, _>: features and units must be positive"
        )
    }
}

impl<const F: usize, const U: usize, const SEQ: bool, E, D> BuildOnDevice<D, E> for LSTM<F, U, SEQ>
where
    E: Dtype,
    D: Device<E>,
    LstmModule<F, U, SEQ, E, D>: BuildModule<D, E>,
{
    type Built = LstmModule<F, U, SEQ, E, D>;
    fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
        check_shape::<F, U>();
        Self::Built::try_build(device)
    }
}

impl<const F: usize, const U: usize, const SEQ: bool, E, D> TensorCollection<E, D>
    for LstmModule<F, U, SEQ, E, D>
where
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = LstmModule<F, U, SEQ, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        check_shape::<F, U>();
        visitor.visit_fields(
            (
                Self::tensor(
                    "w_ih",
                    |s| &s.w_ih,
                    |s| &mut s.w_ih,
                    TensorOptions::reset_with(init::glorot_uniform),
                ),
                Self::tensor(
                    "w_hh",
                    |s| &s.w_hh,
                    |s| &mut s.w_hh,
                    TensorOptions::reset_with(init::orthogonal),
                ),
                Self::tensor(
                    "bias",
                    |s| &s.bias,
                    |s| &mut s.bias,
                    TensorOptions::reset_with(init::unit_forget_bias),
                ),
            ),
            |(w_ih, w_hh, bias)| LstmModule { w_ih, w_hh, bias },
        )
    }
}

impl<const F: usize, const U: usize, const SEQ: bool, E: Dtype, D: RecurrentKernel<E>>
    RecurrentLayer<F, E, D> for LstmModule<F, U, SEQ, E, D>
where
    Sequences<SEQ>: ReturnSequences,
{
    type Units = Const<U>;
    type Sequences = Sequences<SEQ>;

    fn try_sequence<B: Dim, S: Dim, T: Tape<E, D>>(
        &self,
        x: Tensor<(B, S, Const<F>), E, D, T>,
        mask: Option<&Tensor<(B, S), E, D>>,
        reverse: bool,
    ) -> Result<Tensor<(B, S, Const<U>), E, D, T>, D::Err> {
        check_shape::<F, U>();
        let weights = RecurrentWeights {
            w_ih: &self.w_ih,
            w_hh: &self.w_hh,
            bias: &self.bias,
            recurrent_bias: None,
        };
        D::try_recurrent(Cell::Lstm, x, weights, reverse, mask)
    }
}

recurrent_module_impls!(LstmModule);

impl<const F: usize, const U: usize, const SEQ: bool, E: Dtype, D: Device<E>>
    LstmModule<F, U, SEQ, E, D>
{
    /// Loads PyTorch's `nn.LSTM` weights (one layer, one direction): `weight_ih_l0` `(4U, F)`,
    /// `weight_hh_l0` `(4U, U)`, `bias_ih_l0` and `bias_hh_l0` `(4U)` (summed), all row-major.
    pub fn load_pytorch(
        &mut self,
        w_ih: &[E],
        w_hh: &[E],
        b_ih: &[E],
        b_hh: &[E],
    ) -> Result<(), ShapeError> {
        check_len("LSTM weight_ih", w_ih, 4 * U * F)?;
        check_len("LSTM weight_hh", w_hh, 4 * U * U)?;
        check_len("LSTM bias_ih", b_ih, 4 * U)?;
        check_len("LSTM bias_hh", b_hh, 4 * U)?;
        copy(&mut self.w_ih, w_ih);
        copy(&mut self.w_hh, w_hh);
        copy(&mut self.bias, &sum(b_ih, b_hh));
        Ok(())
    }

    /// Loads Keras's `LSTM` weights: `kernel` `(F, 4U)`, `recurrent_kernel` `(U, 4U)`, `bias`
    /// `(4U)`, row-major. Keras's gate order i, f, c, o is PyTorch's i, f, g, o.
    pub fn load_keras(
        &mut self,
        kernel: &[E],
        recurrent_kernel: &[E],
        bias: &[E],
    ) -> Result<(), ShapeError> {
        const GATES: [usize; 4] = [0, 1, 2, 3];
        check_len("LSTM kernel", kernel, F * 4 * U)?;
        check_len("LSTM recurrent_kernel", recurrent_kernel, U * 4 * U)?;
        check_len("LSTM bias", bias, 4 * U)?;
        copy(&mut self.w_ih, &from_keras_matrix(kernel, F, U, &GATES));
        copy(
            &mut self.w_hh,
            &from_keras_matrix(recurrent_kernel, U, U, &GATES),
        );
        copy(&mut self.bias, &from_keras_vector(bias, U, &GATES));
        Ok(())
    }
}
