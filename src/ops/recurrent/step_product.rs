//! The products of a recurrent layer: `X W^T + b` for every step of a block of sequences,
//! then, step by step, `Q = P_t + H R^T` (the GRU: `rb + H R^T`), and in the backward, step
//! by step, `dH_prev = dH + dQ R`.
//!
//! On the seed LSTM they are small (28 x 64 by 64 x 256, then 32 x 64 by 64 x 256 per core,
//! 28 times per layer), and a general GEMM repacks its right-hand side on every call: its
//! packing and dispatch, and a short `k`, kept it under half of the machine's speed. Here
//! `W^T`, `R^T` and (backward) `R` are packed once per call into panels of 16 columns
//! (`k x 16`, contiguous, the last padded with zeros), and for `f32` on a CPU with AVX2 and FMA a
//! register-blocked kernel computes up to 6 rows times one panel at a time: 12 accumulators of
//! 8 lanes loaded from the start rows (the bias, the step's input projection, or `dH`), then two
//! panel loads and one broadcast per row for each `k`. On a CPU with AVX-512F a kernel of the
//! same shape takes up to 8 rows times two panels, each panel one 16-lane register, and
//! stores a last partial panel through a mask. Other types and CPUs run the same products
//! through the general GEMM.

use super::activation::RecurrentFloat;
use crate::ops::cpu::{matmul, Mat};

/// Columns per panel (gates forward, units in the backward): two AVX registers of `f32`.
pub const PANEL: usize = 16;

/// Rows per tile of the AVX2 kernel: 6 x 2 accumulators, 2 panel registers and one broadcast
/// fill 15 of the 16 AVX registers.
pub const TILE_ROWS: usize = 6;

/// Rows of a matrix: row `r` starts at `data[r * stride]` (a stride of 0 repeats one row).
#[derive(Clone, Copy)]
pub struct Rows<'a, E> {
    pub data: &'a [E],
    pub stride: usize,
}

impl<'a, E> Rows<'a, E> {
    /// One row, repeated: a bias.
    pub fn repeated(data: &'a [E]) -> Self {
        Self { data, stride: 0 }
    }

    /// The rows from row `r` on, from column `c` on.
    #[inline]
    fn skip(self, r: usize, c: usize) -> Self {
        Self {
            data: &self.data[r * self.stride + c..],
            stride: self.stride,
        }
    }
}

/// The sizes of one product: `rows x k` times `k x cols`.
#[derive(Clone, Copy)]
pub struct Sizes {
    pub rows: usize,
    pub k: usize,
    pub cols: usize,
}

/// A kernel: `out[r * out_stride + c] = start[r * start.stride + c] + sum over j < k of
/// lhs[r * lhs.stride + j] * panels[(c / PANEL * k + j) * PANEL + c % PANEL]` for `r < rows`,
/// `c < cols`. It reads the rows of `start` whole panels wide.
///
/// # Safety
/// The CPU must have the features the kernel was compiled for (its provider checks).
pub type PanelKernel<E> = unsafe fn(
    out: &mut [E],
    out_stride: usize,
    sizes: Sizes,
    start: Rows<E>,
    lhs: Rows<E>,
    panels: &[E],
);

/// `out = start + lhs x rhs`, row by row, for a right-hand side (`k x cols`) packed once:
/// into panels for this type's kernel when it has one, or kept as it is for the general GEMM.
pub struct Product<'a, E> {
    rhs: Mat<'a, E>,
    /// `rhs` in panels; empty when the general GEMM runs.
    panels: Vec<E>,
    kernel: Option<PanelKernel<E>>,
}

impl<'a, E: RecurrentFloat> Product<'a, E> {
    pub fn new(rhs: Mat<'a, E>) -> Self {
        Self::with_kernel(rhs, E::panel_kernel())
    }

    fn with_kernel(rhs: Mat<'a, E>, kernel: Option<PanelKernel<E>>) -> Self {
        Self {
            rhs,
            panels: match kernel {
                Some(_) => pack(rhs),
                None => Vec::new(),
            },
            kernel,
        }
    }

