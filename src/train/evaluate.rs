//! Inference: `evaluate` and `predict`, with `forward` on tape-less batches, so dropout is
//! off and batch norm uses its running statistics.

use super::error::TrainError;
use super::history::{Metrics, MetricsSum};
use super::params;
use super::trainer::{Classifier, Trainer};
use crate::data::{Batches, Dataset, InputShape, Samples};
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::prelude::*;

impl<M, O, E, D, I> Trainer<'_, M, O, E, D, I>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
    I: InputShape,
{
    /// The loss and accuracy of the model on `data`, as Keras's `evaluate`. Changes
    /// nothing in the model. An empty `data` is [`TrainError::NoSamples`]: its loss and
    /// accuracy are undefined.
    pub fn evaluate<const K: usize>(&self, data: &Dataset) -> Result<Metrics, TrainError>
    where
        M: Classifier<I, E, D, K>,
    {
        self.check_data::<K>(data)?;
        if data.is_empty() {
            return Err(TrainError::NoSamples);
        }
        self.evaluate_indices::<K>(data, (0..data.len()).collect())
    }

    /// The model's outputs for every sample, in order, as Keras's `predict`.
    pub fn predict<const K: usize>(&self, samples: &Samples) -> Result<Vec<[E; K]>, TrainError>
    where
        M: Classifier<I, E, D, K>,
    {
        I::accepts(samples.shape())?;
        let dev = params::device(&*self.model).ok_or(TrainError::NoParameters)?;
        let all: Vec<usize> = (0..samples.len()).collect();
        let mut rows = Vec::with_capacity(samples.len());
        for chunk in all.chunks(self.batch_size.max(1)) {
            let outputs = self.forward::<K>(&dev, samples.gather(chunk))?;
            rows.extend(outputs.as_vec().chunks_exact(K).map(|row| {
                let mut out = [E::default(); K];
                out.copy_from_slice(row);
                out
            }));
        }
        Ok(rows)
    }

    /// The class the model predicts for every sample, in order (the largest output, or
    /// for a single output whether it exceeds the loss's threshold).
    pub fn predict_classes<const K: usize>(
        &self,
        samples: &Samples,
    ) -> Result<Vec<usize>, TrainError>
    where
        M: Classifier<I, E, D, K>,
    {
        let outputs = self.predict::<K>(samples)?;
        Ok(outputs.iter().map(|row| self.loss.predict(row)).collect())
    }

    /// Checks that `data` fits the model: the loss suits `K` outputs, the samples fit
    /// the input, every label is a class the model can output.
    pub(super) fn check_data<const K: usize>(&self, data: &Dataset) -> Result<(), TrainError> {
        self.loss.check(K)?;
        I::accepts(data.samples().shape())?;
        let classes = self.loss.classes(K);
        match data.labels().iter().position(|&l| l >= classes) {
            Some(index) => Err(TrainError::LabelOutOfRange {
                index,
                label: data.labels()[index],
                classes,
            }),
            None => Ok(()),
        }
    }

    /// Loss and accuracy over the samples of `data` at `order` (already checked).
    pub(super) fn evaluate_indices<const K: usize>(
        &self,
        data: &Dataset,
        order: Vec<usize>,
    ) -> Result<Metrics, TrainError>
    where
        M: Classifier<I, E, D, K>,
    {
        let dev = params::device(&*self.model).ok_or(TrainError::NoParameters)?;
        let mut sum = MetricsSum::default();
        for batch in Batches::<E>::new(data, order, self.batch_size.max(1)) {
            let n = batch.len();
            let outputs = self.forward::<K>(&dev, batch.inputs)?;
            let correct = self.loss.correct(&outputs.as_vec(), &batch.labels, K);
            let loss = self
                .loss
                .compute(outputs, &batch.labels)
                .map_err(TrainError::device)?;
            sum.add(scalar(&loss), correct, n);
        }
        Ok(sum.metrics())
    }

    fn forward<const K: usize>(
        &self,
        dev: &D,
        inputs: Vec<E>,
    ) -> Result<Tensor<(usize, Const<K>), E, D>, TrainError>
    where
        M: Classifier<I, E, D, K>,
    {
        let x = I::tensor(dev, inputs).map_err(TrainError::device)?;
        self.model.try_forward(x).map_err(TrainError::device)
    }
}

/// The value of a scalar tensor as `f64` (NaN if it has none).
pub(super) fn scalar<E: Dtype, D: Device<E>, T>(t: &Tensor<Rank0, E, D, T>) -> f64 {
    t.as_vec()
        .first()
        .and_then(|v| v.to_f64())
        .unwrap_or(f64::NAN)
}
