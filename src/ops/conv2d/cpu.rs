//! The fast `Cpu` convolution: im2col + gemm, a group of images at a time.
//!
//! The batch is cut into groups of a few images, just enough that a group's gemm has the
//! columns to run near gemm's peak; groups run in parallel over the cores, each gemm on its
//! own thread (small gemms lose speed when threaded: split the batch instead). A group's im2col
//! columns are still in cache when its gemm reads them, and for one image per group the
//! gemm writes straight into the output, with no (F, B) -> (B, F) transposition.
//!
//! Forward, per group: `cols` (CKK = C*KH*KW, G*OH*OW) gathers every window tap, `W (F x CKK) x
//! cols` gives (F, G*OH*OW), laid out as (G, F, OH, OW), plus the bias. The backward closure
//! owns `cols` and the weight's values; per group, `dW^T += cols x dY^T`, `db += row sums of
//! dY`, then `dcols = W^T x dY` overwrites the group's `cols` and col2im adds it into dX.
//!
//! A fused ReLU ([`OutputActivation::Relu`]) is applied as the bias is added; the forward
//! keeps where it let values through, and the backward masks dY with that as it reads it.
//!
//! A fused max pool pools each group's output while it is still in cache: the convolution's
//! full output never becomes a tensor. The forward keeps each pooled output's argmax, marked
//! where the fused ReLU stopped its gradient. The backward then visits only the positions
//! the pool passes a gradient to, from the patches as rows (`patch_rows.rs`): the forward
//! keeps them as rows where the input has 8 channels or more, and the backward turns
//! columns into rows otherwise ([`Layout`]).

use super::patch_rows::{
    add_rows_to_weights, backward_through_pool, columns_to_rows, im2row, row2im, rows_to_columns,
    weights_as_rows,
};
use crate::ops::cpu::{
    add, add_slice, copy, decide_freed_buffers, gemm_threads, matmul, num_threads, par_min_len,
    read, sum, sum_parts, swap_axes, tap_range, with_grads, with_simd, CpuFloat, Mat, Scratch,
};
use crate::ops::pool2d::{Planes, Pool, PoolKind, NO_ARGMAX, RELU_CUT};
use crate::ops::relu::{relu, relu_grad, relu_passes};
use crate::ops::{OutputActivation, Window1D, Window2D};
use dfdx::prelude::*;
use rayon::prelude::*;

/// Every size the loops need, resolved once per call.
#[derive(Clone, Copy)]
pub(super) struct Geometry {
    pub(super) batch: usize,
    pub(super) c: usize,
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) oh: usize,
    pub(super) ow: usize,
    pub(super) window: Window2D,
}

impl Geometry {
    /// Rows of `cols`: one per (channel, tap row, tap column).
    pub(super) fn ckk(&self) -> usize {
        self.c * self.window.taps()
    }
    pub(super) fn ohw(&self) -> usize {
        self.oh * self.ow
    }
    /// Elements of one input image.
    pub(super) fn chw(&self) -> usize {
        self.c * self.h * self.w
    }
    /// Columns of `cols`: one per (image, output row, output column).
    pub(super) fn n(&self) -> usize {
        self.batch * self.ohw()
    }
    /// The window's taps along the rows and along the columns, as [`Tap`]s.
    pub(super) fn axis_taps(&self) -> (Vec<Tap>, Vec<Tap>) {
        let Window2D { rows, cols } = self.window;
        let along = |input, out, axis: Window1D| -> Vec<Tap> {
            (0..axis.kernel)
                .map(|k| Tap::new(input, out, axis, k))
                .collect()
        };
        (along(self.h, self.oh, rows), along(self.w, self.ow, cols))
    }
    /// The window's taps in row-major order, each as its row and column [`Tap`]: row `r`
    /// of `cols` is channel `r / taps` at tap `r % taps`. Worked out once per call, as each
    /// takes divisions that, repeated for every row of `cols`, were 7% of a convolution.
    pub(super) fn taps(&self) -> Vec<(Tap, Tap)> {
        let (rows, cols) = self.axis_taps();
        let pairs = rows
            .iter()
            .map(|row| cols.iter().map(move |col| (row.clone(), col.clone())));
        pairs.flatten().collect()
    }
}

/// One kernel tap along one axis: outputs `valid` read input `o * stride + offset - pad`,
/// where `offset` is the tap's index times the dilation.
#[derive(Clone)]
pub(super) struct Tap {
    pub(super) valid: std::ops::Range<usize>,
    stride: usize,
    /// `offset - pad`, added to `o * stride` (never negative for `o` in `valid`).
    shift: isize,
}

