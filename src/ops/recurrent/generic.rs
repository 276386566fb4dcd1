//! The recurrent op composed of dfdx ops: runs on any device, autodiff for free.
//!
//! Every tensor that is used more than once (the state, the per-gate projections, the weight
//! slices) has its tape split off into `pending`, and each use takes a tape-less clone with
//! the same id (`retaped`). Gradients are keyed by id, so every use still reaches the
//! original; `pending` is merged into the output at the end, and dfdx runs all backward ops
//! in reverse creation order.

use dfdx::prelude::*;

use super::{check_call, step_time, Cell, RecurrentWeights};

/// See [`super::RecurrentKernel::try_recurrent`]; this is the device-generic implementation.
///
/// A mask whose (batch, steps) differ from `x`'s is the device's own error for a tensor of
/// the wrong number of elements, as on the fast `Cpu` kernel: `CpuError::WrongNumElements`
/// on `Cpu`, `CudaError::Cpu(WrongNumElements)` on `Cuda`.
pub fn try_recurrent_generic<
    E: Dtype,
    D: Device<E>,
    B: Dim,
    S: Dim,
    T: Tape<E, D>,
    const F: usize,
    const G: usize,
    const U: usize,
>(
    cell: Cell,
    x: Tensor<(B, S, Const<F>), E, D, T>,
    weights: RecurrentWeights<F, G, U, E, D>,
    reverse: bool,
    mask: Option<&Tensor<(B, S), E, D>>,
) -> Result<Tensor<(B, S, Const<U>), E, D, T>, D::Err> {
    let (b, s, _) = *x.shape();
    let dev = x.device().clone();
    if check_call(cell, G, &(b, s), mask.map(|m| m.shape())).is_err() {
        return Err(wrong_num_elements(&dev));
    }
    let steps = s.size();
    let (x, mut pending) = x.split_tape();
    let state_shape = (b, Const::<U>);
    if steps == 0 || b.size() == 0 {
        // (dfdx's select and stack do not take empty tensors.)
        return Ok(dev.try_zeros_like(&(b, s, Const::<U>))?.put_tape(pending));
    }

    // Per gate: the input projection of every step, time-major (S, B, U), and the transposed
    // recurrent weight (U, U), both kept tape-less with their tapes in `pending`.
    let mut proj = Vec::with_capacity(G);
    let mut rec = Vec::with_capacity(G);
    let mut rec_bias = Vec::with_capacity(G);
    for g in 0..G {
        let idx = dev.try_tensor(g)?;
        let w: Tensor<Rank2<U, F>, E, D, T> =
            weights.w_ih.retaped::<T>().try_select(idx.clone())?;
        let bias: Tensor<Rank1<U>, E, D, T> =
            weights.bias.retaped::<T>().try_select(idx.clone())?;
        let p = x
            .retaped::<T>()
            .try_matmul(w.try_permute::<Rank2<F, U>, Axes2<1, 0>>()?)?
            .try_add(bias.try_broadcast_like(&(b, s, Const::<U>))?)?
            .try_permute::<(S, B, Const<U>), Axes3<1, 0, 2>>()?;
        proj.push(keep(p, &mut pending));
        let r: Tensor<Rank2<U, U>, E, D, T> =
            weights.w_hh.retaped::<T>().try_select(idx.clone())?;
        let r = r.try_permute::<Rank2<U, U>, Axes2<1, 0>>()?;
        rec.push(keep(r, &mut pending));
        if let Some(rb) = weights.recurrent_bias {
            let rb: Tensor<Rank1<U>, E, D, T> = rb.retaped::<T>().try_select(idx)?;
            let rb = rb.try_broadcast_like(&state_shape)?;
            rec_bias.push(keep(rb, &mut pending));
        }
    }
    // The mask, time-major, and its complement: untracked.
    let mask = match mask {
        Some(m) => Some((
            m.clone().try_permute::<(S, B), Axes2<1, 0>>()?,
            m.clone()
                .try_negate()?
                .try_add(E::ONE)?
                .try_permute::<(S, B), Axes2<1, 0>>()?,
        )),
        None => None,
    };

    // One gate's pre-activation parts at step t: (W x + b, R h + rb).
    let parts = |g: usize, t: usize, h: &Tensor<(B, Const<U>), E, D>| -> Result<_, D::Err> {
        let idx = dev.try_tensor(t)?;
        let px = proj[g].retaped::<T>().try_select(idx)?;
        let mut rh = h.retaped::<T>().try_matmul(rec[g].retaped::<T>())?;
        if let Some(rb) = rec_bias.get(g) {
            rh = rh.try_add(rb.retaped::<T>())?;
        }
        Ok((px, rh))
    };
    let pre = |g: usize,
               t: usize,
               h: &Tensor<(B, Const<U>), E, D>|
     -> Result<Tensor<(B, Const<U>), E, D, T>, D::Err> {
        let (px, rh) = parts(g, t, h)?;
        px.try_add(rh)
    };

    let mut h: Tensor<(B, Const<U>), E, D> = dev.try_zeros_like(&state_shape)?;
    let mut c: Tensor<(B, Const<U>), E, D> = dev.try_zeros_like(&state_shape)?;
    let mut outputs: Vec<Option<Tensor<(B, Const<U>), E, D, T>>> =
        (0..steps).map(|_| None).collect();
    for k in 0..steps {
        let t = step_time(k, steps, reverse);
        // The candidate state (h, c) this step computes when it is real.
        let (h_new, c_new) = match cell {
            Cell::Lstm => {
                let i = pre(0, t, &h)?.try_sigmoid()?;
                let f = pre(1, t, &h)?.try_sigmoid()?;
                let g = pre(2, t, &h)?.try_tanh()?;
                let o = pre(3, t, &h)?.try_sigmoid()?;
                let c_new = f.try_mul(c.retaped::<T>())?.try_add(i.try_mul(g)?)?;
                let (c_new, tape) = c_new.split_tape();
                pending = pending.merge(tape);
                let h_new = o.try_mul(c_new.retaped::<T>().try_tanh()?)?;
                (h_new, Some(c_new))
            }
            Cell::Gru => {
                let r = pre(0, t, &h)?.try_sigmoid()?;
                let z = pre(1, t, &h)?.try_sigmoid()?;
                let (px, rh) = parts(2, t, &h)?;
                let n = px.try_add(r.try_mul(rh)?)?.try_tanh()?;
                let (z, tape) = z.split_tape();
                pending = pending.merge(tape);
                let one_minus_z = z.retaped::<T>().try_negate()?.try_add(E::ONE)?;
                let h_new = one_minus_z
                    .try_mul(n)?
                    .try_add(z.retaped::<T>().try_mul(h.retaped::<T>())?)?;
                (h_new, None)
            }
            Cell::SimpleRnn => (pre(0, t, &h)?.try_tanh()?, None),
        };
        // Blend with the previous state where the step is padding.
        let (h_new, c_new) = match &mask {
            None => (h_new, c_new),
            Some((m, not_m)) => {
                let idx = dev.try_tensor(t)?;
                let m = m
                    .clone()
                    .try_select(idx.clone())?
                    .try_broadcast_like(&state_shape)?;
                let not_m = not_m
                    .clone()
                    .try_select(idx)?
                    .try_broadcast_like(&state_shape)?;
                let blend = |new: Tensor<(B, Const<U>), E, D, T>,
                             old: &Tensor<(B, Const<U>), E, D>| {
                    new.try_mul(m.clone())?
                        .try_add(old.retaped::<T>().try_mul(not_m.clone())?)
                };
                let h_new = blend(h_new, &h)?;
                let c_new = match c_new {
                    Some(cn) => Some(keep(blend(cn.retaped::<T>(), &c)?, &mut pending)),
                    None => None,
                };
                (h_new, c_new)
            }
        };
        if let Some(cn) = c_new {
            c = cn;
        }
        h = keep(h_new, &mut pending);
        outputs[t] = Some(h.retaped::<T>());
    }

    // (S, B, U) -> (B, S, U), contiguous.
    let outputs: Vec<_> = outputs
        .into_iter()
        .map(|o| o.expect("every step ran"))
        .collect();
    let y = outputs
        .try_stack()?
        .try_permute::<(B, usize, Const<U>), Axes3<1, 0, 2>>()?
        .try_reshape_like(&(b, s, Const::<U>))?;
    let (y, tape) = y.split_tape();
    Ok(y.put_tape(tape.merge(pending)))
}

