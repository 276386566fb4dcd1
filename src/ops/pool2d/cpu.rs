//! The fast `Cpu` pooling: direct loops, parallel over the (b, c) planes. The max pool
//! records each output's argmax (an index into its plane) for the backward.

use super::PoolKind;
use crate::ops::cpu::{decide_freed_buffers, par_min_len, read, with_grads, CpuFloat};
use crate::ops::Window2D;
use dfdx::prelude::*;
use rayon::prelude::*;
use std::ops::Range;

/// The argmax of a window with no real element (all padding): its gradient goes nowhere.
/// Argmaxes are plane offsets kept as u32, half the memory traffic of usize.
pub(crate) const NO_ARGMAX: u32 = u32::MAX;

/// Set on the argmax of a convolution's pooled output whose gradient its fused ReLU stops.
/// The index stays and the backward adds zero there: skipping those outputs was a branch
/// that mispredicted wherever the ReLU cut (a fifth of the seed CNN's first convolution's
/// backward), and sending them all to one index would chain each addition to the one
/// before. Planes are therefore under 2^31 elements.
pub(crate) const RELU_CUT: u32 = 1 << 31;

/// Panics unless an `h x w` plane's offsets fit the argmaxes, below [`RELU_CUT`].
pub(crate) fn assert_argmaxes_fit(h: usize, w: usize) {
    assert!(
        h * w < RELU_CUT as usize,
        "a {h}x{w} plane is too large for the max pool's argmaxes"
    );
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
    decide_freed_buffers();
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let batch = x.shape().0;
    let ohw = OH * OW;
    let x_data = read(&x);
    let planes = batch.size() * C;
    let sizes = Planes {
        h: H,
        w: W,
        oh: OH,
        ow: OW,
    };
    assert_argmaxes_fit(H, W);
    let pool = Pool::new(kind, window, sizes);
    let mut out = vec![E::zero(); planes * ohw];
    let argmax = pool.forward(&x_data, &mut out, T::OWNS_TAPE);
    drop(x_data);
    let out = x
        .device()
        .try_tensor_from_vec(out, (batch, Const::<C>, Const::<OH>, Const::<OW>))?;

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
/// closures) are compiled once per element type, not once per layer shape. A convolution
/// that pools its own output ([`conv2d`](crate::ops::conv2d)) runs it plane by plane.
pub(crate) struct Pool {
    kind: PoolKind,
    window: Window2D,
    sizes: Planes,
    /// Each output row's input rows.
    rows: Vec<Range<usize>>,
    /// Each output column's input columns.
    cols: Vec<Range<usize>>,
}

impl Pool {
    pub(crate) fn new(kind: PoolKind, window: Window2D, sizes: Planes) -> Self {
        Self {
            kind,
            window,
            sizes,
            rows: window.rows.spans(sizes.h, sizes.oh),
            cols: window.cols.spans(sizes.w, sizes.ow),
        }
    }

    /// The sizes of an input plane and of its pooled plane.
    pub(crate) fn sizes(&self) -> Planes {
        self.sizes
    }

    /// Max-pools one plane into `out`, with each output's argmax where `argmax` is given
    /// (see [`max_plane`]). Without one, nothing will run the backward, and the loops
    /// compare values only.
    pub(crate) fn max_plane<E: CpuFloat>(
        &self,
        x: &[E],
        out: &mut [E],
        argmax: Option<&mut [u32]>,
    ) {
        let (p, window, spans) = (self.sizes, &self.window, (&self.rows[..], &self.cols[..]));
        match argmax {
            Some(argmax) => max_plane::<E, true>(x, p, window, spans, out, argmax),
            None => max_plane::<E, false>(x, p, window, spans, out, &mut []),
        }
    }

    /// Pools every (b, c) plane of `x` into `out`; returns the argmaxes (Max, when `taped`)
    /// or nothing.
    fn forward<E: CpuFloat>(&self, x: &[E], out: &mut [E], taped: bool) -> Vec<u32> {
        let Planes { h, w, oh, ow } = self.sizes;
        let (hw, ohw) = (h * w, oh * ow);
        let min_len = par_min_len(hw);
        let (rows, cols) = (&self.rows, &self.cols);
        // Max: the argmax of each output; Avg: nothing to remember.
        match self.kind {
            PoolKind::Max if taped => {
                let mut argmax = vec![NO_ARGMAX; out.len()];
                out.par_chunks_mut(ohw)
                    .zip(argmax.par_chunks_mut(ohw))
                    .zip(x.par_chunks(hw))
                    .with_min_len(min_len)
                    .for_each(|((out, argmax), x)| self.max_plane(x, out, Some(argmax)));
                argmax
            }
            PoolKind::Max => {
                out.par_chunks_mut(ohw)
                    .zip(x.par_chunks(hw))
                    .with_min_len(min_len)
                    .for_each(|(out, x)| self.max_plane(x, out, None));
                Vec::new()
            }
            PoolKind::Avg => {
                out.par_chunks_mut(ohw)
                    .zip(x.par_chunks(hw))
                    .with_min_len(min_len)
                    .for_each(|(out, x)| avg_plane(x, w, rows, cols, out));
                Vec::new()
            }
        }
    }

    /// Adds dX into `g_x`, given dY and the forward pass's argmaxes (Max; empty for Avg).
    fn backward<E: CpuFloat>(&self, argmax: &[u32], g_out: &[E], g_x: &mut [E]) {
        let Planes { h, w, oh, ow } = self.sizes;
        let (hw, ohw) = (h * w, oh * ow);
        let planes = g_x
            .par_chunks_mut(hw)
            .zip(g_out.par_chunks(ohw))
            .with_min_len(par_min_len(hw));
        match self.kind {
            PoolKind::Max => planes
                .zip(argmax.par_chunks(ohw))
                .for_each(|((g_x, g_out), argmax)| unpool_max_plane(argmax, g_out, g_x)),
            PoolKind::Avg => planes.for_each(|(g_x, g_out)| {
                for (&g, (ry, rx)) in g_out.iter().zip(windows(&self.rows, &self.cols)) {
                    let share = g / count(ry, rx);
                    for y in ry.clone() {
                        for gx in &mut g_x[y * w..][rx.clone()] {
                            *gx += share;
                        }
                    }
                }
            }),
        }
    }
}

/// Adds each output's gradient `g_out` of one plane to the input gradient `g_x` at its
/// argmax: the backward of [`Pool::max_plane`]. An argmax marked [`RELU_CUT`] adds zero.
pub(crate) fn unpool_max_plane<E: CpuFloat>(argmax: &[u32], g_out: &[E], g_x: &mut [E]) {
    // Blocks of a fixed size: the gradients the ReLU cut are zeroed first, in a loop that
    // vectorises (as a select in the adding loop, the compiler made it a branch).
    const BLOCK: usize = 16;
    for (g_out, argmax) in g_out.chunks(BLOCK).zip(argmax.chunks(BLOCK)) {
        let mut kept = [E::zero(); BLOCK];
        for ((k, &g), &a) in kept.iter_mut().zip(g_out).zip(argmax) {
            *k = if a & RELU_CUT == 0 { g } else { E::zero() };
        }
        for (&g, &a) in kept.iter().zip(argmax) {
            // A window all in padding: rare, so the branch predicts.
            if a != NO_ARGMAX {
                g_x[(a & !RELU_CUT) as usize] += g;
            }
        }
    }
}

/// The sizes of one input plane and of its pooled plane: (h, w) and (oh, ow).
#[derive(Clone, Copy)]
pub(crate) struct Planes {
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) oh: usize,
    pub(crate) ow: usize,
}

