//! `ImageToSequence`: feature maps `(C, H, W)` as a sequence for a recurrent layer.

use super::BatchOf;
use crate::ops::to_sequence::{TimeAxis, ToSequenceKernel};
use dfdx::nn::{Module, NonMutableModule, ZeroSizedModule};
use dfdx::prelude::*;

/// Reads feature maps `(C, H, W)` as a sequence: by default the width is time, as in CRNN text
/// recognisers, and each step is a column of every channel, `(W, C·H)`:
///
/// ```text
/// out[w, c*H + h] = x[c, h, w]            (HEIGHT_AS_TIME = false; STEPS = W, FEATURES = C*H)
/// out[h, c*W + w] = x[c, h, w]            (HEIGHT_AS_TIME = true;  STEPS = H, FEATURES = C*W)
/// ```
///
/// | input | output |
/// |---|---|
/// | `(C, H, W)` | `(STEPS, FEATURES)` |
/// | `(B, C, H, W)` | `(B, STEPS, FEATURES)` |
///
/// `STEPS` and `FEATURES` repeat what `C`, `H`, `W` imply (stable Rust cannot compute them in a
/// type); the relation is checked at compile time. On `Cpu` a threaded kernel moves the
/// elements ([`ops::to_sequence`](crate::ops::to_sequence)); elsewhere dfdx's permute and
/// reshape. No parameters.
///
/// ```rust
/// # use typenet::prelude::*;
/// # use typenet::layers::ImageToSequence;
/// let dev: Cpu = Default::default();
/// // 32 maps of 13x13 -> 13 steps of 32*13 = 416 features.
/// let to_seq: ImageToSequence<32, 13, 13, 13, 416> = Default::default();
/// let maps: Tensor<Rank4<8, 32, 13, 13>, f32, _> = dev.sample_normal();
/// let seq: Tensor<Rank3<8, 13, 416>, f32, _> = to_seq.forward(maps);
/// ```
///
/// A wrong `STEPS` or `FEATURES` fails when the program is built:
///
/// ```rust,compile_fail
/// # use typenet::prelude::*;
/// # use typenet::layers::ImageToSequence;
/// # let dev: Cpu = Default::default();
/// let to_seq: ImageToSequence<32, 13, 13, 13, 400> = Default::default(); // 32*13 is 416
/// let maps: Tensor<Rank3<32, 13, 13>, f32, _> = dev.sample_normal();
/// let seq = to_seq.forward(maps);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ImageToSequence<
    const C: usize,
    const H: usize,
    const W: usize,
    const STEPS: usize,
    const FEATURES: usize,
    const HEIGHT_AS_TIME: bool = false,
>;

impl<
        const C: usize,
        const H: usize,
        const W: usize,
        const STEPS: usize,
        const FEATURES: usize,
        const HAT: bool,
    > ImageToSequence<C, H, W, STEPS, FEATURES, HAT>
{
    /// The shape relation every impl checks at compile time.
    const fn check_shape() {
        const {
            assert!(
                (HAT && STEPS == H && FEATURES == C * W)
                    || (!HAT && STEPS == W && FEATURES == C * H),
                "ImageToSequence<C, H, W, STEPS, FEATURES, HEIGHT_AS_TIME>: needs STEPS = W and \
                 FEATURES = C*H (width as time), or STEPS = H and FEATURES = C*W (height as time)"
            )
        }
    }
}

impl<
        const C: usize,
        const H: usize,
        const W: usize,
        const STEPS: usize,
        const FEATURES: usize,
        const HAT: bool,
    > ZeroSizedModule for ImageToSequence<C, H, W, STEPS, FEATURES, HAT>
{
}

impl<
        const C: usize,
        const H: usize,
        const W: usize,
        const STEPS: usize,
        const FEATURES: usize,
        const HAT: bool,
    > NonMutableModule for ImageToSequence<C, H, W, STEPS, FEATURES, HAT>
{
}

