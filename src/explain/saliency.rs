//! Vanilla gradient saliency (Simonyan et al. 2014): the gradient of a class score with
//! respect to the input.

use super::error::ExplainError;
use super::score::{batch_size, summed_class_score};
use dfdx::prelude::{Backward, Device, Dtype, Module, OwnedTape, Shape, Tensor, Trace};

/// The gradient of each sample's score for its class with respect to its input:
/// `d model(x)[b, classes[b]] / d x[b]`, a tensor of the input's shape.
///
/// `x` is a batch (its first axis); `classes` names one class per sample (its label, or the
/// class the model predicts). The score is the model's output for that class: a logit for a
/// model ending in `Dense`, a probability for one ending in `Softmax`. The model runs in
/// inference mode (`Module`, as `predict` does: dropout off, batch norms on their running
/// statistics), so each sample's gradient depends on that sample alone. Any device works: the
/// gradient is dfdx's backward pass.
///
/// Why not `x.trace(model.alloc_grads())`, as in training? Those gradients keep only the
/// model's parameters after the backward pass (`alloc_grads` marks them as the leaves and
/// dfdx drops every other gradient), so the input's gradient is gone and dfdx's
/// `grads.get(&x)` panics on a bare `unwrap`. Here the input is traced with dfdx's leaky
/// gradients, which drop nothing; that costs no more memory at its peak, since dfdx drops
/// the other gradients only once the whole backward pass is done.
///
/// ```
/// use typenet::explain::vanilla_gradient;
/// use typenet::prelude::*;
/// let dev = Cpu::default();
/// let model = dev.build_module::<network![Input<3>, Dense<2>], f32>();
/// let x = dev.tensor([[1.0, 2.0, 3.0]]);
/// let saliency = vanilla_gradient(&model, &x, &[1])?;
/// // A linear model's gradient is the weight row of the class.
/// assert_eq!(saliency.array()[0], model.weight.array()[1]);
/// # Ok::<(), typenet::explain::ExplainError>(())
/// ```
pub fn vanilla_gradient<M, S, O, E, D>(
    model: &M,
    x: &Tensor<S, E, D>,
    classes: &[usize],
) -> Result<Tensor<S, E, D>, ExplainError>
where
    M: Module<Tensor<S, E, D, OwnedTape<E, D>>, Output = Tensor<O, E, D, OwnedTape<E, D>>>,
    S: Shape,
    O: Shape,
    E: Dtype,
    D: Device<E>,
{
    batch_size(x)?;
    let output = model
        .try_forward(x.leaky_trace())
        .map_err(ExplainError::device)?;
    let mut grads = summed_class_score(output, classes)?
        .try_backward()
        .map_err(ExplainError::device)?;
    // An input the scores do not depend on has no entry: its gradient is zero.
    grads.try_alloc_for(x).map_err(ExplainError::device)?;
    Ok(grads.get(x))
}