impl Tap {
    /// Tap `k` of `axis`, over an `input` that the window maps to `out`.
    fn new(input: usize, out: usize, axis: Window1D, k: usize) -> Self {
        let offset = k * axis.dilation;
        Self {
            valid: tap_range(input, out, axis.stride, offset, axis.pad),
            stride: axis.stride,
            shift: offset as isize - axis.pad as isize,
        }
    }
    #[inline]
    pub(super) fn input(&self, o: usize) -> usize {
        (o * self.stride).wrapping_add_signed(self.shift)
    }
}

/// The convolution, then the fused activation, then, with `pool`, a max pool of its
/// output: (B, C, H, W) -> (B, F, OH, OW) convolved -> (B, F, YH, YW) returned, which is
/// (OH, OW) without `pool`.
#[allow(clippy::type_complexity)]
pub(super) fn try_conv2d<
    E: CpuFloat,
    B: Dim,
    T: Tape<E, Cpu>,
    const C: usize,
    const H: usize,
    const W: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const OH: usize,
    const OW: usize,
    const YH: usize,
    const YW: usize,
>(
    x: Tensor<(B, Const<C>, Const<H>, Const<W>), E, Cpu, T>,
    weight: &Tensor<Rank4<F, C, KH, KW>, E, Cpu>,
    bias: &Tensor<Rank1<F>, E, Cpu>,
    window: Window2D,
    activation: OutputActivation,
    pool: Option<Window2D>,
) -> Result<Tensor<(B, Const<F>, Const<YH>, Const<YW>), E, Cpu, T>, CpuError>
where
    Cpu: Device<E>,
{
    decide_freed_buffers();
    // The kernels index the storage as row-major: a permuted input is made contiguous
    // first (free when it already is; otherwise dfdx's copy carries the gradient back).
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let batch = x.shape().0;
    let g = Geometry {
        batch: batch.size(),
        c: C,
        h: H,
        w: W,
        oh: OH,
        ow: OW,
        window,
    };
    debug_assert!(pool.is_some() || (YH, YW) == (OH, OW));
    let pool = pool.map(|window| {
        let sizes = Planes {
            h: OH,
            w: OW,
            oh: YH,
            ow: YW,
        };
        Pool::new(PoolKind::Max, window, sizes)
    });
    let plan = Plan::new(g, F, activation, pool, T::OWNS_TAPE);
    let weights = read(weight);
    let bias_data = read(bias);
    // read() copies the storage as it lies; parameters are contiguous, and this kernel
    // relies on it for the weight and bias (and their gradients).
    debug_assert!(
        same_order(&weights, &weight.as_vec()) && same_order(&bias_data, &bias.as_vec()),
        "conv2d: the weight and bias must be contiguous"
    );
    // The pooled backward, and the forward with rows, want the weights as patch rows.
    let row_weights =
        (T::OWNS_TAPE && plan.backward_on_rows()).then(|| weights_as_rows(&g, F, &weights));
    let x_data = read(&x);
    let mut cols = Scratch::for_overwriting(plan.cols_per_image() * g.batch);
    let mut out = vec![E::zero(); g.batch * F * YH * YW];
    // What the backward needs besides `cols`; without a tape there is no backward to keep
    // it for. Pooled: each output's argmax. Else, with a fused ReLU: where it let the
    // output through (its gradient passes there alone).
    let len = out.len();
    let mut kept = Kept::new(&plan, len, T::OWNS_TAPE);
    let pieces = kept.pieces_mut(plan.group_out(), len);
    let forward_weights = match (plan.layout(), &row_weights) {
        (Layout::Rows, Some(rows)) => rows,
        _ => &weights,
    };
    plan.forward(
        &x_data,
        forward_weights,
        &bias_data,
        &mut cols,
        &mut out,
        pieces,
    );
    drop(x_data);
    let out = x
        .device()
        .try_tensor_from_vec(out, (batch, Const::<F>, Const::<YH>, Const::<YW>))?;

    if T::OWNS_TAPE {
        // Tape-less clones: they only name the gradients (and share storage, so cost nothing).
        let (out_id, x_id, w_id, b_id) = (out.clone(), x.clone(), weight.clone(), bias.clone());
        let weights = row_weights.unwrap_or(weights);
        tape.add_backward_op(move |grads| {
            let mut cols = cols;
            let [dw, db] = with_grads(grads, &out_id, &x_id, |g_out, g_x| {
                plan.backward(&weights, &mut cols, g_out, &kept, g_x)
            })?;
            with_grads(grads, &out_id, &w_id, |_, g_weight| {
                match plan.backward_on_rows() {
                    true => add_rows_to_weights(&plan.g, &dw, g_weight),
                    // g_weight (F, CKK) += dW^T^T.
                    false => swap_axes(&dw, g_weight, plan.g.ckk(), 1, add),
                }
            })?;
            with_grads(grads, &out_id, &b_id, |_, g_bias| add_slice(g_bias, &db))
        });
    }
    Ok(out.put_tape(tape))
}

