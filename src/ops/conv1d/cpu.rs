//! The fast `Cpu` 1-D convolution: one gemm per sample, samples in parallel.
//!
//! Forward, per sample: `A (OL, K*C) x W (K*C, F) + bias`, where row `o` of `A` is the window
//! of output `o`. Without padding or dilation that window is the `K*C` values starting at
//! step `o * stride` of the channels-last input, so `A` is the input itself read with a row
//! stride of `stride * C` (rows overlap when the stride is below the kernel): no copy. With
//! padding or dilation, `A` is gathered first (im2col), zeros in the padding.
//!
//! Backward, per sample: `dW += A^T x dY`, `db += column sums of dY`, `dA = dY x W^T`, and
//! each row of `dA` is added back onto the steps its window read (col2im).

use crate::ops::cpu::{
    add_slice, decide_freed_buffers, gemm_threads, matmul, num_threads, par_min_len, read,
    sum_parts, with_grads, CpuFloat, Mat, Scratch,
};
use crate::ops::Window1D;
use dfdx::prelude::*;
use rayon::prelude::*;

#[allow(clippy::type_complexity)]
pub(super) fn try_conv1d<
    E: CpuFloat,
    B: Dim,
    T: Tape<E, Cpu>,
    const L: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const OL: usize,
>(
    x: Tensor<(B, Const<L>, Const<C>), E, Cpu, T>,
    weight: &Tensor<Rank3<K, C, F>, E, Cpu>,
    bias: &Tensor<Rank1<F>, E, Cpu>,
    window: Window1D,
) -> Result<Tensor<(B, Const<OL>, Const<F>), E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    decide_freed_buffers();
    // The kernel indexes the storage as row-major: a permuted input is made contiguous
    // first (free when it already is; otherwise dfdx's copy carries the gradient back).
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let batch = x.shape().0;
    let n = batch.size();
    let kc = K * C;
    let weights = read(weight);
    let bias_data = read(bias);
    let x_data = read(&x);
    let sizes = Sizes {
        l: L,
        c: C,
        f: F,
        k: K,
        ol: OL,
        window,
    };
    let span = window.dilation * (K - 1) + 1;
    // Every window reads K consecutive real steps: read them where they lie.
    let in_place = window.dilation == 1 && window.pad == 0 && (OL - 1) * window.stride + span <= L;
    // Sample b's `A` starts at `b * per_sample`, its rows `row_stride` apart.
    let (a_data, per_sample, row_stride) = if in_place {
        (x_data, L * C, window.stride * C)
    } else {
        (sizes.im2col(&x_data, n), OL * kc, kc)
    };
    let plan = Plan {
        sizes,
        windows: Windows {
            per_sample,
            row_stride,
            rows: OL,
            cols: kc,
        },
        // Split the batch over the cores; a batch too small for that threads each gemm.
        threads: if n >= num_threads() {
            1
        } else {
            gemm_threads(OL, kc, F)
        },
    };
    let mut out = vec![E::zero(); n * OL * F];
    plan.forward(&a_data, &weights, &bias_data, &mut out);
    let out = x
        .device()
        .try_tensor_from_vec(out, (batch, Const::<OL>, Const::<F>))?;

    if T::OWNS_TAPE {
        // Tape-less clones: they only name the gradients (and share storage, so cost nothing).
        let (out_id, x_id, w_id, b_id) = (out.clone(), x.clone(), weight.clone(), bias.clone());
        tape.add_backward_op(move |grads| {
            let [dw, db] = with_grads(grads, &out_id, &x_id, |g_out, g_x| {
                plan.backward(&a_data, &weights, g_out, g_x)
            })?;
            // dW is (K*C, F): the weight's own (K, C, F) layout.
            with_grads(grads, &out_id, &w_id, |_, g_weight| {
                add_slice(g_weight, &dw)
            })?;
            with_grads(grads, &out_id, &b_id, |_, g_bias| add_slice(g_bias, &db))
        });
    }
    Ok(out.put_tape(tape))
}

/// A layer's sizes without the tensor types, so that the loops (and their rayon closures)
/// are compiled once per element type, not once per layer shape: input (L, C), F filters of
/// K steps, OL outputs.
#[derive(Clone, Copy)]
struct Sizes {
    l: usize,
    c: usize,
    f: usize,
    k: usize,
    ol: usize,
    window: Window1D,
}

/// One call: the layer's sizes, where each sample's `A` lies, and each gemm's threads.
#[derive(Clone, Copy)]
struct Plan {
    sizes: Sizes,
    windows: Windows,
    threads: usize,
}

