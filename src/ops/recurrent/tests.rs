//! The fast `Cpu` kernel against the device-generic oracle, finite differences, hand-fed
//! known values and the masking contract.

use dfdx::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

use super::RecurrentFloat;
use super::{try_recurrent_generic, Cell, RecurrentKernel, RecurrentWeights};
use crate::ops::cpu::Scratch;

const F: usize = 3;
const U: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Padding {
    None,
    Post,
    Pre,
    /// Padding in the middle of sequences (Keras allows any mask).
    Holes,
}

#[derive(Clone, Copy, Debug)]
struct Case {
    cell: Cell,
    batch: usize,
    steps: usize,
    reverse: bool,
    padding: Padding,
    recurrent_bias: bool,
}

/// One problem on the host, in f64: inputs, parameters, mask and the loss weights `r`
/// (the loss is `sum(out * r)`, so that every output element gets its own gradient).
#[derive(Clone)]
struct Problem {
    case: Case,
    x: Vec<f64>,
    w_ih: Vec<f64>,
    w_hh: Vec<f64>,
    bias: Vec<f64>,
    rbias: Option<Vec<f64>>,
    mask: Option<Vec<f64>>,
    r: Vec<f64>,
}

/// The real length of sequence `b` of `steps`: every length from 0 to `steps` occurs.
fn length(b: usize, steps: usize) -> usize {
    (b * 7 + 3) % (steps + 1)
}

fn mask_for(padding: Padding, batch: usize, steps: usize) -> Option<Vec<f64>> {
    let real = |b: usize, t: usize| match padding {
        Padding::None => true,
        Padding::Post => t < length(b, steps),
        Padding::Pre => t >= steps - length(b, steps),
        Padding::Holes => !(b + 2 * t).is_multiple_of(3),
    };
    (padding != Padding::None).then(|| {
        (0..batch * steps)
            .map(|i| if real(i / steps, i % steps) { 1.0 } else { 0.0 })
            .collect()
    })
}

impl Problem {
    fn random(case: Case, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut v = |n: usize, scale: f64| -> Vec<f64> {
            (0..n).map(|_| rng.gen_range(-scale..scale)).collect()
        };
        let gu = case.cell.gates() * U;
        let (b, s) = (case.batch, case.steps);
        Problem {
            case,
            x: v(b * s * F, 1.0),
            w_ih: v(gu * F, 0.6),
            w_hh: v(gu * U, 0.6),
            bias: v(gu, 0.5),
            rbias: case.recurrent_bias.then(|| v(gu, 0.5)),
            mask: mask_for(case.padding, b, s),
            r: v(b * s * U, 1.0),
        }
    }
}

/// The problem's tensors on `Cpu` in `E`.
struct Tensors<E: Dtype, const G: usize> {
    x: Tensor<(usize, usize, Const<F>), E, Cpu>,
    w_ih: Tensor<Rank3<G, U, F>, E, Cpu>,
    w_hh: Tensor<Rank3<G, U, U>, E, Cpu>,
    bias: Tensor<Rank2<G, U>, E, Cpu>,
    rbias: Option<Tensor<Rank2<G, U>, E, Cpu>>,
    mask: Option<Tensor<(usize, usize), E, Cpu>>,
    r: Tensor<(usize, usize, Const<U>), E, Cpu>,
}

fn conv<E: RecurrentFloat>(v: &[f64]) -> Vec<E> {
    v.iter().map(|&a| E::from_f64(a).unwrap()).collect()
}

