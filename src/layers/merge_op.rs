//! How the branches of a [`Parallel`](super::Parallel) block become one tensor: Keras's merge
//! layers `Concatenate`, `Add`, `Multiply`, `Average` and `Maximum`.
//!
//! Each branch's output is first viewed as a matrix ([`Rows`]): one row per sample, or per
//! step of a sequence when features are concatenated, and its values as columns. Then every
//! merge is one dfdx op on two matrices, folded over the branches, with dfdx's own kernels
//! (and gradients) on every device.

use dfdx::prelude::{
    Axis, Device, Dtype, Merge, NoneTape, Tape, Tensor, TryAdd, TryConcatAlong, TryMul,
};

/// A branch's output as a matrix, `(rows, columns)`.
pub type Rows<E, D, T = NoneTape> = Tensor<(usize, usize), E, D, T>;

/// One way of merging branches, folded over them in order.
pub trait MergeOp: Default {
    /// The name a Keras user knows it by.
    const NAME: &'static str;
    /// Rows of the matrix view per sample: a sequence's steps when its features are
    /// concatenated (each step keeps its place), 1 otherwise.
    const ROWS_PER_SAMPLE: usize = 1;
    /// Floating-point operations per output value for each branch after the first.
    const FLOPS_PER_VALUE: usize;

    /// The branches merged so far (holding the tape) with the next one.
    fn merge<E: Dtype, D: Device<E>, T: Tape<E, D> + Merge<NoneTape>>(
        merged: Rows<E, D, T>,
        next: Rows<E, D>,
    ) -> Result<Rows<E, D, T>, D::Err>;

    /// After the last branch, given how many there were.
    fn finish<E: Dtype, D: Device<E>, T: Tape<E, D> + Merge<NoneTape>>(
        merged: Rows<E, D, T>,
        _branches: usize,
    ) -> Result<Rows<E, D, T>, D::Err> {
        Ok(merged)
    }
}

/// Joins the branches' values side by side: channels for images, features for vectors and
/// for each step of a sequence (`STEPS` is the sequence's length, 1 otherwise). Keras's
/// `Concatenate` on the channel (or last) axis.
#[derive(Debug, Clone, Copy, Default)]
pub struct Concat<const STEPS: usize>;

/// Element-wise sum: Keras's `Add`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Add;

/// Element-wise product: Keras's `Multiply`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Multiply;

/// Element-wise mean: Keras's `Average`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Average;

/// Element-wise maximum: Keras's `Maximum`. Where two branches tie, each gets half the
/// gradient (dfdx's `maximum`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Maximum;

impl<const STEPS: usize> MergeOp for Concat<STEPS> {
    const NAME: &'static str = "Concat";
    const ROWS_PER_SAMPLE: usize = STEPS;
    const FLOPS_PER_VALUE: usize = 0;

    fn merge<E: Dtype, D: Device<E>, T: Tape<E, D> + Merge<NoneTape>>(
        merged: Rows<E, D, T>,
        next: Rows<E, D>,
    ) -> Result<Rows<E, D, T>, D::Err> {
        (merged, next).try_concat_along(Axis::<1>)
    }
}

impl MergeOp for Add {
    const NAME: &'static str = "Add";
    const FLOPS_PER_VALUE: usize = 1;

    fn merge<E: Dtype, D: Device<E>, T: Tape<E, D> + Merge<NoneTape>>(
        merged: Rows<E, D, T>,
        next: Rows<E, D>,
    ) -> Result<Rows<E, D, T>, D::Err> {
        merged.try_add(next)
    }
}

impl MergeOp for Multiply {
    const NAME: &'static str = "Multiply";
    const FLOPS_PER_VALUE: usize = 1;

    fn merge<E: Dtype, D: Device<E>, T: Tape<E, D> + Merge<NoneTape>>(
        merged: Rows<E, D, T>,
        next: Rows<E, D>,
    ) -> Result<Rows<E, D, T>, D::Err> {
        merged.try_mul(next)
    }
}

impl MergeOp for Average {
    const NAME: &'static str = "Average";
    // The sums, and the division once at the end.
    const FLOPS_PER_VALUE: usize = 1;

    fn merge<E: Dtype, D: Device<E>, T: Tape<E, D> + Merge<NoneTape>>(
        merged: Rows<E, D, T>,
        next: Rows<E, D>,
    ) -> Result<Rows<E, D, T>, D::Err> {
        Add::merge(merged, next)
    }

    fn finish<E: Dtype, D: Device<E>, T: Tape<E, D> + Merge<NoneTape>>(
        merged: Rows<E, D, T>,
        branches: usize,
    ) -> Result<Rows<E, D, T>, D::Err> {
        let share = E::from_f64(1.0 / branches as f64).unwrap_or_default();
        merged.try_mul(share)
    }
}

impl MergeOp for Maximum {
    const NAME: &'static str = "Maximum";
    const FLOPS_PER_VALUE: usize = 1;

    fn merge<E: Dtype, D: Device<E>, T: Tape<E, D> + Merge<NoneTape>>(
        merged: Rows<E, D, T>,
        next: Rows<E, D>,
    ) -> Result<Rows<E, D, T>, D::Err> {
        merged.try_maximum(next)
    }
}
