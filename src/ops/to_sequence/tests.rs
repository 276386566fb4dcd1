//! Maps-to-sequence tests: values worked by hand, finite differences, and the fast kernel
//! held to the generic one, along both time axes.

use super::*;
use crate::ops::conv2d::tests::{
    assert_close, dev, dot, numeric_grad, random, Fast, Generic, Path,
};
use crate::ops::cpu::CpuFloat;

/// What one run gives: the sequence, and the gradient of `sum(seq * r)` with respect to
/// the maps, added to the gradient `x` already has from `sum(x * q)` when it runs (so a
/// kernel that overwrites instead of adding fails).
#[allow(clippy::type_complexity)]
fn run<
    E: CpuFloat,
    B: Dim,
    const C: usize,
    const H: usize,
    const W: usize,
    const STEPS: usize,
    const FEATURES: usize,
>(
    path: Path,
    batch: B,
    time: TimeAxis,
    x: &[E],
    r: &[E],
    q: &[E],
) -> (Vec<E>, Vec<E>)
where
    Cpu: Device<E>,
{
    let dev = dev();
    let x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Cpu> =
        dev.tensor_from_vec(x.to_vec(), (batch, Const, Const, Const));
    let traced = x.leaky_trace();
    let again = traced.with_empty_tape();
    let seq: Tensor<(B, Const<STEPS>, Const<FEATURES>), E, Cpu, _> = match path {
        Fast => Cpu::try_to_sequence(traced, time).unwrap(),
        Generic => try_to_sequence_generic(traced, time).unwrap(),
    };
    let out = crate::ops::cpu::read(&seq).to_vec();
    if out.is_empty() {
        return (out, Vec::new());
    }
    // Made after the sequence, so its backward runs first and the kernel's must add to it.
    let earlier = again * dev.tensor_from_vec(q.to_vec(), *x.shape());
    let r = dev.tensor_from_vec(r.to_vec(), *seq.shape());
    let grads = ((seq * r).sum() + earlier.sum()).backward();
    (out, grads.get(&x).as_vec())
}

fn agree<
    E: CpuFloat,
    B: Dim,
    const C: usize,
    const H: usize,
    const W: usize,
    const STEPS: usize,
    const FEATURES: usize,
>(
    batch: B,
    time: TimeAxis,
    seed: u64,
) where
    Cpu: Device<E>,
{
    let n = batch.size() * C * H * W;
    let (x, r, q) = (
        random::<E>(seed, n),
        random::<E>(seed + 1, n),
        random::<E>(seed + 2, n),
    );
    let fast = run::<E, B, C, H, W, STEPS, FEATURES>(Fast, batch, time, &x, &r, &q);
    let generic = run::<E, B, C, H, W, STEPS, FEATURES>(Generic, batch, time, &x, &r, &q);
    let what = format!("{}x{C}x{H}x{W} {time:?}", batch.size());
    assert_close(&format!("{what} out"), &fast.0, &generic.0, 0.0);
    assert_close(&format!("{what} dx"), &fast.1, &generic.1, 1e-6);
}

#[test]
fn sequences_by_hand_along_each_axis() {
    // One image of 2 channels of 2x3: x[c, h, w] = 100c + 10h + w.
    let x: Vec<f64> = (0..12)
        .map(|i| f64::from(100 * (i / 6) + 10 * (i / 3 % 2) + i % 3))
        .collect();
    let zeros = vec![0.0; 12];
    for path in [Fast, Generic] {
        // Width as time: 3 steps, each (c, h) = (0,0), (0,1), (1,0), (1,1) of one column.
        let (by_width, _) =
            run::<f64, Const<1>, 2, 2, 3, 3, 4>(path, Const, TimeAxis::Width, &x, &zeros, &zeros);
        let want = [
            0., 10., 100., 110., 1., 11., 101., 111., 2., 12., 102., 112.,
        ];
        assert_close(&format!("{path:?} width"), &by_width, &want, 0.0);
        // Height as time: 2 steps, each the row of both channels.
        let (by_height, _) =
            run::<f64, Const<1>, 2, 2, 3, 2, 6>(path, Const, TimeAxis::Height, &x, &zeros, &zeros);
        let want = [
            0., 1., 2., 100., 101., 102., 10., 11., 12., 110., 111., 112.,
        ];
        assert_close(&format!("{path:?} height"), &by_height, &want, 0.0);
    }
}

#[test]
fn gradients_match_finite_differences() {
    // The loss sum(seq(x) * r) + sum(x * q) is linear in x; its differences are exact up to
    // rounding.
    let n = 2 * 3 * 2 * 4;
    let (x, r, q) = (
        random::<f64>(1, n),
        random::<f64>(2, n),
        random::<f64>(3, n),
    );
    for time in [TimeAxis::Width, TimeAxis::Height] {
        let loss = |x: &[f64]| -> f64 {
            let seq = match time {
                TimeAxis::Width => {
                    run::<f64, Const<2>, 3, 2, 4, 4, 6>(Fast, Const, time, x, &r, &q).0
                }
                TimeAxis::Height => {
                    run::<f64, Const<2>, 3, 2, 4, 2, 12>(Fast, Const, time, x, &r, &q).0
                }
            };
            dot(&seq, &r) + dot(x, &q)
        };
        let want = numeric_grad(&x, 1e-6, loss);
        for path in [Fast, Generic] {
            let got = match time {
                TimeAxis::Width => {
                    run::<f64, Const<2>, 3, 2, 4, 4, 6>(path, Const, time, &x, &r, &q)
                }
                TimeAxis::Height => {
                    run::<f64, Const<2>, 3, 2, 4, 2, 12>(path, Const, time, &x, &r, &q)
                }
            };
            assert_close(&format!("{path:?} {time:?}"), &got.1, &want, 1e-7);
        }
    }
}

#[test]
fn fast_agrees_with_generic() {
    for seed in [10, 20] {
        agree::<f32, Const<3>, 4, 5, 6, 6, 20>(Const, TimeAxis::Width, seed);
        agree::<f32, Const<3>, 4, 5, 6, 5, 24>(Const, TimeAxis::Height, seed);
        agree::<f64, usize, 2, 7, 3, 3, 14>(5, TimeAxis::Width, seed);
        agree::<f64, usize, 2, 7, 3, 7, 6>(5, TimeAxis::Height, seed);
        // The CRNN's maps, a batch large enough for both cores.
        agree::<f32, usize, 32, 13, 13, 13, 416>(16, TimeAxis::Width, seed);
        // One channel, one row, one column: degenerate swaps.
        agree::<f32, usize, 1, 1, 4, 4, 1>(2, TimeAxis::Width, seed);
        agree::<f32, usize, 3, 1, 1, 1, 3>(2, TimeAxis::Height, seed);
        // An empty batch.
        agree::<f32, usize, 2, 3, 4, 4, 6>(0, TimeAxis::Width, seed);
    }
}

#[test]
#[should_panic(expected = "are not")]
fn a_sequence_the_maps_do_not_give_is_refused() {
    let x: Tensor<Rank4<1, 2, 3, 4>, f32, Cpu> = dev().zeros();
    let _: Tensor<Rank3<1, 4, 5>, f32, Cpu> = Cpu::try_to_sequence(x, TimeAxis::Width).unwrap();
}
