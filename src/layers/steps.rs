//! `Steps<L, T>`: a sequence layer together with the length of the sequences it reads, so
//! that the summary can count its output shape and cost from the type alone.

use super::embedding::Embedding;
use super::recurrent::{Bidirectional, Recurrent, RecurrentCell};
use super::LayerInfo;
use dfdx::nn::BuildOnDevice;
use dfdx::prelude::{Device, Dtype};
use std::marker::PhantomData;

/// The layer `L` on sequences of `T` steps: builds into exactly what `L` builds into.
///
/// The macro wraps each recurrent layer and each `Embedding` in it; `L` alone is as usable
/// in hand-written types.
#[derive(Debug, Clone, Copy, Default)]
pub struct Steps<L, const T: usize>(PhantomData<L>);

impl<L: BuildOnDevice<D, E>, const T: usize, D: Device<E>, E: Dtype> BuildOnDevice<D, E>
    for Steps<L, T>
{
    type Built = L::Built;
}

/// What the summary needs of a recurrent cell.
pub trait RecurrentInfo {
    const NAME: &'static str;
    const FEATURES: usize;
    const UNITS: usize;
    const RETURN_SEQUENCES: bool;
    const PARAMS: usize;
    /// Multiply-adds of one step (the two projections of every gate).
    const STEP_MACS: usize;
}

impl<C, const G: usize, const F: usize, const U: usize, const SEQ: bool> RecurrentInfo
    for Recurrent<C, G, F, U, SEQ>
where
    C: RecurrentCell<G>,
{
    const NAME: &'static str = C::NAME;
    const FEATURES: usize = F;
    const UNITS: usize = U;
    const RETURN_SEQUENCES: bool = SEQ;
    // The GRU keeps two biases, as Keras's with reset_after.
    const PARAMS: usize = G * (F * U + U * U + C::BIASES * U);
    const STEP_MACS: usize = G * U * (F + U);
}

impl<L: RecurrentInfo, const OUT: usize> RecurrentInfo for Bidirectional<L, OUT> {
    const NAME: &'static str = "Bidirectional";
    const FEATURES: usize = L::FEATURES;
    const UNITS: usize = OUT;
    const RETURN_SEQUENCES: bool = L::RETURN_SEQUENCES;
    const PARAMS: usize = 2 * L::PARAMS;
    const STEP_MACS: usize = 2 * L::STEP_MACS;
}

impl<L: RecurrentInfo, const T: usize> LayerInfo for Steps<L, T> {
    const NAME: &'static str = L::NAME;
    const OUTPUT: Option<&'static [usize]> = Some(if L::RETURN_SEQUENCES {
        &[T, L::UNITS]
    } else {
        &[L::UNITS]
    });
    const PARAMS: usize = L::PARAMS;
    const FLOPS: usize = 2 * T * L::STEP_MACS;
    const ACTIVATIONS: usize = T * L::UNITS;
}

/// `Embedding<V, D>` on `T` token ids: `(T)` -> `(T, D)`.
impl<const V: usize, const D: usize, const T: usize> LayerInfo for Steps<Embedding<V, D>, T> {
    const NAME: &'static str = "Embedding";
    const OUTPUT: Option<&'static [usize]> = Some(&[T, D]);
    const PARAMS: usize = V * D;
    const FLOPS: usize = 0;
    const ACTIVATIONS: usize = T * D;
}