    /// The row length of the buffers the product writes and starts from: `cols`, rounded up
    /// to whole panels when the kernel runs (it reads start rows whole panels wide).
    pub fn row_len(&self) -> usize {
        let cols = self.rhs.shape().1;
        match self.kernel {
            Some(_) => cols.div_ceil(PANEL) * PANEL,
            None => cols,
        }
    }

    /// `out` (rows [`Self::row_len`] apart) `= start + lhs x rhs` for `rows` rows of `lhs`.
    pub fn run(&self, out: &mut [E], rows: usize, start: Rows<E>, lhs: Rows<E>) {
        let ((k, cols), len) = (self.rhs.shape(), self.row_len());
        if rows == 0 {
            return;
        }
        match self.kernel {
            // SAFETY: `panel_kernel` returned the kernel only after checking the CPU's
            // features, and `panels` was packed for it; the kernel asserts the bounds of
            // every read and write (the general GEMM's path is checked by slicing).
            Some(kernel) => unsafe {
                kernel(out, len, Sizes { rows, k, cols }, start, lhs, &self.panels)
            },
            None => {
                let out = &mut out[..rows * cols];
                for (r, row) in out.chunks_exact_mut(cols).enumerate() {
                    row.copy_from_slice(&start.data[r * start.stride..][..cols]);
                }
                let lhs = Mat::strided(lhs.data, rows, k, lhs.stride);
                matmul(out, lhs, self.rhs, true, 1);
            }
        }
    }
}

/// A layer's `W` and `R` (`(G*U, k)` row-major, as `weight_ih` and `weight_hh`), packed for
/// the forward's products by their transposes.
pub struct StepWeights<'a, E> {
    w_ih: Product<'a, E>,
    w_hh: Product<'a, E>,
}

impl<'a, E: RecurrentFloat> StepWeights<'a, E> {
    pub fn new(w_ih: &'a [E], w_hh: &'a [E], gu: usize, features: usize, units: usize) -> Self {
        Self::with_kernel(w_ih, w_hh, gu, features, units, E::panel_kernel())
    }

    fn with_kernel(
        w_ih: &'a [E],
        w_hh: &'a [E],
        gu: usize,
        features: usize,
        units: usize,
        kernel: Option<PanelKernel<E>>,
    ) -> Self {
        let transpose = |weight: &'a [E], k: usize| {
            assert_eq!(weight.len(), gu * k, "a recurrent weight holds G*U rows");
            Product::with_kernel(Mat::new(weight, gu, k).t(), kernel)
        };
        Self {
            w_ih: transpose(w_ih, features),
            w_hh: transpose(w_hh, units),
        }
    }

    /// The row length of the buffers the products write and start from: `G*U`, rounded up
    /// to whole panels when the kernel runs.
    pub fn row_len(&self) -> usize {
        self.w_hh.row_len()
    }

    /// `out = start + x W^T` for `rows` rows of `x` (the input projection).
    pub fn input(&self, out: &mut [E], rows: usize, start: Rows<E>, x: Rows<E>) {
        self.w_ih.run(out, rows, start, x);
    }

    /// `out = start + h R^T` for `rows` rows of `h` (the recurrent projection).
    pub fn state(&self, out: &mut [E], rows: usize, start: Rows<E>, h: Rows<E>) {
        self.w_hh.run(out, rows, start, h);
    }
}

/// `v` padded with zeros to `len`: a bias as the start row of a product.
pub fn padded<E: RecurrentFloat>(v: &[E], len: usize) -> Vec<E> {
    let mut out = v.to_vec();
    out.resize(len, E::zero());
    out
}

/// `rhs` (`k x cols`) in panels: `panels[(p * k + j) * PANEL + l] = rhs[j, p * PANEL + l]`,
/// zero past `cols`. Written in order; for a transposed weight that reads 16 of its rows side
/// by side (writing in the weight's order touched a new cache line per element, and packing
/// the CRNN's `W` took longer than its product at batch 1).
fn pack<E: RecurrentFloat>(rhs: Mat<E>) -> Vec<E> {
    let (k, cols) = rhs.shape();
    let mut panels = vec![E::zero(); cols.div_ceil(PANEL) * k * PANEL];
    for (p, panel) in panels.chunks_exact_mut(k * PANEL).enumerate() {
        let panel_cols = p * PANEL..cols.min((p + 1) * PANEL);
        for (j, lanes) in panel.chunks_exact_mut(PANEL).enumerate() {
            for (lane, c) in lanes.iter_mut().zip(panel_cols.clone()) {
                *lane = rhs.at(j, c);
            }
        }
    }
    panels
}

