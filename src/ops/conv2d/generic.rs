//! Convolution from dfdx ops alone: it runs on any dfdx device and dfdx derives its
//! backward. `Cuda` uses it; on `Cpu` it is the oracle the fast kernel is tested against.

use super::check_geometry;
use crate::ops::{OutputActivation, Window2D};
use dfdx::prelude::*;

/// The device-generic [`super::Conv2DKernel::try_conv2d`]: same arguments, same result.
///
/// im2col as one `gather` (batch last, so one index list serves every image), then one
/// matmul with the weight seen as (F, C*KH*KW), then bias and a permute back to (B, F, OH, OW),
/// then dfdx's `relu` for a fused ReLU.
#[allow(clippy::type_complexity)]
pub fn try_conv2d_generic<
    B: Dim,
    T: Tape<E, D>,
    E: Dtype,
    D: Device<E>,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
>(
    x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, D, T>,
    weight: &Tensor<Rank4<F, C, KH, KW>, E, D>,
    bias: &Tensor<Rank1<F>, E, D>,
    window: Window2D,
    activation: OutputActivation,
) -> Result<Tensor<(B, Const<F>, Const<OH>, Const<OW>), E, D, T>, D::Err> {
    check_geometry(window, (KH, KW), (H, W), (OH, OW));
    let batch = x.shape().0;
    if batch.size() == 0 {
        // dfdx 0.13 copies an empty permuted tensor (the reshape in `unfold`) by reading its
        // element 0, a panic; no images make no outputs and nothing for the tape to record.
        return empty_output(x, (Const::<F>, Const::<OH>, Const::<OW>));
    }
    let ckk = C * KH * KW;
    // (C*KH*KW*OH*OW, B) -> (C*KH*KW, OH*OW*B): rows are (c, ki, kj), columns (oh, ow, b).
    let cols = unfold(x, window, (OH, OW), E::default())?
        .try_reshape_like(&(ckk, OH * OW * batch.size()))?;
    let w = weight.retaped::<T>().try_reshape_like(&(Const::<F>, ckk))?;
    let y = w
        .try_matmul(cols)?
        .try_reshape_like(&(Const::<F>, Const::<OH>, Const::<OW>, batch))?;
    let b = bias
        .retaped::<T>()
        .try_broadcast_like::<_, Axes3<1, 2, 3>>(y.shape())?;
    let y = (y + b)
        .try_permute::<_, Axes4<3, 0, 1, 2>>()?
        .try_contiguous()?;
    match activation {
        OutputActivation::Identity => Ok(y),
        OutputActivation::Relu => y.try_relu(),
    }
}

/// The output of a batch of no images, `(0, ..out)`, carrying `x`'s tape (what the generic
/// convolution and pooling return for an empty batch).
#[allow(clippy::type_complexity)]
pub(crate) fn empty_output<
    B: Dim,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
    const C: usize,
    const H: usize,
    const W: usize,
    O1: Dim,
    O2: Dim,
    O3: Dim,
>(
    x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, D, T>,
    (o1, o2, o3): (O1, O2, O3),
) -> Result<Tensor<(B, O1, O2, O3), E, D, T>, D::Err> {
    let (x, tape) = x.split_tape();
    let y = x.device().try_zeros_like(&(x.shape().0, o1, o2, o3))?;
    Ok(y.put_tape(tape))
}

/// im2col for the generic convolution and pooling: `(B, C, H, W)` -> `(C*KH*KW*OH*OW, B)`,
/// rows in (c, ki, kj, oh, ow) order, each row the value one window tap reads in every
/// image of the batch; taps in the padding read `pad_value`.
///
/// Batch last means one index list of `C*KH*KW*OH*OW` entries serves the whole batch. When a
/// window reaches into the padding, one row of `pad_value` is appended to the input and the
/// padding taps gather it; its gradient is simply dropped.
#[allow(clippy::type_complexity)]
pub(crate) fn unfold<
    B: Dim,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
    const C: usize,
    const H: usize,
    const W: usize,
>(
    x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, D, T>,
    window: Window2D,
    (oh, ow): (usize, usize),
    pad_value: E,
) -> Result<Tensor<(usize, B), E, D, T>, D::Err> {
    let Window2D { rows, cols } = window;
    let dev = x.device().clone();
    let batch = x.shape().0;
    let chw = C * H * W;
    let pad_index = chw;
    let mut idx = Vec::with_capacity(C * window.taps() * oh * ow);
    for c in 0..C {
        for ki in 0..rows.kernel {
            for kj in 0..cols.kernel {
                for o_y in 0..oh {
                    for o_x in 0..ow {
                        let y = rows.input_step(o_y, ki, H);
                        let x = cols.input_step(o_x, kj, W);
                        idx.push(match (y, x) {
                            (Some(y), Some(x)) => (c * H + y) * W + x,
                            _ => pad_index,
                        });
                    }
                }
            }
        }
    }
    let padded = idx.contains(&pad_index);
    let n = idx.len();
    let idx = dev.try_tensor_from_vec(idx, (n,))?;
    let xt = x
        .try_permute::<_, Axes4<1, 2, 3, 0>>()?
        .try_reshape_like(&(chw, batch))?;
    if padded {
        let pad = dev.try_tensor_from_vec(vec![pad_value; batch.size()], (1usize, batch))?;
        (xt, pad).try_concat_along(Axis::<0>)?.try_gather(idx)
    } else {
        xt.try_gather(idx)
    }
}
