//! Training: `fit`, its epoch loop and its training step.

use super::callbacks::Callbacks;
use super::error::TrainError;
use super::evaluate::scalar;
use super::history::{EpochStats, History, MetricsSum};
use super::params;
use super::progress::Progress;
use super::schedule::{LearningRate, LrSchedule};
use super::trainer::{Classifier, Trainer, Validation};
use crate::data::augment::{augmented_inputs, epoch_rng};
use crate::data::{epoch_order, train_len, Dataset, Inputs, ModelInput};
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::nn::ZeroGrads;
use dfdx::optim::Optimizer;
use dfdx::prelude::*;
use dfdx::tensor::safetensors::SafeDtype;
use std::ops::Range;
use std::time::Instant;

/// What one `fit` trains on, once the settings and data are checked.
struct Plan<'d> {
    train: &'d Dataset,
    /// Training uses samples `0..n_train` of `train`; a validation split the rest.
    n_train: usize,
    /// The validation set and the indices of it to evaluate.
    validation: Option<(&'d Dataset, Range<usize>)>,
    /// Whether a last batch of one sample joins the batch before it: the model has a batch
    /// norm, which cannot train on one sample.
    merge_single_last: bool,
}

impl<'a, M, O, E, D, I> Trainer<'a, M, O, E, D, I>
where
    E: Dtype + SafeDtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
    O: Optimizer<M, D, E> + LearningRate,
    I: ModelInput<E, D>,
{
    /// Trains for the set number of epochs (fewer if early stopping ends it) and returns
    /// the history, as Keras's `fit`.
    ///
    /// Each step runs `forward_mut` on a traced batch, so dropout and batch norm train;
    /// validation runs `forward` on tape-less batches.
    ///
    /// Errors before any update: the samples do not fit the model's input
    /// ([`DataError::SampleShape`](crate::data::DataError::SampleShape), or a value of a
    /// token input that is not an id, [`DataError::TokenId`](crate::data::DataError::TokenId),
    /// or that the model's embedding has no row for,
    /// [`DataError::TokenOutOfVocabulary`](crate::data::DataError::TokenOutOfVocabulary);
    /// for a model of several inputs inside [`DataError::Input`](crate::data::DataError::Input),
    /// which names the input), a label is out of range, a setting is invalid, a model with a
    /// batch norm would train on batches of one sample
    /// ([`TrainError::BatchNormSingleSample`]), the loss expects logits where the model ends
    /// in `Sigmoid` or probabilities where it ends in `Dense`
    /// ([`TrainError::LossMismatch`]), the [augmentation](Self::augment) cannot take the
    /// samples ([`TrainError::Augment`]). Errors during training: a NaN or
    /// infinite loss ([`TrainError::NonFiniteLoss`], naming the epoch and step; that step's
    /// update is not applied), weights that became non-finite
    /// ([`TrainError::NonFiniteWeights`]), a non-finite validation loss
    /// ([`TrainError::NonFiniteValidationLoss`]), an output outside [0, 1] for a loss on
    /// probabilities ([`TrainError::OutputNotProbability`]; that step's update is not
    /// applied), a checkpoint that cannot be written. No
    /// checkpoint is written after a non-finite loss or weight, so the last one written stays
    /// intact, and a model left holding NaN or infinity (e.g. a batch norm's running
    /// statistics) is given back its weights from the start of that epoch.
    ///
    /// In a model with a batch norm, a last batch of one sample (33 samples in batches of
    /// 32) is merged into the batch before it, as the variance of one sample is undefined.
    pub fn fit<const K: usize>(&mut self, train: &Dataset) -> Result<History, TrainError>
    where
        M: Classifier<I, E, D, K>,
    {
        let plan = self.plan::<K>(train)?;
        let mut progress = Progress::new(self.verbosity, self.epochs);
        let history = self.run::<K>(&plan, &mut progress);
        if history.is_err() {
            progress.abandon();
        }
        history
    }

    /// The epoch loop.
    fn run<const K: usize>(
        &mut self,
        plan: &Plan,
        progress: &mut Progress,
    ) -> Result<History, TrainError>
    where
        M: Classifier<I, E, D, K>,
    {
        let dev = params::device(&*self.model).ok_or(TrainError::NoParameters)?;
        let mut grads = self.model.try_alloc_grads().map_err(TrainError::device)?;
        let mut callbacks = Callbacks::new(
            self.schedule,
            self.optimizer.learning_rate(),
            self.checkpoint.clone(),
            self.early_stopping,
        );
        let mut history = History::default();
        // The weights at the start of the epoch, given back if the epoch leaves NaN.
        let mut last_good = params::read(&*self.model);
        for epoch in 0..self.epochs {
            let learning_rate = callbacks.scheduler.lr(epoch);
            self.optimizer.set_learning_rate(learning_rate);
            let started = Instant::now();
            let train;
            let trained = self.train_epoch::<K>(&dev, plan, epoch, grads, progress);
            (train, grads) = match trained {
                Ok(done) => done,
                Err(err) => {
                    if params::read(&*self.model).first_non_finite().is_some() {
                        params::write(self.model, &last_good);
                    }
                    return Err(err);
                }
            };
            let seconds = started.elapsed().as_secs_f64();

            let weights = params::read(&*self.model);
            if let Some(tensor) = weights.first_non_finite() {
                params::write(self.model, &last_good);
                return Err(TrainError::NonFiniteWeights {
                    epoch: epoch + 1,
                    tensor: tensor.into(),
                });
            }
            let validation = match &plan.validation {
                Some((data, range)) => {
                    let metrics = self.evaluate_indices::<K>(data, range.clone().collect())?;
                    if !metrics.loss.is_finite() {
                        return Err(TrainError::NonFiniteValidationLoss {
                            epoch: epoch + 1,
                            loss: metrics.loss,
                        });
                    }
                    Some(metrics)
                }
                None => None,
            };
            let stats = EpochStats {
                epoch: epoch + 1,
                train: train.metrics(),
                validation,
                learning_rate,
                seconds,
                samples_per_sec: train.seen as f64 / seconds.max(1e-9),
            };
            progress.end_epoch(&stats);
            last_good = weights.clone();
            let stop = callbacks.end_epoch(&stats, weights)?;
            history.epochs.push(stats);
            if stop {
                history.stopped_early = epoch + 1 < self.epochs;
                break;
            }
        }
        if let Some(best) = callbacks.into_best_weights() {
            params::write(self.model, &best);
        }
        Ok(history)
    }

    /// One pass over the training samples in the epoch's shuffled order.
    fn train_epoch<const K: usize>(
        &mut self,
        dev: &D,
        plan: &Plan,
        epoch: usize,
        mut grads: Gradients<E, D>,
        progress: &mut Progress,
    ) -> Result<(MetricsSum, Gradients<E, D>), TrainError>
    where
        M: Classifier<I, E, D, K>,
    {
        let order = epoch_order(plan.n_train, self.seed, epoch);
        let spans = batch_spans(order.len(), self.batch_size, plan.merge_single_last);
        progress.start_epoch(epoch, spans.len());
        let started = Instant::now();
        let inputs = Inputs::from(plan.train.inputs());
        let mut rng = epoch_rng(self.seed, epoch);
        let mut sum = MetricsSum::default();
        for (step, span) in spans.into_iter().enumerate() {
            let indices = &order[span];
            let rows = match &self.augment {
                None => I::gather(inputs.sets(), indices)?,
                Some(augment) => {
                    let batch = augmented_inputs(&**augment, inputs.sets(), indices, &mut rng)?;
                    let all: Vec<usize> = (0..indices.len()).collect();
                    I::gather(&batch.iter().collect::<Vec<_>>(), &all)?
                }
            };
            let labels = plan.train.labels_at(indices);
            let (loss, correct);
            (loss, correct, grads) =
                self.train_step::<K>(dev, rows, &labels, grads, (epoch, step))?;
            sum.add(loss, correct, labels.len());
            let rate = sum.seen as f64 / started.elapsed().as_secs_f64().max(1e-9);
            progress.step(step + 1, sum.metrics(), rate);
        }
        Ok((sum, grads))
    }

    /// One optimizer step on a batch (its inputs' `rows` and their `labels`); returns its
    /// mean loss, its number of correct predictions and the zeroed gradients for the next
    /// step. A non-finite loss is an error naming `at` (epoch and step, from 0) and leaves
    /// the model as it was.
    fn train_step<const K: usize>(
        &mut self,
        dev: &D,
        rows: I::Rows,
        labels: &[usize],
        grads: Gradients<E, D>,
        at: (usize, usize),
    ) -> Result<(f64, usize, Gradients<E, D>), TrainError>
    where
        M: Classifier<I, E, D, K>,
    {
        let x = I::plain(dev, rows).map_err(TrainError::device)?;
        let outputs = self
            .model
            .try_forward_mut(I::traced(x, grads))
            .map_err(TrainError::device)?;
        let values = outputs.as_vec();
        if let Some(value) = self.loss.improper_output(&values) {
            return Err(TrainError::OutputNotProbability { value });
        }
        let correct = self.loss.correct(&values, labels, K);
        let loss = self
            .loss
            .compute(outputs, labels)
            .map_err(TrainError::device)?;
        let value = scalar(&loss);
        if !value.is_finite() {
            return Err(TrainError::NonFiniteLoss {
                epoch: at.0 + 1,
                step: at.1 + 1,
                loss: value,
            });
        }
        let mut grads = loss.try_backward().map_err(TrainError::device)?;
        self.optimizer
            .update(self.model, &grads)
            .map_err(|e| TrainError::Optimizer(format!("{e:?}")))?;
        self.model
            .try_zero_grads(&mut grads)
            .map_err(TrainError::device)?;
        Ok((value, correct, grads))
    }

    /// Checks the settings and the data before training starts.
    fn plan<'d, const K: usize>(&self, train: &'d Dataset) -> Result<Plan<'d>, TrainError>
    where
        'a: 'd,
    {
        let config = |msg: String| Err(TrainError::Config(msg));
        self.check_data::<K>(train)?;
        if let (Some(augment), Some(first)) = (&self.augment, train.inputs().first()) {
            augment.check(first.shape())?;
        }
        if self.batch_size == 0 {
            return config("the batch size must be positive".into());
        }
        let (n_train, validation) = match self.validation {
            Validation::None => (train.len(), None),
            Validation::Split(f) if !(0.0..1.0).contains(&f) => {
                return config(format!("validation split {f} is not within 0..1"));
            }
            Validation::Split(f) => {
                let n_train = train_len(train.len(), f);
                let tail = (n_train < train.len()).then_some((train, n_train..train.len()));
                (n_train, tail)
            }
            Validation::Data(data) => {
                self.check_data::<K>(data)?;
                (
                    train.len(),
                    (!data.is_empty()).then_some((data, 0..data.len())),
                )
            }
        };
        if n_train == 0 {
            return config("there are no training samples".into());
        }
        let batch_norm = params::read(&*self.model)
            .tensors
            .into_iter()
            .find(|t| t.name == "running_var" || t.name.ends_with(".running_var"))
            .map(|t| t.name);
        if let Some(tensor) = &batch_norm {
            if self.batch_size == 1 || n_train == 1 {
                return Err(TrainError::BatchNormSingleSample {
                    tensor: tensor.clone(),
                    batch_size: self.batch_size,
                    samples: n_train,
                });
            }
        }
        let has_validation = validation.is_some();
        if let Some(es) = &self.early_stopping {
            es.monitor.check(has_validation, "early stopping")?;
        }
        if let Some(monitor) = self.checkpoint.as_ref().and_then(|c| c.best_only) {
            monitor.check(has_validation, "the checkpoint")?;
        }
        if let LrSchedule::ReduceOnPlateau { monitor, .. } = self.schedule {
            monitor.check(has_validation, "the learning-rate schedule")?;
        }
        Ok(Plan {
            train,
            n_train,
            validation,
            merge_single_last: batch_norm.is_some(),
        })
    }
}

