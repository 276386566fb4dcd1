//! What every fast `Cpu` kernel needs: the element types it runs on, a row-major GEMM on
//! gemm 0.19, and zero-copy access to tensor data and gradients through dfdx's public API.

use super::scratch::Pool;
pub use super::scratch::Scratch;
use dfdx::prelude::{Cpu, Dtype, Gradients, HasShape, Shape, Tensor};

/// The element types the fast `Cpu` kernels run on.
pub trait CpuFloat: Dtype + num_traits::Float + Send + Sync + 'static {
    /// gemm's kernel for this type, chosen for this CPU (AVX2/FMA or AVX-512) at first use.
    fn gemm_kernel() -> GemmKernel<Self>;
    /// The buffers [`Scratch`] reuses for this type.
    fn scratch_pool() -> &'static Pool<Self>;
}
impl CpuFloat for f32 {
    fn gemm_kernel() -> GemmKernel<f32> {
        gemm_f32::gemm::f32::get_gemm_fn()
    }
    fn scratch_pool() -> &'static Pool<f32> {
        static POOL: Pool<f32> = Pool::new(Vec::new());
        &POOL
    }
}
impl CpuFloat for f64 {
    fn gemm_kernel() -> GemmKernel<f64> {
        gemm_f64::gemm::f64::get_gemm_fn()
    }
    fn scratch_pool() -> &'static Pool<f64> {
        static POOL: Pool<f64> = Pool::new(Vec::new());
        &POOL
    }
}

/// gemm's raw kernel: `(m, n, k, dst, dst_cs, dst_rs, read_dst, lhs, lhs_cs, lhs_rs, rhs,
/// rhs_cs, rhs_rs, alpha, beta, conj_dst, conj_lhs, conj_rhs, parallelism)` computes
/// `dst = alpha * dst + beta * lhs x rhs` (`alpha` is ignored unless `read_dst`).
pub type GemmKernel<E> = unsafe fn(
    usize,
    usize,
    usize,
    *mut E,
    isize,
    isize,
    bool,
    *const E,
    isize,
    isize,
    *const E,
    isize,
    isize,
    E,
    E,
    bool,
    bool,
    bool,
    gemm_common::Parallelism,
);

/// A row-major `rows x cols` matrix at the start of `data`, its rows `row_stride` apart
/// (`cols` unless made with [`Mat::strided`]); `transposed` reads it as its transpose
/// (`cols x rows`) without copying.
///
/// The fields are private and [`Mat::new`] checks that `data` holds the matrix, always (not
/// only in debug builds): [`matmul`] hands these views to gemm's raw-pointer API.
#[derive(Clone, Copy)]
pub struct Mat<'a, E> {
    data: &'a [E],
    rows: usize,
    cols: usize,
    row_stride: usize,
    transposed: bool,
}

impl<'a, E> Mat<'a, E> {
    /// # Panics
    /// If `data` is shorter than `rows * cols` (or that product overflows).
    pub fn new(data: &'a [E], rows: usize, cols: usize) -> Self {
        let len = rows
            .checked_mul(cols)
            .expect("Mat::new: rows * cols overflows");
        assert!(
            data.len() >= len,
            "Mat::new: {rows} x {cols} does not fit {} elements",
            data.len()
        );
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            transposed: false,
        }
    }
    /// Rows that start `row_stride` elements apart and may overlap (`row_stride < cols`): a
    /// channels-last sequence read as its sliding windows, without copying them out.
    ///
    /// # Panics
    /// If `data` does not reach the end of the last row.
    pub fn strided(data: &'a [E], rows: usize, cols: usize, row_stride: usize) -> Self {
        let end = match rows {
            0 => 0,
            _ => (rows - 1)
                .checked_mul(row_stride)
                .and_then(|start| start.checked_add(cols))
                .expect("Mat::strided: the extent overflows"),
        };
        assert!(
            data.len() >= end,
            "Mat::strided: {rows} rows of {cols}, {row_stride} apart, do not fit {} elements",
            data.len()
        );
        Self {
            data,
            rows,
            cols,
            row_stride,
            transposed: false,
        }
    }
    pub fn t(self) -> Self {
        Self {
            transposed: !self.transposed,
            ..self
        }
    }
    /// (rows, cols) of the matrix as it is read.
    pub fn shape(&self) -> (usize, usize) {
        let (rows, cols, _, _) = self.geometry();
        (rows, cols)
    }
    /// Element `(r, c)` of the matrix as it is read.
    pub fn at(&self, r: usize, c: usize) -> E
    where
        E: Copy,
    {
        let (rows, cols, row_stride, col_stride) = self.geometry();
        debug_assert!(r < rows && c < cols, "Mat::at({r}, {c}) of {rows} x {cols}");
        self.data[r * row_stride as usize + c * col_stride as usize]
    }
    /// (rows, cols, row stride, col stride) of the matrix as it is read.
    fn geometry(&self) -> (usize, usize, isize, isize) {
        let stride = self.row_stride as isize;
        if self.transposed {
            (self.cols, self.rows, 1, stride)
        } else {
            (self.rows, self.cols, stride, 1)
        }
    }
}

