//! Batching: seeded per-epoch shuffling, and batch assembly into one contiguous buffer per
//! input.

use super::dataset::{Dataset, Samples};
use dfdx::prelude::Dtype;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// The sample order of one epoch: a permutation of `0..len` drawn from `seed` and `epoch`
/// alone, so that epoch 3 of a run is shuffled the same way whether or not epochs 0 to 2
/// ran in this process (a resumed run sees the same batches).
///
/// ```
/// use typenet::data::epoch_order;
/// let order = epoch_order(5, 42, 0);
/// assert_eq!(order, epoch_order(5, 42, 0));
/// let mut sorted = order.clone();
/// sorted.sort();
/// assert_eq!(sorted, [0, 1, 2, 3, 4]);
/// ```
pub fn epoch_order(len: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(&mut StdRng::seed_from_u64(epoch_stream(seed, epoch)));
    order
}

/// The seed of `epoch`'s random draws in a run seeded with `seed`.
pub(crate) fn epoch_stream(seed: u64, epoch: usize) -> u64 {
    // Spread consecutive epochs over the seed space; `seed_from_u64` expands the result
    // into independent streams.
    seed ^ (epoch as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl Samples {
    /// Copies the samples at `indices` into one row-major buffer of `E`, ready for
    /// `tensor_from_vec`.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn gather<E: Dtype>(&self, indices: &[usize]) -> Vec<E> {
        let mut out = Vec::with_capacity(indices.len() * self.sample_len());
        for &i in indices {
            out.extend(self.row(i).iter().map(|&v| from_f32::<E>(v)));
        }
        out
    }
}

/// Converts a stored value to the model's dtype. Every float dtype represents an `f32`
/// (possibly rounded), so this cannot fail for them.
fn from_f32<E: Dtype>(v: f32) -> E {
    E::from_f32(v).unwrap_or_default()
}

/// One batch on the host: `labels.len()` samples, copied row after row into `inputs` (and,
/// for a data set of several inputs, into `more_inputs`).
///
/// Token ids arrive as `E` like every value; the trainer instead converts them from the
/// stored `f32` ([`ModelInput::gather`](super::ModelInput::gather)), which stays exact
/// whatever `E` is.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch<E> {
    /// The samples' values of the first (or only) input, row-major, `labels.len() *
    /// sample_len` of them.
    pub inputs: Vec<E>,
    /// The values of every input after the first, one buffer each, laid out as `inputs`;
    /// empty for a data set of one input.
    pub more_inputs: Vec<Vec<E>>,
    /// The samples' class indices.
    pub labels: Vec<usize>,
}

impl<E> Batch<E> {
    /// The values of input `i` (0 is [`inputs`](Self::inputs)), or `None` past the last.
    pub fn input(&self, i: usize) -> Option<&[E]> {
        match i {
            0 => Some(&self.inputs),
            _ => self.more_inputs.get(i - 1).map(Vec::as_slice),
        }
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the batch is empty (a `Batches` iterator never yields one).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// An iterator over the batches of a data set in a given order; the last batch holds the
/// remainder and may be smaller.
///
/// ```
/// use typenet::data::{Dataset, Samples};
/// let data = Dataset::new(Samples::new(vec![0.0; 10], vec![2]).unwrap(), vec![0; 5]).unwrap();
/// let sizes: Vec<usize> = data.batches::<f32>(2).map(|b| b.len()).collect();
/// assert_eq!(sizes, [2, 2, 1]);
/// ```
#[derive(Clone, Debug)]
pub struct Batches<'d, E> {
    data: &'d Dataset,
    order: Vec<usize>,
    batch_size: usize,
    next: usize,
    _dtype: std::marker::PhantomData<E>,
}

impl<'d, E: Dtype> Batches<'d, E> {
    /// Batches of the samples of `data` at `order`, `batch_size` at a time.
    ///
    /// # Panics
    /// If `batch_size` is zero. An index in `order` that is out of range panics when
    /// its batch is assembled.
    pub fn new(data: &'d Dataset, order: Vec<usize>, batch_size: usize) -> Self {
        assert!(batch_size > 0, "the batch size must be positive");
        Batches {
            data,
            order,
            batch_size,
            next: 0,
            _dtype: std::marker::PhantomData,
        }
    }

