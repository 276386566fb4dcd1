//! `ModelInput`: everything a model reads per example (one input or a tuple of them), and
//! how a batch of it becomes tensors, with or without a gradient tape.

use super::dataset::Samples;
use super::error::DataError;
use super::input::InputShape;
use dfdx::prelude::{Device, Dtype, Gradients, OwnedTape, Tensor, Trace};

/// What a model reads per example, as told to the trainer with
/// [`Trainer::input`](crate::train::Trainer::input): one input, e.g. `Rank3<1, 28, 28>`
/// (any [`InputShape`], read as `E`) or [`Tokens<20>`](super::Tokens) (token ids, read as
/// `usize`), or a tuple of 2 or 3 of them, e.g. `(Rank3<1, 28, 28>, Tokens<20>)`, for a
/// model whose forward takes a tuple of tensors.
///
/// A batch is built in two steps: [`gather`](Self::gather) copies the samples of a batch
/// from one [`Samples`] per input into host [`Rows`](Self::Rows) (where a bad token id is
/// found), then [`plain`](Self::plain) moves them to the device as the model's inference
/// input. In training [`traced`](Self::traced) puts the gradient tape on it.
///
/// The tape rides on the first input only; the others stay tape-less. A model of several
/// inputs threads that one tape through its branches: it splits the tape off the first
/// branch's result and puts it on the next input (`split_tape`, `put_tape`), so that
/// every operation lands on one tape.
///
/// ```
/// use typenet::data::{ModelInput, Samples, Tokens};
/// use typenet::dfdx::prelude::*;
/// let dev = Cpu::default();
/// let points = Samples::new(vec![0.5; 3 * 4], vec![4])?;
/// let words = Samples::new(vec![7.0, 1.0, 2.0, 0.0, 4.0, 4.0], vec![2])?;
/// type In = (Rank1<4>, Tokens<2>);
/// <In as ModelInput<f32, Cpu>>::check(&[&points, &words])?;
/// let rows = <In as ModelInput<f32, Cpu>>::gather(&[&points, &words], &[2, 0])?;
/// assert_eq!(rows.1, [4, 4, 7, 1]);
/// let (x, ids) = <In as ModelInput<f32, Cpu>>::plain(&dev, rows).unwrap();
/// assert_eq!((x.shape().concrete(), ids.shape().concrete()), ([2, 4], [2, 2]));
/// # Ok::<(), typenet::data::DataError>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model input",
    note = "tell the trainer what the model reads per example: a sample shape such as `.input::<Rank3<1, 28, 28>>()`, token ids such as `.input::<Tokens<20>>()`, or a tuple of 2 or 3 of these such as `.input::<(Rank3<1, 28, 28>, Tokens<20>)>()`"
)]
pub trait ModelInput<E: Dtype, D: Device<E>> {
    /// A batch on the host: `Vec<E>` for values, `Vec<usize>` for token ids, a tuple of
    /// those for several inputs; samples row after row.
    type Rows;

    /// The model's input in inference: tape-less tensors (a tuple for several inputs).
    type Plain;

    /// The model's input in training: [`Plain`](Self::Plain) with an [`OwnedTape`] on the
    /// first input.
    type Traced;

    /// Checks that `inputs`, one set per input, fit this input: their number, their
    /// sample shapes ([`InputShape::accepts`]), that they hold as many samples each, and
    /// that token inputs hold token ids. For several inputs an error says which
    /// ([`DataError::Input`]).
    fn check(inputs: &[&Samples]) -> Result<(), DataError>;

    /// Copies the samples at `indices` of every input into host rows, converting token ids
    /// from their stored `f32` ([`DataError::TokenId`] for a value that is not one).
    ///
    /// # Panics
    /// If an index is out of range.
    fn gather(inputs: &[&Samples], indices: &[usize]) -> Result<Self::Rows, DataError>;

    /// Moves rows to the device as the model's inference input.
    ///
    /// # Panics
    /// If rows do not hold whole samples (rows from [`gather`](Self::gather) always do).
    fn plain(dev: &D, rows: Self::Rows) -> Result<Self::Plain, D::Err>;

    /// Puts the gradient tape on the first input, as training needs.
    fn traced(plain: Self::Plain, grads: Gradients<E, D>) -> Self::Traced;

    /// Checks that every token id of `inputs` (already [`check`](Self::check)ed) is below
    /// `vocabulary`, the number of rows of the model's embedding table
    /// ([`DataError::TokenOutOfVocabulary`]). The trainer calls it where the model's type
    /// says its vocabulary; an input without token ids has nothing to check.
    fn check_vocabulary(inputs: &[&Samples], vocabulary: usize) -> Result<(), DataError> {
        let _ = (inputs, vocabulary);
        Ok(())
    }
}

/// One input, as opposed to a tuple of them: an [`InputShape`] or
/// [`Tokens`](super::Tokens). Tuples of inputs are made of these (a tuple is not nested).
pub trait SingleInput {}

impl<I: InputShape> SingleInput for I {}

impl<I: InputShape, E: Dtype, D: Device<E>> ModelInput<E, D> for I {
    type Rows = Vec<E>;
    type Plain = Tensor<I::Batched, E, D>;
    type Traced = Tensor<I::Batched, E, D, OwnedTape<E, D>>;

    fn check(inputs: &[&Samples]) -> Result<(), DataError> {
        let [samples] = exactly(inputs)?;
        I::accepts(samples.shape())
    }

    fn gather(inputs: &[&Samples], indices: &[usize]) -> Result<Vec<E>, DataError> {
        let [samples] = exactly(inputs)?;
        Ok(samples.gather(indices))
    }

    fn plain(dev: &D, rows: Vec<E>) -> Result<Self::Plain, D::Err> {
        I::tensor(dev, rows)
    }

    fn traced(plain: Self::Plain, grads: Gradients<E, D>) -> Self::Traced {
        plain.traced(grads)
    }
}

/// The `N` sets of `inputs`, or [`DataError::InputCount`] if there are not `N`.
pub(super) fn exactly<'s, const N: usize>(
    inputs: &[&'s Samples],
) -> Result<[&'s Samples; N], DataError> {
    inputs.try_into().map_err(|_| DataError::InputCount {
        expected: N,
        found: inputs.len(),
    })
}
