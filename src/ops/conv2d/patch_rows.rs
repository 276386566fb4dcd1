//! A convolution's patches as rows, one per output position, and the backward through a
//! fused max pool that rows allow.
//!
//! A max pool passes each pooled output's gradient to one position of the convolution's
//! output, its argmax, so a 2x2 pool leaves three quarters of that output's gradient zero
//! (and a fused ReLU more). A backward on columns multiplies those zeros in its two gemms.
//! Here the backward visits only the positions that receive a gradient: for each,
//! `dW[f] += g * patch` and `dpatch += g * W[f]`, two runs over one row each.
//!
//! That needs a patch to be a row: `rows[(b, oy, ox), (ky, kx, c)]`, each image first turned
//! channels-last so that a tap's channels are one contiguous run to copy (a run of `KW * C`
//! where the taps of a row are contiguous, which is also what makes rows pay without a
//! pool: im2col on columns copies runs of the output's width). The weights are reordered to
//! `(F, KH, KW, C)` to match. Rows are padded to a multiple of [`LANES`], so that the runs
//! above are whole vector registers.
//!
//! The kernel keeps rows for inputs with channels enough, and makes rows of columns for the
//! pooled backward otherwise (`Layout` in `cpu.rs`).

use super::cpu::{copy_row, Geometry};
use crate::ops::cpu::{add, copy, sum, swap_axes, with_simd, CpuFloat, Scratch};
use crate::ops::pool2d::RELU_CUT;

/// Elements per block of a row: one AVX-512 register of `f32`.
pub(super) const LANES: usize = 16;

impl Geometry {
    /// Elements of a patch row: the patch's `C * KH * KW`, padded to a multiple of [`LANES`].
    /// The padding of the patch rows is never written: the gemm reads `C * KH * KW` of each,
    /// and the backward's runs over whole rows put what they read from it only into the
    /// padding of `dW` and of the rows' gradient, which nothing reads.
    pub(super) fn row_len(&self) -> usize {
        self.ckk().next_multiple_of(LANES)
    }
}

/// The weights `(F, C, KH, KW)` as patch rows: `(F, KH, KW, C)`, each row padded with zeros
/// to [`Geometry::row_len`].
pub(super) fn weights_as_rows<E: CpuFloat>(g: &Geometry, f: usize, weights: &[E]) -> Scratch<E> {
    let (ckk, row) = (g.ckk(), g.row_len());
    let mut rows = Scratch::for_overwriting(f * row);
    rows.fill(E::zero());
    for (filter, dst) in weights.chunks_exact(ckk).zip(rows.chunks_exact_mut(row)) {
        // (C, KH*KW) -> (KH*KW, C)
        swap_axes(filter, &mut dst[..ckk], g.c, 1, copy);
    }
    rows
}

/// Adds a weight gradient kept as patch rows (`(F, KH, KW, C)`, padded) into `g_weight`,
/// laid out `(F, C, KH, KW)`: the adjoint of [`weights_as_rows`].
pub(super) fn add_rows_to_weights<E: CpuFloat>(g: &Geometry, rows: &[E], g_weight: &mut [E]) {
    let (ckk, row, kk) = (g.ckk(), g.row_len(), g.window.taps());
    for (src, dst) in rows.chunks_exact(row).zip(g_weight.chunks_exact_mut(ckk)) {
        // (KH*KW, C) -> (C, KH*KW)
        swap_axes(&src[..ckk], dst, kk, 1, add);
    }
}

/// A group's patches as rows, `(G*OH*OW, row)` in [`im2row`]'s order `(ky, kx, c)`, from
/// the columns of a forward that kept columns, `(C*KH*KW, G*OH*OW)` in the order `(c, ky,
/// kx)` (the padding of the rows is not written: [`Geometry::row_len`]). Columns are kept
/// for inputs of few channels, whose patches are short: element by element.
pub(super) fn columns_to_rows<E: CpuFloat>(g: &Geometry, cols: &[E]) -> Scratch<E> {
    let (n, c, kk, ckk) = (g.n(), g.c, g.window.taps(), g.ckk());
    let mut rows = Scratch::for_overwriting(n * g.row_len());
    // The column-layout row that fills each element of a patch row.
    let from: Vec<usize> = (0..ckk).map(|e| (e % c * kk + e / c) * n).collect();
    for (p, row) in rows.chunks_exact_mut(g.row_len()).enumerate() {
        for (d, &from) in row.iter_mut().zip(&from) {
            *d = cols[from + p];
        }
    }
    rows
}

