//! 1-D convolution tests: values worked by hand, finite differences, and the fast kernel
//! held to the generic one (also on random geometry).

use super::*;
use crate::ops::conv2d::tests::{
    assert_close, dev, dot, numeric_grad, random, Fast, Generic, Path,
};
use crate::ops::cpu::CpuFloat;

#[allow(clippy::type_complexity)]
fn conv<
    E: CpuFloat,
    B: Dim,
    T: Tape<E, Cpu>,
    const L: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const OL: usize,
>(
    path: Path,
    x: Tensor<(B, Const<L>, Const<C>), E, Cpu, T>,
    weight: &Tensor<Rank3<K, C, F>, E, Cpu>,
    bias: &Tensor<Rank1<F>, E, Cpu>,
    window: Window1D,
) -> Tensor<(B, Const<OL>, Const<F>), E, Cpu, T>
where
    Cpu: Device<E>,
{
    match path {
        Fast => Cpu::try_conv1d(x, weight, bias, window).unwrap(),
        Generic => try_conv1d_generic(x, weight, bias, window).unwrap(),
    }
}

/// Input, parameters, and the weights `r` of the scalar loss `sum(conv(x) * r)`.
#[derive(Clone)]
struct Problem<E> {
    x: Vec<E>,
    w: Vec<E>,
    b: Vec<E>,
    r: Vec<E>,
}

/// The output and the gradients of x, weight and bias.
struct Run<E> {
    out: Vec<E>,
    gx: Vec<E>,
    gw: Vec<E>,
    gb: Vec<E>,
}

fn problem<E: CpuFloat>(seed: u64, [x, w, b, out]: [usize; 4]) -> Problem<E> {
    Problem {
        x: random(seed, x),
        w: random(seed + 1, w),
        b: random(seed + 2, b),
        r: random(seed + 3, out),
    }
}

fn run<
    E: CpuFloat,
    B: Dim,
    const L: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const OL: usize,
