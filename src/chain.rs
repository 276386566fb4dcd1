//! `Chain<Head, Tail>`: the node of the tree a `network!` expands to.
//!
//! A chain runs `Head`, then `Tail`. The macro arranges a network's layers as a *balanced*
//! binary tree of chains (`Chain<Chain<L1, L2>, Chain<L3, L4>>`), not as a list
//! (`Chain<L1, Chain<L2, Chain<..>>>`): the trait solver's work grows with the depth of the
//! nested type, and a list of n layers is n deep where the tree is log2(n). Measured with
//! `benches/compile_time.sh`, a list made `cargo check` exponential in depth (1.4x per layer);
//! the tree keeps it linear in the number of layers.
//!
//! A chain's `Module` and `ModuleMut` impls ask their question of the input
//! ([`ChainInput`]), which keeps `cargo check` of a deep network linear in its depth when
//! the network's first layers take more than one kind of input.
//!
//! A chain adds no name of its own to its tensors: every layer of a network is a
//! [`Numbered`](crate::Numbered) layer and names its tensors by its number (`5.weight`), so
//! checkpoint names do not depend on the shape of the tree.

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection};
use dfdx::nn::{BuildOnDevice, Module, ModuleMut, ZeroSizedModule};
use dfdx::prelude::{Device, Dtype, Shape, Storage, Tensor};

/// `Head`, then `Tail`.
#[derive(Debug, Clone, Default)]
pub struct Chain<Head, Tail> {
    pub head: Head,
    pub tail: Tail,
}

/// A network without layers: the identity.
#[derive(Debug, Clone, Copy, Default)]
pub struct End;

impl ZeroSizedModule for End {}

impl<S: Shape, E, D: Storage<E>, T> Module<Tensor<S, E, D, T>> for End {
    type Output = Tensor<S, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
        Ok(x)
    }
}

impl<S: Shape, E, D: Storage<E>, T> ModuleMut<Tensor<S, E, D, T>> for End {
    type Output = Tensor<S, E, D, T>;
    type Error = D::Err;

    fn try_forward_mut(&mut self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
        Ok(x)
    }
}

impl<Head: BuildOnDevice<D, E>, Tail: BuildOnDevice<D, E>, D: Device<E>, E: Dtype>
    BuildOnDevice<D, E> for Chain<Head, Tail>
{
    type Built = Chain<Head::Built, Tail::Built>;
}

impl<Head: TensorCollection<E, D>, Tail: TensorCollection<E, D>, E: Dtype, D: Device<E>>
    TensorCollection<E, D> for Chain<Head, Tail>
{
    type To<E2: Dtype, D2: Device<E2>> = Chain<Head::To<E2, D2>, Tail::To<E2, D2>>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        // Empty names: the layers inside name their own tensors.
        visitor.visit_fields(
            (
                Self::module("", |s| &s.head, |s| &mut s.head),
                Self::module("", |s| &s.tail, |s| &mut s.tail),
            ),
            |(head, tail)| Chain { head, tail },
        )
    }
}

/// An input that `Head` and then `Tail` take: `Chain<Head, Tail>: Module<X>` holds where
/// `X: ChainInput<Head, Tail>` does, the question asked with the input in front.
///
/// Why not `impl<X> Module<X> for Chain<Head, Tail> where Head: Module<X>, ..` directly: in
/// `model.forward(x)` the compiler meets `Chain: Module<?X>` before it has looked at `x`, and
/// with the layers in front it goes into them with `?X` unknown. A layer that takes several
/// kinds of input (`Dense` a tensor or a `Masked` batch, `Embedding` one sequence or a batch)
/// then leaves its output unknown too, and so on down the network, and the compiler weighs
/// those open questions again and again until it knows `?X`. `benches/compile_time.sh`
/// measured `cargo check` of a 200-layer MLP at 27 s and 3 GB that way. With the input in
/// front, `?X: ChainInput<..>` is left for later at once (the compiler does not pick an impl
/// for an unknown type), and the layers are only looked at with a known input: 0.17 s.
pub trait ChainInput<Head, Tail>: Sized {
    type Output;
    type Error: std::fmt::Debug;
    fn try_forward_through(self, chain: &Chain<Head, Tail>) -> Result<Self::Output, Self::Error>;
}

