//! What training returns: per-epoch loss, accuracy, learning rate and speed; as CSV.

use super::atomic::write_atomic;
use super::error::TrainError;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// Loss and accuracy over a data set, each averaged over its samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metrics {
    /// The mean loss per sample.
    pub loss: f64,
    /// The fraction of samples whose label the model predicts, in `[0, 1]`.
    pub accuracy: f64,
}

/// Running sums of loss and correct predictions over batches, for [`Metrics`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MetricsSum {
    loss: f64,
    correct: usize,
    /// The number of samples summed.
    pub seen: usize,
}

impl MetricsSum {
    /// Adds a batch of `n` samples with mean loss `mean_loss`, `correct` of them predicted.
    pub fn add(&mut self, mean_loss: f64, correct: usize, n: usize) {
        self.loss += mean_loss * n as f64;
        self.correct += correct;
        self.seen += n;
    }

    /// The means so far.
    pub fn metrics(&self) -> Metrics {
        let n = self.seen.max(1) as f64;
        Metrics {
            loss: self.loss / n,
            accuracy: self.correct as f64 / n,
        }
    }
}

/// One epoch of training.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochStats {
    /// The epoch's number, counting from 1.
    pub epoch: usize,
    /// Loss and accuracy on the training batches, averaged over the epoch as Keras
    /// reports them (the weights changed during the epoch).
    pub train: Metrics,
    /// Loss and accuracy on the validation data after the epoch, if there is any.
    pub validation: Option<Metrics>,
    /// The learning rate the epoch trained with.
    pub learning_rate: f64,
    /// Seconds spent on the training steps (validation excluded).
    pub seconds: f64,
    /// Training samples per second.
    pub samples_per_sec: f64,
}

/// The record of a `fit`: one [`EpochStats`] per epoch run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The epochs, in order.
    pub epochs: Vec<EpochStats>,
    /// Whether early stopping ended training before the last epoch.
    pub stopped_early: bool,
}

impl History {
    /// The training loss of each epoch.
    pub fn losses(&self) -> Vec<f64> {
        self.epochs.iter().map(|e| e.train.loss).collect()
    }

    /// The history as CSV: a header line, then one line per epoch with the columns
    /// `epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,samples_per_sec`
    /// (validation columns empty without validation data).
    ///
    /// ```
    /// use typenet::train::{EpochStats, History, Metrics};
    /// let epoch = EpochStats {
    ///     epoch: 1,
    ///     train: Metrics { loss: 0.5, accuracy: 0.75 },
    ///     validation: None,
    ///     learning_rate: 0.001,
    ///     seconds: 2.0,
    ///     samples_per_sec: 4000.0,
    /// };
    /// let csv = History { epochs: vec![epoch], stopped_early: false }.to_csv();
    /// assert_eq!(csv.lines().nth(1), Some("1,0.5,0.75,,,0.001,2,4000"));
    /// ```
    pub fn to_csv(&self) -> String {
        let mut csv = String::from(
            "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds,samples_per_sec\n",
        );
        for e in &self.epochs {
            let (val_loss, val_accuracy) = match e.validation {
                Some(v) => (v.loss.to_string(), v.accuracy.to_string()),
                None => (String::new(), String::new()),
            };
            // Writing to a String cannot fail.
            let _ = writeln!(
                csv,
                "{},{},{},{val_loss},{val_accuracy},{},{},{}",
                e.epoch,
                e.train.loss,
                e.train.accuracy,
                e.learning_rate,
                e.seconds,
                e.samples_per_sec
            );
        }
        csv
    }

    /// Writes [`to_csv`](Self::to_csv) to `path` (atomically: a reader never sees half a file).
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<(), TrainError> {
        let path = path.as_ref();
        write_atomic(path, |file| file.write_all(self.to_csv().as_bytes()))
            .map_err(TrainError::io(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn epoch(n: usize, loss: f64, val: Option<f64>) -> EpochStats {
        EpochStats {
            epoch: n,
            train: Metrics {
                loss,
                accuracy: 1.0 - loss,
            },
            validation: val.map(|loss| Metrics {
                loss,
                accuracy: 0.5,
            }),
            learning_rate: 0.01,
            seconds: 1.5,
            samples_per_sec: 100.0,
        }
    }

    #[test]
    fn csv_has_one_line_per_epoch_and_round_trips_numbers() {
        let history = History {
            epochs: vec![epoch(1, 0.75, Some(0.8)), epoch(2, 0.25, Some(0.3))],
            stopped_early: false,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.csv");
        history.write_csv(&path).unwrap();
        let csv = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2], "2,0.25,0.75,0.3,0.5,0.01,1.5,100");
        let losses: Vec<f64> = lines[1..]
            .iter()
            .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
            .collect();
        assert_eq!(losses, history.losses());
    }
}
