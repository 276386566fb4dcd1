//! `Conv2D`: a 2-D convolution over images.

use super::{BatchOf, FusedActivation, Identity, LayerInfo, MaxPool2D};
use crate::ops::conv2d::Conv2DKernel;
use crate::ops::pool2d::Pool2DKernel;
use crate::ops::{Window1D, Window2D};
use crate::shape::window_fits;
use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::nn::{BuildOnDevice, Module, NonMutableModule};
use dfdx::prelude::{Device, Dtype, Rank1, Rank3, Rank4, Storage, Tape, Tensor};
use num_traits::Float;
use rand_distr::uniform::SampleUniform;
use rand_distr::Uniform;
use std::marker::PhantomData;

/// A 2-D convolution (cross-correlation, as PyTorch and Keras compute it) with `F` filters
/// of `KH x KW` (rows by columns) over `C` input channels.
///
/// - Input shape: `(C, H, W)`, or `(B, C, H, W)` with any batch dimension `B`.
/// - Output shape: `(F, OH, OW)` with `OH = (H + pad_top + pad_bottom - DH(KH-1) - 1) / SH + 1`
///   and `OW` likewise along the columns (`shape::window_out`), or `(B, F, OH, OW)`.
/// - Arguments in `network!`: `Conv2D<filters, kernel>` with options `stride = S`
///   (default 1), `padding = valid | same | P` (default `valid`; `same` pads as Keras does,
///   one more row/column after than before when the total is odd), `dilation = D`
///   (default 1) and `activation = relu` (any activation, appended as its own layer).
///   A `ReLU` right after a `Conv2D` (written either way) runs inside the convolution, in
///   the pass that adds the bias, and a `MaxPool` right after either pools the output
///   inside it too, a few images at a time while they are in cache (the convolution's
///   full output is never stored). The layer list, the summary, the checkpoint names and
///   the PyTorch export are unchanged; what is saved is the output's trips through memory.
///   The kernel, stride and dilation are one number for both axes or, as Keras writes them,
///   a pair `(rows, columns)`: `Conv2D<32, (3, 5), stride = (2, 1)>`.
/// - Type parameters: `Conv2D<C, F, KH, KW, SH, SW, DH, DW, PH, PW, H, W, OH, OW, A, P>`:
///   kernel, stride and dilation along the rows then the columns; `PH`, `PW` are the
///   padding before (top, left), and the padding after is implied by `OH`, `OW`. A `const`
///   assertion checks the relation at compile time. `A` is the activation fused into the
///   output pass: [`Identity`] (the default) or [`ReLU`](super::ReLU). `P` is the max pool
///   fused after it: [`NoPool`] (the default) or a [`MaxPool2D`] of the `(F, OH, OW)`
///   output, which makes the layer's output `(F, YH, YW)`, the pool's.
/// - Parameters: `F * C * KH * KW + F`, weights `(F, C, KH, KW)` as PyTorch lays them out,
///   initialised uniform in `±1/sqrt(C * KH * KW)` (PyTorch's default).
///
/// ```
/// use typenet::prelude::*;
/// type Net = network![Input<1, 28, 28>, Conv2D<32, 3, stride = 2, padding = same>];
/// let dev: Cpu = Default::default();
/// let net = dev.build_module::<Net, f32>();
/// let y: Tensor<Rank3<32, 14, 14>, f32, _> = net.forward(dev.zeros::<Rank3<1, 28, 28>>());
/// assert_eq!(net.num_trainable_params(), 32 * 9 + 32);
/// # let _ = y;
///
/// // A rectangular kernel, strided along the rows only.
/// type Tall = network![Input<1, 28, 28>, Conv2D<8, (3, 5), stride = (2, 1)>];
/// let y: Tensor<Rank3<8, 13, 24>, f32, _> =
///     dev.build_module::<Tall, f32>().forward(dev.zeros::<Rank3<1, 28, 28>>());
/// # let _ = y;
///
/// // The ReLU and the pooling run inside the convolution; each keeps its row.
/// type Block = network![Input<1, 28, 28>, Conv2D<32, 3>, ReLU, MaxPool<2>];
/// let y: Tensor<Rank3<32, 13, 13>, f32, _> =
///     dev.build_module::<Block, f32>().forward(dev.zeros::<Rank3<1, 28, 28>>());
/// # let _ = y;
/// let names: Vec<_> = Block::summary().rows.iter().map(|row| row.name).collect();
/// assert_eq!(names, ["Conv2D", "ReLU", "MaxPool"]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
#[allow(clippy::type_complexity)]
pub struct Conv2D<
    const C: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const DH: usize,
    const DW: usize,
    const PH: usize,
    const PW: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
    A = Identity,
    P = NoPool,
