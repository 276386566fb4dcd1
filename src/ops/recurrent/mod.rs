//! The recurrent sequence op: an LSTM, GRU or simple (tanh) RNN run over a whole sequence.
//!
//! One call runs every step of a batch of sequences and returns every hidden state
//! `h_1..h_S` (the initial state is zero). The equations are PyTorch's, with the gates stacked
//! in PyTorch's order, and `W` (input) / `R` (recurrent) written for `weight_ih` / `weight_hh`:
//!
//! | cell | gates | step |
//! |---|---|---|
//! | [`Cell::Lstm`] | i, f, g, o | `i = σ(W_i x + b_i + R_i h)`, `f = σ(..)`, `g = tanh(..)`, `o = σ(..)`; `c' = f*c + i*g`, `h' = o*tanh(c')` |
//! | [`Cell::Gru`] | r, z, n | `r = σ(W_r x + b_r + R_r h + rb_r)`, `z = σ(..)`, `n = tanh(W_n x + b_n + r*(R_n h + rb_n))`; `h' = (1-z)*n + z*h` |
//! | [`Cell::SimpleRnn`] | one | `h' = tanh(W x + b + R h)` |
//!
//! `b` is [`RecurrentWeights::bias`], added to the input projection; `rb` is the optional
//! [`RecurrentWeights::recurrent_bias`], added to the recurrent projection (the GRU keeps it
//! apart because the reset gate multiplies it: Keras's `reset_after=True`, cuDNN).
//!
//! Masking (Keras semantics): where `mask[b, t]` is 0 the step is padding and neither the
//! state nor the output changes: `h_t = m*h' + (1-m)*h_{t-1}` (and the same for `c`), so a
//! padded step repeats the previous output, and padded steps before the first real one output
//! zeros. Masks hold 0 or 1; other values blend linearly. No gradient flows into the mask.
//!
//! Two implementations:
//! - `cpu` (fast, `Cpu`): the whole sequence is one op. Each step is the input projection
//!   `(B, F) x (F, G*U)` and the recurrent product `(B, U) x (U, G*U)` on weights packed once
//!   per call (a register-blocked AVX2 kernel for `f32`), with the gate arithmetic fused
//!   after it, and backpropagation through time runs inside the op's backward closure from the
//!   gate activations kept by the forward. Large batches are split across the cores, each part
//!   running its own single-threaded GEMMs (small GEMMs lose speed when threaded). For
//!   `f32` the gate activations are vectorisable polynomials ([`RecurrentFloat`]).
//! - [`try_recurrent_generic`]: composed of dfdx ops, one small graph per step. It runs on any
//!   device (it is what `Cuda` runs) and is the oracle the fast kernel is tested against.

// Tensor types carry their whole shape, so signatures are long by nature.
#![allow(clippy::type_complexity)]

mod activation;
mod cpu;
mod generic;
mod step_product;
#[cfg(test)]
mod tests;

pub use activation::RecurrentFloat;
pub use generic::try_recurrent_generic;

use dfdx::prelude::{Const, Device, Dim, Dtype, Rank2, Rank3, Storage, Tape, Tensor};

/// Which recurrent cell a [`RecurrentKernel`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Long short-term memory, gates i, f, g, o.
    Lstm,
    /// Gated recurrent unit (reset gate after the recurrent matmul), gates r, z, n.
    Gru,
    /// Elman RNN with tanh, one gate.
    SimpleRnn,
}

impl Cell {
    /// The number of gates `G`: the weights hold `G` blocks of `U` rows.
    pub const fn gates(self) -> usize {
        match self {
            Cell::Lstm => 4,
            Cell::Gru => 3,
            Cell::SimpleRnn => 1,
        }
    }
}

