//! `ImageDims`: how the built-in transforms read a sample as an image.

use super::AugmentError;

/// The channels, height and width of an image sample: a shape `[C, H, W]` (channels first,
/// as `Input<C, H, W>` reads it) or `[H, W]` (one channel, as the MNIST files store it).
///
/// ```
/// use typenet::data::augment::ImageDims;
/// assert_eq!(ImageDims::of(&[28, 28]), Some(ImageDims { channels: 1, height: 28, width: 28 }));
/// assert_eq!(ImageDims::of(&[3, 32, 32]).map(|d| d.channels), Some(3));
/// assert_eq!(ImageDims::of(&[784]), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageDims {
    /// The number of channels.
    pub channels: usize,
    /// The number of rows.
    pub height: usize,
    /// The number of columns.
    pub width: usize,
}

impl ImageDims {
    /// The image dimensions of samples of `shape`, or `None` unless it has 2 or 3
    /// dimensions.
    pub fn of(shape: &[usize]) -> Option<Self> {
        match *shape {
            [height, width] => Some(ImageDims {
                channels: 1,
                height,
                width,
            }),
            [channels, height, width] => Some(ImageDims {
                channels,
                height,
                width,
            }),
            _ => None,
        }
    }

    /// The image dimensions of samples of `shape`, or the error `transform` reports.
    pub(super) fn check(transform: &'static str, shape: &[usize]) -> Result<Self, AugmentError> {
        Self::of(shape).ok_or_else(|| AugmentError::NotAnImage {
            transform,
            shape: shape.to_vec(),
        })
    }

    /// The values of one channel.
    pub(super) fn plane(&self) -> usize {
        self.height * self.width
    }
}

/// Calls `f` on each image of `batch` (samples of `shape`, row after row) with its
/// dimensions; does nothing unless `shape` is an image's.
pub(super) fn for_each_image(
    batch: &mut [f32],
    shape: &[usize],
    mut f: impl FnMut(&mut [f32], ImageDims),
) {
    let Some(dims) = ImageDims::of(shape) else {
        return;
    };
    let len = dims.channels * dims.plane();
    if len == 0 {
        return;
    }
    for image in batch.chunks_exact_mut(len) {
        f(image, dims);
    }
}
