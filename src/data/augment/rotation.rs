//! `RandomRotation`: images turned by a small random angle about their centre, as Keras's
//! `RandomRotation` with `fill_mode="constant"`, `interpolation="bilinear"`.

use super::image::{for_each_image, ImageDims};
use super::{Augment, AugmentError};
use rand::{Rng, RngCore};

/// Turns each image by an angle drawn uniformly from `-max..=max` degrees (positive:
/// counter-clockwise as displayed, rows running down), about its centre (`(H - 1) / 2`,
/// `(W - 1) / 2`), as Keras's `RandomRotation` with `fill_mode="constant"` and
/// `fill_value=0`: each output pixel reads the input at the turned-back position by
/// bilinear interpolation, a neighbour outside the image counting as 0. Every channel of
/// an image turns alike.
///
/// Input: samples of shape `[C, H, W]` or `[H, W]` ([`ImageDims`]); output: the same shape.
///
/// ```
/// use typenet::data::augment::{epoch_rng, Augment, RandomRotation};
/// // A quarter turn counter-clockwise: the top-right pixel goes to the top left.
/// let quarter = RandomRotation::between_degrees(90.0, 90.0);
/// let mut image = vec![0.0f32, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]; // 3x3
/// quarter.augment(&mut image, &[3, 3], &mut epoch_rng(0, 0));
/// assert!((image[0] - 1.0).abs() < 1e-6 && image[1..].iter().all(|v| v.abs() < 1e-6));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RandomRotation {
    low: f64,
    high: f64,
}

impl RandomRotation {
    /// Turns of up to `max` degrees either way (Keras's `factor` is `max / 360`).
    pub fn degrees(max: f64) -> Self {
        RandomRotation {
            low: -max,
            high: max,
        }
    }

    /// Turns of `low..=high` degrees (counter-clockwise positive).
    pub fn between_degrees(low: f64, high: f64) -> Self {
        RandomRotation { low, high }
    }
}

impl Augment for RandomRotation {
    fn check(&self, shape: &[usize]) -> Result<(), AugmentError> {
        ImageDims::check("RandomRotation", shape)?;
        if self.low.is_finite() && self.high.is_finite() && self.low <= self.high {
            Ok(())
        } else {
            Err(AugmentError::Setting {
                transform: "RandomRotation",
                message: format!(
                    "the angles {}..={} degrees are not a finite range",
                    self.low, self.high
                ),
            })
        }
    }

    fn augment(&self, batch: &mut [f32], shape: &[usize], rng: &mut dyn RngCore) {
        if !(self.low.is_finite() && self.high.is_finite() && self.low <= self.high) {
            return;
        }
        for_each_image(batch, shape, |image, dims| {
            let degrees = rng.gen_range(self.low..=self.high);
            rotate(image, dims, degrees.to_radians());
        });
    }
}