>(PhantomData<(A, P)>);

/// The built [`Conv2D`]: its weight `(F, C, KH, KW)` and bias `(F)`.
#[derive(Debug, Clone)]
pub struct Conv2DModule<
    const C: usize,
    const F: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const DH: usize,
    const DW: usize,
    const PH: usize,
    const PW: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
    E: Dtype,
    Dev: Storage<E>,
    A = Identity,
    P = NoPool,
> {
    pub weight: Tensor<Rank4<F, C, KH, KW>, E, Dev>,
    pub bias: Tensor<Rank1<F>, E, Dev>,
    /// The activation fused into the output pass ([`Identity`] for none).
    pub activation: PhantomData<A>,
    /// The max pool fused after the activation ([`NoPool`] for none).
    pub pool: PhantomData<P>,
}

impl<
        const C: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const DH: usize,
        const DW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        A: FusedActivation,
        P: FusedPool,
    > Conv2D<C, F, KH, KW, SH, SW, DH, DW, PH, PW, H, W, OH, OW, A, P>
{
    /// The geometry, checked once per instantiation at compile time.
    pub const WINDOW: Window2D = {
        assert!(
            C > 0 && F > 0 && KH > 0 && KW > 0 && SH > 0 && SW > 0 && DH > 0 && DW > 0,
            "Conv2D: sizes, strides and dilations must be at least 1"
        );
        assert!(
            window_fits(H, KH, SH, DH, PH, OH),
            "Conv2D: OH does not follow from H, KH, SH, DH and the padding"
        );
        assert!(
            window_fits(W, KW, SW, DW, PW, OW),
            "Conv2D: OW does not follow from W, KW, SW, DW and the padding"
        );
        Window2D {
            rows: Window1D::new(KH, SH, DH, PH),
            cols: Window1D::new(KW, SW, DW, PW),
        }
    };
}

impl<
        const C: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const DH: usize,
        const DW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        A: FusedActivation,
        P: FusedPool,
    > LayerInfo for Conv2D<C, F, KH, KW, SH, SW, DH, DW, PH, PW, H, W, OH, OW, A, P>
{
    const NAME: &'static str = "Conv2D";
    const OUTPUT: Option<&'static [usize]> = Some(&[F, OH, OW]);
    const PARAMS: usize = F * C * KH * KW + F;
    const FLOPS: usize = 2 * F * C * KH * KW * OH * OW;
    const ACTIVATIONS: usize = F * OH * OW;
}

impl<
        const C: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const DH: usize,
        const DW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        A: FusedActivation,
        P: FusedPool,
        E,
        Dev,
    > BuildOnDevice<Dev, E> for Conv2D<C, F, KH, KW, SH, SW, DH, DW, PH, PW, H, W, OH, OW, A, P>
where
    E: Dtype + Float + SampleUniform,
    Dev: Device<E>,
{
    type Built = Conv2DModule<C, F, KH, KW, SH, SW, DH, DW, PH, PW, H, W, OH, OW, E, Dev, A, P>;
}

impl<
        const C: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const DH: usize,
        const DW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        A: FusedActivation,
        P: FusedPool,
        E,
        Dev,
    > TensorCollection<E, Dev>
    for Conv2DModule<C, F, KH, KW, SH, SW, DH, DW, PH, PW, H, W, OH, OW, E, Dev, A, P>
where
    E: Dtype + Float + SampleUniform,
    Dev: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> =
        Conv2DModule<C, F, KH, KW, SH, SW, DH, DW, PH, PW, H, W, OH, OW, E2, D2, A, P>;

    fn iter_tensors<V: ModuleVisitor<Self, E, Dev>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::tensor(
                    "weight",
                    |s| &s.weight,
                    |s| &mut s.weight,
                    TensorOptions::reset_with(|t| t.try_fill_with_distr(Self::init())),
                ),
                Self::tensor(
                    "bias",
                    |s| &s.bias,
                    |s| &mut s.bias,
                    TensorOptions::reset_with(|t| t.try_fill_with_distr(Self::init())),
                ),
            ),
            |(weight, bias)| Conv2DModule {
                weight,
                bias,
                activation: PhantomData,
                pool: PhantomData,
            },
        )
    }
}

