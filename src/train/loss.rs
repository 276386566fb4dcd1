//! Losses between a model's outputs, `(batch, K)`, and class labels; and accuracy.

use super::error::TrainError;
use dfdx::losses::{
    binary_cross_entropy_with_logits_loss, cross_entropy_with_logits_loss, mse_loss,
};
use dfdx::prelude::*;

/// The loss a model is trained on. Labels are class indices; every loss but the sparse one
/// compares the outputs with one-hot targets built from them.
///
/// A model with a single output (`K = 1`) is a binary classifier: its target is the label
/// itself, 0 or 1, and it predicts 1 when its output exceeds 0 (a logit) or, for
/// [`MeanSquaredError`](Loss::MeanSquaredError) and a binary cross-entropy on
/// probabilities, 0.5.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Loss {
    /// Cross-entropy of softmax(logits) against the label's class: Keras's
    /// `SparseCategoricalCrossentropy(from_logits=True)`. Needs `K >= 2`.
    #[default]
    SparseCategoricalCrossentropy,
    /// Cross-entropy of softmax(logits) against one-hot targets, smoothed towards the
    /// uniform distribution by `label_smoothing` (0 for none): Keras's
    /// `CategoricalCrossentropy(from_logits=True, label_smoothing=...)`. Needs `K >= 2`.
    CategoricalCrossentropy {
        /// The weight moved from the label's class to all classes evenly, in `[0, 1]`.
        label_smoothing: f64,
    },
    /// Mean squared error between the outputs and one-hot targets.
    MeanSquaredError,
    /// Binary cross-entropy against one-hot targets (or the 0/1 label when `K = 1`), of
    /// outputs that are logits or probabilities, as Keras's `BinaryCrossentropy(from_logits=..)`.
    /// There is no default: say which the model gives.
    ///
    /// - `from_logits: true`: the outputs are logits and the loss applies the sigmoid itself
    ///   (stable for any logit). The model ends in `Dense<1>` (or `Dense<K>`), no `Sigmoid`.
    /// - `from_logits: false`: the outputs are probabilities in [0, 1], as a model ending in
    ///   `Sigmoid` (or `Dense<1, activation = sigmoid>`) gives; they are clipped to
    ///   `[1e-7, 1 - 1e-7]`, as Keras clips them, and a single output predicts 1 above 0.5.
    ///
    /// The wrong choice trains a model that learns little: a `Sigmoid` model trained from
    /// logits sees every output as a positive logit and predicts 1 for every sample. So
    /// `fit`, `evaluate` and `predict_classes` refuse it before any update where the model's
    /// last layer says which its outputs are ([`TrainError::LossMismatch`]), and with
    /// `from_logits: false` an output outside [0, 1] is an error
    /// ([`TrainError::OutputNotProbability`]).
    BinaryCrossentropy {
        /// Whether the model's outputs are logits (`true`) or probabilities (`false`).
        from_logits: bool,
    },
}

/// What a loss takes as the model's outputs, where that is one kind only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Takes {
    Logits,
    Probabilities,
}

/// Keras's `epsilon()`: how far from 0 and 1 probabilities are clipped.
const EPSILON: f64 = 1e-7;

impl Loss {
    /// What the binary cross-entropy takes; `None` for the losses that take any output
    /// (the categorical ones take logits too, but are not checked against the model).
    pub(crate) fn takes(self) -> Option<Takes> {
        match self {
            Loss::BinaryCrossentropy { from_logits: true } => Some(Takes::Logits),
            Loss::BinaryCrossentropy { from_logits: false } => Some(Takes::Probabilities),
            _ => None,
        }
    }

    /// The loss that takes the other kind of output, where there is one.
    pub(crate) fn other_kind(self) -> Option<Loss> {
        match self {
            Loss::BinaryCrossentropy { from_logits } => Some(Loss::BinaryCrossentropy {
                from_logits: !from_logits,
            }),
            _ => None,
        }
    }

    /// The first of `outputs` that this loss cannot take: a finite value outside [0, 1]
    /// for a loss on probabilities. (NaN and infinities are left to the non-finite checks.)
    pub(crate) fn improper_output<E: Dtype>(self, outputs: &[E]) -> Option<f64> {
        if self.takes() != Some(Takes::Probabilities) {
            return None;
        }
        outputs
            .iter()
            .filter_map(|v| v.to_f64())
            .find(|v| v.is_finite() && !(0.0..=1.0).contains(v))
    }

