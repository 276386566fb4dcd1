//! 2-D max and average pooling, forward and backward.
//!
//! - Max pooling ignores the padding (it reads as -inf) and sends each output's gradient to
//!   the FIRST maximal element of its window in row-major order, as PyTorch does.
//! - Average pooling divides by the number of real (non-padding) elements in the window:
//!   Keras's `same` behaviour, PyTorch's `count_include_pad=False`.
//! - Windows have dilation 1.
//!
//! `cpu.rs` holds the fast `Cpu` kernel (direct loops over the planes, the max pool keeps
//! each output's argmax for its backward); `generic.rs` is made of dfdx ops for any device.
//! The generic max pool uses dfdx's max reduction, whose backward gives every tied maximum
//! the full gradient: the two agree except on exact ties within a window.

mod cpu;
mod generic;
#[cfg(test)]
mod tests;

pub(crate) use cpu::{assert_argmaxes_fit, Planes, Pool, NO_ARGMAX, RELU_CUT};
pub use generic::try_pool2d_generic;

use super::Window2D;
use dfdx::prelude::*;

/// Which reduction a pooling window applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Avg,
}

/// Devices that run 2-D pooling. The provided method is the device-generic path; `Cpu`
/// replaces it with the fast kernel, so a device adds itself with an empty impl.
pub trait Pool2DKernel<E: Dtype>: Device<E> {
    /// x: (B, C, H, W) -> (B, C, OH, OW), each output reducing one window of
    /// `window.rows.kernel` rows by `window.cols.kernel` columns. OH/OW are given by the
    /// caller (already checked with shape::window_fits).
    #[allow(clippy::type_complexity)]
    fn try_pool2d<
        B: Dim,
        T: Tape<E, Self>,
        const C: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
    >(
        x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Self, T>,
        kind: PoolKind,
        window: Window2D,
    ) -> Result<Tensor<(B, Const<C>, Const<OH>, Const<OW>), E, Self, T>, Self::Err> {
        try_pool2d_generic(x, kind, window)
    }
}

impl<E: crate::ops::cpu::CpuFloat> Pool2DKernel<E> for Cpu
where
    Cpu: Device<E>,
{
    fn try_pool2d<
        B: Dim,
        T: Tape<E, Self>,
        const C: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
    >(
        x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Self, T>,
        kind: PoolKind,
        window: Window2D,
    ) -> Result<Tensor<(B, Const<C>, Const<OH>, Const<OW>), E, Self, T>, Self::Err> {
        check_pool_geometry(window, (H, W), (OH, OW));
        cpu::try_pool2d(x, kind, window)
    }
}

#[cfg(feature = "cuda")]
impl<E: Dtype> Pool2DKernel<E> for Cuda where Cuda: Device<E> {}

/// Panics unless `window` is a pooling window (dilation 1) mapping `input` to `out`.
pub(crate) fn check_pool_geometry(window: Window2D, input: (usize, usize), out: (usize, usize)) {
    assert!(
        window.rows.dilation == 1 && window.cols.dilation == 1,
        "pooling windows have dilation 1: {window:?}"
    );
    window.check(input, out);
}