/// The parameters of one recurrent cell, borrowed for one call.
///
/// `w_ih` is PyTorch's `weight_ih` `(G*U, F)` viewed as `(G, U, F)`; `w_hh` is `weight_hh`
/// `(G*U, U)` viewed as `(G, U, U)`. Gradients accumulate into these tensors' ids.
pub struct RecurrentWeights<'a, const F: usize, const G: usize, const U: usize, E, D: Storage<E>> {
    pub w_ih: &'a Tensor<Rank3<G, U, F>, E, D>,
    pub w_hh: &'a Tensor<Rank3<G, U, U>, E, D>,
    /// Added to the input projection `W x`.
    pub bias: &'a Tensor<Rank2<G, U>, E, D>,
    /// Added to the recurrent projection `R h` (inside `r * (..)` for the GRU's `n`).
    pub recurrent_bias: Option<&'a Tensor<Rank2<G, U>, E, D>>,
}

impl<const F: usize, const G: usize, const U: usize, E, D: Storage<E>> Clone
    for RecurrentWeights<'_, F, G, U, E, D>
{
    fn clone(&self) -> Self {
        *self
    }
}
impl<const F: usize, const G: usize, const U: usize, E, D: Storage<E>> Copy
    for RecurrentWeights<'_, F, G, U, E, D>
{
}

/// A device that can run the recurrent sequence op.
///
/// The method's default body is the device-generic [`try_recurrent_generic`], so a device
/// without a kernel of its own implements the trait with an empty block (`Cuda` does); the
/// `Cpu` impl, in `cpu.rs`, is the fast kernel itself.
pub trait RecurrentKernel<E: Dtype>: Device<E> {
    /// Runs `cell` over `x` `(B, S, F)` and returns every hidden state `(B, S, U)`.
    ///
    /// With `reverse` the steps run from the last to the first (the backward half of a
    /// bidirectional layer); the outputs stay in input time order, so `out[:, 0]` is then the
    /// final state. `mask` `(B, S)` marks real steps with 1 and padding with 0.
    ///
    /// Panics if `G` is not `cell.gates()`. A mask whose shape is not `x`'s `(B, S)` is the
    /// device's wrong-number-of-elements error on every device (`CpuError::WrongNumElements`
    /// on `Cpu`, `CudaError::Cpu(WrongNumElements)` on `Cuda`); build masked input with
    /// [`Masked::new`](crate::layers::Masked::new), whose error names both shapes.
    fn try_recurrent<
        B: Dim,
        S: Dim,
        T: Tape<E, Self>,
        const F: usize,
        const G: usize,
        const U: usize,
    >(
        cell: Cell,
        x: Tensor<(B, S, Const<F>), E, Self, T>,
        weights: RecurrentWeights<F, G, U, E, Self>,
        reverse: bool,
        mask: Option<&Tensor<(B, S), E, Self>>,
    ) -> Result<Tensor<(B, S, Const<U>), E, Self, T>, Self::Err> {
        try_recurrent_generic(cell, x, weights, reverse, mask)
    }
}

#[cfg(feature = "cuda")]
impl<E: Dtype> RecurrentKernel<E> for dfdx::prelude::Cuda where dfdx::prelude::Cuda: Device<E> {}

/// The checks both implementations make before running: the gate count (fixed by the
/// types, so a mismatch is a bug in typenet and panics), then the mask's shape, which
/// [`Masked::new`](crate::layers::Masked::new) checks with a typed error but a `Masked` built
/// from its fields does not: a mismatch is `Err`, which both implementations return as the
/// device's `WrongNumElements` error.
fn check_call<B: Dim, S: Dim>(
    cell: Cell,
    gates: usize,
    x: &(B, S),
    mask: Option<&(B, S)>,
) -> Result<(), MaskMismatch> {
    assert_eq!(
        gates,
        cell.gates(),
        "recurrent op: {cell:?} has {} gates, the weights hold {gates}",
        cell.gates()
    );
    match mask {
        Some(m) if (m.0.size(), m.1.size()) != (x.0.size(), x.1.size()) => Err(MaskMismatch),
        _ => Ok(()),
    }
}

/// A mask whose (batch, steps) differ from the input's.
#[derive(Debug)]
struct MaskMismatch;

/// The time index of the `k`-th step processed.
fn step_time(k: usize, steps: usize, reverse: bool) -> usize {
    if reverse {
        steps - 1 - k
    } else {
        k
    }
}
