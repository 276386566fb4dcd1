//! Convolution tests: values worked by hand, finite differences, and the fast kernel held
//! to the generic one. The helpers at the top are shared with the pooling tests.

use super::*;
use crate::ops::cpu::CpuFloat;
use crate::ops::OutputActivation::{self, Identity, Relu};
use crate::ops::Window1D;
use rand::{rngs::StdRng, Rng, SeedableRng};

// ---------------------------------------------------------------- shared test helpers

/// Which implementation a test runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    Fast,
    Generic,
}
pub(crate) use Path::{Fast, Generic};

pub(crate) fn dev() -> Cpu {
    Cpu::default()
}

/// Uniform values in [-1, 1), reproducible from `seed`.
pub(crate) fn random<E: CpuFloat>(seed: u64, n: usize) -> Vec<E> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| E::from_f64(rng.gen_range(-1.0..1.0)).unwrap())
        .collect()
}

/// Panics unless `got` and `want` agree elementwise to `tol`, relative to the larger of the
/// two (or to 1 for values below 1).
#[track_caller]
pub(crate) fn assert_close<E: CpuFloat>(what: &str, got: &[E], want: &[E], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (g.to_f64().unwrap(), w.to_f64().unwrap());
        let scale = g.abs().max(w.abs()).max(1.0);
        assert!(
            (g - w).abs() <= tol * scale,
            "{what}[{i}]: got {g}, want {w} (tol {tol})"
        );
    }
}

pub(crate) fn image<E: CpuFloat, B: Dim, const C: usize, const H: usize, const W: usize>(
    batch: B,
    values: Vec<E>,
) -> Tensor<(B, Const<C>, Const<H>, Const<W>), E, Cpu>
where
    Cpu: Device<E>,
{
    dev().tensor_from_vec(values, (batch, Const, Const, Const))
}

/// Central differences of `loss` at `at`, one coordinate at a time.
pub(crate) fn numeric_grad(at: &[f64], eps: f64, mut loss: impl FnMut(&[f64]) -> f64) -> Vec<f64> {
    let mut x = at.to_vec();
    (0..at.len())
        .map(|i| {
            x[i] = at[i] + eps;
            let plus = loss(&x);
            x[i] = at[i] - eps;
            let minus = loss(&x);
            x[i] = at[i];
            (plus - minus) / (2.0 * eps)
        })
        .collect()
}

pub(crate) fn dot<E: CpuFloat>(a: &[E], b: &[E]) -> E {
    a.iter().zip(b).fold(E::zero(), |acc, (&x, &y)| acc + x * y)
}

/// A square window: the same kernel, stride, dilation and padding along both axes.
pub(crate) fn window(kernel: usize, stride: usize, dilation: usize, pad: usize) -> Window2D {
    let axis = [kernel, stride, dilation, pad];
    rect(axis, axis)
}

/// A window given as `[kernel, stride, dilation, pad]` along the rows and the columns.
pub(crate) fn rect(rows: [usize; 4], cols: [usize; 4]) -> Window2D {
    let axis =
        |[kernel, stride, dilation, pad]: [usize; 4]| Window1D::new(kernel, stride, dilation, pad);
    Window2D {
        rows: axis(rows),
        cols: axis(cols),
    }
}

// ---------------------------------------------------------------- convolution helpers

#[allow(clippy::type_complexity)]
fn conv<
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
>(
    path: Path,
    x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Cpu, T>,
    weight: &Tensor<Rank4<F, C, KH, KW>, E, Cpu>,
    bias: &Tensor<Rank1<F>, E, Cpu>,
    window: Window2D,
    activation: OutputActivation,
) -> Tensor<(B, Const<F>, Const<OH>, Const<OW>), E, Cpu, T>
where
    Cpu: Device<E>,
{
    match path {
        Fast => Cpu::try_conv2d(x, weight, bias, window, activation).unwrap(),
        Generic => try_conv2d_generic(x, weight, bias, window, activation).unwrap(),
    }
}

/// A convolution problem: input, parameters, the activation fused into the convolution,
/// and the weights `r` of the scalar loss `sum(conv(x) * r)` whose gradients the tests
/// compare.
#[derive(Clone)]
struct Problem<E: CpuFloat> {
    x: Vec<E>,
    w: Vec<E>,
    b: Vec<E>,
    r: Vec<E>,
    activation: OutputActivation,
}

/// What one run produces: the output and the gradients of x, weight and bias.
#[derive(Debug)]
struct Run<E> {
    out: Vec<E>,
    gx: Vec<E>,
    gw: Vec<E>,
    gb: Vec<E>,
}

#[allow(clippy::type_complexity)]
fn run<
    E: CpuFloat,
    B: Dim,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
>(
    path: Path,
    batch: B,
    p: &Problem<E>,
    window: Window2D,
) -> Run<E>
where
    Cpu: Device<E>,
{
    let dev = dev();
    let x = image::<E, B, C, H, W>(batch, p.x.clone());
    let w: Tensor<Rank4<F, C, KH, KW>, E, Cpu> =
        dev.tensor_from_vec(p.w.clone(), Default::default());
    let b: Tensor<Rank1<F>, E, Cpu> = dev.tensor_from_vec(p.b.clone(), Default::default());
    let y = conv::<E, B, _, C, H, W, F, KH, KW, OH, OW>(
        path,
        x.leaky_trace(),
        &w,
        &b,
        window,
        p.activation,
    );
    assert_eq!(
        y.shape().0.size(),
        batch.size(),
        "{path:?}: the output's batch"
    );
    // dfdx 0.13's `as_vec` and `sum` index element 0 even of an empty tensor (a panic):
    // an empty batch has an empty output and no loss to differentiate.
    let out = crate::ops::cpu::read(&y).to_vec();
    if out.is_empty() {
        return Run {
            out,
            gx: Vec::new(),
            gw: vec![E::zero(); p.w.len()],
            gb: vec![E::zero(); p.b.len()],
        };
    }
    let r = dev.tensor_from_vec(p.r.clone(), *y.shape());
    let grads = (y * r).sum().backward();
    Run {
        out,
        gx: grads.get(&x).as_vec(),
        gw: grads.get(&w).as_vec(),
        gb: grads.get(&b).as_vec(),
    }
}