/// `dst (m x n, row-major) = lhs x rhs`, or `dst += lhs x rhs` with `accumulate`.
/// `threads` > 1 lets gemm split the product; 1 keeps it on the calling thread, which is
/// faster for small products (an LSTM step's 64 x 64 by 64 x 256 runs at half the speed on
/// two threads as on one here): callers split the batch across cores instead.
pub fn matmul<E: CpuFloat>(
    dst: &mut [E],
    lhs: Mat<E>,
    rhs: Mat<E>,
    accumulate: bool,
    threads: usize,
) {
    let (m, k, lhs_rs, lhs_cs) = lhs.geometry();
    let (k2, n, rhs_rs, rhs_cs) = rhs.geometry();
    assert_eq!(k, k2, "matmul: inner dimensions differ");
    assert!(dst.len() >= m * n, "matmul: destination too small");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(E::zero());
        }
        return;
    }
    let parallelism = if threads > 1 {
        gemm_common::Parallelism::Rayon(threads)
    } else {
        gemm_common::Parallelism::None
    };
    // gemm's kernels want a column-major destination; `dst` is row-major, so they compute
    // the transpose, `dst^T (n x m) = rhs^T x lhs^T`, which is the same memory. (The `gemm`
    // crate's front function makes this swap; its kernels alone run the row-major product
    // about half as fast.)
    // SAFETY: `Mat::new` checked that each view holds its matrix (its fields cannot be set
    // otherwise), dst holds m x n (asserted above), and the strides describe row-major
    // storage within those bounds, read here as the transposes.
    unsafe {
        E::gemm_kernel()(
            n,
            m,
            k,
            dst.as_mut_ptr(),
            n as isize,
            1,
            accumulate,
            rhs.data.as_ptr(),
            rhs_rs,
            rhs_cs,
            lhs.data.as_ptr(),
            lhs_rs,
            lhs_cs,
            E::one(),
            E::one(),
            false,
            false,
            false,
            parallelism,
        )
    }
}

/// Products below this many multiply-adds run their gemm on the calling thread: waking the
/// pool costs more than it saves. At 2^20 the seed CNN's conv2 at batch 1 (2.2M) was
/// threaded and its batch-1 inference took 0.21-0.24 ms; at 2^23, 0.13 ms.
const PAR_GEMM_MACS: usize = 1 << 23;

/// The threads one gemm of `m x k` by `k x n` gets: one for small products, every core
/// for large ones.
pub(crate) fn gemm_threads(m: usize, k: usize, n: usize) -> usize {
    if m * k * n < PAR_GEMM_MACS {
        1
    } else {
        num_threads()
    }
}

/// The number of threads the fast kernels use: rayon's pool, one per core unless the user
/// configured it. (Not `available_parallelism`, which reads cgroup files on every call.)
pub fn num_threads() -> usize {
    rayon::current_num_threads()
}

/// A tensor's elements in row-major order. dfdx 0.13 offers no borrowed view of a `Cpu`
/// tensor's storage, so this is one copy; kernels make it once per forward, into a
/// [`Scratch`] buffer (the copy overwrites it all, so it is not zeroed first).
pub fn read<S: Shape, E: CpuFloat, T>(t: &Tensor<S, E, Cpu, T>) -> Scratch<E> {
    let mut buf = Scratch::for_overwriting(t.shape().num_elements());
    t.copy_into(&mut buf);
    buf
}