impl<E: RecurrentFloat, const G: usize> Tensors<E, G>
where
    Cpu: Device<E>,
{
    fn new(p: &Problem) -> Self {
        let dev = Cpu::default();
        let (b, s) = (p.case.batch, p.case.steps);
        Tensors {
            x: dev.tensor_from_vec(conv(&p.x), (b, s, Const)),
            w_ih: dev.tensor_from_vec(conv(&p.w_ih), Default::default()),
            w_hh: dev.tensor_from_vec(conv(&p.w_hh), Default::default()),
            bias: dev.tensor_from_vec(conv(&p.bias), Default::default()),
            rbias: p
                .rbias
                .as_ref()
                .map(|v| dev.tensor_from_vec(conv(v), Default::default())),
            mask: p
                .mask
                .as_ref()
                .map(|v| dev.tensor_from_vec(conv(v), (b, s))),
            r: dev.tensor_from_vec(conv(&p.r), (b, s, Const)),
        }
    }

    fn weights(&self) -> RecurrentWeights<'_, F, G, U, E, Cpu> {
        RecurrentWeights {
            w_ih: &self.w_ih,
            w_hh: &self.w_hh,
            bias: &self.bias,
            recurrent_bias: self.rbias.as_ref(),
        }
    }

    fn forward<T: Tape<E, Cpu>>(
        &self,
        x: Tensor<(usize, usize, Const<F>), E, Cpu, T>,
        fast: bool,
        case: &Case,
    ) -> Tensor<(usize, usize, Const<U>), E, Cpu, T> {
        if fast {
            Cpu::try_recurrent(
                case.cell,
                x,
                self.weights(),
                case.reverse,
                self.mask.as_ref(),
            )
            .unwrap()
        } else {
            try_recurrent_generic(
                case.cell,
                x,
                self.weights(),
                case.reverse,
                self.mask.as_ref(),
            )
            .unwrap()
        }
    }

    /// The outputs, then the gradients of `sum(out * r)` w.r.t. x, w_ih, w_hh, bias and the
    /// recurrent bias (when there is one).
    fn outputs_and_grads(&self, case: &Case, fast: bool) -> Vec<Vec<f64>> {
        let out = self.forward(self.x.leaky_trace(), fast, case);
        let y = out.as_vec();
        let grads = out
            .try_mul(self.r.clone())
            .unwrap()
            .sum::<Rank0, _>()
            .backward();
        let mut all = vec![
            y,
            grads.get(&self.x).as_vec(),
            grads.get(&self.w_ih).as_vec(),
            grads.get(&self.w_hh).as_vec(),
            grads.get(&self.bias).as_vec(),
        ];
        if let Some(rb) = &self.rbias {
            all.push(grads.get(rb).as_vec());
        }
        all.into_iter()
            .map(|v| v.iter().map(|a| a.to_f64().unwrap()).collect())
            .collect()
    }

    fn loss(&self, case: &Case) -> f64 {
        let out = self.forward(self.x.clone(), true, case);
        out.try_mul(self.r.clone())
            .unwrap()
            .sum::<Rank0, _>()
            .array()
            .to_f64()
            .unwrap()
    }
}

const NAMES: [&str; 6] = [
    "output",
    "d x",
    "d w_ih",
    "d w_hh",
    "d bias",
    "d recurrent_bias",
];

/// `a` and `b` agree to `tol` relative to the larger of the two, with a floor at 1% of the
/// vector's largest magnitude (so that values near zero are compared on the vector's scale).
fn assert_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = a.iter().chain(b).fold(0.0f64, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let bound = tol * x.abs().max(y.abs()).max(0.01 * scale);
        assert!(
            (x - y).abs() <= bound,
            "{what}[{i}]: {x} vs {y} (bound {bound})"
        );
    }
}

fn fast_matches_generic<E: RecurrentFloat>(case: Case)
where
    Cpu: Device<E>,
{
    fn run<E: RecurrentFloat, const G: usize>(case: Case)
    where
        Cpu: Device<E>,
    {
        let t = Tensors::<E, G>::new(&Problem::random(case, 7 + case.batch as u64));
        // The kernel's kept rows and gradients are scratch buffers, never zeroed: fill the
        // pool with NaNs first, so that a row read before it is written shows.
        let most = case.batch * case.steps * G * U;
        let poisoned: Vec<_> = (0..8)
            .map(|_| Scratch::<E>::for_overwriting(most))
            .collect();
        for mut buf in poisoned {
            buf.fill(E::nan());
        }
        // Three threads: a batch of 13 splits into three uneven parts, whose gradients are
        // summed in order.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let fast = pool.install(|| t.outputs_and_grads(&case, true));
        let oracle = t.outputs_and_grads(&case, false);
        for (k, (a, b)) in fast.iter().zip(&oracle).enumerate() {
            assert!(
                a.iter().any(|v| *v != 0.0),
                "{case:?}: {} is all zero",
                NAMES[k]
            );
            assert_close(
                a,
                b,
                1e-4,
                &format!("{case:?} {} ({})", NAMES[k], std::any::type_name::<E>()),
            );
        }
    }
    match case.cell {
        Cell::Lstm => run::<E, 4>(case),
        Cell::Gru => run::<E, 3>(case),
        Cell::SimpleRnn => run::<E, 1>(case),
    }
}

