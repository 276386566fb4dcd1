//! `BatchOf<Sample>`: one sample, or a batch of them, as one type parameter.
//!
//! Every layer takes a lone sample `(C, H, W)` or a batch `(B, C, H, W)`. Written as two
//! `Module` impls, a layer becomes ambiguous to the trait solver whenever its input is still
//! an unnormalised associated type (the output of the layers before it, in a
//! [`Chain`](crate::Chain)): it then weighs both impls, each of which re-solves everything
//! upstream, and `cargo check` of a deep network grows exponentially with its depth. So each
//! layer has a *single* `Module` impl over `Tensor<X, ..>` with `X: BatchOf<Sample>`, and the
//! choice between a sample and a batch is made by this trait, on `X` alone.

use dfdx::prelude::{Const, Device, Dim, Dtype, HasShape, ReshapeTo, Shape, Tape, Tensor};

/// The shape of one sample: `(A,)`, `(A, B)` or `(A, B, C)`.
pub trait SampleShape: Shape {
    /// The shape of `N` samples: `(N, ..Self)`.
    type Batched<N: Dim>: Shape;

    /// `(n, ..self)`.
    fn batched<N: Dim>(self, n: N) -> Self::Batched<N>;
    /// A batch's shape as its size and one sample's shape.
    fn split<N: Dim>(batch: &Self::Batched<N>) -> (N, Self);
}

/// A tensor shape that holds samples of shape `Sample`: one sample, or a batch of any
/// [`Dim`] in front of it.
#[diagnostic::on_unimplemented(
    message = "a layer takes samples of shape `{Sample}`, alone or in a batch, but is given a tensor of shape `{Self}`",
    label = "this tensor's shape does not fit the layer",
    note = "pass the shape the network's `Input<..>` declares, with or without a batch dimension in front"
)]
pub trait BatchOf<Sample: SampleShape>: Shape {
    /// The batch dimension: `Const<1>` for a lone sample.
    type Size: Dim;
    /// The same batching around another sample shape (what a layer outputs).
    type Of<Out: SampleShape>: Shape;

    /// The number of samples in a tensor of this shape.
    fn batch_size(shape: &Self) -> Self::Size;

    /// The input as a batch, `(Size, ..Sample)`; free for a contiguous tensor.
    fn batch<E: Dtype, D: Device<E>, T: Tape<E, D>>(
        x: Tensor<Self, E, D, T>,
    ) -> Result<Tensor<Sample::Batched<Self::Size>, E, D, T>, D::Err>;

    /// A layer's batched output, batched as the input was.
    fn unbatch<Out: SampleShape, E: Dtype, D: Device<E>, T: Tape<E, D>>(
        y: Tensor<Out::Batched<Self::Size>, E, D, T>,
    ) -> Result<Tensor<Self::Of<Out>, E, D, T>, D::Err>;
}

macro_rules! sample_shapes {
    ($(($($d:ident),+)),+) => {$(
        impl<$($d: Dim,)+> SampleShape for ($($d,)+) {
            type Batched<N: Dim> = (N, $($d,)+);

            #[allow(non_snake_case)]
            fn batched<N: Dim>(self, n: N) -> Self::Batched<N> {
                let ($($d,)+) = self;
                (n, $($d,)+)
            }

            #[allow(non_snake_case)]
            fn split<N: Dim>(batch: &Self::Batched<N>) -> (N, Self) {
                let (n, $($d,)+) = *batch;
                (n, ($($d,)+))
            }
        }

        /// A lone sample: a batch of `Const<1>`.
        impl<$($d: Dim,)+> BatchOf<($($d,)+)> for ($($d,)+) {
            type Size = Const<1>;
            type Of<Out: SampleShape> = Out;

            fn batch_size(_: &Self) -> Const<1> {
                Const
            }

            fn batch<E: Dtype, D: Device<E>, T: Tape<E, D>>(
                x: Tensor<Self, E, D, T>,
            ) -> Result<Tensor<(Const<1>, $($d,)+), E, D, T>, D::Err> {
                let shape = x.shape().batched(Const::<1>);
                x.try_reshape_like(&shape)
            }

            fn unbatch<Out: SampleShape, E: Dtype, D: Device<E>, T: Tape<E, D>>(
                y: Tensor<Out::Batched<Const<1>>, E, D, T>,
            ) -> Result<Tensor<Out, E, D, T>, D::Err> {
                let (_, shape) = Out::split(y.shape());
                y.try_reshape_like(&shape)
            }
        }

        /// A batch: passes through untouched.
        impl<N: Dim, $($d: Dim,)+> BatchOf<($($d,)+)> for (N, $($d,)+) {
            type Size = N;
            type Of<Out: SampleShape> = Out::Batched<N>;

            fn batch_size(shape: &Self) -> N {
                shape.0
            }

            fn batch<E: Dtype, D: Device<E>, T: Tape<E, D>>(
                x: Tensor<Self, E, D, T>,
            ) -> Result<Tensor<Self, E, D, T>, D::Err> {
                Ok(x)
            }

            fn unbatch<Out: SampleShape, E: Dtype, D: Device<E>, T: Tape<E, D>>(
                y: Tensor<Out::Batched<N>, E, D, T>,
            ) -> Result<Tensor<Out::Batched<N>, E, D, T>, D::Err> {
                Ok(y)
            }
        }
    )+};
}

sample_shapes!((A), (A, B), (A, B, C));

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::prelude::*;

    fn roundtrip<X: BatchOf<Rank2<2, 3>>>(
        x: Tensor<X, f32, Cpu>,
    ) -> Tensor<X::Of<Rank1<6>>, f32, Cpu> {
        let b = X::batch(x).unwrap();
        let (n, _) = Rank2::<2, 3>::split(b.shape());
        X::unbatch(b.reshape_like(&(n, Const::<6>))).unwrap()
    }

    #[test]
    fn a_sample_is_a_batch_of_one_and_a_batch_stays_a_batch() {
        let dev: Cpu = Default::default();
        let one: Tensor<Rank2<2, 3>, f32, _> = dev.sample_normal();
        let flat: Tensor<Rank1<6>, f32, _> = roundtrip(one.clone());
        assert_eq!(flat.as_vec(), one.as_vec());
        let many: Tensor<(usize, Const<2>, Const<3>), f32, _> =
            dev.sample_normal_like(&(4, Const, Const));
        let flat: Tensor<(usize, Const<6>), f32, _> = roundtrip(many.clone());
        assert_eq!(flat.shape().0, 4);
        assert_eq!(flat.as_vec(), many.as_vec());
    }
}
