//! Saliency heat maps as PNG: each image in grey, with a red overlay where the saliency's
//! magnitude is large.

use super::error::ExplainError;
use super::score::dims;
use crate::train::atomic::write_atomic;
use dfdx::prelude::{Device, Dtype, Shape, Tensor};
use std::path::Path;

/// An RGB image: `width x height` pixels of 3 bytes, row by row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RgbImage {
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// `width * height * 3` bytes: red, green, blue of each pixel.
    pub rgb: Vec<u8>,
}

/// Writes a heat map of `saliency` over `images` to a PNG at `path`: one tile per sample,
/// side by side, each pixel enlarged to `scale x scale`; see [`render_heatmap`].
///
/// ```
/// use typenet::explain::{vanilla_gradient, write_heatmap_png};
/// use typenet::prelude::*;
/// let dev = Cpu::default();
/// let model = dev.build_module::<network![Input<1, 8, 8>, Flatten, Dense<2>], f32>();
/// let digits: Tensor<(usize, Const<1>, Const<8>, Const<8>), f32, _> =
///     dev.sample_uniform_like(&(3, Const, Const, Const));
/// let saliency = vanilla_gradient(&model, &digits, &[0, 1, 0])?;
/// let path = std::env::temp_dir().join("typenet-doc-heatmap.png");
/// write_heatmap_png(&path, &digits, &saliency, 4)?; // 3 tiles of 32x32
/// # Ok::<(), typenet::explain::ExplainError>(())
/// ```
pub fn write_heatmap_png<S: Shape, E: Dtype, D: Device<E>>(
    path: impl AsRef<Path>,
    images: &Tensor<S, E, D>,
    saliency: &Tensor<S, E, D>,
    scale: u32,
) -> Result<(), ExplainError> {
    let path = path.as_ref();
    let image = render_heatmap(images, saliency, scale)?;
    let png = encode_png(&image.rgb, image.width, image.height).map_err(|e| ExplainError::Png {
        path: path.into(),
        message: e.to_string(),
    })?;
    write_atomic(path, |file| std::io::Write::write_all(file, &png)).map_err(|source| {
        ExplainError::Io {
            path: path.into(),
            source,
        }
    })
}

/// Encodes an RGB buffer of `width x height` pixels (3 bytes each, row by row) as PNG.
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(png)
}

/// Draws a heat map of `saliency` over `images`, a batch of shape `(batch, [channels,]
/// height, width)` (a batch of vectors, `(batch, width)`, draws one row of pixels each).
///
/// Each sample is a tile, the tiles side by side with `scale` white pixels between them.
/// A tile's grey is the image (the mean over channels) stretched to black..white; its red
/// overlay is `|saliency|` summed over channels, divided by its largest value in that
/// image (so each image's most salient pixel is pure red), blended as
/// `grey * (1 - heat) + red * heat`.
pub fn render_heatmap<S: Shape, E: Dtype, D: Device<E>>(
    images: &Tensor<S, E, D>,
    saliency: &Tensor<S, E, D>,
    scale: u32,
) -> Result<RgbImage, ExplainError> {
    let shape = dims(images);
    if dims(saliency) != shape {
        return Err(ExplainError::ShapeMismatch {
            what: "saliency",
            expected: shape,
            found: dims(saliency),
        });
    }
    let not_an_image = || ExplainError::NotAnImage {
        shape: shape.clone(),
        scale,
    };
    let (batch, height, width, channels) = match shape.as_slice() {
        [batch, width] => (*batch, 1, *width, 1),
        [batch, channels @ .., height, width] => {
            (*batch, *height, *width, channels.iter().product())
        }
        _ => return Err(not_an_image()),
    };
    if batch == 0 || height == 0 || width == 0 || channels == 0 || scale == 0 {
        return Err(not_an_image());
    }
    let to_f64 = |values: Vec<E>| -> Vec<f64> {
        values
            .into_iter()
            .map(|v| v.to_f64().unwrap_or(0.0))
            .collect()
    };
    let (images, saliency) = (to_f64(images.as_vec()), to_f64(saliency.as_vec()));
    let (pixels, s) = (height * width, scale as usize);
    let gap = s;
    let tile_width = width * s;
    let image_width = batch * tile_width + (batch - 1) * gap;
    let image_height = height * s;
    let mut rgb = vec![255u8; image_width * image_height * 3];
    for sample in 0..batch {
        let values = sample * channels * pixels..(sample + 1) * channels * pixels;
        let grey = stretch(&per_pixel(&images[values.clone()], pixels, |v| {
            v / channels as f64
        }));
        let heat = to_unit_max(&per_pixel(&saliency[values], pixels, f64::abs));
        for (pixel, (&g, &h)) in grey.iter().zip(&heat).enumerate() {
            let colour = [g * (1.0 - h) + h, g * (1.0 - h), g * (1.0 - h)]
                .map(|c| (c * 255.0).round().clamp(0.0, 255.0) as u8);
            let (row, column) = (pixel / width, pixel % width);
            for y in row * s..(row + 1) * s {
                for x in column * s..(column + 1) * s {
                    let at = (y * image_width + sample * (tile_width + gap) + x) * 3;
                    rgb[at..at + 3].copy_from_slice(&colour);
                }
            }
        }
    }
    Ok(RgbImage {
        width: image_width as u32,
        height: image_height as u32,
        rgb,
    })
}

/// Sums `f(value)` over the channels of one image laid out `(channels, pixels)`.
fn per_pixel(values: &[f64], pixels: usize, f: impl Fn(f64) -> f64) -> Vec<f64> {
    let mut summed = vec![0.0; pixels];
    for channel in values.chunks(pixels) {
        for (sum, &v) in summed.iter_mut().zip(channel) {
            *sum += f(v);
        }
    }
    summed
}

/// Maps the smallest value to 0 and the largest to 1 (all to 0 if they are equal).
fn stretch(values: &[f64]) -> Vec<f64> {
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let range = high - low;
    values
        .iter()
        .map(|v| if range > 0.0 { (v - low) / range } else { 0.0 })
        .collect()
}

/// Divides non-negative values by the largest (all 0 if that is 0 or not finite).
fn to_unit_max(values: &[f64]) -> Vec<f64> {
    let high = values.iter().copied().fold(0.0, f64::max);
    values
        .iter()
        .map(|v| {
            if high > 0.0 && high.is_finite() {
                v / high
            } else {
                0.0
            }
        })
        .collect()
}