/// A random problem for the given sizes.
fn problem<E: CpuFloat>(seed: u64, sizes: [usize; 4]) -> Problem<E> {
    let [x, w, b, out] = sizes;
    Problem {
        x: random(seed, x),
        w: random(seed + 1, w),
        b: random(seed + 2, b),
        r: random(seed + 3, out),
        activation: Identity,
    }
}

/// The fast kernel and the generic one agree on outputs and every gradient.
fn check_agreement<
    E: CpuFloat,
    B: Dim,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
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
    for activation in [Identity, Relu] {
        let p = Problem {
            activation,
            ..problem::<E>(seed, [n * C * H * W, F * C * KH * KW, F, n * F * OH * OW])
        };
        let fast = run::<E, B, C, H, W, F, KH, KW, OH, OW>(Fast, batch, &p, window);
        let generic = run::<E, B, C, H, W, F, KH, KW, OH, OW>(Generic, batch, &p, window);
        let what = format!("{n}x{C}x{H}x{W} * {F}x{C}x{KH}x{KW} {window:?} {activation:?}");
        assert_close(&format!("{what} out"), &fast.out, &generic.out, 1e-4);
        assert_close(&format!("{what} dx"), &fast.gx, &generic.gx, 1e-4);
        assert_close(&format!("{what} dw"), &fast.gw, &generic.gw, 1e-4);
        assert_close(&format!("{what} db"), &fast.gb, &generic.gb, 1e-4);
    }
}

/// Both implementations' gradients match central differences of the loss, in f64, with and
/// without a fused ReLU. (The random problems put no output within `eps` of the ReLU's
/// kink at 0, where a difference quotient would straddle it.)
fn check_finite_differences<
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
>(
    window: Window2D,
    seed: u64,
) {
    for activation in [Identity, Relu] {
        let p = Problem {
            activation,
            ..problem::<f64>(seed, [N * C * H * W, F * C * KH * KW, F, N * F * OH * OW])
        };
        // The loss as a plain function of the three parameter vectors (no tape).
        let loss = |x: &[f64], w: &[f64], b: &[f64]| -> f64 {
            let dev = dev();
            let y = conv::<f64, Const<N>, _, C, H, W, F, KH, KW, OH, OW>(
                Fast,
                dev.tensor_from_vec(x.to_vec(), Default::default()),
                &dev.tensor_from_vec(w.to_vec(), Default::default()),
                &dev.tensor_from_vec(b.to_vec(), Default::default()),
                window,
                activation,
            );
            dot(&y.as_vec(), &p.r)
        };
        let eps = 1e-6;
        let gx = numeric_grad(&p.x, eps, |x| loss(x, &p.w, &p.b));
        let gw = numeric_grad(&p.w, eps, |w| loss(&p.x, w, &p.b));
        let gb = numeric_grad(&p.b, eps, |b| loss(&p.x, &p.w, b));
        for path in [Fast, Generic] {
            let got = run::<f64, Const<N>, C, H, W, F, KH, KW, OH, OW>(path, Const, &p, window);
            let what = format!("{path:?} {window:?} {activation:?}");
            assert_close(&format!("{what} dx"), &got.gx, &gx, 1e-5);
            assert_close(&format!("{what} dw"), &got.gw, &gw, 1e-5);
            assert_close(&format!("{what} db"), &got.gb, &gb, 1e-5);
        }
    }
}

/// x(i, j) = 4i + j + 1 on a 4x4 image: 1..=16 in row-major order.
fn ramp_4x4() -> Vec<f64> {
    (1..=16).map(f64::from).collect()
}

/// Runs one single-image, single-filter convolution on both paths and checks its output.
fn check_known_1x1<
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
>(
    x: Vec<f64>,
    w: Vec<f64>,
    bias: f64,
    window: Window2D,
    want: &[f64],
) {
    let p = Problem {
        x,
        w,
        b: vec![bias],
        r: vec![0.0; OH * OW],
        activation: Identity,
    };
    for path in [Fast, Generic] {
        let got = run::<f64, Const<1>, 1, H, W, 1, KH, KW, OH, OW>(path, Const, &p, window);
        assert_close(&format!("{path:?} {window:?}"), &got.out, want, 1e-12);
    }
}

// ---------------------------------------------------------------- known values

#[test]
fn conv_valid_2x2_values_and_gradients_by_hand() {
    // out(i, j) = x(i,j) + 2 x(i,j+1) + 3 x(i+1,j) + 4 x(i+1,j+1) with x(i,j) = 4i+j+1
    //           = 10 (4i + j) + (1 + 2*2 + 3*5 + 4*6) = 40i + 10j + 44, plus the bias 0.5.
    // (A flipped kernel, a true convolution, would give 40i + 10j + 26.)
    let want = [44.5, 54.5, 64.5, 84.5, 94.5, 104.5, 124.5, 134.5, 144.5];
    let p = Problem {
        x: ramp_4x4(),
        w: vec![1., 2., 3., 4.],
        b: vec![0.5],
        r: vec![1.0; 9],
        activation: Identity,
    };
    // With dL/dout = 1 everywhere:
    // dx(y, x) = sum of the taps w(a, b) whose output (y-a, x-b) exists: corners get one
    // tap (1, 2, 3, 4), edges two (top 1+2, left 1+3, right 2+4, bottom 3+4), the middle all 10.
    let want_gx = [
        1., 3., 3., 2., 4., 10., 10., 6., 4., 10., 10., 6., 3., 7., 7., 4.,
    ];
    // dw(a, b) = sum of x over the 3x3 block at (a, b) = 9 (4a + b + 1) + 45 (the block's
    // own 4i + j summed over i, j < 3: 36 + 9), so [[54, 63], [90, 99]]; db = 9 outputs.
    let want_gw = [54., 63., 90., 99.];
    for path in [Fast, Generic] {
        let got = run::<f64, Const<1>, 1, 4, 4, 1, 2, 2, 3, 3>(path, Const, &p, window(2, 1, 1, 0));
        assert_close(&format!("{path:?} out"), &got.out, &want, 1e-12);
        assert_close(&format!("{path:?} dx"), &got.gx, &want_gx, 1e-12);
        assert_close(&format!("{path:?} dw"), &got.gw, &want_gw, 1e-12);
        assert_close(&format!("{path:?} db"), &got.gb, &[9.0], 1e-12);
    }
}

