//! `Recurrent<C, G, F, U, RETURN_SEQUENCES>`: the one recurrent layer, whatever its cell,
//! and the module it builds.

use core::fmt::Debug;

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::nn::{BuildModule, BuildOnDevice, Module, NonMutableModule};
use dfdx::prelude::*;
use num_traits::Float;
use rand_distr::uniform::SampleUniform;

use super::load::{check_len, copy, from_keras_matrix, from_keras_vector, sum, ShapeError};
use super::{
    as_batch_of_one, init, BatchedOutput, RecurrentLayer, RecurrentUnits, ReturnSequences,
    Sequences,
};
use crate::layers::masked::Masked;
use crate::ops::recurrent::{Cell, RecurrentKernel, RecurrentWeights};

/// What sets an LSTM, a GRU and a simple RNN apart, for a cell of `G` gates: the type parameter
/// `C` of [`Recurrent`] and [`RecurrentModule`]. Implemented by
/// [`LstmCell`](super::LstmCell) (`G = 4`), [`GruCell`](super::GruCell) (3) and
/// [`SimpleRnnCell`](super::SimpleRnnCell) (1).
pub trait RecurrentCell<const G: usize>: Debug + Default + Copy + Send + Sync + 'static {
    /// The cell the recurrent op runs.
    const CELL: Cell;
    /// Keras's name of the layer.
    const NAME: &'static str;
    /// Biases per gate and unit: 1, or 2 where the recurrent projection keeps its own
    /// ([`RecurrentCell::RecurrentBias`] is then a tensor).
    const BIASES: usize;
    /// Where our gates sit in Keras's order: our gate `g` is Keras's gate `KERAS_GATES[g]`.
    const KERAS_GATES: [usize; G];
    /// The names the loaders give the arrays they check.
    const ARRAYS: ArrayNames;
    /// The bias of the recurrent projection, `Tensor<Rank2<G, U>, E, D>`, or `()` for a cell
    /// with one bias.
    type RecurrentBias<const U: usize, E: Dtype, D: Storage<E>>: MaybeTensor<Rank2<G, U>, E, D>;

    /// Keras's initial input bias: zeros.
    fn reset_bias<const U: usize, E: Dtype, D: Device<E>>(
        bias: &mut Tensor<Rank2<G, U>, E, D>,
    ) -> Result<(), D::Err> {
        init::zeros(bias)
    }
}

/// The names of the arrays `load_pytorch` and `load_keras` check, as a [`ShapeError`] gives
/// them: `"LSTM weight_ih"` and so on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArrayNames {
    pub weight_ih: &'static str,
    pub weight_hh: &'static str,
    pub bias_ih: &'static str,
    pub bias_hh: &'static str,
    pub kernel: &'static str,
    pub recurrent_kernel: &'static str,
    pub bias: &'static str,
}

/// The [`ArrayNames`] of the layer named `$layer`.
macro_rules! array_names {
    ($layer:literal) => {
        $crate::layers::recurrent::ArrayNames {
            weight_ih: concat!($layer, " weight_ih"),
            weight_hh: concat!($layer, " weight_hh"),
            bias_ih: concat!($layer, " bias_ih"),
            bias_hh: concat!($layer, " bias_hh"),
            kernel: concat!($layer, " kernel"),
            recurrent_kernel: concat!($layer, " recurrent_kernel"),
            bias: concat!($layer, " bias"),
        }
    };
}
pub(super) use array_names;

/// A tensor that a cell may lack: `Tensor<S, E, D>`, or `()`.
pub trait MaybeTensor<S: Shape, E: Dtype, D: Storage<E>>: Clone + Debug {
    fn get(&self) -> Option<&Tensor<S, E, D>>;
    fn get_mut(&mut self) -> Option<&mut Tensor<S, E, D>>;
    /// The tensor a module visitor built, if the cell has one.
    fn from_built(built: Vec<Tensor<S, E, D>>) -> Self;
}

impl<S: Shape, E: Dtype, D: Storage<E>> MaybeTensor<S, E, D> for () {
    fn get(&self) -> Option<&Tensor<S, E, D>> {
        None
    }
    fn get_mut(&mut self) -> Option<&mut Tensor<S, E, D>> {
        None
    }
    fn from_built(_: Vec<Tensor<S, E, D>>) -> Self {}
}

impl<S: Shape, E: Dtype, D: Storage<E>> MaybeTensor<S, E, D> for Tensor<S, E, D> {
    fn get(&self) -> Option<&Tensor<S, E, D>> {
        Some(self)
    }
    fn get_mut(&mut self) -> Option<&mut Tensor<S, E, D>> {
        Some(self)
    }
    fn from_built(built: Vec<Tensor<S, E, D>>) -> Self {
        built
            .into_iter()
            .next()
            .expect("the visitor built the tensor")
    }
}

