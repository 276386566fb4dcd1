//! The fast `Cpu` convolution: im2col + gemm.
//!
//! Forward: `cols` (C*K*K, B*OH*OW) gathers every window tap of every image, one threaded
//! gemm `W (F x CKK) x cols` gives (F, B*OH*OW), and one pass lays it out as (B, F, OH, OW)
//! adding the bias. The backward closure owns `cols` and the weight's values:
//! `dW += (cols x dY^T)^T`, `db += row sums of dY`, then `dcols = W^T x dY` reuses the
//! `cols` buffer and col2im adds it into dX. The copy loops run on rayon over the cores.

use crate::ops::cpu::{
    keep_freed_buffers, matmul, num_threads, par_min_len, read, tap_range, with_grads, CpuFloat,
    Mat,
};
use crate::ops::Window2D;
use dfdx::prelude::*;
use rayon::prelude::*;

/// Products below this many multiply-adds run their gemm on the calling thread: waking the
/// pool costs more than it saves (e.g. a batch-1 inference).
const PAR_GEMM_MACS: usize = 1 << 20;

fn gemm_threads(m: usize, k: usize, n: usize) -> usize {
    if m * k * n < PAR_GEMM_MACS {
        1
    } else {
        num_threads()
    }
}

/// Every size the loops need, resolved once per call.
#[derive(Clone, Copy)]
struct Geometry {
    batch: usize,
    c: usize,
    h: usize,
    w: usize,
    k: usize,
    oh: usize,
    ow: usize,
    window: Window2D,
}

impl Geometry {
    /// Rows of `cols`: one per (channel, tap row, tap column).
    fn ckk(&self) -> usize {
        self.c * self.k * self.k
    }
    fn ohw(&self) -> usize {
        self.oh * self.ow
    }
    /// Columns of `cols`: one per (image, output row, output column).
    fn n(&self) -> usize {
        self.batch * self.ohw()
    }
    /// For row `r` of `cols`: its channel, and the outputs that read inside the input along
    /// each axis together with the offset (tap x dilation) of that tap.
    fn row_taps(&self, r: usize) -> (usize, Tap, Tap) {
        let Window2D {
            stride,
            dilation,
            pad_top,
            pad_left,
            ..
        } = self.window;
        let (c, ki, kj) = (r / (self.k * self.k), (r / self.k) % self.k, r % self.k);
        let rows = Tap::new(self.h, self.oh, stride, ki * dilation, pad_top);
        let cols = Tap::new(self.w, self.ow, stride, kj * dilation, pad_left);
        (c, rows, cols)
    }
}

/// One kernel tap along one axis: outputs `valid` read input `o * stride + offset - pad`.
#[derive(Clone)]
struct Tap {
    valid: std::ops::Range<usize>,
    stride: usize,
    /// `offset - pad`, added to `o * stride` (never negative for `o` in `valid`).
    shift: isize,
}

impl Tap {
    fn new(input: usize, out: usize, stride: usize, offset: usize, pad: usize) -> Self {
        let valid = tap_range(input, out, stride, offset, pad);
        Self {
            valid,
            stride,
            shift: offset as isize - pad as isize,
        }
    }
    #[inline]
    fn input(&self, o: usize) -> usize {
        (o * self.stride).wrapping_add_signed(self.shift)
    }
}

#[allow(clippy::type_complexity)]
pub(super) fn try_conv2d<
    E: CpuFloat,
    B: Dim,
    T: Tape<E, Cpu>,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const K: usize,
    const OH: usize,
    const OW: usize,