/// Every option of the op at batch 1 and at batches that are split across threads (on three,
/// 11 in two parts and 13 in three; the parts are uneven), in f32 and f64.
fn agreement_cases(cell: Cell) -> Vec<Case> {
    let mut cases = Vec::new();
    for batch in [1, 11, 13] {
        for (reverse, padding) in [
            (false, Padding::None),
            (true, Padding::None),
            (false, Padding::Post),
            (false, Padding::Pre),
            (true, Padding::Post),
            (true, Padding::Pre),
            (false, Padding::Holes),
            (true, Padding::Holes),
        ] {
            let recurrent_bias = cell == Cell::Gru;
            cases.push(Case {
                cell,
                batch,
                steps: 6,
                reverse,
                padding,
                recurrent_bias,
            });
        }
        // The op accepts a recurrent bias for every cell (GRU: also without one).
        cases.push(Case {
            cell,
            batch,
            steps: 6,
            reverse: false,
            padding: Padding::Post,
            recurrent_bias: cell != Cell::Gru,
        });
    }
    cases
}

#[test]
fn lstm_fast_matches_generic() {
    for case in agreement_cases(Cell::Lstm) {
        fast_matches_generic::<f32>(case);
        fast_matches_generic::<f64>(case);
    }
}

#[test]
fn gru_fast_matches_generic() {
    for case in agreement_cases(Cell::Gru) {
        fast_matches_generic::<f32>(case);
        fast_matches_generic::<f64>(case);
    }
}

#[test]
fn simple_rnn_fast_matches_generic() {
    for case in agreement_cases(Cell::SimpleRnn) {
        fast_matches_generic::<f32>(case);
        fast_matches_generic::<f64>(case);
    }
}

/// Central differences of the loss through the fast kernel against its analytic gradients,
/// for every input and parameter element, in f64.
fn finite_differences(case: Case) {
    fn run<const G: usize>(case: Case) {
        let p = Problem::random(case, 99);
        let analytic = Tensors::<f64, G>::new(&p).outputs_and_grads(&case, true);
        let eps = 1e-6;
        let fields: [fn(&mut Problem) -> Option<&mut Vec<f64>>; 5] = [
            |p| Some(&mut p.x),
            |p| Some(&mut p.w_ih),
            |p| Some(&mut p.w_hh),
            |p| Some(&mut p.bias),
            |p| p.rbias.as_mut(),
        ];
        for (k, field) in fields.iter().enumerate() {
            let Some(n) = field(&mut p.clone()).map(|v| v.len()) else {
                continue;
            };
            let numeric: Vec<f64> = (0..n)
                .map(|i| {
                    let at = |delta: f64| {
                        let mut q = p.clone();
                        field(&mut q).unwrap()[i] += delta;
                        Tensors::<f64, G>::new(&q).loss(&case)
                    };
                    (at(eps) - at(-eps)) / (2.0 * eps)
                })
                .collect();
            assert_close(
                &analytic[k + 1],
                &numeric,
                1e-6,
                &format!("{case:?} {}", NAMES[k + 1]),
            );
        }
    }
    match case.cell {
        Cell::Lstm => run::<4>(case),
        Cell::Gru => run::<3>(case),
        Cell::SimpleRnn => run::<1>(case),
    }
}

#[test]
fn finite_differences_match_fast_gradients() {
    for cell in [Cell::Lstm, Cell::Gru, Cell::SimpleRnn] {
        for (reverse, padding) in [
            (false, Padding::None),
            (false, Padding::Post),
            (true, Padding::Pre),
            (false, Padding::Holes),
            (true, Padding::Holes),
        ] {
            let recurrent_bias = cell == Cell::Gru;
            finite_differences(Case {
                cell,
                batch: 3,
                steps: 4,
                reverse,
                padding,
                recurrent_bias,
            });
        }
    }
}