impl Plan {
    /// `out = A W + b`, sample by sample.
    fn forward<E: CpuFloat>(&self, a_data: &[E], weights: &[E], bias: &[E], out: &mut [E]) {
        let Sizes { c, f, k, ol, .. } = self.sizes;
        let kc = k * c;
        out.par_chunks_mut(ol * f)
            .with_min_len(par_min_len(ol * kc * f))
            .enumerate()
            .for_each(|(b, out)| {
                let a = self.windows.of(a_data, b);
                matmul(out, a, Mat::new(weights, kc, f), false, self.threads);
                for row in out.chunks_exact_mut(f) {
                    row.iter_mut().zip(bias).for_each(|(v, &b)| *v += b);
                }
            });
    }

    /// Adds dX into `g_x` and returns [dW, db]. dW and db are summed over the samples of each
    /// part, then over the parts in order ([`sum_parts`]).
    fn backward<E: CpuFloat>(
        &self,
        a_data: &[E],
        weights: &[E],
        g_out: &[E],
        g_x: &mut [E],
    ) -> [Vec<E>; 2] {
        let Sizes { l, c, f, k, ol, .. } = self.sizes;
        let (kc, threads) = (k * c, self.threads);
        let zeros = || [vec![E::zero(); kc * f], vec![E::zero(); f]];
        let n = g_out.len() / (ol * f).max(1);
        let per_part = n.div_ceil(num_threads().max(1)).max(1);
        let partials: Vec<[Vec<E>; 2]> = g_out
            .par_chunks(per_part * ol * f)
            .zip(g_x.par_chunks_mut(per_part * l * c))
            .enumerate()
            .map(|(part, (g_out, g_x))| {
                let [mut dw, mut db] = zeros();
                let mut d_a = vec![E::zero(); ol * kc];
                let samples = g_out.chunks_exact(ol * f).zip(g_x.chunks_exact_mut(l * c));
                for (i, (dy, g_x)) in samples.enumerate() {
                    let a = self.windows.of(a_data, part * per_part + i);
                    let dy_m = Mat::new(dy, ol, f);
                    matmul(&mut dw, a.t(), dy_m, true, threads);
                    for row in dy.chunks_exact(f) {
                        add_slice(&mut db, row);
                    }
                    let w_t = Mat::new(weights, kc, f).t();
                    matmul(&mut d_a, dy_m, w_t, false, threads);
                    self.sizes.col2im(&d_a, g_x);
                }
                [dw, db]
            })
            .collect();
        sum_parts(partials, zeros)
    }
}

/// Where each sample's `A` lies: the input itself, or its gathered windows.
#[derive(Clone, Copy)]
struct Windows {
    per_sample: usize,
    row_stride: usize,
    rows: usize,
    cols: usize,
}

impl Windows {
    fn of<'a, E>(&self, data: &'a [E], b: usize) -> Mat<'a, E> {
        Mat::strided(
            &data[b * self.per_sample..],
            self.rows,
            self.cols,
            self.row_stride,
        )
    }
}

impl Sizes {
    /// `cols[b, o, k, c] = x[b, o*stride + k*dilation - pad, c]`, zero in the padding: each
    /// sample's windows as an (OL, K*C) matrix.
    fn im2col<E: CpuFloat>(&self, x: &[E], n: usize) -> Scratch<E> {
        let Sizes {
            l,
            c,
            k,
            ol,
            window,
            ..
        } = *self;
        let mut cols = Scratch::for_overwriting(n * ol * k * c);
        cols.par_chunks_mut(ol * k * c)
            .with_min_len(par_min_len(ol * k * c))
            .zip(x.par_chunks(l * c))
            .for_each(|(cols, x)| {
                for (o, row) in cols.chunks_exact_mut(k * c).enumerate() {
                    for (tap, dst) in row.chunks_exact_mut(c).enumerate() {
                        match window.input_step(o, tap, l) {
                            Some(i) => dst.copy_from_slice(&x[i * c..][..c]),
                            None => dst.fill(E::zero()),
                        }
                    }
                }
            });
        cols
    }

    /// The adjoint of [`Self::im2col`] for one sample: `g_x[i, c] += d_a[o, k, c]` over every
    /// window tap (o, k) that read step i.
    fn col2im<E: CpuFloat>(&self, d_a: &[E], g_x: &mut [E]) {
        let Sizes {
            l, c, k, window, ..
        } = *self;
        for (o, row) in d_a.chunks_exact(k * c).enumerate() {
            for (tap, src) in row.chunks_exact(c).enumerate() {
                if let Some(i) = window.input_step(o, tap, l) {
                    g_x[i * c..][..c]
                        .iter_mut()
                        .zip(src)
                        .for_each(|(g, &s)| *g += s);
                }
            }
        }
    }
}
