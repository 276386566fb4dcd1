//! Tensor ops that dfdx 0.13 lacks on stable Rust. Each op has a fast `Cpu` kernel and a
//! device-generic implementation composed of dfdx ops; the latter is what `Cuda` runs and
//! the oracle the fast kernel is tested against.

pub mod conv1d;
pub mod conv2d;
pub mod cpu;
pub mod pool1d;
pub mod pool2d;
pub mod recurrent;
pub mod relu;
mod scratch;
pub mod to_sequence;

/// An activation a layer applies in its own output pass instead of as a separate op.
///
/// A separate `ReLU` after a convolution reads the convolution's output, writes its own,
/// and in backward allocates and writes one more gradient of the same size: on the seed
/// CNN's first convolution (5.5 MB of activations per batch of 64) that was a sixth of a
/// training step. Fused, the activation is applied while the bias is added, and its mask
/// while the output gradient is read. `network!` fuses a `ReLU` that directly follows a
/// `Conv2D`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputActivation {
    /// The output as computed.
    #[default]
    Identity,
    /// `max(x, 0)`, with [`ReLU`](crate::layers::ReLU)'s semantics on each device: on
    /// `Cpu` a NaN passes, elsewhere it follows dfdx's `relu` (which makes it 0); the
    /// gradient at 0 is 0.
    Relu,
}

/// Where a 2-D sliding window (convolution or pooling) reads its input: a [`Window1D`]
/// along the rows and one along the columns, so a window may be rectangular (`3 x 5`) and
/// stride or dilate differently along each axis.
///
/// Only the padding before each axis (top, left) is stored: the padding after is whatever
/// the output size implies (`shape::window_fits`), which is how Keras's asymmetric `same`
/// padding fits in one description. Positions outside the input read as padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window2D {
    pub rows: Window1D,
    pub cols: Window1D,
}

impl Window2D {
    /// Panics unless this window maps an `input` (H, W) image to `out` (OH, OW).
    pub(crate) fn check(self, input: (usize, usize), out: (usize, usize)) {
        self.rows.check(input.0, out.0);
        self.cols.check(input.1, out.1);
    }

    /// Taps per window: rows times columns of the kernel.
    pub(crate) fn taps(self) -> usize {
        self.rows.kernel * self.cols.kernel
    }
}

/// Where a 1-D sliding window (convolution or pooling over a sequence's steps, or one axis
/// of a [`Window2D`]) reads its input. Only the padding before the first step is stored;
/// the padding after is whatever the output length implies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window1D {
    pub kernel: usize,
    pub stride: usize,
    pub dilation: usize,
    pub pad: usize,
}

impl Window1D {
    /// A window of `kernel` taps, `dilation` apart, moved `stride` at a time, starting `pad`
    /// before the input.
    pub const fn new(kernel: usize, stride: usize, dilation: usize, pad: usize) -> Self {
        Self {
            kernel,
            stride,
            dilation,
            pad,
        }
    }

    /// Panics unless this window maps `input` steps to `out` steps (the one check each
    /// implementation makes before it indexes anything).
    pub(crate) fn check(self, input: usize, out: usize) {
        assert!(
            self.kernel >= 1 && self.stride >= 1 && self.dilation >= 1,
            "kernel, stride and dilation must be at least 1: {self:?}"
        );
        assert!(
            crate::shape::window_fits(
                input,
                self.kernel,
                self.stride,
                self.dilation,
                self.pad,
                out
            ),
            "{self:?} does not map {input} steps to {out}"
        );
    }

    /// The input steps the window of output `o` covers, clipped to an input of `input`
    /// steps; empty when the window lies wholly in the padding. For pooling windows, whose
    /// taps are adjacent (dilation 1).
    pub(crate) fn span(self, o: usize, input: usize) -> std::ops::Range<usize> {
        debug_assert_eq!(self.dilation, 1, "a dilated window covers no one range");
        let taps = cpu::taps_inside(o, input, self.kernel, self.stride, 1, self.pad);
        if taps.is_empty() {
            return 0..0;
        }
        let start = o * self.stride + taps.start - self.pad;
        start..start + taps.len()
    }

    /// [`Self::span`] of every output, for a window that maps `input` steps to `out`.
    pub(crate) fn spans(self, input: usize, out: usize) -> Vec<std::ops::Range<usize>> {
        (0..out).map(|o| self.span(o, input)).collect()
    }

    /// The input step that tap `k` of output `o` reads, or `None` in the padding.
    #[inline]
    pub(crate) fn input_step(self, o: usize, k: usize, input: usize) -> Option<usize> {
        (o * self.stride + k * self.dilation)
            .checked_sub(self.pad)
            .filter(|&i| i < input)
    }
}
