//! A model's named tensors as host data: listing, copying out and copying back in, and
//! reading one tensor or its gradient by name ([`param`], [`gradient`]).
//!
//! Each function walks the model with a dfdx `TensorCollection` visitor, so it works for
//! any dfdx module, typenet's networks included. Names are dfdx's field paths joined by
//! dots, e.g. `0.weight` in a tuple, `5.bias` for layer 5 of a network, `1.5.bias` for a
//! network in place 1 of a tuple.

use super::error::TrainError;
use dfdx::nn::tensor_collection::{
    RecursiveWalker, ScalarOptions, TensorCollection, TensorOptions, TensorViewer, TensorVisitor,
    ViewTensorMut, ViewTensorName, ViewTensorRef,
};
use dfdx::prelude::{Device, Dtype, Gradients, HasShape, Shape, Tensor};
use std::collections::HashMap;

/// The name and shape of one tensor of a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    /// dfdx's path to the tensor, e.g. `0.weight`.
    pub name: String,
    /// The tensor's dimensions, e.g. `[8, 4]` for the weight of `Linear<4, 8>`.
    pub shape: Vec<usize>,
}

/// Lists a model's tensors, in dfdx's visiting order, without copying any data.
///
/// ```
/// use typenet::dfdx::prelude::*;
/// use typenet::train::tensor_specs;
/// let model = Cpu::default().build_module::<(Linear<4, 8>, ReLU, Linear<8, 3>), f32>();
/// let specs = tensor_specs(&model);
/// assert_eq!(specs[0].name, "0.weight");
/// assert_eq!(specs[0].shape, [8, 4]);
/// assert_eq!(specs.len(), 4);
/// ```
pub fn tensor_specs<M: TensorCollection<E, D>, E: Dtype, D: Device<E>>(
    model: &M,
) -> Vec<TensorSpec> {
    read(model)
        .tensors
        .into_iter()
        .map(|t| TensorSpec {
            name: t.name,
            shape: t.shape,
        })
        .collect()
}

/// One tensor copied to the host: its name, its dimensions and its values in row-major
/// order (the last dimension varies fastest), as [`param`] and [`gradient`] return it.
#[derive(Clone, Debug, PartialEq)]
pub struct HostTensor<E> {
    /// dfdx's path to the tensor, e.g. `3.weight`.
    pub name: String,
    /// The tensor's dimensions, e.g. `[8, 4]` for the weight of `Dense<8>` on 4 features.
    pub shape: Vec<usize>,
    /// The values, row-major; `shape.iter().product()` of them.
    pub values: Vec<E>,
}

/// Copies the tensor called `name` (as [`tensor_specs`] lists it, e.g. `3.weight`) out of
/// `model`.
///
/// A name the model lacks is [`TrainError::UnknownTensor`], which lists the model's names
/// closest to it.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::train::param;
/// let dev = Cpu::default();
/// let model = dev.build_module::<network![Input<4>, Dense<3>], f32>();
/// let weight = param(&model, "1.weight")?;
/// assert_eq!(weight.shape, [3, 4]);
/// let err = param(&model, "1.weigth").unwrap_err();
/// assert!(err.to_string().contains("did you mean `1.weight`"));
/// # Ok::<(), typenet::train::TrainError>(())
/// ```
pub fn param<M: TensorCollection<E, D>, E: Dtype, D: Device<E>>(
    model: &M,
    name: &str,
) -> Result<HostTensor<E>, TrainError> {
    look_up(model, name, None)
}

/// Copies the gradient of the tensor called `name` out of `grads`, the gradients of a
/// backward pass through `model`.
///
/// `grads` should come from `model.alloc_grads()` (as in dfdx's training loop), which
/// holds an entry for every trained tensor; a trained tensor that `grads` holds no entry
/// for (it took no part in the pass) reads as zeros, its gradient. A name the model lacks
/// is [`TrainError::UnknownTensor`]; a tensor that is not trained by gradients, such as a
/// batch norm's `running_mean`, is [`TrainError::NoGradient`].
///
/// ```
/// use typenet::prelude::*;
/// use typenet::train::gradient;
/// let dev = Cpu::default();
/// let model = dev.build_module::<network![Input<4>, Dense<3>], f32>();
/// let x: Tensor<Rank2<2, 4>, f32, _> = dev.sample_normal();
/// let grads = model.forward(x.trace(model.alloc_grads())).sum().backward();
/// let bias = gradient(&model, &grads, "1.bias")?;
/// // d(sum of outputs)/d(bias) is the batch size for every output.
/// assert_eq!(bias.values, [2.0, 2.0, 2.0]);
/// # Ok::<(), typenet::train::TrainError>(())
/// ```
pub fn gradient<M: TensorCollection<E, D>, E: Dtype, D: Device<E>>(
    model: &M,
    grads: &Gradients<E, D>,
    name: &str,
) -> Result<HostTensor<E>, TrainError> {
    look_up(model, name, Some(grads))
}

