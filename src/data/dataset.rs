//! `Samples` and `Dataset`: flat rows of one shape, with or without class labels, one set
//! per model input.

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
/// A data set has one [`Samples`] per model input: one for most models
/// ([`new`](Self::new)), several for a model that reads, say, an image and a sentence
/// ([`with_inputs`](Self::with_inputs)). Sample `i` of every input and label `i` are one
/// example, and every operation (selecting, splitting, batching) keeps them together.
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
    /// One set per model input, never none, all of `labels.len()` samples.
    inputs: Vec<Samples>,
    labels: Vec<usize>,
}

impl Dataset {
    /// Pairs samples with their labels (class indices): a data set of one input.
    ///
    /// Errors with [`DataError::CountMismatch`] unless there is one label per sample.
    pub fn new(samples: Samples, labels: Vec<usize>) -> Result<Self, DataError> {
        Dataset::with_inputs(vec![samples], labels)
    }

    /// A data set of several inputs, in the order of the model's input tuple: for a model
    /// trained with `.input::<(Rank3<1, 28, 28>, Tokens<20>)>()`, the images, then the token
    /// ids.
    ///
    /// Errors with [`DataError::NoInputs`] for no inputs, [`DataError::InputLengths`]
    /// unless every input holds as many samples as the first, and
    /// [`DataError::CountMismatch`] unless there is one label per sample.
    ///
    /// ```
    /// use typenet::data::{DataError, Dataset, Samples};
    /// let points = Samples::new(vec![0.5; 3 * 4], vec![4])?;
    /// let words = Samples::new(vec![7.0, 1.0, 2.0, 0.0, 4.0, 4.0], vec![2])?;
    /// let data = Dataset::with_inputs(vec![points.clone(), words], vec![0, 1, 1])?;
    /// assert_eq!((data.len(), data.inputs().len()), (3, 2));
    ///
    /// let two_words = Samples::new(vec![7.0, 1.0, 2.0, 0.0], vec![2])?;
    /// let err = Dataset::with_inputs(vec![points, two_words], vec![0, 1, 1]).unwrap_err();
    /// assert!(matches!(err, DataError::InputLengths { input: 1, samples: 2, expected: 3 }));
    /// # Ok::<(), DataError>(())
    /// ```
    pub fn with_inputs(inputs: Vec<Samples>, labels: Vec<usize>) -> Result<Self, DataError> {
        let first = inputs.first().ok_or(DataError::NoInputs)?;
        same_lengths(&inputs.iter().collect::<Vec<_>>())?;
        if first.len() != labels.len() {
            return Err(DataError::CountMismatch {
                images: first.len(),
                labels: labels.len(),
            });
        }
        Ok(Dataset { inputs, labels })
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The samples of the first input (the only one of a data set built by
    /// [`new`](Self::new)), without labels.
    pub fn samples(&self) -> &Samples {
        &self.inputs[0]
    }

    /// The samples of every input, in order; pass them to
    /// [`Trainer::predict`](crate::train::Trainer::predict).
    pub fn inputs(&self) -> &[Samples] {
        &self.inputs
    }

    /// One class index per sample.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The labels of the samples at `indices`, in that order.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn labels_at(&self, indices: &[usize]) -> Vec<usize> {
        indices.iter().map(|&i| self.labels[i]).collect()
    }

    /// The samples at `indices`, in that order, as a new set.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            inputs: self.inputs.iter().map(|s| s.select(indices)).collect(),
            labels: self.labels_at(indices),
        }
    }

    /// The first `n` samples (all of them if there are fewer): a small subset for a test
    /// or a quick run.
    pub fn take(&self, n: usize) -> Dataset {
        let n = n.min(self.len());
        let all: Vec<usize> = (0..n).collect();
        self.select(&all)
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

/// The samples of every input of a model, borrowed: what
/// [`Trainer::predict`](crate::train::Trainer::predict) takes. Made from one `&Samples`
/// (a single-input model), from [`Dataset::inputs`], or from an array of `&Samples` in the
/// order of the model's input tuple, e.g. `[&images, &tokens]`.
#[derive(Clone, Debug)]
pub struct Inputs<'a>(Vec<&'a Samples>);

impl<'a> Inputs<'a> {
    /// The sets, one per input.
    pub fn sets(&self) -> &[&'a Samples] {
        &self.0
    }

    /// The number of samples of the first input (every input holds as many once
    /// [`ModelInput::check`](super::ModelInput::check) passed), 0 for no inputs.
    pub fn len(&self) -> usize {
        self.0.first().map_or(0, |s| s.len())
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a> From<&'a Samples> for Inputs<'a> {
    fn from(samples: &'a Samples) -> Self {
        Inputs(vec![samples])
    }
}

impl<'a> From<&'a [Samples]> for Inputs<'a> {
    fn from(sets: &'a [Samples]) -> Self {
        Inputs(sets.iter().collect())
    }
}

impl<'a> From<&'a Vec<Samples>> for Inputs<'a> {
    fn from(sets: &'a Vec<Samples>) -> Self {
        Inputs(sets.iter().collect())
    }
}

impl<'a, const N: usize> From<[&'a Samples; N]> for Inputs<'a> {
    fn from(sets: [&'a Samples; N]) -> Self {
        Inputs(sets.to_vec())
    }
}

/// Checks that every set holds as many samples as the first: sample `i` of each is one
/// example.
pub(crate) fn same_lengths(sets: &[&Samples]) -> Result<(), DataError> {
    let Some(first) = sets.first() else {
        return Ok(());
    };
    match sets.iter().position(|s| s.len() != first.len()) {
        Some(input) => Err(DataError::InputLengths {
            input,
            samples: sets[input].len(),
            expected: first.len(),
        }),
        None => Ok(()),
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

    /// `n` samples of two inputs, the second holding 100 plus the first's values.
    fn two_inputs(n: usize) -> Dataset {
        let a = Samples::new((0..n).map(|v| v as f32).collect(), vec![1]).unwrap();
        let b = Samples::new((0..n).map(|v| 100.0 + v as f32).collect(), vec![1]).unwrap();
        Dataset::with_inputs(vec![a, b], (0..n).collect()).unwrap()
    }

    #[test]
    fn every_input_stays_with_its_label() {
        let data = two_inputs(10);
        let picked = data.select(&[7, 2]);
        assert_eq!(picked.inputs()[0].as_slice(), &[7.0, 2.0]);
        assert_eq!(picked.inputs()[1].as_slice(), &[107.0, 102.0]);
        let (train, val) = data.split_validation(0.2);
        assert_eq!(val.inputs()[1].as_slice(), &[108.0, 109.0]);
        assert_eq!(train.inputs()[1].len(), 8);
        assert_eq!(data.take(3).inputs()[1].as_slice(), &[100.0, 101.0, 102.0]);
        assert_eq!(data.samples(), &data.inputs()[0]);
    }

    #[test]
    fn several_inputs_need_one_label_per_sample() {
        let data = two_inputs(3);
        let err = Dataset::with_inputs(data.inputs().to_vec(), vec![0, 1]).unwrap_err();
        assert!(matches!(
            err,
            DataError::CountMismatch {
                images: 3,
                labels: 2
            }
        ));
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
