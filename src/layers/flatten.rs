//! `Flatten`: one sample becomes a vector (a vector passes through unchanged).

use super::{BatchOf, LayerInfo, SampleShape};
use dfdx::nn::{Module, NonMutableModule, ZeroSizedModule};
use dfdx::prelude::{Const, ConstShape, Device, Dtype, HasShape, Rank1, ReshapeTo, Tape, Tensor};
use std::marker::PhantomData;

/// Flattens each sample of shape `In` into a vector of `N` elements, in row-major order.
///
/// - Input shape: `In`, `(A,)`, `(A, B)` or `(A, B, C)` of `Const`s with `A * B * C == N`
///   (checked at compile time); with a leading batch dimension `(Batch, ..)`.
/// - Output shape: `(N)`. On a vector, `In = (N,)`, it changes nothing (Keras accepts
///   `Flatten` there too).
///
/// ```
/// use typenet::prelude::*;
/// let dev: Cpu = Default::default();
/// let x: Tensor<Rank4<2, 3, 4, 5>, f32, _> = dev.zeros();
/// let y: Tensor<Rank2<2, 60>, f32, _> = Flatten::<Rank3<3, 4, 5>, 60>::default().forward(x);
/// # let _ = y;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Flatten<In, const N: usize>(PhantomData<In>);

impl<In: Default, const N: usize> ZeroSizedModule for Flatten<In, N> {}
impl<In, const N: usize> NonMutableModule for Flatten<In, N> {}

impl<In, const N: usize> LayerInfo for Flatten<In, N> {
    const NAME: &'static str = "Flatten";
    const OUTPUT: Option<&'static [usize]> = Some(&[N]);
    const PARAMS: usize = 0;
    const FLOPS: usize = 0;
    const ACTIVATIONS: usize = N;
}

impl<In, const N: usize, X, E, D, T> Module<Tensor<X, E, D, T>> for Flatten<In, N>
where
    In: SampleShape + ConstShape,
    X: BatchOf<In>,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
{
    type Output = Tensor<X::Of<Rank1<N>>, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<X, E, D, T>) -> Result<Self::Output, D::Err> {
        const {
            assert!(
                In::NUMEL == N,
                "Flatten<In, N>: N must be the number of elements of one sample"
            )
        };
        let batch = X::batch(x)?;
        let (n, _) = In::split(batch.shape());
        X::unbatch(batch.try_reshape_like(&(n, Const::<N>))?)
    }
}
