//! `RandomShift`: images moved by whole pixels, as Keras's `RandomTranslation` with
//! `fill_mode="constant"`, `fill_value=0`.

use super::image::{for_each_image, ImageDims};
use super::{Augment, AugmentError};
use rand::{Rng, RngCore};

/// Moves each image by a random whole number of rows and of columns, each drawn uniformly
/// from `-max..=max`, filling the uncovered border with 0 (Keras's `RandomTranslation`
/// with `fill_mode="constant"`, in pixels rather than fractions of the size). Every
/// channel of an image moves alike.
///
/// Input: samples of shape `[C, H, W]` or `[H, W]` ([`ImageDims`]); output: the same shape.
///
/// ```
/// use typenet::data::augment::{epoch_rng, Augment, RandomShift};
/// let shift = RandomShift::new(1);
/// let mut image = vec![0.0f32; 9];
/// image[4] = 1.0; // the centre of a 3x3 image
/// shift.augment(&mut image, &[3, 3], &mut epoch_rng(0, 0));
/// // The pixel is somewhere in the 3x3 window around the centre, i.e. still in the image.
/// assert_eq!(image.iter().sum::<f32>(), 1.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomShift {
    max: usize,
}

impl RandomShift {
    /// Shifts of up to `max` pixels up or down and up to `max` left or right.
    pub fn new(max: usize) -> Self {
        RandomShift { max }
    }
}

impl Augment for RandomShift {
    fn check(&self, shape: &[usize]) -> Result<(), AugmentError> {
        ImageDims::check("RandomShift", shape).map(|_| ())
    }

    fn augment(&self, batch: &mut [f32], shape: &[usize], rng: &mut dyn RngCore) {
        let max = self.max.min(isize::MAX as usize) as isize;
        for_each_image(batch, shape, |image, dims| {
            let rows = rng.gen_range(-max..=max);
            let cols = rng.gen_range(-max..=max);
            shift(image, dims, rows, cols);
        });
    }
}

/// Moves `image` down by `rows` and right by `cols` (up and left when negative), filling
/// with 0.
fn shift(image: &mut [f32], dims: ImageDims, rows: isize, cols: isize) {
    let source = image.to_vec();
    let (h, w) = (dims.height as isize, dims.width as isize);
    for (out, from) in image
        .chunks_exact_mut(dims.plane())
        .zip(source.chunks_exact(dims.plane()))
    {
        for y in 0..h {
            for x in 0..w {
                let (sy, sx) = (y - rows, x - cols);
                let inside = (0..h).contains(&sy) && (0..w).contains(&sx);
                out[(y * w + x) as usize] = if inside {
                    from[(sy * w + sx) as usize]
                } else {
                    0.0
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::augment::epoch_rng;

    const DIMS: ImageDims = ImageDims {
        channels: 1,
        height: 3,
        width: 4,
    };

    fn one_hot(at: usize) -> Vec<f32> {
        let mut image = vec![0.0; 12];
        image[at] = 1.0;
        image
    }

    #[test]
    fn a_shift_moves_the_pixel_and_fills_with_zero() {
        // Row 1, column 1 -> down 1, right 2 -> row 2, column 3.
        let mut image = one_hot(4 + 1);
        shift(&mut image, DIMS, 1, 2);
        assert_eq!(image, one_hot(2 * 4 + 3));
        // Up and left.
        let mut image = one_hot(2 * 4 + 3);
        shift(&mut image, DIMS, -2, -3);
        assert_eq!(image, one_hot(0));
        // Off the edge: nothing left.
        let mut image = one_hot(3);
        shift(&mut image, DIMS, 0, 1);
        assert_eq!(image, vec![0.0; 12]);
        // A ramp shifted right by one: the first column becomes 0.
        let mut ramp: Vec<f32> = (1..=12).map(|v| v as f32).collect();
        shift(&mut ramp, DIMS, 0, 1);
        assert_eq!(ramp, [0., 1., 2., 3., 0., 5., 6., 7., 0., 9., 10., 11.]);
    }

    #[test]
    fn every_channel_moves_alike() {
        let dims = ImageDims {
            channels: 2,
            ..DIMS
        };
        let mut image = [one_hot(0), one_hot(5)].concat();
        shift(&mut image, dims, 1, 1);
        assert_eq!(image, [one_hot(5), one_hot(10)].concat());
    }

    #[test]
    fn random_shifts_stay_within_max_and_reach_it() {
        let mut rng = epoch_rng(3, 0);
        let mut seen = std::collections::HashSet::new();
        // A 5x5 image with its pixel in the centre; max 2 keeps it inside.
        for _ in 0..200 {
            let mut image = vec![0.0f32; 25];
            image[12] = 1.0;
            RandomShift::new(2).augment(&mut image, &[1, 5, 5], &mut rng);
            let at = image.iter().position(|&v| v == 1.0).unwrap();
            assert_eq!(image.iter().sum::<f32>(), 1.0);
            seen.insert((at / 5, at % 5));
        }
        assert_eq!(seen.len(), 25, "every shift in -2..=2 x -2..=2 is drawn");
        let mut image = one_hot(5);
        RandomShift::new(0).augment(&mut image, &[3, 4], &mut rng);
        assert_eq!(image, one_hot(5));
    }

    #[test]
    fn samples_that_are_not_images_are_refused() {
        let err = RandomShift::new(1).check(&[784]).unwrap_err();
        assert_eq!(
            err,
            AugmentError::NotAnImage {
                transform: "RandomShift",
                shape: vec![784]
            }
        );
        assert!(err.to_string().contains("[784]"), "{err}");
    }
}