/// The index ranges of an epoch's batches of `len` samples: `batch_size` at a time, the
/// last one the remainder; with `merge_single_last` a remainder of one sample joins the
/// batch before it (a batch norm cannot train on one sample).
fn batch_spans(len: usize, batch_size: usize, merge_single_last: bool) -> Vec<Range<usize>> {
    let mut spans: Vec<Range<usize>> = (0..len)
        .step_by(batch_size)
        .map(|start| start..(start + batch_size).min(len))
        .collect();
    if merge_single_last && spans.len() > 1 && spans.last().is_some_and(|s| s.len() == 1) {
        spans.pop();
        if let Some(last) = spans.last_mut() {
            last.end = len;
        }
    }
    spans
}

/// Type-checks `fit`, `evaluate` and `predict` on dfdx's `Cuda` device: CI runs
/// `cargo check --features cuda-check` without a GPU, and generic code is only checked against
/// a device where something names it.
#[cfg(feature = "cuda")]
#[allow(dead_code)]
fn type_checks_on_cuda(train: &Dataset) -> Result<(), TrainError> {
    use dfdx::nn::builders::{Linear, ReLU};
    let dev = Cuda::default();
    let mut model = dev.build_module::<(Linear<4, 8>, ReLU, Linear<8, 3>), f32>();
    let adam = dfdx::optim::Adam::new(&model, Default::default());
    let mut trainer = Trainer::new(&mut model, adam).input::<Rank1<4>>();
    trainer.fit(train)?;
    trainer.evaluate(train)?;
    trainer.predict(train.samples())?;
    // Token ids: the tape rides on a `usize` tensor.
    type Words = crate::network![Tokens<4>, Embedding<10, 4>, GRU<4>, Dense<3>];
    let mut words = dev.build_module::<Words, f32>();
    let adam = dfdx::optim::Adam::new(&words, Default::default());
    let mut trainer = Trainer::new(&mut words, adam).input::<crate::data::Tokens<4>>();
    trainer.fit(train)?;
    trainer.predict(train.samples())?;
    // Several inputs, and branches that share one.
    type Both = crate::network![
        Concat<[Input<1, 6, 6>, Conv2D<2, 3>, Flatten], [Tokens<4>, Embedding<10, 4>, GRU<4>]>,
        Add<[Dense<36>], [Dense<36>, ReLU], []>,
        Dense<3>,
    ];
    let mut both = dev.build_module::<Both, f32>();
    let adam = dfdx::optim::Adam::new(&both, Default::default());
    let mut trainer =
        Trainer::new(&mut both, adam).input::<(Rank3<1, 6, 6>, crate::data::Tokens<4>)>();
    trainer.fit(train)?;
    trainer.predict(train.inputs())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::batch_spans;
    use std::ops::Range;

    #[test]
    fn a_single_last_sample_joins_the_batch_before_it_only_for_batch_norm() {
        assert_eq!(batch_spans(33, 32, false), [0..32, 32..33]);
        assert_eq!(batch_spans(33, 32, true), vec![Range { start: 0, end: 33 }]);
        assert_eq!(batch_spans(65, 32, true), [0..32, 32..65]);
        assert_eq!(batch_spans(34, 32, true), [0..32, 32..34]);
        assert_eq!(batch_spans(64, 32, true), [0..32, 32..64]);
        assert_eq!(batch_spans(5, 32, true), vec![Range { start: 0, end: 5 }]);
        assert_eq!(batch_spans(0, 32, true), []);
    }
}
