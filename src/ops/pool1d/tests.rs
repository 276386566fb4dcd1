//! 1-D pooling tests: values worked by hand, finite differences, and the fast kernel held
//! to the generic one.

use super::*;
use crate::ops::conv2d::tests::{
    assert_close, dev, dot, numeric_grad, random, Fast, Generic, Path,
};
use crate::ops::cpu::CpuFloat;

fn pool<E: CpuFloat, B: Dim, T: Tape<E, Cpu>, const L: usize, const C: usize, const OL: usize>(
    path: Path,
    x: Tensor<(B, Const<L>, Const<C>), E, Cpu, T>,
    kind: PoolKind,
    window: Window1D,
) -> Tensor<(B, Const<OL>, Const<C>), E, Cpu, T>
where
    Cpu: Device<E>,
{
    match path {
        Fast => Cpu::try_pool1d(x, kind, window).unwrap(),
        Generic => try_pool1d_generic(x, kind, window).unwrap(),
    }
}

/// The output and the input's gradient of `sum(pool(x) * r)`.
fn run<E: CpuFloat, B: Dim, const L: usize, const C: usize, const OL: usize>(
    path: Path,
    batch: B,
    x: &[E],
    r: &[E],
    kind: PoolKind,
    window: Window1D,
) -> (Vec<E>, Vec<E>)
where
    Cpu: Device<E>,
{
    let dev = dev();
    let x: Tensor<(B, Const<L>, Const<C>), E, Cpu> =
        dev.tensor_from_vec(x.to_vec(), (batch, Const, Const));
    let y = pool::<E, B, _, L, C, OL>(path, x.leaky_trace(), kind, window);
    let out = crate::ops::cpu::read(&y).to_vec();
    if out.is_empty() {
        return (out, Vec::new());
    }
    let r = dev.tensor_from_vec(r.to_vec(), *y.shape());
    let grads = (y * r).sum().backward();
    (out, grads.get(&x).as_vec())
}

#[test]
fn pool1d_known_values() {
    // 5 steps of 2 channels: channel 0 = 1, 3, 2, 5, 4; channel 1 = its negation.
    let x = [1., -1., 3., -3., 2., -2., 5., -5., 4., -4.];
    let r = [1.0; 6];
    for path in [Fast, Generic] {
        // max, size 2 (stride 2), valid: windows [1, 3], [2, 5] -> 3, 5 and -1, -2
        let (y, g) = run::<f64, Const<1>, 5, 2, 2>(
            path,
            Const,
            &x,
            &r[..4],
            PoolKind::Max,
            Window1D::new(2, 2, 1, 0),
        );
        assert_close(&format!("{path:?} max"), &y, &[3., -1., 5., -2.], 0.0);
        // each output's gradient goes to its argmax: channel 0 steps 1, 3; channel 1 steps 0, 2
        assert_close(
            &format!("{path:?} max grad"),
            &g,
            &[0., 1., 1., 0., 0., 1., 1., 0., 0., 0.],
            0.0,
        );
        // average, size 2, same: 3 outputs, the last window [4, pad] counts one step
        let (y, g) = run::<f64, Const<1>, 5, 2, 3>(
            path,
            Const,
            &x,
            &r,
            PoolKind::Avg,
            Window1D::new(2, 2, 1, 0),
        );
        assert_close(
            &format!("{path:?} avg"),
            &y,
            &[2., -2., 3.5, -3.5, 4., -4.],
            1e-12,
        );
        assert_close(
            &format!("{path:?} avg grad"),
            &g,
            &[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1., 1.],
            1e-12,
        );
        // max, size 3, stride 1, padding 1: [pad, 1, 3], [1, 3, 2], [3, 2, 5], [2, 5, 4], [5, 4, pad]
        let (y, _) = run::<f64, Const<1>, 5, 2, 5>(
            path,
            Const,
            &x,
            &[0.0; 10],
            PoolKind::Max,
            Window1D::new(3, 1, 1, 1),
        );
        assert_close(
            &format!("{path:?} padded max"),
            &y,
            &[3., -1., 3., -1., 5., -2., 5., -2., 5., -4.],
            0.0,
        );
    }
}

#[test]
fn pool1d_max_sends_a_tie_to_the_first_maximum_on_cpu() {
    let x = [2.0f64, 2.0];
    let (_, g) = run::<f64, Const<1>, 2, 1, 1>(
        Fast,
        Const,
        &x,
        &[1.0],
        PoolKind::Max,
        Window1D::new(2, 2, 1, 0),
    );
    assert_eq!(g, [1.0, 0.0]);
}