/// Max-pools one input plane into `out`, recording (when `ARGMAX`; `argmax` is otherwise
/// not touched) each output's argmax: the first maximal element of its window in row-major
/// order, or its last NaN, as PyTorch's CPU kernel does (`val > maxval || isnan(val)`).
fn max_plane<E: CpuFloat, const ARGMAX: bool>(
    x: &[E],
    p: Planes,
    window: &Window2D,
    (rows, cols): (&[Range<usize>], &[Range<usize>]),
    out: &mut [E],
    argmax: &mut [u32],
) {
    // Non-overlapping square windows that all lie inside the input (no padding before or
    // after).
    let Window2D { rows: r, cols: c } = *window;
    let k = r.kernel;
    let tiled = c.kernel == k
        && r.stride == k
        && c.stride == k
        && r.pad == 0
        && c.pad == 0
        && p.oh * k <= p.h
        && p.ow * k <= p.w;
    let fast = tiled && matches!(k, 2 | 3);
    match k {
        2 if fast => max_plane_tiled::<E, 2, ARGMAX>(x, p, out, argmax),
        3 if fast => max_plane_tiled::<E, 3, ARGMAX>(x, p, out, argmax),
        _ => {}
    }
    // The fast loop cannot see NaNs (`v > best` is false for them); planes holding one are
    // rare, and redone one window at a time, as is every other window geometry.
    if !fast || x.iter().fold(false, |nan, v| nan | v.is_nan()) {
        max_plane_exact::<E, ARGMAX>(x, p.w, rows, cols, out, argmax);
    }
}

