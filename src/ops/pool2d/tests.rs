//! Pooling tests: values worked by hand, finite differences, and the fast kernel held to
//! the generic one (on tie-free inputs for max pooling).

use super::*;
use crate::ops::conv2d::tests::{
    assert_close, dev, dot, image, numeric_grad, random, rect, window, Fast, Generic, Path,
};
use crate::ops::cpu::CpuFloat;
use PoolKind::{Avg, Max};

#[allow(clippy::type_complexity)]
fn pool<
    E: CpuFloat,
    B: Dim,
    T: Tape<E, Cpu>,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>(
    path: Path,
    x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Cpu, T>,
    kind: PoolKind,
    window: Window2D,
) -> Tensor<(B, Const<C>, Const<OH>, Const<OW>), E, Cpu, T>
where
    Cpu: Device<E>,
{
    match path {
        Fast => Cpu::try_pool2d(x, kind, window).unwrap(),
        Generic => try_pool2d_generic(x, kind, window).unwrap(),
    }
}

/// Output and input gradient of `sum(pool(x) * r)`.
#[allow(clippy::type_complexity)]
fn run<
    E: CpuFloat,
    B: Dim,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>(
    path: Path,
    batch: B,
    x: &[E],
    r: &[E],
    kind: PoolKind,
    window: Window2D,
) -> (Vec<E>, Vec<E>)
where
    Cpu: Device<E>,
{
    let x = image::<E, B, C, H, W>(batch, x.to_vec());
    let y = pool::<E, B, _, C, H, W, OH, OW>(path, x.leaky_trace(), kind, window);
    assert_eq!(
        y.shape().0.size(),
        batch.size(),
        "{path:?}: the output's batch"
    );
    // dfdx 0.13's `as_vec` and `sum` index element 0 even of an empty tensor (a panic):
    // an empty batch has an empty output and no loss to differentiate.
    let out = crate::ops::cpu::read(&y).to_vec();
    if out.is_empty() {
        return (out, Vec::new());
    }
    let r = dev().tensor_from_vec(r.to_vec(), *y.shape());
    let grads = (y * r).sum().backward();
    (out, grads.get(&x).as_vec())
}

/// Checks one single-plane pooling by hand on the given paths: its output, and the input
/// gradient for dL/dout = `g_out`.
#[allow(clippy::too_many_arguments)]
fn check_known<const H: usize, const W: usize, const OH: usize, const OW: usize>(
    paths: &[Path],
    x: &[f64],
    kind: PoolKind,
    window: Window2D,
    want: &[f64],
    g_out: &[f64],
    want_gx: &[f64],
) {
    for &path in paths {
        let (out, gx) = run::<f64, Const<1>, 1, H, W, OH, OW>(path, Const, x, g_out, kind, window);
        assert_close(
            &format!("{path:?} {kind:?} {window:?} out"),
            &out,
            want,
            1e-12,
        );
        assert_close(
            &format!("{path:?} {kind:?} {window:?} dx"),
            &gx,
            want_gx,
            1e-12,
        );
    }
}

/// x(i, j) = 4i + j + 1 on a 4x4 image: 1..=16 in row-major order.
fn ramp_4x4() -> Vec<f64> {
    (1..=16).map(f64::from).collect()
}

// ---------------------------------------------------------------- max pooling by hand