/// Turns `image` by `angle` radians counter-clockwise about its centre, bilinearly, with
/// zero fill.
fn rotate(image: &mut [f32], dims: ImageDims, angle: f64) {
    if angle == 0.0 {
        return;
    }
    let source = image.to_vec();
    let (h, w) = (dims.height, dims.width);
    let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
    let (sin, cos) = angle.sin_cos();
    // A value of `plane` at (y, x), 0 outside.
    let at = |plane: &[f32], y: isize, x: isize| -> f64 {
        if (0..h as isize).contains(&y) && (0..w as isize).contains(&x) {
            f64::from(plane[y as usize * w + x as usize])
        } else {
            0.0
        }
    };
    for (out, from) in image
        .chunks_exact_mut(dims.plane())
        .zip(source.chunks_exact(dims.plane()))
    {
        for y in 0..h {
            for x in 0..w {
                // Turn the output position back by `angle`, in coordinates whose y axis
                // points up (so that a positive angle turns counter-clockwise on screen).
                let (u, v) = (x as f64 - cx, cy - y as f64);
                let sx = cx + u * cos + v * sin;
                let sy = cy - (-u * sin + v * cos);
                let (y0, x0) = (sy.floor(), sx.floor());
                let (fy, fx) = (sy - y0, sx - x0);
                let (y0, x0) = (y0 as isize, x0 as isize);
                let value = (1.0 - fy)
                    * ((1.0 - fx) * at(from, y0, x0) + fx * at(from, y0, x0 + 1))
                    + fy * ((1.0 - fx) * at(from, y0 + 1, x0) + fx * at(from, y0 + 1, x0 + 1));
                out[y * w + x] = value as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::augment::epoch_rng;

    fn square(n: usize) -> ImageDims {
        ImageDims {
            channels: 1,
            height: n,
            width: n,
        }
    }

    fn assert_close(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-5, "{got:?} != {want:?}");
        }
    }

    #[test]
    fn no_turn_is_the_identity() {
        let ramp: Vec<f32> = (0..20).map(|v| v as f32 / 7.0).collect();
        let mut image = ramp.clone();
        RandomRotation::degrees(0.0).augment(&mut image, &[4, 5], &mut epoch_rng(0, 0));
        assert_eq!(image, ramp);
    }

    #[test]
    fn quarter_turns_move_pixels_as_a_square_turns() {
        // 4x4, values 0..16 row-major; a counter-clockwise quarter turn puts the last
        // column on top: out[y][x] = in[x][3 - y].
        let ramp: Vec<f32> = (0..16).map(|v| v as f32).collect();
        let mut image = ramp.clone();
        rotate(&mut image, square(4), 90f64.to_radians());
        let want: Vec<f32> = (0..16).map(|i| ramp[(i % 4) * 4 + (3 - i / 4)]).collect();
        assert_close(&image, &want);
        // Clockwise: out[y][x] = in[3 - x][y].
        let mut image = ramp.clone();
        rotate(&mut image, square(4), (-90f64).to_radians());
        let want: Vec<f32> = (0..16).map(|i| ramp[(3 - i % 4) * 4 + i / 4]).collect();
        assert_close(&image, &want);
        // A half turn of an odd square keeps the centre where it is.
        let ramp: Vec<f32> = (0..9).map(|v| v as f32).collect();
        let mut image = ramp.clone();
        rotate(&mut image, square(3), 180f64.to_radians());
        let want: Vec<f32> = ramp.iter().rev().copied().collect();
        assert_close(&image, &want);
    }

    #[test]
    fn an_oblique_turn_interpolates_bilinearly_with_zero_fill() {
        // 45 degrees on 3x3 with the centre (1, 1): out (0, 1) reads the input at
        // u = 0, v = 1 turned back by 45 degrees: (x, y) = (1 + sin 45, 1 - cos 45)
        // = (1.7071, 0.2929), between pixels (0, 1), (0, 2), (1, 1), (1, 2).
        let ramp: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let mut image = ramp.clone();
        rotate(&mut image, square(3), 45f64.to_radians());
        let (fx, fy) = (0.5f32.sqrt(), 1.0 - 0.5f32.sqrt());
        let want = (1.0 - fy) * ((1.0 - fx) * 2.0 + fx * 3.0) + fy * ((1.0 - fx) * 5.0 + fx * 6.0);
        assert!((image[1] - want).abs() < 1e-5, "{} vs {want}", image[1]);
        // The corner (0, 0) reads at (x, y) = (1, 1 - sqrt 2): above the image but
        // within a pixel of row 0, so it gets part of pixel (0, 1) = 2.
        let fy = 2.0 - 2f32.sqrt();
        assert!((image[0] - fy * 2.0).abs() < 1e-5, "{}", image[0]);
        // The centre stays.
        assert_eq!(image[4], 5.0);
    }

    #[test]
    fn random_angles_stay_within_the_range_and_infinite_ones_are_refused() {
        // A single pixel to the right of the centre of a 101x101 image, turned by up to
        // 10 degrees, lands within 10 degrees of where it was (the centre of mass of
        // what bilinear interpolation spreads).
        let n = 101;
        let mut rng = epoch_rng(5, 0);
        let mut largest = 0.0f64;
        for _ in 0..100 {
            let mut image = vec![0.0f32; n * n];
            image[50 * n + 90] = 1.0;
            RandomRotation::degrees(10.0).augment(&mut image, &[n, n], &mut rng);
            let (mut mass, mut mx, mut my) = (0.0, 0.0, 0.0);
            for (i, &v) in image.iter().enumerate() {
                mass += v as f64;
                mx += v as f64 * ((i % n) as f64 - 50.0);
                my += v as f64 * (50.0 - (i / n) as f64);
            }
            let angle = (my / mass).atan2(mx / mass).to_degrees();
            assert!(angle.abs() <= 10.5, "{angle}");
            largest = largest.max(angle.abs());
        }
        assert!(largest > 8.0, "{largest}");
        for bad in [
            RandomRotation::degrees(f64::NAN),
            RandomRotation::degrees(f64::INFINITY),
            RandomRotation::between_degrees(5.0, -5.0),
        ] {
            assert!(matches!(
                bad.check(&[28, 28]),
                Err(AugmentError::Setting { .. })
            ));
        }
        assert!(matches!(
            RandomRotation::degrees(10.0).check(&[2, 3, 4, 5]),
            Err(AugmentError::NotAnImage { .. })
        ));
    }
}
