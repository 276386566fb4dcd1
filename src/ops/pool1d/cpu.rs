//! The fast `Cpu` 1-D pooling: direct loops, parallel over the samples. Each window's
//! steps are rows of C channels that lie side by side, so the inner loop runs over the
//! channels. The max pool records each output's argmax step for the backward.

use super::PoolKind;
use crate::ops::cpu::{decide_freed_buffers, par_min_len, read, with_grads, CpuFloat};
use crate::ops::Window1D;
use dfdx::prelude::*;
use rayon::prelude::*;
use std::ops::Range;

#[allow(clippy::type_complexity)]
pub(super) fn try_pool1d<
    E: CpuFloat,
    B: Dim,
    T: Tape<E, Cpu>,
    const L: usize,
    const C: usize,
    const OL: usize,
>(
    x: Tensor<(B, Const<L>, Const<C>), E, Cpu, T>,
    kind: PoolKind,
    window: Window1D,
) -> Result<Tensor<(B, Const<OL>, Const<C>), E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    decide_freed_buffers();
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let batch = x.shape().0;
    let spans = window.spans(L, OL);
    let x_data = read(&x);
    let pool = Pool {
        kind,
        l: L,
        c: C,
        ol: OL,
        spans,
        min_len: par_min_len(OL * C * window.kernel),
    };
    let mut out = vec![E::zero(); batch.size() * OL * C];
    let argmax = pool.forward(&x_data, &mut out);
    drop(x_data);
    let out = x
        .device()
        .try_tensor_from_vec(out, (batch, Const::<OL>, Const::<C>))?;

    if T::OWNS_TAPE {
        let (out_id, x_id) = (out.clone(), x.clone());
        tape.add_backward_op(move |grads| {
            with_grads(grads, &out_id, &x_id, |g_out, g_x| {
                pool.backward(&argmax, g_out, g_x)
            })
        });
    }
    Ok(out.put_tape(tape))
}

/// One call's pooling, without the tensor types, so that the loops (and their rayon
/// closures) are compiled once per element type, not once per layer shape: samples of L
/// steps of C channels pooled to OL steps.
struct Pool {
    kind: PoolKind,
    l: usize,
    c: usize,
    ol: usize,
    /// The input steps of each output step.
    spans: Vec<Range<usize>>,
    /// Samples per rayon task, at least.
    min_len: usize,
}

impl Pool {
    /// Pools every sample of `x` into `out`; returns the argmax step of each output (b, o, c)
    /// within its sample (Max) or nothing (Avg).
    fn forward<E: CpuFloat>(&self, x: &[E], out: &mut [E]) -> Vec<u32> {
        let (l, c, ol, spans) = (self.l, self.c, self.ol, &self.spans);
        match self.kind {
            PoolKind::Max => {
                let mut argmax = vec![0u32; out.len()];
                out.par_chunks_mut(ol * c)
                    .zip(argmax.par_chunks_mut(ol * c))
                    .zip(x.par_chunks(l * c))
                    .with_min_len(self.min_len)
                    .for_each(|((out, argmax), x)| {
                        let rows = out.chunks_exact_mut(c).zip(argmax.chunks_exact_mut(c));
                        for ((out, argmax), span) in rows.zip(spans) {
                            out.copy_from_slice(&x[span.start * c..][..c]);
                            argmax.fill(span.start as u32);
                            for i in span.start + 1..span.end {
                                let row = &x[i * c..][..c];
                                for ((o, a), &v) in out.iter_mut().zip(argmax.iter_mut()).zip(row) {
                                    // Strictly greater: a tie keeps the first maximal step.
                                    if v > *o {
                                        *o = v;
                                        *a = i as u32;
                                    }
                                }
                            }
                        }
                    });
                argmax
            }
            PoolKind::Avg => {
                out.par_chunks_mut(ol * c)
                    .zip(x.par_chunks(l * c))
                    .with_min_len(self.min_len)
                    .for_each(|(out, x)| {
                        for (out, span) in out.chunks_exact_mut(c).zip(spans) {
                            for i in span.clone() {
                                out.iter_mut()
                                    .zip(&x[i * c..][..c])
                                    .for_each(|(o, &v)| *o += v);
                            }
                            let count = E::from_usize(span.len()).unwrap();
                            out.iter_mut().for_each(|o| *o /= count);
                        }
                    });
                Vec::new()
            }
        }
    }

    /// Adds dX into `g_x`, given dY and the forward pass's argmaxes (Max; empty for Avg).
    fn backward<E: CpuFloat>(&self, argmax: &[u32], g_out: &[E], g_x: &mut [E]) {
        let (l, c, ol) = (self.l, self.c, self.ol);
        let samples = g_x
            .par_chunks_mut(l * c)
            .zip(g_out.par_chunks(ol * c))
            .with_min_len(self.min_len);
        match self.kind {
            PoolKind::Max => {
                samples
                    .zip(argmax.par_chunks(ol * c))
                    .for_each(|((g_x, g_out), argmax)| {
                        for (c_of, (&g, &a)) in g_out.iter().zip(argmax).enumerate() {
                            g_x[a as usize * c + c_of % c] += g;
                        }
                    })
            }
            PoolKind::Avg => samples.for_each(|(g_x, g_out)| {
                for (g_out, span) in g_out.chunks_exact(c).zip(&self.spans) {
                    let count = E::from_usize(span.len()).unwrap();
                    for i in span.clone() {
                        g_x[i * c..][..c]
                            .iter_mut()
                            .zip(g_out)
                            .for_each(|(gx, &g)| *gx += g / count);
                    }
                }
            }),
        }
    }
}
