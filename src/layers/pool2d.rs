//! `MaxPool` and `AvgPool`: windowed pooling over images.

use super::pool_mode::{Avg, Max, PoolMode};
use super::{BatchOf, LayerInfo};
use crate::ops::pool2d::{Pool2DKernel, PoolKind};
use crate::ops::{Window1D, Window2D};
use crate::shape::window_fits;
use dfdx::nn::{Module, NonMutableModule, ZeroSizedModule};
use dfdx::prelude::{Dtype, Rank3, Tape, Tensor};

/// Max or average pooling of `KH x KW` windows (rows by columns), `SH` rows and `SW`
/// columns apart, over each of `C` channels.
///
/// - Input shape: `(C, H, W)`, or `(B, C, H, W)`.
/// - Output shape: `(C, OH, OW)` with `OH = (H + padding - KH) / SH + 1` and `OW` likewise,
///   or `(B, C, OH, OW)`.
/// - Arguments in `network!`: `MaxPool<size>` / `AvgPool<size>` with options `stride = S`
///   (default: the pool size, as in Keras) and `padding = valid | same | P`. The size and
///   stride are one number for both axes or a pair `(rows, columns)`, as Keras writes
///   them: `MaxPool<(2, 1)>` halves the height and keeps the width.
/// - Padding never wins a max and is not counted in an average (Keras's `same`; PyTorch's
///   `count_include_pad=False`). A max sends its gradient to the first maximal element of
///   its window, as PyTorch does.
/// - Type parameters: `Pool2D<Mode, C, KH, KW, SH, SW, PH, PW, H, W, OH, OW>`, `Mode` one of
///   [`Max`], [`Avg`]; `PH`, `PW` are the padding before, checked at compile time like
///   [`Conv2D`](super::Conv2D)'s.
///
/// ```
/// use typenet::prelude::*;
/// type Net = network![Input<1, 4, 4>, MaxPool<2>];
/// let dev: Cpu = Default::default();
/// let x = dev.tensor([[[1.0f32, 2., 0., 0.], [3., 4., 0., 5.], [0., 0., 0., 0.], [6., 0., 0., 7.]]]);
/// let y = dev.build_module::<Net, f32>().forward(x.clone());
/// assert_eq!(y.array(), [[[4.0, 5.0], [6.0, 7.0]]]);
///
/// type Rows = network![Input<1, 4, 4>, MaxPool<(2, 1)>];
/// let y = dev.build_module::<Rows, f32>().forward(x);
/// assert_eq!(y.array(), [[[3.0, 4.0, 0.0, 5.0], [6.0, 0.0, 0.0, 7.0]]]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Pool2D<
    Mode,
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>(Mode);

/// Max pooling; see [`Pool2D`].
pub type MaxPool2D<
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
> = Pool2D<Max, C, KH, KW, SH, SW, PH, PW, H, W, OH, OW>;
/// Average pooling; see [`Pool2D`].
pub type AvgPool2D<
    const C: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
> = Pool2D<Avg, C, KH, KW, SH, SW, PH, PW, H, W, OH, OW>;

impl<
        Mode: PoolMode,
        const C: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
    > Pool2D<Mode, C, KH, KW, SH, SW, PH, PW, H, W, OH, OW>
{
    /// The geometry, checked once per instantiation at compile time.
    pub const WINDOW: Window2D = {
        assert!(
            C > 0 && KH > 0 && KW > 0 && SH > 0 && SW > 0,
            "Pool2D: sizes and strides must be at least 1"
        );
        assert!(
            2 * PH <= KH && 2 * PW <= KW,
            "Pool2D: padding may be at most half the window"
        );
        assert!(
            window_fits(H, KH, SH, 1, PH, OH),
            "Pool2D: OH does not follow from H, KH, SH and the padding"
        );
        assert!(
            window_fits(W, KW, SW, 1, PW, OW),
            "Pool2D: OW does not follow from W, KW, SW and the padding"
        );
        Window2D {
            rows: Window1D::new(KH, SH, 1, PH),
            cols: Window1D::new(KW, SW, 1, PW),
        }
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
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
    > ZeroSizedModule for Pool2D<Mode, C, KH, KW, SH, SW, PH, PW, H, W, OH, OW>
{
}

impl<
        Mode: PoolMode,
        const C: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
    > NonMutableModule for Pool2D<Mode, C, KH, KW, SH, SW, PH, PW, H, W, OH, OW>
{
}

impl<
        Mode: PoolMode,
        const C: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
    > LayerInfo for Pool2D<Mode, C, KH, KW, SH, SW, PH, PW, H, W, OH, OW>
{
    const NAME: &'static str = Mode::NAME;
    const OUTPUT: Option<&'static [usize]> = Some(&[C, OH, OW]);
    const PARAMS: usize = 0;
    const FLOPS: usize = C * OH * OW * KH * KW;
    const ACTIVATIONS: usize = C * OH * OW;
}

impl<
        Mode: PoolMode,
        const C: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        X: BatchOf<Rank3<C, H, W>>,
        E: Dtype,
        Dev: Pool2DKernel<E>,
        T: Tape<E, Dev>,
    > Module<Tensor<X, E, Dev, T>> for Pool2D<Mode, C, KH, KW, SH, SW, PH, PW, H, W, OH, OW>
{
    type Output = Tensor<X::Of<Rank3<C, OH, OW>>, E, Dev, T>;
    type Error = Dev::Err;

    fn try_forward(&self, x: Tensor<X, E, Dev, T>) -> Result<Self::Output, Dev::Err> {
        X::unbatch(Dev::try_pool2d(X::batch(x)?, Self::KIND, Self::WINDOW)?)
    }
}
