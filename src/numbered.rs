//! `Numbered<N, L>`: layer `L` at position `N` of a network.
//!
//! The number is the one compile errors and the summary use (layers count from 1 after the
//! input), and it names the layer's tensors: `Numbered<5, Dense<..>>` holds `5.weight` and
//! `5.bias`. So a checkpoint's names depend only on the layer list, never on how the macro
//! arranges the layers into a tree of [`Chain`](crate::Chain)s, and a PyTorch user reads them
//! as a `Sequential`'s.

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection};
use dfdx::nn::{BuildOnDevice, Module, ModuleMut};
use dfdx::prelude::{Device, Dtype};
use std::ops::{Deref, DerefMut};

/// Layer `L`, numbered `N`. Derefs to `L`, so `model.head.weight` reads the layer's fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct Numbered<const N: usize, L>(pub L);

impl<const N: usize, L> Deref for Numbered<N, L> {
    type Target = L;
    fn deref(&self) -> &L {
        &self.0
    }
}

impl<const N: usize, L> DerefMut for Numbered<N, L> {
    fn deref_mut(&mut self) -> &mut L {
        &mut self.0
    }
}

impl<const N: usize, L: BuildOnDevice<D, E>, D: Device<E>, E: Dtype> BuildOnDevice<D, E>
    for Numbered<N, L>
{
    type Built = Numbered<N, L::Built>;
}

impl<const N: usize, L: TensorCollection<E, D>, E: Dtype, D: Device<E>> TensorCollection<E, D>
    for Numbered<N, L>
{
    type To<E2: Dtype, D2: Device<E2>> = Numbered<N, L::To<E2, D2>>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        let name = N.to_string();
        visitor.visit_fields(Self::module(&name, |s| &s.0, |s| &mut s.0), Numbered)
    }
}

impl<const N: usize, X, L: Module<X>> Module<X> for Numbered<N, L> {
    type Output = L::Output;
    type Error = L::Error;

    fn try_forward(&self, x: X) -> Result<Self::Output, Self::Error> {
        self.0.try_forward(x)
    }
}

impl<const N: usize, X, L: ModuleMut<X>> ModuleMut<X> for Numbered<N, L> {
    type Output = L::Output;
    type Error = L::Error;

    fn try_forward_mut(&mut self, x: X) -> Result<Self::Output, Self::Error> {
        self.0.try_forward_mut(x)
    }
}
