//! `BatchNorm`: normalises each channel with batch statistics while training and with
//! running statistics in inference. Builds into dfdx's own batch norms.

use super::LayerInfo;
use dfdx::nn::{builders, BuildOnDevice};
use dfdx::prelude::{Device, Dtype};

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
    type Built = <builders::BatchNorm2D<C> as BuildOnDevice<D, E>>::Built;
}

impl<const C: usize, D: Device<E>, E: Dtype> BuildOnDevice<D, E> for BatchNorm1D<C>
where
    builders::BatchNorm1D<C>: BuildOnDevice<D, E>,
{
    type Built = <builders::BatchNorm1D<C> as BuildOnDevice<D, E>>::Built;
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