/// How `cols` holds a group's patches.
#[derive(Clone, Copy)]
enum Layout {
    /// `(C*KH*KW, G*OH*OW)`: a patch per column, filled by [`im2col`].
    Columns,
    /// `(G*OH*OW, row)`: a patch per row, channels last, filled by [`im2row`].
    Rows,
}

/// What the forward keeps for the backward besides `cols`, one entry per output.
enum Kept {
    /// No backward, or nothing to mask or pool.
    Nothing,
    /// Where a fused ReLU let the output through.
    Passed(Vec<bool>),
    /// Each pooled output's argmax in its unpooled plane, marked [`RELU_CUT`] where a fused
    /// ReLU stopped its gradient.
    Argmax(Vec<u32>),
}

/// A [`Kept`] cut like the loops cut the output.
enum KeptPiece<'a> {
    Nothing,
    Passed(&'a [bool]),
    Argmax(&'a [u32]),
}

/// A [`Kept`] cut like the forward's loop cuts the output, to be written.
enum KeptPieceMut<'a> {
    Nothing,
    Passed(&'a mut [bool]),
    Argmax(&'a mut [u32]),
}

impl Kept {
    fn new(plan: &Plan, len: usize, taped: bool) -> Self {
        match (taped, &plan.pool, plan.activation) {
            (false, _, _) => Kept::Nothing,
            (true, Some(_), _) => Kept::Argmax(vec![NO_ARGMAX; len]),
            (true, None, OutputActivation::Relu) => Kept::Passed(vec![false; len]),
            (true, None, OutputActivation::Identity) => Kept::Nothing,
        }
    }

    /// Pieces of `piece` outputs of an output of `len`.
    fn pieces(&self, piece: usize, len: usize) -> Vec<KeptPiece<'_>> {
        // rayon's zip stops at the shorter side: a short record would drop outputs silently.
        match self {
            Kept::Nothing => (0..len.div_ceil(piece))
                .map(|_| KeptPiece::Nothing)
                .collect(),
            Kept::Passed(p) => {
                debug_assert_eq!(p.len(), len);
                p.chunks(piece).map(KeptPiece::Passed).collect()
            }
            Kept::Argmax(a) => {
                debug_assert_eq!(a.len(), len);
                a.chunks(piece).map(KeptPiece::Argmax).collect()
            }
        }
    }

    fn pieces_mut(&mut self, piece: usize, len: usize) -> Vec<KeptPieceMut<'_>> {
        match self {
            Kept::Nothing => (0..len.div_ceil(piece))
                .map(|_| KeptPieceMut::Nothing)
                .collect(),
            Kept::Passed(p) => {
                debug_assert_eq!(p.len(), len);
                p.chunks_mut(piece).map(KeptPieceMut::Passed).collect()
            }
            Kept::Argmax(a) => {
                debug_assert_eq!(a.len(), len);
                a.chunks_mut(piece).map(KeptPieceMut::Argmax).collect()
            }
        }
    }
}

impl KeptPiece<'_> {
    /// Pieces of `piece` outputs of this one, `len` long.
    fn pieces(&self, piece: usize, len: usize) -> Vec<KeptPiece<'_>> {
        match self {
            KeptPiece::Nothing => (0..len.div_ceil(piece))
                .map(|_| KeptPiece::Nothing)
                .collect(),
            KeptPiece::Passed(p) => p.chunks(piece).map(KeptPiece::Passed).collect(),
            KeptPiece::Argmax(a) => a.chunks(piece).map(KeptPiece::Argmax).collect(),
        }
    }
}

/// How a call splits its batch: the sizes the loops need, without the tensor types, so that
/// the loops (and their rayon closures) are compiled once per element type, not once per
/// layer shape.
struct Plan {
    g: Geometry,
    /// Filters (output channels).
    f: usize,
    /// Images per gemm group.
    per_group: usize,
    /// Threads of each group's gemm.
    threads: usize,
    /// Applied to the output after the bias.
    activation: OutputActivation,
    /// The max pool applied last, if fused.
    pool: Option<Pool>,
    /// How `cols` holds the patches.
    layout: Layout,
}