/// The adjoint of [`columns_to_rows`] without the padding: `cols` (`(C*KH*KW, G*OH*OW)`)
/// overwritten with the rows `drows` as columns.
pub(super) fn rows_to_columns<E: CpuFloat>(g: &Geometry, drows: &[E], cols: &mut [E]) {
    let (n, c, kk, row) = (g.n(), g.c, g.window.taps(), g.row_len());
    for (r, dst) in cols.chunks_exact_mut(n).enumerate() {
        let from = r % kk * c + r / kk;
        for (d, src) in dst.iter_mut().zip(drows.chunks_exact(row)) {
            *d = src[from];
        }
    }
}

/// `rows[(b, oy, ox), (ky, kx, c)] = x[b, c, oy*SH + ky*DH - pad_top, ox*SW + kx*DW -
/// pad_left]`, zero in the padding: every element of `rows` (one row per output position of
/// the images `x`) is written but a row's padding past `C * KH * KW`, which nothing reads
/// for a value that is kept (see [`Geometry::row_len`]).
pub(super) fn im2row<E: CpuFloat>(g: &Geometry, x: &[E], rows: &mut [E]) {
    let (c, row) = (g.c, g.row_len());
    let mut image = Scratch::for_overwriting(g.chw());
    for (x, rows) in x
        .chunks_exact(g.chw())
        .zip(rows.chunks_exact_mut(g.ohw() * row))
    {
        // (C, H*W) -> (H*W, C): a tap's channels become one run.
        swap_axes(x, &mut image, c, 1, copy);
        let image: &[E] = &image;
        with_simd(
            #[inline(always)]
            || {
                for_each_tap_row(g, rows, |dst, at| match at {
                    Some(at) => copy_row(dst, &image[at..at + dst.len()]),
                    None => dst.fill(E::zero()),
                })
            },
        )
    }
}

/// The adjoint of [`im2row`]: `g_x[b, c, y, x] += drows[(b, oy, ox), (ky, kx, c)]` over
/// every tap that read (y, x).
pub(super) fn row2im<E: CpuFloat>(g: &Geometry, drows: &mut [E], g_x: &mut [E]) {
    let (row, hw) = (g.row_len(), g.h * g.w);
    let mut image = Scratch::for_overwriting(g.chw());
    for (drows, g_x) in drows
        .chunks_exact_mut(g.ohw() * row)
        .zip(g_x.chunks_exact_mut(g.chw()))
    {
        image.fill(E::zero());
        let image: &mut [E] = &mut image;
        with_simd(
            #[inline(always)]
            || {
                for_each_tap_row(g, drows, |src, at| {
                    if let Some(at) = at {
                        let dst = &mut image[at..at + src.len()];
                        dst.iter_mut().zip(src.iter()).for_each(|(d, &s)| *d += s);
                    }
                })
            },
        );
        // (H*W, C) -> (C, H*W), added.
        swap_axes(image, g_x, hw, 1, add);
    }
}

