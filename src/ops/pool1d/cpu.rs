//! The fast `Cpu` 1-D pooling: direct loops, parallel over the samples. Each window's
//! steps are rows of C channels that lie side by side, so the inner loop runs over the
//! channels. The max pool records each output's argmax step for the backward.

use super::PoolKind;
use crate::ops::cpu::{decide_freed_buffers, par_min_len, read, with_grads, CpuFloat};
use crate::ops::Window1D;
use dfdx::prelude::*;
use rayon::prelude::*;

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
    let n = batch.size();
    let min_len = par_min_len(OL * C * window.kernel);
    let mut out = vec![E::zero(); n * OL * C];
    // The argmax step of each output (b, o, c), within its sample; only for a max.
    let mut argmax = vec![0u32; if kind == PoolKind::Max { n * OL * C } else { 0 }];
    match kind {
        PoolKind::Max => out
            .par_chunks_mut(OL * C)
            .zip(argmax.par_chunks_mut(OL * C))
            .zip(x_data.par_chunks(L * C))
            .with_min_len(min_len)
            .for_each(|((out, argmax), x)| {
                let rows = out.chunks_exact_mut(C).zip(argmax.chunks_exact_mut(C));
                for ((out, argmax), span) in rows.zip(&spans) {
                    out.copy_from_slice(&x[span.start * C..][..C]);
                    argmax.fill(span.start as u32);
                    for i in span.start + 1..span.end {
                        let row = &x[i * C..][..C];
                        for ((o, a), &v) in out.iter_mut().zip(argmax.iter_mut()).zip(row) {
                            // Strictly greater: a tie keeps the first maximal step.
                            if v > *o {
                                *o = v;
                                *a = i as u32;
                            }
                        }
                    }
                }
            }),
        PoolKind::Avg => out
            .par_chunks_mut(OL * C)
            .zip(x_data.par_chunks(L * C))
            .with_min_len(min_len)
            .for_each(|(out, x)| {
                for (out, span) in out.chunks_exact_mut(C).zip(&spans) {
                    for i in span.clone() {
                        out.iter_mut()
                            .zip(&x[i * C..][..C])
                            .for_each(|(o, &v)| *o += v);
                    }
                    let count = E::from_usize(span.len()).unwrap();
                    out.iter_mut().for_each(|o| *o /= count);
                }
            }),
    }
    drop(x_data);
    let out = x
        .device()
        .try_tensor_from_vec(out, (batch, Const::<OL>, Const::<C>))?;

    if T::OWNS_TAPE {
        let (out_id, x_id) = (out.clone(), x.clone());
        tape.add_backward_op(move |grads| {
            with_grads(grads, &out_id, &x_id, |g_out, g_x| {
                let samples = g_x
                    .par_chunks_mut(L * C)
                    .zip(g_out.par_chunks(OL * C))
                    .with_min_len(min_len);
                match kind {
                    PoolKind::Max => {
                        samples
                            .zip(argmax.par_chunks(OL * C))
                            .for_each(|((g_x, g_out), argmax)| {
                                for (c_of, (&g, &a)) in g_out.iter().zip(argmax.iter()).enumerate()
                                {
                                    g_x[a as usize * C + c_of % C] += g;
                                }
                            })
                    }
                    PoolKind::Avg => samples.for_each(|(g_x, g_out)| {
                        for (g_out, span) in g_out.chunks_exact(C).zip(&spans) {
                            let count = E::from_usize(span.len()).unwrap();
                            for i in span.clone() {
                                g_x[i * C..][..C]
                                    .iter_mut()
                                    .zip(g_out)
                                    .for_each(|(gx, &g)| *gx += g / count);
                            }
                        }
                    }),
                }
            })
        });
    }
    Ok(out.put_tape(tape))
}
