//! Progress output the Keras way: a bar per epoch, then a one-line summary.

use super::history::{EpochStats, Metrics};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::{Duration, Instant};

/// How much `fit` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verbosity {
    /// Nothing (Keras's `verbose=0`): for tests and CI.
    Silent,
    /// One summary line per epoch on stdout (Keras's `verbose=2`): for logs.
    Lines,
    /// A progress bar on stderr during each epoch, with the running loss, accuracy and
    /// samples/s, then the summary line (Keras's `verbose=1`). The bar is hidden when
    /// stderr is not a terminal.
    #[default]
    ProgressBar,
}

impl From<bool> for Verbosity {
    /// `true` is [`Verbosity::ProgressBar`], `false` is [`Verbosity::Silent`].
    fn from(verbose: bool) -> Self {
        if verbose {
            Verbosity::ProgressBar
        } else {
            Verbosity::Silent
        }
    }
}

/// The most often the bar's text is rebuilt; indicatif redraws no more often either.
const REFRESH: Duration = Duration::from_millis(100);

/// The output of one `fit`.
pub(crate) struct Progress {
    verbosity: Verbosity,
    epochs: usize,
    bar: Option<ProgressBar>,
    last_refresh: Option<Instant>,
}

impl Progress {
    pub fn new(verbosity: Verbosity, epochs: usize) -> Self {
        Progress {
            verbosity,
            epochs,
            bar: None,
            last_refresh: None,
        }
    }

    /// Starts the bar of `epoch` (from 0), which has `steps` batches.
    pub fn start_epoch(&mut self, epoch: usize, steps: usize) {
        if self.verbosity != Verbosity::ProgressBar {
            return;
        }
        let bar = ProgressBar::with_draw_target(
            Some(steps as u64),
            ProgressDrawTarget::stderr_with_hz(10),
        );
        let style =
            ProgressStyle::with_template("{prefix} {pos:>5}/{len} [{bar:30}] ETA {eta} - {msg}")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(format!("Epoch {}/{}", epoch + 1, self.epochs));
        self.bar = Some(bar);
        self.last_refresh = None;
    }

    /// Reports that `step` batches are done, with the running metrics and throughput.
    /// Cheap enough to call every step: the text is rebuilt at most 10 times a second.
    pub fn step(&mut self, step: usize, running: Metrics, samples_per_sec: f64) {
        let Some(bar) = &self.bar else { return };
        let now = Instant::now();
        let due = self
            .last_refresh
            .is_none_or(|last| now.duration_since(last) >= REFRESH);
        if due || step as u64 == bar.length().unwrap_or(0) {
            bar.set_position(step as u64);
            bar.set_message(format!(
                "{samples_per_sec:.0} samples/s - loss: {:.4} - accuracy: {:.4}",
                running.loss, running.accuracy
            ));
            self.last_refresh = Some(now);
        }
    }

    /// Ends an epoch: clears its bar and prints its summary line.
    pub fn end_epoch(&mut self, stats: &EpochStats) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.verbosity != Verbosity::Silent {
            println!("{}", summary_line(stats, self.epochs));
        }
    }

    /// Leaves the bar where an error stopped training.
    pub fn abandon(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.abandon();
        }
    }
}

/// The summary of one epoch, e.g.
/// `Epoch 2/10 - 1.9s - 4210 samples/s - loss: 0.3121 - accuracy: 0.9102 - val_loss: 0.2870 - val_accuracy: 0.9190 - lr: 1.0e-3`.
pub(crate) fn summary_line(stats: &EpochStats, epochs: usize) -> String {
    let mut line = format!(
        "Epoch {}/{epochs} - {:.1}s - {:.0} samples/s - loss: {:.4} - accuracy: {:.4}",
        stats.epoch, stats.seconds, stats.samples_per_sec, stats.train.loss, stats.train.accuracy
    );
    if let Some(v) = stats.validation {
        line += &format!(
            " - val_loss: {:.4} - val_accuracy: {:.4}",
            v.loss, v.accuracy
        );
    }
    line + &format!(" - lr: {:.1e}", stats.learning_rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_reads_like_keras() {
        let stats = EpochStats {
            epoch: 2,
            train: Metrics {
                loss: 0.31214,
                accuracy: 0.91,
            },
            validation: Some(Metrics {
                loss: 0.287,
                accuracy: 0.919,
            }),
            learning_rate: 0.001,
            seconds: 1.94,
            samples_per_sec: 4210.4,
        };
        assert_eq!(
            summary_line(&stats, 10),
            "Epoch 2/10 - 1.9s - 4210 samples/s - loss: 0.3121 - accuracy: 0.9100 \
             - val_loss: 0.2870 - val_accuracy: 0.9190 - lr: 1.0e-3"
        );
    }

    #[test]
    fn a_silent_progress_has_no_bar() {
        let mut progress = Progress::new(Verbosity::Silent, 1);
        progress.start_epoch(0, 10);
        assert!(progress.bar.is_none());
        assert_eq!(Verbosity::from(true), Verbosity::ProgressBar);
    }
}
