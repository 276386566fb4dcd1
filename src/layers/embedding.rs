//! `Embedding`: a table of `V` learned vectors of `D` values, looked up by token id.

use super::conv2d::fan_in_uniform;
use super::masked::Masked;
use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::nn::{BuildOnDevice, Module, NonMutableModule};
use dfdx::prelude::{
    Const, Device, Dim, Dtype, GatherTo, HasShape, PutTape, Rank2, Shape, SplitTape, Storage, Tape,
    Tensor,
};
use num_traits::Float;
use rand_distr::uniform::SampleUniform;

/// A table of `V` vectors of `D` values, one per token id; it builds into an
/// [`EmbeddingModule`], laid out as dfdx's and PyTorch's `Embedding` (`weight` `(V, D)`).
///
/// - Input shape: `(T)` token ids (`usize`, each below `V`), or a batch `(B, T)`.
/// - Output shape: `(T, D)`, or `(B, T, D)`: row `id` of the table for each id.
/// - A [`Masked`] batch of ids `(B, T)` gives a `Masked` batch `(B, T, D)` with the same
///   mask, so that a recurrent layer after it skips the padding (Keras's `mask_zero`, with
///   the mask given rather than read from id 0).
/// - Parameters: `V * D`. Weights start uniform in `±1/sqrt(V)` (dfdx's choice).
///
/// # Panics
/// `forward` panics on an id of `V` or more, naming it (a layer's error type is the
/// device's, which cannot say so). The [`Trainer`](crate::train::Trainer) checks every id
/// against `V` before it runs the model and returns
/// [`DataError::TokenOutOfVocabulary`](crate::data::DataError::TokenOutOfVocabulary).
///
/// typenet keeps its own module rather than dfdx's `Embedding` because dfdx 0.13's `gather`
/// reads element 0 of its input even when there is none, so an empty batch panicked; this one
/// returns an empty `(0, T, D)` output instead. Its weights are the same tensor under the
/// same name (`weight`), so saved models load either way.
///
/// ```
/// use typenet::prelude::*;
/// type Net = network![Tokens<3>, Embedding<10, 4>];
/// let dev: Cpu = Default::default();
/// let net = dev.build_module::<Net, f32>();
/// let ids: Tensor<Rank2<2, 3>, usize, _> = dev.tensor([[1, 2, 3], [9, 0, 0]]);
/// let y: Tensor<Rank3<2, 3, 4>, f32, _> = net.forward(ids);
/// assert_eq!(net.num_trainable_params(), 10 * 4);
/// # let _ = y;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Embedding<const V: usize, const D: usize>;

impl<const V: usize, const M: usize, E, D> BuildOnDevice<D, E> for Embedding<V, M>
where
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    type Built = EmbeddingModule<V, M, E, D>;
}

/// The table of an [`Embedding`] layer.
#[derive(Debug, Clone)]
pub struct EmbeddingModule<const V: usize, const M: usize, E: Dtype, D: Storage<E>> {
    /// `(V, D)`: row `id` is token `id`'s vector, as PyTorch's `Embedding.weight`.
    pub weight: Tensor<Rank2<V, M>, E, D>,
}

impl<const V: usize, const M: usize, E, D> TensorCollection<E, D> for EmbeddingModule<V, M, E, D>
where
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = EmbeddingModule<V, M, E2, D2>;

    fn iter_tensors<Vis: ModuleVisitor<Self, E, D>>(
        visitor: &mut Vis,
    ) -> Result<Option<Self::To<Vis::E2, Vis::D2>>, Vis::Err> {
        visitor.visit_fields(
            Self::tensor(
                "weight",
                |s| &s.weight,
                |s| &mut s.weight,
                TensorOptions::reset_with(|t| t.try_fill_with_distr(fan_in_uniform(V))),
            ),
            |weight| EmbeddingModule { weight },
        )
    }
}

impl<const V: usize, const M: usize, E: Dtype, D: Storage<E>> NonMutableModule
    for EmbeddingModule<V, M, E, D>
{
}

/// One sequence of ids `(T)` -> `(T, D)`.
impl<const V: usize, const M: usize, S: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>
    Module<Tensor<(S,), usize, D, T>> for EmbeddingModule<V, M, E, D>
{
    type Output = Tensor<(S, Const<M>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, ids: Tensor<(S,), usize, D, T>) -> Result<Self::Output, D::Err> {
        let (ids, tape) = ids.split_tape();
        if ids.shape().num_elements() == 0 {
            // dfdx 0.13's gather reads element 0 of the ids (a panic when there is none);
            // no ids look up no rows.
            let out = self
                .weight
                .device()
                .try_zeros_like(&(ids.shape().0, Const::<M>))?;
            return Ok(out.put_tape(tape));
        }
        check_ids::<V, _, _>(&ids);
        self.weight.clone().put_tape(tape).try_gather(ids)
    }
}