impl Plan {
    /// A convolution with a backward to run keeps its patches as rows (`patch_rows`) where
    /// its input has the channels for runs worth copying, columns otherwise. Rows make
    /// im2col's and col2im's copies runs of `KW * C` (a 3x3 output's rows of columns are 3
    /// long: those copies were 40% of the seed CNN's third convolution), and the backward
    /// through a pool runs on rows. Without a backward, rows bought nothing there: the
    /// reordering of the weights on each call made the seed CNN's batch-1 inference 8%
    /// slower.
    fn new(
        g: Geometry,
        f: usize,
        activation: OutputActivation,
        pool: Option<Pool>,
        taped: bool,
    ) -> Self {
        let layout = match taped && g.c >= MIN_ROW_CHANNELS {
            true => Layout::Rows,
            false => Layout::Columns,
        };
        let per_group = images_per_group(g.ohw(), g.batch);
        let threads = if g.batch.div_ceil(per_group) >= num_threads() {
            1
        } else {
            gemm_threads(f, g.ckk(), per_group * g.ohw())
        };
        Self {
            g,
            f,
            per_group,
            threads,
            activation,
            pool,
            layout,
        }
    }

    fn layout(&self) -> Layout {
        self.layout
    }

    /// Whether the backward runs on patch rows, with the weights and their gradient as
    /// rows: through a pool, always; without, with rows.
    fn backward_on_rows(&self) -> bool {
        self.pool.is_some() || matches!(self.layout, Layout::Rows)
    }

    /// Elements of `cols` per image: its patches, as columns or as padded rows.
    fn cols_per_image(&self) -> usize {
        match self.layout() {
            Layout::Columns => self.g.ckk() * self.g.ohw(),
            Layout::Rows => self.g.ohw() * self.g.row_len(),
        }
    }

    /// Elements of one returned plane: pooled, if a pool is fused.
    fn out_plane(&self) -> usize {
        match &self.pool {
            Some(pool) => pool.sizes().oh * pool.sizes().ow,
            None => self.g.ohw(),
        }
    }

    /// Elements of one group's returned output.
    fn group_out(&self) -> usize {
        self.per_group * self.f * self.out_plane()
    }

    /// The geometry of the group whose returned output (or its gradient) is `out_len` long.
    fn group(&self, out_len: usize) -> Geometry {
        Geometry {
            batch: out_len / (self.f * self.out_plane()),
            ..self.g
        }
    }

    /// `out = W x cols + b`, group by group; `cols` keeps every group's columns for the
    /// backward pass (group i's are the (CKK, G*OH*OW) block at i * G*CKK*OH*OW), then the
    /// plan's activation, then its pool. `kept` (cut like `out` in [`Self::group_out`]
    /// pieces) receives what the backward needs ([`Kept`]).
    fn forward<E: CpuFloat>(
        &self,
        x: &[E],
        weights: &[E],
        bias: &[E],
        cols: &mut [E],
        out: &mut [E],
        kept: Vec<KeptPieceMut<'_>>,
    ) {
        let (ohw, chw) = (self.g.ohw(), self.g.chw());
        let per_group = self.per_group;
        out.par_chunks_mut(self.group_out())
            .zip(cols.par_chunks_mut(per_group * self.cols_per_image()))
            .zip(x.par_chunks(per_group * chw))
            .zip(kept)
            .for_each(|(((out, cols), x), kept)| {
                let g = self.group(out.len());
                let Some(pool) = &self.pool else {
                    let passed = match kept {
                        KeptPieceMut::Passed(passed) => Some(passed),
                        _ => None,
                    };
                    return self.convolve(&g, x, weights, bias, cols, out, passed);
                };
                // The group's unpooled output lives only while it is pooled, in cache.
                let mut y = Scratch::for_overwriting(g.batch * self.f * ohw);
                self.convolve(&g, x, weights, bias, cols, &mut y, None);
                let pooled = self.out_plane();
                let planes = y.chunks_exact(ohw).zip(out.chunks_exact_mut(pooled));
                let KeptPieceMut::Argmax(argmax) = kept else {
                    // No tape: nothing will run the backward, so no argmaxes.
                    planes.for_each(|(y, out)| pool.max_plane(y, out, None));
                    return;
                };
                for ((y, out), argmax) in planes.zip(argmax.chunks_exact_mut(pooled)) {
                    pool.max_plane(y, out, Some(argmax));
                    if self.activation == OutputActivation::Relu {
                        // The ReLU passes the gradient at the argmax where it let the value
                        // there through; that value is the pooled output. (A select, which
                        // vectorises; a branch would mispredict.)
                        for (a, &v) in argmax.iter_mut().zip(out.iter()) {
                            *a |= if relu_passes(v) { 0 } else { RELU_CUT };
                        }
                    }
                }
            });
    }

