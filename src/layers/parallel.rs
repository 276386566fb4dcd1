//! `Parallel`: branches merged into one tensor. The branches read the same input (an
//! Inception block) or one input each (a network with several inputs, such as an image and a
//! sentence), and a [`MergeOp`] joins their outputs.

use super::batch::{BatchOf, SampleShape};
use super::merge_op::{MergeOp, Rows};
use super::LayerInfo;
use crate::data::InputShape;
use crate::summary::{Network, SummaryRow};
use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection};
use dfdx::nn::{BuildOnDevice, Module, ModuleMut};
use dfdx::prelude::{
    Device, Dim, Dtype, HasErr, HasShape, Merge, NoneTape, OwnedTape, PutTape, ReshapeTo, Shape,
    SplitTape, Storage, Tape, Tensor, WithEmptyTape,
};
use std::marker::PhantomData;

/// Branches merged by `Op` into one output of sample shape `Out`.
///
/// - `Route` is [`Shared<In>`]: every branch reads the same input, whose samples are `In`; or
///   [`Inputs<(In1, In2, ..)>`]: the block takes a tuple of tensors, one per branch, in order.
/// - `Branches` is a tuple of 2 to 6 networks (2 to 4 for `Inputs`), numbered from 1 in
///   tensor names and the summary: the second layer of branch 3 in the block at layer 4 holds
///   `4.3.2.weight`.
/// - Input shape: `In` (alone or batched), or a tuple of tensors of shapes `In1`, `In2`, ..
///   with the same number of samples; output shape: `Out`, batched as the (first) input is.
/// - Written in a network as `Concat<[layers..], [layers..], ..>` (or `Add`, `Multiply`,
///   `Average`, `Maximum`); an empty list is the identity. The macro checks that the
///   branches' shapes can merge and names the branch and layer that do not.
/// - Parameters: the branches'.
///
/// ```
/// use typenet::prelude::*;
/// // An Inception-style block: three views of the same image, side by side.
/// type Net = network![
///     Input<8, 14, 14>,
///     Concat<
///         [Conv2D<4, 1>],
///         [Conv2D<4, 3, padding = same>, ReLU],
///         [MaxPool<3, stride = 1, padding = same>],
///     >,
/// ];
/// let dev: Cpu = Default::default();
/// let net = dev.build_module::<Net, f32>();
/// let y: Tensor<Rank4<2, 16, 14, 14>, f32, _> = net.forward(dev.zeros::<Rank4<2, 8, 14, 14>>());
/// # let _ = y;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Parallel<Op, Out, Route, Branches> {
    pub branches: Branches,
    merge: PhantomData<(Op, Out, Route)>,
}

/// Every branch of a [`Parallel`] reads the same input, of sample shape `In`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shared<In>(PhantomData<In>);

/// Each branch of a [`Parallel`] reads an input of its own; `Ins` is the tuple of their
/// sample shapes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inputs<Ins>(PhantomData<Ins>);

/// The shape reaching each branch, for the summary.
pub trait Route {
    /// The sample shape branch `index` (from 0) reads.
    fn branch_input(index: usize) -> &'static [usize];
}

impl<In: InputShape> Route for Shared<In> {
    fn branch_input(_: usize) -> &'static [usize] {
        In::DIMS
    }
}

macro_rules! inputs_route {
    ($($In:ident),+) => {
        impl<$($In: InputShape),+> Route for Inputs<($($In,)+)> {
            fn branch_input(index: usize) -> &'static [usize] {
                [$($In::DIMS),+][index]
            }
        }
    };
}

inputs_route!(A, B);
inputs_route!(A, B, C);
inputs_route!(A, B, C, D);

/// The tape that records both `self` and `R`: the owned one if either is.
pub trait JoinTape<R> {
    type Joined;
    fn join(self, other: R) -> Self::Joined;
}

impl<R> JoinTape<R> for NoneTape {
    type Joined = R;
    fn join(self, other: R) -> R {
        other
    }
}

impl<E, D: Storage<E>> JoinTape<NoneTape> for OwnedTape<E, D> {
    type Joined = Self;
    fn join(self, _: NoneTape) -> Self {
        self
    }
}

impl<E, D: Storage<E>> JoinTape<OwnedTape<E, D>> for OwnedTape<E, D> {
    type Joined = Self;
    fn join(self, other: Self) -> Self {
        self.merge(other)
    }
}

/// The tapes of several inputs as one: traced or not, each input may be.
pub trait JoinTapes {
    type Joined;
    fn join(self) -> Self::Joined;
}

impl<A: JoinTape<B>, B> JoinTapes for (A, B) {
    type Joined = A::Joined;
    fn join(self) -> Self::Joined {
        self.0.join(self.1)
    }
}