// Known values. The expected figures come from a plain-Python transcription of the equations in
// PyTorch's torch.nn.LSTM / torch.nn.GRU documentation (math.exp and math.tanh in f64), run once
// on the weights below and pasted here:
//
//   sig = lambda v: 1/(1+math.exp(-v)); mv = lambda W, v: [sum(W[r][c]*v[c] for c in range(2)) for r in range(len(W))]
//   LSTM: for xt in x: a = [p+q+b1+b2 for p,q,b1,b2 in zip(mv(w_ih,xt), mv(w_hh,h), b_ih, b_hh)]
//         i, f, g, o = sig(a[0:2]), sig(a[2:4]), tanh(a[4:6]), sig(a[6:8])
//         c = f*c + i*g; h = o*tanh(c)                                   (elementwise)
//   GRU:  for xt in x: gi = mv(w_ih,xt) + b_ih; gh = mv(w_hh,h) + b_hh
//         r = sig(gi[0:2]+gh[0:2]); z = sig(gi[2:4]+gh[2:4]); n = tanh(gi[4:6] + r*gh[4:6])
//         h = (1-z)*n + z*h
// with x = [[0.5, -1.0], [1.0, 0.25], [-0.5, 0.75]] and h = c = 0 at the start.

const KNOWN_X: [[f64; 2]; 3] = [[0.5, -1.0], [1.0, 0.25], [-0.5, 0.75]];

fn known_run<const G: usize>(
    cell: Cell,
    w_ih: [[f64; 2]; 8],
    w_hh: [[f64; 2]; 8],
    bias: [f64; 8],
    rbias: Option<[f64; 8]>,
) -> Vec<f64> {
    let dev = Cpu::default();
    let take =
        |v: &[[f64; 2]; 8]| -> Vec<f64> { v.iter().take(2 * G).flatten().copied().collect() };
    let w_ih: Tensor<Rank3<G, 2, 2>, f64, Cpu> =
        dev.tensor_from_vec(take(&w_ih), Default::default());
    let w_hh: Tensor<Rank3<G, 2, 2>, f64, Cpu> =
        dev.tensor_from_vec(take(&w_hh), Default::default());
    let bias: Tensor<Rank2<G, 2>, f64, Cpu> =
        dev.tensor_from_vec(bias[..2 * G].to_vec(), Default::default());
    let rbias: Option<Tensor<Rank2<G, 2>, f64, Cpu>> =
        rbias.map(|b| dev.tensor_from_vec(b[..2 * G].to_vec(), Default::default()));
    let weights = RecurrentWeights {
        w_ih: &w_ih,
        w_hh: &w_hh,
        bias: &bias,
        recurrent_bias: rbias.as_ref(),
    };
    let x: Tensor<Rank3<1, 3, 2>, f64, Cpu> = dev.tensor([KNOWN_X]);
    let fast = Cpu::try_recurrent(cell, x.clone(), weights, false, None)
        .unwrap()
        .as_vec();
    let generic = try_recurrent_generic(cell, x, weights, false, None)
        .unwrap()
        .as_vec();
    assert_close(&fast, &generic, 1e-12, "known values: fast vs generic");
    fast
}