/// The max pool of a plane without NaNs in `K x K` tiles (stride `K`, no padding: Keras's
/// default, on an input not padded after). A row of outputs goes [`BLOCK`] at a time, the
/// last block overlapping the one before when the row is not a multiple of it (its outputs
/// are written twice, with the same values); rows shorter than a block go one window at a
/// time, where the argmax is selected with a mask, not a bool: a bool becomes a branch,
/// which mispredicts half the time on real data.
fn max_plane_tiled<E: CpuFloat, const K: usize, const ARGMAX: bool>(
    x: &[E],
    p: Planes,
    out: &mut [E],
    argmax: &mut [u32],
) {
    for (oy, out) in out.chunks_exact_mut(p.ow).enumerate() {
        let row = oy * K * p.w;
        let argmax = match ARGMAX {
            true => &mut argmax[oy * p.ow..][..p.ow],
            false => &mut [][..],
        };
        if p.ow < BLOCK {
            for (ox, o) in out.iter_mut().enumerate() {
                let first = row + ox * K;
                let window = &x[first..][..(K - 1) * p.w + K];
                let (mut best, mut arg) = (window[0], 0u32);
                for ky in 0..K {
                    for kx in 0..K {
                        let i = ky * p.w + kx;
                        let v = window[i];
                        let take = ((v > best) as u32).wrapping_neg();
                        best = if v > best { v } else { best };
                        arg = (i as u32 & take) | (arg & !take);
                    }
                }
                *o = best;
                if ARGMAX {
                    argmax[ox] = first as u32 + arg;
                }
            }
            continue;
        }
        for block in (0..p.ow).step_by(BLOCK) {
            let ox = block.min(p.ow - BLOCK);
            let (best, arg) = max_block::<E, K>(x, p.w, row + ox * K);
            out[ox..][..BLOCK].copy_from_slice(&best);
            if ARGMAX {
                argmax[ox..][..BLOCK].copy_from_slice(&arg);
            }
        }
    }
}

/// Outputs per block of [`max_plane_tiled`]: a fixed count, so that the loop over them has a
/// known length and vectorises, where rows of 13 outputs (the seed CNN's first pooling) left
/// a loop over the row mostly to its scalar tail.
const BLOCK: usize = 8;

/// The `BLOCK` windows of `K x K` side by side whose first tap is `x[first]`, in rows `w`
/// apart: row by row, each window's first maximum within the row, kept where it is strictly
/// greater than the rows above gave; together, the first maximum in row-major order.
/// Returns the maxima and their argmaxes (which a caller that drops them does not compute:
/// the function is inlined).
#[inline(always)]
fn max_block<E: CpuFloat, const K: usize>(
    x: &[E],
    w: usize,
    first: usize,
) -> ([E; BLOCK], [u32; BLOCK]) {
    let (mut best, mut arg) = ([E::zero(); BLOCK], [0u32; BLOCK]);
    for ky in 0..K {
        let start = first + ky * w;
        let taps = &x[start..][..BLOCK * K];
        for j in 0..BLOCK {
            let (mut v, mut a) = (taps[j * K], 0);
            for kx in 1..K {
                let t = taps[j * K + kx];
                (v, a) = if t > v { (t, kx) } else { (v, a) };
            }
            let a = (start + j * K + a) as u32;
            (best[j], arg[j]) = if ky == 0 || v > best[j] {
                (v, a)
            } else {
                (best[j], arg[j])
            };
        }
    }
    (best, arg)
}

/// The max pool of any plane, one window at a time with branches: padded or overlapping
/// windows, and the rare planes [`max_plane_tiled`] cannot finish.
fn max_plane_exact<E: CpuFloat, const ARGMAX: bool>(
    x: &[E],
    w: usize,
    rows: &[Range<usize>],
    cols: &[Range<usize>],
    out: &mut [E],
    argmax: &mut [u32],
) {
    for (at, (o, (ry, rx))) in out.iter_mut().zip(windows(rows, cols)).enumerate() {
        let (mut best, mut arg) = (E::neg_infinity(), NO_ARGMAX);
        for y in ry.clone() {
            for (i, &v) in x[y * w..][rx.clone()].iter().enumerate() {
                if arg == NO_ARGMAX || v > best || v.is_nan() {
                    (best, arg) = (v, (y * w + rx.start + i) as u32);
                }
            }
        }
        *o = best;
        if ARGMAX {
            argmax[at] = arg;
        }
    }
}

/// Average-pools one plane of width `w` into `out`, row by row as [`max_plane`]; padding
/// does not count in the divisor (PyTorch's `count_include_pad=False`, Keras's behaviour).
fn avg_plane<E: CpuFloat>(
    x: &[E],
    w: usize,
    rows: &[Range<usize>],
    cols: &[Range<usize>],
    out: &mut [E],
) {
    let ow = cols.len();
    out.fill(E::zero());
    for (sum, ry) in out.chunks_exact_mut(ow).zip(rows) {
        for y in ry.clone() {
            let x_row = &x[y * w..][..w];
            for (s, rx) in sum.iter_mut().zip(cols) {
                *s = x_row[rx.clone()].iter().fold(*s, |acc, &v| acc + v);
            }
        }
        for (s, rx) in sum.iter_mut().zip(cols) {
            *s /= count(ry, rx);
        }
    }
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
