//! `Trainer`: Keras's `compile`, as a builder of training settings for any dfdx model.
//! Training is in `fit.rs`, inference in `evaluate.rs`.

use super::callbacks::{EarlyStopping, ModelCheckpoint};
use super::loss::Loss;
use super::progress::Verbosity;
use super::schedule::LrSchedule;
use crate::data::augment::Augment;
use crate::data::{Dataset, ModelInput};
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::nn::{Module, ModuleMut};
use dfdx::optim::Optimizer;
use dfdx::prelude::*;
use std::marker::PhantomData;

/// A model the trainer can train and evaluate on inputs `I` (one [`ModelInput`]: a sample
/// shape, token ids, or a tuple of those), producing `K` outputs per sample: [`ModuleMut`]
/// on a traced batch (training: dropout active, batch norm on batch statistics) and
/// [`Module`] on a tape-less batch (inference).
///
/// Implemented for every dfdx module with those impls, typenet networks included.
#[diagnostic::on_unimplemented(
    message = "the model cannot be trained on `{I}`: its forward does not take that input, or does not return `(batch, classes)` outputs",
    note = "`.input::<..>()` names what the network's first layer reads (`Rank3<1, 28, 28>` for `Input<1, 28, 28>`, `Tokens<20>` for `Tokens<20>`); a model of several inputs takes their batches as one tuple, the first carrying the tape"
)]
pub trait Classifier<I: ModelInput<E, D>, E: Dtype, D: Device<E>, const K: usize>:
    TensorCollection<E, D>
    + ModuleMut<I::Traced, Output = Tensor<(usize, Const<K>), E, D, OwnedTape<E, D>>>
    + Module<I::Plain, Output = Tensor<(usize, Const<K>), E, D>>
{
}

impl<M, I: ModelInput<E, D>, E: Dtype, D: Device<E>, const K: usize> Classifier<I, E, D, K> for M where
    M: TensorCollection<E, D>
        + ModuleMut<I::Traced, Output = Tensor<(usize, Const<K>), E, D, OwnedTape<E, D>>>
        + Module<I::Plain, Output = Tensor<(usize, Const<K>), E, D>>
{
}

/// The input shape of a trainer that has not been told it yet; call
/// [`Trainer::input`] to set it.
#[derive(Clone, Copy, Debug, Default)]
pub struct InputNotSet;

/// Where validation data comes from.
#[derive(Clone, Copy, Debug)]
pub(super) enum Validation<'a> {
    None,
    /// The last fraction of the training set, before shuffling (Keras's `validation_split`).
    Split(f64),
    /// A separate data set (Keras's `validation_data`).
    Data(&'a Dataset),
}

/// Trains a model, Keras-style: settings by builder methods, then [`fit`](Self::fit),
/// [`evaluate`](Self::evaluate), [`predict`](Self::predict).
///
/// `I` is what the model reads per example (e.g. `Rank3<1, 28, 28>`, `Tokens<20>`, or a
/// tuple of such), set with [`input`](Self::input); the model's number of outputs is read
/// from its type.
///
/// ```
/// use typenet::data::{Dataset, Samples};
/// use typenet::dfdx::prelude::*;
/// use typenet::train::{Adam, AdamConfig, Loss, Trainer};
///
/// // XOR, which a linear model cannot fit.
/// let x = Samples::new(vec![0., 0., 0., 1., 1., 0., 1., 1.], vec![2])?;
/// let xor = Dataset::new(x, vec![0, 1, 1, 0])?;
///
/// let dev = Cpu::seed_from_u64(0);
/// let mut model = dev.build_module::<(Linear<2, 16>, Tanh, Linear<16, 2>), f32>();
/// let adam = Adam::new(&model, AdamConfig { lr: 0.05, ..Default::default() });
/// let mut trainer = Trainer::new(&mut model, adam)
///     .input::<Rank1<2>>()
///     .loss(Loss::SparseCategoricalCrossentropy)
///     .epochs(100)
///     .batch_size(4)
///     .verbose(false);
/// let history = trainer.fit(&xor)?;
/// assert!(history.losses()[99] < history.losses()[0]);
/// assert_eq!(trainer.evaluate(&xor)?.accuracy, 1.0);
/// assert_eq!(trainer.predict_classes(xor.samples())?, [0, 1, 1, 0]);
/// # Ok::<(), typenet::train::TrainError>(())
/// ```
pub struct Trainer<'a, M, O, E, D, I = InputNotSet> {
    pub(super) model: &'a mut M,
    pub(super) optimizer: O,
    pub(super) loss: Loss,
    pub(super) epochs: usize,
    pub(super) batch_size: usize,
    pub(super) seed: u64,
    pub(super) validation: Validation<'a>,
    pub(super) early_stopping: Option<EarlyStopping>,
    pub(super) schedule: LrSchedule,
    pub(super) checkpoint: Option<ModelCheckpoint>,
    pub(super) verbosity: Verbosity,
    /// Transforms each training batch of the first input.
    /// `'static`, so that the trainer has no drop glue borrowing for `'a` and the model is
    /// free again once the trainer is last used.
    pub(super) augment: Option<Box<dyn Augment>>,
    pub(super) _types: PhantomData<(E, D, I)>,
}

