//! The convolution with a max pool fused ([`Conv2DKernel::try_conv2d_max_pool`]): values
//! worked by hand, equality with the convolution then the pooling op, agreement with the
//! generic path, and finite differences.

use super::tests::{assert_close, dev, dot, numeric_grad, random, rect, window};
use super::{try_conv2d_generic, Conv2DKernel};
use crate::ops::cpu::{CpuFloat, Scratch};
use crate::ops::pool2d::{try_pool2d_generic, Pool2DKernel, PoolKind};
use crate::ops::OutputActivation::{self, Identity, Relu};
use crate::ops::Window2D;
use dfdx::prelude::*;

/// Which implementation a test runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// `Cpu`'s fused kernel.
    Fused,
    /// `Cpu`'s convolution, then its max pool, as two ops.
    Apart,
    /// The device-generic convolution, then the generic max pool.
    Generic,
}
use Path::{Apart, Fused, Generic};

/// A problem: the input, the parameters, the windows, the fused activation, and the
/// weights `r` of the scalar loss `sum(pool(conv(x)) * r)` whose gradients the tests compare.
#[derive(Clone)]
struct Problem<E> {
    x: Vec<E>,
    w: Vec<E>,
    b: Vec<E>,
    r: Vec<E>,
    conv: Window2D,
    pool: Window2D,
    activation: OutputActivation,
}

/// What one run produces: the output and the gradients of x, weight and bias.
struct Run<E> {
    out: Vec<E>,
    gx: Vec<E>,
    gw: Vec<E>,
    gb: Vec<E>,
}

/// (B, C, H, W) convolved by F filters of KH x KW to (B, F, OH, OW), pooled to (B, F, YH, YW).
#[allow(clippy::type_complexity)]
fn forward<
    E: CpuFloat,
    B: Dim,
    T: Tape<E, Cpu>,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
    const YH: usize,
    const YW: usize,
>(
    path: Path,
    x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Cpu, T>,
    w: &Tensor<Rank4<F, C, KH, KW>, E, Cpu>,
    b: &Tensor<Rank1<F>, E, Cpu>,
    p: &Problem<E>,
) -> Tensor<(B, Const<F>, Const<YH>, Const<YW>), E, Cpu, T>
where
    Cpu: Device<E>,
{
    let (conv, pool, act) = (p.conv, p.pool, p.activation);
    match path {
        Fused => Cpu::try_conv2d_max_pool::<_, _, C, H, W, F, KH, KW, OH, OW, YH, YW>(
            x, w, b, conv, act, pool,
        ),
        Apart => Cpu::try_conv2d::<_, _, C, H, W, F, KH, KW, OH, OW>(x, w, b, conv, act)
            .and_then(|y| Cpu::try_pool2d(y, PoolKind::Max, pool)),
        Generic => try_conv2d_generic::<_, _, _, _, C, H, W, F, KH, KW, OH, OW>(x, w, b, conv, act)
            .and_then(|y| try_pool2d_generic(y, PoolKind::Max, pool)),
    }
    .unwrap()
}

/// [`forward`] on N images, then the loss's backward when `taped` (else the gradients are 0).
#[allow(clippy::type_complexity)]
fn run<
    E: CpuFloat,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
    const YH: usize,
    const YW: usize,
>(
    path: Path,
    p: &Problem<E>,
    taped: bool,
) -> Run<E>
where
    Cpu: Device<E>,
{
    let dev = dev();
    let x: Tensor<Rank4<N, C, H, W>, E, Cpu> = dev.tensor_from_vec(p.x.clone(), Default::default());
    let w: Tensor<Rank4<F, C, KH, KW>, E, Cpu> =
        dev.tensor_from_vec(p.w.clone(), Default::default());
    let b: Tensor<Rank1<F>, E, Cpu> = dev.tensor_from_vec(p.b.clone(), Default::default());
    if !taped {
        // No tape: no backward, and nothing kept for one.
        let y = forward::<E, _, _, C, H, W, F, KH, KW, OH, OW, YH, YW>(path, x, &w, &b, p);
        let zeros = |n| vec![E::zero(); n];
        return Run {
            out: y.as_vec(),
            gx: zeros(p.x.len()),
            gw: zeros(p.w.len()),
            gb: zeros(p.b.len()),
        };
    }
    let y =
        forward::<E, _, _, C, H, W, F, KH, KW, OH, OW, YH, YW>(path, x.leaky_trace(), &w, &b, p);
    let out = y.as_vec();
    let r = dev.tensor_from_vec(p.r.clone(), *y.shape());
    let grads = (y * r).sum().backward();
    Run {
        out,
        gx: grads.get(&x).as_vec(),
        gw: grads.get(&w).as_vec(),
        gb: grads.get(&b).as_vec(),
    }
}