#[test]
fn conv_fused_relu_zeroes_the_negative_outputs_and_their_gradients() {
    // The 2x2 convolution above with the bias -89.5: out(i, j) = 40i + 10j - 45.5, so
    // row 0 is -45.5, -35.5, -25.5; row 1 -5.5, 4.5, 14.5; row 2 34.5, 44.5, 54.5. The ReLU
    // keeps the five positive outputs P = (1,1), (1,2), (2,0), (2,1), (2,2).
    let want = [0., 0., 0., 0., 4.5, 14.5, 34.5, 44.5, 54.5];
    let p = Problem {
        x: ramp_4x4(),
        w: vec![1., 2., 3., 4.],
        b: vec![-89.5],
        r: vec![1.0; 9],
        activation: Relu,
    };
    // dL/dout = 1 passes at P alone. dx(y, x) sums w(y - i, x - j) over (i, j) in P: row 0
    // reads no kept output; row 1 only the taps w(0, .) of (1,1) and (1,2); rows 2 and 3 add
    // those of (2, .).
    let want_gx = [
        0., 0., 0., 0., 0., 1., 3., 2., 1., 6., 10., 6., 3., 7., 7., 4.,
    ];
    // dw(a, b) = sum over P of x(i + a, j + b) = sum over P of (4i + j) + 5 (4a + b + 1)
    // = 38 + 5 (4a + b + 1); db = |P| = 5.
    let want_gw = [43., 48., 63., 68.];
    for path in [Fast, Generic] {
        let got = run::<f64, Const<1>, 1, 4, 4, 1, 2, 2, 3, 3>(path, Const, &p, window(2, 1, 1, 0));
        assert_close(&format!("{path:?} out"), &got.out, &want, 1e-12);
        assert_close(&format!("{path:?} dx"), &got.gx, &want_gx, 1e-12);
        assert_close(&format!("{path:?} dw"), &got.gw, &want_gw, 1e-12);
        assert_close(&format!("{path:?} db"), &got.gb, &[5.0], 1e-12);
    }
}

#[test]
fn conv_fused_relu_on_cpu_passes_a_nan_as_the_relu_layer_does() {
    // A 1x1 kernel of weight 1 and no bias: out = relu(x), x = (-1, NaN, 2, 0).
    let p = Problem {
        x: vec![-1.0, f64::NAN, 2.0, 0.0],
        w: vec![1.0],
        b: vec![0.0],
        r: vec![1.0; 4],
        activation: Relu,
    };
    let got = run::<f64, Const<1>, 1, 2, 2, 1, 1, 1, 2, 2>(Fast, Const, &p, window(1, 1, 1, 0));
    assert_eq!((got.out[0], got.out[2], got.out[3]), (0.0, 2.0, 0.0));
    assert!(got.out[1].is_nan(), "{:?}", got.out);
    // The gradient passes where the output is positive: not at the NaN, not at 0.
    assert_eq!(got.gx, [0.0, 0.0, 1.0, 0.0]);
    let relu = crate::layers::ReLU.forward(dev().tensor([-1.0, f64::NAN, 2.0, 0.0]));
    assert!(relu.array()[1].is_nan(), "the ReLU layer passes a NaN too");
}

#[test]
fn conv_padding_1_reads_zeros_and_keeps_the_kernel_unflipped() {
    // 3x3 kernel with w(0,0) = 1 and w(2,2) = 10: out(i, j) = x(i-1, j-1) + 10 x(i+1, j+1),
    // zero outside the 4x4 ramp. Row 0: 10x(1,1)=60, 10x(1,2)=70, 10x(1,3)=80, 0.
    // Row 1: 10x(2,1)=100, x(0,0)+10x(2,2)=1+110, x(0,1)+10x(2,3)=2+120, x(0,2)=3.
    // Row 2: 10x(3,1)=140, x(1,0)+10x(3,2)=5+150, x(1,1)+10x(3,3)=6+160, x(1,2)=7.
    // Row 3: 0, x(2,0)=9, x(2,1)=10, x(2,2)=11.
    let w = vec![1., 0., 0., 0., 0., 0., 0., 0., 10.];
    let want = [
        60., 70., 80., 0., 100., 111., 122., 3., 140., 155., 166., 7., 0., 9., 10., 11.,
    ];
    check_known_1x1::<4, 4, 3, 3, 4, 4>(ramp_4x4(), w.clone(), 0.0, window(3, 1, 1, 1), &want);
    // Stride 2 keeps the outputs at even (i, j) of the stride-1 result: 60, 80, 140, 166.
    check_known_1x1::<4, 4, 3, 3, 2, 2>(
        ramp_4x4(),
        w,
        0.0,
        window(3, 2, 1, 1),
        &[60., 80., 140., 166.],
    );
}