    /// One group's convolution: `out = activation(W x cols + b)` as (G, F, OH, OW), with
    /// `cols` filled from the group's images `x` first. `passed`, if given (as long as
    /// `out`), records where a fused ReLU let the output through.
    #[allow(clippy::too_many_arguments)]
    fn convolve<E: CpuFloat>(
        &self,
        g: &Geometry,
        x: &[E],
        weights: &[E],
        bias: &[E],
        cols: &mut [E],
        out: &mut [E],
        passed: Option<&mut [bool]>,
    ) {
        let (f, ckk, ohw) = (self.f, g.ckk(), g.ohw());
        match self.layout() {
            Layout::Columns => {
                im2col(g, x, cols);
                let (w, cols) = (Mat::new(weights, f, ckk), Mat::new(cols, ckk, g.n()));
                if g.batch == 1 {
                    matmul(out, w, cols, false, self.threads);
                } else {
                    // (F, G*OH*OW) -> (G, F, OH*OW)
                    let mut y = Scratch::for_overwriting(out.len());
                    matmul(&mut y, w, cols, false, self.threads);
                    swap_axes(&y, out, f, ohw, copy);
                }
            }
            Layout::Rows => {
                im2row(g, x, cols);
                let row = g.row_len();
                let (w, rows) = (
                    Mat::strided(weights, f, ckk, row),
                    Mat::strided(cols, g.n(), ckk, row),
                );
                // rows x W^T, (G*OH*OW, F): gemm packs the weights, not the larger rows.
                let mut y = Scratch::for_overwriting(out.len());
                matmul(&mut y, rows, w.t(), false, self.threads);
                // (G, OH*OW, F) -> (G, F, OH*OW)
                for (y, out) in y.chunks_exact(ohw * f).zip(out.chunks_exact_mut(ohw * f)) {
                    swap_axes(y, out, ohw, 1, copy);
                }
            }
        }
        let mut passed = passed.map(|passed| passed.chunks_exact_mut(ohw));
        for (plane, &b) in out.chunks_exact_mut(ohw).zip(bias.iter().cycle()) {
            match self.activation {
                OutputActivation::Identity => plane.iter_mut().for_each(|v| *v += b),
                OutputActivation::Relu => {
                    plane.iter_mut().for_each(|v| *v = relu(*v + b));
                }
            }
            if let Some(passed) = passed.as_mut().and_then(|p| p.next()) {
                let plane = plane.iter();
                passed
                    .iter_mut()
                    .zip(plane)
                    .for_each(|(p, &v)| *p = relu_passes(v));
            }
        }
    }

    /// Adds dX into `g_x` and returns [dW, db], given dY (`g_out`, the gradient of what
    /// the forward returned), what the forward kept, and its `cols`, which it overwrites. dW
    /// is dW^T (CKK, F), or patch rows (F, row) where [`Self::backward_on_rows`]. Through a
    /// fused pool, only the outputs its argmaxes pass a gradient to are visited; a fused ReLU
    /// masks dY first. dW and db are summed over the groups of each part, then over the
    /// parts in order ([`sum_parts`]).
    fn backward<E: CpuFloat>(
        &self,
        weights: &[E],
        cols: &mut [E],
        g_out: &[E],
        kept: &Kept,
        g_x: &mut [E],
    ) -> [Vec<E>; 2] {
        let (g, f, per_group) = (self.g, self.f, self.per_group);
        let (ckk, chw) = (g.ckk(), g.chw());
        let per_image = self.cols_per_image();
        // dW^T (CKK, F), or dW as patch rows (F, row).
        let dw_len = match self.backward_on_rows() {
            false => ckk * f,
            true => f * g.row_len(),
        };
        let zeros = || [vec![E::zero(); dw_len], vec![E::zero(); f]];
        let group_out = self.group_out();
        let groups = g_out.len().div_ceil(group_out);
        let per_part = groups.div_ceil(num_threads().max(1)).max(1);
        let part_out = per_part * group_out;
        let partials: Vec<[Vec<E>; 2]> = g_out
            .par_chunks(part_out)
            .zip(cols.par_chunks_mut(per_part * per_group * per_image))
            .zip(g_x.par_chunks_mut(per_part * per_group * chw))
            .zip(kept.pieces(part_out, g_out.len()))
            .map(|(((g_out, cols), g_x), kept)| {
                let kept = kept.pieces(group_out, g_out.len());
                g_out
                    .chunks(group_out)
                    .zip(cols.chunks_mut(per_group * per_image))
                    .zip(g_x.chunks_mut(per_group * chw))
                    .zip(kept)
                    .fold(zeros(), |[mut dw, mut db], (((g_out, cols), g_x), kept)| {
                        let g = self.group(g_out.len());
                        let (dw_db, pooled) = ((&mut dw[..], &mut db[..]), self.out_plane());
                        match kept {
                            KeptPiece::Argmax(argmax) => self.backward_through_pool(
                                &g, weights, cols, g_out, argmax, pooled, g_x, dw_db,
                            ),
                            KeptPiece::Passed(passed) => {
                                let dy = through_relu(g_out, passed);
                                self.backward_dense(&g, weights, cols, &dy, g_x, dw_db)
                            }
                            KeptPiece::Nothing => {
                                self.backward_dense(&g, weights, cols, g_out, g_x, dw_db)
                            }
                        }
                        [dw, db]
                    })
            })
            .collect();
        sum_parts(partials, zeros)
    }