#[test]
fn lstm_known_values() {
    let w_ih = [
        [0.1, -0.2],
        [0.3, 0.4],
        [-0.5, 0.2],
        [0.1, 0.1],
        [0.6, -0.3],
        [-0.2, 0.5],
        [0.2, 0.2],
        [-0.4, 0.3],
    ];
    let w_hh = [
        [0.2, 0.1],
        [-0.1, 0.3],
        [0.4, -0.2],
        [0.0, 0.5],
        [-0.3, 0.2],
        [0.1, -0.4],
        [0.3, 0.3],
        [0.2, -0.1],
    ];
    let b_ih = [0.1, -0.1, 0.2, 0.0, -0.2, 0.1, 0.05, 0.0];
    let b_hh = [0.0, 0.05, 0.3, 0.1, 0.0, -0.1, 0.1, 0.2];
    let bias: [f64; 8] = std::array::from_fn(|k| b_ih[k] + b_hh[k]);
    let h = known_run::<4>(Cell::Lstm, w_ih, w_hh, bias, None);
    let expected = [
        0.11237317271715738,
        -0.09560049791314362,
        0.15334027450762444,
        -0.06589114221648336,
        -0.06936349520722299,
        0.11271511572912546,
    ];
    assert_close(&h, &expected, 1e-12, "LSTM h_1..h_3");
    // The same weights with PyTorch's two biases kept apart: the LSTM only sees their sum.
    let split = known_run::<4>(Cell::Lstm, w_ih, w_hh, b_ih, Some(b_hh));
    assert_close(&split, &expected, 1e-12, "LSTM with the biases apart");
}

#[test]
fn gru_known_values() {
    let pad = |v: [[f64; 2]; 6]| -> [[f64; 2]; 8] {
        std::array::from_fn(|k| if k < 6 { v[k] } else { [0.0; 2] })
    };
    let w_ih = pad([
        [0.3, -0.1],
        [0.2, 0.4],
        [-0.2, 0.1],
        [0.5, -0.3],
        [0.4, 0.2],
        [-0.1, 0.6],
    ]);
    let w_hh = pad([
        [0.1, 0.2],
        [-0.3, 0.1],
        [0.2, 0.2],
        [0.0, -0.4],
        [0.5, -0.2],
        [0.3, 0.1],
    ]);
    let b_ih = [0.1, 0.0, -0.1, 0.2, 0.05, -0.05, 0.0, 0.0];
    let b_hh = [0.0, 0.1, 0.2, -0.1, 0.3, 0.1, 0.0, 0.0];
    let h = known_run::<3>(Cell::Gru, w_ih, w_hh, b_ih, Some(b_hh));
    let expected = [
        0.11665840445045614,
        -0.1972241975224735,
        0.3823699539598129,
        -0.10369583533773619,
        0.3218424641609775,
        0.2531430476294806,
    ];
    assert_close(&h, &expected, 1e-12, "GRU h_1..h_3");
}

/// The output of a problem's sequence `b` alone: its real steps only, in order.
fn alone<const G: usize>(p: &Problem, b: usize, fast: bool) -> Vec<f64> {
    let s = p.case.steps;
    let real: Vec<usize> = (0..s)
        .filter(|&t| p.mask.as_ref().unwrap()[b * s + t] == 1.0)
        .collect();
    if real.is_empty() {
        return Vec::new(); // (dfdx's as_vec cannot read an empty tensor)
    }
    let q = Problem {
        case: Case {
            batch: 1,
            steps: real.len(),
            padding: Padding::None,
            ..p.case
        },
        x: real
            .iter()
            .flat_map(|&t| p.x[(b * s + t) * F..(b * s + t + 1) * F].to_vec())
            .collect(),
        mask: None,
        r: vec![0.0; real.len() * U],
        ..p.clone()
    };
    let t = Tensors::<f64, G>::new(&q);
    t.forward(t.x.clone(), fast, &q.case).as_vec()
}

/// Padded steps leave the state and the output unchanged (Keras): a padded step repeats the
/// previous output, padding before the first real step outputs zeros, and the real steps give
/// what the sequence of the real steps alone gives.
fn check_mask_semantics<const G: usize>(cell: Cell) {
    for padding in [Padding::Post, Padding::Pre, Padding::Holes] {
        for reverse in [false, true] {
            for fast in [true, false] {
                let case = Case {
                    cell,
                    batch: 9,
                    steps: 7,
                    reverse,
                    padding,
                    recurrent_bias: cell == Cell::Gru,
                };
                let p = Problem::random(case, 5);
                let t = Tensors::<f64, G>::new(&p);
                let y = t.forward(t.x.clone(), fast, &case).as_vec();
                let mask = p.mask.as_ref().unwrap();
                let s = case.steps;
                let row = |b: usize, t: usize| &y[(b * s + t) * U..(b * s + t + 1) * U];
                for b in 0..case.batch {
                    // Walk in processing order: before any real step, zeros; at padding, a repeat.
                    let order: Vec<usize> = if reverse {
                        (0..s).rev().collect()
                    } else {
                        (0..s).collect()
                    };
                    for (k, &t) in order.iter().enumerate() {
                        if mask[b * s + t] == 0.0 {
                            let expected = if k == 0 {
                                &[0.0; U][..]
                            } else {
                                row(b, order[k - 1])
                            };
                            assert_eq!(
                                row(b, t),
                                expected,
                                "{case:?} fast={fast}: padded step {t} of sequence {b}"
                            );
                        }
                    }
                    let real: Vec<f64> = (0..s)
                        .filter(|&t| mask[b * s + t] == 1.0)
                        .flat_map(|t| row(b, t).to_vec())
                        .collect();
                    assert_close(
                        &real,
                        &alone::<G>(&p, b, fast),
                        1e-12,
                        &format!("{case:?} fast={fast}: sequence {b} alone"),
                    );
                }
            }
        }
    }
}

