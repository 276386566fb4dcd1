//! Recurrent layers: [`LSTM`], [`GRU`], [`SimpleRNN`] and the [`Bidirectional`] wrapper.
//!
//! All three are one layer, [`Recurrent`], generic over its cell ([`LstmCell`], [`GruCell`],
//! [`SimpleRnnCell`], each with its gate count `G`): a builder (a zero-sized type carrying its
//! dimensions: features `F`, units `U`, `RETURN_SEQUENCES`) that `dev.build_module` turns into
//! a [`RecurrentModule`] of tensors. Every module
//! takes an unbatched sequence `(S, F)`, a batch `(B, S, F)` or a [`Masked`] batch, and outputs
//! every step `(.., S, U)` with `RETURN_SEQUENCES`, else the last step `(.., U)`. The math is in
//! [`crate::ops::recurrent`]; parameters are laid out as PyTorch's (`weight_ih` `(G*U, F)` as
//! `(G, U, F)`), counted as Keras counts them.
//!
//! Initialisation follows Keras: the input kernel glorot-uniform, the recurrent kernel
//! orthogonal (its `G*U x U` matrix has orthonormal columns, so early in training the state is
//! neither amplified nor damped along any direction), biases zero, and the LSTM's forget-gate
//! bias 1 (`unit_forget_bias=True`).

// Tensor types carry their whole shape, so signatures are long by nature.
#![allow(clippy::type_complexity)]

mod bidirectional;
mod gru;
mod init;
mod load;
mod lstm;
mod module;
mod simple_rnn;
#[cfg(test)]
mod tests;

pub use bidirectional::{Bidirectional, BidirectionalModule};
pub use gru::{GruCell, GruModule, GRU};
pub(crate) use load::sum as sum_biases;
pub use load::ShapeError;
pub use lstm::{LstmCell, LstmModule, LSTM};
pub use module::{ArrayNames, MaybeTensor, Recurrent, RecurrentCell, RecurrentModule};
pub use simple_rnn::{SimpleRNN, SimpleRnnCell, SimpleRnnModule};

use dfdx::prelude::*;

use super::masked::Masked;
use crate::ops::recurrent::RecurrentKernel;

/// A recurrent module with `F` input features: what [`Bidirectional`] needs of the layer it
/// wraps.
pub trait RecurrentLayer<const F: usize, E: Dtype, D: RecurrentKernel<E>> {
    /// `Const<U>`.
    type Units: Dim;
    /// What the layer outputs: [`Sequences<true>`] every step, [`Sequences<false>`] the last.
    type Sequences: ReturnSequences;

    /// Every hidden state `(B, S, U)`; with `reverse` the steps run from last to first (the
    /// outputs stay in input order).
    fn try_sequence<B: Dim, S: Dim, T: Tape<E, D>>(
        &self,
        x: Tensor<(B, S, Const<F>), E, D, T>,
        mask: Option<&Tensor<(B, S), E, D>>,
        reverse: bool,
    ) -> Result<Tensor<(B, S, Self::Units), E, D, T>, D::Err>;
}

/// The number of units `U` of a recurrent module (or builder), for shape checks.
pub trait RecurrentUnits {
    const UNITS: usize;
}

/// The `RETURN_SEQUENCES` option at the type level: it decides a layer's output type.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sequences<const RETURN_SEQUENCES: bool>;

/// What a recurrent layer outputs, given all of its hidden states.
pub trait ReturnSequences {
    /// The output for a batch `(B, S, ..)` with `N` units: `(B, S, N)` or `(B, N)`.
    type Batched<B: Dim, S: Dim, N: Dim, E: Dtype, D: Storage<E>, T>;
    /// The output for one sequence `(S, ..)`: `(S, N)` or `(N,)`.
    type Unbatched<S: Dim, N: Dim, E: Dtype, D: Storage<E>, T>;
    /// The output for a [`Masked`] batch: `Masked` again with every step, plain without.
    type Masked<B: Dim, S: Dim, N: Dim, E: Dtype, D: Storage<E>, T>;

    /// Keeps every state, or takes the last one: step `S - 1`, or step 0 for a layer that ran
    /// in `reverse` (the state after it has seen the whole sequence, as Keras does it). A
    /// batch of no samples gives `(0, N)`; sequences of no steps give the initial state, zeros.
    fn try_take<B: Dim, S: Dim, N: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>(
        states: Tensor<(B, S, N), E, D, T>,
        reverse: bool,
    ) -> Result<Self::Batched<B, S, N, E, D, T>, D::Err>;

    /// Drops a batch dimension of 1.
    fn try_unbatch<S: Dim, N: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>(
        y: Self::Batched<Const<1>, S, N, E, D, T>,
    ) -> Result<Self::Unbatched<S, N, E, D, T>, D::Err>;

    /// Concatenates two outputs along the units (forward then backward direction).
    fn try_concat<B: Dim, S: Dim, N: Dim, const OUT: usize, E: Dtype, D: Device<E>, T>(
        a: Self::Batched<B, S, N, E, D, T>,
        b: Self::Batched<B, S, N, E, D, T>,
    ) -> Result<Self::Batched<B, S, Const<OUT>, E, D, T>, D::Err>
    where
        T: Tape<E, D> + Merge<T>;

    /// Attaches the mask again where the output still has a step axis.
    fn with_mask<B: Dim, S: Dim, N: Dim, E: Dtype, D: Storage<E>, T>(
        y: Self::Batched<B, S, N, E, D, T>,
        mask: Tensor<(B, S), E, D>,
    ) -> Self::Masked<B, S, N, E, D, T>;
}