/// The `f32` [`PanelKernel`] for this CPU, if it has one.
pub fn f32_panel_kernel() -> Option<PanelKernel<f32>> {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // (Rust's `avx512f` implies AVX2 and FMA, so the AVX-512 kernel is chosen only where
        // the CPU reports those too.)
        if std::is_x86_feature_detected!("avx512f") {
            return Some(avx512::product);
        }
        return Some(avx2::product);
    }
    None
}

/// Panics unless a [`PanelKernel`]'s operands hold every element it reads and writes for
/// `sizes` (`rows` of at least 1): `out`'s rows, `start`'s rows whole panels wide, `lhs`'s
/// rows, and the panels.
#[cfg(target_arch = "x86_64")]
fn assert_fits(
    out: &[f32],
    out_stride: usize,
    sizes: Sizes,
    start: Rows<f32>,
    lhs: Rows<f32>,
    panels: &[f32],
) {
    let Sizes { rows, k, cols } = sizes;
    let n_panels = cols.div_ceil(PANEL);
    assert!(out_stride >= cols && out.len() >= (rows - 1) * out_stride + cols);
    assert!(start.data.len() >= (rows - 1) * start.stride + n_panels * PANEL);
    assert!(lhs.data.len() >= (rows - 1) * lhs.stride + k);
    assert!(panels.len() >= n_panels * k * PANEL);
}

