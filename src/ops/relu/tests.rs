//! ReLU tests: values by hand (NaN and 0 as PyTorch treats them), finite differences, and
//! the fast kernel held to dfdx's relu, on a large permuted input as well.

use super::*;
use crate::ops::conv2d::tests::{assert_close, dev, dot, numeric_grad, random};

/// Output and input gradient of `sum(relu(x) * r)` on the fast kernel.
fn fast(x: Vec<f64>, r: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = x.len();
    let x = dev().tensor_from_vec(x, (n,));
    let y = Cpu::try_relu(x.leaky_trace()).unwrap();
    let out = y.as_vec();
    let grads = (y * dev().tensor_from_vec(r.to_vec(), (n,)))
        .sum()
        .backward();
    (out, grads.get(&x).as_vec())
}

#[test]
fn relu_values_and_gradient_follow_pytorch() {
    let x = vec![
        -2.0,
        -0.0,
        0.0,
        0.5,
        3.0,
        f64::NAN,
        f64::NEG_INFINITY,
        f64::INFINITY,
    ];
    let r = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
    let (out, gx) = fast(x, &r);
    assert_eq!(&out[..5], &[0.0, 0.0, 0.0, 0.5, 3.0]);
    assert!(out[5].is_nan(), "NaN passes through, as torch.relu");
    assert_eq!(&out[6..], &[0.0, f64::INFINITY]);
    // The gradient passes where x > 0 only: not at 0, not for NaN (torch's threshold_backward).
    assert_eq!(gx, [0.0, 0.0, 0.0, 4.0, 5.0, 0.0, 0.0, 8.0]);
}

#[test]
fn relu_gradient_matches_finite_differences() {
    // Away from the kink at 0, where the derivative is undefined.
    let x: Vec<f64> = random::<f64>(1, 40)
        .into_iter()
        .map(|v| if v.abs() < 0.05 { 0.5 } else { v })
        .collect();
    let r = random::<f64>(2, 40);
    let (_, gx) = fast(x.clone(), &r);
    let numeric = numeric_grad(&x, 1e-6, |x| {
        let y: Vec<f64> = x.iter().map(|&v| v.max(0.0)).collect();
        dot(&y, &r)
    });
    assert_close("dL/dx", &gx, &numeric, 1e-6);
}

#[test]
fn relu_fast_agrees_with_dfdx_on_a_large_permuted_input() {
    // Large enough to split across threads; permuted, so the kernel must read it logically.
    let x: Tensor<Rank3<8, 64, 300>, f32, _> =
        dev().tensor_from_vec(random(3, 8 * 64 * 300), (Const, Const, Const));
    let r: Tensor<Rank3<300, 64, 8>, f32, _> =
        dev().tensor_from_vec(random(4, 8 * 64 * 300), (Const, Const, Const));
    let run = |fast: bool| {
        let xt = x.leaky_trace().permute::<Rank3<300, 64, 8>, _>();
        let y = if fast {
            Cpu::try_relu(xt).unwrap()
        } else {
            xt.relu()
        };
        let out = y.as_vec();
        let grads = (y * r.clone()).sum().backward();
        (out, grads.get(&x).as_vec())
    };
    let ((out_fast, gx_fast), (out_dfdx, gx_dfdx)) = (run(true), run(false));
    assert_eq!(out_fast, out_dfdx);
    assert_eq!(gx_fast, gx_dfdx);
}
