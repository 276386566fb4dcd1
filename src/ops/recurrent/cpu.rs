//! The fast `Cpu` recurrent kernel: a whole sequence is one op.
//!
//! Forward: the input projection `P = X W^T + b`, then per step `Q = P_t + h R^T (+ rb)`
//! followed by the fused gate arithmetic; both products run on weights packed once per call
//! (`step_product`). It keeps what the backward needs: the gate activations, the state before
//! each step, and per cell `tanh(c')` and `c` (LSTM) or `R_n h + rb_n` (GRU).
//!
//! Backward (BPTT): from the last step processed to the first, the gate gradients `dP`
//! (w.r.t. `W x + b`) and `dQ` (w.r.t. `R h + rb`; equal to `dP` except for the GRU's `n`
//! gate, `dQ_n = r * dP_n`), and the state gradient `dh_prev = dQ R`. Then, for each part of
//! the batch, GEMMs over all its steps: `dX += dP W`, `dW = dP^T X`, `dR = dQ^T H_prev`; the
//! parts' weight gradients are summed in order.
//!
//! Rows are batch-major (`b * S + t`), so a run of whole sequences is one contiguous block of
//! every buffer: the batch splits into parts that run in parallel, each with its own GEMMs.

use dfdx::prelude::*;

use super::activation::RecurrentFloat;
use super::step_product::{padded, Product, Rows, StepWeights, TILE_ROWS};
use super::{check_call, step_time, Cell, RecurrentKernel, RecurrentWeights};
use crate::ops::cpu::{
    add_slice, decide_freed_buffers, matmul, num_threads, read, sum_parts, with_grads, with_simd,
    CpuFloat, Mat, Scratch,
};

/// The smallest batch that is split across threads, and the fewest rows per part.
const MIN_SPLIT_BATCH: usize = 8;
const MIN_ROWS_PER_PART: usize = 4;

