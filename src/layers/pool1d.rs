//! `MaxPool1D` and `AvgPool1D`: windowed pooling over sequences.

use super::pool_mode::{Avg, Max, PoolMode};
use super::{BatchOf, LayerInfo};
use crate::ops::pool1d::{Pool1DKernel, PoolKind};
use crate::ops::Window1D;
use crate::shape::window_fits;
use dfdx::nn::{Module, NonMutableModule, ZeroSizedModule};
use dfdx::prelude::{Dtype, Rank2, Tape, Tensor};

/// Max or average pooling of windows of `K` steps, `S` apart, over each of `C` channels of a
/// sequence (channels last, as Keras's `MaxPooling1D`).
///
/// - Input shape: `(L, C)`, or `(B, L, C)`.
/// - Output shape: `(OL, C)` with `OL = (L + padding - K) / S + 1`, or `(B, OL, C)`.
/// - Arguments in `network!`: `MaxPool1D<size>` / `AvgPool1D<size>` with options
///   `stride = S` (default: the pool size, as in Keras) and `padding = valid | same | P`.
/// - Padding never wins a max and is not counted in an average (Keras's `same`). A max
///   sends its gradient to the first maximal step of its window, as PyTorch does.
/// - Type parameters: `Pool1D<Mode, C, K, S, P, L, OL>`, `Mode` one of [`Max`], [`Avg`];
///   `P` is the padding before the first step, checked at compile time.
///
/// ```
/// use typenet::prelude::*;
/// type Net = network![Input<4, 2>, MaxPool1D<2>];
/// let dev: Cpu = Default::default();
/// let x = dev.tensor([[1.0f32, 0.], [3., -1.], [2., 5.], [0., 4.]]);
/// let y = dev.build_module::<Net, f32>().forward(x);
/// assert_eq!(y.array(), [[3.0, 0.0], [2.0, 5.0]]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Pool1D<
    Mode,
    const C: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const L: usize,
    const OL: usize,
>(Mode);

/// Max pooling over steps; see [`Pool1D`].
pub type MaxPool1D<
    const C: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const L: usize,
    const OL: usize,
> = Pool1D<Max, C, K, S, P, L, OL>;
/// Average pooling over steps; see [`Pool1D`].
pub type AvgPool1D<
    const C: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const L: usize,
    const OL: usize,
> = Pool1D<Avg, C, K, S, P, L, OL>;

impl<
        Mode: PoolMode,
        const C: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const L: usize,
        const OL: usize,
    > Pool1D<Mode, C, K, S, P, L, OL>
{
    /// The geometry, checked once per instantiation at compile time.
    pub const WINDOW: Window1D = {
        assert!(
            C > 0 && K > 0 && S > 0,
            "Pool1D: sizes and stride must be at least 1"
        );
        assert!(2 * P <= K, "Pool1D: padding may be at most half the window");
        assert!(
            window_fits(L, K, S, 1, P, OL),
            "Pool1D: OL does not follow from L, K, S and the padding"
        );
        Window1D::new(K, S, 1, P)
    };
    const KIND: PoolKind = if Mode::IS_MAX {
        PoolKind::Max
    } else {
        PoolKind::Avg
    };
}

impl<
        Mode: PoolMode,
        const C: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const L: usize,
        const OL: usize,
    > ZeroSizedModule for Pool1D<Mode, C, K, S, P, L, OL>
{
}

impl<
        Mode: PoolMode,
        const C: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const L: usize,
        const OL: usize,
    > NonMutableModule for Pool1D<Mode, C, K, S, P, L, OL>
{
}

impl<
        Mode: PoolMode,
        const C: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const L: usize,
        const OL: usize,
    > LayerInfo for Pool1D<Mode, C, K, S, P, L, OL>
{
    const NAME: &'static str = Mode::NAME_1D;
    const OUTPUT: Option<&'static [usize]> = Some(&[OL, C]);
    const PARAMS: usize = 0;
    const FLOPS: usize = OL * C * K;
    const ACTIVATIONS: usize = OL * C;
}

impl<
        Mode: PoolMode,
        const C: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const L: usize,
        const OL: usize,
        X: BatchOf<Rank2<L, C>>,
        E: Dtype,
        Dev: Pool1DKernel<E>,
        T: Tape<E, Dev>,
    > Module<Tensor<X, E, Dev, T>> for Pool1D<Mode, C, K, S, P, L, OL>
{
    type Output = Tensor<X::Of<Rank2<OL, C>>, E, Dev, T>;
    type Error = Dev::Err;

    fn try_forward(&self, x: Tensor<X, E, Dev, T>) -> Result<Self::Output, Dev::Err> {
        X::unbatch(Dev::try_pool1d(X::batch(x)?, Self::KIND, Self::WINDOW)?)
    }
}