#[test]
fn conv_stride_2_with_padding_sums_the_clipped_windows() {
    // All-ones 3x3 kernel, stride 2, padding 1: window (oh, ow) starts at (2oh-1, 2ow-1).
    // (0,0): rows 0-1, cols 0-1: 1+2+5+6 = 14.     (0,1): rows 0-1, cols 1-3: 2+3+4+6+7+8 = 30.
    // (1,0): rows 1-3, cols 0-1: 5+6+9+10+13+14 = 57. (1,1): rows 1-3, cols 1-3: 21+33+45 = 99.
    check_known_1x1::<4, 4, 3, 3, 2, 2>(
        ramp_4x4(),
        vec![1.0; 9],
        -1.0,
        window(3, 2, 1, 1),
        &[13., 29., 56., 98.],
    );
}

#[test]
fn conv_dilation_2_spreads_the_taps() {
    // 2x2 kernel [[1, 2], [3, 4]] with dilation 2 spans 3x3: on the 4x4 ramp the output is 2x2,
    // out(i, j) = x(i,j) + 2x(i,j+2) + 3x(i+2,j) + 4x(i+2,j+2) = 10(4i+j) + (1 + 6 + 27 + 44)
    //           = 40i + 10j + 78.
    check_known_1x1::<4, 4, 2, 2, 2, 2>(
        ramp_4x4(),
        vec![1., 2., 3., 4.],
        0.0,
        window(2, 1, 2, 0),
        &[78., 88., 118., 128.],
    );
}

#[test]
fn conv_rectangular_kernel_strided_along_the_rows_only() {
    // A 1x2 kernel [1, 2], stride (2, 1): outputs read rows 0 and 2 of the 4x4 ramp,
    // out(i, j) = x(2i, j) + 2x(2i, j+1) = (8i + j + 1) + 2(8i + j + 2) = 24i + 3j + 5.
    let p = Problem {
        x: ramp_4x4(),
        w: vec![1., 2.],
        b: vec![0.0],
        r: vec![1.0; 6],
        activation: Identity,
    };
    // dL/dout = 1: rows 1 and 3 are never read; in rows 0 and 2, column c gets w(0) from
    // output j = c (c <= 2) and w(1) from j = c - 1 (c >= 1): 1, 3, 3, 2.
    let want_gx = [
        1., 3., 3., 2., 0., 0., 0., 0., 1., 3., 3., 2., 0., 0., 0., 0.,
    ];
    // dw(b) = sum of x(2i, j + b): b = 0 reads (1+2+3) + (9+10+11) = 36, b = 1 reads
    // (2+3+4) + (10+11+12) = 42; db = 6 outputs.
    for path in [Fast, Generic] {
        let got = run::<f64, Const<1>, 1, 4, 4, 1, 1, 2, 2, 3>(
            path,
            Const,
            &p,
            rect([1, 2, 1, 0], [2, 1, 1, 0]),
        );
        assert_close(
            &format!("{path:?} out"),
            &got.out,
            &[5., 8., 11., 29., 32., 35.],
            1e-12,
        );
        assert_close(&format!("{path:?} dx"), &got.gx, &want_gx, 1e-12);
        assert_close(&format!("{path:?} dw"), &got.gw, &[36., 42.], 1e-12);
        assert_close(&format!("{path:?} db"), &got.gb, &[6.0], 1e-12);
    }
}

#[test]
fn conv_rectangular_kernel_pads_only_where_asked() {
    // A 3x1 kernel [1, 0, -1] down the rows, padding 1 above and below and none at the
    // sides: out(i, j) = x(i-1, j) - x(i+1, j), zero outside. Row 0: -x(1, j) = -(5 + j);
    // rows 1 and 2: x(i-1, j) - x(i+1, j) = -8; row 3: x(2, j) = 9 + j.
    let want = [
        -5., -6., -7., -8., -8., -8., -8., -8., -8., -8., -8., -8., 9., 10., 11., 12.,
    ];
    check_known_1x1::<4, 4, 3, 1, 4, 4>(
        ramp_4x4(),
        vec![1., 0., -1.],
        0.0,
        rect([3, 1, 1, 1], [1, 1, 1, 0]),
        &want,
    );
}

#[test]
fn conv_keras_same_padding_puts_the_extra_row_after() {
    // Keras same, 2x2 kernel, stride 1 on 4x4: total padding 1, all of it after (pad_top 0).
    // Inside: 40i + 10j + 44 as in the valid case. Last column (j = 3): x(i,3) + 3x(i+1,3)
    // = (4i+4) + 3(4i+8) = 16i + 28. Last row (i = 3): x(3,j) + 2x(3,j+1) = (13+j) + 2(14+j)
    // = 41 + 3j. Corner: x(3,3) = 16.
    let want = [
        44., 54., 64., 28., 84., 94., 104., 44., 124., 134., 144., 60., 41., 44., 47., 16.,
    ];
    assert_eq!(crate::shape::same_pad(4, 2, 1, 1), (0, 1));
    check_known_1x1::<4, 4, 2, 2, 4, 4>(
        ramp_4x4(),
        vec![1., 2., 3., 4.],
        0.0,
        window(2, 1, 1, 0),
        &want,
    );
    // Keras same, 3x3 ones, stride 2 on 4x4: padding (0, 1), windows start at (2oh, 2ow).
    // (0,0): rows 0-2, cols 0-2: 6+18+30 = 54. (0,1): rows 0-2, cols 2-3: 7+15+23 = 45.
    // (1,0): rows 2-3, cols 0-2: 30+42 = 72.  (1,1): rows 2-3, cols 2-3: 11+12+15+16 = 54.
    // (Symmetric padding 1 would give 14, 30, 57, 99 instead.)
    assert_eq!(crate::shape::same_pad(4, 3, 2, 1), (0, 1));
    check_known_1x1::<4, 4, 3, 3, 2, 2>(
        ramp_4x4(),
        vec![1.0; 9],
        0.0,
        window(3, 2, 1, 0),
        &[54., 45., 72., 54.],
    );
}

