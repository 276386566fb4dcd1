//! The fast `Cpu` ReLU: one parallel pass forward, one backward, reading the input kept
//! from forward (`x > 0` is where the gradient passes).

use super::{relu, relu_grad, relu_passes};
use crate::ops::cpu::{decide_freed_buffers, par_min_len, read, with_grads, CpuFloat};
use dfdx::prelude::*;
use rayon::prelude::*;

/// Elements per rayon task.
const CHUNK: usize = 1 << 14;

pub(super) fn try_relu<S: Shape, E: CpuFloat, T: Tape<E, Cpu>>(
    x: Tensor<S, E, Cpu, T>,
) -> Result<Tensor<S, E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    decide_freed_buffers();
    // The kernel indexes the storage as row-major: a permuted or broadcast input is made
    // contiguous first (free when it already is; otherwise dfdx's copy carries the gradient).
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let x_data = read(&x);
    let out = x
        .device()
        .try_tensor_from_vec(forward(&x_data), *x.shape())?;

    if T::OWNS_TAPE {
        let (out_id, x_id) = (out.clone(), x.clone());
        tape.add_backward_op(move |grads| {
            with_grads(grads, &out_id, &x_id, |g_out, g_x| {
                backward(&x_data, g_out, g_x)
            })
        });
    }
    Ok(out.put_tape(tape))
}

/// `max(x, 0)`; a NaN passes. (Slices, not tensors: compiled once per element type, not
/// once per shape.)
fn forward<E: CpuFloat>(x: &[E]) -> Vec<E> {
    // Collected, not zeroed and then written: this op is bound by memory traffic.
    x.par_iter().with_min_len(CHUNK).map(|&v| relu(v)).collect()
}

/// `g_x += g_out` where `x > 0`.
fn backward<E: CpuFloat>(x: &[E], g_out: &[E], g_x: &mut [E]) {
    g_x.par_chunks_mut(CHUNK)
        .zip(g_out.par_chunks(CHUNK))
        .zip(x.par_chunks(CHUNK))
        .with_min_len(par_min_len(CHUNK))
        .for_each(|((g_x, g_out), x)| {
            for ((gx, &g), &v) in g_x.iter_mut().zip(g_out).zip(x) {
                *gx += relu_grad(relu_passes(v), g);
            }
        })
}
