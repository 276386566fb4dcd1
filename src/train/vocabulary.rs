//! The vocabulary of a model's embedding table, read from the model's type, so that a
//! token id it has no row for is a [`DataError::TokenOutOfVocabulary`] before any step
//! rather than a panic inside the embedding's lookup.
//!
//! As [`last_layer`](super::last_layer) does, this reads the model's [`module_tree`] and
//! knows a layer by its type's name: an embedding is typenet's `EmbeddingModule` or dfdx's
//! `Embedding`, and its vocabulary is the number of rows of its `weight`. A model with
//! several tables of different sizes (two token inputs) is not checked: which table reads
//! which input is not known here.

use super::module_tree::{is, module_tree};
use super::trainer::Trainer;
use crate::data::{DataError, ModelInput, Samples};
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::prelude::{Cpu, Device, Dtype};

/// The vocabulary of an `M`'s embedding tables, if it has any and all have one size.
pub(crate) fn vocabulary<M: TensorCollection<E, D>, E: Dtype, D: Device<E>>() -> Option<usize> {
    let tree = module_tree::<M, E, D>();
    let tables: Vec<usize> = tree
        .descendants()
        .into_iter()
        .filter(|module| is_embedding(module.type_name))
        .flat_map(|table| &table.tensors)
        .filter(|(name, _)| name == "weight")
        .filter_map(|(_, dims)| dims.first().copied())
        .collect();
    let first = *tables.first()?;
    tables.iter().all(|&v| v == first).then_some(first)
}

impl<M, O, E, D, I> Trainer<'_, M, O, E, D, I>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
    I: ModelInput<E, D>,
{
    /// Checks the token ids of `inputs` against the model's vocabulary, where it has one.
    pub(super) fn check_vocabulary(&self, inputs: &[&Samples]) -> Result<(), DataError> {
        match vocabulary::<M, E, D>() {
            Some(vocabulary) => I::check_vocabulary(inputs, vocabulary),
            None => Ok(()),
        }
    }
}

/// Whether a module of the type named `name` is an embedding table.
fn is_embedding(name: &str) -> bool {
    is::<crate::layers::EmbeddingModule<1, 1, f32, Cpu>>(name)
        || is::<dfdx::nn::modules::Embedding<1, 1, f32, Cpu>>(name)
}

#[cfg(test)]
mod tests {
    use super::vocabulary;
    use dfdx::prelude::*;

    type Built<M> = <M as BuildOnDevice<Cpu, f32>>::Built;

    #[test]
    fn the_vocabulary_is_the_rows_of_the_one_table_size() {
        type Words = crate::network![Tokens<4>, Embedding<30, 8>, GRU<4>, Dense<2>];
        assert_eq!(vocabulary::<Built<Words>, f32, Cpu>(), Some(30));
        type DfdxTable = (Embedding<12, 3>, Linear<3, 2>);
        assert_eq!(vocabulary::<Built<DfdxTable>, f32, Cpu>(), Some(12));
        type Two = crate::network![
            Concat<[Tokens<4>, Embedding<30, 8>, GRU<4>], [Tokens<4>, Embedding<20, 8>, GRU<4>]>,
            Dense<2>,
        ];
        assert_eq!(vocabulary::<Built<Two>, f32, Cpu>(), None);
        type NoTable = (Linear<3, 2>, ReLU);
        assert_eq!(vocabulary::<Built<NoTable>, f32, Cpu>(), None);
    }
}