fn check_finite_differences<const N: usize, const L: usize, const C: usize, const OL: usize>(
    kind: PoolKind,
    window: Window1D,
    seed: u64,
) {
    let x: Vec<f64> = random(seed, N * L * C);
    let r: Vec<f64> = random(seed + 1, N * OL * C);
    let loss = |x: &[f64]| {
        let y = pool::<f64, Const<N>, _, L, C, OL>(
            Fast,
            dev().tensor_from_vec(x.to_vec(), Default::default()),
            kind,
            window,
        );
        dot(&y.as_vec(), &r)
    };
    // Random values are distinct, and 1e-6 steps do not change which one is the max.
    let want = numeric_grad(&x, 1e-6, loss);
    for path in [Fast, Generic] {
        let (_, g) = run::<f64, Const<N>, L, C, OL>(path, Const, &x, &r, kind, window);
        assert_close(&format!("{path:?} {kind:?} {window:?}"), &g, &want, 1e-6);
    }
}

#[test]
fn pool1d_gradients_match_finite_differences() {
    for kind in [PoolKind::Max, PoolKind::Avg] {
        check_finite_differences::<2, 7, 3, 3>(kind, Window1D::new(2, 2, 1, 0), 10);
        // same, 3 wide, stride 2 on 7: padding (1, 1), output 4
        check_finite_differences::<2, 7, 3, 4>(kind, Window1D::new(3, 2, 1, 1), 20);
        check_finite_differences::<1, 6, 2, 5>(kind, Window1D::new(2, 1, 1, 0), 30);
    }
}

fn check_agreement<E: CpuFloat, B: Dim, const L: usize, const C: usize, const OL: usize>(
    batch: B,
    window: Window1D,
    seed: u64,
) where
    Cpu: Device<E>,
{
    let n = batch.size();
    let x: Vec<E> = random(seed, n * L * C);
    let r: Vec<E> = random(seed + 1, n * OL * C);
    for kind in [PoolKind::Max, PoolKind::Avg] {
        let fast = run::<E, B, L, C, OL>(Fast, batch, &x, &r, kind, window);
        let generic = run::<E, B, L, C, OL>(Generic, batch, &x, &r, kind, window);
        let what = format!("{n}x{L}x{C} {kind:?} {window:?}");
        assert_close(&format!("{what} out"), &fast.0, &generic.0, 1e-5);
        assert_close(&format!("{what} dx"), &fast.1, &generic.1, 1e-5);
    }
}

#[test]
fn pool1d_fast_agrees_with_generic() {
    check_agreement::<f32, Const<3>, 10, 4, 5>(Const, Window1D::new(2, 2, 1, 0), 100);
    check_agreement::<f32, usize, 9, 3, 3>(2, Window1D::new(3, 3, 1, 0), 200);
    check_agreement::<f64, usize, 9, 3, 9>(4, Window1D::new(3, 1, 1, 1), 300);
    check_agreement::<f64, Const<2>, 8, 2, 5>(Const, Window1D::new(4, 2, 1, 2), 400);
    // Keras same, 2 wide, stride 2 on 7 steps: padding (0, 1)
    check_agreement::<f32, usize, 7, 5, 4>(5, Window1D::new(2, 2, 1, 0), 500);
    // large enough to run in parallel
    check_agreement::<f32, usize, 100, 64, 50>(12, Window1D::new(2, 2, 1, 0), 600);
    check_agreement::<f32, usize, 6, 2, 3>(0, Window1D::new(2, 2, 1, 0), 700);
}

/// Random geometry: every stride and padding that maps each table shape to its output.
mod properties {
    use super::*;
    use crate::shape::window_fits;
    use proptest::prelude::*;

    macro_rules! shapes {
        ($([$l:literal, $c:literal, $k:literal, $ol:literal]),* $(,)?) => {
            /// (L, C, K, OL)
            const SHAPES: &[[usize; 4]] = &[$([$l, $c, $k, $ol]),*];

            #[allow(unused_assignments)]
            fn agree(shape: usize, batch: usize, window: Window1D, seed: u64) {
                let mut i = 0;
                $(
                    if shape == i {
                        return check_agreement::<f64, usize, $l, $c, $ol>(batch, window, seed);
                    }
                    i += 1;
                )*
                unreachable!("no shape {shape}")
            }
        };
    }

    shapes![
        [1, 1, 1, 1],
        [5, 2, 2, 3],
        [7, 3, 3, 3],
        [8, 2, 4, 4],
        [6, 1, 3, 6],
        [9, 4, 2, 5],
    ];

    fn windows([l, _, k, ol]: [usize; 4]) -> Vec<Window1D> {
        let mut all = Vec::new();
        for stride in 1..=4 {
            for pad in 0..=k / 2 {
                if window_fits(l, k, stride, 1, pad, ol) {
                    all.push(Window1D::new(k, stride, 1, pad));
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

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 100,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn pool1d_fast_agrees_with_generic_on_random_geometry(
            (shape, window) in (0..SHAPES.len())
                .prop_flat_map(|i| (Just(i), proptest::sample::select(windows(SHAPES[i])))),
            batch in 0usize..3,
            seed in any::<u64>(),
        ) {
            agree(shape, batch, window, seed % (1 << 40));
        }
    }
}
