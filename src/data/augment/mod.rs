//! Data augmentation: random transforms of each training batch, on the host, before the
//! batch becomes a tensor.
//!
//! [`Trainer::augment`](crate::train::Trainer::augment) takes any [`Augment`]: one of the
//! built-in image transforms ([`RandomShift`], [`RandomFlip`], [`RandomRotation`],
//! [`GaussianNoise`]), several chained with [`Augment::then`], a transform of your own, or a
//! closure. `fit` hands it each training batch of the first input and a generator drawn
//! from the trainer's seed and the epoch, so a run reproduces its augmented batches and
//! each epoch draws new ones. Validation, `evaluate` and `predict` see the data as stored.
//!
//! ```
//! use typenet::data::augment::{Augment, GaussianNoise, RandomRotation, RandomShift};
//! use typenet::data::augment::rand::{rngs::StdRng, SeedableRng};
//!
//! let augment = RandomShift::new(2).then(RandomRotation::degrees(10.0)).then(GaussianNoise::new(0.05));
//! let mut batch = vec![0.0f32; 3 * 28 * 28]; // 3 images of 28x28, row after row
//! augment.check(&[28, 28])?;
//! augment.augment(&mut batch, &[28, 28], &mut StdRng::seed_from_u64(0));
//! # Ok::<(), typenet::data::augment::AugmentError>(())
//! ```

mod batch;
mod flip;
mod image;
mod noise;
mod rotation;
mod shift;

pub(crate) use batch::augmented_inputs;
pub use batch::epoch_rng;
pub use flip::RandomFlip;
pub use image::ImageDims;
pub use noise::GaussianNoise;
pub use rotation::RandomRotation;
pub use shift::RandomShift;

/// The `rand` crate the transforms draw with, for a transform of your own
/// (`rand::Rng` gives `gen_range`, `gen_bool`, ...).
pub use rand;

use rand::RngCore;

/// A random transform of a batch of samples, applied by `fit` to each training batch (see
/// [`Trainer::augment`](crate::train::Trainer::augment)).
///
/// A batch is the samples' values row after row, each sample of `shape` (as the data set
/// stores it: `[28, 28]` for the shipped MNIST digits, `[3, 32, 32]` for colour images);
/// `rng` is the epoch's generator ([`epoch_rng`]). Draw from it alone, so that the same seed
/// gives the same batches.
///
/// Implement it for a transform of your own; `then` chains it with others:
///
/// ```
/// use typenet::data::augment::rand::{Rng, RngCore};
/// use typenet::data::augment::{Augment, AugmentError, RandomFlip};
///
/// /// Scales each sample's contrast by a random factor in [1 - amount, 1 + amount].
/// struct RandomContrast {
///     amount: f32,
/// }
///
/// impl Augment for RandomContrast {
///     fn check(&self, _shape: &[usize]) -> Result<(), AugmentError> {
///         if (0.0..1.0).contains(&self.amount) {
///             Ok(())
///         } else {
///             Err(AugmentError::Setting {
///                 transform: "RandomContrast",
///                 message: format!("amount {} is not within 0..1", self.amount),
///             })
///         }
///     }
///
///     fn augment(&self, batch: &mut [f32], shape: &[usize], rng: &mut dyn RngCore) {
///         let len: usize = shape.iter().product();
///         for sample in batch.chunks_exact_mut(len) {
///             let factor = rng.gen_range(1.0 - self.amount..=1.0 + self.amount);
///             let mean = sample.iter().sum::<f32>() / len as f32;
///             sample.iter_mut().for_each(|v| *v = mean + (*v - mean) * factor);
///         }
///     }
/// }
///
/// let augment = RandomFlip::horizontal().then(RandomContrast { amount: 0.2 });
/// assert!(augment.check(&[28, 28]).is_ok());
/// assert!(RandomContrast { amount: 1.5 }.check(&[28, 28]).is_err());
/// ```
///
/// A closure with the arguments of [`augment`](Self::augment) is one too (its argument
/// types must be written out):
///
/// ```
/// use typenet::data::augment::rand::RngCore;
/// use typenet::data::augment::Augment;
///
/// let invert = |batch: &mut [f32], _shape: &[usize], _rng: &mut dyn RngCore| {
///     batch.iter_mut().for_each(|v| *v = 1.0 - *v);
/// };
/// let mut batch = vec![0.0, 0.25, 1.0];
/// invert.augment(&mut batch, &[3], &mut typenet::data::augment::epoch_rng(0, 0));
/// assert_eq!(batch, [1.0, 0.75, 0.0]);
/// ```
pub trait Augment {
    /// Checks that this transform can take samples of `shape` and that its settings are
    /// valid. `fit` calls it once, before any update; the default accepts everything.
    fn check(&self, shape: &[usize]) -> Result<(), AugmentError> {
        let _ = shape;
        Ok(())
    }

