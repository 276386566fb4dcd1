//! Feature maps `(B, C, H, W)` read as sequences `(B, STEPS, FEATURES)`: the data movement
//! of [`ImageToSequence`](crate::layers::ImageToSequence), forward and backward.
//!
//! - Width as time: `out[b, w, c*H + h] = x[b, c, h, w]`, per image the transpose of the
//!   `(C*H, W)` matrix.
//! - Height as time: `out[b, h, c*W + w] = x[b, c, h, w]`, per image the `(C, H)` planes'
//!   rows of `W` regrouped by row.
//!
//! `cpu.rs` moves each image with one pass over the cores (dfdx's permute and reshape copy
//! element by element through a strided index, a tenth of the CRNN's training step);
//! `generic.rs` is that permute and reshape, for any device.

mod cpu;
mod generic;
#[cfg(test)]
mod tests;

pub use generic::try_to_sequence_generic;

use dfdx::prelude::*;

/// Which axis of the maps becomes the sequence's time axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeAxis {
    /// Steps are columns, `(W, C*H)`: CRNN text recognisers read text left to right.
    Width,
    /// Steps are rows, `(H, C*W)`.
    Height,
}

impl TimeAxis {
    /// `(steps, features)` of one image of `(c, h, w)`.
    pub(crate) fn sequence(self, c: usize, h: usize, w: usize) -> (usize, usize) {
        match self {
            TimeAxis::Width => (w, c * h),
            TimeAxis::Height => (h, c * w),
        }
    }
}

/// Devices that read feature maps as sequences. The provided method is the device-generic
/// path; `Cpu` replaces it with the fast kernel, so a device adds itself with an empty impl.
pub trait ToSequenceKernel<E: Dtype>: Device<E> {
    /// x: (B, C, H, W) -> (B, STEPS, FEATURES) along `time`. `STEPS` and `FEATURES` are
    /// given by the caller: `time.sequence(C, H, W)`, which this checks.
    #[allow(clippy::type_complexity)]
    fn try_to_sequence<
        B: Dim,
        T: Tape<E, Self>,
        const C: usize,
        const H: usize,
        const W: usize,
        const STEPS: usize,
        const FEATURES: usize,
    >(
        x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Self, T>,
        time: TimeAxis,
    ) -> Result<Tensor<(B, Const<STEPS>, Const<FEATURES>), E, Self, T>, Self::Err> {
        try_to_sequence_generic(x, time)
    }
}

impl<E: crate::ops::cpu::CpuFloat> ToSequenceKernel<E> for Cpu
where
    Cpu: Device<E>,
{
    fn try_to_sequence<
        B: Dim,
        T: Tape<E, Self>,
        const C: usize,
        const H: usize,
        const W: usize,
        const STEPS: usize,
        const FEATURES: usize,
    >(
        x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Self, T>,
        time: TimeAxis,
    ) -> Result<Tensor<(B, Const<STEPS>, Const<FEATURES>), E, Self, T>, Self::Err> {
        check_sequence(time, (C, H, W), (STEPS, FEATURES));
        cpu::try_to_sequence(x, time)
    }
}

#[cfg(feature = "cuda")]
impl<E: Dtype> ToSequenceKernel<E> for Cuda where Cuda: Device<E> {}

/// Panics unless maps of `maps` (C, H, W) read along `time` give `sequence` (STEPS,
/// FEATURES): the one check both implementations make before they move anything.
pub(crate) fn check_sequence(
    time: TimeAxis,
    maps: (usize, usize, usize),
    sequence: (usize, usize),
) {
    let (c, h, w) = maps;
    assert_eq!(
        time.sequence(c, h, w),
        sequence,
        "maps of {maps:?} read along the {time:?} are not {sequence:?} (steps, features)"
    );
}
