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