#[test]
fn max_pool_2x2_gradient_goes_to_the_first_maximum() {
    // Windows: [1 5 / 3 4] -> 5 at (0,1); [2 0 / 8 7] -> 8 at (1,2); [9 2 / 1 0] -> 9 at (2,0);
    // [6 6 / 3 2] -> 6, tied at (2,2) and (2,3): the first in row-major order, (2,2), takes it.
    #[rustfmt::skip]
    let x = [
        1., 5., 2., 0.,
        3., 4., 8., 7.,
        9., 2., 6., 6.,
        1., 0., 3., 2.,
    ];
    #[rustfmt::skip]
    let want_gx = [
        0., 1., 0., 0.,
        0., 0., 2., 0.,
        3., 0., 4., 0.,
        0., 0., 0., 0.,
    ];
    let g_out = [1., 2., 3., 4.];
    check_known::<4, 4, 2, 2>(
        &[Fast],
        &x,
        Max,
        window(2, 2, 1, 0),
        &[5., 8., 9., 6.],
        &g_out,
        &want_gx,
    );
    // The generic path (dfdx's max reduction) gives both tied elements the full gradient:
    // the one documented difference.
    let mut generic_gx = want_gx;
    generic_gx[11] = 4.;
    check_known::<4, 4, 2, 2>(
        &[Generic],
        &x,
        Max,
        window(2, 2, 1, 0),
        &[5., 8., 9., 6.],
        &g_out,
        &generic_gx,
    );
}

/// Checks one row of nine `K x K` windows (a `K x W` image, `W = 9K`) on the fast path: the
/// kernel takes it in blocks of 8 outputs (0-7, then 1-8 again). Each window is given as its
/// taps in row-major order and the tap that must take its gradient.
fn check_ties_in_a_row<const K: usize, const W: usize>(windows: [(&[f64], usize); 9]) {
    let (mut x, mut want_gx) = (vec![0.; K * W], vec![0.; K * W]);
    let mut want_out = [0.; 9];
    let g_out: Vec<f64> = (1..=9).map(f64::from).collect();
    for (j, (taps, first_max)) in windows.iter().enumerate() {
        let at = |t: usize| (t / K) * W + j * K + t % K;
        for (t, &v) in taps.iter().enumerate() {
            x[at(t)] = v;
        }
        want_out[j] = taps[*first_max];
        want_gx[at(*first_max)] = g_out[j];
    }
    let window = window(K, K, 1, 0);
    check_known::<K, W, 1, 9>(&[Fast], &x, Max, window, &want_out, &g_out, &want_gx);
}

#[test]
fn max_pool_ties_in_a_long_row_go_to_the_first_maximum() {
    check_ties_in_a_row::<2, 18>([
        (&[1., 1., 1., 1.], 0),
        (&[0., 5., 5., 0.], 1),
        (&[0., 0., 7., 7.], 2),
        (&[4., 1., 2., 4.], 0),
        (&[-3., -1., -2., -1.], 1),
        (&[2., 3., 9., 1.], 2),
        (&[0., 0., 0., 6.], 3),
        (&[8., 8., 1., 1.], 0),
        (&[-5., -6., -4., -4.], 2),
    ]);
    #[rustfmt::skip]
    let three_by_three: [(&[f64], usize); 9] = [
        (&[1., 1., 1., 1., 1., 1., 1., 1., 1.], 0),
        (&[1., 5., 5., 0., 0., 0., 0., 0., 0.], 1),
        (&[0., 0., 0., 0., 0., 4., 4., 0., 0.], 5),
        (&[0., 0., 2., 0., 0., 0., 0., 2., 2.], 2),
        (&[0., 0., 0., 3., 0., 3., 0., 0., 0.], 3),
        (&[-1., -2., -3., -4., -5., -6., -7., -8., -9.], 0),
        (&[0., 0., 0., 0., 0., 0., 6., 6., 6.], 6),
        (&[0., 0., 0., 0., 0., 0., 0., 0., 9.], 8),
        (&[2., 0., 7., 0., 7., 0., 7., 0., 0.], 2),
    ];
    check_ties_in_a_row::<3, 27>(three_by_three);
}

#[test]
fn max_pool_padding_never_wins_over_negative_values() {
    // x(i, j) = -(4i + j + 1): every value is negative, so a padding read as 0 would win.
    // 3x3 windows, stride 2, padding 1, start at (2oh-1, 2ow-1); the largest value of a
    // window is its top-left real element: (0,0) -> -1, (0,1) -> -2, (1,0) -> -5, (1,1) -> -6.
    let x: Vec<f64> = ramp_4x4().iter().map(|v| -v).collect();
    let mut want_gx = [0.0; 16];
    (want_gx[0], want_gx[1], want_gx[4], want_gx[5]) = (1., 2., 3., 4.);
    let g_out = [1., 2., 3., 4.];
    check_known::<4, 4, 2, 2>(
        &[Fast, Generic],
        &x,
        Max,
        window(3, 2, 1, 1),
        &[-1., -2., -5., -6.],
        &g_out,
        &want_gx,
    );
}