/// A recurrent layer: the cell `C` (of `G` gates) over sequences of `F` features, `U` units,
/// outputting every step or the last. Builds a [`RecurrentModule`]. Written as
/// [`LSTM`](super::LSTM), [`GRU`](super::GRU) or [`SimpleRNN`](super::SimpleRNN), whose pages
/// give each cell's equations.
///
/// - Input shape: `(S, F)`, a batch `(B, S, F)`, or a [`Masked`] batch `(B, S, F)` with its mask
///   `(B, S)`; `S` and `B` may be known only at run time.
/// - Output shape: with `RETURN_SEQUENCES`, every hidden state `h_1..h_S`: `(S, U)`,
///   `(B, S, U)`, or `Masked` `(B, S, U)` (the mask passed on); without, the last one `h_S`:
///   `(U,)` or `(B, U)`.
/// - Arguments in `network!`: `LSTM<U>`, `GRU<U>` or `SimpleRNN<U>`, with the option
///   `return_sequences`; `F` comes from the layer before.
/// - Parameters, as Keras counts them: `G * (F*U + U*U + BIASES*U)`, `BIASES` 2 for the GRU
///   (Keras's `reset_after=True`), else 1.
/// - Initialisation, as Keras's: the input kernel glorot-uniform, the recurrent kernel
///   orthogonal, biases zero except the LSTM's forget gate, 1.
///
/// ```rust
/// # use typenet::prelude::*;
/// use typenet::layers::{GruCell, GruModule, Recurrent, GRU};
/// let dev: Cpu = Default::default();
/// // GRU<8, 16, false> is this layer with the GRU's cell and its 3 gates.
/// let gru: GruModule<8, 16, false, f32, Cpu> =
///     dev.build_module::<Recurrent<GruCell, 3, 8, 16, false>, f32>();
/// assert_eq!(gru.num_trainable_params(), 3 * (8 * 16 + 16 * 16 + 2 * 16));
/// let same: GruModule<8, 16, false, f32, Cpu> = dev.build_module::<GRU<8, 16, false>, f32>();
/// let x: Tensor<Rank3<2, 5, 8>, f32, _> = dev.sample_normal(); // (batch, steps, features)
/// let h: Tensor<Rank2<2, 16>, f32, _> = gru.forward(x);         // the last step
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Recurrent<
    C,
    const G: usize,
    const F: usize,
    const U: usize,
    const RETURN_SEQUENCES: bool,
>(C);

/// The parameters of a [`Recurrent`] layer, in PyTorch's layout; the tensor names are those of
/// checkpoints. Also named [`LstmModule`](super::LstmModule),
/// [`GruModule`](super::GruModule) and [`SimpleRnnModule`](super::SimpleRnnModule).
#[derive(Clone, Debug)]
pub struct RecurrentModule<
    C: RecurrentCell<G>,
    const G: usize,
    const F: usize,
    const U: usize,
    const SEQ: bool,
    E: Dtype,
    D: Storage<E>,
> {
    /// `W`: PyTorch's `weight_ih_l0` `(G*U, F)`, gate blocks in PyTorch's order.
    pub w_ih: Tensor<Rank3<G, U, F>, E, D>,
    /// `R`: PyTorch's `weight_hh_l0` `(G*U, U)`.
    pub w_hh: Tensor<Rank3<G, U, U>, E, D>,
    /// `b`, added to `W x`: Keras's `bias` (its first row for the GRU); PyTorch's
    /// `bias_ih_l0`, plus `bias_hh_l0` for a cell with one bias.
    pub bias: Tensor<Rank2<G, U>, E, D>,
    /// `rb`, added to `R h`: the GRU's PyTorch `bias_hh_l0`, Keras's `bias[1]`; `()` for the
    /// other cells.
    pub recurrent_bias: C::RecurrentBias<U, E, D>,
}

/// The shape relation every impl checks at compile time.
const fn check_shape<const F: usize, const U: usize>() {
    const {
        assert!(
            F > 0 && U > 0,
            "LSTM, GRU, SimpleRNN <F, U, _>: features and units must be positive"
        )
    }
}

impl<C, const G: usize, const F: usize, const U: usize, const SEQ: bool, E, D> BuildOnDevice<D, E>
    for Recurrent<C, G, F, U, SEQ>
where
    C: RecurrentCell<G>,
    E: Dtype,
    D: Device<E>,
    RecurrentModule<C, G, F, U, SEQ, E, D>: BuildModule<D, E>,
{
    type Built = RecurrentModule<C, G, F, U, SEQ, E, D>;
    fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
        check_shape::<F, U>();
        Self::Built::try_build(device)
    }
}

