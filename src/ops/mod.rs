//! Tensor ops that dfdx 0.13 lacks on stable Rust. Each op has a fast `Cpu` kernel and a
//! device-generic implementation composed of dfdx ops; the latter is what `Cuda` runs and
//! the oracle the fast kernel is tested against.

pub mod conv2d;
pub mod cpu;
pub mod pool2d;
pub mod recurrent;
pub mod relu;

/// Where a 2-D sliding window (convolution or pooling) reads its input.
///
/// Only the padding before each axis (top, left) is stored: the padding after is whatever
/// the output size implies (`shape::window_fits`), which is how Keras's asymmetric `same`
/// padding fits in one description. Positions outside the input read as padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window2D {
    pub kernel: usize,
    pub stride: usize,
    pub dilation: usize,
    pub pad_top: usize,
    pub pad_left: usize,
}