impl<
        const C: usize,
        const H: usize,
        const W: usize,
        const STEPS: usize,
        const FEATURES: usize,
        const HAT: bool,
        X: BatchOf<Rank3<C, H, W>>,
        E: Dtype,
        D: ToSequenceKernel<E>,
        T: Tape<E, D>,
    > Module<Tensor<X, E, D, T>> for ImageToSequence<C, H, W, STEPS, FEATURES, HAT>
{
    type Output = Tensor<X::Of<Rank2<STEPS, FEATURES>>, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<X, E, D, T>) -> Result<Self::Output, D::Err> {
        Self::check_shape();
        let time = if HAT {
            TimeAxis::Height
        } else {
            TimeAxis::Width
        };
        X::unbatch(D::try_to_sequence(X::batch(x)?, time)?)
    }
}

impl<
        const C: usize,
        const H: usize,
        const W: usize,
        const STEPS: usize,
        const FEATURES: usize,
        const HAT: bool,
    > super::LayerInfo for ImageToSequence<C, H, W, STEPS, FEATURES, HAT>
{
    const NAME: &'static str = "ToSequence";
    const OUTPUT: Option<&'static [usize]> = Some(&[STEPS, FEATURES]);
    const PARAMS: usize = 0;
    const FLOPS: usize = 0;
    const ACTIVATIONS: usize = STEPS * FEATURES;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// x[c, h, w] = 100c + 10h + w, so every element names where it came from.
    fn maps<const B: usize>() -> Tensor<Rank4<B, 2, 3, 4>, f64, Cpu> {
        let dev = Cpu::default();
        let v = (0..B * 24)
            .map(|i| (i / 24 * 1000 + (i / 12 % 2) * 100 + (i / 4 % 3) * 10 + i % 4) as f64);
        dev.tensor_from_vec(v.collect(), Default::default())
    }

    #[test]
    fn width_is_time_and_each_step_is_a_column_of_every_channel() {
        let y: Tensor<Rank3<2, 4, 6>, f64, Cpu> =
            ImageToSequence::<2, 3, 4, 4, 6>.forward(maps::<2>());
        let y = y.array();
        for (b, seq) in y.iter().enumerate() {
            for (c, h, w) in
                (0..2).flat_map(|c| (0..3).flat_map(move |h| (0..4).map(move |w| (c, h, w))))
            {
                assert_eq!(seq[w][c * 3 + h], (1000 * b + 100 * c + 10 * h + w) as f64);
            }
        }
    }

    #[test]
    fn height_as_time_takes_rows() {
        let y: Tensor<Rank3<1, 3, 8>, f64, Cpu> =
            ImageToSequence::<2, 3, 4, 3, 8, true>.forward(maps::<1>());
        let y = y.array();
        for (c, h, w) in
            (0..2).flat_map(|c| (0..3).flat_map(move |h| (0..4).map(move |w| (c, h, w))))
        {
            assert_eq!(y[0][h][c * 4 + w], (100 * c + 10 * h + w) as f64);
        }
    }

    #[test]
    fn unbatched_runtime_batch_and_gradients() {
        let dev = Cpu::default();
        let x = maps::<3>();
        let batched = ImageToSequence::<2, 3, 4, 4, 6>.forward(x.clone());
        // A runtime batch dimension gives the same.
        let dynamic = x
            .clone()
            .reshape_like(&(3usize, Const::<2>, Const::<3>, Const::<4>));
        assert_eq!(
            ImageToSequence::<2, 3, 4, 4, 6>.forward(dynamic).as_vec(),
            batched.as_vec()
        );
        // One image is the batch's first.
        let one: Tensor<Rank3<2, 3, 4>, f64, Cpu> = dev.tensor(x.array()[0]);
        let y: Tensor<Rank2<4, 6>, f64, Cpu> =
            ImageToSequence::<2, 3, 4, 4, 6>.forward(one.clone());
        assert_eq!(y.array(), batched.array()[0]);
        // The gradient is the same permutation backwards: d sum(y * k) / dx[c, h, w] = k[w, c*3 + h].
        let k: Tensor<Rank2<4, 6>, f64, Cpu> =
            dev.tensor_from_vec((0..24).map(f64::from).collect(), Default::default());
        let g = ImageToSequence::<2, 3, 4, 4, 6>.forward(one.leaky_trace()) * k;
        let g = g.sum().backward();
        let g = g.get(&one).array();
        for (c, h, w) in
            (0..2).flat_map(|c| (0..3).flat_map(move |h| (0..4).map(move |w| (c, h, w))))
        {
            assert_eq!(g[c][h][w], (w * 6 + c * 3 + h) as f64);
        }
    }
}
