//! Activations: `ReLU`, `LeakyReLU`, `Sigmoid`, `Tanh`, `GELU`, `Softmax`.
//!
//! Input shape: any. Output shape: the same. The macro wraps each in
//! [`Activation<A, N>`](Activation), which records the `N` elements of a sample for the
//! summary and builds into the bare dfdx activation `A`.

use super::LayerInfo;
use crate::ops::relu::ReluKernel;
use crate::ops::OutputActivation;
use dfdx::nn::{BuildOnDevice, Module, NonMutableModule, ZeroSizedModule};
use dfdx::prelude::{Device, Dtype, HasShape, Shape, Tape, Tensor};

pub use dfdx::nn::modules::{Sigmoid, Softmax, Tanh};

/// `max(x, 0)`, elementwise; a NaN passes through and the gradient at 0 is 0, as in PyTorch.
///
/// - Input shape: any. Output shape: the same.
/// - On `Cpu` it runs a threaded kernel ([`ops::relu`](crate::ops::relu)); elsewhere
///   dfdx's `relu`. It replaces dfdx's `ReLU` in typenet's prelude and works in hand-built
///   dfdx models too.
///
/// ```
/// # use typenet::prelude::*;
/// let dev: Cpu = Default::default();
/// let y = ReLU.forward(dev.tensor([-2.0f32, 0.0, 3.0]));
/// assert_eq!(y.array(), [0.0, 0.0, 3.0]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ReLU;

impl ZeroSizedModule for ReLU {}
impl NonMutableModule for ReLU {}

impl<S: Shape, E: Dtype, D: ReluKernel<E>, T: Tape<E, D>> Module<Tensor<S, E, D, T>> for ReLU {
    type Output = Tensor<S, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
        D::try_relu(x)
    }
}

/// An activation a layer can run inside its own op, as the last type parameter of
/// [`Conv2D`](super::Conv2D): [`Identity`] (none) or [`ReLU`].
pub trait FusedActivation:
    Clone + Copy + Default + std::fmt::Debug + Send + Sync + 'static
{
    /// What the op applies to its output.
    const OUTPUT: OutputActivation;
}

/// No activation: the layer's output as computed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity;

impl FusedActivation for Identity {
    const OUTPUT: OutputActivation = OutputActivation::Identity;
}

impl FusedActivation for ReLU {
    const OUTPUT: OutputActivation = OutputActivation::Relu;
}

/// Layer `A`, already applied by the layer before it, which ran it inside its own op:
/// `network!` writes `Conv2D<.., ReLU>` then `Activation<Fused<ReLU>, N>` for a `ReLU`
/// after a `Conv2D`, and `Conv2D<.., P>` then `Fused<P>` for a max pool `P` after it.
/// Passes its input through; the summary still lists the layer as `A`, so the model reads
/// as written. Correct only right after a layer that applies `A`: a hand-written network
/// that puts it anywhere else skips it.
///
/// - Input shape: any. Output shape: the same.
///
/// ```
/// # use typenet::prelude::*;
/// # use typenet::layers::Fused;
/// let dev: Cpu = Default::default();
/// let x = dev.tensor([-1.0f32, 2.0]);
/// assert_eq!(Fused::<ReLU>::default().forward(x).array(), [-1.0, 2.0]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Fused<A>(A);

impl<A: Default> ZeroSizedModule for Fused<A> {}
impl<A> NonMutableModule for Fused<A> {}

impl<A, S: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>> Module<Tensor<S, E, D, T>> for Fused<A> {
    type Output = Tensor<S, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
        Ok(x)
    }
}

/// Gaussian error linear unit, the exact erf form (`torch.nn.GELU()`, Keras `gelu`).
pub type GELU = dfdx::nn::modules::AccurateGeLU;

/// `max(x, 0) + slope * min(x, 0)`, with the slope in parts per million
/// (`LeakyReLU<300_000>` is Keras's default `negative_slope=0.3`).
///
/// ```
/// # use typenet::prelude::*;
/// let dev: Cpu = Default::default();
/// let y = LeakyReLU::<500_000>.forward(dev.tensor([-2.0f32, 3.0]));
/// assert_eq!(y.array(), [-1.0, 3.0]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LeakyReLU<const SLOPE_PPM: u32>;

impl<const SLOPE_PPM: u32> ZeroSizedModule for LeakyReLU<SLOPE_PPM> {}
impl<const SLOPE_PPM: u32> NonMutableModule for LeakyReLU<SLOPE_PPM> {}

impl<const SLOPE_PPM: u32, S: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>>
    Module<Tensor<S, E, D, T>> for LeakyReLU<SLOPE_PPM>
{
    type Output = Tensor<S, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
        if x.shape().num_elements() == 0 {
            // dfdx's prelu reads element 0; an empty batch has nothing to activate.
            return Ok(x);
        }
        let slope = E::from_f64(SLOPE_PPM as f64 * 1e-6).unwrap();
        dfdx::tensor_ops::TryPReLU::try_prelu(x, slope)
    }
}

/// An activation `A` applied to samples of `N` elements: a builder that builds into `A`.
///
/// ```
/// # use typenet::prelude::*;
/// let dev: Cpu = Default::default();
/// let relu = dev.build_module::<Activation<ReLU, 3>, f32>();
/// assert_eq!(relu.forward(dev.tensor([-1.0f32, 0.5, 2.0])).array(), [0.0, 0.5, 2.0]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Activation<A, const N: usize>(A);

impl<A: BuildOnDevice<D, E>, const N: usize, D: Device<E>, E: Dtype> BuildOnDevice<D, E>
    for Activation<A, N>
{
    type Built = A::Built;
}

macro_rules! activation_info {
    ($($ty:ty => $name:literal, $flops_per_element:literal;)*) => {$(
        impl<const N: usize> LayerInfo for Activation<$ty, N> {
            const NAME: &'static str = $name;
            const OUTPUT: Option<&'static [usize]> = None;
            const PARAMS: usize = 0;
            const FLOPS: usize = $flops_per_element * N;
            const ACTIVATIONS: usize = N;
        }
    )*};
}

activation_info! {
    ReLU => "ReLU", 1;
    Sigmoid => "Sigmoid", 4;
    Tanh => "Tanh", 4;
    GELU => "GELU", 8;
    Softmax => "Softmax", 4;
}

/// A fused pooling layer: listed as the layer it is.
impl<L: LayerInfo> LayerInfo for Fused<L> {
    const NAME: &'static str = L::NAME;
    const OUTPUT: Option<&'static [usize]> = L::OUTPUT;
    const PARAMS: usize = 0;
    const FLOPS: usize = L::FLOPS;
    const ACTIVATIONS: usize = L::ACTIVATIONS;
}

impl<A, const N: usize> LayerInfo for Activation<Fused<A>, N>
where
    Activation<A, N>: LayerInfo,
{
    const NAME: &'static str = <Activation<A, N>>::NAME;
    const OUTPUT: Option<&'static [usize]> = <Activation<A, N>>::OUTPUT;
    const PARAMS: usize = 0;
    const FLOPS: usize = <Activation<A, N>>::FLOPS;
    const ACTIVATIONS: usize = <Activation<A, N>>::ACTIVATIONS;
}

impl<const SLOPE_PPM: u32, const N: usize> LayerInfo for Activation<LeakyReLU<SLOPE_PPM>, N> {
    const NAME: &'static str = "LeakyReLU";
    const OUTPUT: Option<&'static [usize]> = None;
    const PARAMS: usize = 0;
    const FLOPS: usize = 2 * N;
    const ACTIVATIONS: usize = N;
}