/// A batch of sequences of ids `(B, T)` -> `(B, T, D)`.
impl<const V: usize, const M: usize, B: Dim, S: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>
    Module<Tensor<(B, S), usize, D, T>> for EmbeddingModule<V, M, E, D>
{
    type Output = Tensor<(B, S, Const<M>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, ids: Tensor<(B, S), usize, D, T>) -> Result<Self::Output, D::Err> {
        let (ids, tape) = ids.split_tape();
        if ids.shape().num_elements() == 0 {
            // An empty batch (or empty sequences): see the one-sequence impl.
            let (b, s) = *ids.shape();
            let out = self.weight.device().try_zeros_like(&(b, s, Const::<M>))?;
            return Ok(out.put_tape(tape));
        }
        check_ids::<V, _, _>(&ids);
        self.weight.clone().put_tape(tape).try_gather(ids)
    }
}

/// Panics naming the first id the table has no row for; dfdx's lookup would index past the
/// table (an index panic on `Cpu`, a read out of bounds on other devices). The error type of
/// a layer is the device's, which has no word for a bad id: the trainer checks ids against
/// the vocabulary first and returns a typed error instead.
fn check_ids<const V: usize, S: Shape, D: Storage<usize>>(ids: &Tensor<S, usize, D>) {
    if let Some((i, id)) = ids
        .as_vec()
        .into_iter()
        .enumerate()
        .find(|&(_, id)| id >= V)
    {
        panic!(
            "token id {id} (element {i} of the ids) is not below this Embedding's vocabulary, {V}: map the words it has no row for to an id below {V}, or build the Embedding with a larger vocabulary"
        );
    }
}

/// A [`Masked`] batch of ids `(B, T)` -> a `Masked` batch `(B, T, D)` with the same mask,
/// for the recurrent layers after it to skip the padding.
impl<const V: usize, const M: usize, B: Dim, S: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>
    Module<Masked<Tensor<(B, S), usize, D, T>, Tensor<(B, S), E, D>>>
    for EmbeddingModule<V, M, E, D>
{
    type Output = Masked<Tensor<(B, S, Const<M>), E, D, T>, Tensor<(B, S), E, D>>;
    type Error = D::Err;

    fn try_forward(
        &self,
        input: Masked<Tensor<(B, S), usize, D, T>, Tensor<(B, S), E, D>>,
    ) -> Result<Self::Output, D::Err> {
        Ok(Masked {
            x: self.try_forward(input.x)?,
            mask: input.mask,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Embedding;
    use dfdx::prelude::*;

    /// The same table as dfdx's own `Embedding` from the same seed, so seeded runs did not
    /// change when typenet took the layer over.
    #[test]
    fn starts_as_dfdx_does() {
        let ours = Cpu::seed_from_u64(7).build_module::<Embedding<50, 4>, f32>();
        let theirs =
            Cpu::seed_from_u64(7).build_module::<dfdx::nn::builders::Embedding<50, 4>, f32>();
        assert_eq!(ours.weight.array(), theirs.weight.array());
    }

    /// The same lookup as dfdx's own `Embedding` on the same table.
    #[test]
    fn looks_up_rows_as_dfdx_does() {
        let dev: Cpu = Cpu::seed_from_u64(1);
        let ours = dev.build_module::<Embedding<5, 3>, f64>();
        let theirs = dfdx::nn::modules::Embedding {
            weight: ours.weight.clone(),
        };
        let ids: Tensor<Rank2<2, 4>, usize, _> = dev.tensor([[0, 4, 4, 1], [2, 3, 0, 0]]);
        assert_eq!(
            ours.forward(ids.clone()).array(),
            theirs.forward(ids.clone()).array()
        );
        let one: Tensor<Rank1<3>, usize, _> = dev.tensor([3, 1, 3]);
        assert_eq!(
            ours.forward(one.clone()).array(),
            theirs.forward(one).array()
        );
        // and the gradient reaches the table
        let mut grads = ours.alloc_grads();
        let y = ours.forward(ids.trace(grads));
        grads = y.sum().backward();
        assert_eq!(
            grads.get(&ours.weight).array(),
            [[3.0; 3], [1.0; 3], [1.0; 3], [1.0; 3], [2.0; 3]]
        );
    }

    /// dfdx 0.13's `Embedding` panics here (its gather reads element 0 of the ids).
    #[test]
    #[should_panic(
        expected = "token id 5 (element 3 of the ids) is not below this Embedding's vocabulary, 5"
    )]
    fn an_id_past_the_table_is_named() {
        let dev: Cpu = Default::default();
        let table = dev.build_module::<Embedding<5, 3>, f32>();
        let ids: Tensor<Rank2<2, 2>, usize, _> = dev.tensor([[0, 4], [1, 5]]);
        let _ = table.forward(ids);
    }

    #[test]
    fn no_ids_give_no_rows() {
        let dev: Cpu = Default::default();
        let mut table = dev.build_module::<Embedding<5, 3>, f32>();
        let batch: Tensor<(usize, Const<4>), usize, _> = dev.zeros_like(&(0, Const));
        let y = table.forward(batch.clone());
        assert_eq!(*y.shape(), (0, Const, Const));
        let grads = table.alloc_grads();
        let y = table.forward_mut(batch.traced(grads));
        assert_eq!(*y.shape(), (0, Const, Const));
        let empty: Tensor<(usize,), usize, _> = dev.zeros_like(&(0,));
        assert_eq!(*table.forward(empty).shape(), (0, Const));
        let no_steps: Tensor<(Const<2>, usize), usize, _> = dev.zeros_like(&(Const, 0));
        assert_eq!(*table.forward(no_steps).shape(), (Const, 0, Const));
    }
}
