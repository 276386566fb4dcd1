//! `Conv1D`: a 1-D convolution over sequences.

use super::conv2d::fan_in_uniform;
use super::{BatchOf, LayerInfo};
use crate::ops::conv1d::Conv1DKernel;
use crate::ops::Window1D;
use crate::shape::window_fits;
use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::nn::{BuildOnDevice, Module, NonMutableModule};
use dfdx::prelude::{Device, Dtype, Rank1, Rank2, Rank3, Storage, Tape, Tensor};
use num_traits::Float;
use rand_distr::uniform::SampleUniform;

/// A 1-D convolution (cross-correlation, as Keras and PyTorch compute it) with `F` filters
/// `K` steps wide over sequences of `C` channels, channels last as in Keras.
///
/// - Input shape: `(L, C)`: L steps of C features (what `Input<L, C>`, an `Embedding` or a
///   recurrent layer with `return_sequences` gives), or `(B, L, C)`.
/// - Output shape: `(OL, F)` with `OL = (L + pad_before + pad_after - D(K-1) - 1) / S + 1`
///   (`shape::window_out`), or `(B, OL, F)`.
/// - Arguments in `network!`: `Conv1D<filters, kernel>` with the options of `Conv2D`:
///   `stride = S` (default 1), `padding = valid | same | P` (default `valid`; `same` pads as
///   Keras does, one more step after than before when the total is odd), `dilation = D`
///   (default 1) and `activation = relu` (any activation, appended as its own layer).
/// - Type parameters: `Conv1D<C, F, K, S, D, P, L, OL>`, `P` the padding before the first
///   step; the padding after is implied by `OL`, checked by a `const` assertion.
/// - Parameters: `K * C * F + F`. The weight is `(K, C, F)`, Keras's `Conv1D` kernel layout
///   (load Keras's kernel as it is; PyTorch's `Conv1d` weight `(F, C, K)` is this one with
///   its axes reversed, `weight.permute(2, 1, 0)`). Initialised uniform in
///   `±1/sqrt(C * K)` (PyTorch's default).
///
/// ```
/// use typenet::prelude::*;
/// type Net = network![Input<50, 8>, Conv1D<16, 5, padding = same, stride = 2>];
/// let dev: Cpu = Default::default();
/// let net = dev.build_module::<Net, f32>();
/// let y: Tensor<Rank2<25, 16>, f32, _> = net.forward(dev.zeros::<Rank2<50, 8>>());
/// assert_eq!(net.num_trainable_params(), 5 * 8 * 16 + 16);
/// # let _ = y;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Conv1D<
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const D: usize,
    const P: usize,
    const L: usize,
    const OL: usize,
>;

/// The built [`Conv1D`]: its weight `(K, C, F)` and bias `(F)`.
#[derive(Debug, Clone)]
pub struct Conv1DModule<
    const C: usize,
    const F: usize,
    const K: usize,
    const S: usize,
    const D: usize,
    const P: usize,
    const L: usize,
    const OL: usize,
    E: Dtype,
    Dev: Storage<E>,
> {
    /// `(K, C, F)`: `weight[k][c][f]` multiplies channel `c` of window step `k` for filter `f`.
    pub weight: Tensor<Rank3<K, C, F>, E, Dev>,
    pub bias: Tensor<Rank1<F>, E, Dev>,
}

impl<
        const C: usize,
        const F: usize,
        const K: usize,
        const S: usize,
        const D: usize,
        const P: usize,
        const L: usize,
        const OL: usize,
    > Conv1D<C, F, K, S, D, P, L, OL>
{
    /// The geometry, checked once per instantiation at compile time.
    pub const WINDOW: Window1D = {
        assert!(
            C > 0 && F > 0 && K > 0 && S > 0 && D > 0,
            "Conv1D: sizes, stride and dilation must be at least 1"
        );
        assert!(
            window_fits(L, K, S, D, P, OL),
            "Conv1D: OL does not follow from L, K, S, D and the padding"
        );
        Window1D::new(K, S, D, P)
    };
}

impl<
        const C: usize,
        const F: usize,
        const K: usize,
        const S: usize,
        const D: usize,
        const P: usize,
        const L: usize,
        const OL: usize,
    > LayerInfo for Conv1D<C, F, K, S, D, P, L, OL>
{
    const NAME: &'static str = "Conv1D";
    const OUTPUT: Option<&'static [usize]> = Some(&[OL, F]);
    const PARAMS: usize = K * C * F + F;
    const FLOPS: usize = 2 * K * C * F * OL;
    const ACTIVATIONS: usize = OL * F;
}

impl<
        const C: usize,
        const F: usize,
        const K: usize,
        const S: usize,
        const D: usize,
        const P: usize,
        const L: usize,
        const OL: usize,
        E,
        Dev,
    > BuildOnDevice<Dev, E> for Conv1D<C, F, K, S, D, P, L, OL>
where
    E: Dtype + Float + SampleUniform,
    Dev: Device<E>,
{
    type Built = Conv1DModule<C, F, K, S, D, P, L, OL, E, Dev>;
}

impl<
        const C: usize,
        const F: usize,
        const K: usize,
        const S: usize,
        const D: usize,
        const P: usize,
        const L: usize,
        const OL: usize,
        E,
        Dev,
    > TensorCollection<E, Dev> for Conv1DModule<C, F, K, S, D, P, L, OL, E, Dev>
where
    E: Dtype + Float + SampleUniform,
    Dev: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = Conv1DModule<C, F, K, S, D, P, L, OL, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, Dev>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        // PyTorch's default: uniform in ±1/sqrt(fan_in), fan_in = C * K.
        visitor.visit_fields(
            (
                Self::tensor(
                    "weight",
                    |s| &s.weight,
                    |s| &mut s.weight,
                    TensorOptions::reset_with(|t| t.try_fill_with_distr(fan_in_uniform(C * K))),
                ),
                Self::tensor(
                    "bias",
                    |s| &s.bias,
                    |s| &mut s.bias,
                    TensorOptions::reset_with(|t| t.try_fill_with_distr(fan_in_uniform(C * K))),
                ),
            ),
            |(weight, bias)| Conv1DModule { weight, bias },
        )
    }
}

impl<
        const C: usize,
        const F: usize,
        const K: usize,
        const S: usize,
        const D: usize,
        const P: usize,
        const L: usize,
        const OL: usize,
        E: Dtype,
        Dev: Storage<E>,
    > NonMutableModule for Conv1DModule<C, F, K, S, D, P, L, OL, E, Dev>
{
}

impl<
        const C: usize,
        const F: usize,
        const K: usize,
        const S: usize,
        const D: usize,
        const P: usize,
        const L: usize,
        const OL: usize,
        X: BatchOf<Rank2<L, C>>,
        E: Dtype,
        Dev: Conv1DKernel<E>,
        T: Tape<E, Dev>,
    > Module<Tensor<X, E, Dev, T>> for Conv1DModule<C, F, K, S, D, P, L, OL, E, Dev>
{
    type Output = Tensor<X::Of<Rank2<OL, F>>, E, Dev, T>;
    type Error = Dev::Err;

    fn try_forward(&self, x: Tensor<X, E, Dev, T>) -> Result<Self::Output, Dev::Err> {
        let window = Conv1D::<C, F, K, S, D, P, L, OL>::WINDOW;
        X::unbatch(Dev::try_conv1d(
            X::batch(x)?,
            &self.weight,
            &self.bias,
            window,
        )?)
    }
}
