//! Inference: `evaluate` and `predict`, with `forward` on tape-less batches, so dropout is
//! off and batch norm uses its running statistics.

use super::error::TrainError;
use super::history::{Metrics, MetricsSum};
use super::last_layer::{last_layer, Outputs};
use super::loss::Takes;
use super::params;
use super::trainer::{Classifier, Trainer};
use crate::data::{Dataset, Inputs, ModelInput};
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::prelude::*;

impl<M, O, E, D, I> Trainer<'_, M, O, E, D, I>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
    I: ModelInput<E, D>,
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
    ///
    /// `inputs` are the samples of every input: `&samples` for a model of one input; for
    /// several, one set per input in the order of the model's input tuple, e.g.
    /// `[&images, &tokens]` or `data.inputs()`. Errors as `fit` does when they do not fit
    /// the model ([`DataError`](crate::data::DataError)).
    pub fn predict<'s, const K: usize>(
        &self,
        inputs: impl Into<Inputs<'s>>,
    ) -> Result<Vec<[E; K]>, TrainError>
    where
        M: Classifier<I, E, D, K>,
    {
        let inputs = inputs.into();
        I::check(inputs.sets())?;
        self.check_vocabulary(inputs.sets())?;
        let dev = params::device(&*self.model).ok_or(TrainError::NoParameters)?;
        let all: Vec<usize> = (0..inputs.len()).collect();
        let mut rows = Vec::with_capacity(inputs.len());
        for chunk in all.chunks(self.batch_size.max(1)) {
            let outputs = self.forward::<K>(&dev, I::gather(inputs.sets(), chunk)?)?;
            rows.extend(outputs.as_vec().chunks_exact(K).map(|row| {
                let mut out = [E::default(); K];
                out.copy_from_slice(row);
                out
            }));
        }
        Ok(rows)
    }

    /// The class the model predicts for every sample, in order (the largest output, or
    /// for a single output whether it exceeds the loss's threshold). `inputs` as for
    /// [`predict`](Self::predict).
    pub fn predict_classes<'s, const K: usize>(
        &self,
        inputs: impl Into<Inputs<'s>>,
    ) -> Result<Vec<usize>, TrainError>
    where
        M: Classifier<I, E, D, K>,
    {
        self.check_loss()?;
        let outputs = self.predict::<K>(inputs)?;
        Ok(outputs.iter().map(|row| self.loss.predict(row)).collect())
    }

    /// Checks that the loss takes the kind of outputs the model's last layer gives
    /// (probabilities after a `Sigmoid` or `Softmax`, other values after a `Dense`), where
    /// the loss takes one kind only and the model's type says which it gives.
    pub(super) fn check_loss(&self) -> Result<(), TrainError> {
        let (Some(takes), Some(suggested)) = (self.loss.takes(), self.loss.other_kind()) else {
            return Ok(());
        };
        let Some(last) = last_layer::<M, E, D>() else {
            return Ok(());
        };
        let probabilities = last.outputs == Outputs::Probabilities;
        if probabilities == (takes == Takes::Probabilities) {
            return Ok(());
        }
        Err(TrainError::LossMismatch {
            loss: self.loss,
            suggested,
            layer: last.name,
            place: last.place,
            probabilities,
        })
    }

    /// Checks that `data` fits the model: the loss suits `K` outputs and the model's last
    /// layer, the samples fit the input (shapes, token ids), every label is a class the
    /// model can output.
    pub(super) fn check_data<const K: usize>(&self, data: &Dataset) -> Result<(), TrainError> {
        self.loss.check(K)?;
        self.check_loss()?;
        I::check(Inputs::from(data.inputs()).sets())?;
        self.check_vocabulary(Inputs::from(data.inputs()).sets())?;
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
        let inputs = Inputs::from(data.inputs());
        let mut sum = MetricsSum::default();
        for indices in order.chunks(self.batch_size.max(1)) {
            let rows = I::gather(inputs.sets(), indices)?;
            let labels = data.labels_at(indices);
            let outputs = self.forward::<K>(&dev, rows)?;
            let values = outputs.as_vec();
            if let Some(value) = self.loss.improper_output(&values) {
                return Err(TrainError::OutputNotProbability { value });
            }
            let correct = self.loss.correct(&values, &labels, K);
            let loss = self
                .loss
                .compute(outputs, &labels)
                .map_err(TrainError::device)?;
            sum.add(scalar(&loss), correct, labels.len());
        }
        Ok(sum.metrics())
    }

    /// The model's outputs for one batch of `rows`, in inference.
    fn forward<const K: usize>(
        &self,
        dev: &D,
        rows: I::Rows,
    ) -> Result<Tensor<(usize, Const<K>), E, D>, TrainError>
    where
        M: Classifier<I, E, D, K>,
    {
        let x = I::plain(dev, rows).map_err(TrainError::device)?;
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
