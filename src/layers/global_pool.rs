//! `GlobalAvgPool` and `GlobalMaxPool`: one value per channel.

use super::pool_mode::{Avg, Max, PoolMode};
use super::{BatchOf, LayerInfo};
use dfdx::nn::{Module, NonMutableModule, ZeroSizedModule};
use dfdx::prelude::{Axes2, Device, Dtype, MaxTo, MeanTo, Rank1, Rank3, Tape, Tensor};

/// Averages or takes the maximum of each channel over its whole `H x W` plane.
///
/// - Input shape: `(C, H, W)`, or `(B, C, H, W)`.
/// - Output shape: `(C)`, or `(B, C)`.
///
/// ```
/// use typenet::prelude::*;
/// let dev: Cpu = Default::default();
/// let x = dev.tensor([[[1.0f32, 2.0], [3.0, 6.0]]]);
/// assert_eq!(GlobalAvgPool::<1, 2, 2>::default().forward(x.clone()).array(), [3.0]);
/// assert_eq!(GlobalMaxPool::<1, 2, 2>::default().forward(x).array(), [6.0]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct GlobalPool<Mode, const C: usize, const H: usize, const W: usize>(Mode);

/// Global average pooling; see [`GlobalPool`].
pub type GlobalAvgPool<const C: usize, const H: usize, const W: usize> = GlobalPool<Avg, C, H, W>;
/// Global max pooling; see [`GlobalPool`].
pub type GlobalMaxPool<const C: usize, const H: usize, const W: usize> = GlobalPool<Max, C, H, W>;

impl<Mode: PoolMode, const C: usize, const H: usize, const W: usize> ZeroSizedModule
    for GlobalPool<Mode, C, H, W>
{
}
impl<Mode: PoolMode, const C: usize, const H: usize, const W: usize> NonMutableModule
    for GlobalPool<Mode, C, H, W>
{
}

impl<Mode: PoolMode, const C: usize, const H: usize, const W: usize> LayerInfo
    for GlobalPool<Mode, C, H, W>
{
    const NAME: &'static str = Mode::GLOBAL_NAME;
    const OUTPUT: Option<&'static [usize]> = Some(&[C]);
    const PARAMS: usize = 0;
    const FLOPS: usize = C * H * W;
    const ACTIVATIONS: usize = C;
}

impl<Mode: PoolMode, const C: usize, const H: usize, const W: usize, X, E, D, T>
    Module<Tensor<X, E, D, T>> for GlobalPool<Mode, C, H, W>
where
    X: BatchOf<Rank3<C, H, W>>,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
{
    type Output = Tensor<X::Of<Rank1<C>>, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<X, E, D, T>) -> Result<Self::Output, D::Err> {
        let x = X::batch(x)?;
        X::unbatch(if Mode::IS_MAX {
            x.try_max::<_, Axes2<2, 3>>()?
        } else {
            x.try_mean::<_, Axes2<2, 3>>()?
        })
    }
}