/// Moves `t`'s tape into `pending` and returns `t` tape-less (same id, same data).
fn keep<S: Shape, E: Dtype, D: Storage<E>, T: Tape<E, D>>(
    t: Tensor<S, E, D, T>,
    pending: &mut T,
) -> Tensor<S, E, D> {
    let (t, tape) = t.split_tape();
    *pending = std::mem::take(pending).merge(tape);
    t
}

/// The device's error for a tensor given the wrong number of elements.
///
/// dfdx 0.13 gives generic code no way to build a `D::Err` (it is only `Debug + Display`),
/// and the op must return one for a mask of the wrong shape rather than panic. Every dfdx
/// device reports a vector of the wrong length as `WrongNumElements` (`CpuError`, or
/// `CudaError::Cpu`), which is what such a mask is, so asking for a one-element tensor
/// from no elements yields the error. Nothing is allocated.
fn wrong_num_elements<E: Dtype, D: Device<E>>(dev: &D) -> D::Err {
    match dev.try_tensor_from_vec::<(usize,)>(Vec::<E>::new(), (1,)) {
        Err(err) => err,
        // Only a device outside dfdx could accept it; there is no error left to return.
        Ok(_) => panic!(
            "recurrent op: the mask's (batch, steps) differ from the input's; build masked \
             input with Masked::new, which says how"
        ),
    }
}