/// Runs `f` on the gradient of `out` (read-only) and the gradient of `target` (mutable),
/// which dfdx keeps in one map. Both are keyed by tensor id: pass tape-less clones (they
/// share storage, so the clone is free). The output gradient is moved out for the call and put back.
pub fn with_grads<S1: Shape, S2: Shape, E: CpuFloat, R>(
    grads: &mut Gradients<E, Cpu>,
    out: &Tensor<S1, E, Cpu>,
    target: &Tensor<S2, E, Cpu>,
    f: impl FnOnce(&[E], &mut [E]) -> R,
) -> Result<R, <Cpu as dfdx::tensor::HasErr>::Err> {
    let g_out = std::mem::take(&mut **grads.get_or_alloc_mut(out)?);
    let result = f(&g_out, grads.get_or_alloc_mut(target)?);
    **grads.get_or_alloc_mut(out)? = g_out;
    Ok(result)
}

/// Below this many elements per task, the kernels' copy loops stay on one thread: waking the
/// other core costs more than it saves.
const PAR_ELEMS: usize = 1 << 15;

/// The sum of the parts' gradients (each part's `N` gradients, such as a weight's and a
/// bias's), in the parts' order: the parts are fixed (consecutive samples, groups of images
/// or sequences, one part per thread), not rayon's work-stealing splits, so the sums run in
/// the same order on every run. No parts: `zeros()`.
pub(crate) fn sum_parts<E: CpuFloat, const N: usize>(
    partials: Vec<[Vec<E>; N]>,
    zeros: impl FnOnce() -> [Vec<E>; N],
) -> [Vec<E>; N] {
    partials
        .into_iter()
        .reduce(|mut total, part| {
            for (total, part) in total.iter_mut().zip(&part) {
                add_slice(total, part);
            }
            total
        })
        .unwrap_or_else(zeros)
}

/// `dst += src`, element by element (over the shorter of the two).
pub(crate) fn add_slice<E: CpuFloat>(dst: &mut [E], src: &[E]) {
    dst.iter_mut().zip(src).for_each(|(d, &s)| *d += s);
}

/// The sum of `v` in a fixed order that vectorises: element `i` goes to running sum
/// `i % 16`, and the sums are added in a fixed tree at the end. The same input gives the same
/// result on every run; it differs from a left-to-right sum only by rounding. (A
/// left-to-right `fold` cannot be vectorised, since floating-point addition does not
/// reassociate: it made the bias gradient of the seed CNN's first convolution a twentieth
/// of its training step.)
pub(crate) fn sum<E: CpuFloat>(v: &[E]) -> E {
    const LANES: usize = 16;
    let mut lanes = [E::zero(); LANES];
    let mut chunks = v.chunks_exact(LANES);
    for chunk in &mut chunks {
        lanes.iter_mut().zip(chunk).for_each(|(s, &x)| *s += x);
    }
    let tail = chunks.remainder().iter().fold(E::zero(), |acc, &x| acc + x);
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            lanes[i] += lanes[i + width];
        }
    }
    lanes[0] + tail
}

/// `write(dst[j, i], src[i, j])` for `src` of shape (A, B): in tiles of 8 x 8, read as 8
/// rows of 8 and written as 8 rows of 8, which the compiler turns into vector shuffles
/// (element by element, the strided reads were a tenth of the seed CNN's second
/// convolution once its patches were rows); the edges element by element.
#[inline(always)]
fn transpose<E: Copy>(src: &[E], dst: &mut [E], a: usize, b: usize, write: impl Fn(&mut E, E)) {
    const T: usize = 8;
    let (whole_a, whole_b) = (a - a % T, b - b % T);
    for i0 in (0..whole_a).step_by(T) {
        for j0 in (0..whole_b).step_by(T) {
            let tile: [[E; T]; T] =
                std::array::from_fn(|i| src[(i0 + i) * b + j0..][..T].try_into().unwrap());
            for j in 0..T {
                let dst = &mut dst[(j0 + j) * a + i0..][..T];
                for (i, d) in dst.iter_mut().enumerate() {
                    write(d, tile[i][j]);
                }
            }
        }
    }
    let edge = |is: std::ops::Range<usize>, js: std::ops::Range<usize>, dst: &mut [E]| {
        for j in js {
            for i in is.clone() {
                write(&mut dst[j * a + i], src[i * b + j]);
            }
        }
    };
    edge(0..whole_a, whole_b..b, dst);
    edge(whole_a..a, 0..b, dst);
}

