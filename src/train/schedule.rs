//! Learning-rate schedules, and `LearningRate`, which lets the trainer set an optimizer's rate.

use super::history::EpochStats;
use super::monitor::{Monitor, Tracker};
use dfdx::optim::{Adam, RMSprop, Sgd};
use dfdx::prelude::{Dtype, Storage};

/// An optimizer whose learning rate can be read and changed between epochs; implemented
/// for dfdx's `Adam`, `Sgd` and `RMSprop`.
pub trait LearningRate {
    /// The current learning rate.
    fn learning_rate(&self) -> f64;
    /// Sets the learning rate for the following updates.
    fn set_learning_rate(&mut self, lr: f64);
}

impl<M, E: Dtype, D: Storage<E>> LearningRate for Adam<M, E, D> {
    fn learning_rate(&self) -> f64 {
        self.cfg.lr
    }
    fn set_learning_rate(&mut self, lr: f64) {
        self.cfg.lr = lr;
    }
}

impl<M, E: Dtype, D: Storage<E>> LearningRate for Sgd<M, E, D> {
    fn learning_rate(&self) -> f64 {
        self.cfg.lr
    }
    fn set_learning_rate(&mut self, lr: f64) {
        self.cfg.lr = lr;
    }
}

impl<M, E: Dtype, D: Storage<E>> LearningRate for RMSprop<M, E, D> {
    fn learning_rate(&self) -> f64 {
        self.cfg.lr
    }
    fn set_learning_rate(&mut self, lr: f64) {
        self.cfg.lr = lr;
    }
}

/// How the learning rate changes from epoch to epoch. `lr0` is the optimizer's rate when
/// `fit` starts; epochs count from 0.
///
/// ```
/// use typenet::train::LrSchedule;
/// let halve_every_two = LrSchedule::StepDecay { every: 2, factor: 0.5 };
/// let warmup = LrSchedule::Custom(|epoch, lr0| if epoch == 0 { lr0 / 10.0 } else { lr0 });
/// # let _ = (halve_every_two, warmup);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub enum LrSchedule {
    /// `lr0` throughout.
    #[default]
    Constant,
    /// `lr0 * factor^(epoch / every)`.
    StepDecay {
        /// Epochs between decays.
        every: usize,
        /// The multiplier at each decay.
        factor: f64,
    },
    /// `lr0 * rate^epoch`.
    ExponentialDecay {
        /// The multiplier per epoch.
        rate: f64,
    },
    /// Multiply the rate by `factor` (not below `min_lr`) once `patience` epochs in a row
    /// have not improved `monitor`, as Keras's `ReduceLROnPlateau`.
    ReduceOnPlateau {
        /// The metric watched.
        monitor: Monitor,
        /// The multiplier at each reduction.
        factor: f64,
        /// Epochs without improvement before a reduction.
        patience: usize,
        /// The floor of the rate.
        min_lr: f64,
    },
    /// `f(epoch, lr0)`, as Keras's `LearningRateScheduler`.
    Custom(fn(usize, f64) -> f64),
}

/// A schedule in progress: the rate of each epoch, and the plateau state.
#[derive(Clone, Debug)]
pub(crate) struct Scheduler {
    schedule: LrSchedule,
    lr0: f64,
    /// The current rate of a plateau schedule.
    plateau_lr: f64,
    tracker: Option<Tracker>,
}

impl Scheduler {
    pub fn new(schedule: LrSchedule, lr0: f64) -> Self {
        let tracker = match schedule {
            LrSchedule::ReduceOnPlateau { monitor, .. } => Some(Tracker::new(monitor, 0.0)),
            _ => None,
        };
        Scheduler {
            schedule,
            lr0,
            plateau_lr: lr0,
            tracker,
        }
    }

    /// The learning rate of `epoch` (from 0).
    pub fn lr(&self, epoch: usize) -> f64 {
        match self.schedule {
            LrSchedule::Constant => self.lr0,
            LrSchedule::StepDecay { every, factor } => {
                self.lr0 * factor.powi((epoch / every.max(1)) as i32)
            }
            LrSchedule::ExponentialDecay { rate } => self.lr0 * rate.powi(epoch as i32),
            LrSchedule::ReduceOnPlateau { .. } => self.plateau_lr,
            LrSchedule::Custom(f) => f(epoch, self.lr0),
        }
    }

    /// Records a finished epoch (only plateau schedules care).
    pub fn end_epoch(&mut self, stats: &EpochStats) {
        if let (
            LrSchedule::ReduceOnPlateau {
                factor,
                patience,
                min_lr,
                ..
            },
            Some(tracker),
        ) = (self.schedule, &mut self.tracker)
        {
            if !tracker.observe(stats) && tracker.waited >= patience {
                self.plateau_lr = (self.plateau_lr * factor).max(min_lr);
                tracker.waited = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::history::Metrics;

    fn stats(loss: f64) -> EpochStats {
        EpochStats {
            epoch: 1,
            train: Metrics {
                loss,
                accuracy: 0.0,
            },
            validation: None,
            learning_rate: 0.0,
            seconds: 1.0,
            samples_per_sec: 1.0,
        }
    }

    #[test]
    fn closed_form_schedules() {
        let rates = |schedule| {
            let s = Scheduler::new(schedule, 1.0);
            (0..5).map(|e| s.lr(e)).collect::<Vec<_>>()
        };
        assert_eq!(rates(LrSchedule::Constant), [1.0; 5]);
        assert_eq!(
            rates(LrSchedule::StepDecay {
                every: 2,
                factor: 0.5
            }),
            [1.0, 1.0, 0.5, 0.5, 0.25]
        );
        assert_eq!(
            rates(LrSchedule::ExponentialDecay { rate: 0.5 }),
            [1.0, 0.5, 0.25, 0.125, 0.0625]
        );
        assert_eq!(
            rates(LrSchedule::Custom(|e, lr| lr * e as f64)),
            [0.0, 1.0, 2.0, 3.0, 4.0]
        );
    }

    #[test]
    fn plateau_reduces_after_patience_and_stops_at_min_lr() {
        let mut s = Scheduler::new(
            LrSchedule::ReduceOnPlateau {
                monitor: Monitor::Loss,
                factor: 0.1,
                patience: 2,
                min_lr: 0.005,
            },
            1.0,
        );
        let mut rates = Vec::new();
        for loss in [1.0, 0.5, 0.6, 0.6, 0.7, 0.4, 0.7, 0.7, 0.7, 0.7] {
            s.end_epoch(&stats(loss));
            rates.push(s.lr(0));
        }
        let expected = [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.005];
        for (rate, want) in rates.iter().zip(expected) {
            assert!((rate - want).abs() < 1e-12, "{rates:?}");
        }
    }
}
