//! `GaussianNoise`: normal noise added to every value, as Keras's `GaussianNoise`.

use super::{Augment, AugmentError};
use rand::RngCore;
use rand_distr::{Distribution, Normal};

/// Adds noise drawn from a normal distribution of mean 0 and standard deviation `stddev`
/// to every value, independently, as Keras's `GaussianNoise(stddev)` does in training.
/// Values are not clipped. Takes samples of any shape.
///
/// ```
/// use typenet::data::augment::{epoch_rng, Augment, GaussianNoise};
/// let mut batch = vec![0.5f32; 4];
/// GaussianNoise::new(0.0).augment(&mut batch, &[4], &mut epoch_rng(0, 0));
/// assert_eq!(batch, [0.5; 4]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaussianNoise {
    stddev: f32,
}

impl GaussianNoise {
    /// Noise of standard deviation `stddev` (finite, 0 or more; `fit` checks).
    pub fn new(stddev: f32) -> Self {
        GaussianNoise { stddev }
    }
}

impl Augment for GaussianNoise {
    fn check(&self, _shape: &[usize]) -> Result<(), AugmentError> {
        if self.stddev.is_finite() && self.stddev >= 0.0 {
            Ok(())
        } else {
            Err(AugmentError::Setting {
                transform: "GaussianNoise",
                message: format!(
                    "the standard deviation {} is not finite and 0 or more",
                    self.stddev
                ),
            })
        }
    }

    fn augment(&self, batch: &mut [f32], _shape: &[usize], rng: &mut dyn RngCore) {
        if self.stddev == 0.0 {
            return;
        }
        let Ok(normal) = Normal::new(0.0, self.stddev) else {
            return;
        };
        for value in batch {
            *value += normal.sample(rng);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::augment::epoch_rng;

    #[test]
    fn noise_has_the_stated_mean_and_standard_deviation() {
        let n = 100_000;
        let mut batch = vec![2.0f32; n];
        GaussianNoise::new(0.3).augment(&mut batch, &[10], &mut epoch_rng(1, 0));
        let noise: Vec<f64> = batch.iter().map(|&v| v as f64 - 2.0).collect();
        let mean = noise.iter().sum::<f64>() / n as f64;
        let var = noise.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        // The standard error of the mean is 0.3 / sqrt(1e5) = 0.00095; of the standard
        // deviation about 0.3 / sqrt(2e5) = 0.00067.
        assert!(mean.abs() < 0.004, "{mean}");
        assert!((var.sqrt() - 0.3).abs() < 0.003, "{}", var.sqrt());
        // Every value got its own draw (a few coincide within f32 resolution).
        let distinct: std::collections::HashSet<u32> = batch.iter().map(|v| v.to_bits()).collect();
        assert!(distinct.len() > n * 9 / 10, "{}", distinct.len());
    }

    #[test]
    fn zero_noise_is_the_identity_and_bad_settings_are_refused() {
        let values: Vec<f32> = (0..50).map(|v| v as f32 * -0.1).collect();
        let mut batch = values.clone();
        GaussianNoise::new(0.0).augment(&mut batch, &[5, 10], &mut epoch_rng(0, 0));
        assert_eq!(batch, values);
        assert!(GaussianNoise::new(0.0).check(&[7]).is_ok());
        for bad in [-0.1, f32::NAN, f32::INFINITY] {
            let err = GaussianNoise::new(bad).check(&[7]).unwrap_err();
            assert!(matches!(
                err,
                AugmentError::Setting {
                    transform: "GaussianNoise",
                    ..
                }
            ));
        }
    }
}
