//! `MaskedTokens<T>`: a model input of `T` padded token ids per sample with the mask of the
//! real ones, and the data sets that hold both.

use super::dataset::{same_lengths, Dataset, Samples};
use super::error::DataError;
use super::input::InputShape;
use super::model_input::{exactly, ModelInput};
use super::pad::{Padded, Side};
use super::tokens::{token_value, Tokens};
use crate::layers::Masked;
use dfdx::prelude::{Const, Device, Dtype, Gradients, HasShape, OwnedTape, Tensor, Trace};

/// A model input of `T` token ids per sample padded to one length, with a mask saying which
/// are real: `.input::<MaskedTokens<T>>()` for a network declared `network![Tokens<T>,
/// Embedding<V, D>, ..]` whose recurrent layers should skip the padding.
///
/// A batch is a [`Masked`] pair of the ids `Tensor<(usize, Const<T>), usize, D>` (in
/// training with the gradient tape on them, as for [`Tokens`]) and the mask
/// `Tensor<(usize, Const<T>), E, D>`, 1 for a real step and 0 for padding.
///
/// The data set holds two sets of samples of shape `[T]`: the padded ids (stored as `f32`,
/// as for [`Tokens`]), then the mask. Build it with [`Dataset::padded_tokens`] from
/// [`pad_sequences`](super::pad_sequences), or [`Dataset::tokens_with_lengths`] from ids
/// already padded and each sequence's length; `predict` takes the same two sets
/// (`data.inputs()`, or `[&ids, &mask]`). A mask value other than 0 or 1 is
/// [`DataError::MaskValue`].
///
/// It is a model's only input: it reads two sets, so it does not go in a tuple of inputs.
///
/// ```
/// use typenet::data::{pad_sequences, Dataset, MaskedTokens, Padding, Side};
/// use typenet::prelude::*;
/// let reviews = [vec![4, 9, 2], vec![7], vec![3, 3, 8, 1, 5]];
/// let post = Padding { maxlen: Some(5), padding: Side::Post, ..Default::default() };
/// let data = Dataset::padded_tokens(&pad_sequences(&reviews, post)?, vec![1, 0, 1])?;
///
/// type Net = network![Tokens<5>, Embedding<10, 4>, GRU<4>, Dense<1>, Sigmoid];
/// let dev = Cpu::seed_from_u64(0);
/// let mut model = dev.build_module::<Net, f32>();
/// let adam = Adam::new(&model, Default::default());
/// let mut trainer = Trainer::new(&mut model, adam)
///     .input::<MaskedTokens<5>>()
///     .loss(Loss::BinaryCrossentropy { from_logits: false })
///     .verbose(false);
/// trainer.fit(&data)?;
/// let classes = trainer.predict_classes(data.inputs())?;
/// # assert_eq!(classes.len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaskedTokens<const T: usize>;

impl<const T: usize, E: Dtype, D: Device<E>> ModelInput<E, D> for MaskedTokens<T> {
    type Rows = (Vec<usize>, Vec<E>);
    type Plain = Masked<Tensor<(usize, Const<T>), usize, D>, Tensor<(usize, Const<T>), E, D>>;
    type Traced = Masked<
        Tensor<(usize, Const<T>), usize, D, OwnedTape<E, D>>,
        Tensor<(usize, Const<T>), E, D>,
    >;

    /// Checks that there are two sets (ids, mask) of as many samples, the ids as
    /// [`Tokens<T>`](Tokens) does, and that the mask is of shape `[T]` and holds only 0 and 1.
    /// An error about the mask's shape is [`DataError::Input`] naming input 1.
    fn check(inputs: &[&Samples]) -> Result<(), DataError> {
        let [ids, mask] = exactly(inputs)?;
        same_lengths(&[ids, mask])?;
        <Tokens<T> as ModelInput<E, D>>::check(&[ids])?;
        <(Const<T>,)>::accepts(mask.shape()).map_err(|source| DataError::Input {
            input: 1,
            source: Box::new(source),
        })?;
        mask_values(mask)
    }

    /// Checks the ids, padded steps included: the embedding looks them up too.
    fn check_vocabulary(inputs: &[&Samples], vocabulary: usize) -> Result<(), DataError> {
        let [ids, _] = exactly(inputs)?;
        <Tokens<T> as ModelInput<E, D>>::check_vocabulary(&[ids], vocabulary)
    }

    fn gather(inputs: &[&Samples], indices: &[usize]) -> Result<Self::Rows, DataError> {
        let [ids, mask] = exactly(inputs)?;
        let ids = <Tokens<T> as ModelInput<E, D>>::gather(&[ids], indices)?;
        Ok((ids, mask.gather(indices)))
    }

