//! `Flatten`: one sample becomes a vector.

use super::LayerInfo;
use dfdx::nn::{Module, NonMutableModule, ZeroSizedModule};
use dfdx::prelude::{Const, Device, Dim, Dtype, HasShape, ReshapeTo, Tape, Tensor};
use std::marker::PhantomData;

/// Flattens each sample of shape `In` into a vector of `N` elements, in row-major order.
///
/// - Input shape: `In`, `(A, B)` or `(A, B, C)` of `Const`s with `A * B * C == N` (checked at
///   compile time); with a leading batch dimension `(Batch, ..)`.
/// - Output shape: `(N)`.
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

impl<In, const N: usize> Flatten<In, N> {
    const fn check(numel: usize) {
        assert!(
            numel == N,
            "Flatten<N>: N must be the number of elements of one sample"
        );
    }
}

macro_rules! flatten_impls {
    ($(($($d:ident),+)),+) => {$(
        impl<const N: usize, $(const $d: usize,)+ E: Dtype, D: Device<E>, T: Tape<E, D>>
            Module<Tensor<($(Const<$d>,)+), E, D, T>> for Flatten<($(Const<$d>,)+), N>
        {
            type Output = Tensor<(Const<N>,), E, D, T>;
            type Error = D::Err;

            fn try_forward(&self, x: Tensor<($(Const<$d>,)+), E, D, T>) -> Result<Self::Output, D::Err> {
                const { Self::check(1 $(* $d)+) };
                x.try_reshape()
            }
        }

        impl<const N: usize, Batch: Dim, $(const $d: usize,)+ E: Dtype, D: Device<E>, T: Tape<E, D>>
            Module<Tensor<(Batch, $(Const<$d>,)+), E, D, T>> for Flatten<($(Const<$d>,)+), N>
        {
            type Output = Tensor<(Batch, Const<N>), E, D, T>;
            type Error = D::Err;

            fn try_forward(&self, x: Tensor<(Batch, $(Const<$d>,)+), E, D, T>) -> Result<Self::Output, D::Err> {
                const { Self::check(1 $(* $d)+) };
                let batch = x.shape().0;
                x.try_reshape_like(&(batch, Const::<N>))
            }
        }
    )+};
}

flatten_impls!((A, B), (A, B, C));
