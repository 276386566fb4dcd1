//! Opening an NVIDIA GPU with an error instead of a panic.
//!
//! dfdx's `Cuda::try_build` unwraps the driver's first answers, so on a machine without a GPU
//! (or without its driver) it panics. [`open_cuda`] asks the driver first and says what is
//! missing. A `cuda` build links the driver's `libcuda.so.1`: without an NVIDIA driver
//! installed, such a program does not start at all.

use cudarc::driver::result;
use dfdx::tensor::Cuda;

/// Why no GPU could be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CudaUnavailable {
    /// The driver did not start: no NVIDIA GPU, or a driver that does not match it.
    #[error("the CUDA driver did not start ({0}): this machine has no usable NVIDIA GPU")]
    Driver(String),
    /// The driver runs but has fewer GPUs than asked for.
    #[error("there is no GPU number {ordinal}: the CUDA driver sees {count}")]
    NoSuchGpu { ordinal: usize, count: usize },
    /// The GPU was found but could not be set up (out of memory, for one).
    #[error("GPU {ordinal} could not be opened: {message}")]
    Open { ordinal: usize, message: String },
}

/// The `ordinal`-th GPU as a dfdx device whose random draws start from `seed`.
///
/// ```no_run
/// use typenet::prelude::*;
/// match typenet::cuda::open_cuda(0, 0) {
///     Ok(dev) => { let _model = dev.build_module::<network![Input<4>, Dense<2>], f32>(); }
///     Err(why) => eprintln!("training on the CPU: {why}"),
/// }
/// ```
pub fn open_cuda(ordinal: usize, seed: u64) -> Result<Cuda, CudaUnavailable> {
    let driver = |err: result::DriverError| CudaUnavailable::Driver(format!("{err:?}"));
    result::init().map_err(driver)?;
    let count = result::device::get_count().map_err(driver)?;
    let count = usize::try_from(count).unwrap_or(0);
    if ordinal >= count {
        return Err(CudaUnavailable::NoSuchGpu { ordinal, count });
    }
    Cuda::try_build(ordinal, seed).map_err(|err| CudaUnavailable::Open {
        ordinal,
        message: format!("{err:?}"),
    })
}