/// The rows of the next tile when `left` rows remain and a tile holds at most `max`. A tile
/// of 1 to 3 rows has too few accumulators to hide the FMA's latency (4 cycles on 2 pipes
/// wants 8 in flight), so where one would follow a full tile the two share their rows: with
/// 6-row tiles, 7 as 3 + 4, 8 as 4 + 4, 9 as 5 + 4, and a core's 32 sequences of the seed
/// LSTM run as 6, 6, 6, 6, 4, 4 instead of 6, 6, 6, 6, 6, 2.
#[cfg(target_arch = "x86_64")]
fn tile_height(left: usize, max: usize) -> usize {
    if left > max && left < max + 4 {
        left - 4
    } else {
        left.min(max)
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{assert_fits, tile_height, Rows, Sizes, PANEL, TILE_ROWS};
    use std::arch::x86_64::*;

    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn product(
        out: &mut [f32],
        out_stride: usize,
        sizes: Sizes,
        start: Rows<f32>,
        lhs: Rows<f32>,
        panels: &[f32],
    ) {
        let Sizes { rows, k, cols } = sizes;
        let n_panels = cols.div_ceil(PANEL);
        if rows == 0 {
            return;
        }
        // Every read and write below stays inside these bounds.
        assert_fits(out, out_stride, sizes, start, lhs, panels);
        for p in 0..n_panels {
            let c0 = p * PANEL;
            let tile = Tile {
                width: (cols - c0).min(PANEL),
                k,
                panel: panels.as_ptr().add(p * k * PANEL),
            };
            let mut r0 = 0;
            while r0 < rows {
                let height = tile_height(rows - r0, TILE_ROWS);
                let (start, lhs) = (start.skip(r0, c0), lhs.skip(r0, 0));
                let out = out.as_mut_ptr().add(r0 * out_stride + c0);
                match height {
                    6 => tile.run::<6>(out, out_stride, start, lhs),
                    5 => tile.run::<5>(out, out_stride, start, lhs),
                    4 => tile.run::<4>(out, out_stride, start, lhs),
                    3 => tile.run::<3>(out, out_stride, start, lhs),
                    2 => tile.run::<2>(out, out_stride, start, lhs),
                    _ => tile.run::<1>(out, out_stride, start, lhs),
                }
                r0 += height;
            }
        }
    }

    /// One panel (`k x 16` at `panel`), of which `width` columns are written.
    struct Tile {
        width: usize,
        k: usize,
        panel: *const f32,
    }

    impl Tile {
        /// `R` rows: `out` (rows `out_stride` apart) `= start + lhs x panel`.
        #[target_feature(enable = "avx2,fma")]
        #[inline]
        unsafe fn run<const R: usize>(
            &self,
            out: *mut f32,
            out_stride: usize,
            start: Rows<f32>,
            lhs: Rows<f32>,
        ) {
            let mut acc = [[_mm256_setzero_ps(); 2]; R];
            for (r, acc) in acc.iter_mut().enumerate() {
                let s = start.data.as_ptr().add(r * start.stride);
                *acc = [_mm256_loadu_ps(s), _mm256_loadu_ps(s.add(8))];
            }
            let a = lhs.data.as_ptr();
            for j in 0..self.k {
                let w0 = _mm256_loadu_ps(self.panel.add(j * PANEL));
                let w1 = _mm256_loadu_ps(self.panel.add(j * PANEL + 8));
                for (r, acc) in acc.iter_mut().enumerate() {
                    let a = _mm256_broadcast_ss(&*a.add(r * lhs.stride + j));
                    acc[0] = _mm256_fmadd_ps(a, w0, acc[0]);
                    acc[1] = _mm256_fmadd_ps(a, w1, acc[1]);
                }
            }
            for (r, acc) in acc.iter().enumerate() {
                let out = out.add(r * out_stride);
                if self.width == PANEL {
                    _mm256_storeu_ps(out, acc[0]);
                    _mm256_storeu_ps(out.add(8), acc[1]);
                } else {
                    let mut lanes = [0.0f32; PANEL];
                    _mm256_storeu_ps(lanes.as_mut_ptr(), acc[0]);
                    _mm256_storeu_ps(lanes.as_mut_ptr().add(8), acc[1]);
                    std::ptr::copy_nonoverlapping(lanes.as_ptr(), out, self.width);
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{assert_fits, tile_height, Rows, Sizes, PANEL};
    use std::arch::x86_64::*;

    /// Rows per tile: 8 rows by two panels are 16 accumulators of 16 lanes; with the two
    /// panel registers and a broadcast, 19 of the 32 AVX-512 registers.
    const TILE_ROWS: usize = 8;

    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn product(
        out: &mut [f32],
        out_stride: usize,
        sizes: Sizes,
        start: Rows<f32>,
        lhs: Rows<f32>,
        panels: &[f32],
    ) {
        let Sizes { rows, k, cols } = sizes;
        let n_panels = cols.div_ceil(PANEL);
        if rows == 0 {
            return;
        }
        // Every read and write below stays inside these bounds.
        assert_fits(out, out_stride, sizes, start, lhs, panels);
        // Two panels at a time, the last one alone when their number is odd.
        for p in (0..n_panels).step_by(2) {
            let c0 = p * PANEL;
            let tile = Tile {
                width: cols - c0,
                k,
                panel: panels.as_ptr().add(p * k * PANEL),
            };
            let (out, start) = (&mut out[c0..], start.skip(0, c0));
            match n_panels - p {
                1 => tile.rows::<1>(out, out_stride, rows, start, lhs),
                _ => tile.rows::<2>(out, out_stride, rows, start, lhs),
            }
        }
    }

    /// `P` panels (`k x 16` each, one after the other from `panel`), of which the first
    /// `width` columns are written (all of them when `width` is `P * 16` or more).
    struct Tile {
        width: usize,
        k: usize,
        panel: *const f32,
    }

    impl Tile {
        /// All `rows` rows, a tile at a time, `out` starting at the panels' first column.
        #[target_feature(enable = "avx512f")]
        #[inline]
        unsafe fn rows<const P: usize>(
            &self,
            out: &mut [f32],
            out_stride: usize,
            rows: usize,
            start: Rows<f32>,
            lhs: Rows<f32>,
        ) {
            let mut r0 = 0;
            while r0 < rows {
                let height = tile_height(rows - r0, TILE_ROWS);
                let (start, lhs) = (start.skip(r0, 0), lhs.skip(r0, 0));
                let out = out.as_mut_ptr().add(r0 * out_stride);
                match height {
                    8 => self.run::<8, P>(out, out_stride, start, lhs),
                    7 => self.run::<7, P>(out, out_stride, start, lhs),
                    6 => self.run::<6, P>(out, out_stride, start, lhs),
                    5 => self.run::<5, P>(out, out_stride, start, lhs),
                    4 => self.run::<4, P>(out, out_stride, start, lhs),
                    3 => self.run::<3, P>(out, out_stride, start, lhs),
                    2 => self.run::<2, P>(out, out_stride, start, lhs),
                    _ => self.run::<1, P>(out, out_stride, start, lhs),
                }
                r0 += height;
            }
        }

        /// `R` rows: `out` (rows `out_stride` apart) `= start + lhs x panels`.
        #[target_feature(enable = "avx512f")]
        #[inline]
        unsafe fn run<const R: usize, const P: usize>(
            &self,
            out: *mut f32,
            out_stride: usize,
            start: Rows<f32>,
            lhs: Rows<f32>,
        ) {
            let mut acc = [[_mm512_setzero_ps(); P]; R];
            for (r, acc) in acc.iter_mut().enumerate() {
                let s = start.data.as_ptr().add(r * start.stride);
                for (p, acc) in acc.iter_mut().enumerate() {
                    *acc = _mm512_loadu_ps(s.add(p * PANEL));
                }
            }
            let a = lhs.data.as_ptr();
            let panel_len = self.k * PANEL;
            for j in 0..self.k {
                let mut w = [_mm512_setzero_ps(); P];
                for (p, w) in w.iter_mut().enumerate() {
                    *w = _mm512_loadu_ps(self.panel.add(p * panel_len + j * PANEL));
                }
                for (r, acc) in acc.iter_mut().enumerate() {
                    let a = _mm512_set1_ps(*a.add(r * lhs.stride + j));
                    for (acc, w) in acc.iter_mut().zip(w) {
                        *acc = _mm512_fmadd_ps(a, w, *acc);
                    }
                }
            }
            for (r, acc) in acc.iter().enumerate() {
                let out = out.add(r * out_stride);
                for (p, acc) in acc.iter().enumerate() {
                    let width = self.width.saturating_sub(p * PANEL).min(PANEL);
                    let mask: __mmask16 = ((1u32 << width) - 1) as __mmask16;
                    _mm512_mask_storeu_ps(out.add(p * PANEL), mask, *acc);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Every way this CPU can run the products: each `f32` kernel it has, and the general GEMM.
    fn kernels_here() -> Vec<(&'static str, Option<PanelKernel<f32>>)> {
        let mut kernels = vec![("general GEMM", None)];
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                kernels.push(("AVX2", Some(avx2::product as PanelKernel<f32>)));
                if std::is_x86_feature_detected!("avx512f") {
                    kernels.push(("AVX-512", Some(avx512::product as PanelKernel<f32>)));
                }
            }
        }
        kernels
    }

    fn random(rng: &mut impl Rng, n: usize) -> Vec<f32> {
        (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
    }

    /// `out[r, c] = start[r * start_stride + c] + sum_j lhs[r * stride + j] * m[c, j]`.
    fn naive(
        rows: usize,
        start: &[f32],
        start_stride: usize,
        lhs: &[f32],
        stride: usize,
        m: &[f32],
        gu: usize,
    ) -> Vec<f32> {
        let k = m.len() / gu;
        let mut out = vec![0.0; rows * gu];
        for r in 0..rows {
            for c in 0..gu {
                let a = &lhs[r * stride..r * stride + k];
                let dot: f32 = a
                    .iter()
                    .zip(&m[c * k..(c + 1) * k])
                    .map(|(a, w)| a * w)
                    .sum();
                out[r * gu + c] = start[r * start_stride + c] + dot;
            }
        }
        out
    }

    /// Every row count of a tile, partial last panels, strided operands, start rows that are
    /// one bias or a matrix, and sizes that are multiples of nothing: each product is the
    /// naive sum.
    #[test]
    fn packed_products_are_the_naive_sums() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let shapes = [
            (1, 4, 28, 64, 28),
            (7, 4, 3, 5, 9),
            (13, 3, 2, 9, 4),
            (32, 1, 16, 16, 16),
            (6, 4, 1, 1, 5),
            (11, 5, 3, 8, 3),
        ];
        let cases = kernels_here()
            .into_iter()
            .flat_map(|k| shapes.map(|s| (k, s)));
        for ((kernel_name, kernel), (rows, gates, f, u, stride)) in cases {
            let gu = gates * u;
            let (w_ih, w_hh) = (random(&mut rng, gu * f), random(&mut rng, gu * u));
            let weights = StepWeights::with_kernel(&w_ih, &w_hh, gu, f, u, kernel);
            let len = weights.row_len();
            let x = random(&mut rng, (rows - 1) * stride + f);
            let h = random(&mut rng, rows * u);
            let bias = padded(&random(&mut rng, gu), len);
            let starts = random(&mut rng, rows * len);
            let close = |got: &[f32], want: &[f32], what: &str| {
                for r in 0..rows {
                    for c in 0..gu {
                        let (g, w) = (got[r * len + c], want[r * gu + c]);
                        let ok = (g - w).abs() <= 1e-5 * (1.0 + w.abs());
                        assert!(
                            ok,
                            "{kernel_name}, {what}, {rows}x{f}+{u} -> {gu}, [{r}, {c}]: {g} vs {w}"
                        );
                    }
                }
            };
            let mut got = vec![f32::NAN; rows * len];
            let bias_rows = Rows::repeated(&bias);
            weights.input(&mut got, rows, bias_rows, Rows { data: &x, stride });
            close(
                &got,
                &naive(rows, &bias, 0, &x, stride, &w_ih, gu),
                "input from a bias",
            );
            let start_rows = Rows {
                data: &starts,
                stride: len,
            };
            weights.state(
                &mut got,
                rows,
                start_rows,
                Rows {
                    data: &h,
                    stride: u,
                },
            );
            close(
                &got,
                &naive(rows, &starts, len, &h, u, &w_hh, gu),
                "state from rows",
            );
        }
    }

    /// The backward's product, `dH + dQ R`: `R` (`k x cols`) read as it lies, with a partial
    /// last panel, an odd number of panels (the AVX-512 kernel takes them two at a time) and
    /// every tile height.
    #[test]
    fn products_by_an_untransposed_matrix_are_the_naive_sums() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let shapes = [(256, 64), (20, 5), (3, 17), (7, 40), (5, 48)];
        let cases = kernels_here().into_iter().flat_map(|kernel| {
            let heights = (1..=13).chain([32]);
            heights.flat_map(move |r| shapes.map(|s| (kernel, r, s)))
        });
        for ((kernel_name, kernel), rows, (k, cols)) in cases {
            let r = random(&mut rng, k * cols);
            let product = Product::with_kernel(Mat::new(&r, k, cols), kernel);
            let len = product.row_len();
            let (start, lhs) = (random(&mut rng, rows * len), random(&mut rng, rows * k));
            let mut got = vec![f32::NAN; rows * len];
            let start_rows = Rows {
                data: &start,
                stride: len,
            };
            let lhs_rows = Rows {
                data: &lhs,
                stride: k,
            };
            product.run(&mut got, rows, start_rows, lhs_rows);
            // naive() takes the right-hand side transposed, `cols x k`.
            let r_t: Vec<f32> = (0..cols * k).map(|i| r[(i % k) * cols + i / k]).collect();
            let want = naive(rows, &start, len, &lhs, k, &r_t, cols);
            for i in 0..rows {
                for c in 0..cols {
                    let (g, w) = (got[i * len + c], want[i * cols + c]);
                    assert!(
                        (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                        "{kernel_name}, {rows}x{k} by {k}x{cols}, [{i}, {c}]: {g} vs {w}"
                    );
                }
            }
        }
    }

    #[test]
    fn panels_hold_the_transpose_padded_with_zeros() {
        // M = [[1, 2], [3, 4], [5, 6]] (G*U = 3, k = 2): M^T = [[1, 3, 5], [2, 4, 6]].
        let m = [1.0f32, 2., 3., 4., 5., 6.];
        let panels = pack(Mat::new(&m, 3, 2).t());
        assert_eq!(panels.len(), 2 * PANEL);
        assert_eq!(&panels[..4], &[1.0, 3.0, 5.0, 0.0]);
        assert_eq!(&panels[PANEL..PANEL + 4], &[2.0, 4.0, 6.0, 0.0]);
        assert!(panels[PANEL + 3..].iter().all(|&x| x == 0.0));
    }
}
