//! Finite differences, shared by the integration tests that check gradients.

use typenet::prelude::*;

/// The central difference of `loss` along element `at` of the tensor `pick` selects.
pub fn numeric<N, S: Shape>(
    net: &mut N,
    loss: impl Fn(&N) -> f64,
    pick: impl Fn(&mut N) -> &mut Tensor<S, f64, Cpu>,
    at: usize,
) -> f64 {
    let eps = 1e-6;
    let original = pick(net).as_vec();
    let mut shifted = |d: f64| {
        let mut values = original.clone();
        values[at] += d;
        pick(net).copy_from(&values);
        loss(net)
    };
    let slope = (shifted(eps) - shifted(-eps)) / (2.0 * eps);
    pick(net).copy_from(&original);
    slope
}

pub fn close(numeric: f64, analytic: f64) {
    assert!(
        (numeric - analytic).abs() < 1e-5 * (1.0 + numeric.abs()),
        "finite difference {numeric} vs gradient {analytic}"
    );
}