impl ReturnSequences for Sequences<true> {
    type Batched<B: Dim, S: Dim, N: Dim, E: Dtype, D: Storage<E>, T> = Tensor<(B, S, N), E, D, T>;
    type Unbatched<S: Dim, N: Dim, E: Dtype, D: Storage<E>, T> = Tensor<(S, N), E, D, T>;
    type Masked<B: Dim, S: Dim, N: Dim, E: Dtype, D: Storage<E>, T> =
        Masked<Tensor<(B, S, N), E, D, T>, Tensor<(B, S), E, D>>;

    fn try_take<B: Dim, S: Dim, N: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>(
        states: Tensor<(B, S, N), E, D, T>,
        _reverse: bool,
    ) -> Result<Tensor<(B, S, N), E, D, T>, D::Err> {
        Ok(states)
    }

    fn try_unbatch<S: Dim, N: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>(
        y: Tensor<(Const<1>, S, N), E, D, T>,
    ) -> Result<Tensor<(S, N), E, D, T>, D::Err> {
        let (_, s, n) = *y.shape();
        y.try_reshape_like(&(s, n))
    }

    fn try_concat<B: Dim, S: Dim, N: Dim, const OUT: usize, E: Dtype, D: Device<E>, T>(
        a: Tensor<(B, S, N), E, D, T>,
        b: Tensor<(B, S, N), E, D, T>,
    ) -> Result<Tensor<(B, S, Const<OUT>), E, D, T>, D::Err>
    where
        T: Tape<E, D> + Merge<T>,
    {
        let (bd, s, n) = *a.shape();
        let a = a.try_reshape_like(&(bd, s, n.size()))?;
        let b = b.try_reshape_like(&(bd, s, n.size()))?;
        (a, b)
            .try_concat_along(Axis::<2>)?
            .try_reshape_like(&(bd, s, Const))
    }

    fn with_mask<B: Dim, S: Dim, N: Dim, E: Dtype, D: Storage<E>, T>(
        y: Tensor<(B, S, N), E, D, T>,
        mask: Tensor<(B, S), E, D>,
    ) -> Self::Masked<B, S, N, E, D, T> {
        Masked { x: y, mask }
    }
}

impl ReturnSequences for Sequences<false> {
    type Batched<B: Dim, S: Dim, N: Dim, E: Dtype, D: Storage<E>, T> = Tensor<(B, N), E, D, T>;
    type Unbatched<S: Dim, N: Dim, E: Dtype, D: Storage<E>, T> = Tensor<(N,), E, D, T>;
    type Masked<B: Dim, S: Dim, N: Dim, E: Dtype, D: Storage<E>, T> = Tensor<(B, N), E, D, T>;

    fn try_take<B: Dim, S: Dim, N: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>(
        states: Tensor<(B, S, N), E, D, T>,
        reverse: bool,
    ) -> Result<Tensor<(B, N), E, D, T>, D::Err> {
        let (b, s, n) = *states.shape();
        if b.size() == 0 || s.size() == 0 {
            // No samples: an empty (0, N), as any layer gives. No steps: the state after
            // none is the initial one, zeros. (dfdx's select does not take an empty tensor.)
            let (states, tape) = states.split_tape();
            return Ok(states.device().try_zeros_like(&(b, n))?.put_tape(tape));
        }
        let last = if reverse { 0 } else { s.size() - 1 };
        let idx = states
            .device()
            .try_tensor_from_vec(vec![last; b.size()], (b,))?;
        states.try_select(idx)
    }

    fn try_unbatch<S: Dim, N: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>(
        y: Tensor<(Const<1>, N), E, D, T>,
    ) -> Result<Tensor<(N,), E, D, T>, D::Err> {
        let (_, n) = *y.shape();
        y.try_reshape_like(&(n,))
    }

    fn try_concat<B: Dim, S: Dim, N: Dim, const OUT: usize, E: Dtype, D: Device<E>, T>(
        a: Tensor<(B, N), E, D, T>,
        b: Tensor<(B, N), E, D, T>,
    ) -> Result<Tensor<(B, Const<OUT>), E, D, T>, D::Err>
    where
        T: Tape<E, D> + Merge<T>,
    {
        let (bd, n) = *a.shape();
        let a = a.try_reshape_like(&(bd, n.size()))?;
        let b = b.try_reshape_like(&(bd, n.size()))?;
        (a, b)
            .try_concat_along(Axis::<1>)?
            .try_reshape_like(&(bd, Const))
    }

    fn with_mask<B: Dim, S: Dim, N: Dim, E: Dtype, D: Storage<E>, T>(
        y: Tensor<(B, N), E, D, T>,
        _mask: Tensor<(B, S), E, D>,
    ) -> Tensor<(B, N), E, D, T> {
        y
    }
}

/// The output of a layer with `N` units for a batch `(B, S, ..)`.
pub type BatchedOutput<Seq, B, S, N, E, D, T> = <Seq as ReturnSequences>::Batched<B, S, N, E, D, T>;

/// Runs an unbatched sequence `(S, F)` as a batch of one.
fn as_batch_of_one<S: Dim, const F: usize, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Tensor<(S, Const<F>), E, D, T>,
) -> Result<Tensor<(Const<1>, S, Const<F>), E, D, T>, D::Err> {
    let (s, f) = *x.shape();
    x.try_reshape_like(&(Const::<1>, s, f))
}
