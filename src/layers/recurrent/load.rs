//! Loading recurrent weights saved by PyTorch or Keras.
//!
//! typenet stores PyTorch's layout: `w_ih` is `weight_ih` `(G*U, F)`, `w_hh` is `weight_hh`
//! `(G*U, U)`, gate blocks in PyTorch's order. Keras stores the transposes, `kernel` `(F, G*U)`
//! and `recurrent_kernel` `(U, G*U)`, with its own gate order; `KerasGates` says where each of
//! ours sits in Keras's.

use dfdx::prelude::*;

/// A weight array of the wrong length.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what}: expected {expected} values, found {found}")]
pub struct ShapeError {
    pub what: &'static str,
    pub expected: usize,
    pub found: usize,
}

pub(super) fn check_len<E>(
    what: &'static str,
    values: &[E],
    expected: usize,
) -> Result<(), ShapeError> {
    if values.len() == expected {
        Ok(())
    } else {
        Err(ShapeError {
            what,
            expected,
            found: values.len(),
        })
    }
}

/// Copies `values` (row-major, already checked to fit) into `t`.
pub(super) fn copy<S: Shape, E: Dtype, D: Device<E>>(t: &mut Tensor<S, E, D>, values: &[E]) {
    t.copy_from(values);
}

/// `a + b`, elementwise (PyTorch's two biases where typenet keeps one).
pub(crate) fn sum<E: Dtype>(a: &[E], b: &[E]) -> Vec<E> {
    a.iter().zip(b).map(|(x, y)| *x + *y).collect()
}

/// A Keras matrix `(n, G*U)` with gate blocks in Keras's order, as typenet's `(G*U, n)` with
/// ours: our gate `g` is Keras's gate `keras_gate[g]`.
pub(super) fn from_keras_matrix<E: Dtype>(
    m: &[E],
    n: usize,
    units: usize,
    keras_gate: &[usize],
) -> Vec<E> {
    let gu = keras_gate.len() * units;
    let mut out = Vec::with_capacity(gu * n);
    for &kg in keras_gate {
        for u in 0..units {
            out.extend((0..n).map(|k| m[k * gu + kg * units + u]));
        }
    }
    out
}

/// A Keras bias vector `(G*U)` in Keras's gate order, in ours.
pub(super) fn from_keras_vector<E: Dtype>(v: &[E], units: usize, keras_gate: &[usize]) -> Vec<E> {
    keras_gate
        .iter()
        .flat_map(|&kg| v[kg * units..(kg + 1) * units].iter().copied())
        .collect()
}