/// Calls `visit(run, at)` for the runs of one image's patch rows (`rows`, one per output
/// position, each `row` long) and where each reads the channels-last image: `Some(offset)`
/// of the run's first element, or `None` where it falls in the padding. A run is a tap row's
/// `KW * C` elements, where its taps are contiguous in the image (no dilation, no padding
/// among them); else one tap's `C`.
#[inline(always)]
fn for_each_tap_row<E>(
    g: &Geometry,
    rows: &mut [E],
    mut visit: impl FnMut(&mut [E], Option<usize>),
) {
    let (c, row, w) = (g.c, g.row_len(), g.w);
    let (row_taps, col_taps) = g.axis_taps();
    let kw = col_taps.len();
    // The output columns whose taps are all inside the image, and read contiguous pixels.
    let whole = match g.window.cols.dilation {
        1 => col_taps.iter().fold(0..g.ow, |r, t| {
            r.start.max(t.valid.start)..r.end.min(t.valid.end)
        }),
        _ => 0..0,
    };
    for (o_y, rows) in rows.chunks_exact_mut(g.ow * row).enumerate() {
        for (o_x, dst) in rows.chunks_exact_mut(row).enumerate() {
            for (tap_row, dst) in row_taps.iter().zip(dst.chunks_exact_mut(kw * c)) {
                if !tap_row.valid.contains(&o_y) {
                    visit(dst, None);
                    continue;
                }
                let i_y = tap_row.input(o_y) * w;
                if whole.contains(&o_x) {
                    visit(dst, Some((i_y + col_taps[0].input(o_x)) * c));
                    continue;
                }
                for (tap, dst) in col_taps.iter().zip(dst.chunks_exact_mut(c)) {
                    let inside = tap.valid.contains(&o_x);
                    visit(dst, inside.then(|| (i_y + tap.input(o_x)) * c));
                }
            }
        }
    }
}

/// The backward of one group's convolution through its fused max pool, visiting only the
/// positions that receive a gradient: adds `dW` (as patch rows) into `dw`, `db` into `db`,
/// and returns `drows`, the gradient of the group's patch rows.
///
/// `g_out` and `argmax` are the group's pooled gradient and argmaxes, planes of `pooled`
/// per (image, filter); an argmax marked [`RELU_CUT`] (or none, a window all in padding)
/// passes nothing.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward_through_pool<E: CpuFloat>(
    g: &Geometry,
    weights: &[E],
    rows: &[E],
    g_out: &[E],
    argmax: &[u32],
    pooled: usize,
    dw: &mut [E],
    db: &mut [E],
) -> Scratch<E> {
    let (row, f) = (g.row_len(), db.len());
    let mut drows = Scratch::for_overwriting(rows.len());
    drows.fill(E::zero());
    with_simd(
        #[inline(always)]
        || {
            let passing = Passing::new(g, g_out, argmax, pooled, f);
            for (plane, (_, gs)) in passing.planes().enumerate() {
                db[plane % f] += sum(gs);
            }
            in_blocks(
                row,
                &mut Gather {
                    dw,
                    rows,
                    passing: &passing,
                },
            );
            in_blocks(
                row,
                &mut Scatter {
                    drows: &mut drows,
                    weights,
                    passing: &passing,
                },
            );
        },
    );
    drows
}

/// The pooled outputs of a group that pass a gradient, plane by plane: the offsets of the
/// patch rows of their argmaxes, and their gradients.
struct Passing<E> {
    at: Vec<usize>,
    gs: Vec<E>,
    /// Pooled outputs per plane (the room each plane has in `at` and `gs`).
    pooled: usize,
    /// Of which pass a gradient, per plane: at the front of the plane's room.
    counts: Vec<usize>,
    /// Filters: plane `p` is filter `p % filters`.
    filters: usize,
}

impl<E: CpuFloat> Passing<E> {
    #[inline(always)]
    fn new(g: &Geometry, g_out: &[E], argmax: &[u32], pooled: usize, filters: usize) -> Self {
        let (row, ohw) = (g.row_len(), g.ohw());
        let mut at = vec![0; g_out.len()];
        let mut gs = vec![E::zero(); g_out.len()];
        let counts = (g_out.chunks_exact(pooled).zip(argmax.chunks_exact(pooled)))
            .zip(at.chunks_exact_mut(pooled).zip(gs.chunks_exact_mut(pooled)))
            .enumerate()
            .map(|(plane, ((g_out, argmax), (at, gs)))| {
                let base = plane / filters * ohw;
                // Without a branch: each is written, and counted only if it passes (a
                // branch on the ReLU's cut mispredicts).
                let mut kept = 0;
                for (&a, &g) in argmax.iter().zip(g_out) {
                    at[kept] = base
                        .wrapping_add((a & !RELU_CUT) as usize)
                        .wrapping_mul(row);
                    gs[kept] = g;
                    kept += usize::from(a & RELU_CUT == 0);
                }
                kept
            })
            .collect();
        Self {
            at,
            gs,
            pooled,
            counts,
            filters,
        }
    }

