//! ReLU, `max(x, 0)`, as an op with a fast `Cpu` kernel.
//!
//! dfdx's own ReLU is single-threaded and walks its backward with a strided index per
//! element; on the seed CNN its three ReLUs cost a quarter of a training step. The fast
//! kernel runs forward and backward on rayon over the cores. As in PyTorch, a NaN passes
//! through, and the gradient at 0 is 0.

mod cpu;
#[cfg(test)]
mod tests;

use dfdx::prelude::*;

/// `max(v, 0)` for one value: `v < 0`, not `v > 0`, so that a NaN, which is not below
/// zero, passes, as in PyTorch. (Shared by this op and the activations fused into other
/// layers, [`OutputActivation::Relu`](super::OutputActivation).)
#[inline]
pub(crate) fn relu<E: crate::ops::cpu::CpuFloat>(v: E) -> E {
    if v < E::zero() {
        E::zero()
    } else {
        v
    }
}

/// Whether the gradient passes a ReLU whose input, or output (both are positive at the same
/// places), is `v`: where `v > 0`, so not at 0 and not at a NaN.
#[inline]
pub(crate) fn relu_passes<E: crate::ops::cpu::CpuFloat>(v: E) -> bool {
    v > E::zero()
}

/// The gradient `g` through a ReLU, given whether it passes there ([`relu_passes`]).
#[inline]
pub(crate) fn relu_grad<E: crate::ops::cpu::CpuFloat>(passes: bool, g: E) -> E {
    // A select, which vectorises; a branch would mispredict.
    if passes {
        g
    } else {
        E::zero()
    }
}

/// Devices that run [`ReLU`](crate::layers::ReLU): `Cpu` with the fast kernel, other
/// devices with dfdx's `relu`.
pub trait ReluKernel<E: Dtype>: Device<E> {
    fn try_relu<S: Shape, T: Tape<E, Self>>(
        x: Tensor<S, E, Self, T>,
    ) -> Result<Tensor<S, E, Self, T>, Self::Err> {
        x.try_relu()
    }
}

impl<E: crate::ops::cpu::CpuFloat> ReluKernel<E> for Cpu
where
    Cpu: Device<E>,
{
    fn try_relu<S: Shape, T: Tape<E, Self>>(
        x: Tensor<S, E, Self, T>,
    ) -> Result<Tensor<S, E, Self, T>, Self::Err> {
        cpu::try_relu(x)
    }
}

#[cfg(feature = "cuda")]
impl<E: Dtype> ReluKernel<E> for Cuda where Cuda: Device<E> {}
