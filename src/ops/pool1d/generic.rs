//! 1-D pooling from dfdx ops alone, for every dfdx device: the 1-D convolution's im2col
//! gather (padding reads -inf for max, 0 for average), then a max or sum over the taps.

use super::{check_pool_window, PoolKind};
use crate::ops::conv1d::unfold_steps;
use crate::ops::Window1D;
use dfdx::prelude::*;

/// The device-generic [`super::Pool1DKernel::try_pool1d`]: same arguments, same result
/// (but on exact ties within a window, whose maxima all get the gradient here).
#[allow(clippy::type_complexity)]
pub fn try_pool1d_generic<
    B: Dim,
    T: Tape<E, D>,
    E: Dtype,
    D: Device<E>,
    const L: usize,
    const C: usize,
    const OL: usize,
>(
    x: Tensor<(B, Const<L>, Const<C>), E, D, T>,
    kind: PoolKind,
    window: Window1D,
) -> Result<Tensor<(B, Const<OL>, Const<C>), E, D, T>, D::Err> {
    check_pool_window(window, L, OL);
    let dev = x.device().clone();
    let batch = x.shape().0;
    if batch.size() == 0 {
        // dfdx 0.13 panics copying an empty permuted tensor; no samples, nothing to pool.
        let (x, tape) = x.split_tape();
        let y = dev.try_zeros_like(&(batch, Const::<OL>, Const::<C>))?;
        drop(x);
        return Ok(y.put_tape(tape));
    }
    let pad = match kind {
        PoolKind::Max => E::from_f64(f64::NEG_INFINITY).expect("max pooling needs a float type"),
        PoolKind::Avg => E::default(),
    };
    // (OL*K*C, B) -> (OL, K, C, B), reduced over the taps.
    let taps = unfold_steps(x, window, OL, pad)?.try_reshape_like(&(
        Const::<OL>,
        window.kernel,
        Const::<C>,
        batch,
    ))?;
    let y = match kind {
        PoolKind::Max => taps.try_max::<(Const<OL>, Const<C>, B), Axis<1>>()?,
        PoolKind::Avg => {
            // 1 / (real steps in each window).
            let inv: Vec<E> = (0..OL)
                .map(|o| {
                    let n = window.span(o, L).len();
                    E::from_usize(n).map_or(E::default(), |n| E::ONE / n)
                })
                .collect();
            let sums = taps.try_sum::<(Const<OL>, Const<C>, B), Axis<1>>()?;
            let inv = dev.try_tensor_from_vec(inv, (Const::<OL>,))?;
            let scale = inv.try_broadcast_like::<_, Axes2<1, 2>>(sums.shape())?;
            sums.try_mul(scale)?
        }
    };
    y.try_permute::<_, Axes3<2, 0, 1>>()?.try_contiguous()
}
