//! 2-D convolution (cross-correlation, as PyTorch's `F.conv2d`), forward and backward.
//!
//! Two implementations of one contract:
//! - `cpu.rs`: the fast `Cpu` kernel, im2col + gemm per group of images forward, two gemms
//!   and col2im per group backward;
//! - `generic.rs`: dfdx ops only (gather, matmul, reshape, permute), for every dfdx device.
//!   `Cuda` runs it, and the tests hold the fast kernel to it.

mod cpu;
mod generic;
mod patch_rows;
#[cfg(test)]
mod pooled_tests;
#[cfg(test)]
pub(crate) mod tests;

pub use generic::try_conv2d_generic;
pub(crate) use generic::{empty_output, unfold};

use super::pool2d::{assert_argmaxes_fit, check_pool_geometry, Pool2DKernel, PoolKind};
use super::{OutputActivation, Window2D};
use dfdx::prelude::*;

/// Devices that run a 2-D convolution. The provided method is the device-generic path;
/// `Cpu` replaces it with the fast kernel, so a device adds itself with an empty impl.
pub trait Conv2DKernel<E: Dtype>: Device<E> {
    /// x: (B, C, H, W), weight: (F, C, KH, KW) as PyTorch lays it out, bias: (F) -> (B, F, OH, OW).
    /// The window's kernel is KH rows by KW columns. OH/OW are given by the caller (already
    /// checked with shape::window_fits).
    ///
    /// Padding reads as zero; the padding after each axis is whatever `OH`/`OW` imply. The
    /// gradients of `weight` and `bias` are accumulated under their own ids, so a layer gets
    /// them in the `Gradients` the tape of `x` produces. `weight` and `bias` must be
    /// contiguous, as parameters are (the `Cpu` kernel checks it in debug builds); `x` may
    /// be any view. `activation` is applied to the output (after the bias), and its
    /// gradient taken, within the op.
    #[allow(clippy::type_complexity)]
    fn try_conv2d<
        B: Dim,
        T: Tape<E, Self>,
        const C: usize,
        const H: usize,
        const W: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const OH: usize,
        const OW: usize,
    >(
        x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Self, T>,
        weight: &Tensor<Rank4<F, C, KH, KW>, E, Self>,
        bias: &Tensor<Rank1<F>, E, Self>,
        window: Window2D,
        activation: OutputActivation,
    ) -> Result<Tensor<(B, Const<F>, Const<OH>, Const<OW>), E, Self, T>, Self::Err> {
        try_conv2d_generic(x, weight, bias, window, activation)
    }

    /// [`try_conv2d`](Self::try_conv2d) to (B, F, OH, OW), then a max pool of that output
    /// through `pool` to (B, F, YH, YW): one op, so that a device may run the two together
    /// (`Cpu` pools each group of images while its convolved output is in cache, and that
    /// output is never a tensor). The provided method runs the two ops one after the other.
    #[allow(clippy::type_complexity)]
    fn try_conv2d_max_pool<
        B: Dim,
        T: Tape<E, Self>,
        const C: usize,
        const H: usize,
        const W: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const OH: usize,
        const OW: usize,
        const YH: usize,
        const YW: usize,
    >(
        x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Self, T>,
        weight: &Tensor<Rank4<F, C, KH, KW>, E, Self>,
        bias: &Tensor<Rank1<F>, E, Self>,
        window: Window2D,
        activation: OutputActivation,
        pool: Window2D,
    ) -> Result<Tensor<(B, Const<F>, Const<YH>, Const<YW>), E, Self, T>, Self::Err>
    where
        Self: Pool2DKernel<E>,
    {
        let y = Self::try_conv2d::<B, T, C, H, W, F, KH, KW, OH, OW>(
            x, weight, bias, window, activation,
        )?;
        Self::try_pool2d(y, PoolKind::Max, pool)
    }
}

impl<E: crate::ops::cpu::CpuFloat> Conv2DKernel<E> for Cpu
where
    Cpu: Device<E>,
{
    fn try_conv2d<
        B: Dim,
        T: Tape<E, Self>,
        const C: usize,
        const H: usize,
        const W: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const OH: usize,
        const OW: usize,
    >(
        x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Self, T>,
        weight: &Tensor<Rank4<F, C, KH, KW>, E, Self>,
        bias: &Tensor<Rank1<F>, E, Self>,
        window: Window2D,
        activation: OutputActivation,
    ) -> Result<Tensor<(B, Const<F>, Const<OH>, Const<OW>), E, Self, T>, Self::Err> {
        check_geometry(window, (KH, KW), (H, W), (OH, OW));
        cpu::try_conv2d::<E, B, T, C, H, W, F, KH, KW, OH, OW, OH, OW>(
            x, weight, bias, window, activation, None,
        )
    }

    fn try_conv2d_max_pool<
        B: Dim,
        T: Tape<E, Self>,
        const C: usize,
        const H: usize,
        const W: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const OH: usize,
        const OW: usize,
        const YH: usize,
        const YW: usize,
    >(
        x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Self, T>,
        weight: &Tensor<Rank4<F, C, KH, KW>, E, Self>,
        bias: &Tensor<Rank1<F>, E, Self>,
        window: Window2D,
        activation: OutputActivation,
        pool: Window2D,
    ) -> Result<Tensor<(B, Const<F>, Const<YH>, Const<YW>), E, Self, T>, Self::Err> {
        check_geometry(window, (KH, KW), (H, W), (OH, OW));
        check_pool_geometry(pool, (OH, OW), (YH, YW));
        assert_argmaxes_fit(OH, OW);
        cpu::try_conv2d::<E, B, T, C, H, W, F, KH, KW, OH, OW, YH, YW>(
            x,
            weight,
            bias,
            window,
            activation,
            Some(pool),
        )
    }
}

#[cfg(feature = "cuda")]
impl<E: Dtype> Conv2DKernel<E> for Cuda where Cuda: Device<E> {}

/// Panics unless `window` with a `kernel` (rows, columns) kernel maps an `input` image to
/// `out`: the one check both implementations make before they index anything.
pub(crate) fn check_geometry(
    window: Window2D,
    kernel: (usize, usize),
    input: (usize, usize),
    out: (usize, usize),
) {
    assert_eq!(
        (window.rows.kernel, window.cols.kernel),
        kernel,
        "the window's kernel differs from the weight's"
    );
    window.check(input, out);
}