#[test]
fn conv_multichannel_weights_are_f_c_k_k() {
    // Two 2x2 channels, c0 = [[1,2],[3,4]], c1 = [[5,6],[7,8]]; a 2x2 kernel gives one output
    // per filter: out(f) = sum over c, a, b of w(f,c,a,b) x(c,a,b) + bias(f).
    // Filter 0 picks c0(0,0) = 1 and c1(1,1) = 8: 9 + 0.5. Filter 1 picks c0(1,0) = 3 and
    // 10 c1(0,1) = 60: 63 - 1. The second image is the negated first: -9 + 0.5, -63 - 1.
    #[rustfmt::skip]
    let w = vec![
        1., 0., 0., 0.,   0., 0., 0., 1.,   // filter 0: c0, c1
        0., 0., 1., 0.,   0., 10., 0., 0.,  // filter 1: c0, c1
    ];
    let x0 = [1., 2., 3., 4., 5., 6., 7., 8.];
    let x: Vec<f64> = x0.iter().copied().chain(x0.iter().map(|v| -v)).collect();
    let p = Problem {
        x,
        w,
        b: vec![0.5, -1.0],
        r: vec![0.0; 4],
        activation: Identity,
    };
    for path in [Fast, Generic] {
        let got = run::<f64, Const<2>, 2, 2, 2, 2, 2, 2, 1, 1>(path, Const, &p, window(2, 1, 1, 0));
        assert_close(
            &format!("{path:?}"),
            &got.out,
            &[9.5, 62., -8.5, -64.],
            1e-12,
        );
    }
}

#[test]
fn conv_of_eight_channels_as_rows_by_hand() {
    // With a backward and 8 channels or more the fast kernel keeps its patches as rows,
    // channels last. A 2x2 kernel on 2x2 images of 8 channels gives one output per filter,
    // a dot product: filter 0 picks c0(0,0) and c7(1,1), filter 1 takes c3(1,0) and 10
    // c5(0,1). Channel c holds 10c + [1, 2, 3, 4]; the second image is the negated first.
    // With the loss sum(out * r), dL/dw(f, c, a, b) sums r(i, f) x(i, c, a, b) over the
    // images i, dL/dx(i, c, a, b) sums r(i, f) w(f, c, a, b) over the filters, dL/db(f)
    // sums r(i, f).
    const C: usize = 8;
    let at = |f: usize, c: usize, a: usize, b: usize| ((f * C + c) * 2 + a) * 2 + b;
    let mut w = vec![0.0; 2 * C * 4];
    (w[at(0, 0, 0, 0)], w[at(0, 7, 1, 1)]) = (1.0, 1.0);
    (w[at(1, 3, 1, 0)], w[at(1, 5, 0, 1)]) = (1.0, 10.0);
    let x0: Vec<f64> = (0..C)
        .flat_map(|c| (1..=4).map(move |v| (10 * c + v) as f64))
        .collect();
    let x: Vec<f64> = x0.iter().copied().chain(x0.iter().map(|v| -v)).collect();
    // filter 0: 1 + 74 = 75, + 0.5; filter 1: 33 + 10 * 52 = 553, - 1.
    let out = [75.5, 552.0, -74.5, -554.0];
    let r = vec![1.0, 2.0, 3.0, 5.0];
    let p = Problem {
        x: x.clone(),
        w: w.clone(),
        b: vec![0.5, -1.0],
        r: r.clone(),
        activation: Identity,
    };
    let (image, filters) = (C * 4, 2);
    let gw: Vec<f64> = (0..w.len())
        .map(|k| {
            (0..2)
                .map(|i| r[i * filters + k / image] * x[i * image + k % image])
                .sum()
        })
        .collect();
    let gx: Vec<f64> = (0..x.len())
        .map(|k| {
            (0..filters)
                .map(|f| r[k / image * filters + f] * w[f * image + k % image])
                .sum()
        })
        .collect();
    let gb = [1.0 + 3.0, 2.0 + 5.0];
    for path in [Fast, Generic] {
        let got = run::<f64, Const<2>, C, 2, 2, 2, 2, 2, 1, 1>(path, Const, &p, window(2, 1, 1, 0));
        assert_close(&format!("{path:?} out"), &got.out, &out, 1e-12);
        assert_close(&format!("{path:?} dx"), &got.gx, &gx, 1e-12);
        assert_close(&format!("{path:?} dw"), &got.gw, &gw, 1e-12);
        assert_close(&format!("{path:?} db"), &got.gb, &gb, 1e-12);
    }
}

// ---------------------------------------------------------------- finite differences

#[test]
fn conv_gradients_match_finite_differences_stride_2_padding_1() {
    // OH = (5 + 2 - 3) / 2 + 1 = 3, OW = (6 + 2 - 3) / 2 + 1 = 3
    check_finite_differences::<2, 2, 5, 6, 3, 3, 3, 3, 3>(window(3, 2, 1, 1), 10);
}

#[test]
fn conv_gradients_match_finite_differences_with_rows() {
    // 8 channels: the fast kernel's patches as rows (stride 2, padding 1, as above), and a
    // 1x1 kernel of 16 channels, whose rows need no padding.
    check_finite_differences::<2, 8, 5, 6, 3, 3, 3, 3, 3>(window(3, 2, 1, 1), 50);
    check_finite_differences::<2, 16, 3, 4, 2, 1, 1, 3, 4>(window(1, 1, 1, 0), 60);
}

#[test]
fn conv_gradients_match_finite_differences_dilation_2_padding_1() {
    // span 3: OH = 6 + 2 - 3 + 1 = 6, OW = 5 + 2 - 3 + 1 = 5
    check_finite_differences::<1, 2, 6, 5, 2, 2, 2, 6, 5>(window(2, 1, 2, 1), 20);
}

#[test]
fn conv_gradients_match_finite_differences_keras_same_stride_2() {
    // 5x5, 2x2 kernel, stride 2, same: padding (0, 1), output 3x3
    assert_eq!(crate::shape::same_pad(5, 2, 2, 1), (0, 1));
    check_finite_differences::<2, 2, 5, 5, 2, 2, 2, 3, 3>(window(2, 2, 1, 0), 30);
}