    /// The number of classes a model with `outputs` outputs distinguishes: `outputs`, or 2
    /// for a single output.
    pub fn classes(self, outputs: usize) -> usize {
        if outputs == 1 {
            2
        } else {
            outputs
        }
    }

    /// Checks that this loss applies to a model with `outputs` outputs.
    pub(crate) fn check(self, outputs: usize) -> Result<(), TrainError> {
        let categorical = matches!(
            self,
            Loss::SparseCategoricalCrossentropy | Loss::CategoricalCrossentropy { .. }
        );
        if outputs == 0 || (categorical && outputs == 1) {
            return Err(TrainError::Config(format!(
                "{self:?} needs at least 2 outputs, the model has {outputs}"
            )));
        }
        if let Loss::CategoricalCrossentropy { label_smoothing } = self {
            if !(0.0..=1.0).contains(&label_smoothing) {
                return Err(TrainError::Config(format!(
                    "label smoothing {label_smoothing} is not within 0..=1"
                )));
            }
        }
        Ok(())
    }

    /// The loss of a batch of outputs against `labels`, averaged over the batch.
    /// `labels` must be valid classes (see [`classes`](Self::classes)).
    pub(crate) fn compute<const K: usize, E: Dtype, D: Device<E>, T: Tape<E, D>>(
        self,
        outputs: Tensor<(usize, Const<K>), E, D, T>,
        labels: &[usize],
    ) -> Result<Tensor<Rank0, E, D, T>, D::Err> {
        let dev = outputs.device().clone();
        let n = labels.len();
        let targets = |on: f64, off: f64| -> Result<Tensor<(usize, Const<K>), E, D>, D::Err> {
            dev.try_tensor_from_vec(targets::<E>(labels, K, on, off), (n, Const))
        };
        Ok(match self {
            Loss::SparseCategoricalCrossentropy => {
                let classes = dev.try_tensor_from_vec(labels.to_vec(), (n,))?;
                outputs
                    .try_log_softmax::<Axis<1>>()?
                    .try_select(classes)?
                    .try_mean()?
                    .try_negate()?
            }
            Loss::CategoricalCrossentropy { label_smoothing } => {
                let off = label_smoothing / K as f64;
                cross_entropy_with_logits_loss(outputs, targets(1.0 - label_smoothing + off, off)?)
            }
            Loss::MeanSquaredError => mse_loss(outputs, targets(1.0, 0.0)?),
            Loss::BinaryCrossentropy { from_logits: true } => {
                binary_cross_entropy_with_logits_loss(outputs, targets(1.0, 0.0)?)
            }
            Loss::BinaryCrossentropy { from_logits: false } => {
                // With 0/1 targets t, -(t ln p + (1 - t) ln(1 - p)) is -ln q for
                // q = t p + (1 - t)(1 - p) = (2t - 1) p + (1 - t): one use of p.
                let hot = self::targets::<f64>(labels, K, 1.0, 0.0);
                let values = |f: fn(f64) -> f64| -> Vec<E> {
                    hot.iter()
                        .map(|&t| E::from_f64(f(t)).unwrap_or_default())
                        .collect()
                };
                let sign = dev.try_tensor_from_vec(values(|t| 2.0 * t - 1.0), (n, Const))?;
                let offset = dev.try_tensor_from_vec(values(|t| 1.0 - t), (n, Const))?;
                outputs
                    .try_mul(sign)?
                    .try_add(offset)?
                    .try_clamp(EPSILON, 1.0 - EPSILON)?
                    .try_ln()?
                    .try_mean()?
                    .try_negate()?
            }
        })
    }

    /// The class one row of outputs predicts.
    pub(crate) fn predict<E: Dtype>(self, row: &[E]) -> usize {
        if let [only] = row {
            let threshold = match self {
                Loss::MeanSquaredError | Loss::BinaryCrossentropy { from_logits: false } => 0.5,
                _ => 0.0,
            };
            return usize::from(only.to_f64().is_some_and(|v| v > threshold));
        }
        // The first largest value; NaNs never win.
        let is_number = |v: &E| v.to_f64().is_some_and(|v| !v.is_nan());
        let mut best: Option<(usize, E)> = None;
        for (i, &v) in row.iter().enumerate().filter(|(_, v)| is_number(v)) {
            if best.is_none_or(|(_, b)| v > b) {
                best = Some((i, v));
            }
        }
        best.map_or(0, |(i, _)| i)
    }