impl<
        const C: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const DH: usize,
        const DW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        A: FusedActivation,
        P: FusedPool,
        E,
        Dev,
    > Conv2DModule<C, F, KH, KW, SH, SW, DH, DW, PH, PW, H, W, OH, OW, E, Dev, A, P>
where
    E: Dtype + Float + SampleUniform,
    Dev: Storage<E>,
{
    fn init() -> Uniform<E> {
        fan_in_uniform(C * KH * KW)
    }
}

/// PyTorch's default initialisation of a layer's weight and bias (`Conv2d`, `Linear`): uniform
/// in `±1/sqrt(fan_in)`, where `fan_in` is the number of inputs of one output.
pub(crate) fn fan_in_uniform<E: Float + SampleUniform>(fan_in: usize) -> Uniform<E> {
    let bound = E::one() / E::from(fan_in).unwrap().sqrt();
    Uniform::new(-bound, bound)
}

impl<
        const C: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const DH: usize,
        const DW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        A: FusedActivation,
        P: FusedPool,
        E: Dtype,
        Dev: Storage<E>,
    > NonMutableModule
    for Conv2DModule<C, F, KH, KW, SH, SW, DH, DW, PH, PW, H, W, OH, OW, E, Dev, A, P>
{
}

impl<
        const C: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const DH: usize,
        const DW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        A: FusedActivation,
        X: BatchOf<Rank3<C, H, W>>,
        E: Dtype,
        Dev: Conv2DKernel<E>,
        T: Tape<E, Dev>,
    > Module<Tensor<X, E, Dev, T>>
    for Conv2DModule<C, F, KH, KW, SH, SW, DH, DW, PH, PW, H, W, OH, OW, E, Dev, A, NoPool>
{
    type Output = Tensor<X::Of<Rank3<F, OH, OW>>, E, Dev, T>;
    type Error = Dev::Err;

    fn try_forward(&self, x: Tensor<X, E, Dev, T>) -> Result<Self::Output, Dev::Err> {
        let window = Conv2D::<C, F, KH, KW, SH, SW, DH, DW, PH, PW, H, W, OH, OW, A>::WINDOW;
        X::unbatch(Dev::try_conv2d(
            X::batch(x)?,
            &self.weight,
            &self.bias,
            window,
            A::OUTPUT,
        )?)
    }
}

/// With a max pool fused: the pooled output, `(F, YH, YW)`.
impl<
        const C: usize,
        const F: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const DH: usize,
        const DW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
        A: FusedActivation,
        const PKH: usize,
        const PKW: usize,
        const PSH: usize,
        const PSW: usize,
        const PPH: usize,
        const PPW: usize,
        const YH: usize,
        const YW: usize,
        X: BatchOf<Rank3<C, H, W>>,
        E: Dtype,
        Dev: Conv2DKernel<E> + Pool2DKernel<E>,
        T: Tape<E, Dev>,
    > Module<Tensor<X, E, Dev, T>>
    for Conv2DModule<
        C,
        F,
        KH,
        KW,
        SH,
        SW,
        DH,
        DW,
        PH,
        PW,
        H,
        W,
        OH,
        OW,
        E,
        Dev,
        A,
        MaxPool2D<F, PKH, PKW, PSH, PSW, PPH, PPW, OH, OW, YH, YW>,
    >
{
    type Output = Tensor<X::Of<Rank3<F, YH, YW>>, E, Dev, T>;
    type Error = Dev::Err;

    fn try_forward(&self, x: Tensor<X, E, Dev, T>) -> Result<Self::Output, Dev::Err> {
        let window = Conv2D::<C, F, KH, KW, SH, SW, DH, DW, PH, PW, H, W, OH, OW, A>::WINDOW;
        let pool = MaxPool2D::<F, PKH, PKW, PSH, PSW, PPH, PPW, OH, OW, YH, YW>::WINDOW;
        X::unbatch(Dev::try_conv2d_max_pool::<
            _,
            _,
            C,
            H,
            W,
            F,
            KH,
            KW,
            OH,
            OW,
            YH,
            YW,
        >(
            X::batch(x)?,
            &self.weight,
            &self.bias,
            window,
            A::OUTPUT,
            pool,
        )?)
    }
}

/// A max pool a [`Conv2D`] can run inside its own op, as its last type parameter:
/// [`NoPool`] (none) or the [`MaxPool2D`] of its output.
pub trait FusedPool: Clone + Copy + Default + std::fmt::Debug + Send + Sync + 'static {}