#[test]
fn max_pool_keras_same_pads_after_with_minus_infinity() {
    // 5x5, pool 2, stride 2, same: padding (0, 1), output 3x3; the last row and column of
    // windows hold one real row/column. x(i, j) = -(5i + j + 1), so each window's maximum is
    // its top-left element x(2oh, 2ow) = -(10oh + 2ow + 1).
    assert_eq!(crate::shape::same_pad(5, 2, 2, 1), (0, 1));
    let x: Vec<f64> = (1..=25).map(|v| -f64::from(v)).collect();
    let want = [-1., -3., -5., -11., -13., -15., -21., -23., -25.];
    let mut want_gx = [0.0; 25];
    for (o, i) in [0, 2, 4, 10, 12, 14, 20, 22, 24].into_iter().enumerate() {
        want_gx[i] = (o + 1) as f64;
    }
    let g_out: Vec<f64> = (1..=9).map(f64::from).collect();
    check_known::<5, 5, 3, 3>(
        &[Fast, Generic],
        &x,
        Max,
        window(2, 2, 1, 0),
        &want,
        &g_out,
        &want_gx,
    );
}

#[test]
fn max_pool_overlapping_windows_add_their_gradients() {
    // 2x2 windows with stride 1 over [1 2 3 / 4 9 5 / 6 7 8]: all four contain the 9 at
    // (1,1), which collects 1 + 2 + 3 + 4 = 10.
    let x = [1., 2., 3., 4., 9., 5., 6., 7., 8.];
    let mut want_gx = [0.0; 9];
    want_gx[4] = 10.;
    check_known::<3, 3, 2, 2>(
        &[Fast, Generic],
        &x,
        Max,
        window(2, 1, 1, 0),
        &[9.; 4],
        &[1., 2., 3., 4.],
        &want_gx,
    );
}

#[test]
fn max_pool_edge_values_follow_pytorch() {
    // A window of -inf still has a first element, which takes the gradient (PyTorch starts
    // each window's argmax at its first real element); a NaN propagates to the output.
    let inf = f64::INFINITY;
    #[rustfmt::skip]
    let x = [
        -inf, -inf, 1., f64::NAN,
        -inf, -inf, 2., 3.,
    ];
    let (out, gx) =
        run::<f64, Const<1>, 1, 2, 4, 1, 2>(Fast, Const, &x, &[1., 2.], Max, window(2, 2, 1, 0));
    assert_eq!(out[0], -inf);
    assert!(out[1].is_nan());
    assert_eq!(&gx[..2], &[1., 0.]);
    assert_eq!(gx[3], 2.);
    // The same values without a tape, where no argmaxes are kept.
    let x = image::<f64, Const<1>, 1, 2, 4>(Const, x.to_vec());
    let untaped = pool::<f64, _, _, 1, 2, 4, 1, 2>(Fast, x, Max, window(2, 2, 1, 0));
    let untaped = crate::ops::cpu::read(&untaped).to_vec();
    assert_eq!(untaped[0], -inf);
    assert!(untaped[1].is_nan());
}

// ---------------------------------------------------------------- average pooling by hand

#[test]
fn avg_pool_2x2_values_and_gradient() {
    // Window (oh, ow) averages x(2oh.., 2ow..) of the ramp: 4(2oh) + 2ow + 1 + (0+1+4+5)/4,
    // i.e. 8oh + 2ow + 3.5. Each element gets a quarter of its window's gradient.
    #[rustfmt::skip]
    let want_gx = [
        0.25, 0.25, 0.5, 0.5,
        0.25, 0.25, 0.5, 0.5,
        0.75, 0.75, 1.0, 1.0,
        0.75, 0.75, 1.0, 1.0,
    ];
    let g_out = [1., 2., 3., 4.];
    check_known::<4, 4, 2, 2>(
        &[Fast, Generic],
        &ramp_4x4(),
        Avg,
        window(2, 2, 1, 0),
        &[3.5, 5.5, 11.5, 13.5],
        &g_out,
        &want_gx,
    );
}

