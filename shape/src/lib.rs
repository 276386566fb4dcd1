//! Shape arithmetic: the one place where it lives.
//!
//! A crate of its own so that both sides use the same rules: the `network!` macro
//! (`typenet-macros`) computes every intermediate shape with them, and every layer type of
//! `typenet` (which re-exports this crate as `typenet::shape`) re-checks its const generics
//! with them in a `const { assert!() }`.
#![no_std]

/// Output length of a sliding window (convolution or pooling) along one axis:
/// `(input + pad_before + pad_after - dilation * (kernel - 1) - 1) / stride + 1`.
///
/// Returns 0 when the (dilated) window does not fit the padded input.
pub const fn window_out(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    pad_before: usize,
    pad_after: usize,
) -> usize {
    let padded = input + pad_before + pad_after;
    let span = dilation * (kernel - 1) + 1;
    if stride == 0 || kernel == 0 || span > padded {
        0
    } else {
        (padded - span) / stride + 1
    }
}

/// Total padding Keras's `padding="same"` adds along one axis so that the output has
/// `ceil(input / stride)` positions. Keras puts `total / 2` before and the rest after.
pub const fn same_pad_total(input: usize, kernel: usize, stride: usize, dilation: usize) -> usize {
    let out = input.div_ceil(stride);
    let span = dilation * (kernel - 1) + 1;
    let needed = (out - 1) * stride + span;
    needed.saturating_sub(input)
}

/// Padding before and after one axis for `padding="same"`, as Keras computes it.
pub const fn same_pad(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
) -> (usize, usize) {
    let total = same_pad_total(input, kernel, stride, dilation);
    (total / 2, total - total / 2)
}

/// Whether `out` positions with `pad_before` padding in front are a valid window geometry:
/// either symmetric padding (`pad_before` on both sides, or `valid` for 0), or Keras's
/// `same` padding, which puts at most one extra row or column after.
pub const fn window_fits(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    pad_before: usize,
    out: usize,
) -> bool {
    let symmetric = window_out(input, kernel, stride, dilation, pad_before, pad_before);
    let (same_before, same_after) = same_pad(input, kernel, stride, dilation);
    out > 0
        && (out == symmetric
            || (pad_before == same_before
                && out == window_out(input, kernel, stride, dilation, same_before, same_after)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_convolutions_shrink_by_kernel_minus_one() {
        assert_eq!(window_out(28, 3, 1, 1, 0, 0), 26);
        assert_eq!(window_out(26, 2, 2, 1, 0, 0), 13);
        assert_eq!(window_out(13, 2, 2, 1, 0, 0), 6);
        assert_eq!(window_out(3, 5, 1, 1, 0, 0), 0);
    }

    #[test]
    fn stride_padding_and_dilation_follow_pytorch() {
        // torch.nn.Conv2d(1, 1, 3, stride=2, padding=1)(torch.zeros(1, 1, 28, 28)).shape[-1] == 14
        assert_eq!(window_out(28, 3, 2, 1, 1, 1), 14);
        // dilation 2 makes a 3-tap kernel span 5
        assert_eq!(window_out(28, 3, 1, 2, 0, 0), 24);
        assert_eq!(window_out(7, 3, 3, 1, 0, 0), 2);
    }

    #[test]
    fn same_padding_matches_keras() {
        // keras Conv2D(1, 3, strides=2, padding="same") on 28 -> 14, padding (0, 1)
        assert_eq!(same_pad(28, 3, 2, 1), (0, 1));
        assert_eq!(same_pad(28, 3, 1, 1), (1, 1));
        assert_eq!(same_pad(28, 4, 1, 1), (1, 2));
        assert_eq!(same_pad(5, 1, 1, 1), (0, 0));
        assert!(window_fits(28, 3, 2, 1, 0, 14));
        assert!(window_fits(28, 4, 1, 1, 1, 28));
        assert!(!window_fits(28, 3, 1, 1, 0, 28));
    }
}