#[test]
fn conv_gradients_match_finite_differences_rectangular() {
    // 3x2 kernel; rows: stride 2, padding 1, (5 + 2 - 3) / 2 + 1 = 3; columns: dilation 2
    // (span 3), no padding, 6 - 3 + 1 = 4.
    check_finite_differences::<2, 2, 5, 6, 2, 3, 2, 3, 4>(rect([3, 2, 1, 1], [2, 1, 2, 0]), 40);
}

// ---------------------------------------------------------------- fast vs generic

fn agreement_suite<E: CpuFloat>()
where
    Cpu: Device<E>,
{
    // stride 1, no padding, batch 1
    check_agreement::<E, Const<1>, 3, 7, 7, 4, 3, 3, 5, 5>(Const, window(3, 1, 1, 0), 100);
    // stride 2, padding 1, batch 3, H != W: (8+2-3)/2+1 = 4, (7+2-3)/2+1 = 4
    check_agreement::<E, Const<3>, 2, 8, 7, 3, 3, 3, 4, 4>(Const, window(3, 2, 1, 1), 200);
    // dilation 2, padding 2, runtime batch of 3: span 5, 6 + 4 - 5 + 1 = 6
    check_agreement::<E, usize, 2, 6, 6, 2, 3, 3, 6, 6>(3, window(3, 1, 2, 2), 300);
    // dilation 2 and stride 2 together: span 5, (9 - 5) / 2 + 1 = 3
    check_agreement::<E, Const<2>, 2, 9, 9, 2, 3, 3, 3, 3>(Const, window(3, 2, 2, 0), 350);
    // Keras same with stride 2 on 6x6: padding (0, 1), output 3x3
    check_agreement::<E, Const<2>, 2, 6, 6, 3, 3, 3, 3, 3>(Const, window(3, 2, 1, 0), 400);
    // large enough for the threaded loops and gemms: the seed's conv2 at batch 4, 8 channels
    check_agreement::<E, usize, 8, 13, 13, 16, 3, 3, 11, 11>(4, window(3, 1, 1, 0), 500);
    // 1x1 kernel
    check_agreement::<E, Const<2>, 3, 4, 5, 2, 1, 1, 4, 5>(Const, window(1, 1, 1, 0), 600);
    // 3x3 outputs: several images per gemm group, and a batch of 11 ends in a shorter one
    check_agreement::<E, usize, 2, 5, 5, 3, 3, 3, 3, 3>(11, window(3, 1, 1, 0), 700);
    // rectangular: 3x5, stride 2 and padding 1 down the rows only: (9+2-3)/2+1 = 5, 8-5+1 = 4
    check_agreement::<E, Const<2>, 3, 9, 8, 4, 3, 5, 5, 4>(
        Const,
        rect([3, 2, 1, 1], [5, 1, 1, 0]),
        900,
    );
    // 1x3, stride 2 along the columns: (9-3)/2+1 = 4
    check_agreement::<E, usize, 2, 6, 9, 3, 1, 3, 6, 4>(5, rect([1, 1, 1, 0], [3, 2, 1, 0]), 1000);
    // an empty runtime batch, padded and dilated: an empty (0, F, OH, OW) on both paths (the
    // generic one panicked in dfdx's copy of the empty permuted input)
    check_agreement::<E, usize, 2, 6, 6, 2, 3, 3, 6, 6>(0, window(3, 1, 2, 2), 800);
    // With 8 channels or more, the fast kernel's patches are rows: the geometries above
    // once more.
    check_agreement::<E, Const<3>, 8, 8, 7, 3, 3, 3, 4, 4>(Const, window(3, 2, 1, 1), 1200);
    check_agreement::<E, usize, 8, 6, 6, 2, 3, 3, 6, 6>(3, window(3, 1, 2, 2), 1300);
    check_agreement::<E, Const<2>, 9, 9, 9, 2, 3, 3, 3, 3>(Const, window(3, 2, 2, 0), 1350);
    check_agreement::<E, Const<2>, 16, 4, 5, 2, 1, 1, 4, 5>(Const, window(1, 1, 1, 0), 1600);
    check_agreement::<E, usize, 8, 5, 5, 3, 3, 3, 3, 3>(11, window(3, 1, 1, 0), 1700);
    check_agreement::<E, Const<2>, 8, 9, 8, 4, 3, 5, 5, 4>(
        Const,
        rect([3, 2, 1, 1], [5, 1, 1, 0]),
        1900,
    );
    check_agreement::<E, usize, 8, 6, 6, 2, 3, 3, 6, 6>(0, window(3, 1, 2, 2), 1800);
}

#[test]
fn conv_fast_agrees_with_generic_f32() {
    agreement_suite::<f32>();
}

#[test]
fn conv_fast_agrees_with_generic_f64() {
    agreement_suite::<f64>();
}

// ---------------------------------------------------------------- usage patterns

#[test]
fn conv_generic_runs_unbatched_through_a_batch_of_one() {
    // What a layer does for an unbatched input: reshape (C, H, W) to (1, C, H, W) and back.
    let dev = dev();
    let p = problem::<f64>(700, [2 * 5 * 5, 3 * 2 * 9, 3, 3 * 5 * 5]);
    let x: Tensor<Rank3<2, 5, 5>, f64, Cpu> = dev.tensor_from_vec(p.x.clone(), Default::default());
    let w: Tensor<Rank4<3, 2, 3, 3>, f64, Cpu> =
        dev.tensor_from_vec(p.w.clone(), Default::default());
    let b: Tensor<Rank1<3>, f64, Cpu> = dev.tensor_from_vec(p.b.clone(), Default::default());
    let batched = x.leaky_trace().reshape::<Rank4<1, 2, 5, 5>>();
    let y: Tensor<Rank4<1, 3, 5, 5>, _, _, _> =
        try_conv2d_generic(batched, &w, &b, window(3, 1, 1, 1), Identity).unwrap();
    let y = y.reshape::<Rank3<3, 5, 5>>();
    let out = y.as_vec();
    let r = dev.tensor_from_vec(p.r.clone(), Default::default());
    let grads = (y * r).sum().backward();
    let want = run::<f64, Const<1>, 2, 5, 5, 3, 3, 3, 5, 5>(Fast, Const, &p, window(3, 1, 1, 1));
    assert_close("out", &out, &want.out, 1e-12);
    assert_close("dx", &grads.get(&x).as_vec(), &want.gx, 1e-12);
    assert_close("dw", &grads.get(&w).as_vec(), &want.gw, 1e-12);
    assert_close("db", &grads.get(&b).as_vec(), &want.gb, 1e-12);
}

