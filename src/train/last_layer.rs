//! A model's last layer, read from its type: whether its outputs are probabilities (a
//! `Sigmoid` or `Softmax` ends it) or not (a `Dense` ends it), so that `fit` can refuse a
//! binary cross-entropy that expects the other kind before any update.
//!
//! The trainer takes any dfdx module, so this cannot ask for a trait the model may lack
//! (there is no specialization); it reads the model's [`module_tree`], which holds every
//! sub-module, tensor-less activations included. Through the layers that run in sequence
//! (typenet's `Chain` and `Numbered`, dfdx's tuples) it goes to the last one and compares
//! that module's type with the layer types it knows, by `std::any::type_name`. A block
//! whose output is not its last layer's (a residual sum, a merge of branches) or a type it
//! does not know is "unknown", never a mismatch: the check only refuses what it is sure of.

use super::module_tree::{base, is_identity, is_sequence, module_tree, unfused};
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::prelude::{Device, Dtype};
use std::any::type_name;

/// What the values of a model's outputs are, as its last layer says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outputs {
    /// In [0, 1]: the model ends in `Sigmoid` or `Softmax`.
    Probabilities,
    /// Not confined to [0, 1]: the model ends in `Dense` (dfdx's `Linear`) or an
    /// activation such as `ReLU` or `Tanh`.
    Unbounded,
}

/// The last layer of a model, where its type is one the check knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LastLayer {
    /// The layer as a user knows it: `Sigmoid`, `Dense`, `Linear`.
    pub name: &'static str,
    /// Its path in the model: `3` for layer 3 of a network or place 3 of a dfdx tuple,
    /// `2.3` nested; empty for a model that is this layer alone.
    pub place: String,
    pub outputs: Outputs,
}

/// The model's last layer, if the walk finds a type it knows there.
pub(crate) fn last_layer<M: TensorCollection<E, D>, E: Dtype, D: Device<E>>() -> Option<LastLayer> {
    let root = module_tree::<M, E, D>();
    let mut node = &root;
    let mut place: Vec<&str> = Vec::new();
    while is_sequence(node.type_name) {
        let Some(last) = node
            .children
            .iter()
            .rev()
            .find(|c| !is_identity(c.type_name))
        else {
            break;
        };
        if !last.name.is_empty() {
            place.push(&last.name);
        }
        node = last;
    }
    let (name, outputs) = known(unfused(node.type_name))?;
    Some(LastLayer {
        name,
        place: place.join("."),
        outputs,
    })
}