#[test]
fn mask_leaves_padded_steps_unchanged() {
    check_mask_semantics::<4>(Cell::Lstm);
    check_mask_semantics::<3>(Cell::Gru);
    check_mask_semantics::<1>(Cell::SimpleRnn);
}

/// `reverse` runs the time-reversed sequence and gives its outputs back in input order.
#[test]
fn reverse_is_the_reversed_sequence() {
    fn run<const G: usize>(cell: Cell) {
        let case = Case {
            cell,
            batch: 10,
            steps: 5,
            reverse: true,
            padding: Padding::None,
            recurrent_bias: cell == Cell::Gru,
        };
        let p = Problem::random(case, 11);
        let (b, s) = (case.batch, case.steps);
        let flip = |v: &[f64], w: usize| -> Vec<f64> {
            (0..b * s)
                .flat_map(|i| {
                    let (bb, t) = (i / s, i % s);
                    v[(bb * s + s - 1 - t) * w..][..w].to_vec()
                })
                .collect()
        };
        let q = Problem {
            case: Case {
                reverse: false,
                ..case
            },
            x: flip(&p.x, F),
            ..p.clone()
        };
        let (tp, tq) = (Tensors::<f64, G>::new(&p), Tensors::<f64, G>::new(&q));
        let reversed = tp.forward(tp.x.clone(), true, &p.case).as_vec();
        let forward = tq.forward(tq.x.clone(), true, &q.case).as_vec();
        assert_close(&reversed, &flip(&forward, U), 1e-12, &format!("{cell:?}"));
    }
    run::<4>(Cell::Lstm);
    run::<3>(Cell::Gru);
    run::<1>(Cell::SimpleRnn);
}

/// A non-contiguous (permuted) input is read in its logical order, and its gradient arrives.
#[test]
fn permuted_input_is_read_logically() {
    let case = Case {
        cell: Cell::Lstm,
        batch: 2,
        steps: 3,
        reverse: false,
        padding: Padding::None,
        recurrent_bias: false,
    };
    let t = Tensors::<f64, 4>::new(&Problem::random(case, 3));
    // The same values stored time-major (S, B, F), viewed as (B, S, F).
    let time_major: Tensor<(usize, usize, Const<F>), f64, Cpu> =
        t.x.clone()
            .permute::<_, Axes3<1, 0, 2>>()
            .reshape_like(&(3, 2, Const));
    let x_perm = time_major.permute::<(usize, usize, Const<F>), Axes3<1, 0, 2>>();
    let grad_x = |x: &Tensor<(usize, usize, Const<F>), f64, Cpu>| {
        let out = t.forward(x.leaky_trace(), true, &case);
        let y = out.as_vec();
        (
            y,
            out.try_mul(t.r.clone())
                .unwrap()
                .sum::<Rank0, _>()
                .backward()
                .get(x)
                .as_vec(),
        )
    };
    assert_eq!(grad_x(&t.x), grad_x(&x_perm));
}

