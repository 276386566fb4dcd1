//! `SimpleRNN<F, U, RETURN_SEQUENCES>`: the Elman RNN with tanh.

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::nn::{BuildModule, BuildOnDevice};
use dfdx::prelude::*;
use num_traits::Float;
use rand_distr::uniform::SampleUniform;

use super::load::{check_len, copy, from_keras_matrix, sum, ShapeError};
use super::{init, recurrent_module_impls, RecurrentLayer, ReturnSequences, Sequences};
use crate::ops::recurrent::{Cell, RecurrentKernel, RecurrentWeights};

/// A simple (Elman) recurrent layer with `F` input features, `U` units and tanh; builds a
/// [`SimpleRnnModule`].
///
/// For each step `t` of a sequence `x_1..x_S`, from `h_0 = 0`:
///
/// ```text
/// h_t = tanh(W x_t + b + R h_{t-1})
/// ```
///
/// | input | output, `RETURN_SEQUENCES = true` | output, `false` |
/// |---|---|---|
/// | `(S, F)` | `(S, U)`: `h_1..h_S` | `(U,)`: `h_S` |
/// | `(B, S, F)` | `(B, S, U)` | `(B, U)` |
/// | [`Masked`](crate::layers::Masked) `(B, S, F)` with mask `(B, S)` | `Masked` `(B, S, U)` | `(B, U)` |
///
/// Parameters, as Keras counts them (one bias): `F*U + U*U + U`; `SimpleRNN<28, 64, _>` has
/// 5,952.
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
#[derive(Clone, Copy, Debug, Default)]
pub struct SimpleRNN<const F: usize, const U: usize, const RETURN_SEQUENCES: bool>;

/// The parameters of a [`SimpleRNN`] layer, in PyTorch's layout.
#[derive(Clone, Debug)]
pub struct SimpleRnnModule<const F: usize, const U: usize, const SEQ: bool, E: Dtype, D: Storage<E>>
{
    /// `W`: PyTorch's `weight_ih_l0` `(U, F)`.
    pub w_ih: Tensor<Rank3<1, U, F>, E, D>,
    /// `R`: PyTorch's `weight_hh_l0` `(U, U)`.
    pub w_hh: Tensor<Rank3<1, U, U>, E, D>,
    /// `b`: PyTorch's `bias_ih_l0 + bias_hh_l0`; Keras's `bias`.
    pub bias: Tensor<Rank2<1, U>, E, D>,
}

/// The shape relation every impl checks at compile time.
const fn check_shape<const F: usize, const U: usize>() {
    const {
        assert!(
            F > 0 && U > 0,
            "SimpleRNN<F, U, _>: features and units must be positive"
        )
    }
}

impl<const F: usize, const U: usize, const SEQ: bool, E, D> BuildOnDevice<D, E>
    for SimpleRNN<F, U, SEQ>
where
    E: Dtype,
    D: Device<E>,
    SimpleRnnModule<F, U, SEQ, E, D>: BuildModule<D, E>,
{
    type Built = SimpleRnnModule<F, U, SEQ, E, D>;
    fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
        check_shape::<F, U>();
        Self::Built::try_build(device)
    }
}

impl<const F: usize, const U: usize, const SEQ: bool, E, D> TensorCollection<E, D>
    for SimpleRnnModule<F, U, SEQ, E, D>
where
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = SimpleRnnModule<F, U, SEQ, E2, D2>;

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
            ),
            |(w_ih, w_hh, bias)| SimpleRnnModule { w_ih, w_hh, bias },
        )
    }
}

impl<const F: usize, const U: usize, const SEQ: bool, E: Dtype, D: RecurrentKernel<E>>
    RecurrentLayer<F, E, D> for SimpleRnnModule<F, U, SEQ, E, D>
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
        D::try_recurrent(Cell::SimpleRnn, x, weights, reverse, mask)
    }
}

recurrent_module_impls!(SimpleRnnModule);

impl<const F: usize, const U: usize, const SEQ: bool, E: Dtype, D: Device<E>>
    SimpleRnnModule<F, U, SEQ, E, D>
{
    /// Loads PyTorch's `nn.RNN` weights (tanh, one layer, one direction): `weight_ih_l0`
    /// `(U, F)`, `weight_hh_l0` `(U, U)`, `bias_ih_l0` and `bias_hh_l0` `(U)` (summed), row-major.
    pub fn load_pytorch(
        &mut self,
        w_ih: &[E],
        w_hh: &[E],
        b_ih: &[E],
        b_hh: &[E],
    ) -> Result<(), ShapeError> {
        check_len("SimpleRNN weight_ih", w_ih, U * F)?;
        check_len("SimpleRNN weight_hh", w_hh, U * U)?;
        check_len("SimpleRNN bias_ih", b_ih, U)?;
        check_len("SimpleRNN bias_hh", b_hh, U)?;
        copy(&mut self.w_ih, w_ih);
        copy(&mut self.w_hh, w_hh);
        copy(&mut self.bias, &sum(b_ih, b_hh));
        Ok(())
    }

    /// Loads Keras's `SimpleRNN` weights: `kernel` `(F, U)`, `recurrent_kernel` `(U, U)`,
    /// `bias` `(U)`, row-major.
    pub fn load_keras(
        &mut self,
        kernel: &[E],
        recurrent_kernel: &[E],
        bias: &[E],
    ) -> Result<(), ShapeError> {
        check_len("SimpleRNN kernel", kernel, F * U)?;
        check_len("SimpleRNN recurrent_kernel", recurrent_kernel, U * U)?;
        check_len("SimpleRNN bias", bias, U)?;
        copy(&mut self.w_ih, &from_keras_matrix(kernel, F, U, &[0]));
        copy(
            &mut self.w_hh,
            &from_keras_matrix(recurrent_kernel, U, U, &[0]),
        );
        copy(&mut self.bias, bias);
        Ok(())
    }
}
