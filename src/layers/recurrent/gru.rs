//! `GRU<F, U, RETURN_SEQUENCES>`: gated recurrent unit, reset gate after the recurrent matmul.

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::nn::{BuildModule, BuildOnDevice};
use dfdx::prelude::*;
use num_traits::Float;
use rand_distr::uniform::SampleUniform;

use super::load::{check_len, copy, from_keras_matrix, from_keras_vector, ShapeError};
use super::{init, recurrent_module_impls, RecurrentLayer, ReturnSequences, Sequences};
use crate::ops::recurrent::{Cell, RecurrentKernel, RecurrentWeights};

/// A GRU layer with `F` input features and `U` units; builds a [`GruModule`].
///
/// For each step `t` of a sequence `x_1..x_S`, from `h_0 = 0` (PyTorch's equations; the reset
/// gate multiplies the recurrent projection *with* its bias, as Keras's default
/// `reset_after=True` and cuDNN do):
///
/// ```text
/// r_t = σ(W_r x_t + b_r + R_r h_{t-1} + rb_r)            reset gate
/// z_t = σ(W_z x_t + b_z + R_z h_{t-1} + rb_z)            update gate
/// n_t = tanh(W_n x_t + b_n + r_t * (R_n h_{t-1} + rb_n))  candidate
/// h_t = (1 - z_t) * n_t + z_t * h_{t-1}
/// ```
///
/// | input | output, `RETURN_SEQUENCES = true` | output, `false` |
/// |---|---|---|
/// | `(S, F)` | `(S, U)`: `h_1..h_S` | `(U,)`: `h_S` |
/// | `(B, S, F)` | `(B, S, U)` | `(B, U)` |
/// | [`Masked`](crate::layers::Masked) `(B, S, F)` with mask `(B, S)` | `Masked` `(B, S, U)` | `(B, U)` |
///
/// Parameters, as Keras counts them with `reset_after=True` (two biases per gate):
/// `3 * (F*U + U*U + 2U)`; `GRU<28, 64, _>` has 18,048, as PyTorch's `nn.GRU(28, 64)`.
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
#[derive(Clone, Copy, Debug, Default)]
pub struct GRU<const F: usize, const U: usize, const RETURN_SEQUENCES: bool>;

/// The parameters of a [`GRU`] layer, in PyTorch's layout.
#[derive(Clone, Debug)]
pub struct GruModule<const F: usize, const U: usize, const SEQ: bool, E: Dtype, D: Storage<E>> {
    /// `W`: PyTorch's `weight_ih_l0` `(3U, F)`, gates r, z, n.
    pub w_ih: Tensor<Rank3<3, U, F>, E, D>,
    /// `R`: PyTorch's `weight_hh_l0` `(3U, U)`.
    pub w_hh: Tensor<Rank3<3, U, U>, E, D>,
    /// `b`: PyTorch's `bias_ih_l0`; Keras's `bias[0]`.
    pub bias: Tensor<Rank2<3, U>, E, D>,
    /// `rb`: PyTorch's `bias_hh_l0`; Keras's `bias[1]`.
    pub recurrent_bias: Tensor<Rank2<3, U>, E, D>,
}

/// The shape relation every impl checks at compile time.
const fn check_shape<const F: usize, const U: usize>() {
    const {
        assert!(
            F > 0 && U > 0,
            "GRU<F, U, _>: features and units must be positive"
        )
    }
}

impl<const F: usize, const U: usize, const SEQ: bool, E, D> BuildOnDevice<D, E> for GRU<F, U, SEQ>
where
    E: Dtype,
    D: Device<E>,
    GruModule<F, U, SEQ, E, D>: BuildModule<D, E>,
{
    type Built = GruModule<F, U, SEQ, E, D>;
    fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
        check_shape::<F, U>();
        Self::Built::try_build(device)
    }
}

impl<const F: usize, const U: usize, const SEQ: bool, E, D> TensorCollection<E, D>
    for GruModule<F, U, SEQ, E, D>
where
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = GruModule<F, U, SEQ, E2, D2>;

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
                    TensorOptions::reset_with(init::zeros),
                ),
                Self::tensor(
                    "recurrent_bias",
                    |s| &s.recurrent_bias,
                    |s| &mut s.recurrent_bias,
                    TensorOptions::reset_with(init::zeros),
                ),
            ),
            |(w_ih, w_hh, bias, recurrent_bias)| GruModule {
                w_ih,
                w_hh,
                bias,
                recurrent_bias,
            },
        )
    }
}

impl<const F: usize, const U: usize, const SEQ: bool, E: Dtype, D: RecurrentKernel<E>>
    RecurrentLayer<F, E, D> for GruModule<F, U, SEQ, E, D>
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
            recurrent_bias: Some(&self.recurrent_bias),
        };
        D::try_recurrent(Cell::Gru, x, weights, reverse, mask)
    }
}

recurrent_module_impls!(GruModule);

impl<const F: usize, const U: usize, const SEQ: bool, E: Dtype, D: Device<E>>
    GruModule<F, U, SEQ, E, D>
{
    /// Loads PyTorch's `nn.GRU` weights (one layer, one direction): `weight_ih_l0` `(3U, F)`,
    /// `weight_hh_l0` `(3U, U)`, `bias_ih_l0` and `bias_hh_l0` `(3U)`, all row-major, gates
    /// r, z, n.
    pub fn load_pytorch(
        &mut self,
        w_ih: &[E],
        w_hh: &[E],
        b_ih: &[E],
        b_hh: &[E],
    ) -> Result<(), ShapeError> {
        check_len("GRU weight_ih", w_ih, 3 * U * F)?;
        check_len("GRU weight_hh", w_hh, 3 * U * U)?;
        check_len("GRU bias_ih", b_ih, 3 * U)?;
        check_len("GRU bias_hh", b_hh, 3 * U)?;
        copy(&mut self.w_ih, w_ih);
        copy(&mut self.w_hh, w_hh);
        copy(&mut self.bias, b_ih);
        copy(&mut self.recurrent_bias, b_hh);
        Ok(())
    }

    /// Loads Keras's `GRU` weights (`reset_after=True`, the default): `kernel` `(F, 3U)`,
    /// `recurrent_kernel` `(U, 3U)`, `bias` `(2, 3U)` (input bias, then recurrent bias),
    /// row-major. Keras orders the gates z, r, h; they become r, z, n.
    pub fn load_keras(
        &mut self,
        kernel: &[E],
        recurrent_kernel: &[E],
        bias: &[E],
    ) -> Result<(), ShapeError> {
        // Our gate g (r, z, n) is Keras's gate GATES[g] (z = 0, r = 1, h = 2).
        const GATES: [usize; 3] = [1, 0, 2];
        check_len("GRU kernel", kernel, F * 3 * U)?;
        check_len("GRU recurrent_kernel", recurrent_kernel, U * 3 * U)?;
        check_len(
            "GRU bias (reset_after=True: input and recurrent rows)",
            bias,
            2 * 3 * U,
        )?;
        let (b_input, b_recurrent) = bias.split_at(3 * U);
        copy(&mut self.w_ih, &from_keras_matrix(kernel, F, U, &GATES));
        copy(
            &mut self.w_hh,
            &from_keras_matrix(recurrent_kernel, U, U, &GATES),
        );
        copy(&mut self.bias, &from_keras_vector(b_input, U, &GATES));
        copy(
            &mut self.recurrent_bias,
            &from_keras_vector(b_recurrent, U, &GATES),
        );
        Ok(())
    }
}
