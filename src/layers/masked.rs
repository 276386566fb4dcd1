//! `Masked`: a batch of padded sequences together with the mask that says which steps are real.

use dfdx::prelude::{Dim, Dtype, HasShape, Storage, Tensor, TensorFromVec};

/// A batch of sequences `x` `(B, S, ..)` with its `mask` `(B, S)`: 1 for a real step, 0 for
/// padding.
///
/// Build one with [`Masked::new`], which checks that the mask fits `x` with a
/// [`MaskShapeError`] naming both shapes. A `Masked` built from its fields is checked when a
/// layer runs it, with the device's less telling `WrongNumElements` error (dfdx's layer
/// errors are the device's own).
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
/// let mask = lengths_mask::<f32, _>(&dev, &[3, 1], 4, SequencePadding::Post)?;
/// assert_eq!(mask.as_vec(), [1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
/// let x: Tensor<Rank3<2, 4, 2>, f32, _> = dev.sample_normal();
/// let x = x.reshape_like(&(2usize, 4usize, Const::<2>));
/// let lstm = dev.build_module::<LSTM<2, 8, false>, f32>();
/// let last: Tensor<(usize, Const<8>), f32, _> = lstm.forward(Masked::new(x, mask)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
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

/// A mask whose (batch, steps) are not those of the sequences it masks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the mask is (batch {}, steps {}) but the sequences are (batch {}, steps {}): build the mask for the same batch and padded length, e.g. lengths_mask(&dev, &lengths, steps, ..) with one length per sequence and steps the sequences' padded length", mask.0, mask.1, sequences.0, sequences.1)]
pub struct MaskShapeError {
    /// The sequences' (batch, steps).
    pub sequences: (usize, usize),
    /// The mask's (batch, steps).
    pub mask: (usize, usize),
}

/// A batch of sequences a mask `(B, S)` can mask: sequences of feature vectors `(B, S, N)`,
/// or token ids `(B, S)` for an [`Embedding`](super::Embedding), which passes the mask on.
pub trait SequenceBatch<B: Dim, S: Dim> {
    /// The batch size and number of steps.
    fn batch_and_steps(&self) -> (B, S);
}

impl<B: Dim, S: Dim, N: Dim, E: Dtype, D: Storage<E>, T> SequenceBatch<B, S>
    for Tensor<(B, S, N), E, D, T>
{
    fn batch_and_steps(&self) -> (B, S) {
        let (b, s, _) = *self.shape();
        (b, s)
    }
}

impl<B: Dim, S: Dim, D: Storage<usize>, T> SequenceBatch<B, S> for Tensor<(B, S), usize, D, T> {
    fn batch_and_steps(&self) -> (B, S) {
        *self.shape()
    }
}

impl<X: SequenceBatch<B, S>, B: Dim, S: Dim, E: Dtype, D: Storage<E>>
    Masked<X, Tensor<(B, S), E, D>>
{
    /// Pairs sequences `x` (`(B, S, N)` values, or `(B, S)` token ids) with their `mask`
    /// `(B, S)`, checking that both have the same batch size and number of steps (which
    /// may be known only at run time).
    ///
    /// ```rust
    /// # use typenet::prelude::*;
    /// # use typenet::layers::{lengths_mask, Masked, SequencePadding};
    /// let dev: Cpu = Default::default();
    /// let x: Tensor<(usize, usize, Const<2>), f32, _> = dev.sample_normal_like(&(2, 4, Const));
    /// let mask = lengths_mask::<f32, _>(&dev, &[3, 1, 2], 4, SequencePadding::Post)?;
    /// let err = Masked::new(x, mask).unwrap_err(); // 3 lengths for 2 sequences
    /// assert_eq!((err.sequences, err.mask), ((2, 4), (3, 4)));
    ///
    /// // token ids, for a network that starts with `Tokens<4>, Embedding<..>`
    /// let ids: Tensor<(usize, usize), usize, _> = dev.zeros_like(&(3, 4));
    /// let mask = lengths_mask::<f32, _>(&dev, &[3, 1, 2], 4, SequencePadding::Post)?;
    /// assert!(Masked::new(ids, mask).is_ok());
    /// # Ok::<(), typenet::layers::SequenceLengthError>(())
    /// ```
    pub fn new(x: X, mask: Tensor<(B, S), E, D>) -> Result<Self, MaskShapeError> {
        let (b, s) = x.batch_and_steps();
        let (mb, ms) = *mask.shape();
        let (sequences, mask_shape) = ((b.size(), s.size()), (mb.size(), ms.size()));
        if sequences != mask_shape {
            return Err(MaskShapeError {
                sequences,
                mask: mask_shape,
            });
        }
        Ok(Masked { x, mask })
    }
}

/// A sequence longer than the mask built for it: [`lengths_mask`]'s `steps` is the padded
/// length every sequence must fit in.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("sequence {sequence} (counting from 0) is {length} steps long, but the mask has {steps} steps: pad or truncate every sequence to {steps} steps first (e.g. pad_sequences with maxlen: Some({steps})) and pass the lengths it kept, or build the mask with steps at least the longest length ({length} or more)")]
pub struct SequenceLengthError {
    /// The index of the first sequence that does not fit.
    pub sequence: usize,
    /// Its length.
    pub length: usize,
    /// The mask's number of steps.
    pub steps: usize,
}

/// The mask `(B, S)` of sequences of the given real `lengths`, padded to `steps`.
///
/// A length above `steps` is a [`SequenceLengthError`] naming the sequence: such a sequence
/// was not padded (or truncated) to `steps`, so no mask fits it.
///
/// ```rust
/// # use typenet::prelude::*;
/// # use typenet::layers::{lengths_mask, SequenceLengthError, SequencePadding};
/// let dev: Cpu = Default::default();
/// let mask = lengths_mask::<f32, _>(&dev, &[2, 3], 3, SequencePadding::Pre)?;
/// assert_eq!(mask.as_vec(), [0.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
/// let err = lengths_mask::<f32, _>(&dev, &[2, 5], 3, SequencePadding::Pre).unwrap_err();
/// assert_eq!(err, SequenceLengthError { sequence: 1, length: 5, steps: 3 });
/// # Ok::<(), SequenceLengthError>(())
/// ```
pub fn lengths_mask<E: Dtype, D: TensorFromVec<E>>(
    dev: &D,
    lengths: &[usize],
    steps: usize,
    padding: SequencePadding,
) -> Result<Tensor<(usize, usize), E, D>, SequenceLengthError> {
    // Checked before anything is allocated; `Pre` would otherwise underflow `steps - len`.
    if let Some((sequence, &length)) = lengths.iter().enumerate().find(|(_, &l)| l > steps) {
        return Err(SequenceLengthError {
            sequence,
            length,
            steps,
        });
    }
    let mut mask = Vec::with_capacity(lengths.len() * steps);
    for &len in lengths {
        let real = |t: usize| match padding {
            SequencePadding::Post => t < len,
            SequencePadding::Pre => t >= steps - len,
        };
        mask.extend((0..steps).map(|t| if real(t) { E::ONE } else { E::default() }));
    }
    Ok(dev.tensor_from_vec(mask, (lengths.len(), steps)))
}
