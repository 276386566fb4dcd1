//! `Tokens<T>`: a model input of `T` token ids per sample, stored as `f32` and read as
//! `usize`.

use super::dataset::Samples;
use super::error::DataError;
use super::input::InputShape;
use super::model_input::{exactly, ModelInput, SingleInput};
use dfdx::prelude::{Const, Device, Dtype, Gradients, OwnedTape, Tensor, Trace};

/// A model input of `T` token ids per sample, as a network declared `network![Tokens<T>,
/// Embedding<V, D>, ..]` reads: `.input::<Tokens<20>>()`. A batch is a
/// `Tensor<(usize, Const<T>), usize, D>`; in training the gradient tape rides on it (as
/// `OwnedTape<E, D>`, for the embedding to take).
///
/// Token ids are stored in [`Samples`] as `f32`, like every value (as Keras keeps token
/// sequences in float arrays): `f32` holds every integer below 2^24 exactly, so ids up to
/// 16,777,215 are kept. Each id is converted when its batch is built; a value that is
/// negative, not whole, or 2^24 or more is [`DataError::TokenId`], never a panic.
///
/// ```
/// use typenet::data::{DataError, ModelInput, Samples, Tokens};
/// use typenet::dfdx::prelude::*;
/// let ids = Samples::new(vec![3.0, 0.0, 9.0, 1.0, 2.5, 4.0], vec![3])?;
/// let first = <Tokens<3> as ModelInput<f32, Cpu>>::gather(&[&ids], &[0])?;
/// assert_eq!(first, [3, 0, 9]);
/// let err = <Tokens<3> as ModelInput<f32, Cpu>>::check(&[&ids]).unwrap_err();
/// assert!(matches!(err, DataError::TokenId { sample: 1, position: 1, value } if value == 2.5));
/// # Ok::<(), DataError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tokens<const T: usize>;

/// The first `f32` that is not followed by the next integer: 2^24. Ids stay below it.
const TOKEN_LIMIT: f32 = 16_777_216.0;

/// `value` as a token id, if it is one: whole, not negative, below 2^24 (NaN is none).
fn token_id(value: f32) -> Option<usize> {
    ((0.0..TOKEN_LIMIT).contains(&value) && value.fract() == 0.0).then_some(value as usize)
}

/// `id` stored as a value, if `f32` holds it exactly (below 2^24).
pub(super) fn token_value(id: usize) -> Option<f32> {
    (id < TOKEN_LIMIT as usize).then_some(id as f32)
}

/// Sample `sample`'s ids from its stored row, or the error naming the first bad value.
fn row_ids(row: &[f32], sample: usize) -> impl Iterator<Item = Result<usize, DataError>> + '_ {
    row.iter().enumerate().map(move |(position, &value)| {
        token_id(value).ok_or(DataError::TokenId {
            sample,
            position,
            value,
        })
    })
}

impl<const T: usize> SingleInput for Tokens<T> {}

impl<const T: usize, E: Dtype, D: Device<E>> ModelInput<E, D> for Tokens<T> {
    type Rows = Vec<usize>;
    type Plain = Tensor<(usize, Const<T>), usize, D>;
    type Traced = Tensor<(usize, Const<T>), usize, D, OwnedTape<E, D>>;

    /// Checks the shape (as `Rank1<T>` would: `[T]`, or `[1, T]`) and every value.
    fn check(inputs: &[&Samples]) -> Result<(), DataError> {
        let [samples] = exactly(inputs)?;
        <(Const<T>,)>::accepts(samples.shape())?;
        (0..samples.len())
            .flat_map(|i| row_ids(samples.row(i), i))
            .try_for_each(|id| id.map(drop))
    }

    fn gather(inputs: &[&Samples], indices: &[usize]) -> Result<Vec<usize>, DataError> {
        let [samples] = exactly(inputs)?;
        indices
            .iter()
            .flat_map(|&i| row_ids(samples.row(i), i))
            .collect()
    }

    fn plain(dev: &D, rows: Vec<usize>) -> Result<Self::Plain, D::Err> {
        assert!(
            rows.len().is_multiple_of(T),
            "{} token ids do not divide into samples of {T}",
            rows.len()
        );
        let n = rows.len().checked_div(T).unwrap_or(0);
        dev.try_tensor_from_vec(rows, (n, Const))
    }

    fn check_vocabulary(inputs: &[&Samples], vocabulary: usize) -> Result<(), DataError> {
        let [samples] = exactly(inputs)?;
        let steps = samples.sample_len();
        match samples
            .as_slice()
            .iter()
            .position(|&id| id >= vocabulary as f32)
        {
            Some(i) => Err(DataError::TokenOutOfVocabulary {
                sample: i / steps,
                position: i % steps,
                id: samples.as_slice()[i] as usize,
                vocabulary,
            }),
            None => Ok(()),
        }
    }

    /// The tape is `E`'s, on a `usize` tensor: dfdx's `Embedding` moves it onto its
    /// weights, which is how gradients reach them.
    fn traced(plain: Self::Plain, grads: Gradients<E, D>) -> Self::Traced {
        plain.traced(grads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::prelude::Cpu;

    #[test]
    fn ids_are_whole_non_negative_and_exact_in_f32() {
        assert_eq!(token_id(0.0), Some(0));
        assert_eq!(token_id(16_777_215.0), Some(16_777_215));
        for bad in [-1.0, -0.5, 0.5, 16_777_216.0, 1e30, f32::NAN, f32::INFINITY] {
            assert_eq!(token_id(bad), None, "{bad}");
        }
        // -0.0 is zero, a valid id.
        assert_eq!(token_id(-0.0), Some(0));
    }

    #[test]
    fn a_bad_id_is_named_by_its_sample_in_the_set() {
        let ids = Samples::new(vec![1.0, 2.0, 3.0, -4.0], vec![2]).unwrap();
        let gather =
            |indices: &[usize]| <Tokens<2> as ModelInput<f32, Cpu>>::gather(&[&ids], indices);
        assert_eq!(gather(&[0, 0]).unwrap(), [1, 2, 1, 2]);
        let err = gather(&[0, 1]).unwrap_err();
        assert!(
            matches!(err, DataError::TokenId { sample: 1, position: 1, value } if value == -4.0),
            "{err}"
        );
        assert!(err.to_string().contains("sample 1 holds -4"), "{err}");
    }

    #[test]
    fn shapes_are_checked_as_a_vector_of_t() {
        let check = |shape: Vec<usize>| {
            let ids = Samples::new(vec![0.0; 12], shape).unwrap();
            <Tokens<6> as ModelInput<f32, Cpu>>::check(&[&ids])
        };
        assert!(check(vec![6]).is_ok());
        assert!(check(vec![1, 6]).is_ok());
        assert!(matches!(check(vec![4]), Err(DataError::SampleShape { .. })));
    }

    #[test]
    fn the_tape_rides_on_the_ids() {
        let dev = Cpu::default();
        let x = <Tokens<2> as ModelInput<f32, Cpu>>::plain(&dev, vec![1, 2, 3, 4]).unwrap();
        assert_eq!(x.as_vec(), [1, 2, 3, 4]);
        let _: Tensor<(usize, Const<2>), usize, Cpu, OwnedTape<f32, Cpu>> =
            <Tokens<2> as ModelInput<f32, Cpu>>::traced(x, Gradients::leaky());
    }
}
