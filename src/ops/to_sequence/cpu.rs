//! The fast `Cpu` maps-to-sequence move: each image's elements swapped between the two
//! layouts in one pass, images in parallel over the cores ([`swap_axes`]).

use super::TimeAxis;
use crate::ops::cpu::{
    add, copy, decide_freed_buffers, par_min_len, read, swap_axes, with_grads, CpuFloat,
};
use dfdx::prelude::*;
use rayon::prelude::*;

pub(super) fn try_to_sequence<
    E: CpuFloat,
    B: Dim,
    T: Tape<E, Cpu>,
    const C: usize,
    const H: usize,
    const W: usize,
    const STEPS: usize,
    const FEATURES: usize,
>(
    x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Cpu, T>,
    time: TimeAxis,
) -> Result<Tensor<(B, Const<STEPS>, Const<FEATURES>), E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    decide_freed_buffers();
    // The kernel indexes the storage as row-major: a permuted input is made contiguous
    // first (free when it already is; otherwise dfdx's copy carries the gradient back).
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let batch = x.shape().0;
    let swap = Swap::new(time, (C, H, W));
    let mut out = vec![E::zero(); x.shape().num_elements()];
    swap.forward(&read(&x), &mut out);
    let out = x
        .device()
        .try_tensor_from_vec(out, (batch, Const::<STEPS>, Const::<FEATURES>))?;
    if T::OWNS_TAPE {
        let (out_id, x_id) = (out.clone(), x.clone());
        tape.add_backward_op(move |grads| {
            with_grads(grads, &out_id, &x_id, |g_out, g_x| {
                swap.backward(g_out, g_x)
            })
        });
    }
    Ok(out.put_tape(tape))
}

/// One image's move as [`swap_axes`] sees it: the image is (A, B, len) in the maps' layout
/// and (B, A, len) in the sequence's.
#[derive(Clone, Copy)]
struct Swap {
    a: usize,
    b: usize,
    len: usize,
}

impl Swap {
    fn new(time: TimeAxis, (c, h, w): (usize, usize, usize)) -> Self {
        match time {
            // (C*H, W, 1) -> (W, C*H, 1): a transpose.
            TimeAxis::Width => Self {
                a: c * h,
                b: w,
                len: 1,
            },
            // (C, H, W) -> (H, C, W): rows of W regrouped.
            TimeAxis::Height => Self { a: c, b: h, len: w },
        }
    }

    fn image(&self) -> usize {
        self.a * self.b * self.len
    }

    /// `out` (sequences) from `x` (maps), image by image.
    fn forward<E: CpuFloat>(&self, x: &[E], out: &mut [E]) {
        let image = self.image().max(1);
        out.par_chunks_mut(image)
            .zip(x.par_chunks(image))
            .with_min_len(par_min_len(image))
            .for_each(|(out, x)| swap_axes(x, out, self.a, self.len, copy));
    }

    /// `g_x` (maps) += `g_out` (sequences) moved back, image by image.
    fn backward<E: CpuFloat>(&self, g_out: &[E], g_x: &mut [E]) {
        let image = self.image().max(1);
        g_x.par_chunks_mut(image)
            .zip(g_out.par_chunks(image))
            .with_min_len(par_min_len(image))
            .for_each(|(g_x, g_out)| swap_axes(g_out, g_x, self.b, self.len, add));
    }
}