/// A random problem of `N` images of (C, H, W), F filters of KH x KW, pooled to (YH, YW).
fn problem<E: CpuFloat>(
    seed: u64,
    [n, c, h, w, f, kh, kw, yh, yw]: [usize; 9],
    conv: Window2D,
    pool: Window2D,
    activation: OutputActivation,
) -> Problem<E> {
    Problem {
        x: random(seed, n * c * h * w),
        w: random(seed + 1, f * c * kh * kw),
        b: random(seed + 2, f),
        r: random(seed + 3, n * f * yh * yw),
        conv,
        pool,
        activation,
    }
}

/// The fused kernel gives what the convolution then the pooling op give, to rounding (its
/// patches are channels-last, so it sums the same products in another order) and agrees
/// with the generic path, with and without a fused ReLU, taped or not.
fn check<
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
    const YH: usize,
    const YW: usize,
>(
    conv: Window2D,
    pool: Window2D,
    seed: u64,
) {
    // The kernel's scratch buffers are never zeroed: fill the pool with NaNs first, so that
    // an element read before it is written shows.
    let poisoned: Vec<_> = (0..8)
        .map(|_| Scratch::<f64>::for_overwriting(N * F * OH * OW))
        .collect();
    for mut buf in poisoned {
        buf.fill(f64::NAN);
    }
    for activation in [Identity, Relu] {
        let sizes = [N, C, H, W, F, KH, KW, YH, YW];
        let p = problem::<f64>(seed, sizes, conv, pool, activation);
        let what = format!("{sizes:?} {conv:?} {pool:?} {activation:?}");
        let go = |path, taped| run::<f64, N, C, H, W, F, KH, KW, OH, OW, YH, YW>(path, &p, taped);
        let (fused, apart, generic) = (go(Fused, true), go(Apart, true), go(Generic, true));
        assert!(
            fused.out.iter().all(|v| v.is_finite()),
            "{what}: {:?}",
            fused.out
        );
        assert_close(&format!("{what} out, apart"), &fused.out, &apart.out, 1e-13);
        assert_close(&format!("{what} dx, apart"), &fused.gx, &apart.gx, 1e-13);
        assert_close(&format!("{what} dw, apart"), &fused.gw, &apart.gw, 1e-13);
        assert_close(&format!("{what} db, apart"), &fused.gb, &apart.gb, 1e-13);
        // Untaped, the kernel keeps columns whatever the channels.
        let untaped = go(Fused, false).out;
        assert_close(&format!("{what} untaped out"), &untaped, &fused.out, 1e-13);
        assert_close(&format!("{what} out"), &fused.out, &generic.out, 1e-12);
        assert_close(&format!("{what} dx"), &fused.gx, &generic.gx, 1e-12);
        assert_close(&format!("{what} dw"), &fused.gw, &generic.gw, 1e-12);
        assert_close(&format!("{what} db"), &fused.gb, &generic.gb, 1e-12);
    }
}

// The kernel keeps the patches of an input of 8 channels or more as rows, with a sparse
// backward, and those of fewer as columns (`Layout` in `cpu.rs`): the tests below run both,
// with inputs of 1 or 2 channels and of 8.