impl<C, const G: usize, const F: usize, const U: usize, const SEQ: bool, E, D>
    TensorCollection<E, D> for RecurrentModule<C, G, F, U, SEQ, E, D>
where
    C: RecurrentCell<G>,
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = RecurrentModule<C, G, F, U, SEQ, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        check_shape::<F, U>();
        const MISSING: &str = "a cell with two biases keeps a recurrent bias tensor";
        // The recurrent bias: one field for a cell with two biases, none for the others.
        let recurrent_bias: Vec<_> = (C::BIASES == 2)
            .then(|| {
                Self::tensor(
                    "recurrent_bias",
                    |s| s.recurrent_bias.get().expect(MISSING),
                    |s| s.recurrent_bias.get_mut().expect(MISSING),
                    TensorOptions::reset_with(init::zeros),
                )
            })
            .into_iter()
            .collect();
        visitor.visit_fields(
            (
                Self::tensor(
                    "w_ih",
                    |s| &s.w_ih,
                    |s| &mut s.w_ih,
                    TensorOptions::reset_with(init::glorot_uniform),
                ),
                Self::tensor(
                    "w_hh",
                    |s| &s.w_hh,
                    |s| &mut s.w_hh,
                    TensorOptions::reset_with(init::orthogonal),
                ),
                Self::tensor(
                    "bias",
                    |s| &s.bias,
                    |s| &mut s.bias,
                    TensorOptions::reset_with(C::reset_bias),
                ),
                recurrent_bias,
            ),
            |(w_ih, w_hh, bias, recurrent_bias)| RecurrentModule {
                w_ih,
                w_hh,
                bias,
                recurrent_bias: MaybeTensor::from_built(recurrent_bias),
            },
        )
    }
}

impl<C, const G: usize, const F: usize, const U: usize, const SEQ: bool, E, D>
    RecurrentLayer<F, E, D> for RecurrentModule<C, G, F, U, SEQ, E, D>
where
    C: RecurrentCell<G>,
    E: Dtype,
    D: RecurrentKernel<E>,
    Sequences<SEQ>: ReturnSequences,
{
    type Units = Const<U>;
    type Sequences = Sequences<SEQ>;

    fn try_sequence<B: Dim, S: Dim, T: Tape<E, D>>(
        &self,
        x: Tensor<(B, S, Const<F>), E, D, T>,
        mask: Option<&Tensor<(B, S), E, D>>,
        reverse: bool,
    ) -> Result<Tensor<(B, S, Const<U>), E, D, T>, D::Err> {
        check_shape::<F, U>();
        let weights = RecurrentWeights {
            w_ih: &self.w_ih,
            w_hh: &self.w_hh,
            bias: &self.bias,
            recurrent_bias: self.recurrent_bias.get(),
        };
        D::try_recurrent(C::CELL, x, weights, reverse, mask)
    }
}

impl<C, const G: usize, const F: usize, const U: usize, const SEQ: bool, E, D> RecurrentUnits
    for RecurrentModule<C, G, F, U, SEQ, E, D>
where
    C: RecurrentCell<G>,
    E: Dtype,
    D: Storage<E>,
{
    const UNITS: usize = U;
}

impl<C, const G: usize, const F: usize, const U: usize, const SEQ: bool, E, D> NonMutableModule
    for RecurrentModule<C, G, F, U, SEQ, E, D>
where
    C: RecurrentCell<G>,
    E: Dtype,
    D: Storage<E>,
{
}

/// A batch `(B, S, F)`.
impl<C, const G: usize, const F: usize, const U: usize, const SEQ: bool, E, D, B, S, T>
    Module<Tensor<(B, S, Const<F>), E, D, T>> for RecurrentModule<C, G, F, U, SEQ, E, D>
where
    C: RecurrentCell<G>,
    E: Dtype,
    D: RecurrentKernel<E>,
    B: Dim,
    S: Dim,
    T: Tape<E, D>,
    Sequences<SEQ>: ReturnSequences,
{
    type Output = BatchedOutput<Sequences<SEQ>, B, S, Const<U>, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, S, Const<F>), E, D, T>) -> Result<Self::Output, D::Err> {
        Sequences::<SEQ>::try_take(self.try_sequence(x, None, false)?, false)
    }
}

/// One sequence `(S, F)`, run as a batch of one.
impl<C, const G: usize, const F: usize, const U: usize, const SEQ: bool, E, D, S, T>
    Module<Tensor<(S, Const<F>), E, D, T>> for RecurrentModule<C, G, F, U, SEQ, E, D>