    /// How many rows of `outputs` (`K` values each) predict their label.
    pub(crate) fn correct<E: Dtype>(self, outputs: &[E], labels: &[usize], k: usize) -> usize {
        outputs
            .chunks_exact(k)
            .zip(labels)
            .filter(|(row, &label)| self.predict(row) == label)
            .count()
    }
}

/// Row-major targets for `labels`: with `k = 1` the label itself, otherwise `on` at the
/// label's class and `off` elsewhere.
fn targets<E: Dtype>(labels: &[usize], k: usize, on: f64, off: f64) -> Vec<E> {
    let value = |v: f64| E::from_f64(v).unwrap_or_default();
    if k == 1 {
        return labels.iter().map(|&l| value(l as f64)).collect();
    }
    let mut out = vec![value(off); labels.len() * k];
    for (row, &label) in labels.iter().enumerate() {
        out[row * k + label] = value(on);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logits(dev: &Cpu) -> Tensor<(usize, Const<3>), f64, Cpu> {
        dev.tensor_from_vec(vec![2.0, -1.0, 0.5, 0.1, 0.2, 3.0], (2, Const))
    }

    fn value(loss: Loss, labels: &[usize]) -> f64 {
        loss.compute(logits(&Cpu::default()), labels)
            .unwrap()
            .array()
    }

    #[test]
    fn sparse_and_categorical_cross_entropy_agree_with_the_formula() {
        let labels = [0, 2];
        let expected = {
            let row = |l: [f64; 3], y: usize| -(l[y] - l.iter().map(|v| v.exp()).sum::<f64>().ln());
            (row([2.0, -1.0, 0.5], 0) + row([0.1, 0.2, 3.0], 2)) / 2.0
        };
        let sparse = value(Loss::SparseCategoricalCrossentropy, &labels);
        let dense = value(
            Loss::CategoricalCrossentropy {
                label_smoothing: 0.0,
            },
            &labels,
        );
        assert!((sparse - expected).abs() < 1e-12, "{sparse} vs {expected}");
        assert!((dense - expected).abs() < 1e-12, "{dense} vs {expected}");
        let smoothed = value(
            Loss::CategoricalCrossentropy {
                label_smoothing: 0.3,
            },
            &labels,
        );
        assert!(smoothed > dense);
    }

    #[test]
    fn mse_and_bce_use_one_hot_targets() {
        let mse = value(Loss::MeanSquaredError, &[0, 2]);
        let squares = [1.0, 1.0, 0.25, 0.01, 0.04, 4.0];
        assert!((mse - squares.iter().sum::<f64>() / 6.0).abs() < 1e-12);
        let bce = value(Loss::BinaryCrossentropy { from_logits: true }, &[0, 2]);
        let softplus = |x: f64| (1.0 + x.exp()).ln();
        let expected = [
            softplus(-2.0),
            softplus(-1.0),
            softplus(0.5),
            softplus(0.1),
            softplus(0.2),
            softplus(-3.0),
        ];
        assert!((bce - expected.iter().sum::<f64>() / 6.0).abs() < 1e-12);
    }

    const FROM_LOGITS: Loss = Loss::BinaryCrossentropy { from_logits: true };
    const FROM_PROBABILITIES: Loss = Loss::BinaryCrossentropy { from_logits: false };

    #[test]
    fn a_single_output_is_a_binary_classifier() {
        assert_eq!(FROM_LOGITS.classes(1), 2);
        assert_eq!(FROM_LOGITS.predict(&[0.3f32]), 1);
        assert_eq!(FROM_LOGITS.predict(&[-0.3f32]), 0);
        assert_eq!(Loss::MeanSquaredError.predict(&[0.3f32]), 0);
        // a probability predicts 1 above one half, not above 0
        assert_eq!(FROM_PROBABILITIES.predict(&[0.3f32]), 0);
        assert_eq!(FROM_PROBABILITIES.predict(&[0.7f32]), 1);
        assert!(Loss::SparseCategoricalCrossentropy.check(1).is_err());
        assert!(FROM_LOGITS.check(1).is_ok());
        assert!(FROM_PROBABILITIES.check(1).is_ok());
        let dev = Cpu::default();
        let out: Tensor<(usize, Const<1>), f64, Cpu> =
            dev.tensor_from_vec(vec![0.0, 0.0], (2, Const));
        let bce = FROM_LOGITS.compute(out, &[0, 1]).unwrap().array();
        assert!((bce - 2f64.ln()).abs() < 1e-12);
    }

    /// -(t ln p + (1 - t) ln(1 - p)), averaged.
    fn bce_of_probabilities(p: &[f64], t: &[f64]) -> f64 {
        let sum: f64 = p
            .iter()
            .zip(t)
            .map(|(&p, &t)| -(t * p.ln() + (1.0 - t) * (1.0 - p).ln()))
            .sum();
        sum / p.len() as f64
    }

    #[test]
    fn bce_of_probabilities_agrees_with_the_formula_and_with_logits() {
        let dev = Cpu::default();
        // one output: the target is the label
        let p = [0.9, 0.2, 0.6, 0.35];
        let labels = [1, 0, 0, 1];
        let out: Tensor<(usize, Const<1>), f64, Cpu> = dev.tensor_from_vec(p.to_vec(), (4, Const));
        let ours = FROM_PROBABILITIES.compute(out, &labels).unwrap().array();
        let expected = bce_of_probabilities(&p, &[1.0, 0.0, 0.0, 1.0]);
        assert!((ours - expected).abs() < 1e-12, "{ours} vs {expected}");
        // sigmoid(logits) from probabilities is the loss of the logits
        let logits: Vec<f64> = vec![2.0, -1.0, 0.5, 0.1, 0.2, 3.0];
        let probabilities: Vec<f64> = logits.iter().map(|x| 1.0 / (1.0 + (-x).exp())).collect();
        let of_probabilities = FROM_PROBABILITIES
            .compute(dev.tensor_from_vec(probabilities, (2, Const::<3>)), &[0, 2])
            .unwrap()
            .array();
        let of_logits = value(FROM_LOGITS, &[0, 2]);
        assert!((of_probabilities - of_logits).abs() < 1e-12);
        // 0 and 1 are clipped to 1e-7 away, as Keras does: finite, and the gradient flows
        // only inside the clip
        let out: Tensor<(usize, Const<1>), f64, Cpu> =
            dev.tensor_from_vec(vec![0.0, 1.0], (2, Const));
        let wrong = FROM_PROBABILITIES.compute(out, &[1, 0]).unwrap().array();
        assert!((wrong + (1e-7f64).ln()).abs() < 1e-9, "{wrong}");
        let p: Tensor<(usize, Const<1>), f64, Cpu> =
            dev.tensor_from_vec(vec![0.25, 0.5], (2, Const));
        let grads = FROM_PROBABILITIES
            .compute(p.leaky_trace(), &[1, 0])
            .unwrap()
            .backward();
        // d/dp of -ln p / 2 and -ln(1 - p) / 2
        assert_eq!(grads.get(&p).as_vec(), [-2.0, 1.0]);
    }

    #[test]
    fn only_a_loss_on_probabilities_refuses_outputs_outside_0_to_1() {
        assert_eq!(
            FROM_PROBABILITIES.improper_output(&[0.0f32, 1.0, 0.5]),
            None
        );
        assert_eq!(
            FROM_PROBABILITIES.improper_output(&[0.5f64, 1.5, -1.0]),
            Some(1.5)
        );
        // NaN is for the non-finite checks to name
        assert_eq!(FROM_PROBABILITIES.improper_output(&[f64::NAN]), None);
        assert_eq!(FROM_LOGITS.improper_output(&[3.0f32]), None);
        assert_eq!(Loss::MeanSquaredError.improper_output(&[3.0f32]), None);
        assert_eq!(FROM_LOGITS.other_kind(), Some(FROM_PROBABILITIES));
        assert_eq!(FROM_PROBABILITIES.takes(), Some(Takes::Probabilities));
        assert_eq!(Loss::default().takes(), None);
    }

    #[test]
    fn accuracy_counts_argmax_hits() {
        let outputs = [0.1f32, 0.9, 0.0, 0.7, 0.2, 0.1, f32::NAN, 0.0, 1.0];
        assert_eq!(Loss::default().correct(&outputs, &[1, 1, 2], 3), 2);
    }
}
