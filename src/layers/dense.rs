//! `Dense`: a fully connected layer, `y = x W^T + b`.

use super::LayerInfo;
use dfdx::nn::{modules::Linear, BuildModule, BuildOnDevice};
use dfdx::prelude::{Device, Dtype};

/// A fully connected layer from `I` to `O` units; it builds into dfdx's [`Linear`].
///
/// - Input shape: `(I)`, or `(T, I)` for a sequence (the same weights at every step,
///   Keras's `Dense` on a 3-D input); with a leading batch dimension `(B, ..)`.
/// - Output shape: `(O)`, or `(T, O)`.
/// - Arguments: `Dense<units>`; `activation = relu` (or any activation) appends that
///   activation. `STEPS` is the sequence length `T` on a sequence, 0 on a vector.
/// - Parameters: `I * O + O`. Weights start uniform in `±1/sqrt(I)` (PyTorch's choice).
///
/// ```
/// use typenet::prelude::*;
/// type Net = network![Input<8>, Dense<4>];
/// let dev: Cpu = Default::default();
/// let net = dev.build_module::<Net, f32>();
/// let y: Tensor<Rank2<2, 4>, f32, _> = net.forward(dev.zeros::<Rank2<2, 8>>());
/// assert_eq!(net.num_trainable_params(), 8 * 4 + 4);
/// # let _ = y;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Dense<const I: usize, const O: usize, const STEPS: usize = 0>;

impl<const I: usize, const O: usize, const STEPS: usize, E, D> BuildOnDevice<D, E>
    for Dense<I, O, STEPS>
where
    E: Dtype,
    D: Device<E>,
    Linear<I, O, E, D>: BuildModule<D, E>,
{
    type Built = Linear<I, O, E, D>;
}

impl<const I: usize, const O: usize, const STEPS: usize> LayerInfo for Dense<I, O, STEPS> {
    const NAME: &'static str = "Dense";
    const OUTPUT: Option<&'static [usize]> = Some(if STEPS == 0 { &[O] } else { &[STEPS, O] });
    const PARAMS: usize = I * O + O;
    const FLOPS: usize = 2 * I * O * if STEPS == 0 { 1 } else { STEPS };
    const ACTIVATIONS: usize = O * if STEPS == 0 { 1 } else { STEPS };
}
