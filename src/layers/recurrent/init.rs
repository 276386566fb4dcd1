//! Keras's initialisers for recurrent weights, as dfdx reset functions.

use dfdx::prelude::*;
use num_traits::Float;
use rand::{rngs::StdRng, SeedableRng};
use rand_distr::{uniform::SampleUniform, Distribution, StandardNormal, Uniform};

/// Glorot-uniform for an input kernel `(G, U, F)`: Keras's kernel is `(F, G*U)`, so
/// `limit = sqrt(6 / (F + G*U))`.
pub(super) fn glorot_uniform<const G: usize, const U: usize, const F: usize, E, D>(
    t: &mut Tensor<Rank3<G, U, F>, E, D>,
) -> Result<(), D::Err>
where
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    let limit = E::from_f64((6.0 / (F + G * U) as f64).sqrt()).unwrap();
    t.try_fill_with_distr(Uniform::new_inclusive(-limit, limit))
}

/// Orthogonal for a recurrent kernel `(G, U, U)`, read as the `G*U x U` matrix PyTorch stores:
/// its `U` columns are orthonormal (Keras's `recurrent_kernel` `(U, G*U)` has orthonormal
/// rows). A Gaussian matrix orthonormalised by modified Gram-Schmidt, which is the Q of its QR
/// decomposition with a positive diagonal R, as Keras's `Orthogonal` makes it.
pub(super) fn orthogonal<const G: usize, const U: usize, E: Dtype, D: Device<E>>(
    t: &mut Tensor<Rank3<G, U, U>, E, D>,
) -> Result<(), D::Err> {
    let rows = G * U;
    let mut rng = StdRng::seed_from_u64(t.device().random_u64());
    // Column-major: column j is q[j * rows..(j + 1) * rows].
    let mut q: Vec<f64> = (0..rows * U)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    for j in 0..U {
        let (done, rest) = q.split_at_mut(j * rows);
        let col = &mut rest[..rows];
        for prev in done.chunks_exact(rows) {
            let dot: f64 = prev.iter().zip(col.iter()).map(|(a, b)| a * b).sum();
            col.iter_mut().zip(prev).for_each(|(c, p)| *c -= dot * p);
        }
        let norm = col.iter().map(|v| v * v).sum::<f64>().sqrt();
        col.iter_mut().for_each(|v| *v /= norm);
    }
    let row_major: Vec<E> = (0..rows * U)
        .map(|k| E::from_f64(q[(k % U) * rows + k / U]).unwrap())
        .collect();
    t.copy_from(&row_major);
    Ok(())
}

/// Zeros with the second gate block (the LSTM's forget gate) at 1: Keras's `unit_forget_bias`.
pub(super) fn unit_forget_bias<const G: usize, const U: usize, E: Dtype, D: Device<E>>(
    t: &mut Tensor<Rank2<G, U>, E, D>,
) -> Result<(), D::Err> {
    let bias: Vec<E> = (0..G * U)
        .map(|k| if k / U == 1 { E::ONE } else { E::default() })
        .collect();
    t.copy_from(&bias);
    Ok(())
}

/// Zeros.
pub(super) fn zeros<S: Shape, E: Dtype, D: Device<E>>(
    t: &mut Tensor<S, E, D>,
) -> Result<(), D::Err> {
    t.try_fill_with_zeros()
}