impl<E: RecurrentFloat> RecurrentKernel<E> for Cpu
where
    Cpu: Device<E>,
{
    fn try_recurrent<
        B: Dim,
        S: Dim,
        T: Tape<E, Self>,
        const F: usize,
        const G: usize,
        const U: usize,
    >(
        cell: Cell,
        x: Tensor<(B, S, Const<F>), E, Self, T>,
        weights: RecurrentWeights<F, G, U, E, Self>,
        reverse: bool,
        mask: Option<&Tensor<(B, S), E, Self>>,
    ) -> Result<Tensor<(B, S, Const<U>), E, Self, T>, CpuError> {
        let (b, s, _) = *x.shape();
        check_call(cell, G, &(b, s), mask.map(|m| m.shape()))
            .map_err(|_| CpuError::WrongNumElements)?;
        // The kernel reads storage in row-major order: make a permuted or broadcast input
        // contiguous (free when it already is; differentiable when it is not).
        let x = x.try_contiguous()?;
        decide_freed_buffers();
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

        // `read` copies storage as it lies, so the weights must be contiguous: parameters built
        // by `build_module` or loaded always are, and dfdx 0.13 does not expose strides to check.
        let xv = read(&x);
        let w_ih = read(weights.w_ih);
        let w_hh = read(weights.w_hh);
        let bias = read(weights.bias);
        let rbias = weights.recurrent_bias.map(read);
        // (`as_vec` reads in logical order, whatever the mask's strides; it cannot read an empty one.)
        let maskv = mask.map(|m| {
            if dims.batch * dims.steps == 0 {
                Vec::new()
            } else {
                m.as_vec()
            }
        });

        let (y, saved) = forward(
            &dims,
            &xv,
            &w_ih,
            &w_hh,
            &bias,
            rbias.as_deref(),
            maskv.as_deref(),
            train,
        );
        let out = dev.try_tensor_from_vec(y, (b, s, Const::<U>))?;

        if train {
            let out_key = out.clone();
            let x_key = x.clone();
            let w_ih_key = weights.w_ih.clone();
            let w_hh_key = weights.w_hh.clone();
            let bias_key = weights.bias.clone();
            let rbias_key = weights.recurrent_bias.cloned();
            tape.add_backward_op(move |grads| {
                // BPTT and, part by part, dX += dP W and the weight gradients, with dY and dX
                // borrowed together.
                let [dw, dr, db, drb] = with_grads(grads, &out_key, &x_key, |g_out, g_x| {
                    backward(
                        &dims,
                        g_out,
                        g_x,
                        &xv,
                        &w_ih,
                        &w_hh,
                        maskv.as_deref(),
                        &saved,
                    )
                })?;
                add_slice(grad_mut(grads, &w_ih_key)?, &dw);
                add_slice(grad_mut(grads, &w_hh_key)?, &dr);
                add_slice(grad_mut(grads, &bias_key)?, &db);
                if let Some(key) = &rbias_key {
                    let drb = if dims.dq_differs() { &drb } else { &db };
                    add_slice(grad_mut(grads, key)?, drb);
                }
                Ok(())
            });
        }
        Ok(out.put_tape(tape))
    }
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
    /// Whether `dQ` (w.r.t. `R h + rb`) differs from `dP` (w.r.t. `W x + b`): only in the
    /// GRU, whose `n` gate multiplies `R_n h + rb_n` by `r`. Otherwise `dQ` is `dP`, and the
    /// recurrent bias's gradient is the bias's.
    fn dq_differs(&self) -> bool {
        self.cell == Cell::Gru
    }

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
struct Saved<E: CpuFloat> {
    /// The gate activations: LSTM i, f, g, o; GRU r, z, n; RNN h'. `(B, S, G*U)`.
    act: Scratch<E>,
    /// The state before each step. `(B, S, U)`.
    h_prev: Scratch<E>,
    /// LSTM: `tanh(c')`; GRU: `R_n h + rb_n`; RNN: empty. `(B, S, U)`.
    aux: Scratch<E>,
    /// LSTM: the cell state before each step; otherwise empty. `(B, S, U)`.
    c_prev: Scratch<E>,
}

#[allow(clippy::too_many_arguments)]
fn forward<E: RecurrentFloat>(
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
    // Every row of what is kept is written before the backward reads it: no zeroing.
    let kept = |n: usize| Scratch::for_overwriting(if train { rows * n } else { 0 });
    let mut y = vec![E::zero(); rows * u];
    let mut saved = Saved {
        act: kept(gu),
        h_prev: kept(u),
        aux: kept(if d.cell == Cell::SimpleRnn { 0 } else { u }),
        c_prev: kept(if d.cell == Cell::Lstm { u } else { 0 }),
    };

    let weights = StepWeights::new(w_ih, w_hh, gu, d.features, u);
    let bias = StepBias::new(d.cell, bias, rbias, weights.row_len());
    let per = d.rows_per_part();
    let parts = {
        let (steps, f) = (d.steps, d.features);
        let y = split(&mut y, per * steps * u);
        let act = split(&mut saved.act, per * steps * gu);
        let h_prev = split(&mut saved.h_prev, per * steps * u);
        let aux = split(&mut saved.aux, per * steps * u);
        let c_prev = split(&mut saved.c_prev, per * steps * u);
        let n = y.len();
        let mut parts = Vec::with_capacity(n);
        let mut iters = (
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
                x: &x[b0 * steps * f..(b0 + nb) * steps * f],
                y: iters.0.next().unwrap(),
                act: iters.1.next().unwrap_or_default(),
                h_prev: iters.2.next().unwrap_or_default(),
                aux: iters.3.next().unwrap_or_default(),
                c_prev: iters.4.next().unwrap_or_default(),
                mask: mask.map(|m| &m[b0 * steps..(b0 + nb) * steps]),
            });
        }
        parts
    };
    run_parts(parts, |part| {
        with_simd(
            #[inline(always)]
            || forward_part(d, &weights, &bias, part),
        )
    });
    (y, saved)
}

/// The biases the products start from, padded to the products' row length: the input
/// projection starts from `b + rb`, except the GRU's, which starts from `b` and whose recurrent
/// projection starts from `rb` (its `n` gate needs `R_n h + rb_n` on its own).
struct StepBias<E> {
    input: Vec<E>,
    /// The GRU's `rb` (zeros without one); empty for the other cells.
    state: Vec<E>,
}