impl<X, Head: Module<X>, Tail: Module<Head::Output, Error = Head::Error>> ChainInput<Head, Tail>
    for X
{
    type Output = Tail::Output;
    type Error = Head::Error;

    fn try_forward_through(self, chain: &Chain<Head, Tail>) -> Result<Self::Output, Self::Error> {
        chain.tail.try_forward(chain.head.try_forward(self)?)
    }
}

/// [`ChainInput`] for training: `Chain<Head, Tail>: ModuleMut<X>`.
pub trait ChainInputMut<Head, Tail>: Sized {
    type Output;
    type Error: std::fmt::Debug;
    fn try_forward_mut_through(
        self,
        chain: &mut Chain<Head, Tail>,
    ) -> Result<Self::Output, Self::Error>;
}

impl<X, Head: ModuleMut<X>, Tail: ModuleMut<Head::Output, Error = Head::Error>>
    ChainInputMut<Head, Tail> for X
{
    type Output = Tail::Output;
    type Error = Head::Error;

    fn try_forward_mut_through(
        self,
        chain: &mut Chain<Head, Tail>,
    ) -> Result<Self::Output, Self::Error> {
        chain
            .tail
            .try_forward_mut(chain.head.try_forward_mut(self)?)
    }
}

impl<X: ChainInput<Head, Tail>, Head, Tail> Module<X> for Chain<Head, Tail> {
    type Output = X::Output;
    type Error = X::Error;

    fn try_forward(&self, x: X) -> Result<Self::Output, Self::Error> {
        x.try_forward_through(self)
    }
}

impl<X: ChainInputMut<Head, Tail>, Head, Tail> ModuleMut<X> for Chain<Head, Tail> {
    type Output = X::Output;
    type Error = X::Error;

    fn try_forward_mut(&mut self, x: X) -> Result<Self::Output, Self::Error> {
        x.try_forward_mut_through(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::tensor_specs;
    use crate::Numbered;
    use dfdx::optim::Sgd;
    use dfdx::prelude::*;

    // a tree, as the macro writes it: (1, 2), (3)
    type TwoDense =
        Chain<Chain<Numbered<1, Linear<4, 3>>, Numbered<2, ReLU>>, Numbered<3, Linear<3, 2>>>;

    #[test]
    fn a_chain_is_a_dfdx_module() {
        let dev: Cpu = Default::default();
        let mut net = dev.build_module::<TwoDense, f32>();
        assert_eq!(net.num_trainable_params(), 4 * 3 + 3 + 3 * 2 + 2);

        // forward through the tree equals forward through dfdx's own tuple
        let x: Tensor<Rank2<5, 4>, f32, _> = dev.sample_normal();
        let tuple = (net.head.head.0.clone(), ReLU, net.tail.0.clone());
        let ours = net.forward(x.clone()).array();
        assert_eq!(ours, tuple.forward(x.clone()).array());

        // and it trains with dfdx's optimizers
        let mut grads = net.alloc_grads();
        let mut opt = Sgd::new(&net, Default::default());
        let loss = net.forward_mut(x.clone().traced(grads)).square().mean();
        grads = loss.backward();
        opt.update(&mut net, &grads).unwrap();
        assert_ne!(net.forward(x).array(), ours);
    }

    #[test]
    fn tensors_are_named_by_layer_number_whatever_the_tree() {
        type List = Chain<
            Numbered<1, Linear<4, 3>>,
            Chain<Numbered<2, ReLU>, Chain<Numbered<3, Linear<3, 2>>, End>>,
        >;
        let dev: Cpu = Default::default();
        let names = |specs: Vec<crate::train::TensorSpec>| -> Vec<String> {
            specs.into_iter().map(|s| s.name).collect()
        };
        let tree = names(tensor_specs(&dev.build_module::<TwoDense, f32>()));
        assert_eq!(tree, ["1.weight", "1.bias", "3.weight", "3.bias"]);
        assert_eq!(names(tensor_specs(&dev.build_module::<List, f32>())), tree);
    }
}