/// `write(dst[j, i, k], src[i, j, k])` for `src` of shape (A, B, len) and `dst` of shape
/// (B, A, len): the first two axes swapped ([`copy`] to move, [`add`] to accumulate). A
/// convolution's (filters, images) planes in gemm order become (images, filters) this way;
/// maps become sequences.
pub(crate) fn swap_axes<E: Copy>(
    src: &[E],
    dst: &mut [E],
    a: usize,
    len: usize,
    write: impl Fn(&mut E, E),
) {
    debug_assert_eq!(
        src.len(),
        dst.len(),
        "swap_axes: the two layouts differ in size"
    );
    if a == 0 || len == 0 {
        return;
    }
    let b = src.len() / (a * len);
    if len == 1 {
        return with_simd(
            #[inline(always)]
            || transpose(src, dst, a, b, write),
        );
    }
    for (j, dst) in dst.chunks_exact_mut(a * len).enumerate() {
        for (i, dst) in dst.chunks_exact_mut(len).enumerate() {
            let src = &src[(i * b + j) * len..][..len];
            dst.iter_mut().zip(src).for_each(|(d, &s)| write(d, s));
        }
    }
}

/// `dst = src`, for [`swap_axes`].
#[inline]
pub(crate) fn copy<E>(dst: &mut E, src: E) {
    *dst = src
}

/// `dst += src`, for [`swap_axes`].
#[inline]
pub(crate) fn add<E: CpuFloat>(dst: &mut E, src: E) {
    *dst += src
}

/// The `with_min_len` for a rayon loop over items of `elems_per_item` elements each, so
/// that small loops run on the calling thread and large ones split across the cores.
pub fn par_min_len(elems_per_item: usize) -> usize {
    (PAR_ELEMS / elems_per_item.max(1)).max(1)
}

/// Sliding-window geometry along one axis, seen from one kernel tap: the outputs `o` for
/// which tap offset `offset` (= tap index x dilation) reads inside an input of length `input`,
/// i.e. `0 <= o * stride + offset - pad < input`. Every other output reads padding there.
pub fn tap_range(
    input: usize,
    out: usize,
    stride: usize,
    offset: usize,
    pad: usize,
) -> std::ops::Range<usize> {
    let lo = pad.saturating_sub(offset).div_ceil(stride);
    let hi = (input + pad)
        .saturating_sub(offset)
        .div_ceil(stride)
        .min(out);
    lo.min(hi)..hi
}

/// The same geometry seen from one output: the taps `k < kernel` of window `o` that read
/// inside the input, i.e. `0 <= o * stride + k * dilation - pad < input`.
pub fn taps_inside(
    o: usize,
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    pad: usize,
) -> std::ops::Range<usize> {
    let start = o * stride;
    let lo = pad.saturating_sub(start).div_ceil(dilation);
    let hi = (input + pad)
        .saturating_sub(start)
        .div_ceil(dilation)
        .min(kernel);
    lo.min(hi)..hi
}

/// The environment variable that turns [`keep_freed_buffers`] off for a whole program:
/// `TYPENET_KEEP_FREED_BUFFERS=0` (or `false`, `no`, `off`). Read once, by the first kernel,
/// and only if the program has not called [`keep_freed_buffers`] itself.
pub const KEEP_FREED_BUFFERS_ENV: &str = "TYPENET_KEEP_FREED_BUFFERS";

