//! 1-D convolution from dfdx ops alone: it runs on any dfdx device and dfdx derives its
//! backward. `Cuda` uses it; on `Cpu` it is the oracle the fast kernel is tested against.

use super::check_kernel;
use crate::ops::Window1D;
use dfdx::prelude::*;

/// The device-generic [`super::Conv1DKernel::try_conv1d`]: same arguments, same result.
///
/// im2col as one `gather` (batch last, so one index list serves every sample), a permute to
/// (B, OL, K*C), one matmul with the weight seen as (K*C, F), then the bias.
#[allow(clippy::type_complexity)]
pub fn try_conv1d_generic<
    B: Dim,
    T: Tape<E, D>,
    E: Dtype,
    D: Device<E>,
    const L: usize,
    const C: usize,
    const F: usize,
    const K: usize,
    const OL: usize,
>(
    x: Tensor<(B, Const<L>, Const<C>), E, D, T>,
    weight: &Tensor<Rank3<K, C, F>, E, D>,
    bias: &Tensor<Rank1<F>, E, D>,
    window: Window1D,
) -> Result<Tensor<(B, Const<OL>, Const<F>), E, D, T>, D::Err> {
    check_kernel(window, K);
    window.check(L, OL);
    let batch = x.shape().0;
    if batch.size() == 0 {
        // dfdx 0.13 copies an empty permuted tensor by reading its element 0, a panic; no
        // samples make no outputs and nothing for the tape to record.
        let (x, tape) = x.split_tape();
        let y = x
            .device()
            .try_zeros_like(&(batch, Const::<OL>, Const::<F>))?;
        return Ok(y.put_tape(tape));
    }
    let kc = K * C;
    // (OL*K*C, B) -> (B, OL, K*C): each row one window of one sample.
    let cols = unfold_steps(x, window, OL, E::default())?
        .try_permute::<_, Axes2<1, 0>>()?
        .try_reshape_like(&(batch, Const::<OL>, kc))?;
    let w = weight.retaped::<T>().try_reshape_like(&(kc, Const::<F>))?;
    let y = cols.try_matmul(w)?;
    let b = bias
        .retaped::<T>()
        .try_broadcast_like::<_, Axes2<0, 1>>(y.shape())?;
    y.try_add(b)
}

/// im2col along the steps for the generic convolution and pooling: `(B, L, C)` ->
/// `(OL*K*C, B)`, rows in (o, k, c) order, each row the value one window tap reads in every
/// sample of the batch; taps in the padding read `pad_value`.
///
/// When a window reaches into the padding, one row of `pad_value` is appended to the input
/// and the padding taps gather it; its gradient is simply dropped.
pub(crate) fn unfold_steps<
    B: Dim,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
    const L: usize,
    const C: usize,
>(
    x: Tensor<(B, Const<L>, Const<C>), E, D, T>,
    window: Window1D,
    out: usize,
    pad_value: E,
) -> Result<Tensor<(usize, B), E, D, T>, D::Err> {
    let dev = x.device().clone();
    let batch = x.shape().0;
    let pad_index = L * C;
    let mut idx = Vec::with_capacity(out * window.kernel * C);
    for o in 0..out {
        for k in 0..window.kernel {
            for c in 0..C {
                idx.push(match window.input_step(o, k, L) {
                    Some(i) => i * C + c,
                    None => pad_index,
                });
            }
        }
    }
    let padded = idx.contains(&pad_index);
    let n = idx.len();
    let idx = dev.try_tensor_from_vec(idx, (n,))?;
    let xt = x
        .try_permute::<_, Axes3<1, 2, 0>>()?
        .try_reshape_like(&(L * C, batch))?;
    if padded {
        let pad = dev.try_tensor_from_vec(vec![pad_value; batch.size()], (1usize, batch))?;
        (xt, pad).try_concat_along(Axis::<0>)?.try_gather(idx)
    } else {
        xt.try_gather(idx)
    }
}