    /// Transforms `batch`, samples of `shape` row after row, in place, drawing from `rng`.
    ///
    /// Called only with a `shape` that [`check`](Self::check) accepted; the built-in
    /// transforms leave a batch of any other shape as it is.
    fn augment(&self, batch: &mut [f32], shape: &[usize], rng: &mut dyn RngCore);

    /// This transform, then `next`.
    fn then<B: Augment>(self, next: B) -> Then<Self, B>
    where
        Self: Sized,
    {
        Then {
            first: self,
            second: next,
        }
    }
}

impl<F> Augment for F
where
    F: Fn(&mut [f32], &[usize], &mut dyn RngCore),
{
    fn augment(&self, batch: &mut [f32], shape: &[usize], rng: &mut dyn RngCore) {
        self(batch, shape, rng)
    }
}

/// Two transforms, one after the other: [`Augment::then`].
#[derive(Clone, Copy, Debug)]
pub struct Then<A, B> {
    first: A,
    second: B,
}

impl<A: Augment, B: Augment> Augment for Then<A, B> {
    fn check(&self, shape: &[usize]) -> Result<(), AugmentError> {
        self.first.check(shape)?;
        self.second.check(shape)
    }

    fn augment(&self, batch: &mut [f32], shape: &[usize], rng: &mut dyn RngCore) {
        self.first.augment(batch, shape, rng);
        self.second.augment(batch, shape, rng);
    }
}

/// Why a transform cannot augment a data set; `fit` returns it inside
/// [`TrainError::Augment`](crate::train::TrainError::Augment) before any update.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AugmentError {
    /// An image transform was given samples that are not images: it takes `[C, H, W]`
    /// (channels first) or `[H, W]` (one channel).
    #[error("{transform} transforms images of shape [channels, height, width] or [height, width], but the samples have shape {shape:?}")]
    NotAnImage {
        /// The transform.
        transform: &'static str,
        /// The samples' shape.
        shape: Vec<usize>,
    },

    /// A setting of the transform is out of range (a negative or NaN standard deviation,
    /// an infinite angle).
    #[error("{transform}: {message}")]
    Setting {
        /// The transform.
        transform: &'static str,
        /// What is wrong.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transform that appends `tag` to every value (value * 10 + tag), and refuses
    /// samples of `refuses` values.
    struct Tag {
        tag: f32,
        refuses: usize,
    }

    impl Augment for Tag {
        fn check(&self, shape: &[usize]) -> Result<(), AugmentError> {
            match shape {
                [n] if *n == self.refuses => Err(AugmentError::NotAnImage {
                    transform: "Tag",
                    shape: shape.to_vec(),
                }),
                _ => Ok(()),
            }
        }

        fn augment(&self, batch: &mut [f32], _shape: &[usize], _rng: &mut dyn RngCore) {
            batch.iter_mut().for_each(|v| *v = *v * 10.0 + self.tag);
        }
    }

    #[test]
    fn then_runs_in_order_and_checks_both() {
        let chain = Tag {
            tag: 1.0,
            refuses: 1,
        }
        .then(Tag {
            tag: 2.0,
            refuses: 2,
        })
        .then(Tag {
            tag: 3.0,
            refuses: 3,
        });
        let mut batch = vec![0.0, 5.0];
        chain.augment(&mut batch, &[2], &mut epoch_rng(0, 0));
        assert_eq!(batch, [123.0, 5123.0]);
        assert!(chain.check(&[4]).is_ok());
        for n in 1..=3 {
            assert!(chain.check(&[n]).is_err(), "{n}");
        }
    }
}