/// Not decided yet; decided to keep freed buffers (applied); decided not to.
const UNDECIDED: u8 = 0;
const KEEP: u8 = 1;
const RELEASE: u8 = 2;
static DECISION: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(UNDECIDED);
static DECIDE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Chooses, once per process, whether typenet tells glibc to keep freed buffers in the
/// process for reuse (`mallopt`; on other platforms nothing is changed either way).
///
/// A training step frees and re-allocates the same multi-megabyte buffers (im2col columns,
/// activations, gradients). By default glibc serves each one with a fresh `mmap` and hands
/// it back with `munmap`, so every step pays page faults to zero new pages and TLB
/// shootdowns across the cores: a third of the seed CNN's step time in our profiles.
/// Keeping them raises glibc's mmap threshold to its maximum (32 MiB) and its trim
/// threshold to 1 GiB, so those buffers stay in the heap. The cost: up to the step's peak
/// working set stays mapped after a large step ends, as with PyTorch's caching allocator,
/// and the setting is process-wide, so it also applies to the rest of the program's
/// allocations.
///
/// Unless decided before, the first typenet kernel to run decides `true`, or `false` when
/// the environment variable [`KEEP_FREED_BUFFERS_ENV`] (`TYPENET_KEEP_FREED_BUFFERS`) is
/// `0`, `false`, `no` or `off`. Call `keep_freed_buffers(false)` before the first kernel to
/// leave glibc's settings alone whatever the environment says.
///
/// Returns whether this call decided: `false` if the choice was already made (by an earlier
/// call or a kernel), in which case the earlier choice stands; see
/// [`keeps_freed_buffers`] for what it was.
///
/// ```
/// // In `main`, before any model runs:
/// typenet::ops::cpu::keep_freed_buffers(false);
/// assert_eq!(typenet::ops::cpu::keeps_freed_buffers(), Some(false));
/// ```
pub fn keep_freed_buffers(keep: bool) -> bool {
    use std::sync::atomic::Ordering;
    let _guard = DECIDE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if DECISION.load(Ordering::Acquire) != UNDECIDED {
        return false;
    }
    if keep {
        apply_keep_settings();
    }
    DECISION.store(if keep { KEEP } else { RELEASE }, Ordering::Release);
    true
}

/// What was decided by [`keep_freed_buffers`] or the first kernel: `None` before either
/// ran, `Some(true)` if glibc was told to keep freed buffers (always `Some(false)` off glibc).
pub fn keeps_freed_buffers() -> Option<bool> {
    match DECISION.load(std::sync::atomic::Ordering::Acquire) {
        UNDECIDED => None,
        KEEP => Some(cfg!(all(target_os = "linux", target_env = "gnu"))),
        _ => Some(false),
    }
}

/// Whether the program chose to hand freed buffers back ([`keep_freed_buffers`]`(false)` or
/// `TYPENET_KEEP_FREED_BUFFERS=0`): then the kernels' [`Scratch`] buffers are freed too, not
/// pooled.
pub(crate) fn releases_freed_buffers() -> bool {
    DECISION.load(std::sync::atomic::Ordering::Acquire) == RELEASE
}

/// Called by every fast kernel: decides [`keep_freed_buffers`] from the environment if the
/// program has not. One atomic load once decided.
pub(crate) fn decide_freed_buffers() {
    if DECISION.load(std::sync::atomic::Ordering::Acquire) == UNDECIDED {
        let off = std::env::var(KEEP_FREED_BUFFERS_ENV).is_ok_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "0" | "false" | "no" | "off"
            )
        });
        keep_freed_buffers(!off);
    }
}

fn apply_keep_settings() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::raw::c_int;
        extern "C" {
            fn mallopt(param: c_int, value: c_int) -> c_int;
        }
        const M_TRIM_THRESHOLD: c_int = -1;
        const M_MMAP_THRESHOLD: c_int = -3;
        // SAFETY: mallopt only changes allocator settings; any value is valid input, and an
        // unsupported one is refused (returns 0) without effect.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, 1 << 30);
        }
    }
}

