//! `GlobalAvgPool1D` and `GlobalMaxPool1D`: one value per channel of a sequence.

use super::pool_mode::{Avg, Max, PoolMode};
use super::{BatchOf, LayerInfo};
use dfdx::nn::{Module, NonMutableModule, ZeroSizedModule};
use dfdx::prelude::{Axis, Device, Dtype, MaxTo, MeanTo, Rank1, Rank2, Tape, Tensor};

/// Averages or takes the maximum of each of `C` channels over all `L` steps (Keras's
/// `GlobalAveragePooling1D`, `GlobalMaxPooling1D`).
///
/// - Input shape: `(L, C)`, or `(B, L, C)`.
/// - Output shape: `(C)`, or `(B, C)`.
/// - Arguments in `network!`: none, `GlobalMaxPool1D` / `GlobalAvgPool1D`.
/// - The max's backward is dfdx's: every tied maximum of a channel gets the gradient.
///
/// ```
/// use typenet::prelude::*;
/// let dev: Cpu = Default::default();
/// let x = dev.tensor([[1.0f32, 6.0], [3.0, 2.0]]);
/// assert_eq!(GlobalAvgPool1D::<2, 2>::default().forward(x.clone()).array(), [2.0, 4.0]);
/// assert_eq!(GlobalMaxPool1D::<2, 2>::default().forward(x).array(), [3.0, 6.0]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct GlobalPool1D<Mode, const L: usize, const C: usize>(Mode);

/// Global average pooling over steps; see [`GlobalPool1D`].
pub type GlobalAvgPool1D<const L: usize, const C: usize> = GlobalPool1D<Avg, L, C>;
/// Global max pooling over steps; see [`GlobalPool1D`].
pub type GlobalMaxPool1D<const L: usize, const C: usize> = GlobalPool1D<Max, L, C>;

impl<Mode: PoolMode, const L: usize, const C: usize> ZeroSizedModule for GlobalPool1D<Mode, L, C> {}
impl<Mode: PoolMode, const L: usize, const C: usize> NonMutableModule for GlobalPool1D<Mode, L, C> {}

impl<Mode: PoolMode, const L: usize, const C: usize> LayerInfo for GlobalPool1D<Mode, L, C> {
    const NAME: &'static str = Mode::GLOBAL_NAME_1D;
    const OUTPUT: Option<&'static [usize]> = Some(&[C]);
    const PARAMS: usize = 0;
    const FLOPS: usize = L * C;
    const ACTIVATIONS: usize = C;
}

impl<Mode: PoolMode, const L: usize, const C: usize, X, E, D, T> Module<Tensor<X, E, D, T>>
    for GlobalPool1D<Mode, L, C>
where
    X: BatchOf<Rank2<L, C>>,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
{
    type Output = Tensor<X::Of<Rank1<C>>, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<X, E, D, T>) -> Result<Self::Output, D::Err> {
        let x = X::batch(x)?;
        X::unbatch(if Mode::IS_MAX {
            x.try_max::<_, Axis<1>>()?
        } else {
            x.try_mean::<_, Axis<1>>()?
        })
    }
}