>(
    x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Cpu, T>,
    weight: &Tensor<Rank4<F, C, K, K>, E, Cpu>,
    bias: &Tensor<Rank1<F>, E, Cpu>,
    window: Window2D,
) -> Result<Tensor<(B, Const<F>, Const<OH>, Const<OW>), E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    keep_freed_buffers();
    // The kernels index the storage as row-major: a permuted input is made contiguous
    // first (free when it already is; otherwise dfdx's copy carries the gradient back).
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let batch = x.shape().0;
    let g = Geometry {
        batch: batch.size(),
        c: C,
        h: H,
        w: W,
        k: K,
        oh: OH,
        ow: OW,
        window,
    };
    let (ckk, n, ohw) = (g.ckk(), g.n(), g.ohw());

    let weights = read(weight);
    // read() copies the storage as it lies; parameters are contiguous, and this kernel
    // relies on it for the weight and bias (and their gradients).
    debug_assert!(
        same_order(&weights, &weight.as_vec()),
        "conv2d: the weight must be contiguous"
    );
    let cols = {
        let x_data = read(&x);
        let mut cols = vec![E::zero(); ckk * n];
        im2col(&g, &x_data, &mut cols);
        cols
    };
    let mut y = vec![E::zero(); F * n];
    matmul(
        &mut y,
        Mat::new(&weights, F, ckk),
        Mat::new(&cols, ckk, n),
        false,
        gemm_threads(F, ckk, n),
    );

    // (F, B, OH*OW) -> (B, F, OH*OW), adding the bias.
    let bias_data = read(bias);
    debug_assert!(
        same_order(&bias_data, &bias.as_vec()),
        "conv2d: the bias must be contiguous"
    );
    let mut out = vec![E::zero(); g.batch * F * ohw];
    out.par_chunks_mut(ohw)
        .with_min_len(par_min_len(ohw))
        .enumerate()
        .for_each(|(plane, dst)| {
            let (b, f) = (plane / F, plane % F);
            let src = &y[f * n + b * ohw..][..ohw];
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = s + bias_data[f];
            }
        });
    drop(y);
    let out = x
        .device()
        .try_tensor_from_vec(out, (batch, Const::<F>, Const::<OH>, Const::<OW>))?;

    if T::OWNS_TAPE {
        // Tape-less clones: they only name the gradients (and share storage, so cost nothing).
        let (out_id, x_id, w_id, b_id) = (out.clone(), x.clone(), weight.clone(), bias.clone());
        tape.add_backward_op(move |grads| {
            // dY as (F, B*OH*OW), the layout of y; db is its row sums.
            let dy = with_grads(grads, &out_id, &b_id, |g_out, g_bias| {
                let mut dy = vec![E::zero(); F * n];
                let sums: Vec<E> = dy
                    .par_chunks_mut(n)
                    .with_min_len(par_min_len(n))
                    .enumerate()
                    .map(|(f, row)| {
                        let mut sum = E::zero();
                        for (b, dst) in row.chunks_exact_mut(ohw).enumerate() {
                            dst.copy_from_slice(&g_out[(b * F + f) * ohw..][..ohw]);
                            sum = dst.iter().fold(sum, |acc, &v| acc + v);
                        }
                        sum
                    })
                    .collect();
                for (gb, s) in g_bias.iter_mut().zip(sums) {
                    *gb += s;
                }
                dy
            })?;

            // dW^T = cols x dY^T (CKK x F): gemm splits this orientation across the cores
            // far better than dY x cols^T, whose long inner dimension it cannot divide.
            let mut dw_t = vec![E::zero(); ckk * F];
            matmul(
                &mut dw_t,
                Mat::new(&cols, ckk, n),
                Mat::new(&dy, F, n).t(),
                false,
                gemm_threads(ckk, n, F),
            );
            with_grads(grads, &out_id, &w_id, |_, g_weight| {
                for (f, g_row) in g_weight.chunks_exact_mut(ckk).enumerate() {
                    for (r, gw) in g_row.iter_mut().enumerate() {
                        *gw += dw_t[r * F + f];
                    }
                }
            })?;

            // dcols = W^T x dY overwrites cols, which is no longer needed.
            let mut dcols = cols;
            matmul(
                &mut dcols,
                Mat::new(&weights, F, ckk).t(),
                Mat::new(&dy, F, n),
                false,
                gemm_threads(ckk, F, n),
            );
            drop(dy);
            with_grads(grads, &out_id, &x_id, |_, g_x| col2im(&g, &dcols, g_x))
        });
    }
    Ok(out.put_tape(tape))
}

/// Whether a tensor's storage (`stored`) lists its elements in row-major order (`logical`),
/// NaNs included.
fn same_order<E: CpuFloat>(stored: &[E], logical: &[E]) -> bool {
    stored
        .iter()
        .zip(logical)
        .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()))
}

/// `cols[(c, ki, kj), (b, oh, ow)] = x[b, c, oh*s + ki*d - pad_top, ow*s + kj*d - pad_left]`,
/// zero where that falls in the padding. Every element of `cols` is written.
fn im2col<E: CpuFloat>(g: &Geometry, x: &[E], cols: &mut [E]) {
    let (n, ohw, ow) = (g.n(), g.ohw(), g.ow);
    cols.par_chunks_mut(n)
        .with_min_len(par_min_len(n))
        .enumerate()
        .for_each(|(r, row)| {
            let (c, rows, cols) = g.row_taps(r);
            let (lo, hi) = (cols.valid.start, cols.valid.end);
            for (b, image) in row.chunks_exact_mut(ohw).enumerate() {
                let plane = &x[(b * g.c + c) * g.h * g.w..][..g.h * g.w];
                for (o_y, dst) in image.chunks_exact_mut(ow).enumerate() {
                    if !rows.valid.contains(&o_y) {
                        dst.fill(E::zero());
                        continue;
                    }
                    let src = &plane[rows.input(o_y) * g.w..][..g.w];
                    dst[..lo].fill(E::zero());
                    dst[hi..].fill(E::zero());
                    if lo < hi {
                        if cols.stride == 1 {
                            let start = cols.input(lo);
                            dst[lo..hi].copy_from_slice(&src[start..start + (hi - lo)]);
                        } else {
                            for (o_x, d) in dst[lo..hi].iter_mut().enumerate() {
                                *d = src[cols.input(lo + o_x)];
                            }
                        }
                    }
                }
            }
        });
}

/// The adjoint of [`im2col`]: `g_x[b, c, y, x] += dcols[(c, ki, kj), (b, oh, ow)]` over
/// every tap that read (y, x). Parallel over the (b, c) planes of `g_x`, which are disjoint.
fn col2im<E: CpuFloat>(g: &Geometry, dcols: &[E], g_x: &mut [E]) {
    let (n, ohw, ow, kk) = (g.n(), g.ohw(), g.ow, g.k * g.k);
    let hw = g.h * g.w;
    g_x.par_chunks_mut(hw)
        .with_min_len(par_min_len(kk * ohw))
        .enumerate()
        .for_each(|(p, plane)| {
            let (b, c) = (p / g.c, p % g.c);
            for r in c * kk..(c + 1) * kk {
                let (_, rows, cols) = g.row_taps(r);
                let src_image = &dcols[r * n + b * ohw..][..ohw];
                for o_y in rows.valid.clone() {
                    let dst = &mut plane[rows.input(o_y) * g.w..][..g.w];
                    let src = &src_image[o_y * ow..][..ow];
                    if cols.stride == 1 && !cols.valid.is_empty() {
                        let start = cols.input(cols.valid.start);
                        let len = cols.valid.len();
                        for (d, &s) in dst[start..start + len]
                            .iter_mut()
                            .zip(&src[cols.valid.clone()])
                        {
                            *d += s;
                        }
                    } else {
                        for o_x in cols.valid.clone() {
                            dst[cols.input(o_x)] += src[o_x];
                        }
                    }
                }
            }
        });
}
