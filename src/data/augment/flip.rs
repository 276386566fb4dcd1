//! `RandomFlip`: images mirrored at random, as Keras's `RandomFlip`.

use super::image::{for_each_image, ImageDims};
use super::{Augment, AugmentError};
use rand::{Rng, RngCore};

/// Mirrors each image left to right (`horizontal`), top to bottom (`vertical`), or each of
/// these independently (`horizontal_and_vertical`), each with probability 1/2, as Keras's
/// `RandomFlip("horizontal")` etc. Every channel of an image flips alike. (Not for digits
/// or text, whose mirror image is another class or none.)
///
/// Input: samples of shape `[C, H, W]` or `[H, W]` ([`ImageDims`]); output: the same shape.
///
/// ```
/// use typenet::data::augment::{epoch_rng, Augment, RandomFlip};
/// let mut rng = epoch_rng(0, 0);
/// let mut row = vec![1.0f32, 2.0, 3.0]; // a 1x3 image
/// RandomFlip::horizontal().augment(&mut row, &[1, 3], &mut rng);
/// assert!(row == [1.0, 2.0, 3.0] || row == [3.0, 2.0, 1.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomFlip {
    horizontal: bool,
    vertical: bool,
}

impl RandomFlip {
    /// Left-right mirror images, half of the time.
    pub fn horizontal() -> Self {
        RandomFlip {
            horizontal: true,
            vertical: false,
        }
    }

    /// Upside-down images, half of the time.
    pub fn vertical() -> Self {
        RandomFlip {
            horizontal: false,
            vertical: true,
        }
    }

    /// Each of the two flips, independently, half of the time.
    pub fn horizontal_and_vertical() -> Self {
        RandomFlip {
            horizontal: true,
            vertical: true,
        }
    }
}

impl Augment for RandomFlip {
    fn check(&self, shape: &[usize]) -> Result<(), AugmentError> {
        ImageDims::check("RandomFlip", shape).map(|_| ())
    }

    fn augment(&self, batch: &mut [f32], shape: &[usize], rng: &mut dyn RngCore) {
        for_each_image(batch, shape, |image, dims| {
            if self.horizontal && rng.gen_bool(0.5) {
                flip_horizontal(image, dims);
            }
            if self.vertical && rng.gen_bool(0.5) {
                flip_vertical(image, dims);
            }
        });
    }
}

/// Mirrors each row of `image`.
fn flip_horizontal(image: &mut [f32], dims: ImageDims) {
    image
        .chunks_exact_mut(dims.width)
        .for_each(<[f32]>::reverse);
}

/// Mirrors the order of the rows of each channel of `image`.
fn flip_vertical(image: &mut [f32], dims: ImageDims) {
    for plane in image.chunks_exact_mut(dims.plane()) {
        for y in 0..dims.height / 2 {
            let (top, bottom) = plane.split_at_mut((dims.height - 1 - y) * dims.width);
            top[y * dims.width..(y + 1) * dims.width].swap_with_slice(&mut bottom[..dims.width]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::augment::epoch_rng;

    /// 2 channels of 3x2: values 0..12.
    const DIMS: ImageDims = ImageDims {
        channels: 2,
        height: 3,
        width: 2,
    };

    fn ramp() -> Vec<f32> {
        (0..12).map(|v| v as f32).collect()
    }

    #[test]
    fn flips_mirror_rows_or_columns() {
        let mut image = ramp();
        flip_horizontal(&mut image, DIMS);
        assert_eq!(image, [1., 0., 3., 2., 5., 4., 7., 6., 9., 8., 11., 10.]);
        let mut image = ramp();
        flip_vertical(&mut image, DIMS);
        assert_eq!(image, [4., 5., 2., 3., 0., 1., 10., 11., 8., 9., 6., 7.]);
    }

    #[test]
    fn flipping_twice_is_the_identity() {
        for flip in [flip_horizontal, flip_vertical] {
            let mut image = ramp();
            flip(&mut image, DIMS);
            assert_ne!(image, ramp());
            flip(&mut image, DIMS);
            assert_eq!(image, ramp());
        }
    }

    #[test]
    fn about_half_the_images_flip_and_only_the_named_way() {
        let shape = [2, 3, 2];
        let mut h = ramp();
        flip_horizontal(&mut h, DIMS);
        let mut v = ramp();
        flip_vertical(&mut v, DIMS);
        let mut hv = h.clone();
        flip_vertical(&mut hv, DIMS);
        let count = |flip: RandomFlip, seed| {
            let mut batch = ramp().repeat(1000);
            flip.augment(&mut batch, &shape, &mut epoch_rng(seed, 0));
            let mut counts = [0; 4]; // as is, horizontal, vertical, both
            for image in batch.chunks_exact(12) {
                let kind = [&ramp(), &h, &v, &hv].iter().position(|k| k[..] == *image);
                counts[kind.expect("a flip of the image")] += 1;
            }
            counts
        };
        let [same, hor, ver, both] = count(RandomFlip::horizontal(), 1);
        assert_eq!(ver + both, 0);
        assert!((450..550).contains(&hor) && same + hor == 1000, "{hor}");
        let [same, hor, ver, both] = count(RandomFlip::vertical(), 2);
        assert_eq!(hor + both, 0);
        assert!((450..550).contains(&ver) && same + ver == 1000, "{ver}");
        for n in count(RandomFlip::horizontal_and_vertical(), 3) {
            assert!((200..300).contains(&n), "{n}");
        }
    }
}
