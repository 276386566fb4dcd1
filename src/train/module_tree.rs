//! A model's tree of modules, read from its type alone: every sub-module, tensor-less
//! activations included, with its field name, its type's name and its tensors' names and
//! shapes. The checks and conversions that must take any dfdx module (the trainer's
//! last-layer and vocabulary checks, the PyTorch export) read the model from this one walk
//! of its [`TensorCollection`] and know a layer by its type's name, through [`is`]: the
//! visitor's sub-modules need not be `'static`, so `TypeId` is not available, and there is
//! no specialization to ask for a trait the model may lack.

use dfdx::nn::tensor_collection::{
    ModuleFields, ModuleVisitor, ScalarOptions, TensorCollection, TensorOptions,
};
use dfdx::prelude::{Device, Dtype, Shape, Tensor};
use std::any::type_name;
use std::convert::Infallible;

/// A module met on the walk: its field name, its type, its own tensors and its
/// sub-modules, in order.
pub(crate) struct Node {
    pub name: String,
    pub type_name: &'static str,
    /// The tensors this module holds itself (not its sub-modules'): name and dimensions,
    /// as the module's type builds them.
    pub tensors: Vec<(String, Vec<usize>)>,
    pub children: Vec<Node>,
}

impl Node {
    fn new(name: &str, type_name: &'static str) -> Self {
        Node {
            name: name.to_string(),
            type_name,
            tensors: Vec::new(),
            children: Vec::new(),
        }
    }

    /// This module and every module under it, the parent before its children.
    pub fn descendants(&self) -> Vec<&Node> {
        let mut all = vec![self];
        for child in &self.children {
            all.extend(child.descendants());
        }
        all
    }
}

/// The tree of `M`'s modules, from its type alone.
pub(crate) fn module_tree<M: TensorCollection<E, D>, E: Dtype, D: Device<E>>() -> Node {
    let mut root = Node::new("", type_name::<M>());
    match M::iter_tensors(&mut Walker { node: &mut root }) {
        Ok(_) => {}
        Err(never) => match never {},
    }
    root
}

/// The path of a type without its generic arguments: `typenet::chain::Chain`.
pub(crate) fn base(name: &str) -> &str {
    name.split('<').next().unwrap_or(name)
}

/// Whether a module of the type named `name` is a `T` (whatever its generic arguments).
pub(crate) fn is<T>(name: &str) -> bool {
    base(name) == base(type_name::<T>())
}

/// The type name a layer is known by: `A` for an activation fused into the layer before
/// it (`Fused<A>`, which holds the activation's place in the network), else `name`.
pub(crate) fn unfused(name: &str) -> &str {
    if !is::<crate::layers::Fused<()>>(name) {
        return name;
    }
    name.split_once('<')
        .and_then(|(_, inner)| inner.strip_suffix('>'))
        .unwrap_or(name)
}

/// Layers that run their sub-modules one after the other, the last one giving the output.
pub(crate) fn is_sequence(name: &str) -> bool {
    is::<crate::Chain<(), ()>>(name) || is::<crate::Numbered<0, ()>>(name) || name.starts_with('(')
}

/// Modules that pass their input through: an empty chain's end, dfdx's `()`.
pub(crate) fn is_identity(name: &str) -> bool {
    is::<crate::End>(name) || name == "()"
}

/// Records the tree of modules; reads no tensor's values and builds nothing.
struct Walker<'a> {
    node: &'a mut Node,
}

impl<T: TensorCollection<E, D>, E: Dtype, D: Device<E>> ModuleVisitor<T, E, D> for Walker<'_> {
    type Err = Infallible;
    type E2 = E;
    type D2 = D;

    fn visit_module<Field, GetRef, GetMut>(
        &mut self,
        name: &str,
        _: GetRef,
        _: GetMut,
    ) -> Result<Option<Field::To<E, D>>, Infallible>
    where
        GetRef: FnMut(&T) -> &Field,
        GetMut: FnMut(&mut T) -> &mut Field,
        Field: TensorCollection<E, D>,
    {
        let mut child = Node::new(name, type_name::<Field>());
        Field::iter_tensors(&mut Walker { node: &mut child })?;
        self.node.children.push(child);
        Ok(None)
    }

    fn visit_tensor<S: Shape, GetRef, GetMut>(
        &mut self,
        name: &str,
        _: GetRef,
        _: GetMut,
        options: TensorOptions<S, E, D>,
    ) -> Result<Option<Tensor<S, E, D>>, Infallible>
    where
        GetRef: FnMut(&T) -> &Tensor<S, E, D>,
        GetMut: FnMut(&mut T) -> &mut Tensor<S, E, D>,
    {
        let dims: Vec<usize> = options.shape.concrete().into();
        self.node.tensors.push((name.to_string(), dims));
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

    fn visit_fields<M: ModuleFields<T, E, D>>(
        &mut self,
        fields: M,
        _: impl FnOnce(M::Output<E, D>) -> T::To<E, D>,
    ) -> Result<Option<T::To<E, D>>, Infallible> {
        fields.visit_fields(self)?;
        Ok(None)
    }
}