impl<'a, M, O, E, D> Trainer<'a, M, O, E, D, InputNotSet>
where
    E: Dtype,
    D: Device<E>,
    O: Optimizer<M, D, E>,
{
    /// A trainer of `model` with `optimizer` (dfdx's `Adam`, `Sgd` with momentum,
    /// `RMSprop`, or any optimizer implementing [`LearningRate`](super::LearningRate)).
    ///
    /// Defaults, as Keras's `fit`: sparse categorical cross-entropy, 1 epoch, batches of
    /// 32, no validation, a progress bar; seed 0 for shuffling.
    pub fn new(model: &'a mut M, optimizer: O) -> Self {
        Trainer {
            model,
            optimizer,
            loss: Loss::default(),
            epochs: 1,
            batch_size: 32,
            seed: 0,
            validation: Validation::None,
            early_stopping: None,
            schedule: LrSchedule::Constant,
            checkpoint: None,
            verbosity: Verbosity::ProgressBar,
            augment: None,
            _types: PhantomData,
        }
    }
}

impl<'a, M, O, E, D, I> Trainer<'a, M, O, E, D, I> {
    /// Sets what the model reads per example: the shape of one sample, e.g.
    /// `.input::<Rank3<1, 28, 28>>()`; token ids, e.g. `.input::<Tokens<20>>()`; or, for a
    /// model whose forward takes a tuple, a tuple of 2 or 3 of those, e.g.
    /// `.input::<(Rank3<1, 28, 28>, Tokens<20>)>()` (see [`ModelInput`]).
    ///
    /// A data set of several inputs holds one [`Samples`](crate::data::Samples) per input,
    /// in the order of the tuple ([`Dataset::with_inputs`]); `predict` takes them as an
    /// array. The model's forward takes the tuple of their batches, the first traced in
    /// training: a `network!` with several inputs joins their tapes and runs that one tape
    /// through its branches.
    ///
    /// ```
    /// use typenet::data::{Dataset, Samples, Tokens};
    /// use typenet::prelude::*;
    /// # let ids: Vec<f32> = (0..4 * 6).map(|i| (i * 7 % 100) as f32).collect();
    /// # let labels = vec![0, 1, 1, 0];
    /// # let images = Samples::new(vec![0.5; 4 * 28 * 28], vec![28, 28])?;
    /// let dev = Cpu::seed_from_u64(0);
    ///
    /// // Token ids are stored as f32, like every value (whole numbers below 2^24).
    /// let words = Samples::new(ids, vec![6])?; // 6 ids per sample
    /// type Words = network![Tokens<6>, Embedding<100, 8>, GRU<8>, Dense<2>];
    /// let mut model = dev.build_module::<Words, f32>();
    /// let adam = Adam::new(&model, Default::default());
    /// let mut trainer = Trainer::new(&mut model, adam).input::<Tokens<6>>().verbose(false);
    /// trainer.fit(&Dataset::new(words.clone(), labels.clone())?)?;
    ///
    /// // Several inputs: one Samples per input, in the order of the model's input tuple.
    /// let data = Dataset::with_inputs(vec![images.clone(), words.clone()], labels)?;
    /// type ImageAndWords = network![
    ///     Concat<[Input<1, 28, 28>, Conv2D<4, 3>, MaxPool<2>, Flatten], [Tokens<6>, Embedding<100, 8>, GRU<8>]>,
    ///     Dense<2>,
    /// ];
    /// let mut model = dev.build_module::<ImageAndWords, f32>(); // forward takes (images, ids)
    /// let adam = Adam::new(&model, Default::default());
    /// let mut trainer = Trainer::new(&mut model, adam)
    ///     .input::<(Rank3<1, 28, 28>, Tokens<6>)>()
    ///     .verbose(false);
    /// trainer.fit(&data)?;
    /// let metrics = trainer.evaluate(&data)?;
    /// let classes = trainer.predict_classes([&images, &words])?; // or data.inputs()
    /// # assert_eq!(classes.len(), 4);
    /// # Ok::<(), typenet::train::TrainError>(())
    /// ```
    pub fn input<I2: ModelInput<E, D>>(self) -> Trainer<'a, M, O, E, D, I2>
    where
        E: Dtype,
        D: Device<E>,
    {
        Trainer {
            model: self.model,
            optimizer: self.optimizer,
            loss: self.loss,
            epochs: self.epochs,
            batch_size: self.batch_size,
            seed: self.seed,
            validation: self.validation,
            early_stopping: self.early_stopping,
            schedule: self.schedule,
            checkpoint: self.checkpoint,
            verbosity: self.verbosity,
            augment: self.augment,
            _types: PhantomData,
        }
    }

