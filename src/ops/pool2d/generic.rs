//! Pooling from dfdx ops alone, for every dfdx device: the convolution's im2col gather
//! (padding reads -inf for max, 0 for average), then a max or sum over the window taps.

use super::{check_pool_geometry, PoolKind};
use crate::ops::conv2d::{empty_output, unfold};
use crate::ops::Window2D;
use dfdx::prelude::*;

/// The device-generic [`super::Pool2DKernel::try_pool2d`]: same arguments, same result.
///
/// Its max pool takes dfdx's max reduction, whose backward gives each tied maximum of a
/// window the full gradient, where the fast `Cpu` kernel (and PyTorch) gives it to the
/// first one only. The two differ on exact ties alone.
#[allow(clippy::type_complexity)]
pub fn try_pool2d_generic<
    B: Dim,
    T: Tape<E, D>,
    E: Dtype,
    D: Device<E>,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>(
    x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, D, T>,
    kind: PoolKind,
    window: Window2D,
) -> Result<Tensor<(B, Const<C>, Const<OH>, Const<OW>), E, D, T>, D::Err> {
    check_pool_geometry(window, (H, W), (OH, OW));
    let dev = x.device().clone();
    let batch = x.shape().0;
    if batch.size() == 0 {
        // As the generic convolution: dfdx 0.13 panics copying the empty permuted input in
        // `unfold`, and an empty batch has nothing to pool.
        return empty_output(x, (Const::<C>, Const::<OH>, Const::<OW>));
    }
    let kk = window.taps();
    let pad = match kind {
        PoolKind::Max => E::from_f64(f64::NEG_INFINITY).expect("max pooling needs a float type"),
        PoolKind::Avg => E::default(),
    };
    // (C*KH*KW*OH*OW, B) -> (C, KH*KW, OH*OW*B), reduced over the taps.
    let taps = unfold(x, window, (OH, OW), pad)?.try_reshape_like(&(
        Const::<C>,
        kk,
        OH * OW * batch.size(),
    ))?;
    let y = match kind {
        PoolKind::Max => taps.try_max::<_, Axis<1>>()?,
        PoolKind::Avg => taps.try_sum::<_, Axis<1>>()?,
    }
    .try_reshape_like(&(Const::<C>, Const::<OH>, Const::<OW>, batch))?;
    let y = match kind {
        PoolKind::Max => y,
        PoolKind::Avg => {
            // 1 / (real elements in each window): rows inside times columns inside.
            let mut inv = Vec::with_capacity(OH * OW);
            for o_y in 0..OH {
                for o_x in 0..OW {
                    let rows = window.rows.span(o_y, H).len();
                    let cols = window.cols.span(o_x, W).len();
                    inv.push(E::from_usize(rows * cols).map_or(E::default(), |n| E::ONE / n));
                }
            }
            let inv = dev.try_tensor_from_vec(inv, (Const::<OH>, Const::<OW>))?;
            let scale = inv.try_broadcast_like::<_, Axes2<0, 3>>(y.shape())?;
            y.try_mul(scale)?
        }
    };
    y.try_permute::<_, Axes4<3, 0, 1, 2>>()?.try_contiguous()
}