#[test]
fn avg_pool_divides_by_the_real_elements_of_keras_same_windows() {
    // 5x5 ramp x(i, j) = 5i + j + 1, pool 2, stride 2, same: padding (0, 1).
    // (0,0) (1+2+6+7)/4 = 4, (0,1) (3+4+8+9)/4 = 6, (0,2) (5+10)/2 = 7.5,
    // (1,0) (11+12+16+17)/4 = 14, (1,1) (13+14+18+19)/4 = 16, (1,2) (15+20)/2 = 17.5,
    // (2,0) (21+22)/2 = 21.5, (2,1) (23+24)/2 = 23.5, (2,2) 25/1 = 25.
    let x: Vec<f64> = (1..=25).map(f64::from).collect();
    let want = [4., 6., 7.5, 14., 16., 17.5, 21.5, 23.5, 25.];
    // dL/dout = 1: an element gets 1 / (its window's real count): 1/4 inside, 1/2 in the
    // last row and column, 1 at the corner.
    #[rustfmt::skip]
    let want_gx = [
        0.25, 0.25, 0.25, 0.25, 0.5,
        0.25, 0.25, 0.25, 0.25, 0.5,
        0.25, 0.25, 0.25, 0.25, 0.5,
        0.25, 0.25, 0.25, 0.25, 0.5,
        0.5,  0.5,  0.5,  0.5,  1.0,
    ];
    check_known::<5, 5, 3, 3>(
        &[Fast, Generic],
        &x,
        Avg,
        window(2, 2, 1, 0),
        &want,
        &[1.; 9],
        &want_gx,
    );
}

#[test]
fn avg_pool_symmetric_padding_excludes_the_padding_from_the_count() {
    // 3x3 windows, stride 2, padding 1 on the 4x4 ramp (the sums of the convolution test):
    // 14 / 4 = 3.5, 30 / 6 = 5, 57 / 6 = 9.5, 99 / 9 = 11. (Counting the padding would give
    // 14/9, 30/9, ...) Gradient: dL/dout(1,1) = 9 spreads 1 over its 3x3 window.
    let mut want_gx = [0.0; 16];
    for i in [5, 6, 7, 9, 10, 11, 13, 14, 15] {
        want_gx[i] = 1.;
    }
    check_known::<4, 4, 2, 2>(
        &[Fast, Generic],
        &ramp_4x4(),
        Avg,
        window(3, 2, 1, 1),
        &[3.5, 5., 9.5, 11.],
        &[0., 0., 0., 9.],
        &want_gx,
    );
}

// ---------------------------------------------------------------- finite differences

fn check_finite_differences<
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>(
    kind: PoolKind,
    window: Window2D,
    seed: u64,
) {
    let x = random::<f64>(seed, N * C * H * W);
    let r = random::<f64>(seed + 1, N * C * OH * OW);
    let loss = |x: &[f64]| {
        let y =
            pool::<f64, Const<N>, _, C, H, W, OH, OW>(Fast, image(Const, x.to_vec()), kind, window);
        dot(&y.as_vec(), &r)
    };
    let want = numeric_grad(&x, 1e-6, loss);
    for path in [Fast, Generic] {
        let (_, gx) = run::<f64, Const<N>, C, H, W, OH, OW>(path, Const, &x, &r, kind, window);
        assert_close(
            &format!("{path:?} {kind:?} {window:?} dx"),
            &gx,
            &want,
            1e-5,
        );
    }
}

