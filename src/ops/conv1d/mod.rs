//! 1-D convolution over channels-last sequences (Keras's `Conv1D`), forward and backward.
//!
//! The input is `(B, L, C)`: L steps of C channels, as an `Embedding` or `Input<T, F>` gives
//! them. The weight is Keras's `(K, C, F)`: read as a `(K*C, F)` matrix, it multiplies the
//! `K*C` values of one window, which for channels-last input lie side by side in memory.
//!
//! Two implementations of one contract:
//! - `cpu.rs`: the fast `Cpu` kernel. Without padding or dilation, the windows of a sample
//!   are overlapping rows of its own storage, `stride * C` apart, so one gemm per sample
//!   reads them in place; otherwise their values are gathered first (im2col).
//! - `generic.rs`: dfdx ops only (gather, matmul, reshape, permute), for every dfdx device.
//!   `Cuda` runs it, and the tests hold the fast kernel to it.

mod cpu;
mod generic;
#[cfg(test)]
pub(crate) mod tests;

pub use generic::try_conv1d_generic;
pub(crate) use generic::unfold_steps;

use super::Window1D;
use dfdx::prelude::*;

/// Devices that run a 1-D convolution. The provided method is the device-generic path;
/// `Cpu` replaces it with the fast kernel, so a device adds itself with an empty impl.
pub trait Conv1DKernel<E: Dtype>: Device<E> {
    /// x: (B, L, C), weight: (K, C, F) as Keras lays it out, bias: (F) -> (B, OL, F).
    /// `window.kernel == K`; OL is given by the caller (already checked with
    /// `shape::window_fits`).
    ///
    /// Padding reads as zero; the padding after the last step is whatever `OL` implies. The
    /// gradients of `weight` and `bias` are accumulated under their own ids. `weight` and
    /// `bias` must be contiguous, as parameters are; `x` may be any view.
    #[allow(clippy::type_complexity)]
    fn try_conv1d<
        B: Dim,
        T: Tape<E, Self>,
        const L: usize,
        const C: usize,
        const F: usize,
        const K: usize,
        const OL: usize,
    >(
        x: Tensor<(B, Const<L>, Const<C>), E, Self, T>,
        weight: &Tensor<Rank3<K, C, F>, E, Self>,
        bias: &Tensor<Rank1<F>, E, Self>,
        window: Window1D,
    ) -> Result<Tensor<(B, Const<OL>, Const<F>), E, Self, T>, Self::Err> {
        try_conv1d_generic(x, weight, bias, window)
    }
}

impl<E: crate::ops::cpu::CpuFloat> Conv1DKernel<E> for Cpu
where
    Cpu: Device<E>,
{
    fn try_conv1d<
        B: Dim,
        T: Tape<E, Self>,
        const L: usize,
        const C: usize,
        const F: usize,
        const K: usize,
        const OL: usize,
    >(
        x: Tensor<(B, Const<L>, Const<C>), E, Self, T>,
        weight: &Tensor<Rank3<K, C, F>, E, Self>,
        bias: &Tensor<Rank1<F>, E, Self>,
        window: Window1D,
    ) -> Result<Tensor<(B, Const<OL>, Const<F>), E, Self, T>, Self::Err> {
        check_kernel(window, K);
        window.check(L, OL);
        cpu::try_conv1d(x, weight, bias, window)
    }
}

#[cfg(feature = "cuda")]
impl<E: Dtype> Conv1DKernel<E> for Cuda where Cuda: Device<E> {}

fn check_kernel(window: Window1D, kernel: usize) {
    assert_eq!(
        window.kernel, kernel,
        "Window1D::kernel differs from the kernel's size"
    );
}