/// No pooling: the convolution's output as computed.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPool;

impl FusedPool for NoPool {}

impl<
        const F: usize,
        const KH: usize,
        const KW: usize,
        const SH: usize,
        const SW: usize,
        const PH: usize,
        const PW: usize,
        const H: usize,
        const W: usize,
        const OH: usize,
        const OW: usize,
    > FusedPool for MaxPool2D<F, KH, KW, SH, SW, PH, PW, H, W, OH, OW>
{
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    /// What `network!` writes for `Conv2D<3, 3>, ReLU` (the ReLU inside the convolution)
    /// computes what the two layers do apart: output and every gradient.
    #[test]
    fn a_fused_relu_equals_the_convolution_then_the_relu_layer() {
        type Fused = network![Input<2, 6, 6>, Conv2D<3, 3>, ReLU];
        type Apart = network![Input<2, 6, 6>, Conv2D<3, 3>, AvgPool<1>, ReLU];
        let dev: Cpu = Cpu::seed_from_u64(7);
        let fused = dev.build_module::<Fused, f64>();
        let mut apart = dev.build_module::<Apart, f64>();
        apart.head.weight = fused.head.weight.clone();
        apart.head.bias = fused.head.bias.clone();
        let x: Tensor<Rank4<2, 2, 6, 6>, f64, _> = dev.sample_normal();
        let r: Tensor<Rank4<2, 3, 4, 4>, f64, _> = dev.sample_normal();
        let y_fused = fused.forward(x.leaky_trace());
        let y_apart = apart.forward(x.leaky_trace());
        assert_eq!(y_fused.as_vec(), y_apart.as_vec());
        assert!(y_fused.as_vec().contains(&0.0), "some outputs are cut");
        let g_fused = (y_fused * r.clone()).sum().backward();
        let g_apart = (y_apart * r).sum().backward();
        assert_eq!(g_fused.get(&x).as_vec(), g_apart.get(&x).as_vec());
        let (wf, wa) = (&fused.head.weight, &apart.head.weight);
        assert_eq!(g_fused.get(wf).as_vec(), g_apart.get(wa).as_vec());
        let (bf, ba) = (&fused.head.bias, &apart.head.bias);
        assert_eq!(g_fused.get(bf).as_vec(), g_apart.get(ba).as_vec());
    }

    /// What `network!` writes for `Conv2D<3, 3>, ReLU, MaxPool<2>` (both inside the
    /// convolution) computes what the three layers do apart: output and every gradient.
    #[test]
    fn a_fused_relu_and_max_pool_equal_the_three_layers() {
        type Fused = network![Input<2, 9, 9>, Conv2D<3, 3>, ReLU, MaxPool<2>];
        type Apart = network![Input<2, 9, 9>, Conv2D<3, 3>, AvgPool<1>, ReLU, MaxPool<2>];
        let dev: Cpu = Cpu::seed_from_u64(7);
        let fused = dev.build_module::<Fused, f64>();
        let mut apart = dev.build_module::<Apart, f64>();
        apart.head.head.weight = fused.head.weight.clone();
        apart.head.head.bias = fused.head.bias.clone();
        let x: Tensor<Rank4<2, 2, 9, 9>, f64, _> = dev.sample_normal();
        let r: Tensor<Rank4<2, 3, 3, 3>, f64, _> = dev.sample_normal();
        let y_fused = fused.forward(x.leaky_trace());
        let y_apart = apart.forward(x.leaky_trace());
        // To rounding: the fused kernel sums each patch channels-last, the layers apart
        // channel by channel.
        let close = |what, a: Vec<f64>, b: Vec<f64>| {
            crate::ops::conv2d::tests::assert_close(what, &a, &b, 1e-13)
        };
        close("out", y_fused.as_vec(), y_apart.as_vec());
        let g_fused = (y_fused * r.clone()).sum().backward();
        let g_apart = (y_apart * r).sum().backward();
        close("dx", g_fused.get(&x).as_vec(), g_apart.get(&x).as_vec());
        let (wf, wa) = (&fused.head.weight, &apart.head.head.weight);
        close("dw", g_fused.get(wf).as_vec(), g_apart.get(wa).as_vec());
        let (bf, ba) = (&fused.head.bias, &apart.head.head.bias);
        close("db", g_fused.get(bf).as_vec(), g_apart.get(ba).as_vec());
    }
}