#[test]
fn a_fused_max_pool_in_tiles_equals_the_two_ops() {
    // The seed CNN's first block: 3x3 convolution, 2x2 pool.
    check::<2, 1, 8, 8, 4, 3, 3, 6, 6, 3, 3>(window(3, 1, 1, 0), window(2, 2, 1, 0), 1);
    check::<2, 8, 8, 8, 4, 3, 3, 6, 6, 3, 3>(window(3, 1, 1, 0), window(2, 2, 1, 0), 1);
}

#[test]
fn a_fused_max_pool_drops_the_last_row_and_column_of_an_odd_output() {
    // 13 -> 11 -> 5, as the seed CNN's second block pools 11 to 5.
    check::<2, 2, 13, 13, 3, 3, 3, 11, 11, 5, 5>(window(3, 1, 1, 0), window(2, 2, 1, 0), 2);
    check::<2, 8, 13, 13, 3, 3, 3, 11, 11, 5, 5>(window(3, 1, 1, 0), window(2, 2, 1, 0), 2);
}

#[test]
fn a_fused_max_pool_of_small_outputs_runs_many_images_a_group() {
    // A 3x3 output puts several images in a gemm group: 9 images end in a shorter group.
    check::<9, 2, 5, 5, 3, 3, 3, 3, 3, 1, 1>(window(3, 1, 1, 0), window(3, 3, 1, 0), 3);
    check::<9, 8, 5, 5, 3, 3, 3, 3, 3, 1, 1>(window(3, 1, 1, 0), window(3, 3, 1, 0), 3);
}

#[test]
fn a_fused_max_pool_of_overlapping_padded_windows_equals_the_two_ops() {
    // Keras's MaxPool<3, stride = 2, padding = same> after a strided, padded convolution, and
    // a rectangular pool that overlaps along the rows only; with rows, a padded, dilated
    // convolution (its taps are not one run).
    check::<3, 2, 9, 9, 3, 3, 3, 5, 5, 3, 3>(window(3, 2, 1, 1), window(3, 2, 1, 1), 4);
    check::<3, 8, 9, 9, 3, 3, 3, 5, 5, 3, 3>(window(3, 2, 1, 1), window(3, 2, 1, 1), 4);
    let rows_only = rect([3, 1, 1, 1], [1, 1, 1, 0]);
    check::<2, 1, 6, 7, 2, 2, 2, 5, 6, 5, 6>(window(2, 1, 1, 0), rows_only, 5);
    check::<2, 9, 6, 7, 2, 2, 2, 5, 6, 5, 6>(window(2, 1, 1, 0), rows_only, 5);
    let dilated = rect([3, 1, 2, 1], [3, 1, 2, 2]);
    check::<2, 8, 7, 8, 3, 3, 3, 5, 8, 4, 7>(dilated, rect([2, 1, 1, 0], [2, 1, 1, 0]), 6);
}

#[test]
fn fused_max_pool_values_and_gradients_by_hand() {
    by_hand::<1>();
    by_hand::<8>();
}