#[test]
fn pool_gradients_match_finite_differences() {
    for kind in [Max, Avg] {
        // 3x3, stride 2, padding 1 on 5x6: (5+2-3)/2+1 = 3, (6+2-3)/2+1 = 3
        check_finite_differences::<2, 2, 5, 6, 3, 3>(kind, window(3, 2, 1, 1), 10);
        // overlapping 2x2 windows, stride 1 on 4x5
        check_finite_differences::<1, 2, 4, 5, 3, 4>(kind, window(2, 1, 1, 0), 20);
        // Keras same, 2x2 stride 2 on 5x5: padding (0, 1), 3x3
        check_finite_differences::<2, 1, 5, 5, 3, 3>(kind, window(2, 2, 1, 0), 30);
        // 3x2, stride (1, 2), padding 1 along the rows only: 5+2-3+1 = 5, (6-2)/2+1 = 3
        check_finite_differences::<1, 2, 5, 6, 5, 3>(kind, rect([3, 1, 1, 1], [2, 2, 1, 0]), 40);
    }
}

#[test]
fn pool_rectangular_windows_by_hand() {
    // Max over 2 rows by 1 column (`MaxPool<(2, 1)>`): out(i, j) = x(2i + 1, j), the lower
    // row of each pair; its gradient lands there.
    let g_out: Vec<f64> = (1..=8).map(f64::from).collect();
    #[rustfmt::skip]
    let want_gx = [
        0., 0., 0., 0.,   1., 2., 3., 4.,
        0., 0., 0., 0.,   5., 6., 7., 8.,
    ];
    check_known::<4, 4, 2, 4>(
        &[Fast, Generic],
        &ramp_4x4(),
        Max,
        rect([2, 2, 1, 0], [1, 1, 1, 0]),
        &[5., 6., 7., 8., 13., 14., 15., 16.],
        &g_out,
        &want_gx,
    );
    // Average over 1 row by 2 columns, stride (1, 2): out(i, j) = 4i + 2j + 1.5, and each
    // element gets half its window's gradient.
    #[rustfmt::skip]
    let want_gx = [
        0.5, 0.5, 1., 1.,   1.5, 1.5, 2., 2.,
        2.5, 2.5, 3., 3.,   3.5, 3.5, 4., 4.,
    ];
    check_known::<4, 4, 4, 2>(
        &[Fast, Generic],
        &ramp_4x4(),
        Avg,
        rect([1, 1, 1, 0], [2, 2, 1, 0]),
        &[1.5, 3.5, 5.5, 7.5, 9.5, 11.5, 13.5, 15.5],
        &g_out,
        &want_gx,
    );
    // Keras same, 3x1 average, stride 1: rows padded one above and below, columns not.
    // Row 0 averages rows 0-1: (1 + 5)/2 + j = 3 + j; rows 1, 2: the middle row, 5 + j and
    // 9 + j; row 3 averages rows 2-3: 11 + j. dL/dout = 1: row 0 gets 1/2 + 1/3, rows 1 and
    // 2 get 1/2 + 1/3 + 1/3 and 1/3 + 1/3 + 1/2, row 3 gets 1/3 + 1/2.
    let (edge, middle) = (0.5 + 1.0 / 3.0, 0.5 + 2.0 / 3.0);
    let want_gx: Vec<f64> = [edge, middle, middle, edge]
        .iter()
        .flat_map(|&g| [g; 4])
        .collect();
    check_known::<4, 4, 4, 4>(
        &[Fast, Generic],
        &ramp_4x4(),
        Avg,
        rect([3, 1, 1, 1], [1, 1, 1, 0]),
        &[
            3., 4., 5., 6., 5., 6., 7., 8., 9., 10., 11., 12., 11., 12., 13., 14.,
        ],
        &[1.0; 16],
        &want_gx,
    );
}

// ---------------------------------------------------------------- fast vs generic

