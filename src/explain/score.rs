//! The score an explanation is about: for each sample of a batch, the model's output for one
//! chosen class (a logit for a model ending in `Dense`, a probability for one ending in
//! `Softmax`).

use super::error::ExplainError;
use dfdx::prelude::{Device, Dtype, HasShape, Module, OwnedTape, Rank0, Shape, Tensor};
use dfdx::tensor_ops::{SumTo, TryMul};

/// The batch size of an input: its first dimension.
pub(crate) fn batch_size<S: Shape, E, D: dfdx::tensor::Storage<E>, T>(
    x: &Tensor<S, E, D, T>,
) -> Result<usize, ExplainError> {
    dims(x).first().copied().ok_or(ExplainError::NoBatch)
}

/// A tensor's dimensions.
pub(crate) fn dims<S: Shape, E, D: dfdx::tensor::Storage<E>, T>(
    t: &Tensor<S, E, D, T>,
) -> Vec<usize> {
    t.shape().concrete().into()
}

/// Checks that `classes` names one class per sample of the output `(batch, classes)`, and
/// returns the output's number of classes.
fn check_classes(output: &[usize], classes: &[usize]) -> Result<usize, ExplainError> {
    let &[batch, outputs] = output else {
        return Err(ExplainError::OutputShape {
            shape: output.to_vec(),
        });
    };
    if classes.len() != batch {
        return Err(ExplainError::ClassCount {
            classes: classes.len(),
            batch,
        });
    }
    match classes.iter().position(|&c| c >= outputs) {
        Some(sample) => Err(ExplainError::ClassOutOfRange {
            sample,
            class: classes[sample],
            classes: outputs,
        }),
        None => Ok(outputs),
    }
}

/// The sum over the batch of each sample's score for its class, on the tape.
///
/// One backward pass of this sum gives every sample's own gradient at once: in inference
/// mode a sample's output depends on that sample's input alone, so the other samples'
/// scores add nothing to its gradient.
pub(crate) fn summed_class_score<O: Shape, E: Dtype, D: Device<E>>(
    output: Tensor<O, E, D, OwnedTape<E, D>>,
    classes: &[usize],
) -> Result<Tensor<Rank0, E, D, OwnedTape<E, D>>, ExplainError> {
    let outputs = check_classes(&dims(&output), classes)?;
    let mut one_hot = vec![E::default(); classes.len() * outputs];
    for (sample, &class) in classes.iter().enumerate() {
        one_hot[sample * outputs + class] = E::ONE;
    }
    let mask = output
        .device()
        .try_tensor_from_vec(one_hot, *output.shape())
        .map_err(ExplainError::device)?;
    output
        .try_mul(mask)
        .and_then(|picked| picked.try_sum::<Rank0, O::AllAxes>())
        .map_err(ExplainError::device)
}

/// Each sample's score for its class: `model(x)[b, classes[b]]`.
///
/// Integrated gradients' attributions of a sample add up to
/// `class_scores(x) - class_scores(baseline)` (their completeness); this is how to check it.
///
/// ```
/// use typenet::explain::class_scores;
/// use typenet::prelude::*;
/// let dev = Cpu::default();
/// let model = dev.build_module::<network![Input<3>, Dense<2>], f32>();
/// let x = dev.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]);
/// let scores = class_scores(&model, &x, &[1, 0])?;
/// assert_eq!(scores[1], model.forward(x).array()[1][0]);
/// # Ok::<(), typenet::explain::ExplainError>(())
/// ```
pub fn class_scores<M, S, O, E, D>(
    model: &M,
    x: &Tensor<S, E, D>,
    classes: &[usize],
) -> Result<Vec<E>, ExplainError>
where
    M: Module<Tensor<S, E, D>, Output = Tensor<O, E, D>>,
    S: Shape,
    O: Shape,
    E: Dtype,
    D: Device<E>,
{
    let output = model.try_forward(x.clone()).map_err(ExplainError::device)?;
    let outputs = check_classes(&dims(&output), classes)?;
    let values = output.as_vec();
    Ok(classes
        .iter()
        .enumerate()
        .map(|(sample, &class)| values[sample * outputs + class])
        .collect())
}