impl<E: RecurrentFloat> StepBias<E> {
    fn new(cell: Cell, bias: &[E], rbias: Option<&[E]>, len: usize) -> Self {
        let zeros = vec![E::zero(); bias.len()];
        let rbias = rbias.unwrap_or(&zeros);
        match cell {
            Cell::Gru => Self {
                input: padded(bias, len),
                state: padded(rbias, len),
            },
            Cell::Lstm | Cell::SimpleRnn => {
                let sum: Vec<E> = bias.iter().zip(rbias).map(|(b, rb)| *b + *rb).collect();
                Self {
                    input: padded(&sum, len),
                    state: Vec::new(),
                }
            }
        }
    }
}

/// One part of the batch in the forward: `nb` whole sequences.
struct ForwardPart<'a, E> {
    nb: usize,
    /// The part's inputs, `(nb, S, F)`.
    x: &'a [E],
    y: &'a mut [E],
    act: &'a mut [E],
    h_prev: &'a mut [E],
    aux: &'a mut [E],
    c_prev: &'a mut [E],
    mask: Option<&'a [E]>,
}

#[inline(always)]
fn forward_part<E: RecurrentFloat>(
    d: &Dims,
    weights: &StepWeights<E>,
    bias: &StepBias<E>,
    p: ForwardPart<E>,
) {
    let (s, f, u, gu, nb) = (d.steps, d.features, d.units, d.gates * d.units, p.nb);
    let train = !p.act.is_empty();
    let one = E::one();
    let mut h = vec![E::zero(); nb * u];
    let mut c = vec![E::zero(); if d.cell == Cell::Lstm { nb * u } else { 0 }];
    let len = weights.row_len();
    // The input projection `P = W x + b (+ rb)`. A part of fewer rows than a tile of the
    // kernel projects all its steps at once (rows `len` apart, batch-major as `x`), so the
    // kernel's tiles fill; a larger part projects each step just before it, where the rows
    // stay in cache (the whole projection of 32 sequences of 28 steps would not).
    let all_steps = nb < TILE_ROWS;
    let mut proj = vec![E::zero(); if all_steps { nb * s * len } else { nb * len }];
    let x = Rows {
        data: p.x,
        stride: f,
    };
    if all_steps {
        weights.input(&mut proj, nb * s, Rows::repeated(&bias.input), x);
    }
    // The step's pre-activations, `P_t + R h` (the GRU: `R h + rb`, its `P_t` apart).
    let mut q = vec![E::zero(); nb * len];
    // Where a row's activations go when they are not kept.
    let (mut scratch_act, mut scratch_aux) = match train {
        true => (Vec::new(), Vec::new()),
        false => (vec![E::zero(); gu], vec![E::zero(); u]),
    };
    for k in 0..s {
        let t = step_time(k, s, d.reverse);
        let px = if all_steps {
            Rows {
                data: &proj[t * len..],
                stride: s * len,
            }
        } else {
            let x_t = Rows {
                data: &p.x[t * f..],
                stride: s * f,
            };
            weights.input(&mut proj, nb, Rows::repeated(&bias.input), x_t);
            Rows {
                data: &proj,
                stride: len,
            }
        };
        let h_rows = Rows {
            data: &h,
            stride: u,
        };
        let start = match d.cell {
            Cell::Gru => Rows::repeated(&bias.state),
            Cell::Lstm | Cell::SimpleRnn => px,
        };
        weights.state(&mut q, nb, start, h_rows);
        for bb in 0..nb {
            let r = bb * s + t; // this step's row in the part's buffers
            let m = p.mask.map_or(one, |m| m[r]);
            let z = &q[bb * len..][..gu];
            let hs = &mut h[bb * u..(bb + 1) * u];
            let (act, aux) = if train {
                p.h_prev[r * u..(r + 1) * u].copy_from_slice(hs);
                (&mut p.act[r * gu..(r + 1) * gu], row_mut(p.aux, r, u))
            } else {
                (&mut scratch_act[..], &mut scratch_aux[..])
            };
            match d.cell {
                Cell::Lstm => {
                    let cs = &mut c[bb * u..(bb + 1) * u];
                    if train {
                        p.c_prev[r * u..(r + 1) * u].copy_from_slice(cs);
                    }
                    lstm_step(m, z, act, aux, cs, hs);
                }
                Cell::Gru => gru_step(m, &px.data[bb * px.stride..][..gu], z, act, aux, hs),
                Cell::SimpleRnn => rnn_step(m, z, act, hs),
            }
            p.y[r * u..(r + 1) * u].copy_from_slice(hs);
        }
    }
}

