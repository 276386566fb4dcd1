//! `Bidirectional<L, OUT>`: a recurrent layer run both ways, outputs concatenated.

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection};
use dfdx::nn::{BuildModule, BuildOnDevice, Module, NonMutableModule};
use dfdx::prelude::*;

use super::{as_batch_of_one, RecurrentLayer, RecurrentUnits, ReturnSequences};
use crate::layers::masked::Masked;
use crate::ops::recurrent::RecurrentKernel;

/// Runs the recurrent layer `L` (an [`LSTM`](super::LSTM), [`GRU`](super::GRU) or
/// [`SimpleRNN`](super::SimpleRNN) builder with `U` units) over the sequence forwards and, with
/// its own weights, backwards, and concatenates the two outputs: `OUT = 2U` units, forward
/// first. Builds a [`BidirectionalModule`].
///
/// ```text
/// forward:  h→_t from x_1..x_t            backward: h←_t from x_S..x_t
/// every step (RETURN_SEQUENCES):  y_t = [h→_t, h←_t]                      (B, S, 2U)
/// last step:                      y   = [h→_S, h←_1]                      (B, 2U)
/// ```
///
/// As in Keras, the backward direction's outputs are put back in input time order, and its
/// "last" output is the one at step 1: the state after it has read the whole sequence. With a
/// [`Masked`] input both directions skip the padding.
///
/// | input | output, `L` returns sequences | output, `L` does not |
/// |---|---|---|
/// | `(S, F)` | `(S, OUT)` | `(OUT,)` |
/// | `(B, S, F)` | `(B, S, OUT)` | `(B, OUT)` |
/// | `Masked` `(B, S, F)` with mask `(B, S)` | `Masked` `(B, S, OUT)` | `(B, OUT)` |
///
/// `OUT` must be `2U`, checked when the program is built (`cargo build`, not `cargo check`):
///
/// ```rust,compile_fail
/// # use typenet::prelude::*;
/// # use typenet::layers::{Bidirectional, LSTM};
/// let dev: Cpu = Default::default();
/// let bi = dev.build_module::<Bidirectional<LSTM<28, 64, true>, 64>, f32>(); // needs 128
/// ```
///
/// ```rust
/// # use typenet::prelude::*;
/// # use typenet::layers::{Bidirectional, LSTM};
/// let dev: Cpu = Default::default();
/// let bi = dev.build_module::<Bidirectional<LSTM<28, 64, true>, 128>, f32>();
/// assert_eq!(bi.num_trainable_params(), 2 * 23_808);
/// let x: Tensor<Rank3<4, 28, 28>, f32, _> = dev.sample_normal();
/// let y: Tensor<Rank3<4, 28, 128>, f32, _> = bi.forward(x);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Bidirectional<L, const OUT: usize>(core::marker::PhantomData<L>);

/// The two directions of a [`Bidirectional`] layer.
#[derive(Clone, Debug)]
pub struct BidirectionalModule<M, const OUT: usize> {
    /// Reads the sequence from the first step to the last.
    pub forward: M,
    /// Reads the sequence from the last step to the first.
    pub backward: M,
}

/// The shape relation every impl checks at compile time.
const fn check_shape<M: RecurrentUnits, const OUT: usize>() {
    const {
        assert!(
            OUT == 2 * M::UNITS,
            "Bidirectional<L, OUT>: OUT must be twice L's units"
        )
    }
}

impl<M: RecurrentUnits, const OUT: usize> RecurrentUnits for BidirectionalModule<M, OUT> {
    const UNITS: usize = OUT;
}

impl<L, const OUT: usize, E, D> BuildOnDevice<D, E> for Bidirectional<L, OUT>
where
    E: Dtype,
    D: Device<E>,
    L: BuildOnDevice<D, E>,
    L::Built: RecurrentUnits,
    BidirectionalModule<L::Built, OUT>: BuildModule<D, E>,
{
    type Built = BidirectionalModule<L::Built, OUT>;
    fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
        check_shape::<L::Built, OUT>();
        Self::Built::try_build(device)
    }
}

