//! The fast `Cpu` recurrent kernel: a whole sequence is one op.
//!
//! Forward: `P = X W^T + b` for every step at once (one GEMM over `B*S` rows), then per step
//! `Q = h R^T (+ rb)` (one small single-threaded GEMM) followed by the fused gate arithmetic.
//! It keeps what the backward needs: the gate activations, the state before each step, and per
//! cell `tanh(c')` and `c` (LSTM) or `R_n h + rb_n` (GRU).
//!
//! Backward (BPTT): from the last step processed to the first, the gate gradients `dP`
//! (w.r.t. `W x + b`) and `dQ` (w.r.t. `R h + rb`; equal to `dP` except for the GRU's `n`
//! gate, `dQ_n = r * dP_n`), and the state gradient `dh_prev = dQ R`. The weight gradients are
//! then single big GEMMs over all steps: `dW += dP^T X`, `dR += dQ^T H_prev`, `dX += dP W`.
//!
//! Rows are batch-major (`b * S + t`), so a run of whole sequences is one contiguous block of
//! every buffer: the batch splits into parts that run in parallel, each with its own GEMMs.

use dfdx::prelude::*;

use super::{check_call, step_time, Cell, RecurrentWeights};
use crate::ops::cpu::{matmul, num_threads, read, with_grads, CpuFloat, Mat};

/// The smallest batch that is split across threads, and the fewest rows per part.
const MIN_SPLIT_BATCH: usize = 8;
const MIN_ROWS_PER_PART: usize = 4;

pub(super) fn try_recurrent_cpu<
    E: CpuFloat,
    B: Dim,
    S: Dim,
    T: Tape<E, Cpu>,
    const F: usize,
    const G: usize,
    const U: usize,