/// `out = f(z)`, elementwise.
#[inline(always)]
fn activate<E: RecurrentFloat>(out: &mut [E], z: &[E], f: impl Fn(E) -> E) {
    for (o, z) in out.iter_mut().zip(z) {
        *o = f(*z);
    }
}

/// One LSTM step of one sequence: gates `act` = (i, f, g, o) from the pre-activation `z`,
/// `tc = tanh(c')`, and the state `(c, h)` moved on where `m` is 1.
#[inline(always)]
fn lstm_step<E: RecurrentFloat>(
    m: E,
    z: &[E],
    act: &mut [E],
    tc: &mut [E],
    c: &mut [E],
    h: &mut [E],
) {
    let u = h.len();
    activate(&mut act[..2 * u], &z[..2 * u], E::sigmoid);
    activate(&mut act[2 * u..3 * u], &z[2 * u..3 * u], E::tanh_gate);
    activate(&mut act[3 * u..4 * u], &z[3 * u..4 * u], E::sigmoid);
    let (i, rest) = act.split_at(u);
    let (f, rest) = rest.split_at(u);
    let (g, o) = rest.split_at(u);
    let keep = E::one() - m;
    let gates = i.iter().zip(f).zip(g).zip(o);
    for ((((i, f), g), o), ((tc, c), h)) in gates.zip(tc.iter_mut().zip(c.iter_mut()).zip(h)) {
        let c_new = *f * *c + *i * *g;
        *tc = E::tanh_gate(c_new);
        *c = m * c_new + keep * *c;
        *h = m * (*o * *tc) + keep * *h;
    }
}

/// One GRU step of one sequence: gates `act` = (r, z, n) from `px = W x + b` and
/// `rh = R h + rb`, with `qn = R_n h + rb_n` kept.
#[inline(always)]
fn gru_step<E: RecurrentFloat>(m: E, px: &[E], rh: &[E], act: &mut [E], qn: &mut [E], h: &mut [E]) {
    let u = h.len();
    for ((a, px), rh) in act[..2 * u].iter_mut().zip(px).zip(rh) {
        *a = E::sigmoid(*px + *rh);
    }
    let (rz, n) = act.split_at_mut(2 * u);
    let (r, z) = rz.split_at(u);
    let (n, qn) = (&mut n[..u], &mut qn[..u]);
    let (px_n, rh_n) = (&px[2 * u..3 * u], &rh[2 * u..3 * u]);
    qn.copy_from_slice(rh_n);
    let keep = E::one() - m;
    for j in 0..u {
        n[j] = E::tanh_gate(px_n[j] + r[j] * rh_n[j]);
        let h_new = (E::one() - z[j]) * n[j] + z[j] * h[j];
        h[j] = m * h_new + keep * h[j];
    }
}

/// One simple-RNN step of one sequence: `act = tanh(z)`.
#[inline(always)]
fn rnn_step<E: RecurrentFloat>(m: E, z: &[E], act: &mut [E], h: &mut [E]) {
    activate(act, z, E::tanh_gate);
    let keep = E::one() - m;
    for (h, a) in h.iter_mut().zip(act.iter()) {
        *h = m * *a + keep * *h;
    }
}