/// The layers whose outputs the check knows, with the names users know them by.
fn known(name: &str) -> Option<(&'static str, Outputs)> {
    use crate::layers::{DenseModule, LeakyReLU, ReLU};
    use dfdx::nn::modules;
    use dfdx::prelude::Cpu;
    use Outputs::{Probabilities, Unbounded};
    let layers: [(&str, &'static str, Outputs); 9] = [
        (type_name::<modules::Sigmoid>(), "Sigmoid", Probabilities),
        (type_name::<modules::Softmax>(), "Softmax", Probabilities),
        (
            type_name::<DenseModule<1, 1, f32, Cpu>>(),
            "Dense",
            Unbounded,
        ),
        (
            type_name::<modules::Linear<1, 1, f32, Cpu>>(),
            "Linear",
            Unbounded,
        ),
        (type_name::<ReLU>(), "ReLU", Unbounded),
        (type_name::<modules::ReLU>(), "ReLU", Unbounded),
        (type_name::<LeakyReLU<0>>(), "LeakyReLU", Unbounded),
        (type_name::<modules::Tanh>(), "Tanh", Unbounded),
        (type_name::<modules::AccurateGeLU>(), "GELU", Unbounded),
    ];
    layers
        .into_iter()
        .find(|(known, _, _)| base(known) == base(name))
        .map(|(_, name, outputs)| (name, outputs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::nn::builders;
    use dfdx::prelude::{BuildOnDevice, Cpu};

    type Built<M> = <M as BuildOnDevice<Cpu, f32>>::Built;

    fn last<M: BuildOnDevice<Cpu, f32>>() -> Option<(&'static str, String, Outputs)>
    where
        Built<M>: TensorCollection<f32, Cpu>,
    {
        last_layer::<Built<M>, f32, Cpu>().map(|l| (l.name, l.place, l.outputs))
    }

    fn found(
        name: &'static str,
        place: &str,
        outputs: Outputs,
    ) -> Option<(&'static str, String, Outputs)> {
        Some((name, place.to_string(), outputs))
    }

    #[test]
    fn a_network_s_last_layer_is_found_through_its_tree() {
        use Outputs::{Probabilities, Unbounded};
        type EndsInSigmoid = crate::network![Input<4>, Dense<8>, ReLU, Dense<1>, Sigmoid];
        assert_eq!(
            last::<EndsInSigmoid>(),
            found("Sigmoid", "4", Probabilities)
        );
        // the `activation` option shares its layer's number
        type WithOption = crate::network![Input<4>, Dense<8>, Dense<1, activation = sigmoid>];
        assert_eq!(last::<WithOption>(), found("Sigmoid", "2", Probabilities));
        type Logits = crate::network![Input<4>, Dense<8, activation = relu>, Dense<3>];
        assert_eq!(last::<Logits>(), found("Dense", "2", Unbounded));
        type EndsInSoftmax =
            crate::network![Input<1, 6, 6>, Conv2D<2, 3>, Flatten, Dense<3>, Softmax];
        assert_eq!(
            last::<EndsInSoftmax>(),
            found("Softmax", "4", Probabilities)
        );
        type EndsInTanh = crate::network![Input<4>, Dense<1, activation = tanh>];
        assert_eq!(last::<EndsInTanh>(), found("Tanh", "1", Unbounded));
        // a ReLU fused into the convolution before it still ends the network
        type EndsInFusedRelu = crate::network![Input<1, 6, 6>, Conv2D<2, 3>, ReLU];
        assert_eq!(last::<EndsInFusedRelu>(), found("ReLU", "2", Unbounded));
        // a hand-written list ending in `End`
        type List = crate::Chain<
            crate::Numbered<1, builders::Linear<4, 1>>,
            crate::Chain<crate::Numbered<2, builders::Sigmoid>, crate::End>,
        >;
        assert_eq!(last::<List>(), found("Sigmoid", "2", Probabilities));
    }

    #[test]
    fn dfdx_tuples_and_nested_networks_are_walked_too() {
        use Outputs::{Probabilities, Unbounded};
        type EndsInSigmoid = (
            builders::Linear<4, 8>,
            builders::Tanh,
            builders::Linear<8, 1>,
            builders::Sigmoid,
        );
        assert_eq!(
            last::<EndsInSigmoid>(),
            found("Sigmoid", "3", Probabilities)
        );
        type EndsInLinear = (
            builders::Linear<4, 8>,
            builders::ReLU,
            builders::Linear<8, 1>,
        );
        assert_eq!(last::<EndsInLinear>(), found("Linear", "2", Unbounded));
        type Head = crate::network![Input<8>, Dense<1>, Sigmoid];
        type Nested = (builders::Linear<4, 8>, Head);
        assert_eq!(last::<Nested>(), found("Sigmoid", "1.2", Probabilities));
        assert_eq!(
            last::<builders::Sigmoid>(),
            found("Sigmoid", "", Probabilities)
        );
    }

    #[test]
    fn blocks_and_unknown_layers_are_not_judged() {
        // x + sigmoid(..) is no probability, though the block's last layer is a Sigmoid
        type InResidual = crate::network![Input<4>, Residual<[Dense<4>, Sigmoid]>];
        assert_eq!(last::<InResidual>(), None);
        type Merged = crate::network![Input<4>, Add<[Dense<1>, Sigmoid], [Dense<1>, Sigmoid]>];
        assert_eq!(last::<Merged>(), None);
        type DfdxResidual = (
            builders::Linear<4, 4>,
            builders::Residual<builders::Sigmoid>,
        );
        assert_eq!(last::<DfdxResidual>(), None);
        type Pool = crate::network![Input<1, 4, 4>, MaxPool<2>, Flatten];
        assert_eq!(last::<Pool>(), None);
    }
}
