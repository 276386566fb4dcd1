//! `InputShape`: the shape of one model input, and the batch shape built from it.

use super::error::DataError;
use dfdx::prelude::{Const, ConstShape, Device, Dtype, Shape, Tensor};

/// The shape of one sample a model takes, e.g. `Rank3<1, 28, 28>` for a CNN or
/// `Rank2<28, 28>` for a recurrent network reading rows; implemented for dfdx's
/// `(Const<A>,)` up to `(Const<A>, Const<B>, Const<C>, Const<D>)`.
///
/// A batch of `n` samples has the shape [`Batched`](Self::Batched): the sample shape with
/// a runtime `usize` batch dimension in front, e.g. `(usize, Const<1>, Const<28>, Const<28>)`.
///
/// ```
/// use typenet::data::InputShape;
/// use typenet::dfdx::prelude::*;
/// assert_eq!(<Rank3<1, 28, 28>>::batched(64).concrete(), [64, 1, 28, 28]);
/// assert!(<Rank3<1, 28, 28>>::accepts(&[28, 28]).is_ok());
/// assert!(<Rank1<784>>::accepts(&[28, 28]).is_ok()); // flattened
/// assert!(<Rank3<1, 32, 32>>::accepts(&[28, 28]).is_err());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model input shape",
    note = "tell the trainer the shape of one sample, e.g. `.input::<Rank3<1, 28, 28>>()`"
)]
pub trait InputShape: ConstShape {
    /// The shape of a batch: `(usize, ...)` followed by the sample's dimensions.
    type Batched: Shape;

    /// The dimensions of one sample.
    const DIMS: &'static [usize];

    /// The shape of a batch of `n` samples.
    fn batched(n: usize) -> Self::Batched;

    /// A batch tensor of this input holding `values`, whole samples row after row (as
    /// [`Batch::inputs`](super::Batch::inputs) holds them), for a hand-written loop.
    ///
    /// ```
    /// use typenet::data::InputShape;
    /// use typenet::dfdx::prelude::*;
    /// let dev = Cpu::default();
    /// let x = <Rank3<1, 2, 2>>::tensor(&dev, vec![0.5f32; 3 * 4]).unwrap();
    /// assert_eq!(x.shape().concrete(), [3, 1, 2, 2]);
    /// ```
    ///
    /// # Panics
    /// If `values` does not hold a whole number of samples.
    fn tensor<E: Dtype, D: Device<E>>(
        dev: &D,
        values: Vec<E>,
    ) -> Result<Tensor<Self::Batched, E, D>, D::Err> {
        assert!(
            values.len().is_multiple_of(Self::NUMEL),
            "{} values do not divide into samples of {:?}",
            values.len(),
            Self::DIMS
        );
        let n = values.len().checked_div(Self::NUMEL).unwrap_or(0);
        dev.try_tensor_from_vec(values, Self::batched(n))
    }

    /// Checks that samples of `shape` can be fed to this input: the same dimensions once
    /// dimensions of size 1 are dropped (`[28, 28]` fits `1x28x28`), or, when this input
    /// is flat, the same number of values (`[28, 28]` fits `784`).
    ///
    /// Errors with [`DataError::SampleShape`] naming both shapes.
    fn accepts(shape: &[usize]) -> Result<(), DataError> {
        let squeeze =
            |dims: &[usize]| -> Vec<usize> { dims.iter().copied().filter(|&d| d != 1).collect() };
        let flat = Self::DIMS.len() == 1 && shape.iter().product::<usize>() == Self::NUMEL;
        if flat || squeeze(shape) == squeeze(Self::DIMS) {
            Ok(())
        } else {
            Err(DataError::SampleShape {
                expected: Self::DIMS.to_vec(),
                found: shape.to_vec(),
            })
        }
    }
}

impl<const A: usize> InputShape for (Const<A>,) {
    type Batched = (usize, Const<A>);
    const DIMS: &'static [usize] = &[A];
    fn batched(n: usize) -> Self::Batched {
        (n, Const)
    }
}

impl<const A: usize, const B: usize> InputShape for (Const<A>, Const<B>) {
    type Batched = (usize, Const<A>, Const<B>);
    const DIMS: &'static [usize] = &[A, B];
    fn batched(n: usize) -> Self::Batched {
        (n, Const, Const)
    }
}

impl<const A: usize, const B: usize, const C: usize> InputShape for (Const<A>, Const<B>, Const<C>) {
    type Batched = (usize, Const<A>, Const<B>, Const<C>);
    const DIMS: &'static [usize] = &[A, B, C];
    fn batched(n: usize) -> Self::Batched {
        (n, Const, Const, Const)
    }
}

impl<const A: usize, const B: usize, const C: usize, const D: usize> InputShape
    for (Const<A>, Const<B>, Const<C>, Const<D>)
{
    type Batched = (usize, Const<A>, Const<B>, Const<C>, Const<D>);
    const DIMS: &'static [usize] = &[A, B, C, D];
    fn batched(n: usize) -> Self::Batched {
        (n, Const, Const, Const, Const)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::prelude::{Rank1, Rank2, Rank3};

    #[test]
    fn shapes_fit_up_to_unit_dimensions_or_flattening() {
        assert!(<Rank3<1, 28, 28>>::accepts(&[1, 28, 28]).is_ok());
        assert!(<Rank2<28, 28>>::accepts(&[1, 28, 28]).is_ok());
        assert!(<Rank1<784>>::accepts(&[1, 28, 28]).is_ok());
        // Same number of values, but a different layout: not silently reshaped.
        assert!(<Rank2<14, 56>>::accepts(&[28, 28]).is_err());
    }

    #[test]
    fn a_mismatch_names_both_shapes() {
        let err = <Rank3<1, 32, 32>>::accepts(&[28, 28]).unwrap_err();
        assert!(matches!(
            &err,
            DataError::SampleShape { expected, found }
                if expected == &[1, 32, 32] && found == &[28, 28]
        ));
        let msg = err.to_string();
        assert!(
            msg.contains("[28, 28]") && msg.contains("[1, 32, 32]"),
            "{msg}"
        );
    }
}