/// BPTT, then per part of the batch `dX += dP W` and the part's weight gradients; returns
/// their sums over the parts, `[dW, dR, db, drb]`, each row-major like its weight: `dW = dP^T
/// X` `(G*U, F)`, `dR = dQ^T H_prev` `(G*U, U)`, `db` the column sums of `dP` and `drb` those
/// of `dQ` (`G*U`), computed only where `dQ` differs from `dP` ([`Dims::dq_differs`];
/// elsewhere `drb` is empty: it equals `db`). Each part's products run on its own
/// threads while its rows are still in cache; as products over the whole batch on both
/// threads, gemm ran the thin `dW` (256 x 1792 by 1792 x 28 on the seed LSTM) slower.
#[allow(clippy::too_many_arguments)]
fn backward<E: RecurrentFloat>(
    d: &Dims,
    g_out: &[E],
    g_x: &mut [E],
    x: &[E],
    w_ih: &[E],
    w_hh: &[E],
    mask: Option<&[E]>,
    saved: &Saved<E>,
) -> [Vec<E>; 4] {
    let (s, u, f, gu) = (d.steps, d.units, d.features, d.gates * d.units);
    let per = d.rows_per_part();
    // One part per `per` sequences, as the forward cut them.
    let mut g_x = g_x.chunks_mut((per * s * f).max(1));
    let parts: Vec<_> = (0..d.batch.div_ceil(per))
        .map(|i| {
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
                x: &x[lo * f..hi * f],
                g_x: g_x.next().unwrap_or_default(),
            }
        })
        .collect();
    // Threads for each part's products: the cores shared among the parts (one each for the
    // usual one part per core, all of them for a single part).
    let threads = (num_threads() / parts.len().max(1)).max(1);
    // dh_prev = dh + dQ R: `R` (G*U x U) packed once for every part and step.
    let dq_r = Product::new(Mat::new(w_hh, gu, u));
    let w_ih = Mat::new(w_ih, gu, f);
    let zeros = || {
        let drb = if d.dq_differs() { gu } else { 0 };
        [f * gu, u * gu, gu, drb].map(|len| vec![E::zero(); len])
    };
    let partials = run_parts(parts, |part| {
        with_simd(
            #[inline(always)]
            || backward_part(d, &dq_r, w_ih, threads, zeros(), part),
        )
    });
    sum_parts(partials, zeros)
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
    /// The part's inputs `(nb, S, F)` and their gradient.
    x: &'a [E],
    g_x: &'a mut [E],
}

#[inline(always)]
fn backward_part<E: RecurrentFloat>(
    d: &Dims,
    dq_r: &Product<E>,
    w_ih: Mat<E>,
    threads: usize,
    [mut dw, mut dr, mut db, mut drb]: [Vec<E>; 4],
    p: BackwardPart<E>,
) -> [Vec<E>; 4] {
    let (s, u, gu, nb) = (d.steps, d.units, d.gates * d.units, p.nb);
    let rows = nb * s;
    let one = E::one();
    // dP and (GRU) dQ of every row of the part, batch-major like its other buffers; each
    // row is written before it is read.
    let mut dp_all = Scratch::for_overwriting(rows * gu);
    let mut dq_all = Scratch::for_overwriting(if d.dq_differs() { rows * gu } else { 0 });
    // The gradient w.r.t. the state carried to the step processed before (h and LSTM's c),
    // in rows as long as the product writes; `dh_next` receives `dh + dQ R`.
    let ul = dq_r.row_len();
    let mut dh = vec![E::zero(); nb * ul];
    let mut dh_next = dh.clone();
    let mut dc = vec![E::zero(); if d.cell == Cell::Lstm { nb * u } else { 0 }];
    // This step's dQ, contiguous for the product dh_next = dh + dQ R.
    let mut dq_step = vec![E::zero(); nb * gu];
    for k in (0..s).rev() {
        let t = step_time(k, s, d.reverse);
        for bb in 0..nb {
            let r = bb * s + t;
            let m = p.mask.map_or(one, |m| m[r]);
            let act = &p.act[r * gu..(r + 1) * gu];
            let gy = &p.g_out[r * u..(r + 1) * u];
            let dhs = &mut dh[bb * ul..][..u];
            let dp = &mut dp_all[r * gu..(r + 1) * gu];
            let dq = &mut dq_step[bb * gu..(bb + 1) * gu];
            match d.cell {
                Cell::Lstm => {
                    let (tc, c_prev) = (&p.aux[r * u..(r + 1) * u], &p.c_prev[r * u..(r + 1) * u]);
                    lstm_step_back(
                        m,
                        gy,
                        act,
                        tc,
                        c_prev,
                        dhs,
                        &mut dc[bb * u..(bb + 1) * u],
                        dp,
                    );
                    dq.copy_from_slice(dp);
                }
                Cell::Gru => {
                    let (qn, h_prev) = (&p.aux[r * u..(r + 1) * u], &p.h_prev[r * u..(r + 1) * u]);
                    gru_step_back(m, gy, act, qn, h_prev, dhs, dp, dq);
                    dq_all[r * gu..(r + 1) * gu].copy_from_slice(dq);
                }
                Cell::SimpleRnn => {
                    rnn_step_back(m, gy, act, dhs, dp);
                    dq.copy_from_slice(dp);
                }
            }
        }
        // The first step processed has no previous state to send a gradient to.
        if k > 0 {
            let dh_rows = Rows {
                data: &dh,
                stride: ul,
            };
            let dq_rows = Rows {
                data: &dq_step,
                stride: gu,
            };
            dq_r.run(&mut dh_next, nb, dh_rows, dq_rows);
            std::mem::swap(&mut dh, &mut dh_next);
        }
    }
    let dq_all = if d.dq_differs() { &dq_all } else { &dp_all };
    let (dp, dq) = (Mat::new(&dp_all, rows, gu), Mat::new(dq_all, rows, gu));
    matmul(p.g_x, dp, w_ih, true, threads);
    matmul(
        &mut dw,
        dp.t(),
        Mat::new(p.x, rows, d.features),
        true,
        threads,
    );
    matmul(&mut dr, dq.t(), Mat::new(p.h_prev, rows, u), true, threads);
    add_column_sums(&mut db, &dp_all, gu);
    if d.dq_differs() {
        add_column_sums(&mut drb, dq_all, gu);
    }
    [dw, dr, db, drb]
}

