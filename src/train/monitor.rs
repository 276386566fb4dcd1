//! `Monitor`: the metric that early stopping, best-only checkpoints and plateau schedules
//! watch, and `Tracker`, which remembers its best value.

use super::error::TrainError;
use super::history::EpochStats;

/// A metric of an epoch, named as Keras names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Monitor {
    /// The training loss (`loss`); lower is better.
    Loss,
    /// The training accuracy (`accuracy`); higher is better.
    Accuracy,
    /// The validation loss (`val_loss`); lower is better. Keras's default.
    #[default]
    ValLoss,
    /// The validation accuracy (`val_accuracy`); higher is better.
    ValAccuracy,
}

impl Monitor {
    /// Keras's name for the metric, e.g. `val_loss`.
    pub fn name(self) -> &'static str {
        match self {
            Monitor::Loss => "loss",
            Monitor::Accuracy => "accuracy",
            Monitor::ValLoss => "val_loss",
            Monitor::ValAccuracy => "val_accuracy",
        }
    }

    /// The metric's value in `stats`; `None` for a validation metric without validation.
    pub fn value(self, stats: &EpochStats) -> Option<f64> {
        match self {
            Monitor::Loss => Some(stats.train.loss),
            Monitor::Accuracy => Some(stats.train.accuracy),
            Monitor::ValLoss => stats.validation.map(|v| v.loss),
            Monitor::ValAccuracy => stats.validation.map(|v| v.accuracy),
        }
    }

    fn higher_is_better(self) -> bool {
        matches!(self, Monitor::Accuracy | Monitor::ValAccuracy)
    }

    /// Fails when this metric needs validation data and there is none.
    pub(crate) fn check(self, has_validation: bool, user: &str) -> Result<(), TrainError> {
        if !has_validation && matches!(self, Monitor::ValLoss | Monitor::ValAccuracy) {
            return Err(TrainError::Config(format!(
                "{user} monitors {} but there is no validation data \
                 (set validation_split or validation_data)",
                self.name()
            )));
        }
        Ok(())
    }
}

/// The best value of a metric so far and how many epochs have passed without improving
/// on it by more than `min_delta`.
#[derive(Clone, Debug)]
pub(crate) struct Tracker {
    monitor: Monitor,
    min_delta: f64,
    best: Option<f64>,
    /// Epochs since the last improvement.
    pub waited: usize,
}

impl Tracker {
    pub fn new(monitor: Monitor, min_delta: f64) -> Self {
        Tracker {
            monitor,
            min_delta: min_delta.abs(),
            best: None,
            waited: 0,
        }
    }

    /// Records an epoch; returns whether it improved on the best value so far (the first
    /// epoch always does).
    pub fn observe(&mut self, stats: &EpochStats) -> bool {
        let Some(value) = self.monitor.value(stats) else {
            return false;
        };
        let improved = match self.best {
            None => true,
            Some(best) if self.monitor.higher_is_better() => value > best + self.min_delta,
            Some(best) => value < best - self.min_delta,
        };
        if improved {
            self.best = Some(value);
            self.waited = 0;
        } else {
            self.waited += 1;
        }
        improved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::history::Metrics;

    fn stats(loss: f64, val_accuracy: f64) -> EpochStats {
        EpochStats {
            epoch: 1,
            train: Metrics {
                loss,
                accuracy: 0.0,
            },
            validation: Some(Metrics {
                loss,
                accuracy: val_accuracy,
            }),
            learning_rate: 0.1,
            seconds: 1.0,
            samples_per_sec: 1.0,
        }
    }

    #[test]
    fn lower_loss_and_higher_accuracy_improve() {
        let mut loss = Tracker::new(Monitor::Loss, 0.1);
        let mut acc = Tracker::new(Monitor::ValAccuracy, 0.0);
        let epochs = [(1.0, 0.5), (0.95, 0.6), (0.8, 0.6), (0.85, 0.4)];
        let improved: Vec<(bool, bool)> = epochs
            .iter()
            .map(|&(l, a)| (loss.observe(&stats(l, a)), acc.observe(&stats(l, a))))
            .collect();
        // 0.95 is not 0.1 better than 1.0; 0.6 is not better than 0.6.
        assert_eq!(
            improved,
            [(true, true), (false, true), (true, false), (false, false)]
        );
        assert_eq!((loss.waited, acc.waited), (1, 2));
    }

    #[test]
    fn validation_metrics_need_validation_data() {
        assert!(Monitor::ValLoss.check(false, "early stopping").is_err());
        assert!(Monitor::Loss.check(false, "early stopping").is_ok());
        assert!(Monitor::ValAccuracy.check(true, "early stopping").is_ok());
    }
}
