//! 1-D max and average pooling over channels-last sequences, forward and backward.
//!
//! `(B, L, C)` -> `(B, OL, C)`: each output step reduces a window of `window.kernel` steps,
//! channel by channel. The conventions are those of the 2-D pools (`ops::pool2d`): padding
//! never wins a max and is not counted in an average, and a max sends its gradient to the
//! first maximal step of its window. Windows have dilation 1.
//!
//! `cpu.rs` holds the fast `Cpu` kernel (direct loops over each sample's steps, channels
//! innermost, as they lie); `generic.rs` is made of dfdx ops for any device. As for the 2-D
//! pools, the generic max gives every tied maximum the full gradient: the two agree except
//! on exact ties within a window.

mod cpu;
mod generic;
#[cfg(test)]
mod tests;

pub use crate::ops::pool2d::PoolKind;
pub use generic::try_pool1d_generic;

use super::Window1D;
use dfdx::prelude::*;

/// Devices that run 1-D pooling. The provided method is the device-generic path; `Cpu`
/// replaces it with the fast kernel, so a device adds itself with an empty impl.
pub trait Pool1DKernel<E: Dtype>: Device<E> {
    /// x: (B, L, C) -> (B, OL, C). OL is given by the caller (already checked with
    /// `shape::window_fits`).
    #[allow(clippy::type_complexity)]
    fn try_pool1d<B: Dim, T: Tape<E, Self>, const L: usize, const C: usize, const OL: usize>(
        x: Tensor<(B, Const<L>, Const<C>), E, Self, T>,
        kind: PoolKind,
        window: Window1D,
    ) -> Result<Tensor<(B, Const<OL>, Const<C>), E, Self, T>, Self::Err> {
        try_pool1d_generic(x, kind, window)
    }
}

impl<E: crate::ops::cpu::CpuFloat> Pool1DKernel<E> for Cpu
where
    Cpu: Device<E>,
{
    fn try_pool1d<B: Dim, T: Tape<E, Self>, const L: usize, const C: usize, const OL: usize>(
        x: Tensor<(B, Const<L>, Const<C>), E, Self, T>,
        kind: PoolKind,
        window: Window1D,
    ) -> Result<Tensor<(B, Const<OL>, Const<C>), E, Self, T>, Self::Err> {
        check_pool_window(window, L, OL);
        cpu::try_pool1d(x, kind, window)
    }
}

#[cfg(feature = "cuda")]
impl<E: Dtype> Pool1DKernel<E> for Cuda where Cuda: Device<E> {}

/// Panics unless `window` is a pooling window (dilation 1, padding at most half the window,
/// so that every window holds a real step) mapping `input` steps to `out`.
fn check_pool_window(window: Window1D, input: usize, out: usize) {
    assert_eq!(
        window.dilation, 1,
        "pooling windows have dilation 1: {window:?}"
    );
    assert!(
        2 * window.pad <= window.kernel,
        "pooling padding may be at most half the window: {window:?}"
    );
    window.check(input, out);
}