    /// One group's backward without a pool. `g_out` is dY as the group's output lies, (G,
    /// F, OH*OW); `db` takes its planes' sums. Columns: `dW^T += cols x dY^T`, then `dcols =
    /// W^T x dY` overwrites `cols` and col2im adds it into `g_x`. Rows (the weights and `dw`
    /// as patch rows, `(F, row)`): with dY as `(G*OH*OW, F)`, `dW += dY^T x rows`, then
    /// `drows = dY x W` overwrites `cols` for row2im. Whole rows, padding included: what the
    /// padding of `cols` holds reaches only the padding of `dw`, and the weights' padding is
    /// zero.
    fn backward_dense<E: CpuFloat>(
        &self,
        g: &Geometry,
        weights: &[E],
        cols: &mut [E],
        g_out: &[E],
        g_x: &mut [E],
        (dw, db): (&mut [E], &mut [E]),
    ) {
        let (f, ckk, n, ohw) = (self.f, g.ckk(), g.n(), g.ohw());
        for (plane, g_out) in g_out.chunks_exact(ohw).enumerate() {
            db[plane % f] += sum(g_out);
        }
        let mut dy = Scratch::for_overwriting(g_out.len());
        match self.layout {
            Layout::Columns => {
                // (G, F, OH*OW) -> (F, G*OH*OW): for one image, g_out as it lies.
                let dy = match g.batch {
                    1 => g_out,
                    _ => {
                        swap_axes(g_out, &mut dy, g.batch, ohw, copy);
                        &dy
                    }
                };
                let dy = Mat::new(dy, f, n);
                matmul(dw, Mat::new(cols, ckk, n), dy.t(), true, self.threads);
                matmul(cols, Mat::new(weights, f, ckk).t(), dy, false, self.threads);
                col2im(g, cols, g_x);
            }
            Layout::Rows => {
                // (G, F, OH*OW) -> (G, OH*OW, F)
                for (src, dst) in g_out
                    .chunks_exact(f * ohw)
                    .zip(dy.chunks_exact_mut(f * ohw))
                {
                    swap_axes(src, dst, f, 1, copy);
                }
                let (dy, row) = (Mat::new(&dy, n, f), g.row_len());
                matmul(dw, dy.t(), Mat::new(cols, n, row), true, self.threads);
                matmul(cols, dy, Mat::new(weights, f, row), false, self.threads);
                row2im(g, cols, g_x);
            }
        }
    }

    /// One group's backward through its fused pool, from its patches as rows (`cols`, or
    /// `cols` made rows first): see [`backward_through_pool`]. `weights` are patch rows.
    #[allow(clippy::too_many_arguments)]
    fn backward_through_pool<E: CpuFloat>(
        &self,
        g: &Geometry,
        weights: &[E],
        cols: &mut [E],
        g_out: &[E],
        argmax: &[u32],
        pooled: usize,
        g_x: &mut [E],
        (dw, db): (&mut [E], &mut [E]),
    ) {
        match self.layout() {
            Layout::Rows => {
                let mut drows =
                    backward_through_pool(g, weights, cols, g_out, argmax, pooled, dw, db);
                row2im(g, &mut drows, g_x);
            }
            Layout::Columns => {
                // Few channels: col2im adds whole rows of the image, where row2im's runs of a
                // tap row overlap those of the next position.
                let rows = columns_to_rows(g, cols);
                let drows = backward_through_pool(g, weights, &rows, g_out, argmax, pooled, dw, db);
                rows_to_columns(g, &drows, cols);
                col2im(g, cols, g_x);
            }
        }
    }
}

/// dY before the fused ReLU, from dY after it (`g_out`): where the forward let the value
/// through, the gradient passes; elsewhere it is 0.
fn through_relu<E: CpuFloat>(g_out: &[E], passed: &[bool]) -> Scratch<E> {
    let mut dy = Scratch::for_overwriting(g_out.len());
    for ((d, &g), &p) in dy.iter_mut().zip(g_out).zip(passed) {
        *d = relu_grad(p, g);
    }
    dy
}