/// The LSTM step backwards: from `dh` (carried, plus the output's `gy`) and `dc` (carried),
/// the pre-activation gradients `dp` and the part of `dh`, `dc` that goes to the previous
/// state (all but `dQ R`, which the caller adds).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn lstm_step_back<E: RecurrentFloat>(
    m: E,
    gy: &[E],
    act: &[E],
    tc: &[E],
    c_prev: &[E],
    dh: &mut [E],
    dc: &mut [E],
    dp: &mut [E],
) {
    let u = dh.len();
    let one = E::one();
    let keep = one - m;
    let (i, rest) = act.split_at(u);
    let (f, rest) = rest.split_at(u);
    let (g, o) = rest.split_at(u);
    let (dp_i, rest) = dp.split_at_mut(u);
    let (dp_f, rest) = rest.split_at_mut(u);
    let (dp_g, dp_o) = rest.split_at_mut(u);
    let (gy, tc, c_prev, dc, o) = (&gy[..u], &tc[..u], &c_prev[..u], &mut dc[..u], &o[..u]);
    for j in 0..u {
        let dh_total = gy[j] + dh[j];
        let dh_new = m * dh_total;
        let dc_new = m * dc[j] + dh_new * o[j] * (one - tc[j] * tc[j]);
        dp_i[j] = dc_new * g[j] * i[j] * (one - i[j]);
        dp_f[j] = dc_new * c_prev[j] * f[j] * (one - f[j]);
        dp_g[j] = dc_new * i[j] * (one - g[j] * g[j]);
        dp_o[j] = dh_new * tc[j] * o[j] * (one - o[j]);
        dc[j] = dc_new * f[j] + keep * dc[j];
        dh[j] = keep * dh_total;
    }
}

/// The GRU step backwards: `dp` w.r.t. `W x + b` and `dq` w.r.t. `R h + rb` (they differ in
/// the `n` gate, which `r` multiplies), and `dh`'s part for the previous state but `dQ R`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn gru_step_back<E: RecurrentFloat>(
    m: E,
    gy: &[E],
    act: &[E],
    qn: &[E],
    h_prev: &[E],
    dh: &mut [E],
    dp: &mut [E],
    dq: &mut [E],
) {
    let u = dh.len();
    let one = E::one();
    let keep = one - m;
    let (r, rest) = act.split_at(u);
    let (z, n) = rest.split_at(u);
    let (dp_r, rest) = dp.split_at_mut(u);
    let (dp_z, dp_n) = rest.split_at_mut(u);
    let (dq_rz, dq_n) = dq.split_at_mut(2 * u);
    let (gy, qn, h_prev, n, dp_n, dq_n) = (
        &gy[..u],
        &qn[..u],
        &h_prev[..u],
        &n[..u],
        &mut dp_n[..u],
        &mut dq_n[..u],
    );
    for j in 0..u {
        let dh_total = gy[j] + dh[j];
        let dh_new = m * dh_total;
        let da_n = dh_new * (one - z[j]) * (one - n[j] * n[j]);
        dp_n[j] = da_n;
        dq_n[j] = da_n * r[j];
        dp_z[j] = dh_new * (h_prev[j] - n[j]) * z[j] * (one - z[j]);
        dp_r[j] = da_n * qn[j] * r[j] * (one - r[j]);
        dh[j] = keep * dh_total + dh_new * z[j];
    }
    dq_rz.copy_from_slice(&dp[..2 * u]);
}