>(
    path: Path,
    batch: B,
    p: &Problem<E>,
    window: Window1D,
) -> Run<E>
where
    Cpu: Device<E>,
{
    let dev = dev();
    let x: Tensor<(B, Const<L>, Const<C>), E, Cpu> =
        dev.tensor_from_vec(p.x.clone(), (batch, Const, Const));
    let w: Tensor<Rank3<K, C, F>, E, Cpu> = dev.tensor_from_vec(p.w.clone(), Default::default());
    let b: Tensor<Rank1<F>, E, Cpu> = dev.tensor_from_vec(p.b.clone(), Default::default());
    let y = conv::<E, B, _, L, C, F, K, OL>(path, x.leaky_trace(), &w, &b, window);
    assert_eq!(y.shape().0.size(), batch.size(), "{path:?}: the batch");
    // dfdx 0.13's `as_vec` and `sum` index element 0 even of an empty tensor (a panic).
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

/// Both paths give `want` for one sample.
fn check_known<const L: usize, const C: usize, const F: usize, const K: usize, const OL: usize>(
    x: Vec<f64>,
    w: Vec<f64>,
    b: Vec<f64>,
    window: Window1D,
    want: &[f64],
) {
    let p = Problem {
        x,
        w,
        b,
        r: vec![0.0; OL * F],
    };
    for path in [Fast, Generic] {
        let got = run::<f64, Const<1>, L, C, F, K, OL>(path, Const, &p, window);
        assert_close(&format!("{path:?} {window:?}"), &got.out, want, 1e-12);
    }
}

// ---------------------------------------------------------------- known values

#[test]
fn conv1d_known_values_two_channels_valid() {
    // x = [[1, 2], [3, 4], [5, 6], [7, 8]] (4 steps of 2 channels); the kernel reads channel 0
    // of the first step and 10 x channel 1 of the second: y[o] = x[o, 0] + 10 x[o + 1, 1] + 0.5.
    let x = vec![1., 2., 3., 4., 5., 6., 7., 8.];
    // (K, C, F) = (2, 2, 1): w[0][0] = 1, w[0][1] = 0, w[1][0] = 0, w[1][1] = 10
    let w = vec![1., 0., 0., 10.];
    check_known::<4, 2, 1, 2, 3>(
        x,
        w,
        vec![0.5],
        Window1D::new(2, 1, 1, 0),
        &[41.5, 63.5, 85.5],
    );
}

#[test]
fn conv1d_known_values_same_padding_stride_and_dilation() {
    // same, K = 3 on [1, 2, 3]: padded [0, 1, 2, 3, 0] . [1, 2, 3] = 8, 14, 8
    check_known::<3, 1, 1, 3, 3>(
        vec![1., 2., 3.],
        vec![1., 2., 3.],
        vec![0.],
        Window1D::new(3, 1, 1, 1),
        &[8., 14., 8.],
    );
    // dilation 2, K = 2 on 1..=5: x[o] + x[o + 2] = 4, 6, 8
    check_known::<5, 1, 1, 2, 3>(
        vec![1., 2., 3., 4., 5.],
        vec![1., 1.],
        vec![0.],
        Window1D::new(2, 1, 2, 0),
        &[4., 6., 8.],
    );
    // stride 2, K = 2 on 1..=5, valid: [1+2, 3+4] (the 5 is never read)
    check_known::<5, 1, 1, 2, 2>(
        vec![1., 2., 3., 4., 5.],
        vec![1., 1.],
        vec![0.],
        Window1D::new(2, 2, 1, 0),
        &[3., 7.],
    );
    // two filters: F is the last weight axis, so w = [[f0, f1]] per (k, c)
    check_known::<2, 1, 2, 1, 2>(
        vec![1., 2.],
        vec![1., -1.],
        vec![0., 10.],
        Window1D::new(1, 1, 1, 0),
        &[1., 9., 2., 8.],
    );
}

// ---------------------------------------------------------------- finite differences

/// Both paths' gradients match central differences of the loss, in f64.
fn check_finite_differences<
    const N: usize,
    const L: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const OL: usize,
>(
    window: Window1D,
    seed: u64,
) {
    let p = problem::<f64>(seed, [N * L * C, K * C * F, F, N * OL * F]);
    let loss = |x: &[f64], w: &[f64], b: &[f64]| -> f64 {
        let dev = dev();
        let y = conv::<f64, Const<N>, _, L, C, F, K, OL>(
            Fast,
            dev.tensor_from_vec(x.to_vec(), Default::default()),
            &dev.tensor_from_vec(w.to_vec(), Default::default()),
            &dev.tensor_from_vec(b.to_vec(), Default::default()),
            window,
        );
        dot(&y.as_vec(), &p.r)
    };
    let eps = 1e-6;
    let gx = numeric_grad(&p.x, eps, |x| loss(x, &p.w, &p.b));
    let gw = numeric_grad(&p.w, eps, |w| loss(&p.x, w, &p.b));
    let gb = numeric_grad(&p.b, eps, |b| loss(&p.x, &p.w, b));
    for path in [Fast, Generic] {
        let got = run::<f64, Const<N>, L, C, F, K, OL>(path, Const, &p, window);
        assert_close(&format!("{path:?} {window:?} dx"), &got.gx, &gx, 1e-5);
        assert_close(&format!("{path:?} {window:?} dw"), &got.gw, &gw, 1e-5);
        assert_close(&format!("{path:?} {window:?} db"), &got.gb, &gb, 1e-5);
    }
}

#[test]
fn conv1d_gradients_match_finite_differences_in_place_windows() {
    // valid, stride 1: the fast kernel reads the windows where they lie
    check_finite_differences::<2, 7, 3, 2, 3, 5>(Window1D::new(3, 1, 1, 0), 10);
    // stride 2 (rows 2C apart, still overlapping with K = 3)
    check_finite_differences::<2, 8, 2, 3, 3, 3>(Window1D::new(3, 2, 1, 0), 20);
}

#[test]
fn conv1d_gradients_match_finite_differences_padded_and_dilated() {
    // same, K = 4, stride 1: padding (1, 2)
    assert_eq!(crate::shape::same_pad(6, 4, 1, 1), (1, 2));
    check_finite_differences::<2, 6, 2, 2, 4, 6>(Window1D::new(4, 1, 1, 1), 30);
    // dilation 2, padding 2: span 5, 7 + 4 - 5 + 1 = 7
    check_finite_differences::<1, 7, 3, 2, 3, 7>(Window1D::new(3, 1, 2, 2), 40);
}

// ---------------------------------------------------------------- fast vs generic

fn check_agreement<
    E: CpuFloat,
    B: Dim,
    const L: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const OL: usize,
>(
    batch: B,
    window: Window1D,
    seed: u64,
) where
    Cpu: Device<E>,
{
    let n = batch.size();
    let p = problem::<E>(seed, [n * L * C, K * C * F, F, n * OL * F]);
    let fast = run::<E, B, L, C, F, K, OL>(Fast, batch, &p, window);
    let generic = run::<E, B, L, C, F, K, OL>(Generic, batch, &p, window);
    let what = format!("{n}x{L}x{C} * {K}x{C}x{F} {window:?}");
    assert_close(&format!("{what} out"), &fast.out, &generic.out, 1e-4);
    assert_close(&format!("{what} dx"), &fast.gx, &generic.gx, 1e-4);
    assert_close(&format!("{what} dw"), &fast.gw, &generic.gw, 1e-4);
    assert_close(&format!("{what} db"), &fast.gb, &generic.gb, 1e-4);
}

fn agreement_suite<E: CpuFloat>()
where
    Cpu: Device<E>,
{
    check_agreement::<E, Const<1>, 9, 3, 4, 3, 7>(Const, Window1D::new(3, 1, 1, 0), 100);
    check_agreement::<E, Const<3>, 10, 2, 3, 3, 4>(Const, Window1D::new(3, 2, 1, 0), 200);
    check_agreement::<E, usize, 8, 2, 2, 3, 8>(3, Window1D::new(3, 1, 2, 2), 300);
    // Keras same with stride 2 on 7: padding (1, 1), output 4
    check_agreement::<E, Const<2>, 7, 3, 2, 3, 4>(Const, Window1D::new(3, 2, 1, 1), 400);
    // the text CNN's size, and a batch larger than the cores (threaded parts)
    check_agreement::<E, usize, 50, 32, 64, 5, 46>(9, Window1D::new(5, 1, 1, 0), 500);
    // 1-wide kernel: a Dense on every step
    check_agreement::<E, Const<2>, 4, 3, 5, 1, 4>(Const, Window1D::new(1, 1, 1, 0), 600);
    // an empty batch
    check_agreement::<E, usize, 6, 2, 2, 3, 6>(0, Window1D::new(3, 1, 1, 1), 700);
}

#[test]
fn conv1d_fast_agrees_with_generic_f32() {
    agreement_suite::<f32>();
}

#[test]
fn conv1d_fast_agrees_with_generic_f64() {
    agreement_suite::<f64>();
}

#[test]
fn conv1d_fast_accepts_a_permuted_input() {
    // x stored as (B, C, L) and permuted to (B, L, C): the fast kernel copies it, and dfdx
    // routes the gradient back through the copy.
    let dev = dev();
    let p = problem::<f64>(800, [2 * 3 * 6, 3 * 3 * 2, 2, 2 * 4 * 2]);
    let w: Tensor<Rank3<3, 3, 2>, f64, Cpu> = dev.tensor_from_vec(p.w.clone(), Default::default());
    let b: Tensor<Rank1<2>, f64, Cpu> = dev.tensor_from_vec(p.b.clone(), Default::default());
    let stored: Tensor<Rank3<2, 3, 6>, f64, Cpu> =
        dev.tensor_from_vec(p.x.clone(), Default::default());
    let mut results = Vec::new();
    for path in [Fast, Generic] {
        let x = stored
            .leaky_trace()
            .permute::<Rank3<2, 6, 3>, Axes3<0, 2, 1>>();
        let y: Tensor<Rank3<2, 4, 2>, _, _, _> = conv(path, x, &w, &b, Window1D::new(3, 1, 1, 0));
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
#[should_panic(expected = "does not map")]
fn conv1d_rejects_an_output_length_the_window_does_not_give() {
    let dev = dev();
    let x: Tensor<Rank3<1, 4, 1>, f32, Cpu> = dev.zeros();
    let w: Tensor<Rank3<3, 1, 1>, f32, Cpu> = dev.zeros();
    let b: Tensor<Rank1<1>, f32, Cpu> = dev.zeros();
    // valid 3 on 4 steps gives 2, not 3
    let _: Tensor<Rank3<1, 3, 1>, f32, Cpu> =
        Cpu::try_conv1d(x, &w, &b, Window1D::new(3, 1, 1, 0)).unwrap();
}

/// Random geometry (the shapes are type parameters, so drawn from a table instantiated at
/// compile time; stride, dilation and padding from every window that fits each one).
mod properties {
    use super::*;
    use crate::shape::window_fits;
    use proptest::prelude::*;

    macro_rules! shapes {
        ($([$l:literal, $c:literal, $f:literal, $k:literal, $ol:literal]),* $(,)?) => {
            /// (L, C, F, K, OL)
            const SHAPES: &[[usize; 5]] = &[$([$l, $c, $f, $k, $ol]),*];

            #[allow(unused_assignments)]
            fn agree(shape: usize, batch: usize, window: Window1D, seed: u64) {
                let mut i = 0;
                $(
                    if shape == i {
                        return check_agreement::<f32, usize, $l, $c, $f, $k, $ol>(
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
        [5, 1, 2, 3, 3],
        [7, 2, 3, 2, 4],
        [6, 3, 2, 3, 6],
        [9, 2, 4, 4, 3],
        [12, 4, 3, 5, 8],
        [3, 2, 2, 3, 1],
        [10, 3, 5, 3, 5],
    ];

    fn windows([l, _, _, k, ol]: [usize; 5]) -> Vec<Window1D> {
        let mut all = Vec::new();
        for stride in 1..=3 {
            for dilation in 1..=3 {
                for pad in 0..=3 {
                    if window_fits(l, k, stride, dilation, pad, ol) {
                        all.push(Window1D::new(k, stride, dilation, pad));
                    }
                }
            }
        }
        all
    }

    #[test]
    fn every_shape_has_a_window() {
        for &s in SHAPES {
            assert!(!windows(s).is_empty(), "{s:?}");
        }
    }

    fn shape_and_window() -> impl Strategy<Value = (usize, Window1D)> {
        (0..SHAPES.len()).prop_flat_map(|i| (Just(i), proptest::sample::select(windows(SHAPES[i]))))
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 120,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn conv1d_fast_agrees_with_generic_on_random_geometry(
            (shape, window) in shape_and_window(),
            batch in 0usize..3,
            seed in any::<u64>(),
        ) {
            agree(shape, batch, window, seed % (1 << 40));
        }
    }
}
