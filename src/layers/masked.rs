//! `Masked`: a batch of padded sequences together with the mask that says which steps are real.

use dfdx::prelude::{Dtype, Tensor, TensorFromVec};

/// A batch of sequences `x` `(B, S, ..)` with its `mask` `(B, S)`: 1 for a real step, 0 for
/// padding.
///
/// Recurrent layers take a `Masked` input and skip the padded steps (the state and the output do
/// not change there, as in Keras). With `return_sequences` they output a `Masked` again, so a
/// stack of recurrent layers keeps the mask; the last one outputs a plain tensor.
///
/// ```rust
/// # use typenet::prelude::*;
/// # use typenet::layers::{lengths_mask, Masked, SequencePadding, LSTM};
/// let dev: Cpu = Default::default();
/// // Two sequences of 3 and 1 steps, padded after (post) to 4 steps of 2 features.
/// let mask = lengths_mask::<f32, _>(&dev, &[3, 1], 4, SequencePadding::Post);
/// assert_eq!(mask.as_vec(), [1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
/// let x: Tensor<Rank3<2, 4, 2>, f32, _> = dev.sample_normal();
/// let x = x.reshape_like(&(2usize, 4usize, Const::<2>));
/// let lstm = dev.build_module::<LSTM<2, 8, false>, f32>();
/// let last: Tensor<(usize, Const<8>), f32, _> = lstm.forward(Masked { x, mask });
/// ```
#[derive(Clone, Debug)]
pub struct Masked<X, M> {
    pub x: X,
    pub mask: M,
}

/// Where the padding of a shorter sequence goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SequencePadding {
    /// Real steps first, padding after (Keras `pad_sequences(padding="post")`).
    Post,
    /// Padding first, real steps last (Keras's default, `padding="pre"`).
    Pre,
}

impl<X, M> Masked<X, M> {
    pub fn new(x: X, mask: M) -> Self {
        Masked { x, mask }
    }
}

/// The mask `(B, S)` of sequences of the given real `lengths`, padded to `steps`.
///
/// Panics if a length exceeds `steps`.
pub fn lengths_mask<E: Dtype, D: TensorFromVec<E>>(
    dev: &D,
    lengths: &[usize],
    steps: usize,
    padding: SequencePadding,
) -> Tensor<(usize, usize), E, D> {
    let mut mask = Vec::with_capacity(lengths.len() * steps);
    for &len in lengths {
        assert!(
            len <= steps,
            "a sequence of {len} steps does not fit in {steps}"
        );
        let real = |t: usize| match padding {
            SequencePadding::Post => t < len,
            SequencePadding::Pre => t >= steps - len,
        };
        mask.extend((0..steps).map(|t| if real(t) { E::ONE } else { E::default() }));
    }
    dev.tensor_from_vec(mask, (lengths.len(), steps))
}