>(
    cell: Cell,
    x: Tensor<(B, S, Const<F>), E, Cpu, T>,
    weights: RecurrentWeights<F, G, U, E, Cpu>,
    reverse: bool,
    mask: Option<&Tensor<(B, S), E, Cpu>>,
) -> Result<Tensor<(B, S, Const<U>), E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    let (b, s, _) = *x.shape();
    check_call(cell, G, &(b, s), mask.map(|m| m.shape()));
    // The kernel reads storage in row-major order: make a permuted or broadcast input
    // contiguous (free when it already is; differentiable when it is not).
    let x = x.try_contiguous()?;
    let (x, mut tape) = x.split_tape();
    let dev = x.device().clone();
    let dims = Dims {
        batch: b.size(),
        steps: s.size(),
        features: F,
        gates: G,
        units: U,
        cell,
        reverse,
    };
    let train = T::OWNS_TAPE;

    // Weights must be contiguous (as built by `build_module` or loaded); see `read`.
    let xv = read(&x);
    let w_ih = read(weights.w_ih);
    let w_hh = read(weights.w_hh);
    let bias = read(weights.bias);
    let rbias = weights.recurrent_bias.map(read);
    let maskv = mask.map(|m| m.as_vec());

    let saved = forward(
        &dims,
        &xv,
        &w_ih,
        &w_hh,
        &bias,
        rbias.as_deref(),
        maskv.as_deref(),
        train,
    );
    let (y, saved) = saved;
    let out = dev.try_tensor_from_vec(y, (b, s, Const::<U>))?;

    if train {
        let out_key = out.clone();
        let x_key = x.clone();
        let w_ih_key = weights.w_ih.clone();
        let w_hh_key = weights.w_hh.clone();
        let bias_key = weights.bias.clone();
        let rbias_key = weights.recurrent_bias.cloned();
        tape.add_backward_op(move |grads| {
            let threads = num_threads();
            let rows = dims.batch * dims.steps;
            let gu = dims.gates * dims.units;
            // BPTT, then dX += dP W, with dY and dX borrowed together.
            let (dp, dq) = with_grads(grads, &out_key, &x_key, |g_out, g_x| {
                let (dp, dq) = backward(&dims, g_out, &w_hh, maskv.as_deref(), &saved);
                matmul(
                    g_x,
                    Mat::new(&dp, rows, gu),
                    Mat::new(&w_ih, gu, dims.features),
                    true,
                    threads,
                );
                (dp, dq)
            })?;
            let dq = dq.as_deref().unwrap_or(&dp);
            let g = grad_mut(grads, &w_ih_key)?;
            matmul(
                g,
                Mat::new(&dp, rows, gu).t(),
                Mat::new(&xv, rows, dims.features),
                true,
                threads,
            );
            let g = grad_mut(grads, &bias_key)?;
            add_column_sums(g, &dp, gu);
            let g = grad_mut(grads, &w_hh_key)?;
            matmul(
                g,
                Mat::new(dq, rows, gu).t(),
                Mat::new(&saved.h_prev, rows, dims.units),
                true,
                threads,
            );
            if let Some(key) = &rbias_key {
                let g = grad_mut(grads, key)?;
                add_column_sums(g, dq, gu);
            }
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}

/// The sizes and options of one call.
#[derive(Clone, Copy)]
struct Dims {
    batch: usize,
    steps: usize,
    features: usize,
    gates: usize,
    units: usize,
    cell: Cell,
    reverse: bool,
}

impl Dims {
    /// How many batch rows each part takes (parts run in parallel).
    fn rows_per_part(&self) -> usize {
        let parts = if self.batch >= MIN_SPLIT_BATCH {
            num_threads().min(self.batch / MIN_ROWS_PER_PART).max(1)
        } else {
            1
        };
        self.batch.div_ceil(parts).max(1)
    }
}

/// What the forward keeps for the backward, all batch-major `(B, S, ..)`.
struct Saved<E> {
    /// The gate activations: LSTM i, f, g, o; GRU r, z, n; RNN h'. `(B, S, G*U)`.
    act: Vec<E>,
    /// The state before each step. `(B, S, U)`.
    h_prev: Vec<E>,
    /// LSTM: `tanh(c')`; GRU: `R_n h + rb_n`; RNN: empty. `(B, S, U)`.
    aux: Vec<E>,
    /// LSTM: the cell state before each step; otherwise empty. `(B, S, U)`.
    c_prev: Vec<E>,
}

#[allow(clippy::too_many_arguments)]
fn forward<E: CpuFloat>(
    d: &Dims,
    x: &[E],
    w_ih: &[E],
    w_hh: &[E],
    bias: &[E],
    rbias: Option<&[E]>,
    mask: Option<&[E]>,
    train: bool,
) -> (Vec<E>, Saved<E>) {
    let (rows, gu, u) = (d.batch * d.steps, d.gates * d.units, d.units);
    // The input projection of every step: one GEMM, threaded.
    let mut proj = vec![E::zero(); rows * gu];
    matmul(
        &mut proj,
        Mat::new(x, rows, d.features),
        Mat::new(w_ih, gu, d.features).t(),
        false,
        num_threads(),
    );
    for row in proj.chunks_exact_mut(gu) {
        row.iter_mut().zip(bias).for_each(|(p, b)| *p += *b);
    }

    let kept = |n: usize| {
        if train {
            vec![E::zero(); rows * n]
        } else {
            Vec::new()
        }
    };
    let mut y = vec![E::zero(); rows * u];
    let mut saved = Saved {
        act: kept(gu),
        h_prev: kept(u),
        aux: if d.cell == Cell::SimpleRnn {
            Vec::new()
        } else {
            kept(u)
        },
        c_prev: if d.cell == Cell::Lstm {
            kept(u)
        } else {
            Vec::new()
        },
    };

    let per = d.rows_per_part();
    let parts = {
        let steps = d.steps;
        let proj = split(&mut proj, per * steps * gu);
        let y = split(&mut y, per * steps * u);
        let act = split(&mut saved.act, per * steps * gu);
        let h_prev = split(&mut saved.h_prev, per * steps * u);
        let aux = split(&mut saved.aux, per * steps * u);
        let c_prev = split(&mut saved.c_prev, per * steps * u);
        let n = y.len();
        let mut parts = Vec::with_capacity(n);
        let mut iters = (
            proj.into_iter(),
            y.into_iter(),
            act.into_iter(),
            h_prev.into_iter(),
            aux.into_iter(),
            c_prev.into_iter(),
        );
        for p in 0..n {
            let b0 = p * per;
            let nb = per.min(d.batch - b0);
            parts.push(ForwardPart {
                nb,
                proj: iters.0.next().unwrap(),
                y: iters.1.next().unwrap(),
                act: iters.2.next().unwrap_or_default(),
                h_prev: iters.3.next().unwrap_or_default(),
                aux: iters.4.next().unwrap_or_default(),
                c_prev: iters.5.next().unwrap_or_default(),
                mask: mask.map(|m| &m[b0 * steps..(b0 + nb) * steps]),
            });
        }
        parts
    };
    run_parts(parts, |part| forward_part(d, w_hh, rbias, part));
    drop(proj);
    (y, saved)
}

/// One part of the batch in the forward: `nb` whole sequences.
struct ForwardPart<'a, E> {
    nb: usize,
    proj: &'a [E],
    y: &'a mut [E],
    act: &'a mut [E],
    h_prev: &'a mut [E],
    aux: &'a mut [E],
    c_prev: &'a mut [E],
    mask: Option<&'a [E]>,
}

fn forward_part<E: CpuFloat>(d: &Dims, w_hh: &[E], rbias: Option<&[E]>, p: ForwardPart<E>) {
    let (s, u, gu, nb) = (d.steps, d.units, d.gates * d.units, p.nb);
    let train = !p.act.is_empty();
    let one = E::one();
    let mut h = vec![E::zero(); nb * u];
    let mut c = vec![E::zero(); if d.cell == Cell::Lstm { nb * u } else { 0 }];
    let mut q = vec![E::zero(); nb * gu];
    for k in 0..s {
        let t = step_time(k, s, d.reverse);
        matmul(
            &mut q,
            Mat::new(&h, nb, u),
            Mat::new(w_hh, gu, u).t(),
            false,
            1,
        );
        if let Some(rb) = rbias {
            for row in q.chunks_exact_mut(gu) {
                row.iter_mut().zip(rb).for_each(|(q, b)| *q += *b);
            }
        }
        for bb in 0..nb {
            let r = bb * s + t; // this step's row in the part's buffers
            let m = p.mask.map_or(one, |m| m[r]);
            let pr = &p.proj[r * gu..(r + 1) * gu];
            let qr = &q[bb * gu..(bb + 1) * gu];
            let hs = &mut h[bb * u..(bb + 1) * u];
            if train {
                p.h_prev[r * u..(r + 1) * u].copy_from_slice(hs);
            }
            let yr = &mut p.y[r * u..(r + 1) * u];
            match d.cell {
                Cell::Lstm => {
                    let cs = &mut c[bb * u..(bb + 1) * u];
                    for j in 0..u {
                        let i = sigmoid(pr[j] + qr[j]);
                        let f = sigmoid(pr[u + j] + qr[u + j]);
                        let g = (pr[2 * u + j] + qr[2 * u + j]).tanh();
                        let o = sigmoid(pr[3 * u + j] + qr[3 * u + j]);
                        let c_old = cs[j];
                        let c_new = f * c_old + i * g;
                        let tc = c_new.tanh();
                        let h_new = o * tc;
                        if train {
                            let a = &mut p.act[r * gu..(r + 1) * gu];
                            a[j] = i;
                            a[u + j] = f;
                            a[2 * u + j] = g;
                            a[3 * u + j] = o;
                            p.aux[r * u + j] = tc;
                            p.c_prev[r * u + j] = c_old;
                        }
                        cs[j] = m * c_new + (one - m) * c_old;
                        hs[j] = m * h_new + (one - m) * hs[j];
                    }
                }
                Cell::Gru => {
                    for j in 0..u {
                        let r_ = sigmoid(pr[j] + qr[j]);
                        let z = sigmoid(pr[u + j] + qr[u + j]);
                        let qn = qr[2 * u + j];
                        let n = (pr[2 * u + j] + r_ * qn).tanh();
                        let h_old = hs[j];
                        let h_new = (one - z) * n + z * h_old;
                        if train {
                            let a = &mut p.act[r * gu..(r + 1) * gu];
                            a[j] = r_;
                            a[u + j] = z;
                            a[2 * u + j] = n;
                            p.aux[r * u + j] = qn;
                        }
                        hs[j] = m * h_new + (one - m) * h_old;
                    }
                }
                Cell::SimpleRnn => {
                    for j in 0..u {
                        let h_new = (pr[j] + qr[j]).tanh();
                        if train {
                            p.act[r * gu + j] = h_new;
                        }
                        hs[j] = m * h_new + (one - m) * hs[j];
                    }
                }
            }
            yr.copy_from_slice(hs);
        }
    }
}

/// BPTT. Returns `dP` `(B*S, G*U)` and, for the GRU only, `dQ` (otherwise `dQ == dP`).
fn backward<E: CpuFloat>(
    d: &Dims,
    g_out: &[E],
    w_hh: &[E],
    mask: Option<&[E]>,
    saved: &Saved<E>,
) -> (Vec<E>, Option<Vec<E>>) {
    let (s, u, gu) = (d.steps, d.units, d.gates * d.units);
    let rows = d.batch * s;
    let mut dp = vec![E::zero(); rows * gu];
    let mut dq = if d.cell == Cell::Gru {
        Some(vec![E::zero(); rows * gu])
    } else {
        None
    };
    let per = d.rows_per_part();
    let dps = split(&mut dp, per * s * gu);
    let mut dqs = dq
        .as_mut()
        .map(|dq| split(dq, per * s * gu))
        .unwrap_or_default()
        .into_iter();
    let parts: Vec<_> = dps
        .into_iter()
        .enumerate()
        .map(|(i, dp)| {
            let b0 = i * per;
            let nb = per.min(d.batch - b0);
            let (lo, hi) = (b0 * s, (b0 + nb) * s);
            BackwardPart {
                nb,
                g_out: &g_out[lo * u..hi * u],
                act: rows_of(&saved.act, lo, hi, gu),
                h_prev: rows_of(&saved.h_prev, lo, hi, u),
                aux: rows_of(&saved.aux, lo, hi, u),
                c_prev: rows_of(&saved.c_prev, lo, hi, u),
                mask: mask.map(|m| &m[lo..hi]),
                dp,
                dq: dqs.next(),
            }
        })
        .collect();
    run_parts(parts, |part| backward_part(d, w_hh, part));
    (dp, dq)
}

/// One part of the batch in the backward: `nb` whole sequences.
struct BackwardPart<'a, E> {
    nb: usize,
    g_out: &'a [E],
    act: &'a [E],
    h_prev: &'a [E],
    aux: &'a [E],
    c_prev: &'a [E],
    mask: Option<&'a [E]>,
    dp: &'a mut [E],
    dq: Option<&'a mut [E]>,
}