impl<A: JoinTape<B>, B, C> JoinTapes for (A, B, C)
where
    A::Joined: JoinTape<C>,
{
    type Joined = <A::Joined as JoinTape<C>>::Joined;
    fn join(self) -> Self::Joined {
        self.0.join(self.1).join(self.2)
    }
}

impl<A: JoinTape<B>, B, C, D> JoinTapes for (A, B, C, D)
where
    A::Joined: JoinTape<C>,
    <A::Joined as JoinTape<C>>::Joined: JoinTape<D>,
{
    type Joined = <<A::Joined as JoinTape<C>>::Joined as JoinTape<D>>::Joined;
    fn join(self) -> Self::Joined {
        self.0.join(self.1).join(self.2).join(self.3)
    }
}

/// A branch's output (its tape already taken) as `Op`'s matrix: `rows` rows.
fn as_rows<Y: Shape, E: Dtype, D: Device<E>>(
    y: Tensor<Y, E, D>,
    rows: usize,
) -> Result<Rows<E, D>, D::Err> {
    let columns = y.shape().num_elements().checked_div(rows).unwrap_or(0);
    y.try_reshape_like(&(rows, columns))
}

/// The branches' matrices merged in order on `tape`, shaped as `Out` batched like `S`
/// (which holds `n` samples).
fn merged<Op, Out, In, S, E, D, T>(
    n: S::Size,
    tape: T,
    parts: Vec<Rows<E, D>>,
) -> Result<Tensor<S::Of<Out>, E, D, T>, D::Err>
where
    Op: MergeOp,
    Out: SampleShape + Default,
    In: SampleShape,
    S: BatchOf<In>,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D> + Merge<NoneTape>,
{
    let count = parts.len();
    let mut parts = parts.into_iter();
    let first = parts
        .next()
        .expect("a Parallel block has at least two branches");
    let mut out = first.put_tape(tape);
    for part in parts {
        out = Op::merge(out, part)?;
    }
    let out = Op::finish(out, count)?.try_reshape_like(&Out::default().batched(n))?;
    S::unbatch::<Out, E, D, T>(out)
}

/// Panics unless every input holds the same number of samples: a batch of images and a batch
/// of sentences are one batch of pairs.
fn same_batch(sizes: &[usize]) {
    assert!(
        sizes.windows(2).all(|w| w[0] == w[1]),
        "the inputs of a network hold {sizes:?} samples; every input needs the same number, one per example"
    );
}

/// What a branch of a shared-input [`Parallel`] gives: a tensor, whose values the merge views
/// as `rows` rows and whose tape it takes.
///
/// A trait rather than `Output = Tensor<Y, E, D, T>` in the block's `Module` bounds: an
/// equality there makes the trait solver normalise every branch's output type eagerly, and a
/// network of 100 Inception-style blocks took 13.8 s to check instead of 1.3 s.
pub trait BranchOutput<E: Dtype, D: Device<E>, T> {
    fn into_rows(self, rows: usize) -> Result<(Rows<E, D>, T), D::Err>;
}

impl<Y: Shape, E: Dtype, D: Device<E>, T> BranchOutput<E, D, T> for Tensor<Y, E, D, T> {
    fn into_rows(self, rows: usize) -> Result<(Rows<E, D>, T), D::Err> {
        let (y, tape) = self.split_tape();
        Ok((as_rows(y, rows)?, tape))
    }
}

/// The input of a shared-input [`Parallel`]: samples of shape `In`, alone or batched, of a
/// float dtype (token ids go through an `Embedding` first).
///
/// The block's `Module` impl takes any `X: SharedInput<In>`, as `Residual`'s takes any `X`,
/// instead of `Tensor<S, E, D, T>`: matching that pattern against the unnormalised output
/// type of the layers upstream costs the solver more (100 blocks: 2.0 s against 1.3 s).
pub trait SharedInput<In: SampleShape>: WithEmptyTape + Sized {
    type Dtype: Dtype;
    type Device: Device<Self::Dtype>;
    type Tape: Tape<Self::Dtype, Self::Device> + Merge<Self::Tape> + Merge<NoneTape>;
    /// The batch dimension, `Const<1>` for a lone sample.
    type Size: Dim;
    /// The same batching around another sample shape.
    type Of<Out: SampleShape>: Shape;

    fn samples(&self) -> Self::Size;
    /// The input's tape, the values dropped.
    fn tape(self) -> Self::Tape;
    /// The branches' matrices merged in order on `tape`, shaped as `Out` batched as this
    /// input is (which holds `n` samples).
    fn merged<Op: MergeOp, Out: SampleShape + Default>(
        n: Self::Size,
        tape: Self::Tape,
        parts: Vec<Rows<Self::Dtype, Self::Device>>,
    ) -> Result<
        Tensor<Self::Of<Out>, Self::Dtype, Self::Device, Self::Tape>,
        <Self::Device as HasErr>::Err,
    >;
}