/// No steps or no sequences: an empty output, on both paths, with or without a mask.
#[test]
fn empty_batches_and_sequences() {
    for (batch, steps) in [(3, 0), (0, 4)] {
        for padding in [Padding::None, Padding::Post] {
            let case = Case {
                cell: Cell::Gru,
                batch,
                steps,
                reverse: false,
                padding,
                recurrent_bias: true,
            };
            let t = Tensors::<f32, 3>::new(&Problem::random(case, 1));
            for fast in [true, false] {
                // (dfdx's own sum divides by zero on an empty tensor, so no backward here.)
                let y = t.forward(t.x.leaky_trace(), fast, &case);
                assert_eq!(*y.shape(), (batch, steps, Const::<U>));
            }
        }
    }
}

/// A mask of another (batch, steps) is the device's `WrongNumElements` error on both paths;
/// the generic one, which every non-`Cpu` device runs, panicked.
#[test]
fn a_mask_of_another_shape_is_an_error_on_both_paths() {
    let case = Case {
        cell: Cell::Lstm,
        batch: 2,
        steps: 3,
        reverse: false,
        padding: Padding::Post,
        recurrent_bias: false,
    };
    let mut t = Tensors::<f32, 4>::new(&Problem::random(case, 5));
    let dev = Cpu::default();
    for (b, s) in [(3, 3), (2, 4), (0, 0)] {
        t.mask = Some(dev.zeros_like(&(b, s)));
        let fast = Cpu::try_recurrent(
            case.cell,
            t.x.leaky_trace(),
            t.weights(),
            false,
            t.mask.as_ref(),
        );
        assert!(matches!(fast, Err(CpuError::WrongNumElements)), "{b}x{s}");
        let generic = try_recurrent_generic(
            case.cell,
            t.x.leaky_trace(),
            t.weights(),
            false,
            t.mask.as_ref(),
        );
        assert!(
            matches!(generic, Err(CpuError::WrongNumElements)),
            "{b}x{s}"
        );
    }
}

// ---------------------------------------------------------------- properties (proptest)

/// Random cell, batch (0 to 3), steps (0 to 4), features, units, direction, mask and
/// recurrent bias: the fast kernel agrees with the generic one in the output and every
/// gradient. Features and units are type parameters, so they come from a table.
mod properties {
    use super::*;
    use proptest::prelude::*;
    use rand::Rng;

    #[derive(Clone, Debug)]
    struct Draw {
        cell: Cell,
        batch: usize,
        steps: usize,
        reverse: bool,
        recurrent_bias: bool,
        /// One bit per (sequence, step) when masked: 1 real, 0 padding.
        mask: Option<Vec<bool>>,
        seed: u64,
    }

