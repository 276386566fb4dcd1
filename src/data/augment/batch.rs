//! Where `fit` meets a transform: the epoch's generator, and a batch copied out and
//! augmented.

use super::Augment;
use crate::data::batches::epoch_stream;
use crate::data::{DataError, Samples};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Set apart from the shuffle's stream of the same seed and epoch, so that the draws of an
/// augmentation do not repeat those of the sample order.
const AUGMENT_STREAM: u64 = 0x6a09_e667_f3bc_c908;

/// The generator `fit` augments `epoch`'s batches with, in a run seeded with `seed`
/// ([`Trainer::seed`](crate::train::Trainer::seed)): drawn from these two alone, so a run
/// reproduces its augmented batches (a resumed run too), and each epoch draws anew. One
/// generator serves every batch of the epoch, in order.
///
/// ```
/// use typenet::data::augment::epoch_rng;
/// use typenet::data::augment::rand::Rng;
/// let draw = |seed, epoch| epoch_rng(seed, epoch).gen::<u64>();
/// assert_eq!(draw(7, 0), draw(7, 0));
/// assert_ne!(draw(7, 0), draw(7, 1));
/// assert_ne!(draw(7, 0), draw(8, 0));
/// ```
pub fn epoch_rng(seed: u64, epoch: usize) -> StdRng {
    StdRng::seed_from_u64(epoch_stream(seed, epoch) ^ AUGMENT_STREAM)
}

/// The samples at `indices` of every input, the first transformed by `augment`: one batch,
/// in the order of `indices`, for [`ModelInput::gather`](crate::data::ModelInput::gather)
/// to read at `0..indices.len()`.
///
/// No inputs give no batch (which `gather` refuses with a typed error).
///
/// # Panics
/// If an index is out of range.
pub(crate) fn augmented_inputs(
    augment: &dyn Augment,
    inputs: &[&Samples],
    indices: &[usize],
    rng: &mut StdRng,
) -> Result<Vec<Samples>, DataError> {
    let Some((first, rest)) = inputs.split_first() else {
        return Ok(Vec::new());
    };
    let mut values = first.gather::<f32>(indices);
    augment.augment(&mut values, first.shape(), rng);
    let mut batch = vec![Samples::new(values, first.shape().to_vec())?];
    batch.extend(rest.iter().map(|samples| samples.select(indices)));
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, RngCore};

    #[test]
    fn only_the_first_input_is_transformed_and_rows_keep_their_order() {
        let images = Samples::new((0..8).map(|v| v as f32).collect(), vec![2, 2]).unwrap();
        let ids = Samples::new(vec![10.0, 11.0], vec![1]).unwrap();
        let add_100 = |batch: &mut [f32], shape: &[usize], _: &mut dyn RngCore| {
            assert_eq!(shape, [2, 2]);
            batch.iter_mut().for_each(|v| *v += 100.0);
        };
        let batch =
            augmented_inputs(&add_100, &[&images, &ids], &[1, 0], &mut epoch_rng(0, 0)).unwrap();
        assert_eq!(
            batch[0].as_slice(),
            [104., 105., 106., 107., 100., 101., 102., 103.]
        );
        assert_eq!(batch[0].shape(), [2, 2]);
        assert_eq!(batch[1].as_slice(), [11.0, 10.0]);
        assert!(augmented_inputs(&add_100, &[], &[], &mut epoch_rng(0, 0))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn the_generator_is_not_the_shuffle_s() {
        // The shuffle seeds a generator with the same stream; the augmentation's must
        // draw other numbers.
        let shuffle = StdRng::seed_from_u64(epoch_stream(4, 2)).gen::<u64>();
        assert_ne!(epoch_rng(4, 2).gen::<u64>(), shuffle);
    }
}