    fn plain(dev: &D, (ids, mask): Self::Rows) -> Result<Self::Plain, D::Err> {
        let ids = <Tokens<T> as ModelInput<E, D>>::plain(dev, ids)?;
        let mask = dev.try_tensor_from_vec(mask, (ids.shape().0, Const))?;
        Ok(Masked { x: ids, mask })
    }

    fn traced(plain: Self::Plain, grads: Gradients<E, D>) -> Self::Traced {
        Masked {
            x: plain.x.traced(grads),
            mask: plain.mask,
        }
    }
}

/// The first mask value that is neither 0 nor 1, as an error.
fn mask_values(mask: &Samples) -> Result<(), DataError> {
    let steps = mask.sample_len();
    match mask.as_slice().iter().position(|&v| v != 0.0 && v != 1.0) {
        Some(i) => Err(DataError::MaskValue {
            sample: i / steps,
            position: i % steps,
            value: mask.as_slice()[i],
        }),
        None => Ok(()),
    }
}

impl Dataset {
    /// The data set of token sequences padded by [`pad_sequences`](super::pad_sequences),
    /// with their mask, for a model trained with `.input::<MaskedTokens<T>>()` where `T` is
    /// `padded.maxlen`: two sets of samples `[T]`, the ids (as `f32`), then the mask.
    ///
    /// Errors with [`DataError::TokenId`] for an id of 2^24 or more (`f32` stores ids exactly
    /// only below it), [`DataError::CountMismatch`] unless there is one label per sequence,
    /// and [`DataError::Ragged`] for `maxlen` 0.
    ///
    /// ```
    /// use typenet::data::{pad_sequences, DataError, Dataset, Padding};
    /// let padded = pad_sequences(&[vec![5, 6], vec![7]], Padding::default())?; // pre-padding
    /// let data = Dataset::padded_tokens(&padded, vec![0, 1])?;
    /// assert_eq!(data.inputs()[0].as_slice(), [5.0, 6.0, 0.0, 7.0]);
    /// assert_eq!(data.inputs()[1].as_slice(), [1.0, 1.0, 0.0, 1.0]);
    /// # Ok::<(), DataError>(())
    /// ```
    pub fn padded_tokens(padded: &Padded<usize>, labels: Vec<usize>) -> Result<Self, DataError> {
        let steps = padded.maxlen.max(1);
        let ids = padded
            .values
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                token_value(id).ok_or(DataError::TokenId {
                    sample: i / steps,
                    position: i % steps,
                    value: id as f32,
                })
            })
            .collect::<Result<Vec<f32>, DataError>>()?;
        let shape = vec![padded.maxlen];
        Dataset::with_inputs(
            vec![
                Samples::new(ids, shape.clone())?,
                Samples::new(padded.mask.clone(), shape)?,
            ],
            labels,
        )
    }

    /// The data set of token ids already padded to `T` steps (`ids`, samples of shape `[T]`)
    /// with each sequence's real `length`, its padding on the `padding` side: the ids, then
    /// the mask the lengths give, for a model trained with `.input::<MaskedTokens<T>>()`.
    ///
    /// Errors with [`DataError::SequenceLength`] for a length above `T`,
    /// [`DataError::InputLengths`] unless there is one length per sequence, and
    /// [`DataError::CountMismatch`] unless there is one label per sequence.
    ///
    /// ```
    /// use typenet::data::{DataError, Dataset, Samples, Side};
    /// let ids = Samples::new(vec![5.0, 6.0, 0.0, 7.0, 0.0, 0.0], vec![3])?;
    /// let data = Dataset::tokens_with_lengths(ids.clone(), &[2, 1], Side::Post, vec![0, 1])?;
    /// assert_eq!(data.inputs()[1].as_slice(), [1.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
    /// let err = Dataset::tokens_with_lengths(ids, &[2, 4], Side::Post, vec![0, 1]).unwrap_err();
    /// assert!(matches!(err, DataError::SequenceLength { sample: 1, length: 4, steps: 3 }));
    /// # Ok::<(), DataError>(())
    /// ```
    pub fn tokens_with_lengths(
        ids: Samples,
        lengths: &[usize],
        padding: Side,
        labels: Vec<usize>,
    ) -> Result<Self, DataError> {
        if lengths.len() != ids.len() {
            return Err(DataError::InputLengths {
                input: 1,
                samples: lengths.len(),
                expected: ids.len(),
            });
        }
        let steps = ids.sample_len();
        if let Some((sample, &length)) = lengths.iter().enumerate().find(|(_, &l)| l > steps) {
            return Err(DataError::SequenceLength {
                sample,
                length,
                steps,
            });
        }
        let mut mask = Vec::with_capacity(lengths.len() * steps);
        for &length in lengths {
            let real = |t: usize| match padding {
                Side::Post => t < length,
                Side::Pre => t >= steps - length,
            };
            mask.extend((0..steps).map(|t| if real(t) { 1.0 } else { 0.0 }));
        }
        let mask = Samples::new(mask, ids.shape().to_vec())?;
        Dataset::with_inputs(vec![ids, mask], labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{pad_sequences, Padding};
    use dfdx::prelude::Cpu;

    type In = MaskedTokens<3>;

    fn data() -> Dataset {
        let post = Padding {
            maxlen: Some(3),
            padding: Side::Post,
            ..Default::default()
        };
        let padded = pad_sequences(&[vec![4, 5], vec![6, 7, 8], vec![9]], post).unwrap();
        Dataset::padded_tokens(&padded, vec![0, 1, 0]).unwrap()
    }

    #[test]
    fn a_batch_is_the_ids_with_their_mask() {
        let data = data();
        let sets = [&data.inputs()[0], &data.inputs()[1]];
        <In as ModelInput<f32, Cpu>>::check(&sets).unwrap();
        let rows = <In as ModelInput<f32, Cpu>>::gather(&sets, &[2, 0]).unwrap();
        assert_eq!(
            rows,
            (vec![9, 0, 0, 4, 5, 0], vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
        );
        let batch = <In as ModelInput<f32, Cpu>>::plain(&Cpu::default(), rows).unwrap();
        assert_eq!(batch.x.as_vec(), [9, 0, 0, 4, 5, 0]);
        assert_eq!(batch.mask.as_vec(), [1.0, 0.0, 0.0, 1.0, 1.0, 0.0]);
        let traced = <In as ModelInput<f32, Cpu>>::traced(batch, Gradients::leaky());
        let _: Tensor<(usize, Const<3>), usize, Cpu, OwnedTape<f32, Cpu>> = traced.x;
    }

    #[test]
    fn lengths_give_the_mask_of_either_side() {
        let ids = Samples::new(vec![0.0; 6], vec![3]).unwrap();
        let pre = Dataset::tokens_with_lengths(ids.clone(), &[1, 3], Side::Pre, vec![0, 0]);
        assert_eq!(
            pre.unwrap().inputs()[1].as_slice(),
            [0.0, 0.0, 1.0, 1.0, 1.0, 1.0]
        );
        let err = Dataset::tokens_with_lengths(ids, &[1], Side::Pre, vec![0, 0]).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::InputLengths {
                    input: 1,
                    samples: 1,
                    expected: 2
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn bad_masks_and_ids_are_typed_errors() {
        let data = data();
        let (ids, mask) = (&data.inputs()[0], &data.inputs()[1]);
        let check = |sets: &[&Samples]| <In as ModelInput<f32, Cpu>>::check(sets);
        let half = Samples::new(vec![1.0, 0.5, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0], vec![3]);
        let err = check(&[ids, &half.unwrap()]).unwrap_err();
        assert!(
            matches!(err, DataError::MaskValue { sample: 0, position: 1, value } if value == 0.5),
            "{err}"
        );
        assert!(err.to_string().contains("mask"), "{err}");
        let wide = Samples::new(vec![1.0; 12], vec![4]).unwrap();
        let err = check(&[ids, &wide]).unwrap_err();
        assert!(matches!(err, DataError::Input { input: 1, .. }), "{err}");
        assert!(matches!(
            check(&[ids]),
            Err(DataError::InputCount {
                expected: 2,
                found: 1
            })
        ));
        let two = Samples::new(vec![1.0; 6], vec![3]).unwrap();
        assert!(matches!(
            check(&[ids, &two]),
            Err(DataError::InputLengths {
                input: 1,
                samples: 2,
                expected: 3
            })
        ));
        let half_id = Samples::new(vec![1.5, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0], vec![3]);
        let err = check(&[&half_id.unwrap(), mask]).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::TokenId {
                    sample: 0,
                    position: 0,
                    ..
                }
            ),
            "{err}"
        );
        let huge = Padded {
            values: vec![1, 1 << 24],
            mask: vec![1.0, 1.0],
            rows: 1,
            maxlen: 2,
        };
        let err = Dataset::padded_tokens(&huge, vec![0]).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::TokenId {
                    sample: 0,
                    position: 1,
                    ..
                }
            ),
            "{err}"
        );
    }
}