/// Walks `model` for the tensor called `name`: copies it out, or its gradient when `grads`
/// is given.
fn look_up<M: TensorCollection<E, D>, E: Dtype, D: Device<E>>(
    model: &M,
    name: &str,
    grads: Option<&Gradients<E, D>>,
) -> Result<HostTensor<E>, TrainError> {
    let mut finder = Finder {
        name,
        grads,
        names: Vec::new(),
        found: None,
    };
    visit_all::<M, E, D, _>((model, String::new()), &mut finder);
    finder.found.unwrap_or_else(|| {
        Err(TrainError::UnknownTensor {
            name: name.to_string(),
            close: closest(name, &finder.names),
            available: finder.names,
        })
    })
}

/// The names among `names` at the smallest edit distance from `name`, if that distance is
/// small enough for a typo (at most a third of the name's length, and at least 1).
fn closest(name: &str, names: &[String]) -> Vec<String> {
    let limit = (name.chars().count() / 3).max(1);
    let distances: Vec<usize> = names.iter().map(|n| strsim::levenshtein(name, n)).collect();
    let best = distances.iter().copied().min().unwrap_or(usize::MAX);
    if best > limit {
        return Vec::new();
    }
    names
        .iter()
        .zip(&distances)
        .filter(|(_, &d)| d == best)
        .map(|(n, _)| n.clone())
        .collect()
}

/// Every tensor and scalar (such as a batch norm's epsilon) of a model, on the host.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Snapshot<E> {
    pub tensors: Vec<HostTensor<E>>,
    pub scalars: Vec<(String, f64)>,
}

impl<E: Dtype> Snapshot<E> {
    /// The first tensor holding a NaN or an infinity, if any.
    pub fn first_non_finite(&self) -> Option<&str> {
        self.tensors
            .iter()
            .find(|t| {
                !t.values
                    .iter()
                    .all(|v| v.to_f64().is_some_and(f64::is_finite))
            })
            .map(|t| t.name.as_str())
    }
}

/// Copies every tensor and scalar of `model` to the host.
pub(crate) fn read<M: TensorCollection<E, D>, E: Dtype, D: Device<E>>(model: &M) -> Snapshot<E> {
    let mut reader = Reader(Snapshot {
        tensors: Vec::new(),
        scalars: Vec::new(),
    });
    visit_all::<M, E, D, _>((model, String::new()), &mut reader);
    reader.0
}

/// Copies the values of `snapshot` into the model's tensors and scalars of the same name.
/// Names the snapshot lacks are left as they are.
///
/// # Panics
/// If a tensor of the snapshot has another number of values than the model's tensor of
/// that name: callers check shapes first.
pub(crate) fn write<M: TensorCollection<E, D>, E: Dtype, D: Device<E>>(
    model: &mut M,
    snapshot: &Snapshot<E>,
) {
    let mut writer = Writer {
        tensors: snapshot
            .tensors
            .iter()
            .map(|t| (t.name.as_str(), t.values.as_slice()))
            .collect(),
        scalars: snapshot
            .scalars
            .iter()
            .map(|(name, v)| (name.as_str(), *v))
            .collect(),
    };
    visit_all::<M, E, D, _>((model, String::new()), &mut writer);
}

/// The device the model's first tensor lives on, or `None` for a model without tensors.
pub(crate) fn device<M: TensorCollection<E, D>, E: Dtype, D: Device<E>>(model: &M) -> Option<D> {
    let mut finder = DeviceFinder(None);
    visit_all::<M, E, D, _>(model, &mut finder);
    finder.0
}

/// Visits every tensor of the model that `view` shows with `visitor`, which cannot fail:
/// `view` is the model, or `(model, String::new())` for a visitor that reads names.
fn visit_all<'a, M, E, D, V>(view: <V::Viewer as TensorViewer>::View<'a, M>, visitor: &'a mut V)
where
    M: TensorCollection<E, D> + 'a,
    E: Dtype,
    D: Device<E>,
    V: TensorVisitor<E, D, Err = Never>,
{
    let walked = M::iter_tensors(&mut RecursiveWalker {
        m: view,
        f: visitor,
    });
    if let Err(never) = walked {
        match never {}
    }
}

/// A [`Chain`](crate::Chain) adds an empty part to the path (its layers name themselves), so
/// a network inside a named module would read `1..5.bias`; this makes it `1.5.bias`.
fn without_empty_parts(path: &str) -> String {
    path.split('.')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(".")
}

/// The error type of visitors that cannot fail.
enum Never {}

struct Reader<E>(Snapshot<E>);

