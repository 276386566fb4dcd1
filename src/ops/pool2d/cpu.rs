//! The fast `Cpu` pooling: direct loops, parallel over the (b, c) planes. The max pool
//! records each output's argmax (an index into its plane) for the backward.

use super::PoolKind;
use crate::ops::cpu::{par_min_len, read, taps_inside, with_grads, CpuFloat};
use crate::ops::Window2D;
use dfdx::prelude::*;
use rayon::prelude::*;
use std::ops::Range;

/// The argmax of a window with no real element (all padding): its gradient goes nowhere.
/// Argmaxes are plane offsets kept as u32, half the memory traffic of usize.
const NO_ARGMAX: u32 = u32::MAX;

/// For each output position along one axis, the input positions its window covers,
/// clipped to the input.
fn spans(input: usize, out: usize, window: &Window2D, pad: usize) -> Vec<Range<usize>> {
    let Window2D { kernel, stride, .. } = *window;
    (0..out)
        .map(|o| {
            // Tap k of window o reads input o*stride + k - pad, inside for k in `taps`.
            let taps = taps_inside(o, input, kernel, stride, 1, pad);
            if taps.is_empty() {
                return 0..0;
            }
            let start = o * stride + taps.start - pad;
            start..start + taps.len()
        })
        .collect()
}

#[allow(clippy::type_complexity)]
pub(super) fn try_pool2d<
    E: CpuFloat,
    B: Dim,
    T: Tape<E, Cpu>,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>(
    x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Cpu, T>,
    kind: PoolKind,
    window: Window2D,
) -> Result<Tensor<(B, Const<C>, Const<OH>, Const<OW>), E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let batch = x.shape().0;
    let (hw, ohw) = (H * W, OH * OW);
    let rows = spans(H, OH, &window, window.pad_top);
    let cols = spans(W, OW, &window, window.pad_left);
    let x_data = read(&x);
    let planes = batch.size() * C;
    let mut out = vec![E::zero(); planes * ohw];
    let min_len = par_min_len(hw);
    assert!(
        hw < NO_ARGMAX as usize,
        "a {H}x{W} plane is too large for u32 argmaxes"
    );

    // Max: the argmax of each output; Avg: nothing to remember.
    let argmax = match kind {
        PoolKind::Max => {
            let mut argmax = vec![NO_ARGMAX; planes * ohw];
            out.par_chunks_mut(ohw)
                .zip(argmax.par_chunks_mut(ohw))
                .zip(x_data.par_chunks(hw))
                .with_min_len(min_len)
                .for_each(|((out, argmax), x)| {
                    let outputs = out.iter_mut().zip(argmax.iter_mut());
                    for ((o, a), (ry, rx)) in outputs.zip(windows(&rows, &cols)) {
                        let (mut best, mut arg) = (E::neg_infinity(), NO_ARGMAX);
                        for y in ry.clone() {
                            for (x, &v) in x[y * W..][rx.clone()].iter().enumerate() {
                                // The first maximum wins; a NaN propagates (as in PyTorch).
                                if arg == NO_ARGMAX || v > best || v.is_nan() {
                                    (best, arg) = (v, (y * W + rx.start + x) as u32);
                                }
                            }
                        }
                        (*o, *a) = (best, arg);
                    }
                });
            argmax
        }
        PoolKind::Avg => {
            out.par_chunks_mut(ohw)
                .zip(x_data.par_chunks(hw))
                .with_min_len(min_len)
                .for_each(|(out, x)| {
                    for (o, (ry, rx)) in out.iter_mut().zip(windows(&rows, &cols)) {
                        let mut sum = E::zero();
                        for y in ry.clone() {
                            sum = x[y * W..][rx.clone()].iter().fold(sum, |acc, &v| acc + v);
                        }
                        *o = sum / count(ry, rx);
                    }
                });
            Vec::new()
        }
    };
    drop(x_data);
    let out = x
        .device()
        .try_tensor_from_vec(out, (batch, Const::<C>, Const::<OH>, Const::<OW>))?;

    if T::OWNS_TAPE {
        let (out_id, x_id) = (out.clone(), x.clone());
        tape.add_backward_op(move |grads| {
            with_grads(grads, &out_id, &x_id, |g_out, g_x| {
                let planes = g_x
                    .par_chunks_mut(hw)
                    .zip(g_out.par_chunks(ohw))
                    .with_min_len(min_len);
                match kind {
                    PoolKind::Max => {
                        planes
                            .zip(argmax.par_chunks(ohw))
                            .for_each(|((g_x, g_out), argmax)| {
                                for (&g, &a) in g_out.iter().zip(argmax) {
                                    if a != NO_ARGMAX {
                                        g_x[a as usize] += g;
                                    }
                                }
                            })
                    }
                    PoolKind::Avg => planes.for_each(|(g_x, g_out)| {
                        for (&g, (ry, rx)) in g_out.iter().zip(windows(&rows, &cols)) {
                            let share = g / count(ry, rx);
                            for y in ry.clone() {
                                for gx in &mut g_x[y * W..][rx.clone()] {
                                    *gx += share;
                                }
                            }
                        }
                    }),
                }
            })
        });
    }
    Ok(out.put_tape(tape))
}

/// The windows of one plane in output order: (input rows, input columns) of each.
fn windows<'a>(
    rows: &'a [Range<usize>],
    cols: &'a [Range<usize>],
) -> impl Iterator<Item = (&'a Range<usize>, &'a Range<usize>)> {
    rows.iter()
        .flat_map(move |ry| cols.iter().map(move |rx| (ry, rx)))
}

/// The number of real elements in a window, as the divisor of an average.
fn count<E: CpuFloat>(ry: &Range<usize>, rx: &Range<usize>) -> E {
    E::from_usize(ry.len() * rx.len()).unwrap_or_else(E::one)
}
