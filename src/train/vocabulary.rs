//! The vocabulary of a model's embedding table, read from the model, so that a token id it
//! has no row for is a [`DataError::TokenOutOfVocabulary`] before any step rather than a
//! panic inside the embedding's lookup.
//!
//! As [`last_layer`](super::last_layer) does, this walks the model's
//! [`TensorCollection`] (which every trainable model has) and knows a layer by its type's
//! name: an embedding is typenet's `EmbeddingModule` or dfdx's `Embedding`, and its
//! vocabulary is the number of rows of its `weight`. A model with several tables of
//! different sizes (two token inputs) is not checked: which table reads which input is not
//! known here.

use super::last_layer::is;
use super::trainer::Trainer;
use crate::data::{DataError, ModelInput, Samples};
use dfdx::nn::tensor_collection::{
    ModuleFields, ModuleVisitor, ScalarOptions, TensorCollection, TensorOptions,
};
use dfdx::prelude::{Cpu, Device, Dtype, HasShape, Shape, Tensor};
use std::any::type_name;
use std::convert::Infallible;

/// The vocabulary of the model's embedding tables, if it has any and all have one size.
pub(crate) fn vocabulary<M: TensorCollection<E, D>, E: Dtype, D: Device<E>>(
    model: &M,
) -> Option<usize> {
    let mut tables = Vec::new();
    let walked = M::iter_tensors(&mut Finder {
        module: model,
        tables: &mut tables,
    });
    if let Err(never) = walked {
        match never {}
    }
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
        match vocabulary(&*self.model) {
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

/// Records the rows of every embedding table under `module`.
struct Finder<'m, 't, T> {
    module: &'m T,
    tables: &'t mut Vec<usize>,
}

impl<T: TensorCollection<E, D>, E: Dtype, D: Device<E>> ModuleVisitor<T, E, D>
    for Finder<'_, '_, T>
{
    type Err = Infallible;
    type E2 = E;
    type D2 = D;

    fn visit_module<Field, GetRef, GetMut>(
        &mut self,
        _: &str,
        mut get_ref: GetRef,
        _: GetMut,
    ) -> Result<Option<Field::To<E, D>>, Infallible>
    where
        GetRef: FnMut(&T) -> &Field,
        GetMut: FnMut(&mut T) -> &mut Field,
        Field: TensorCollection<E, D>,
    {
        Field::iter_tensors(&mut Finder {
            module: get_ref(self.module),
            tables: &mut *self.tables,
        })?;
        Ok(None)
    }

    fn visit_tensor<S: Shape, GetRef, GetMut>(
        &mut self,
        name: &str,
        mut get_ref: GetRef,
        _: GetMut,
        _: TensorOptions<S, E, D>,
    ) -> Result<Option<Tensor<S, E, D>>, Infallible>
    where
        GetRef: FnMut(&T) -> &Tensor<S, E, D>,
        GetMut: FnMut(&mut T) -> &mut Tensor<S, E, D>,
    {
        if name == "weight" && is_embedding(type_name::<T>()) {
            let dims: Vec<usize> = get_ref(self.module).shape().concrete().into();
            self.tables.extend(dims.first());
        }
        Ok(None)
    }

    fn visit_scalar<N, GetRef, GetMut>(
        &mut self,
        _: &str,
        _: GetRef,
        _: GetMut,
        _: ScalarOptions<N>,
    ) -> Result<Option<N>, Infallible>
    where
        N: num_traits::NumCast,
        GetRef: FnMut(&T) -> &N,
        GetMut: FnMut(&mut T) -> &mut N,
    {
        Ok(None)
    }

    fn visit_fields<Fields: ModuleFields<T, E, D>>(
        &mut self,
        fields: Fields,
        _: impl FnOnce(Fields::Output<E, D>) -> T::To<E, D>,
    ) -> Result<Option<T::To<E, D>>, Infallible> {
        fields.visit_fields(self)?;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::vocabulary;
    use dfdx::prelude::*;

    #[test]
    fn the_vocabulary_is_the_rows_of_the_one_table_size() {
        let dev: Cpu = Default::default();
        type Words = crate::network![Tokens<4>, Embedding<30, 8>, GRU<4>, Dense<2>];
        assert_eq!(vocabulary(&dev.build_module::<Words, f32>()), Some(30));
        let dfdx_table = dev.build_module::<(Embedding<12, 3>, Linear<3, 2>), f32>();
        assert_eq!(vocabulary(&dfdx_table), Some(12));
        type Two = crate::network![
            Concat<[Tokens<4>, Embedding<30, 8>, GRU<4>], [Tokens<4>, Embedding<20, 8>, GRU<4>]>,
            Dense<2>,
        ];
        assert_eq!(vocabulary(&dev.build_module::<Two, f32>()), None);
        let no_table = dev.build_module::<(Linear<3, 2>, ReLU), f32>();
        assert_eq!(vocabulary(&no_table), None);
    }
}
