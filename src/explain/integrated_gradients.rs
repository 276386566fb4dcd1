//! Integrated gradients (Sundararajan, Taly and Yan 2017, "Axiomatic Attribution for Deep
//! Networks"): the input's difference from a baseline times the average gradient along the
//! straight path between them.

use super::error::ExplainError;
use super::saliency::vanilla_gradient;
use super::score::dims;
use dfdx::prelude::{Device, Dtype, HasShape, Module, OwnedTape, Shape, Tensor};
use dfdx::tensor_ops::{TryAdd, TryDiv, TryMul, TrySub};

/// Integrated gradients of each sample's score for its class:
/// `(x - baseline) * mean over k of gradient(baseline + a_k (x - baseline))`, with
/// `a_k = (k + 1/2) / steps` for `k = 0..steps` (the midpoint rule), a tensor of the input's
/// shape.
///
/// The baseline is all zeros (a black image) unless given; it must have the input's shape.
/// Each step is one forward and backward pass of the batch ([`vanilla_gradient`], whose
/// notes on classes, scores and inference mode apply). The attributions of a sample add up
/// to `score(x) - score(baseline)` (completeness) up to the error of the midpoint rule, which
/// shrinks as `1/steps²` on a smooth model (more slowly where ReLUs switch along the path):
/// compare with [`class_scores`](super::class_scores) to choose `steps` (20 to 300 is usual).
///
/// ```
/// use typenet::explain::{class_scores, integrated_gradients};
/// use typenet::prelude::*;
/// let dev = Cpu::default();
/// let model = dev.build_module::<network![Input<3>, Dense<4>, Tanh, Dense<2>], f64>();
/// let x = dev.tensor([[1.0, -2.0, 0.5]]);
/// let attributions = integrated_gradients(&model, &x, &[0], None, 50)?;
/// let total: f64 = attributions.array()[0].iter().sum();
/// let difference = class_scores(&model, &x, &[0])?[0] - class_scores(&model, &dev.zeros_like(&x), &[0])?[0];
/// assert!((total - difference).abs() < 1e-3);
/// # Ok::<(), typenet::explain::ExplainError>(())
/// ```
pub fn integrated_gradients<M, S, O, E, D>(
    model: &M,
    x: &Tensor<S, E, D>,
    classes: &[usize],
    baseline: Option<&Tensor<S, E, D>>,
    steps: usize,
) -> Result<Tensor<S, E, D>, ExplainError>
where
    M: Module<Tensor<S, E, D, OwnedTape<E, D>>, Output = Tensor<O, E, D, OwnedTape<E, D>>>,
    S: Shape,
    O: Shape,
    E: Dtype,
    D: Device<E>,
{
    if steps == 0 {
        return Err(ExplainError::NoSteps);
    }
    let baseline = match baseline {
        Some(b) if dims(b) != dims(x) => {
            return Err(ExplainError::ShapeMismatch {
                what: "baseline",
                expected: dims(x),
                found: dims(b),
            })
        }
        Some(b) => b.clone(),
        None => x
            .device()
            .try_zeros_like(x.shape())
            .map_err(ExplainError::device)?,
    };
    let difference = x
        .clone()
        .try_sub(baseline.clone())
        .map_err(ExplainError::device)?;
    // The gradient at the midpoint of step k of the path.
    let gradient_at = |k: usize| {
        let along = E::from_f64((k as f64 + 0.5) / steps as f64).unwrap_or(E::ONE);
        let point = difference
            .clone()
            .try_mul(along)
            .and_then(|step| step.try_add(baseline.clone()))
            .map_err(ExplainError::device)?;
        vanilla_gradient(model, &point, classes)
    };
    let mut summed = gradient_at(0)?;
    for k in 1..steps {
        summed = summed
            .try_add(gradient_at(k)?)
            .map_err(ExplainError::device)?;
    }
    let steps = E::from_usize(steps).unwrap_or(E::ONE);
    summed
        .try_div(steps)
        .and_then(|mean| mean.try_mul(difference))
        .map_err(ExplainError::device)
}