#[test]
fn conv_gradients_accumulate_when_output_or_weights_are_used_twice() {
    let dev = dev();
    let p = problem::<f64>(800, [2 * 2 * 6 * 6, 2 * 2 * 9, 2, 2 * 2 * 6 * 6]);
    let r2 = random::<f64>(900, p.r.len());
    let x2_data = random::<f64>(901, p.x.len());
    let w: Tensor<Rank4<2, 2, 3, 3>, f64, Cpu> =
        dev.tensor_from_vec(p.w.clone(), Default::default());
    let b: Tensor<Rank1<2>, f64, Cpu> = dev.tensor_from_vec(p.b.clone(), Default::default());
    let win = window(3, 1, 1, 1);
    for path in [Fast, Generic] {
        // The output feeds two terms: its gradient is the sum, r + r2.
        let x: Tensor<Rank4<2, 2, 6, 6>, f64, Cpu> =
            dev.tensor_from_vec(p.x.clone(), Default::default());
        let y: Tensor<Rank4<2, 2, 6, 6>, _, _, _> =
            conv(path, x.leaky_trace(), &w, &b, win, Identity);
        let y2 = y.with_empty_tape();
        let r = dev.tensor_from_vec(p.r.clone(), Default::default());
        let r2t = dev.tensor_from_vec(r2.clone(), Default::default());
        let grads = ((y * r).sum() + (y2 * r2t).sum()).backward();
        let summed: Vec<f64> = p.r.iter().zip(&r2).map(|(a, b)| a + b).collect();
        let once = run::<f64, Const<2>, 2, 6, 6, 2, 3, 3, 6, 6>(
            path,
            Const,
            &Problem {
                r: summed,
                ..p.clone()
            },
            win,
        );
        assert_close(
            &format!("{path:?} dx"),
            &grads.get(&x).as_vec(),
            &once.gx,
            1e-12,
        );
        assert_close(
            &format!("{path:?} dw"),
            &grads.get(&w).as_vec(),
            &once.gw,
            1e-12,
        );
        assert_close(
            &format!("{path:?} db"),
            &grads.get(&b).as_vec(),
            &once.gb,
            1e-12,
        );

        // The same weights in two convolutions: their gradients add up.
        let x2: Tensor<Rank4<2, 2, 6, 6>, f64, Cpu> =
            dev.tensor_from_vec(x2_data.clone(), Default::default());
        let ya: Tensor<Rank4<2, 2, 6, 6>, _, _, _> =
            conv(path, x.leaky_trace(), &w, &b, win, Identity);
        let yb: Tensor<Rank4<2, 2, 6, 6>, _, _, _> =
            conv(path, x2.leaky_trace(), &w, &b, win, Identity);
        let r = dev.tensor_from_vec(p.r.clone(), Default::default());
        let grads = ((ya * r.clone()).sum() + (yb * r).sum()).backward();
        let first = run::<f64, Const<2>, 2, 6, 6, 2, 3, 3, 6, 6>(path, Const, &p, win);
        let second = run::<f64, Const<2>, 2, 6, 6, 2, 3, 3, 6, 6>(
            path,
            Const,
            &Problem {
                x: x2_data.clone(),
                ..p.clone()
            },
            win,
        );
        let add = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a + b).collect::<Vec<_>>();
        assert_close(
            &format!("{path:?} dw twice"),
            &grads.get(&w).as_vec(),
            &add(&first.gw, &second.gw),
            1e-12,
        );
        assert_close(
            &format!("{path:?} db twice"),
            &grads.get(&b).as_vec(),
            &add(&first.gb, &second.gb),
            1e-12,
        );
    }
}

#[test]
fn conv_fast_accepts_a_permuted_input() {
    // x stored as (B, C, W, H) and permuted: not contiguous, so the fast kernel copies it
    // (and dfdx routes the gradient back through the copy).
    let dev = dev();
    let p = problem::<f64>(1000, [2 * 2 * 5 * 4, 3 * 2 * 9, 3, 2 * 3 * 3 * 2]);
    let w: Tensor<Rank4<3, 2, 3, 3>, f64, Cpu> =
        dev.tensor_from_vec(p.w.clone(), Default::default());
    let b: Tensor<Rank1<3>, f64, Cpu> = dev.tensor_from_vec(p.b.clone(), Default::default());
    let stored: Tensor<Rank4<2, 2, 4, 5>, f64, Cpu> =
        dev.tensor_from_vec(p.x.clone(), Default::default());
    let mut results = Vec::new();
    for path in [Fast, Generic] {
        let x = stored
            .leaky_trace()
            .permute::<Rank4<2, 2, 5, 4>, Axes4<0, 1, 3, 2>>();
        let y: Tensor<Rank4<2, 3, 3, 2>, _, _, _> =
            conv(path, x, &w, &b, window(3, 1, 1, 0), Identity);
        let out = y.as_vec();
        let r = dev.tensor_from_vec(p.r.clone(), Default::default());
        let grads = (y * r).sum().backward();
        results.push((out, grads.get(&stored).as_vec(), grads.get(&w).as_vec()));
    }
    assert_close("out", &results[0].0, &results[1].0, 1e-12);
    assert_close("dx", &results[0].1, &results[1].1, 1e-12);
    assert_close("dw", &results[0].2, &results[1].2, 1e-12);
}