    fn run<const F: usize, const G: usize, const U: usize>(d: &Draw) {
        let (b, s) = (d.batch, d.steps);
        let mut rng = StdRng::seed_from_u64(d.seed);
        let mut v = |n: usize, scale: f32| -> Vec<f32> {
            (0..n).map(|_| rng.gen_range(-scale..scale)).collect()
        };
        let dev = Cpu::default();
        let x: Tensor<(usize, usize, Const<F>), f32, Cpu> =
            dev.tensor_from_vec(v(b * s * F, 1.0), (b, s, Const));
        let w_ih: Tensor<Rank3<G, U, F>, f32, Cpu> =
            dev.tensor_from_vec(v(G * U * F, 0.6), Default::default());
        let w_hh: Tensor<Rank3<G, U, U>, f32, Cpu> =
            dev.tensor_from_vec(v(G * U * U, 0.6), Default::default());
        let bias: Tensor<Rank2<G, U>, f32, Cpu> =
            dev.tensor_from_vec(v(G * U, 0.5), Default::default());
        let rbias: Option<Tensor<Rank2<G, U>, f32, Cpu>> = d
            .recurrent_bias
            .then(|| dev.tensor_from_vec(v(G * U, 0.5), Default::default()));
        let r: Tensor<(usize, usize, Const<U>), f32, Cpu> =
            dev.tensor_from_vec(v(b * s * U, 1.0), (b, s, Const));
        let mask: Option<Tensor<(usize, usize), f32, Cpu>> = d.mask.as_ref().map(|m| {
            let m = m.iter().map(|&real| if real { 1.0 } else { 0.0 }).collect();
            dev.tensor_from_vec(m, (b, s))
        });
        let weights = RecurrentWeights {
            w_ih: &w_ih,
            w_hh: &w_hh,
            bias: &bias,
            recurrent_bias: rbias.as_ref(),
        };
        let mut results = Vec::new();
        for fast in [true, false] {
            let out = if fast {
                Cpu::try_recurrent(d.cell, x.leaky_trace(), weights, d.reverse, mask.as_ref())
            } else {
                try_recurrent_generic(d.cell, x.leaky_trace(), weights, d.reverse, mask.as_ref())
            }
            .unwrap();
            assert_eq!(*out.shape(), (b, s, Const::<U>));
            // (dfdx 0.13's `as_vec` indexes element 0 even of an empty tensor: `read`.)
            let mut all = vec![crate::ops::cpu::read(&out).to_vec()];
            // dfdx's sum divides by zero on an empty tensor: no backward without outputs.
            if b * s > 0 {
                let grads = out.try_mul(r.clone()).unwrap().sum::<Rank0, _>().backward();
                all.push(grads.get(&x).as_vec());
                all.push(grads.get(&w_ih).as_vec());
                all.push(grads.get(&w_hh).as_vec());
                all.push(grads.get(&bias).as_vec());
                if let Some(rb) = &rbias {
                    all.push(grads.get(rb).as_vec());
                }
            }
            results.push(all);
        }
        for (k, (a, o)) in results[0].iter().zip(&results[1]).enumerate() {
            let a: Vec<f64> = a.iter().map(|&v| f64::from(v)).collect();
            let o: Vec<f64> = o.iter().map(|&v| f64::from(v)).collect();
            // f32 sums of terms near 1 round at about 1e-7 whatever the result's size, so a
            // gradient near 1e-6 needs an absolute floor besides the relative bound.
            let (a, o): (Vec<f64>, Vec<f64>) = a
                .iter()
                .zip(&o)
                .map(|(&x, &y)| {
                    if (x - y).abs() <= 1e-6 {
                        (x, x)
                    } else {
                        (x, y)
                    }
                })
                .unzip();
            assert_close(&a, &o, 1e-4, &format!("{d:?} F={F} U={U} {}", NAMES[k]));
        }
    }

    /// (F, U) pairs the property draws from. U = 20 spans two of the step kernel's 16-column
    /// panels (its state rows are padded to 32).
    const SIZES: [(usize, usize); 6] = [(1, 1), (3, 5), (4, 2), (2, 7), (6, 3), (3, 20)];

    fn dispatch<const G: usize>(sizes: usize, d: &Draw) {
        match SIZES[sizes] {
            (1, 1) => run::<1, G, 1>(d),
            (3, 5) => run::<3, G, 5>(d),
            (4, 2) => run::<4, G, 2>(d),
            (2, 7) => run::<2, G, 7>(d),
            (6, 3) => run::<6, G, 3>(d),
            (3, 20) => run::<3, G, 20>(d),
            other => unreachable!("{other:?}"),
        }
    }

    fn draw() -> impl Strategy<Value = Draw> {
        let cell = prop_oneof![Just(Cell::Lstm), Just(Cell::Gru), Just(Cell::SimpleRnn)];
        (
            cell,
            0usize..4,
            0usize..5,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<u64>(),
        )
            .prop_flat_map(
                |(cell, batch, steps, reverse, recurrent_bias, masked, seed)| {
                    let mask = if masked {
                        proptest::collection::vec(any::<bool>(), batch * steps)
                            .prop_map(Some)
                            .boxed()
                    } else {
                        Just(None).boxed()
                    };
                    mask.prop_map(move |mask| Draw {
                        cell,
                        batch,
                        steps,
                        reverse,
                        recurrent_bias,
                        mask,
                        seed,
                    })
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 160,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn recurrent_fast_agrees_with_generic_on_random_sizes(
            d in draw(),
            sizes in 0..SIZES.len(),
        ) {
            match d.cell {
                Cell::Lstm => dispatch::<4>(sizes, &d),
                Cell::Gru => dispatch::<3>(sizes, &d),
                Cell::SimpleRnn => dispatch::<1>(sizes, &d),
            }
        }
    }
}
