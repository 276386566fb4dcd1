//! `Residual`: a block whose input is added to its output, as in a ResNet.

use crate::summary::{Network, SummaryRow};
use crate::End;
use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection};
use dfdx::nn::{BuildOnDevice, Module, ModuleMut};
use dfdx::prelude::{Device, Dtype, TryAdd, WithEmptyTape};

use super::LayerInfo;

/// `Block(x) + Shortcut(x)`: a residual block. The shortcut is the identity ([`End`]) unless
/// the block changes the shape, where a ResNet puts a projection (a 1x1 convolution with the
/// block's stride) on it.
///
/// - Input shape: whatever `Block` and `Shortcut` take; output shape: theirs, which must be
///   the same (the macro checks it and says so when not).
/// - Written in a network as `Residual<[layers..]>` or
///   `Residual<[layers..], shortcut = [layers..]>`; the layers inside are numbered from 1
///   within the block, so the block at layer 4 holds `4.1.weight`, `4.2.weight`, ... and its
///   shortcut `4.shortcut.1.weight`.
/// - Parameters: the block's and the shortcut's.
///
/// ```
/// use typenet::prelude::*;
/// type Net = network![
///     Input<8, 14, 14>,
///     Residual<[Conv2D<8, 3, padding = same>, ReLU, Conv2D<8, 3, padding = same>]>,
///     Residual<[Conv2D<16, 3, stride = 2, padding = same>], shortcut = [Conv2D<16, 1, stride = 2>]>,
/// ];
/// let dev: Cpu = Default::default();
/// let net = dev.build_module::<Net, f32>();
/// let y: Tensor<Rank4<2, 16, 7, 7>, f32, _> = net.forward(dev.zeros::<Rank4<2, 8, 14, 14>>());
/// # let _ = y;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Residual<Block, Shortcut = End> {
    pub block: Block,
    pub shortcut: Shortcut,
}

impl<B: BuildOnDevice<D, E>, S: BuildOnDevice<D, E>, D: Device<E>, E: Dtype> BuildOnDevice<D, E>
    for Residual<B, S>
{
    type Built = Residual<B::Built, S::Built>;
}

impl<B: TensorCollection<E, D>, S: TensorCollection<E, D>, E: Dtype, D: Device<E>>
    TensorCollection<E, D> for Residual<B, S>
{
    type To<E2: Dtype, D2: Device<E2>> = Residual<B::To<E2, D2>, S::To<E2, D2>>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        // The block's layers name themselves (`1.weight`); the shortcut's would collide with
        // them, so they live under `shortcut`.
        visitor.visit_fields(
            (
                Self::module("", |s| &s.block, |s| &mut s.block),
                Self::module("shortcut", |s| &s.shortcut, |s| &mut s.shortcut),
            ),
            |(block, shortcut)| Residual { block, shortcut },
        )
    }
}

/// The block reads a copy of the input on a fresh tape and the shortcut the input itself, so
/// the sum's tape holds both branches and the input's gradient is the sum of theirs.
impl<X, B, S> Module<X> for Residual<B, S>
where
    X: WithEmptyTape,
    B: Module<X>,
    S: Module<X, Output = B::Output, Error = B::Error>,
    B::Output: TryAdd<B::Output, Err = B::Error>,
{
    type Output = B::Output;
    type Error = B::Error;

    fn try_forward(&self, x: X) -> Result<Self::Output, Self::Error> {
        let block = self.block.try_forward(x.with_empty_tape())?;
        block.try_add(self.shortcut.try_forward(x)?)
    }
}

impl<X, B, S> ModuleMut<X> for Residual<B, S>
where
    X: WithEmptyTape,
    B: ModuleMut<X>,
    S: ModuleMut<X, Output = B::Output, Error = B::Error>,
    B::Output: TryAdd<B::Output, Err = B::Error>,
{
    type Output = B::Output;
    type Error = B::Error;

    fn try_forward_mut(&mut self, x: X) -> Result<Self::Output, Self::Error> {
        let block = self.block.try_forward_mut(x.with_empty_tape())?;
        block.try_add(self.shortcut.try_forward_mut(x)?)
    }
}

impl<B: Network, S: Network> LayerInfo for Residual<B, S> {
    const NAME: &'static str = "Residual";
    // The block's output; the shortcut's is the same.
    const OUTPUT: Option<&'static [usize]> = B::OUTPUT;
    const PARAMS: usize = B::PARAMS + S::PARAMS;
    // The branches, and the sum: one addition per output element.
    const FLOPS: usize = B::FLOPS + S::FLOPS + B::LAST_ACTIVATIONS;
    const ACTIVATIONS: usize = B::ACTIVATIONS + S::ACTIVATIONS + B::LAST_ACTIVATIONS;

    fn inner_rows(prefix: &str, input: Option<&'static [usize]>, rows: &mut Vec<SummaryRow>) {
        B::rows_within(prefix, input, rows);
        S::rows_within(&format!("{prefix}shortcut."), input, rows);
    }
}