#[test]
fn conv_without_a_tape_gives_the_same_output() {
    let p = problem::<f32>(1100, [3 * 2 * 7 * 7, 4 * 2 * 9, 4, 3 * 4 * 4 * 4]);
    let dev = dev();
    let x: Tensor<Rank4<3, 2, 7, 7>, f32, Cpu> =
        dev.tensor_from_vec(p.x.clone(), Default::default());
    let w: Tensor<Rank4<4, 2, 3, 3>, f32, Cpu> =
        dev.tensor_from_vec(p.w.clone(), Default::default());
    let b: Tensor<Rank1<4>, f32, Cpu> = dev.tensor_from_vec(p.b.clone(), Default::default());
    let traced = run::<f32, Const<3>, 2, 7, 7, 4, 3, 3, 4, 4>(Fast, Const, &p, window(3, 2, 1, 1));
    for path in [Fast, Generic] {
        let y: Tensor<Rank4<3, 4, 4, 4>, f32, Cpu> =
            conv(path, x.clone(), &w, &b, window(3, 2, 1, 1), Identity);
        assert_close(&format!("{path:?}"), &y.as_vec(), &traced.out, 1e-5);
    }
}

#[test]
#[should_panic(expected = "does not map")]
fn conv_rejects_an_output_size_the_window_does_not_give() {
    let dev = dev();
    let x: Tensor<Rank4<1, 1, 4, 4>, f32, Cpu> = dev.zeros();
    let w: Tensor<Rank4<1, 1, 3, 3>, f32, Cpu> = dev.zeros();
    let b: Tensor<Rank1<1>, f32, Cpu> = dev.zeros();
    // valid 3x3 on 4x4 gives 2x2, not 3x3
    let _: Tensor<Rank4<1, 1, 3, 3>, f32, Cpu> =
        Cpu::try_conv2d(x, &w, &b, window(3, 1, 1, 0), Identity).unwrap();
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "must be contiguous")]
fn conv_fast_refuses_a_permuted_weight_in_debug_builds() {
    // The kernel reads parameter storage as it lies; a permuted weight would be misread.
    let dev = dev();
    let x: Tensor<Rank4<1, 1, 3, 3>, f64, Cpu> = dev.zeros();
    let stored: Tensor<Rank4<1, 1, 2, 2>, f64, Cpu> =
        dev.tensor_from_vec(vec![1., 2., 3., 4.], Default::default());
    let w = stored.permute::<Rank4<1, 1, 2, 2>, Axes4<0, 1, 3, 2>>();
    let b: Tensor<Rank1<1>, f64, Cpu> = dev.zeros();
    let _: Tensor<Rank4<1, 1, 2, 2>, f64, Cpu> =
        Cpu::try_conv2d(x, &w, &b, window(2, 1, 1, 0), Identity).unwrap();
}

// ---------------------------------------------------------------- properties (proptest)

/// Random shapes, geometries and batch sizes (1 and 2): the fast kernel agrees with the
/// generic one in the output and every gradient. The shapes are type parameters, so the
/// property draws from a table of shapes instantiated at compile time, and from every
/// stride, dilation and padding that maps each one to its output size.
mod properties {
    use super::*;
    use crate::shape::window_fits;
    use proptest::prelude::*;

    macro_rules! shapes {
        ($([$c:literal, $h:literal, $w:literal, $f:literal, $kh:literal, $kw:literal, $oh:literal, $ow:literal]),* $(,)?) => {
            /// (C, H, W, F, KH, KW, OH, OW)
            pub(super) const SHAPES: &[[usize; 8]] = &[$([$c, $h, $w, $f, $kh, $kw, $oh, $ow]),*];

            #[allow(unused_assignments)]
            fn agree(shape: usize, batch: usize, window: Window2D, seed: u64) {
                let mut i = 0;
                $(
                    if shape == i {
                        return check_agreement::<f32, usize, $c, $h, $w, $f, $kh, $kw, $oh, $ow>(
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
        [1, 1, 1, 1, 1, 1, 1, 1],
        [1, 5, 5, 1, 3, 3, 3, 3],
        [2, 6, 7, 3, 2, 2, 3, 3],
        [3, 4, 4, 2, 1, 1, 4, 4],
        [1, 8, 6, 2, 3, 3, 4, 3],
        [2, 7, 7, 4, 3, 3, 7, 7],
        [1, 3, 3, 2, 3, 3, 1, 1],
        [2, 9, 5, 3, 2, 2, 5, 3],
        [3, 10, 10, 5, 4, 4, 4, 4],
        [4, 6, 6, 8, 3, 3, 6, 6],
        [2, 5, 9, 2, 2, 2, 4, 8],
        // rectangular kernels
        [2, 7, 6, 3, 3, 1, 5, 6],
        [1, 6, 9, 2, 1, 4, 3, 3],
        [3, 8, 8, 2, 2, 5, 4, 4],
        [2, 5, 7, 3, 4, 2, 2, 6],
    ];

    /// Every window with stride and dilation 1 to 3 and padding 0 to 3, each chosen apart
    /// along the rows and the columns, that maps shape `s` (see [`SHAPES`]) to its output.
    pub(super) fn windows(s: [usize; 8]) -> Vec<Window2D> {
        let [_, h, w, _, kh, kw, oh, ow] = s;
        let axes = |input, kernel, out| {
            let mut fitting = Vec::new();
            for stride in 1..=3 {
                for dilation in 1..=3 {
                    for pad in 0..=3 {
                        if window_fits(input, kernel, stride, dilation, pad, out) {
                            fitting.push([kernel, stride, dilation, pad]);
                        }
                    }
                }
            }
            fitting
        };
        let cols = axes(w, kw, ow);
        axes(h, kh, oh)
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
        fn conv_fast_agrees_with_generic_on_random_geometry(
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