/// Input channels from which a convolution with a backward keeps its patches as rows: a
/// tap's run of channels is what [`im2row`] copies, and shorter runs lose more in the copies
/// than the rows save (the backward through a pool runs on rows either way:
/// [`columns_to_rows`]).
/// The seed CNN's first convolution (one channel, 28x28, 32 filters) took 0.48 ms forward
/// and 1.50 ms forward and backward as rows, 0.27 and 1.16 as columns (with the dense
/// backward of the time).
const MIN_ROW_CHANNELS: usize = 8;

/// Images per group: enough that a group's gemm has at least this many columns (OH*OW per
/// image), below which gemm runs far from its peak; above it, smaller groups keep the
/// columns in cache and leave more groups to share among the cores. 128 rather than 64
/// once the groups were balanced over the cores ([`images_per_group`]): the seed CNN's
/// training step 0.94 of before (its second convolution, 121 outputs an image, went from
/// one image a group to two), and its third convolution (9 outputs an image) no slower.
const MIN_GEMM_COLUMNS: usize = 128;

fn images_per_group(ohw: usize, batch: usize) -> usize {
    let wanted = MIN_GEMM_COLUMNS.div_ceil(ohw.max(1)).min(batch).max(1);
    // As many groups as that makes, rounded up to a multiple of the threads, so that the
    // cores get as many groups each.
    let groups = batch
        .div_ceil(wanted)
        .next_multiple_of(num_threads().max(1));
    batch.div_ceil(groups.max(1)).max(1)
}

/// Whether a tensor's storage (`stored`) lists its elements in row-major order (`logical`),
/// NaNs included.
fn same_order<E: CpuFloat>(stored: &[E], logical: &[E]) -> bool {
    stored
        .iter()
        .zip(logical)
        .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()))
}

/// `cols[(c, ki, kj), (b, oh, ow)] = x[b, c, oh*SH + ki*DH - pad_top, ow*SW + kj*DW - pad_left]`
/// (stride and dilation along the rows, then the columns), zero where that falls in the
/// padding. Every element of `cols` is written.
fn im2col<E: CpuFloat>(g: &Geometry, x: &[E], cols: &mut [E]) {
    let (n, ohw, ow) = (g.n(), g.ohw(), g.ow);
    let taps = g.taps();
    cols.par_chunks_mut(n)
        .with_min_len(par_min_len(n))
        .enumerate()
        .for_each(|(r, row)| {
            // AVX moves of 8 elements where the CPU has them (one where SSE takes two).
            with_simd(
                #[inline(always)]
                || {
                    let (c, (rows, cols)) = (r / taps.len(), &taps[r % taps.len()]);
                    let (lo, hi) = (cols.valid.start, cols.valid.end);
                    for (b, image) in row.chunks_exact_mut(ohw).enumerate() {
                        let plane = &x[(b * g.c + c) * g.h * g.w..][..g.h * g.w];
                        for (o_y, dst) in image.chunks_exact_mut(ow).enumerate() {
                            if !rows.valid.contains(&o_y) {
                                dst.fill(E::zero());
                                continue;
                            }
                            let src = &plane[rows.input(o_y) * g.w..][..g.w];
                            // (`fill` is a call to `memset`, even where nothing is padded: two
                            // per row cost the seed CNN's batch-64 inference about 4%.)
                            if lo > 0 {
                                dst[..lo].fill(E::zero());
                            }
                            if hi < ow {
                                dst[hi..].fill(E::zero());
                            }
                            if lo < hi {
                                if cols.stride == 1 {
                                    let start = cols.input(lo);
                                    copy_row(&mut dst[lo..hi], &src[start..start + (hi - lo)]);
                                } else {
                                    for (o_x, d) in dst[lo..hi].iter_mut().enumerate() {
                                        *d = src[cols.input(lo + o_x)];
                                    }
                                }
                            }
                        }
                    }
                },
            )
        });
}

/// `dst.copy_from_slice(src)` for the short rows [`im2col`] copies (26, 11 and 3 elements
/// on the seed CNN) and the runs `im2row` copies (96 and 192): as moves of a fixed size,
/// which the compiler inlines, where `copy_from_slice` of a length known only at run time
/// calls `memcpy`, whose call cost more than such a copy. A row of 16 or more goes 16 at a
/// time (one AVX-512 register of `f32`; moves of 8 made the seed CNN's training step 1.5–3%
/// slower), the last move overlapping the one before (those elements are written twice,
/// with the same values); a shorter row is two moves of 8, 4 or 2 that overlap, so that a
/// row of any length takes at most one branch per move.
#[inline(always)]
pub(super) fn copy_row<E: Copy>(dst: &mut [E], src: &[E]) {
    assert_eq!(dst.len(), src.len());
    let n = dst.len();
    #[inline(always)]
    fn copy<E: Copy, const N: usize>(dst: &mut [E], src: &[E], at: usize) {
        dst[at..][..N].copy_from_slice(&src[at..][..N]);
    }
    match n {
        16.. => {
            for at in (0..n - 16).step_by(16) {
                copy::<E, 16>(dst, src, at);
            }
            copy::<E, 16>(dst, src, n - 16);
        }
        8..=15 => {
            copy::<E, 8>(dst, src, 0);
            copy::<E, 8>(dst, src, n - 8);
        }
        4..=7 => {
            copy::<E, 4>(dst, src, 0);
            copy::<E, 4>(dst, src, n - 4);
        }
        2..=3 => {
            copy::<E, 2>(dst, src, 0);
            copy::<E, 2>(dst, src, n - 2);
        }
        1 => dst[0] = src[0],
        _ => {}
    }
}