fn check_agreement<
    E: CpuFloat,
    B: Dim,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>(
    batch: B,
    window: Window2D,
    seed: u64,
) where
    Cpu: Device<E>,
{
    let n = batch.size();
    // Random continuous values: no two elements of a window tie.
    let x = random::<E>(seed, n * C * H * W);
    let r = random::<E>(seed + 1, n * C * OH * OW);
    for kind in [Max, Avg] {
        let fast = run::<E, B, C, H, W, OH, OW>(Fast, batch, &x, &r, kind, window);
        let generic = run::<E, B, C, H, W, OH, OW>(Generic, batch, &x, &r, kind, window);
        let what = format!("{kind:?} {n}x{C}x{H}x{W} {window:?}");
        assert_close(&format!("{what} out"), &fast.0, &generic.0, 1e-4);
        assert_close(&format!("{what} dx"), &fast.1, &generic.1, 1e-4);
        // Without a tape the max pool keeps no argmaxes and compares values only: the
        // same outputs.
        let x_untaped = image::<E, B, C, H, W>(batch, x.clone());
        let untaped = pool::<E, B, _, C, H, W, OH, OW>(Fast, x_untaped, kind, window);
        let untaped = crate::ops::cpu::read(&untaped).to_vec();
        assert_eq!(untaped, fast.0, "{what} out without a tape");
    }
}

fn agreement_suite<E: CpuFloat>()
where
    Cpu: Device<E>,
{
    // the seed's MaxPool<2> after conv1: 26x26 -> 13x13, batch 3 (large enough to thread)
    check_agreement::<E, Const<3>, 8, 26, 26, 13, 13>(Const, window(2, 2, 1, 0), 100);
    // odd size, floor: 11x11 -> 5x5, the last row and column unused; batch 1
    check_agreement::<E, Const<1>, 2, 11, 11, 5, 5>(Const, window(2, 2, 1, 0), 200);
    // 3x3, stride 2, padding 1, runtime batch, H != W
    check_agreement::<E, usize, 2, 7, 8, 4, 4>(3, window(3, 2, 1, 1), 300);
    // 3x3, stride 1, padding 1 ("same" with symmetric padding)
    check_agreement::<E, Const<2>, 3, 5, 5, 5, 5>(Const, window(3, 1, 1, 1), 400);
    // Keras same, pool 2 stride 2 on 7x7: padding (0, 1), 4x4
    check_agreement::<E, usize, 2, 7, 7, 4, 4>(2, window(2, 2, 1, 0), 500);
    // 3x3 tiles on 10x10 -> 3x3 (K = 3 with rows shorter than a block; last row and column
    // unused)
    check_agreement::<E, Const<2>, 3, 10, 10, 3, 3>(Const, window(3, 3, 1, 0), 600);
    // 3x3 tiles with rows of 10 outputs: the blocks of 8, the second overlapping the first,
    // with the last two rows and columns unused
    check_agreement::<E, Const<2>, 2, 29, 32, 9, 10>(Const, window(3, 3, 1, 0), 1100);
    // 2x2 tiles with rows of exactly one block, the last row and column unused
    check_agreement::<E, usize, 3, 17, 17, 8, 8>(2, window(2, 2, 1, 0), 1200);
    // 4x4 tiles, a size with no unrolled path
    check_agreement::<E, Const<2>, 2, 8, 8, 2, 2>(Const, window(4, 4, 1, 0), 700);
    // rectangular: 2x1 tiles (no unrolled path), and 1x3 overlapping with stride (2, 1)
    check_agreement::<E, Const<2>, 3, 8, 6, 4, 6>(Const, rect([2, 2, 1, 0], [1, 1, 1, 0]), 900);
    check_agreement::<E, usize, 2, 7, 9, 4, 7>(3, rect([1, 2, 1, 0], [3, 1, 1, 0]), 1000);
    // an empty runtime batch, padded windows: an empty (0, C, OH, OW) on both paths (the
    // generic one panicked in dfdx's copy of the empty permuted input)
    check_agreement::<E, usize, 2, 7, 8, 4, 4>(0, window(3, 2, 1, 1), 800);
}

#[test]
fn pool_fast_agrees_with_generic_f32() {
    agreement_suite::<f32>();
}

