//! `Chain<Head, Tail>`: the type-level list a `network!` expands to.
//!
//! Every dfdx trait is implemented once, by induction over the list, so a network has no
//! length limit (dfdx's tuples stop at 6) and stays an ordinary dfdx module.

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection};
use dfdx::nn::{BuildOnDevice, Module, ModuleMut, ZeroSizedModule};
use dfdx::prelude::{Device, Dtype, Shape, Storage, Tensor};

/// A layer followed by the rest of the network.
#[derive(Debug, Clone, Default)]
pub struct Chain<Head, Tail> {
    pub head: Head,
    pub tail: Tail,
}

/// The end of a network: the identity.
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
        visitor.visit_fields(
            (
                Self::module("head", |s| &s.head, |s| &mut s.head),
                Self::module("tail", |s| &s.tail, |s| &mut s.tail),
            ),
            |(head, tail)| Chain { head, tail },
        )
    }
}

impl<X, Head: Module<X>, Tail: Module<Head::Output, Error = Head::Error>> Module<X>
    for Chain<Head, Tail>
{
    type Output = Tail::Output;
    type Error = Head::Error;

    fn try_forward(&self, x: X) -> Result<Self::Output, Self::Error> {
        self.tail.try_forward(self.head.try_forward(x)?)
    }
}

impl<X, Head: ModuleMut<X>, Tail: ModuleMut<Head::Output, Error = Head::Error>> ModuleMut<X>
    for Chain<Head, Tail>
{
    type Output = Tail::Output;
    type Error = Head::Error;

    fn try_forward_mut(&mut self, x: X) -> Result<Self::Output, Self::Error> {
        self.tail.try_forward_mut(self.head.try_forward_mut(x)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::optim::Sgd;
    use dfdx::prelude::*;

    type TwoDense = Chain<Linear<4, 3>, Chain<ReLU, Chain<Linear<3, 2>, End>>>;

    #[test]
    fn a_chain_is_a_dfdx_module() {
        let dev: Cpu = Default::default();
        let mut net = dev.build_module::<TwoDense, f32>();
        assert_eq!(net.num_trainable_params(), 4 * 3 + 3 + 3 * 2 + 2);

        // forward through the chain equals forward through dfdx's own tuple
        let x: Tensor<Rank2<5, 4>, f32, _> = dev.sample_normal();
        let tuple = (net.head.clone(), ReLU, net.tail.tail.head.clone());
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
}