    /// Each plane's passing outputs' offsets and gradients, in order.
    #[inline(always)]
    fn planes(&self) -> impl Iterator<Item = (&[usize], &[E])> {
        let rooms = self
            .at
            .chunks_exact(self.pooled)
            .zip(self.gs.chunks_exact(self.pooled));
        rooms
            .zip(&self.counts)
            .map(|((at, gs), &n)| (&at[..n], &gs[..n]))
    }
}

/// One of the two runs of the sparse backward, over a block of `N` columns of every patch
/// row at a time: the blocks of the rows stay in the first-level cache while every plane
/// visits them, and the block of the row a plane keeps fixed stays in registers.
trait RowBlocks {
    fn block<const N: usize>(&mut self, start: usize);
}

/// `dw[f] += sum_j gs[j] * rows[at[j]..][..row]` over the passing outputs of filter `f`'s
/// planes.
struct Gather<'a, E> {
    dw: &'a mut [E],
    rows: &'a [E],
    passing: &'a Passing<E>,
}

impl<E: CpuFloat> RowBlocks for Gather<'_, E> {
    #[inline(always)]
    fn block<const N: usize>(&mut self, start: usize) {
        let row = self.dw.len() / self.passing.filters;
        for (plane, (at, gs)) in self.passing.planes().enumerate() {
            let dw = &mut self.dw[(plane % self.passing.filters) * row + start..][..N];
            let mut sum = [E::zero(); N];
            sum.copy_from_slice(dw);
            for (&at, &g) in at.iter().zip(gs) {
                let patch = &self.rows[at + start..][..N];
                for (s, &x) in sum.iter_mut().zip(patch) {
                    *s = g.mul_add(x, *s);
                }
            }
            dw.copy_from_slice(&sum);
        }
    }
}

/// `drows[at[j]..][..row] += gs[j] * weights[f]` over the passing outputs of filter `f`'s
/// planes: the patches' gradient.
struct Scatter<'a, E> {
    drows: &'a mut [E],
    weights: &'a [E],
    passing: &'a Passing<E>,
}

impl<E: CpuFloat> RowBlocks for Scatter<'_, E> {
    #[inline(always)]
    fn block<const N: usize>(&mut self, start: usize) {
        let row = self.weights.len() / self.passing.filters;
        for (plane, (at, gs)) in self.passing.planes().enumerate() {
            let mut w = [E::zero(); N];
            w.copy_from_slice(&self.weights[(plane % self.passing.filters) * row + start..][..N]);
            for (&at, &g) in at.iter().zip(gs) {
                let dpatch = &mut self.drows[at + start..][..N];
                for (d, &w) in dpatch.iter_mut().zip(&w) {
                    *d = g.mul_add(w, *d);
                }
            }
        }
    }
}

/// Runs `op` over rows of `len` columns (a multiple of [`LANES`]) in blocks of 64, 32 and 16:
/// each block's size a constant, so that it stays in registers, and small enough that a
/// group's blocks of rows stay in the first-level cache (the seed CNN's second convolution:
/// 121 rows, 31 KB in blocks of 64).
#[inline(always)]
fn in_blocks(len: usize, op: &mut impl RowBlocks) {
    debug_assert_eq!(len % LANES, 0);
    let mut start = 0;
    while start < len {
        start += match len - start {
            64.. => {
                op.block::<64>(start);
                64
            }
            32.. => {
                op.block::<32>(start);
                32
            }
            _ => {
                op.block::<LANES>(start);
                LANES
            }
        };
    }
}
