//! `BatchNorm`: normalises each channel with batch statistics while training and with
//! running statistics in inference. Builds into dfdx's own batch norms.

use super::{BatchOf, LayerInfo, SampleShape};
use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection};
use dfdx::nn::{builders, BuildOnDevice, Module, ModuleMut};
use dfdx::prelude::{Device, Dtype, NoneTape, OwnedTape, Rank1, Rank3, Tensor};
use std::marker::PhantomData;

/// Batch normalisation over the channels of an image: builds into dfdx's `BatchNorm2D<C>`.
///
/// - Input shape: `(B, C, H, W)` (a batch is required); output shape: the same.
/// - Training (`forward_mut` on a traced input) normalises with the batch's statistics
///   and updates the running ones (momentum 0.1, PyTorch's convention; epsilon 1e-5);
///   `forward` uses the running statistics.
/// - Parameters: `4 * C` as Keras counts them (scale, bias, running mean and variance; the
///   last two are not trained).
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchNorm2D<const C: usize, const H: usize, const W: usize>;

/// Batch normalisation over the features of a vector: builds into dfdx's `BatchNorm1D<C>`.
///
/// - Input shape: `(B, C)` (a batch is required); output shape: the same.
/// - Otherwise as [`BatchNorm2D`].
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchNorm1D<const C: usize>;

impl<const C: usize, const H: usize, const W: usize, D: Device<E>, E: Dtype> BuildOnDevice<D, E>
    for BatchNorm2D<C, H, W>
where
    builders::BatchNorm2D<C>: BuildOnDevice<D, E>,
{
    type Built =
        BatchNormModule<<builders::BatchNorm2D<C> as BuildOnDevice<D, E>>::Built, Rank3<C, H, W>>;
}

impl<const C: usize, D: Device<E>, E: Dtype> BuildOnDevice<D, E> for BatchNorm1D<C>
where
    builders::BatchNorm1D<C>: BuildOnDevice<D, E>,
{
    type Built =
        BatchNormModule<<builders::BatchNorm1D<C> as BuildOnDevice<D, E>>::Built, Rank1<C>>;
}

/// dfdx's batch norm `M` on samples of shape `Sample`, batched or not.
///
/// dfdx gives its batch norms one impl per rank and tape; this wrapper has one of each trait,
/// over [`BatchOf<Sample>`](BatchOf), so that a deep network stays cheap to type-check.
/// Its tensors are `M`'s, under the same names (`scale`, `bias`, `running_mean`, ...).
#[derive(Debug, Clone)]
pub struct BatchNormModule<M, Sample>(pub M, PhantomData<Sample>);

impl<M: TensorCollection<E, D>, Sample, E: Dtype, D: Device<E>> TensorCollection<E, D>
    for BatchNormModule<M, Sample>
{
    type To<E2: Dtype, D2: Device<E2>> = BatchNormModule<M::To<E2, D2>, Sample>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        // An empty name: the wrapper adds no level to the tensors' names.
        visitor.visit_fields(Self::module("", |s| &s.0, |s| &mut s.0), |m| {
            BatchNormModule(m, PhantomData)
        })
    }
}

/// Inference: the running statistics.
impl<M, Sample: SampleShape, X: BatchOf<Sample>, E: Dtype, D: Device<E>>
    Module<Tensor<X, E, D, NoneTape>> for BatchNormModule<M, Sample>
where
    M: Module<
        Tensor<Sample::Batched<X::Size>, E, D, NoneTape>,
        Output = Tensor<Sample::Batched<X::Size>, E, D, NoneTape>,
        Error = D::Err,
    >,
{
    type Output = Tensor<X::Of<Sample>, E, D, NoneTape>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<X, E, D, NoneTape>) -> Result<Self::Output, D::Err> {
        X::unbatch(self.0.try_forward(X::batch(x)?)?)
    }
}

/// Training: the batch's statistics, updating the running ones.
impl<M, Sample: SampleShape, X: BatchOf<Sample>, E: Dtype, D: Device<E>>
    ModuleMut<Tensor<X, E, D, OwnedTape<E, D>>> for BatchNormModule<M, Sample>
where
    M: ModuleMut<
        Tensor<Sample::Batched<X::Size>, E, D, OwnedTape<E, D>>,
        Output = Tensor<Sample::Batched<X::Size>, E, D, OwnedTape<E, D>>,
        Error = D::Err,
    >,
{
    type Output = Tensor<X::Of<Sample>, E, D, OwnedTape<E, D>>;
    type Error = D::Err;

    fn try_forward_mut(
        &mut self,
        x: Tensor<X, E, D, OwnedTape<E, D>>,
    ) -> Result<Self::Output, D::Err> {
        X::unbatch(self.0.try_forward_mut(X::batch(x)?)?)
    }
}

impl<const C: usize, const H: usize, const W: usize> LayerInfo for BatchNorm2D<C, H, W> {
    const NAME: &'static str = "BatchNorm";
    const OUTPUT: Option<&'static [usize]> = None;
    const PARAMS: usize = 4 * C;
    const FLOPS: usize = 2 * C * H * W;
    const ACTIVATIONS: usize = C * H * W;
}

impl<const C: usize> LayerInfo for BatchNorm1D<C> {
    const NAME: &'static str = "BatchNorm";
    const OUTPUT: Option<&'static [usize]> = None;
    const PARAMS: usize = 4 * C;
    const FLOPS: usize = 2 * C;
    const ACTIVATIONS: usize = C;
}
