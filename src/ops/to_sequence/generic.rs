//! Maps as sequences from dfdx ops alone (a permute, then a reshape that copies): it runs
//! on any dfdx device and dfdx derives its backward. `Cuda` uses it; on `Cpu` it is the
//! oracle the fast kernel is tested against.

use super::{check_sequence, TimeAxis};
use dfdx::prelude::*;

/// The device-generic [`super::ToSequenceKernel::try_to_sequence`]: same arguments, same
/// result.
#[allow(clippy::type_complexity)]
pub fn try_to_sequence_generic<
    B: Dim,
    T: Tape<E, D>,
    E: Dtype,
    D: Device<E>,
    const C: usize,
    const H: usize,
    const W: usize,
    const STEPS: usize,
    const FEATURES: usize,
>(
    x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, D, T>,
    time: TimeAxis,
) -> Result<Tensor<(B, Const<STEPS>, Const<FEATURES>), E, D, T>, D::Err> {
    check_sequence(time, (C, H, W), (STEPS, FEATURES));
    let out_shape = (x.shape().0, Const::<STEPS>, Const::<FEATURES>);
    if x.shape().num_elements() == 0 {
        // dfdx copies a permuted empty tensor by reading element 0; with nothing to move,
        // relabelling the shape is the whole job.
        return x.try_reshape_like(&out_shape);
    }
    match time {
        TimeAxis::Height => x
            .try_permute::<_, Axes4<0, 2, 1, 3>>()?
            .try_reshape_like(&out_shape),
        TimeAxis::Width => x
            .try_permute::<_, Axes4<0, 3, 1, 2>>()?
            .try_reshape_like(&out_shape),
    }
}