#[test]
fn pool_fast_agrees_with_generic_f64() {
    agreement_suite::<f64>();
}

// ---------------------------------------------------------------- usage patterns

#[test]
fn pool_generic_runs_unbatched_through_a_batch_of_one() {
    let dev = dev();
    let xv = random::<f64>(600, 2 * 6 * 6);
    let rv = random::<f64>(601, 2 * 3 * 3);
    for kind in [Max, Avg] {
        let x: Tensor<Rank3<2, 6, 6>, f64, Cpu> =
            dev.tensor_from_vec(xv.clone(), Default::default());
        let batched = x.leaky_trace().reshape::<Rank4<1, 2, 6, 6>>();
        let y: Tensor<Rank4<1, 2, 3, 3>, _, _, _> =
            try_pool2d_generic(batched, kind, window(2, 2, 1, 0)).unwrap();
        let y = y.reshape::<Rank3<2, 3, 3>>();
        let out = y.as_vec();
        let grads = (y * dev.tensor_from_vec(rv.clone(), Default::default()))
            .sum()
            .backward();
        let (want_out, want_gx) =
            run::<f64, Const<1>, 2, 6, 6, 3, 3>(Fast, Const, &xv, &rv, kind, window(2, 2, 1, 0));
        assert_close(&format!("{kind:?} out"), &out, &want_out, 1e-12);
        assert_close(
            &format!("{kind:?} dx"),
            &grads.get(&x).as_vec(),
            &want_gx,
            1e-12,
        );
    }
}

#[test]
fn pool_gradients_accumulate_when_the_output_is_used_twice() {
    let dev = dev();
    let xv = random::<f64>(700, 2 * 2 * 6 * 6);
    let (r1, r2) = (
        random::<f64>(701, 2 * 2 * 3 * 3),
        random::<f64>(702, 2 * 2 * 3 * 3),
    );
    let summed: Vec<f64> = r1.iter().zip(&r2).map(|(a, b)| a + b).collect();
    for path in [Fast, Generic] {
        for kind in [Max, Avg] {
            let x: Tensor<Rank4<2, 2, 6, 6>, f64, Cpu> =
                dev.tensor_from_vec(xv.clone(), Default::default());
            let y: Tensor<Rank4<2, 2, 3, 3>, _, _, _> =
                pool(path, x.leaky_trace(), kind, window(2, 2, 1, 0));
            let y2 = y.with_empty_tape();
            let r1t = dev.tensor_from_vec(r1.clone(), Default::default());
            let r2t = dev.tensor_from_vec(r2.clone(), Default::default());
            let grads = ((y * r1t).sum() + (y2 * r2t).sum()).backward();
            let (_, want) = run::<f64, Const<2>, 2, 6, 6, 3, 3>(
                path,
                Const,
                &xv,
                &summed,
                kind,
                window(2, 2, 1, 0),
            );
            assert_close(
                &format!("{path:?} {kind:?}"),
                &grads.get(&x).as_vec(),
                &want,
                1e-12,
            );
        }
    }
}

#[test]
fn pool_fast_accepts_a_permuted_input() {
    let dev = dev();
    let xv = random::<f64>(800, 2 * 2 * 5 * 6);
    let rv = random::<f64>(801, 2 * 2 * 3 * 2);
    let stored: Tensor<Rank4<2, 2, 5, 6>, f64, Cpu> = dev.tensor_from_vec(xv, Default::default());
    for kind in [Max, Avg] {
        let mut results = Vec::new();
        for path in [Fast, Generic] {
            let x = stored
                .leaky_trace()
                .permute::<Rank4<2, 2, 6, 5>, Axes4<0, 1, 3, 2>>();
            let y: Tensor<Rank4<2, 2, 3, 2>, _, _, _> = pool(path, x, kind, window(2, 2, 1, 0));
            let out = y.as_vec();
            let grads = (y * dev.tensor_from_vec(rv.clone(), Default::default()))
                .sum()
                .backward();
            results.push((out, grads.get(&stored).as_vec()));
        }
        assert_close(
            &format!("{kind:?} out"),
            &results[0].0,
            &results[1].0,
            1e-12,
        );
        assert_close(&format!("{kind:?} dx"), &results[0].1, &results[1].1, 1e-12);
    }
}

