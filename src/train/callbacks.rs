//! Keras's callbacks: early stopping, model checkpoints and the learning-rate schedule;
//! their settings, and their state during a `fit`.

use super::checkpoint::save_snapshot;
use super::error::TrainError;
use super::history::EpochStats;
use super::monitor::{Monitor, Tracker};
use super::params::Snapshot;
use super::schedule::{LrSchedule, Scheduler};
use dfdx::prelude::Dtype;
use dfdx::tensor::safetensors::SafeDtype;
use std::path::PathBuf;

/// Stops training when a metric has stopped improving, as Keras's `EarlyStopping`.
///
/// Training stops once `patience` epochs in a row (at least one) have not improved the
/// best value by more than `min_delta`. The `Default` is Keras's: watch `val_loss`,
/// patience 0 (stop at the first epoch that does not improve).
///
/// ```
/// use typenet::train::{EarlyStopping, Monitor};
/// let stop = EarlyStopping { patience: 2, restore_best_weights: true, ..Default::default() };
/// assert_eq!(stop.monitor, Monitor::ValLoss);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EarlyStopping {
    /// The metric watched.
    pub monitor: Monitor,
    /// Epochs without improvement tolerated before stopping.
    pub patience: usize,
    /// The smallest change that counts as an improvement.
    pub min_delta: f64,
    /// Whether the model gets back the weights of its best epoch when training ends.
    pub restore_best_weights: bool,
}

/// Saves the model after each epoch, as Keras's `ModelCheckpoint`; see
/// [`save_checkpoint`](super::save_checkpoint) for the format and the atomic write.
///
/// A checkpoint is never written with NaN or infinite weights: a run that diverges
/// stops with an error and leaves the last good checkpoint in place.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelCheckpoint {
    /// The file, replaced at each save.
    pub path: PathBuf,
    /// With `Some(monitor)`, save only when that metric improves on its best value;
    /// with `None`, save after every epoch.
    pub best_only: Option<Monitor>,
}

impl ModelCheckpoint {
    /// Saves after every epoch to `path`.
    pub fn every_epoch(path: impl Into<PathBuf>) -> Self {
        ModelCheckpoint {
            path: path.into(),
            best_only: None,
        }
    }

    /// Saves to `path` after each epoch that improves `monitor`.
    pub fn best(path: impl Into<PathBuf>, monitor: Monitor) -> Self {
        ModelCheckpoint {
            path: path.into(),
            best_only: Some(monitor),
        }
    }
}

/// The callbacks of one `fit`, as they run after each epoch.
pub(crate) struct Callbacks<E> {
    /// The schedule, asked for each epoch's learning rate.
    pub scheduler: Scheduler,
    checkpoint: Option<(ModelCheckpoint, Option<Tracker>)>,
    early_stopping: Option<(EarlyStopping, Tracker)>,
    /// The weights of the best epoch, kept when early stopping restores them.
    best_weights: Option<Snapshot<E>>,
}

impl<E: Dtype + SafeDtype> Callbacks<E> {
    /// Callbacks starting from learning rate `lr0`.
    pub fn new(
        schedule: LrSchedule,
        lr0: f64,
        checkpoint: Option<ModelCheckpoint>,
        early_stopping: Option<EarlyStopping>,
    ) -> Self {
        Callbacks {
            scheduler: Scheduler::new(schedule, lr0),
            checkpoint: checkpoint.map(|c| {
                let tracker = c.best_only.map(|monitor| Tracker::new(monitor, 0.0));
                (c, tracker)
            }),
            early_stopping: early_stopping.map(|es| (es, Tracker::new(es.monitor, es.min_delta))),
            best_weights: None,
        }
    }

    /// Runs every callback after an epoch whose (finite) weights are `weights`: updates
    /// the schedule, saves a checkpoint if due, and returns whether to stop.
    pub fn end_epoch(
        &mut self,
        stats: &EpochStats,
        weights: Snapshot<E>,
    ) -> Result<bool, TrainError> {
        self.scheduler.end_epoch(stats);
        if let Some((checkpoint, best)) = &mut self.checkpoint {
            if best.as_mut().is_none_or(|tracker| tracker.observe(stats)) {
                save_snapshot(&weights, &checkpoint.path)?;
            }
        }
        let Some((es, tracker)) = &mut self.early_stopping else {
            return Ok(false);
        };
        if tracker.observe(stats) {
            if es.restore_best_weights {
                self.best_weights = Some(weights);
            }
            return Ok(false);
        }
        Ok(tracker.waited >= es.patience)
    }

    /// The weights to restore when training ends, if early stopping keeps any.
    pub fn into_best_weights(self) -> Option<Snapshot<E>> {
        self.best_weights
    }
}