fn backward_part<E: CpuFloat>(d: &Dims, w_hh: &[E], mut p: BackwardPart<E>) {
    let (s, u, gu, nb) = (d.steps, d.units, d.gates * d.units, p.nb);
    let one = E::one();
    // The gradient w.r.t. the state carried to the step processed before (h and LSTM's c).
    let mut dh = vec![E::zero(); nb * u];
    let mut dc = vec![E::zero(); if d.cell == Cell::Lstm { nb * u } else { 0 }];
    // This step's dQ, contiguous for the GEMM dh_prev += dQ R.
    let mut dq_step = vec![E::zero(); nb * gu];
    for k in (0..s).rev() {
        let t = step_time(k, s, d.reverse);
        for bb in 0..nb {
            let r = bb * s + t;
            let m = p.mask.map_or(one, |m| m[r]);
            let a = &p.act[r * gu..(r + 1) * gu];
            let gy = &p.g_out[r * u..(r + 1) * u];
            let dhs = &mut dh[bb * u..(bb + 1) * u];
            let dpr = &mut p.dp[r * gu..(r + 1) * gu];
            let dqr = &mut dq_step[bb * gu..(bb + 1) * gu];
            match d.cell {
                Cell::Lstm => {
                    let dcs = &mut dc[bb * u..(bb + 1) * u];
                    for j in 0..u {
                        let (i, f, g, o) = (a[j], a[u + j], a[2 * u + j], a[3 * u + j]);
                        let tc = p.aux[r * u + j];
                        let c_old = p.c_prev[r * u + j];
                        let dh_total = gy[j] + dhs[j];
                        let dh_new = m * dh_total;
                        let dc_new = m * dcs[j] + dh_new * o * (one - tc * tc);
                        let da_i = dc_new * g * i * (one - i);
                        let da_f = dc_new * c_old * f * (one - f);
                        let da_g = dc_new * i * (one - g * g);
                        let da_o = dh_new * tc * o * (one - o);
                        dcs[j] = dc_new * f + (one - m) * dcs[j];
                        dhs[j] = (one - m) * dh_total;
                        for (gate, v) in [da_i, da_f, da_g, da_o].into_iter().enumerate() {
                            dpr[gate * u + j] = v;
                            dqr[gate * u + j] = v;
                        }
                    }
                }
                Cell::Gru => {
                    let dq_row = &mut p.dq.as_mut().expect("GRU keeps dQ")[r * gu..(r + 1) * gu];
                    for j in 0..u {
                        let (r_, z, n) = (a[j], a[u + j], a[2 * u + j]);
                        let qn = p.aux[r * u + j];
                        let h_old = p.h_prev[r * u + j];
                        let dh_total = gy[j] + dhs[j];
                        let dh_new = m * dh_total;
                        let da_n = dh_new * (one - z) * (one - n * n);
                        let da_z = dh_new * (h_old - n) * z * (one - z);
                        let da_r = da_n * qn * r_ * (one - r_);
                        dhs[j] = (one - m) * dh_total + dh_new * z;
                        dpr[j] = da_r;
                        dpr[u + j] = da_z;
                        dpr[2 * u + j] = da_n;
                        dqr[j] = da_r;
                        dqr[u + j] = da_z;
                        dqr[2 * u + j] = da_n * r_;
                    }
                    dq_row.copy_from_slice(dqr);
                }
                Cell::SimpleRnn => {
                    for j in 0..u {
                        let h_new = a[j];
                        let dh_total = gy[j] + dhs[j];
                        let da = m * dh_total * (one - h_new * h_new);
                        dhs[j] = (one - m) * dh_total;
                        dpr[j] = da;
                        dqr[j] = da;
                    }
                }
            }
        }
        // The first step processed has no previous state to send a gradient to.
        if k > 0 {
            matmul(
                &mut dh,
                Mat::new(&dq_step, nb, gu),
                Mat::new(w_hh, gu, u),
                true,
                1,
            );
        }
    }
}