/// Runs `f` compiled for AVX-512 (16 floats wide) or else AVX2 and FMA (8 wide) when the CPU
/// has them, and as built otherwise.
///
/// Rust builds for the baseline x86-64 (SSE2) unless told otherwise, so the kernels' own
/// loops (gate activations, masks, selects) ran 4 floats wide without FMA; gemm dispatches
/// at run time, and this does the same for the loops around it. `f` and what it calls with
/// `#[inline(always)]` are inlined into a function compiled for those features.
#[inline(always)]
pub fn with_simd<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
        fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2,fma")]
        fn avx2_fma<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512bw")
                && std::is_x86_feature_detected!("avx512dq")
                && std::is_x86_feature_detected!("avx512vl")
            {
                // SAFETY: the CPU was just checked to have every feature `avx512` enables.
                return unsafe { avx512(f) };
            }
            // SAFETY: the CPU was just checked to have both features.
            return unsafe { avx2_fma(f) };
        }
    }
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_adds_every_element_lanes_and_tail() {
        // Integers below 2^24 add exactly in f32, whatever the order: the sums are exact.
        for len in [0usize, 1, 15, 16, 17, 33, 1000] {
            let v: Vec<f32> = (1..=len).map(|i| i as f32).collect();
            assert_eq!(sum(&v), (len * (len + 1) / 2) as f32, "1..={len}");
        }
        // Each lane and the tail are counted once: a one at every position in turn.
        for at in 0..40 {
            let mut v = vec![0.0f64; 40];
            v[at] = 1.0;
            assert_eq!(sum(&v), 1.0, "a one at {at}");
        }
    }

    #[test]
    fn swap_axes_transposes_in_whole_tiles_and_edges() {
        // Every shape up to 2 tiles and a part each way, moved and accumulated.
        for a in 1..20 {
            for b in 1..20 {
                let src: Vec<u32> = (0..(a * b) as u32).collect();
                let mut moved = vec![u32::MAX; a * b];
                swap_axes(&src, &mut moved, a, 1, copy);
                let mut added = vec![1u32; a * b];
                swap_axes(&src, &mut added, a, 1, |d, s| *d += s);
                for (i, j) in (0..a).flat_map(|i| (0..b).map(move |j| (i, j))) {
                    assert_eq!(
                        moved[j * a + i],
                        src[i * b + j],
                        "{a}x{b} moved at {i}, {j}"
                    );
                    assert_eq!(
                        added[j * a + i],
                        src[i * b + j] + 1,
                        "{a}x{b} added at {i}, {j}"
                    );
                }
            }
        }
    }

    #[test]
    fn matmul_handles_transposed_views_and_accumulation() {
        // a = [[1, 2, 3], [4, 5, 6]], b = [[1, 0], [0, 1], [1, 1]]
        let a = [1.0f64, 2., 3., 4., 5., 6.];
        let b = [1.0f64, 0., 0., 1., 1., 1.];
        let mut c = [0.0; 4];
        matmul(&mut c, Mat::new(&a, 2, 3), Mat::new(&b, 3, 2), false, 1);
        assert_eq!(c, [4., 5., 10., 11.]);
        matmul(&mut c, Mat::new(&a, 2, 3), Mat::new(&b, 3, 2), true, 2);
        assert_eq!(c, [8., 10., 20., 22.]);
        // a^T a is 3x3: first row [17, 22, 27]
        let mut d = [0.0; 9];
        matmul(&mut d, Mat::new(&a, 2, 3).t(), Mat::new(&a, 2, 3), false, 1);
        assert_eq!(&d[..3], &[17., 22., 27.]);
    }

    #[test]
    fn matmul_reads_overlapping_strided_rows() {
        // The 2-wide windows of [1, 2, 3, 4], one apart: [[1, 2], [2, 3], [3, 4]].
        let x = [1.0f64, 2., 3., 4.];
        let windows = Mat::strided(&x, 3, 2, 1);
        let mut sums = [0.0; 3];
        matmul(&mut sums, windows, Mat::new(&[1.0, 1.0], 2, 1), false, 1);
        assert_eq!(sums, [3., 5., 7.]);
        // Transposed: [[1, 2, 3], [2, 3, 4]] x [1, 1, 1]
        let mut t = [0.0; 2];
        matmul(&mut t, windows.t(), Mat::new(&[1.0; 3], 3, 1), false, 1);
        assert_eq!(t, [6., 9.]);
    }

    #[test]
    #[should_panic(expected = "do not fit")]
    fn strided_views_must_fit_their_data() {
        Mat::strided(&[0.0f32; 4], 3, 2, 2);
    }

    #[test]
    fn window_ranges_agree_with_the_definition() {
        // Brute force over small geometries: both views must select exactly the
        // (output, tap) pairs with 0 <= o*s + k*d - p < input.
        for input in 1..7 {
            for kernel in 1..4 {
                for stride in 1..4 {
                    for dilation in 1..3 {
                        for pad in 0..4 {
                            let out = 6;
                            for k in 0..kernel {
                                let r = tap_range(input, out, stride, k * dilation, pad);
                                for o in 0..out {
                                    let pos = (o * stride + k * dilation) as isize - pad as isize;
                                    let inside = pos >= 0 && pos < input as isize;
                                    assert_eq!(r.contains(&o), inside, "tap_range {input} {kernel} {stride} {dilation} {pad} k={k} o={o}");
                                    let t = taps_inside(o, input, kernel, stride, dilation, pad);
                                    assert_eq!(t.contains(&k), inside, "taps_inside {input} {kernel} {stride} {dilation} {pad} k={k} o={o}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