    /// Sets the loss.
    pub fn loss(mut self, loss: Loss) -> Self {
        self.loss = loss;
        self
    }

    /// Sets the number of epochs.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Sets the number of samples per training step (the last batch may be smaller).
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Sets the seed of the per-epoch shuffle. (Dropout draws from the device's own
    /// generator: build the model on `Cpu::seed_from_u64` for a reproducible run.)
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Holds back the last `fraction` of the training set, before shuffling, for
    /// validation after each epoch; replaces [`validation_data`](Self::validation_data).
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.validation = Validation::Split(fraction);
        self
    }

    /// Evaluates on `data` after each epoch; replaces
    /// [`validation_split`](Self::validation_split).
    pub fn validation_data(mut self, data: &'a Dataset) -> Self {
        self.validation = Validation::Data(data);
        self
    }

    /// Stops training when a metric stops improving.
    pub fn early_stopping(mut self, early_stopping: EarlyStopping) -> Self {
        self.early_stopping = Some(early_stopping);
        self
    }

    /// Sets the learning-rate schedule.
    pub fn lr_schedule(mut self, schedule: LrSchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Saves a checkpoint after each epoch (or each improving epoch).
    pub fn checkpoint(mut self, checkpoint: ModelCheckpoint) -> Self {
        self.checkpoint = Some(checkpoint);
        self
    }

    /// Transforms each training batch before it becomes a tensor: random shifts, flips,
    /// rotations, noise ([`data::augment`](crate::data::augment)), several chained with
    /// [`then`](Augment::then), a transform of your own, or a closure.
    ///
    /// `fit` hands the transform the values of each batch of the first input, as the data
    /// set stores them, and a generator drawn from the [`seed`](Self::seed) and the epoch
    /// ([`epoch_rng`](crate::data::augment::epoch_rng)): one seed gives the same augmented
    /// batches, each epoch new ones. Validation, `evaluate` and `predict` see the data as
    /// it is. A transform that cannot take the samples (an image transform on flat
    /// samples, a negative noise level) is [`TrainError::Augment`](super::TrainError::Augment)
    /// before any update.
    ///
    /// The trainer owns the transform (it is `'static`): a closure that keeps state (say,
    /// counts what it saw) shares it through an `Rc<RefCell<..>>`.
    ///
    /// ```
    /// use typenet::data::augment::{Augment, RandomRotation, RandomShift};
    /// use typenet::data::{Dataset, Samples};
    /// use typenet::prelude::*;
    /// # let images = Samples::new(vec![0.5; 4 * 28 * 28], vec![28, 28])?;
    /// # let data = Dataset::new(images, vec![0, 1, 2, 3])?;
    /// type Net = network![Input<1, 28, 28>, Conv2D<4, 3>, MaxPool<2>, Flatten, Dense<10>];
    /// let dev = Cpu::seed_from_u64(0);
    /// let mut model = dev.build_module::<Net, f32>();
    /// let adam = Adam::new(&model, Default::default());
    /// let mut trainer = Trainer::new(&mut model, adam)
    ///     .input::<Rank3<1, 28, 28>>()
    ///     .augment(RandomShift::new(2).then(RandomRotation::degrees(10.0)))
    ///     .verbose(false);
    /// trainer.fit(&data)?;
    /// # Ok::<(), typenet::train::TrainError>(())
    /// ```
    pub fn augment(mut self, augment: impl Augment + 'static) -> Self {
        self.augment = Some(Box::new(augment));
        self
    }

    /// Sets how much `fit` prints: `true` or [`Verbosity::ProgressBar`] for a bar and a
    /// line per epoch, [`Verbosity::Lines`] for the lines only, `false` or
    /// [`Verbosity::Silent`] for nothing.
    pub fn verbose(mut self, verbosity: impl Into<Verbosity>) -> Self {
        self.verbosity = verbosity.into();
        self
    }

    /// The model being trained.
    pub fn model(&self) -> &M {
        self.model
    }

    /// The optimizer, e.g. to read its learning rate after a schedule ran.
    pub fn optimizer(&self) -> &O {
        &self.optimizer
    }
}