/// The adjoint of [`im2col`]: `g_x[b, c, y, x] += dcols[(c, ki, kj), (b, oh, ow)]` over
/// every tap that read (y, x). Parallel over the (b, c) planes of `g_x`, which are disjoint.
fn col2im<E: CpuFloat>(g: &Geometry, dcols: &[E], g_x: &mut [E]) {
    let (n, ohw, ow, kk) = (g.n(), g.ohw(), g.ow, g.window.taps());
    let hw = g.h * g.w;
    let taps = g.taps();
    g_x.par_chunks_mut(hw)
        .with_min_len(par_min_len(kk * ohw))
        .enumerate()
        .for_each(|(p, plane)| {
            let (b, c) = (p / g.c, p % g.c);
            for (t, (rows, cols)) in taps.iter().enumerate() {
                let r = c * kk + t;
                let src_image = &dcols[r * n + b * ohw..][..ohw];
                for o_y in rows.valid.clone() {
                    let dst = &mut plane[rows.input(o_y) * g.w..][..g.w];
                    let src = &src_image[o_y * ow..][..ow];
                    if cols.stride == 1 && !cols.valid.is_empty() {
                        let start = cols.input(cols.valid.start);
                        let len = cols.valid.len();
                        for (d, &s) in dst[start..start + len]
                            .iter_mut()
                            .zip(&src[cols.valid.clone()])
                        {
                            *d += s;
                        }
                    } else {
                        for o_x in cols.valid.clone() {
                            dst[cols.input(o_x)] += src[o_x];
                        }
                    }
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests run both layouts: inputs of fewer than 8 channels, and of 8 or more (taped).
    #[test]
    fn convolutions_of_eight_channels_or_more_with_a_backward_keep_rows() {
        let window = Window2D {
            rows: Window1D::new(3, 1, 1, 0),
            cols: Window1D::new(3, 1, 1, 0),
        };
        let plan = |c, pooled: bool, taped| {
            let g = Geometry {
                batch: 2,
                c,
                h: 5,
                w: 5,
                oh: 3,
                ow: 3,
                window,
            };
            let pool = pooled.then(|| {
                let sizes = Planes {
                    h: 3,
                    w: 3,
                    oh: 1,
                    ow: 1,
                };
                Pool::new(PoolKind::Max, window, sizes)
            });
            Plan::new(g, 4, OutputActivation::Relu, pool, taped).layout()
        };
        assert_eq!(MIN_ROW_CHANNELS, 8);
        for pooled in [false, true] {
            assert!(matches!(plan(7, pooled, true), Layout::Columns));
            assert!(matches!(plan(8, pooled, true), Layout::Rows));
            assert!(matches!(plan(8, pooled, false), Layout::Columns));
        }
    }

    #[test]
    fn groups_share_evenly_among_the_cores() {
        let threads = num_threads().max(1);
        for ohw in [1, 9, 121, 676] {
            for batch in 1..100 {
                let per_group = images_per_group(ohw, batch);
                let groups = batch.div_ceil(per_group);
                let wanted = MIN_GEMM_COLUMNS.div_ceil(ohw).min(batch);
                assert!(per_group <= wanted, "{ohw} {batch}: {per_group} > {wanted}");
                if batch >= threads {
                    assert!(groups >= threads, "{ohw} {batch}: {groups} groups");
                }
            }
        }
        // The seed CNN's third convolution: 15 images a group would make 5 groups, 3 for
        // one core and 2 for the other; 6 groups of 11 (the last of 9) share evenly.
        if threads == 2 {
            assert_eq!(images_per_group(9, 64), 11);
        }
    }

    #[test]
    fn copy_row_copies_rows_of_every_length() {
        // Every length: whole and overlapping moves of 8, pairs of 4 and of 2, and one.
        for len in 0..40u32 {
            let src: Vec<u32> = (0..len).collect();
            let mut dst = vec![u32::MAX; len as usize];
            super::copy_row(&mut dst, &src);
            assert_eq!(dst, src, "a row of {len}");
        }
    }
}
