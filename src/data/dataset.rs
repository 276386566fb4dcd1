//! `Samples` and `Dataset`: flat rows of one shape, with or without class labels.

use super::error::DataError;

/// Model inputs without labels: `len()` samples of one shape, stored as flat `f32` rows.
///
/// ```
/// use typenet::data::Samples;
/// let images = Samples::new(vec![0.0; 2 * 28 * 28], vec![28, 28]).unwrap();
/// assert_eq!((images.len(), images.sample_len()), (2, 784));
/// assert!(Samples::new(vec![0.0; 785], vec![28, 28]).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Samples {
    data: Vec<f32>,
    shape: Vec<usize>,
}

impl Samples {
    /// Splits `data` into samples of `shape` (e.g. `[1, 28, 28]` or `[28, 28]`).
    ///
    /// Errors with [`DataError::Ragged`] unless `data` holds a whole number of samples of
    /// a non-empty shape, and with [`DataError::ShapeOverflow`] for a shape whose number of
    /// values overflows a `usize`.
    pub fn new(data: Vec<f32>, shape: Vec<usize>) -> Result<Self, DataError> {
        let Some(sample_len) = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) else {
            return Err(DataError::ShapeOverflow { shape });
        };
        if sample_len == 0 || !data.len().is_multiple_of(sample_len) {
            return Err(DataError::Ragged {
                len: data.len(),
                shape,
            });
        }
        Ok(Samples { data, shape })
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.data.len() / self.sample_len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The shape of one sample, e.g. `[28, 28]`.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of values in one sample.
    pub fn sample_len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Sample `i` as a flat row.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn row(&self, i: usize) -> &[f32] {
        let n = self.sample_len();
        &self.data[i * n..(i + 1) * n]
    }

    /// All samples, row after row.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// The samples at `indices`, in that order, as a new set.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn select(&self, indices: &[usize]) -> Samples {
        let mut data = Vec::with_capacity(indices.len() * self.sample_len());
        for &i in indices {
            data.extend_from_slice(self.row(i));
        }
        Samples {
            data,
            shape: self.shape.clone(),
        }
    }
}

/// Samples with one class label each: what a classifier trains and is evaluated on.
///
/// ```
/// use typenet::data::{Dataset, Samples};
/// let x = Samples::new(vec![0.0, 1.0, 1.0, 0.0], vec![2]).unwrap();
/// let data = Dataset::new(x, vec![1, 0]).unwrap();
/// let (train, val) = data.split_validation(0.5);
/// assert_eq!((train.labels(), val.labels()), (&[1][..], &[0][..]));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    samples: Samples,
    labels: Vec<usize>,
}

impl Dataset {
    /// Pairs samples with their labels (class indices).
    ///
    /// Errors with [`DataError::CountMismatch`] unless there is one label per sample.
    pub fn new(samples: Samples, labels: Vec<usize>) -> Result<Self, DataError> {
        if samples.len() != labels.len() {
            return Err(DataError::CountMismatch {
                images: samples.len(),
                labels: labels.len(),
            });
        }
        Ok(Dataset { samples, labels })
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The samples, without labels.
    pub fn samples(&self) -> &Samples {
        &self.samples
    }

    /// One class index per sample.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The samples at `indices`, in that order, as a new set.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            samples: self.samples.select(indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    /// The first `n` samples (all of them if there are fewer): a small subset for a test
    /// or a quick run.
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        Dataset {
            samples: Samples {
                data: self.samples.data[..n * self.samples.sample_len()].to_vec(),
                shape: self.samples.shape.clone(),
            },
            labels: self.labels[..n].to_vec(),
        }
    }

    /// Splits off the last `fraction` of the samples for validation, before any
    /// shuffling, as Keras's `validation_split` does: `(train, validation)`.
    ///
    /// # Panics
    /// If `fraction` is not within `0.0..=1.0`.
    pub fn split_validation(&self, fraction: f64) -> (Dataset, Dataset) {
        let n_train = train_len(self.len(), fraction);
        let all: Vec<usize> = (0..self.len()).collect();
        (self.select(&all[..n_train]), self.select(&all[n_train..]))
    }
}

/// How many of `len` samples stay for training when `fraction` goes to validation.
///
/// # Panics
/// If `fraction` is not within `0.0..=1.0`.
pub(crate) fn train_len(len: usize, fraction: f64) -> usize {
    assert!(
        (0.0..=1.0).contains(&fraction),
        "validation fraction {fraction} is not within 0..=1"
    );
    len - (len as f64 * fraction).round() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting(n: usize) -> Dataset {
        let x = Samples::new((0..n * 2).map(|v| v as f32).collect(), vec![2]).unwrap();
        Dataset::new(x, (0..n).collect()).unwrap()
    }

    #[test]
    fn counts_must_agree() {
        let x = Samples::new(vec![0.0; 6], vec![3]).unwrap();
        let err = Dataset::new(x, vec![0, 1, 2]).unwrap_err();
        assert!(matches!(
            err,
            DataError::CountMismatch {
                images: 2,
                labels: 3
            }
        ));
        assert!(Samples::new(vec![0.0; 4], vec![0]).is_err());
    }

    #[test]
    fn a_shape_too_large_to_count_is_an_error() {
        let err = Samples::new(vec![], vec![1 << 32, 1 << 32]).unwrap_err();
        assert!(
            matches!(&err, DataError::ShapeOverflow { shape } if shape.len() == 2),
            "{err}"
        );
        assert!(err.to_string().contains("check the shape"), "{err}");
        let err = Samples::new(vec![0.0; 4], vec![usize::MAX, 2]).unwrap_err();
        assert!(matches!(err, DataError::ShapeOverflow { .. }), "{err}");
    }

    #[test]
    fn select_keeps_rows_and_labels_together() {
        let data = counting(4).select(&[3, 1]);
        assert_eq!(data.labels(), &[3, 1]);
        assert_eq!(data.samples().as_slice(), &[6.0, 7.0, 2.0, 3.0]);
    }

    #[test]
    fn validation_split_takes_the_tail() {
        let (train, val) = counting(10).split_validation(0.2);
        assert_eq!(train.labels(), &[0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(val.labels(), &[8, 9]);
        assert_eq!(val.samples().row(0), &[16.0, 17.0]);
        assert_eq!(counting(10).take(3).labels(), &[0, 1, 2]);
    }
}
