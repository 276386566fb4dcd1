//! The gate activations of the fast kernel, written so that the compiler vectorises them.
//!
//! glibc's `tanhf` and `expf` are function calls that the gate loops cannot vectorise; `tanhf`
//! alone took over a third of an LSTM step. For `f32` the kernel uses branch-free polynomial
//! forms instead (accurate to a few ulp, see the tests); `f64` keeps the standard library's.
//!
//! The polynomials are written with `mul_add`. Inside [`with_simd`](crate::ops::cpu::with_simd),
//! where the kernel runs them, each is one FMA instruction; as a multiply and an add apiece
//! the seed LSTM's batch-64 inference took 13% longer. On a CPU without FMA each `mul_add`
//! is a call to libm's `fmaf`, which stops the gate loops from vectorising: the same results
//! (a fused multiply-add rounds once, wherever it is computed), several times slower.
//! `with_simd` enables AVX2 and FMA together, only on a CPU with both; elsewhere these loops
//! run as built, with those calls.

use super::step_product::{f32_panel_kernel, PanelKernel};
use crate::ops::cpu::CpuFloat;

/// The element types of the fast recurrent kernel, with their gate activations.
pub trait RecurrentFloat: CpuFloat {
    /// `1 / (1 + e^-x)`.
    fn sigmoid(x: Self) -> Self;
    /// `tanh(x)`.
    fn tanh_gate(x: Self) -> Self;
    /// The packed step product's kernel for this type on this CPU, if there is one (the
    /// general GEMM runs otherwise).
    fn panel_kernel() -> Option<PanelKernel<Self>> {
        None
    }
}

impl RecurrentFloat for f64 {
    #[inline(always)]
    fn sigmoid(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }
    #[inline(always)]
    fn tanh_gate(x: f64) -> f64 {
        x.tanh()
    }
}

impl RecurrentFloat for f32 {
    #[inline(always)]
    fn sigmoid(x: f32) -> f32 {
        1.0 / (1.0 + exp_f32(-x))
    }
    #[inline(always)]
    fn tanh_gate(x: f32) -> f32 {
        tanh_f32(x)
    }
    fn panel_kernel() -> Option<PanelKernel<f32>> {
        f32_panel_kernel()
    }
}

/// `e^x`: Cody-Waite reduction `x = n ln2 + r` with `|r| <= ln2 / 2`, Cephes's degree-5
/// polynomial for `e^r`, and `2^n` built in the exponent bits. Inputs are clamped to
/// `[-87, 88]`, where the result stays a normal float.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4; // ln 2 = LN2_HI + LN2_LO, LN2_HI exact in few bits
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5 * 2^23 rounds to the nearest integer without a call, and leaves that integer
    // in the low bits of the sum: `2^n` is built from them with integer operations, as a
    // float-to-int cast (`as i32`, saturating and NaN-checked) would not vectorise.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x.mul_add(LOG2_E, ROUND);
    let n = shifted - ROUND;
    let two_to_n = f32::from_bits(
        (shifted
            .to_bits()
            .wrapping_sub(ROUND.to_bits())
            .wrapping_add(127))
            << 23,
    );
    let r = (-n).mul_add(LN2_LO, (-n).mul_add(LN2_HI, x));
    let p = 1.987_569_1e-4f32;
    let p = p.mul_add(r, 1.398_199_9e-3);
    let p = p.mul_add(r, 8.333_452e-3);
    let p = p.mul_add(r, 4.166_579_6e-2);
    let p = p.mul_add(r, 1.666_666_5e-1);
    let p = p.mul_add(r, 0.5);
    let e_r = p.mul_add(r * r, r) + 1.0;
    e_r * two_to_n
}

/// `tanh(x)`: the odd 13/6 rational minimax approximation Eigen and XLA use, clamped where
/// it rounds to ±1 in `f32`. Being odd in `x`, it keeps its relative accuracy near zero.
/// Evaluated with fused multiply-adds, it reaches exactly 1 only from 7.9988 on (Eigen's
/// bound for its FMA build), where without them 7.9053 sufficed.
#[inline(always)]
fn tanh_f32(x: f32) -> f32 {
    let x = x.clamp(-7.998_811_7, 7.998_811_7);
    let x2 = x * x;
    let p = x2.mul_add(-2.760_768_5e-16, 2.000_188e-13);
    let p = x2.mul_add(p, -8.604_672e-11);
    let p = x2.mul_add(p, 5.122_297e-8);
    let p = x2.mul_add(p, 1.485_722_4e-5);
    let p = x2.mul_add(p, 6.372_619_3e-4);
    let p = x2.mul_add(p, 4.893_524_6e-3);
    let q = x2.mul_add(1.198_258_4e-6, 1.185_347_1e-4);
    let q = x2.mul_add(q, 2.268_434_6e-3);
    let q = x2.mul_add(q, 4.893_525e-3);
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest relative error against the f64 function over a grid of `[lo, hi]` by 5e-5.
    fn worst(f: fn(f32) -> f32, exact: fn(f64) -> f64, lo: i32, hi: i32) -> f64 {
        let mut worst = 0.0f64;
        for i in lo * 20_000..=hi * 20_000 {
            let x = i as f32 * 5e-5;
            let e = exact(x as f64);
            if e != 0.0 {
                worst = worst.max((f(x) as f64 - e).abs() / e.abs());
            }
        }
        worst
    }

    #[test]
    fn f32_activations_are_accurate_to_a_few_ulp() {
        // f32's epsilon is 1.2e-7.
        let tanh = worst(tanh_f32, f64::tanh, -20, 20);
        assert!(tanh < 6e-7, "tanh: {tanh:e}");
        // (Below -87 the clamped exp keeps sigmoid at 1.6e-38 instead of decaying further.)
        let sigmoid = worst(
            <f32 as RecurrentFloat>::sigmoid,
            |x| 1.0 / (1.0 + (-x).exp()),
            -80,
            100,
        );
        assert!(sigmoid < 6e-7, "sigmoid: {sigmoid:e}");
        let exp = worst(exp_f32, f64::exp, -87, 88);
        assert!(exp < 6e-7, "exp: {exp:e}");
        // Far out, the ends are exact.
        assert_eq!(tanh_f32(50.0), 1.0);
        assert_eq!(tanh_f32(-50.0), -1.0);
        assert_eq!(<f32 as RecurrentFloat>::sigmoid(200.0), 1.0);
        assert!(<f32 as RecurrentFloat>::sigmoid(-200.0) < 1e-37);
        assert_eq!(tanh_f32(0.0), 0.0);
        // Up to the clamp too, it never leaves [-1, 1].
        for i in 0..=200_000 {
            let x = i as f32 * 5e-5;
            assert!(tanh_f32(x) <= 1.0 && tanh_f32(-x) >= -1.0, "tanh({x})");
        }
        assert!(tanh_f32(f32::NAN).is_nan() && exp_f32(f32::NAN).is_nan());
    }
}