impl<E: Dtype, D: Device<E>> TensorVisitor<E, D> for Reader<E> {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = Never;
    type E2 = E;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        _: TensorOptions<S, E, D>,
        (t, name): (&Tensor<S, E, D>, String),
    ) -> Result<Option<Tensor<S, E, D>>, Never> {
        self.0.tensors.push(HostTensor {
            name: without_empty_parts(&name),
            shape: t.shape().concrete().into(),
            values: t.as_vec(),
        });
        Ok(None)
    }

    fn visit_scalar<N: num_traits::NumCast>(
        &mut self,
        _: ScalarOptions<N>,
        (n, name): (&N, String),
    ) -> Result<Option<N>, Never> {
        if let Some(value) = n.to_f64() {
            self.0.scalars.push((without_empty_parts(&name), value));
        }
        Ok(None)
    }
}

/// Finds one tensor by name, noting every name it passes for the error if none matches.
struct Finder<'a, E: Dtype, D: Device<E>> {
    name: &'a str,
    grads: Option<&'a Gradients<E, D>>,
    names: Vec<String>,
    found: Option<Result<HostTensor<E>, TrainError>>,
}

impl<E: Dtype, D: Device<E>> TensorVisitor<E, D> for Finder<'_, E, D> {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = Never;
    type E2 = E;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        options: TensorOptions<S, E, D>,
        (t, name): (&Tensor<S, E, D>, String),
    ) -> Result<Option<Tensor<S, E, D>>, Never> {
        let name = without_empty_parts(&name);
        if self.found.is_none() && name == self.name {
            let host = |values: Vec<E>| HostTensor {
                name: name.clone(),
                shape: t.shape().concrete().into(),
                values,
            };
            self.found = Some(match self.grads {
                None => Ok(host(t.as_vec())),
                Some(_) if !options.do_gradient_update => Err(TrainError::NoGradient {
                    tensor: name.clone(),
                }),
                Some(grads) => {
                    // `Gradients::get` unwraps a missing entry; dfdx offers no checked read,
                    // so a copy gets a zero entry where there is none.
                    let mut grads = grads.clone();
                    grads
                        .try_alloc_for(t)
                        .map(|()| host(grads.get(t).as_vec()))
                        .map_err(TrainError::device)
                }
            });
        }
        self.names.push(name);
        Ok(None)
    }
}

struct Writer<'s, E> {
    tensors: HashMap<&'s str, &'s [E]>,
    scalars: HashMap<&'s str, f64>,
}

impl<E: Dtype, D: Device<E>> TensorVisitor<E, D> for Writer<'_, E> {
    type Viewer = (ViewTensorMut, ViewTensorName);
    type Err = Never;
    type E2 = E;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        _: TensorOptions<S, E, D>,
        (t, name): (&mut Tensor<S, E, D>, String),
    ) -> Result<Option<Tensor<S, E, D>>, Never> {
        if let Some(values) = self.tensors.get(without_empty_parts(&name).as_str()) {
            t.copy_from(values);
        }
        Ok(None)
    }

    fn visit_scalar<N: num_traits::NumCast>(
        &mut self,
        _: ScalarOptions<N>,
        (n, name): (&mut N, String),
    ) -> Result<Option<N>, Never> {
        if let Some(value) = self
            .scalars
            .get(without_empty_parts(&name).as_str())
            .and_then(|&v| N::from(v))
        {
            *n = value;
        }
        Ok(None)
    }
}

struct DeviceFinder<D>(Option<D>);

impl<E: Dtype, D: Device<E>> TensorVisitor<E, D> for DeviceFinder<D> {
    type Viewer = ViewTensorRef;
    type Err = Never;
    type E2 = E;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        _: TensorOptions<S, E, D>,
        t: &Tensor<S, E, D>,
    ) -> Result<Option<Tensor<S, E, D>>, Never> {
        self.0.get_or_insert_with(|| t.device().clone());
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::prelude::*;

    type Mlp = (Linear<2, 3>, ReLU, BatchNorm1D<3>);

    #[test]
    fn read_then_write_restores_every_tensor_and_scalar() {
        let dev = Cpu::seed_from_u64(0);
        let a = dev.build_module::<Mlp, f64>();
        let mut b = dev.build_module::<Mlp, f64>();
        b.2.epsilon = 0.5;
        assert_ne!(a.0.weight.array(), b.0.weight.array());
        let snapshot = read(&a);
        assert!(snapshot.scalars.iter().any(|(n, _)| n == "2.epsilon"));
        write(&mut b, &snapshot);
        assert_eq!(a.0.weight.array(), b.0.weight.array());
        assert_eq!(a.2.running_var.array(), b.2.running_var.array());
        assert_eq!(b.2.epsilon, a.2.epsilon);
        assert_eq!(read(&b), snapshot);
    }

    #[test]
    fn finds_the_first_non_finite_tensor() {
        let dev = Cpu::default();
        let mut model = dev.build_module::<Mlp, f32>();
        assert_eq!(read(&model).first_non_finite(), None);
        model.0.bias = dev.tensor([0.0, f32::NAN, 0.0]);
        assert_eq!(read(&model).first_non_finite(), Some("0.bias"));
        assert!(device(&model).is_some());
        assert!(device::<ReLU, f32, Cpu>(&ReLU).is_none());
    }
}