impl<M, const OUT: usize, E: Dtype, D: Device<E>> TensorCollection<E, D>
    for BidirectionalModule<M, OUT>
where
    M: TensorCollection<E, D> + RecurrentUnits,
{
    type To<E2: Dtype, D2: Device<E2>> = BidirectionalModule<M::To<E2, D2>, OUT>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        check_shape::<M, OUT>();
        visitor.visit_fields(
            (
                Self::module("forward", |s| &s.forward, |s| &mut s.forward),
                Self::module("backward", |s| &s.backward, |s| &mut s.backward),
            ),
            |(forward, backward)| BidirectionalModule { forward, backward },
        )
    }
}

impl<M: RecurrentUnits, const OUT: usize> BidirectionalModule<M, OUT> {
    /// Both directions over a batch, each reduced to its output, concatenated.
    #[allow(clippy::type_complexity)]
    fn try_run<const F: usize, E, D, B, S, T>(
        &self,
        x: Tensor<(B, S, Const<F>), E, D, T>,
        mask: Option<&Tensor<(B, S), E, D>>,
    ) -> Result<<M::Sequences as ReturnSequences>::Batched<B, S, Const<OUT>, E, D, T>, D::Err>
    where
        E: Dtype,
        D: RecurrentKernel<E>,
        M: RecurrentLayer<F, E, D>,
        B: Dim,
        S: Dim,
        T: Tape<E, D>,
    {
        check_shape::<M, OUT>();
        let forward = self
            .forward
            .try_sequence(x.with_empty_tape(), mask, false)?;
        let backward = self.backward.try_sequence(x, mask, true)?;
        let forward = M::Sequences::try_take(forward, false)?;
        let backward = M::Sequences::try_take(backward, true)?;
        M::Sequences::try_concat::<B, S, M::Units, OUT, E, D, T>(forward, backward)
    }
}

impl<M, const OUT: usize> NonMutableModule for BidirectionalModule<M, OUT> {}

impl<M, const F: usize, const OUT: usize, E, D, B, S, T> Module<Tensor<(B, S, Const<F>), E, D, T>>
    for BidirectionalModule<M, OUT>
where
    E: Dtype,
    D: RecurrentKernel<E>,
    M: RecurrentLayer<F, E, D> + RecurrentUnits,
    B: Dim,
    S: Dim,
    T: Tape<E, D>,
{
    type Output = <M::Sequences as ReturnSequences>::Batched<B, S, Const<OUT>, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, S, Const<F>), E, D, T>) -> Result<Self::Output, D::Err> {
        self.try_run(x, None)
    }
}

impl<M, const F: usize, const OUT: usize, E, D, S, T> Module<Tensor<(S, Const<F>), E, D, T>>
    for BidirectionalModule<M, OUT>
where
    E: Dtype,
    D: RecurrentKernel<E>,
    M: RecurrentLayer<F, E, D> + RecurrentUnits,
    S: Dim,
    T: Tape<E, D>,
{
    type Output = <M::Sequences as ReturnSequences>::Unbatched<S, Const<OUT>, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(S, Const<F>), E, D, T>) -> Result<Self::Output, D::Err> {
        M::Sequences::try_unbatch(self.try_run(as_batch_of_one(x)?, None)?)
    }
}

impl<M, const F: usize, const OUT: usize, E, D, B, S, T>
    Module<Masked<Tensor<(B, S, Const<F>), E, D, T>, Tensor<(B, S), E, D>>>
    for BidirectionalModule<M, OUT>
where
    E: Dtype,
    D: RecurrentKernel<E>,
    M: RecurrentLayer<F, E, D> + RecurrentUnits,
    B: Dim,
    S: Dim,
    T: Tape<E, D>,
{
    type Output = <M::Sequences as ReturnSequences>::Masked<B, S, Const<OUT>, E, D, T>;
    type Error = D::Err;

    fn try_forward(
        &self,
        input: Masked<Tensor<(B, S, Const<F>), E, D, T>, Tensor<(B, S), E, D>>,
    ) -> Result<Self::Output, D::Err> {
        let y = self.try_run(input.x, Some(&input.mask))?;
        Ok(M::Sequences::with_mask(y, input.mask))
    }
}