impl<In: SampleShape, S: BatchOf<In>, E: Dtype, D: Device<E>, T> SharedInput<In>
    for Tensor<S, E, D, T>
where
    T: Tape<E, D> + Merge<T> + Merge<NoneTape> + Default,
{
    type Dtype = E;
    type Device = D;
    type Tape = T;
    type Size = S::Size;
    type Of<Out: SampleShape> = S::Of<Out>;
    fn samples(&self) -> S::Size {
        S::batch_size(self.shape())
    }
    fn tape(self) -> T {
        self.split_tape().1
    }
    fn merged<Op: MergeOp, Out: SampleShape + Default>(
        n: S::Size,
        tape: T,
        parts: Vec<Rows<E, D>>,
    ) -> Result<Tensor<S::Of<Out>, E, D, T>, D::Err> {
        merged::<Op, Out, In, S, E, D, T>(n, tape, parts)
    }
}

macro_rules! parallel {
    ($S0:ident $I0:ident $X0:ident;
        $([$B:ident $Y:ident $S:ident $Ei:ident $Tp:ident $In:ident $b:ident $x:ident $i:tt $name:literal]),+) => {
        impl<Op, Out, R, $($B: BuildOnDevice<D, E>,)+ D: Device<E>, E: Dtype> BuildOnDevice<D, E>
            for Parallel<Op, Out, R, ($($B,)+)>
        where
            $($B::Built: TensorCollection<E, D>,)+
        {
            type Built = Parallel<Op, Out, R, ($($B::Built,)+)>;
        }

        impl<Op, Out, R, $($B: TensorCollection<E, D>,)+ E: Dtype, D: Device<E>>
            TensorCollection<E, D> for Parallel<Op, Out, R, ($($B,)+)>
        {
            type To<E2: Dtype, D2: Device<E2>> = Parallel<Op, Out, R, ($($B::To<E2, D2>,)+)>;

            fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
                visitor: &mut V,
            ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
                // Branches are numbered from 1, as their layers are (`2.1.weight`).
                visitor.visit_fields(
                    ($(Self::module($name, |s| &s.branches.$i, |s| &mut s.branches.$i),)+),
                    |($($b,)+)| Parallel { branches: ($($b,)+), merge: PhantomData },
                )
            }
        }

        impl<Op, Out, R, $($B: Network,)+> LayerInfo for Parallel<Op, Out, R, ($($B,)+)>
        where
            Op: MergeOp,
            Out: InputShape,
            R: Route,
        {
            const NAME: &'static str = Op::NAME;
            const OUTPUT: Option<&'static [usize]> = Some(Out::DIMS);
            const PARAMS: usize = 0 $(+ $B::PARAMS)+;
            const FLOPS: usize =
                0 $(+ $B::FLOPS)+ + Op::FLOPS_PER_VALUE * Out::NUMEL * ([$($i),+].len() - 1);
            const ACTIVATIONS: usize = 0 $(+ $B::ACTIVATIONS)+ + Out::NUMEL;

            fn inner_rows(
                prefix: &str,
                _: Option<&'static [usize]>,
                rows: &mut Vec<SummaryRow>,
            ) {
                $($B::rows_within(&format!("{prefix}{}.", $name), Some(R::branch_input($i)), rows);)+
            }
        }

        parallel!(@shared Module try_forward [] $([$B $Y $b $i]),+);
        parallel!(@shared ModuleMut try_forward_mut [mut] $([$B $Y $b $i]),+);
        parallel!(@inputs Module try_forward [] $S0 $I0 $X0; $([$B $Y $S $Ei $Tp $In $x $i]),+);
        parallel!(@inputs ModuleMut try_forward_mut [mut] $S0 $I0 $X0; $([$B $Y $S $Ei $Tp $In $x $i]),+);
    };

    // Every branch reads a copy of the input on a fresh tape; the input's own tape and the
    // branches' are merged, so the input's gradient sums every branch's.
    (@shared $Trait:ident $method:ident [$($mut:tt)?] $([$B:ident $Y:ident $b:ident $i:tt]),+) => {
        impl<Op, Out, In, X, $($B,)+> $Trait<X>
            for Parallel<Op, Out, Shared<In>, ($($B,)+)>
        where
            Op: MergeOp,
            Out: SampleShape + Default,
            In: SampleShape,
            X: SharedInput<In>,
            $($B: $Trait<X, Error = <X::Device as HasErr>::Err>,
            $B::Output: BranchOutput<X::Dtype, X::Device, X::Tape>,)+
        {
            type Output = Tensor<X::Of<Out>, X::Dtype, X::Device, X::Tape>;
            type Error = <X::Device as HasErr>::Err;

            fn $method(& $($mut)? self, x: X) -> Result<Self::Output, Self::Error> {
                let n = x.samples();
                let rows = n.size() * Op::ROWS_PER_SAMPLE;
                $(let $b = self.branches.$i.$method(x.with_empty_tape())?;)+
                let mut tape = x.tape();
                let parts = vec![$({
                    let (y, branch_tape) = $b.into_rows(rows)?;
                    tape = tape.merge(branch_tape);
                    y
                }),+];
                X::merged::<Op, Out>(n, tape, parts)
            }
        }
    };

    // The inputs' tapes become one, which runs through the branches in turn.
    (@inputs $Trait:ident $method:ident [$($mut:tt)?] $S0:ident $I0:ident $X0:ident;
        $([$B:ident $Y:ident $S:ident $Ei:ident $Tp:ident $In:ident $x:ident $i:tt]),+) => {
        impl<Op, Out, E, D, T, $($B, $Y, $S, $Ei, $Tp, $In,)+>
            $Trait<($(Tensor<$S, $Ei, D, $Tp>,)+)>
            for Parallel<Op, Out, Inputs<($($In,)+)>, ($($B,)+)>
        where
            Op: MergeOp,
            Out: SampleShape + Default,
            E: Dtype,
            D: Device<E>,
            ($($Tp,)+): JoinTapes<Joined = T>,
            T: Tape<E, D> + Merge<NoneTape>,
            $($In: SampleShape,
            $S: BatchOf<$In>,
            $Ei: Clone,
            D: Storage<$Ei>,
            $B: $Trait<Tensor<$S, $Ei, D, T>, Output = Tensor<$Y, E, D, T>, Error = D::Err>,
            $Y: Shape,)+
        {
            type Output = Tensor<$S0::Of<Out>, E, D, T>;
            type Error = D::Err;

            fn $method(
                & $($mut)? self,
                ($($x,)+): ($(Tensor<$S, $Ei, D, $Tp>,)+),
            ) -> Result<Self::Output, D::Err> {
                same_batch(&[$($S::batch_size($x.shape()).size()),+]);
                let n = $S0::batch_size($X0.shape());
                let rows = n.size() * Op::ROWS_PER_SAMPLE;
                let ($($x,)+) = ($($x.split_tape(),)+);
                let mut tape = ($($x.1,)+).join();
                let mut parts = Vec::new();
                $(
                    let (y, next) = self.branches.$i.$method($x.0.put_tape(tape))?.split_tape();
                    tape = next;
                    parts.push(as_rows(y, rows)?);
                )+
                merged::<Op, Out, $I0, $S0, E, D, T>(n, tape, parts)
            }
        }
    };
}

