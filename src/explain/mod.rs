//! Interpretability: which input pixels a model's class score depends on.
//!
//! - [`vanilla_gradient`]: the gradient of a class score with respect to the input.
//! - [`integrated_gradients`]: attributions that add up to the score's change from a
//!   baseline (Sundararajan et al. 2017).
//! - [`class_scores`]: the scores themselves, to check that completeness.
//! - [`write_heatmap_png`]: a batch of images in grey with the saliency as a red overlay.
//!
//! All of them take a batch (first axis) of any input shape and run on any dfdx device.
//! A model's parameters and their gradients are read by name with
//! [`train::param`](crate::train::param) and [`train::gradient`](crate::train::gradient).

mod error;
mod heatmap;
mod integrated_gradients;
mod saliency;
mod score;

pub use error::ExplainError;
pub use heatmap::{render_heatmap, write_heatmap_png, RgbImage};
pub use integrated_gradients::integrated_gradients;
pub use saliency::vanilla_gradient;
pub use score::class_scores;