    /// The number of batches in all, including those already yielded.
    pub fn steps(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }
}

impl<E: Dtype> Iterator for Batches<'_, E> {
    type Item = Batch<E>;

    fn next(&mut self) -> Option<Batch<E>> {
        let indices = self.order.get(self.next..)?;
        if indices.is_empty() {
            return None;
        }
        let indices = &indices[..indices.len().min(self.batch_size)];
        self.next += indices.len();
        let mut inputs = self.data.inputs().iter().map(|s| s.gather(indices));
        Some(Batch {
            inputs: inputs.next().unwrap_or_default(),
            more_inputs: inputs.collect(),
            labels: self.data.labels_at(indices),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.order.len() - self.next).div_ceil(self.batch_size);
        (left, Some(left))
    }
}

impl<E: Dtype> ExactSizeIterator for Batches<'_, E> {}

impl Dataset {
    /// The batches of this set in its stored order (for evaluation).
    ///
    /// # Panics
    /// If `batch_size` is zero.
    pub fn batches<E: Dtype>(&self, batch_size: usize) -> Batches<'_, E> {
        Batches::new(self, (0..self.len()).collect(), batch_size)
    }

    /// The batches of this set in the order [`epoch_order`] gives `epoch` (for training).
    ///
    /// # Panics
    /// If `batch_size` is zero.
    pub fn shuffled_batches<E: Dtype>(
        &self,
        batch_size: usize,
        seed: u64,
        epoch: usize,
    ) -> Batches<'_, E> {
        Batches::new(self, epoch_order(self.len(), seed, epoch), batch_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting(n: usize) -> Dataset {
        let x = Samples::new((0..n * 3).map(|v| v as f32).collect(), vec![3]).unwrap();
        Dataset::new(x, (0..n).collect()).unwrap()
    }

    #[test]
    fn epochs_are_shuffled_differently_and_reproducibly() {
        let a = epoch_order(100, 7, 0);
        assert_eq!(a, epoch_order(100, 7, 0));
        assert_ne!(a, epoch_order(100, 7, 1));
        assert_ne!(a, epoch_order(100, 8, 0));
        assert_ne!(a, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn batches_keep_rows_with_their_labels() {
        let data = counting(7);
        let batches: Vec<Batch<f64>> = data.shuffled_batches(3, 1, 0).collect();
        assert_eq!(
            batches.iter().map(Batch::len).collect::<Vec<_>>(),
            [3, 3, 1]
        );
        let mut seen = Vec::new();
        for batch in &batches {
            for (row, &label) in batch.inputs.chunks(3).zip(&batch.labels) {
                let start = 3.0 * label as f64;
                assert_eq!(row, [start, start + 1.0, start + 2.0]);
                seen.push(label);
            }
        }
        seen.sort();
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn every_input_is_batched_in_one_order() {
        let a = Samples::new((0..6).map(|v| v as f32).collect(), vec![2]).unwrap();
        let b = Samples::new((0..3).map(|v| -(v as f32)).collect(), vec![1]).unwrap();
        let data = Dataset::with_inputs(vec![a, b], vec![0, 1, 2]).unwrap();
        for batch in data.shuffled_batches::<f32>(2, 5, 0) {
            assert_eq!(batch.more_inputs.len(), 1);
            for (k, &label) in batch.labels.iter().enumerate() {
                let i = label as f32;
                assert_eq!(batch.inputs[2 * k..2 * k + 2], [2.0 * i, 2.0 * i + 1.0]);
                assert_eq!(batch.input(1).unwrap()[k], -i);
            }
            assert!(batch.input(2).is_none());
        }
        assert!(counting(2)
            .batches::<f32>(2)
            .all(|b| b.more_inputs.is_empty()));
    }

    #[test]
    fn steps_count_the_partial_batch() {
        let data = counting(10);
        let batches = data.batches::<f32>(4);
        assert_eq!((batches.steps(), batches.len()), (3, 3));
        assert_eq!(data.batches::<f32>(5).steps(), 2);
    }
}