/// A 1x1 kernel of weight 2 on channel 0 (0 on the others) and bias -12, on the 4x4 ramp x
/// = 0..16 in channel 0 (channel k holds the ramp times k + 1): y = 2x - 12. The 2x2
/// windows' maxima lie at x = 5, 7, 13 and 15: y = -2, 2, 14, 18. With the fused ReLU the
/// first becomes 0 and passes no gradient; without it, -2 passes its gradient.
fn by_hand<const C: usize>() {
    let ramp: Vec<f64> = (0..16).map(f64::from).collect();
    let x: Vec<f64> = (0..C)
        .flat_map(|k| ramp.iter().map(move |v| v * (k + 1) as f64))
        .collect();
    let mut w = vec![0.0; C];
    w[0] = 2.0;
    let r = vec![1.0, 10.0, 100.0, 1000.0];
    for (activation, out, passing) in [
        (Relu, [0.0, 2.0, 14.0, 18.0], [false, true, true, true]),
        (Identity, [-2.0, 2.0, 14.0, 18.0], [true; 4]),
    ] {
        let p = Problem {
            x: x.clone(),
            w: w.clone(),
            b: vec![-12.0],
            r: r.clone(),
            conv: window(1, 1, 1, 0),
            pool: window(2, 2, 1, 0),
            activation,
        };
        // dL/dx is 2 r at each passing argmax of channel 0 (0 elsewhere); dL/dw_k sums r
        // x_k there, dL/db sums r.
        let mut gx = vec![0.0; 16 * C];
        let (mut gw, mut gb) = (vec![0.0; C], 0.0);
        for ((&at, &r), passes) in [5, 7, 13, 15].iter().zip(&r).zip(passing) {
            if passes {
                gx[at] = 2.0 * r;
                for (k, gw) in gw.iter_mut().enumerate() {
                    *gw += r * x[k * 16 + at];
                }
                gb += r;
            }
        }
        for path in [Fused, Apart, Generic] {
            let got = run::<f64, 1, C, 4, 4, 1, 1, 1, 4, 4, 2, 2>(path, &p, true);
            let what = format!("{C} channels, {path:?} {activation:?}");
            assert_eq!(got.out, out, "{what}: out");
            assert_eq!(got.gx, gx, "{what}: dx");
            assert_eq!((got.gw, got.gb[0]), (gw.clone(), gb), "{what}: dw, db");
        }
    }
}

#[test]
fn fused_max_pool_gradients_match_finite_differences() {
    finite_differences::<2>();
    finite_differences::<8>();
}

/// 2 images of (C, 7, 7), 3 filters of 3x3 padded: 7x7, pooled 2x2 to 3x3.
fn finite_differences<const C: usize>() {
    let (conv, pool) = (window(3, 1, 1, 1), window(2, 2, 1, 0));
    for activation in [Identity, Relu] {
        let p = problem::<f64>(6, [2, C, 7, 7, 3, 3, 3, 3, 3], conv, pool, activation);
        let loss = |x: &[f64], w: &[f64], b: &[f64]| {
            let q = Problem {
                x: x.to_vec(),
                w: w.to_vec(),
                b: b.to_vec(),
                ..p.clone()
            };
            let y = run::<f64, 2, C, 7, 7, 3, 3, 3, 7, 7, 3, 3>(Fused, &q, false).out;
            dot(&y, &p.r)
        };
        let eps = 1e-6;
        let gx = numeric_grad(&p.x, eps, |x| loss(x, &p.w, &p.b));
        let gw = numeric_grad(&p.w, eps, |w| loss(&p.x, w, &p.b));
        let gb = numeric_grad(&p.b, eps, |b| loss(&p.x, &p.w, b));
        let got = run::<f64, 2, C, 7, 7, 3, 3, 3, 7, 7, 3, 3>(Fused, &p, true);
        let what = format!("{C} channels, {activation:?}");
        assert_close(&format!("{what} dx"), &got.gx, &gx, 1e-5);
        assert_close(&format!("{what} dw"), &got.gw, &gw, 1e-5);
        assert_close(&format!("{what} db"), &got.gb, &gb, 1e-5);
    }
}

#[test]
fn fused_max_pool_in_f32_agrees_with_the_generic_path() {
    in_f32::<3>();
    in_f32::<8>();
}

fn in_f32<const C: usize>() {
    let (conv, pool) = (window(3, 1, 1, 0), window(2, 2, 1, 0));
    let p = problem::<f32>(7, [4, C, 12, 12, 8, 3, 3, 5, 5], conv, pool, Relu);
    let fused = run::<f32, 4, C, 12, 12, 8, 3, 3, 10, 10, 5, 5>(Fused, &p, true);
    let generic = run::<f32, 4, C, 12, 12, 8, 3, 3, 10, 10, 5, 5>(Generic, &p, true);
    assert_close("out", &fused.out, &generic.out, 1e-5);
    assert_close("dx", &fused.gx, &generic.gx, 1e-5);
    assert_close("dw", &fused.gw, &generic.gw, 1e-5);
    assert_close("db", &fused.gb, &generic.gb, 1e-5);
}