/// Runs `f` on every part: on this thread when there is one, else one scoped thread each.
fn run_parts<P: Send, F: Fn(P) + Sync>(parts: Vec<P>, f: F) {
    if parts.len() <= 1 {
        parts.into_iter().for_each(f);
    } else {
        let f = &f;
        std::thread::scope(|scope| {
            for part in parts {
                scope.spawn(move || f(part));
            }
        });
    }
}

/// Splits `v` into chunks of `len` elements (the last may be shorter); an empty `v` gives
/// no chunks.
fn split<E>(v: &mut [E], len: usize) -> Vec<&mut [E]> {
    if v.is_empty() || len == 0 {
        Vec::new()
    } else {
        v.chunks_mut(len).collect()
    }
}

/// The gradient of `t`, allocated (zeros) if it has none yet.
fn grad_mut<'a, S: Shape, E: CpuFloat>(
    grads: &'a mut Gradients<E, Cpu>,
    t: &Tensor<S, E, Cpu>,
) -> Result<&'a mut [E], CpuError> {
    Ok(grads.get_or_alloc_mut(t)?)
}

/// Rows `lo..hi` of a row-major `v` with `width` columns; empty when `v` is (unused buffer).
fn rows_of<E>(v: &[E], lo: usize, hi: usize, width: usize) -> &[E] {
    if v.is_empty() {
        v
    } else {
        &v[lo * width..hi * width]
    }
}

/// `g[j] += sum over rows of m[row, j]` for a row-major `m` with `cols` columns.
fn add_column_sums<E: CpuFloat>(g: &mut [E], m: &[E], cols: usize) {
    for row in m.chunks_exact(cols) {
        g.iter_mut().zip(row).for_each(|(g, v)| *g += *v);
    }
}

fn sigmoid<E: CpuFloat>(x: E) -> E {
    E::one() / (E::one() + (-x).exp())
}
