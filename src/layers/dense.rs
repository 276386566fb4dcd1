//! `Dense`: a fully connected layer, `y = x W^T + b`.

use super::conv2d::fan_in_uniform;
use super::LayerInfo;
use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::nn::{BuildOnDevice, Module, NonMutableModule};
use dfdx::prelude::{
    Axes2, BroadcastTo, Const, Device, Dim, Dtype, HasShape, PermuteTo, Rank1, Rank2, ReshapeTo,
    Shape, Storage, Tape, Tensor, TryAdd, TryMatMul,
};
use num_traits::Float;
use rand_distr::uniform::SampleUniform;

/// A fully connected layer from `I` to `O` units; it builds into a [`DenseModule`], laid out
/// as dfdx's and PyTorch's `Linear` (`weight` `(O, I)`, `bias` `(O)`).
///
/// - Input shape: `(I)`, or `(T, I)` for a sequence (the same weights at every step,
///   Keras's `Dense` on a 3-D input); with a leading batch dimension `(B, ..)`.
/// - Output shape: `(O)`, or `(T, O)`.
/// - Arguments: `Dense<units>`; `activation = relu` (or any activation) appends that
///   activation. `STEPS` is the sequence length `T` on a sequence, 0 on a vector.
/// - Parameters: `I * O + O`. Weights start uniform in `±1/sqrt(I)` (PyTorch's choice).
///
/// ```
/// use typenet::prelude::*;
/// type Net = network![Input<8>, Dense<4>];
/// let dev: Cpu = Default::default();
/// let net = dev.build_module::<Net, f32>();
/// let y: Tensor<Rank2<2, 4>, f32, _> = net.forward(dev.zeros::<Rank2<2, 8>>());
/// assert_eq!(net.num_trainable_params(), 8 * 4 + 4);
/// # let _ = y;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Dense<const I: usize, const O: usize, const STEPS: usize = 0>;

impl<const I: usize, const O: usize, const STEPS: usize, E, D> BuildOnDevice<D, E>
    for Dense<I, O, STEPS>
where
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    type Built = DenseModule<I, O, E, D>;
}

/// The tensors of a [`Dense`] layer.
#[derive(Debug, Clone)]
pub struct DenseModule<const I: usize, const O: usize, E: Dtype, D: Storage<E>> {
    /// `(O, I)`, as PyTorch's `Linear.weight`.
    pub weight: Tensor<Rank2<O, I>, E, D>,
    pub bias: Tensor<Rank1<O>, E, D>,
}

impl<const I: usize, const O: usize, E, D> TensorCollection<E, D> for DenseModule<I, O, E, D>
where
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = DenseModule<I, O, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::tensor(
                    "weight",
                    |s| &s.weight,
                    |s| &mut s.weight,
                    TensorOptions::reset_with(|t| t.try_fill_with_distr(fan_in_uniform(I))),
                ),
                Self::tensor(
                    "bias",
                    |s| &s.bias,
                    |s| &mut s.bias,
                    TensorOptions::reset_with(|t| t.try_fill_with_distr(fan_in_uniform(I))),
                ),
            ),
            |(weight, bias)| DenseModule { weight, bias },
        )
    }
}

impl<const I: usize, const O: usize, E: Dtype, D: Storage<E>> NonMutableModule
    for DenseModule<I, O, E, D>
{
}

/// A shape whose last dimension is `Const<I>`: one vector `(I)`, a batch `(B, I)`, a sequence
/// `(T, I)` or a batch of sequences `(B, T, I)`. Dense maps the last dimension alone.
#[diagnostic::on_unimplemented(
    message = "`Dense` takes {I} features in the last dimension, but is given a tensor of shape `{Self}`",
    label = "the last dimension of this tensor is not {I}",
    note = "pass the shape the network's `Input<..>` declares, with or without a batch dimension in front"
)]
pub trait Features<const I: usize>: Shape {
    /// The same shape with `O` features.
    type With<const O: usize>: Shape;
    fn with<const O: usize>(&self) -> Self::With<O>;
}

impl<const I: usize> Features<I> for (Const<I>,) {
    type With<const O: usize> = (Const<O>,);
    fn with<const O: usize>(&self) -> Self::With<O> {
        (Const,)
    }
}

impl<A: Dim, const I: usize> Features<I> for (A, Const<I>) {
    type With<const O: usize> = (A, Const<O>);
    fn with<const O: usize>(&self) -> Self::With<O> {
        (self.0, Const)
    }
}

impl<A: Dim, B: Dim, const I: usize> Features<I> for (A, B, Const<I>) {
    type With<const O: usize> = (A, B, Const<O>);
    fn with<const O: usize>(&self) -> Self::With<O> {
        (self.0, self.1, Const)
    }
}

/// One impl for every rank (see [`BatchOf`](super::BatchOf) for why): the leading dimensions
/// become the rows of one matrix product.
impl<const I: usize, const O: usize, X, E, D, T> Module<Tensor<X, E, D, T>>
    for DenseModule<I, O, E, D>
where
    X: Features<I>,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
{
    type Output = Tensor<X::With<O>, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<X, E, D, T>) -> Result<Self::Output, D::Err> {
        let out = x.shape().with::<O>();
        let rows = x.shape().num_elements() / I;
        let x = x.try_reshape_like(&(rows, Const::<I>))?;
        let weight = self.weight.retaped::<T>().try_permute::<_, Axes2<1, 0>>()?;
        let y = x.try_matmul(weight)?;
        let bias = self.bias.retaped::<T>().try_broadcast_like(y.shape())?;
        y.try_add(bias)?.try_reshape_like(&out)
    }
}

impl<const I: usize, const O: usize, const STEPS: usize> LayerInfo for Dense<I, O, STEPS> {
    const NAME: &'static str = "Dense";
    const OUTPUT: Option<&'static [usize]> = Some(if STEPS == 0 { &[O] } else { &[STEPS, O] });
    const PARAMS: usize = I * O + O;
    const FLOPS: usize = 2 * I * O * if STEPS == 0 { 1 } else { STEPS };
    const ACTIVATIONS: usize = O * if STEPS == 0 { 1 } else { STEPS };
}