parallel!(S1 I1 x1; [B1 Y1 S1 E1 T1 I1 b1 x1 0 "1"], [B2 Y2 S2 E2 T2 I2 b2 x2 1 "2"]);
parallel!(S1 I1 x1;
    [B1 Y1 S1 E1 T1 I1 b1 x1 0 "1"], [B2 Y2 S2 E2 T2 I2 b2 x2 1 "2"],
    [B3 Y3 S3 E3 T3 I3 b3 x3 2 "3"]);
parallel!(S1 I1 x1;
    [B1 Y1 S1 E1 T1 I1 b1 x1 0 "1"], [B2 Y2 S2 E2 T2 I2 b2 x2 1 "2"],
    [B3 Y3 S3 E3 T3 I3 b3 x3 2 "3"], [B4 Y4 S4 E4 T4 I4 b4 x4 3 "4"]);
parallel!(S1 I1 x1;
    [B1 Y1 S1 E1 T1 I1 b1 x1 0 "1"], [B2 Y2 S2 E2 T2 I2 b2 x2 1 "2"],
    [B3 Y3 S3 E3 T3 I3 b3 x3 2 "3"], [B4 Y4 S4 E4 T4 I4 b4 x4 3 "4"],
    [B5 Y5 S5 E5 T5 I5 b5 x5 4 "5"]);
parallel!(S1 I1 x1;
    [B1 Y1 S1 E1 T1 I1 b1 x1 0 "1"], [B2 Y2 S2 E2 T2 I2 b2 x2 1 "2"],
    [B3 Y3 S3 E3 T3 I3 b3 x3 2 "3"], [B4 Y4 S4 E4 T4 I4 b4 x4 3 "4"],
    [B5 Y5 S5 E5 T5 I5 b5 x5 4 "5"], [B6 Y6 S6 E6 T6 I6 b6 x6 5 "6"]);