/// The simple-RNN step backwards.
#[inline(always)]
fn rnn_step_back<E: RecurrentFloat>(m: E, gy: &[E], act: &[E], dh: &mut [E], dp: &mut [E]) {
    let one = E::one();
    let keep = one - m;
    for (((dh, dp), gy), a) in dh.iter_mut().zip(dp.iter_mut()).zip(gy).zip(act) {
        let dh_total = *gy + *dh;
        *dp = m * dh_total * (one - *a * *a);
        *dh = keep * dh_total;
    }
}

/// Row `r` of a buffer of rows of `width`, or an empty slice for a buffer the cell does not keep.
fn row_mut<E>(v: &mut [E], r: usize, width: usize) -> &mut [E] {
    if v.is_empty() {
        v
    } else {
        &mut v[r * width..(r + 1) * width]
    }
}

/// Runs `f` on every part, and returns its results in the parts' order: on this thread when
/// there is one part, else on rayon's pool. Not on threads of their own: a thread spawned per
/// part and call (two per layer in each of the forward and the backward) competed for the two
/// cores with rayon's workers, which spin a while after each gemm before they sleep, and the
/// seed LSTM took 18-22% longer that way.
fn run_parts<P: Send, R: Send, F: Fn(P) -> R + Sync + Send>(parts: Vec<P>, f: F) -> Vec<R> {
    if parts.len() <= 1 {
        parts.into_iter().map(f).collect()
    } else {
        use rayon::prelude::*;
        parts.into_par_iter().with_max_len(1).map(f).collect()
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
fn grad_mut<'a, S: Shape, E: RecurrentFloat>(
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
fn add_column_sums<E: RecurrentFloat>(g: &mut [E], m: &[E], cols: usize) {
    for row in m.chunks_exact(cols) {
        add_slice(g, row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's forward then backward on `d`, with every output gradient 1.
    fn weight_grads(d: Dims) -> [Vec<f32>; 4] {
        let (rows, gu) = (d.batch * d.steps, d.gates * d.units);
        let ramp = |n: usize| {
            (0..n)
                .map(|i| (i % 7) as f32 * 0.1 - 0.3)
                .collect::<Vec<_>>()
        };
        let (x, w_ih, w_hh, bias) = (
            ramp(rows * d.features),
            ramp(gu * d.features),
            ramp(gu * d.units),
            ramp(gu),
        );
        let (_, saved) = forward(&d, &x, &w_ih, &w_hh, &bias, None, None, true);
        let g_out = vec![1.0; rows * d.units];
        let mut g_x = vec![0.0; rows * d.features];
        backward(&d, &g_out, &mut g_x, &x, &w_ih, &w_hh, None, &saved)
    }

    /// An empty batch or sequence gives zero weight gradients of the weights' lengths.
    #[test]
    fn backward_of_an_empty_batch_or_sequence() {
        for (batch, steps) in [(0, 4), (3, 0)] {
            let d = Dims {
                batch,
                steps,
                features: 3,
                gates: 4,
                units: 2,
                cell: Cell::Lstm,
                reverse: false,
            };
            let [dw, dr, db, drb] = weight_grads(d);
            assert_eq!((dw.len(), dr.len(), db.len(), drb.len()), (24, 16, 8, 0));
            assert!(dw.iter().chain(&dr).chain(&db).all(|&v| v == 0.0));
        }
    }
}