#[test]
#[should_panic(expected = "dilation 1")]
fn pool_rejects_dilation() {
    let x: Tensor<Rank4<1, 1, 5, 5>, f32, Cpu> = dev().zeros();
    let _: Tensor<Rank4<1, 1, 3, 3>, f32, Cpu> =
        Cpu::try_pool2d(x, Max, window(2, 1, 2, 0)).unwrap();
}

// ---------------------------------------------------------------- properties (proptest)

/// Random shapes, windows and batch sizes (1 and 2): the fast max and average pools agree
/// with the generic ones in the output and the input gradient. The shapes are type
/// parameters, so the property draws from a table of shapes, and from every pool size,
/// stride and padding (at most half the window, as the `network!` macro allows) that maps
/// each one to its output size. Inputs are random reals, so no window holds a tie.
mod properties {
    use super::*;
    use crate::shape::window_fits;
    use proptest::prelude::*;

    macro_rules! shapes {
        ($([$c:literal, $h:literal, $w:literal, $oh:literal, $ow:literal]),* $(,)?) => {
            /// (C, H, W, OH, OW)
            const SHAPES: &[[usize; 5]] = &[$([$c, $h, $w, $oh, $ow]),*];

            #[allow(unused_assignments)]
            fn agree(shape: usize, batch: usize, window: Window2D, seed: u64) {
                let mut i = 0;
                $(
                    if shape == i {
                        return check_agreement::<f32, usize, $c, $h, $w, $oh, $ow>(
                            batch, window, seed,
                        );
                    }
                    i += 1;
                )*
                unreachable!("no shape {shape}")
            }
        };
    }

    shapes![
        [1, 1, 1, 1, 1],
        [1, 4, 4, 2, 2],
        [2, 5, 5, 3, 3],
        [3, 6, 7, 3, 4],
        [1, 7, 7, 7, 7],
        [2, 8, 6, 4, 3],
        [2, 9, 9, 3, 3],
        [1, 5, 8, 2, 4],
        [3, 6, 6, 5, 5],
        [2, 10, 3, 5, 1],
    ];

    /// Every pool window of size 1 to 4, stride 1 to 3 and padding up to half the size,
    /// each chosen apart along the rows and the columns, that maps shape `s` to its output.
    fn windows(s: [usize; 5]) -> Vec<Window2D> {
        let [_, h, w, oh, ow] = s;
        let axes = |input, out| {
            let mut fitting = Vec::new();
            for kernel in 1..=4 {
                for stride in 1..=3 {
                    for pad in 0..=kernel / 2 {
                        if window_fits(input, kernel, stride, 1, pad, out) {
                            fitting.push([kernel, stride, 1, pad]);
                        }
                    }
                }
            }
            fitting
        };
        let cols = axes(w, ow);
        axes(h, oh)
            .into_iter()
            .flat_map(|rows| cols.iter().map(move |&cols| rect(rows, cols)))
            .collect()
    }

    #[test]
    fn every_shape_has_a_window() {
        for &s in SHAPES {
            assert!(!windows(s).is_empty(), "{s:?}");
        }
    }

    fn shape_and_window() -> impl Strategy<Value = (usize, Window2D)> {
        (0..SHAPES.len()).prop_flat_map(|i| (Just(i), proptest::sample::select(windows(SHAPES[i]))))
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 160,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn pool_fast_agrees_with_generic_on_random_geometry(
            (shape, window) in shape_and_window(),
            // Batch 0 included: the generic path returns an empty output of the right
            // shape (it panicked in dfdx 0.13's reshape of an empty strided tensor in
            // `unfold`).
            batch in 0usize..3,
            seed in any::<u64>(),
        ) {
            agree(shape, batch, window, seed % (1 << 40));
        }
    }
}