where
    C: RecurrentCell<G>,
    E: Dtype,
    D: RecurrentKernel<E>,
    S: Dim,
    T: Tape<E, D>,
    Sequences<SEQ>: ReturnSequences,
{
    type Output = <Sequences<SEQ> as ReturnSequences>::Unbatched<S, Const<U>, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(S, Const<F>), E, D, T>) -> Result<Self::Output, D::Err> {
        let y = self.try_sequence(as_batch_of_one(x)?, None, false)?;
        Sequences::<SEQ>::try_unbatch(Sequences::<SEQ>::try_take(y, false)?)
    }
}

/// A [`Masked`] batch: padded steps change neither the state nor the output.
impl<C, const G: usize, const F: usize, const U: usize, const SEQ: bool, E, D, B, S, T>
    Module<Masked<Tensor<(B, S, Const<F>), E, D, T>, Tensor<(B, S), E, D>>>
    for RecurrentModule<C, G, F, U, SEQ, E, D>
where
    C: RecurrentCell<G>,
    E: Dtype,
    D: RecurrentKernel<E>,
    B: Dim,
    S: Dim,
    T: Tape<E, D>,
    Sequences<SEQ>: ReturnSequences,
{
    type Output = <Sequences<SEQ> as ReturnSequences>::Masked<B, S, Const<U>, E, D, T>;
    type Error = D::Err;

    fn try_forward(
        &self,
        input: Masked<Tensor<(B, S, Const<F>), E, D, T>, Tensor<(B, S), E, D>>,
    ) -> Result<Self::Output, D::Err> {
        let y = self.try_sequence(input.x, Some(&input.mask), false)?;
        Ok(Sequences::<SEQ>::with_mask(
            Sequences::<SEQ>::try_take(y, false)?,
            input.mask,
        ))
    }
}

impl<C, const G: usize, const F: usize, const U: usize, const SEQ: bool, E, D>
    RecurrentModule<C, G, F, U, SEQ, E, D>
where
    C: RecurrentCell<G>,
    E: Dtype,
    D: Device<E>,
{
    /// Loads PyTorch's weights of one layer, one direction (`nn.LSTM`, `nn.GRU`, `nn.RNN`
    /// with tanh), all row-major, gates in PyTorch's order: `weight_ih_l0` `(G*U, F)`,
    /// `weight_hh_l0` `(G*U, U)`, `bias_ih_l0` and `bias_hh_l0` `(G*U)`. A cell with one bias
    /// keeps their sum; the GRU keeps both.
    pub fn load_pytorch(
        &mut self,
        w_ih: &[E],
        w_hh: &[E],
        b_ih: &[E],
        b_hh: &[E],
    ) -> Result<(), ShapeError> {
        let names = C::ARRAYS;
        check_len(names.weight_ih, w_ih, G * U * F)?;
        check_len(names.weight_hh, w_hh, G * U * U)?;
        check_len(names.bias_ih, b_ih, G * U)?;
        check_len(names.bias_hh, b_hh, G * U)?;
        copy(&mut self.w_ih, w_ih);
        copy(&mut self.w_hh, w_hh);
        match self.recurrent_bias.get_mut() {
            Some(recurrent_bias) => {
                copy(&mut self.bias, b_ih);
                copy(recurrent_bias, b_hh);
            }
            None => copy(&mut self.bias, &sum(b_ih, b_hh)),
        }
        Ok(())
    }

    /// Loads Keras's weights, row-major: `kernel` `(F, G*U)`, `recurrent_kernel` `(U, G*U)`,
    /// `bias` `(G*U)`, or `(2, G*U)` for the GRU (`reset_after=True`, the default: the input
    /// bias, then the recurrent one). Keras's gate order is mapped to PyTorch's: the LSTM's
    /// i, f, c, o is i, f, g, o; the GRU's z, r, h becomes r, z, n.
    pub fn load_keras(
        &mut self,
        kernel: &[E],
        recurrent_kernel: &[E],
        bias: &[E],
    ) -> Result<(), ShapeError> {
        let (names, gates) = (C::ARRAYS, &C::KERAS_GATES);
        check_len(names.kernel, kernel, F * G * U)?;
        check_len(names.recurrent_kernel, recurrent_kernel, U * G * U)?;
        check_len(names.bias, bias, C::BIASES * G * U)?;
        copy(&mut self.w_ih, &from_keras_matrix(kernel, F, U, gates));
        copy(
            &mut self.w_hh,
            &from_keras_matrix(recurrent_kernel, U, U, gates),
        );
        let (b_input, b_recurrent) = bias.split_at(G * U);
        copy(&mut self.bias, &from_keras_vector(b_input, U, gates));
        if let Some(recurrent_bias) = self.recurrent_bias.get_mut() {
            copy(recurrent_bias, &from_keras_vector(b_recurrent, U, gates));
        }
        Ok(())
    }
}
