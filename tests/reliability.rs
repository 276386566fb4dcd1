//! Issue 10, "no panic on any input a user can give": empty batches through recurrent
//! layers, masks of another shape, batch norm on one sample, NaN validation data, empty
//! evaluation sets and checkpoints holding NaN.

use typenet::data::{Dataset, Samples};
use typenet::layers::{lengths_mask, MaskShapeError, Masked, SequenceLengthError, SequencePadding};
use typenet::prelude::*;
use typenet::train::TrainError;

/// A batch of no samples gives an empty output `(0, U)` through a recurrent layer, as it
/// does through a CNN, in inference and in training (traced). It panicked in dfdx's select.
#[test]
fn a_batch_of_no_samples_gives_an_empty_output() {
    let dev: Cpu = Cpu::seed_from_u64(0);
    let x: Tensor<(usize, Const<28>, Const<28>), f32, _> = dev.zeros_like(&(0, Const, Const));

    type Lstm = network![Input<28, 28>, LSTM<16>];
    let mut lstm = dev.build_module::<Lstm, f32>();
    let y: Tensor<(usize, Const<16>), f32, _> = lstm.forward(x.clone());
    assert_eq!(y.shape().concrete(), [0, 16]);
    let y = lstm.forward_mut(x.clone().traced(lstm.alloc_grads()));
    assert_eq!(y.shape().concrete(), [0, 16]);

    type Bi = network![Input<28, 28>, Bidirectional<GRU<8>>];
    let bi = dev.build_module::<Bi, f32>();
    let y: Tensor<(usize, Const<16>), f32, _> = bi.forward(x.clone());
    assert_eq!(y.shape().concrete(), [0, 16]);

    type Stack = network![Input<28, 28>, LSTM<8, return_sequences>, GRU<4>, Dense<3>];
    let stack = dev.build_module::<Stack, f32>();
    let y: Tensor<(usize, Const<3>), f32, _> = stack.forward(x);
    assert_eq!(y.shape().concrete(), [0, 3]);

    // As a CNN does.
    type Cnn = network![Input<1, 8, 8>, Conv2D<4, 3>, Flatten, Dense<3>];
    let cnn = dev.build_module::<Cnn, f32>();
    let y = cnn.forward(dev.zeros_like(&(0usize, Const::<1>, Const::<8>, Const::<8>)));
    assert_eq!(y.shape().concrete(), [0, 3]);
}

/// Sequences of no steps: the last state is the initial one, zeros (it asserted).
#[test]
fn sequences_of_no_steps_give_the_initial_state() {
    let dev: Cpu = Cpu::seed_from_u64(0);
    let lstm = dev.build_module::<typenet::layers::LSTM<3, 4, false>, f32>();
    let x: Tensor<(usize, usize, Const<3>), f32, _> = dev.zeros_like(&(2, 0, Const));
    let y = lstm.forward(x);
    assert_eq!(y.as_vec(), [0.0; 8]);
}

/// A mask of another batch size or length is a typed error from `Masked::new`, and an
/// error, not a panic, from a layer given a `Masked` built from its fields.
#[test]
fn a_mask_of_another_shape_is_an_error() {
    let dev: Cpu = Cpu::seed_from_u64(0);
    let lstm = dev.build_module::<typenet::layers::LSTM<2, 5, false>, f32>();
    let x: Tensor<(usize, usize, Const<2>), f32, _> = dev.sample_normal_like(&(2, 4, Const));
    let cases = [
        (
            lengths_mask::<f32, _>(&dev, &[4, 1, 2], 4, SequencePadding::Post).unwrap(),
            (3, 4),
        ),
        (
            lengths_mask::<f32, _>(&dev, &[4, 1], 6, SequencePadding::Post).unwrap(),
            (2, 6),
        ),
    ];
    for (mask, shape) in cases {
        let err = Masked::new(x.clone(), mask.clone()).unwrap_err();
        assert_eq!(
            err,
            MaskShapeError {
                sequences: (2, 4),
                mask: shape
            }
        );
        assert!(err.to_string().contains("lengths_mask"), "{err}");
        let unchecked = Masked { x: x.clone(), mask };
        assert!(lstm.try_forward(unchecked).is_err());
    }
    let fits = lengths_mask::<f32, _>(&dev, &[4, 1], 4, SequencePadding::Post).unwrap();
    let y = lstm.forward(Masked::new(x, fits).unwrap());
    assert_eq!(y.shape().concrete(), [2, 5]);
}

/// A length above the mask's number of steps is a typed error that names the sequence and
/// says what to do (it asserted, and `Pre` padding would have underflowed).
#[test]
fn a_sequence_longer_than_the_mask_is_an_error() {
    let dev: Cpu = Default::default();
    for padding in [SequencePadding::Post, SequencePadding::Pre] {
        let err = lengths_mask::<f32, _>(&dev, &[3, 4, 6, 9], 4, padding).unwrap_err();
        assert_eq!(
            err,
            SequenceLengthError {
                sequence: 2,
                length: 6,
                steps: 4
            }
        );
        let msg = err.to_string();
        for part in ["sequence 2", "6 steps long", "4 steps", "pad_sequences"] {
            assert!(msg.contains(part), "{msg}");
        }
    }
    // A length of exactly `steps`, or 0, fits.
    let mask = lengths_mask::<f32, _>(&dev, &[4, 0], 4, SequencePadding::Pre).unwrap();
    assert_eq!(mask.as_vec(), [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
}

/// `n` samples of 4 features in 3 classes.
fn data(n: usize) -> Dataset {
    let x = (0..n * 4).map(|i| ((i * 7) % 11) as f32 / 11.0).collect();
    Dataset::new(
        Samples::new(x, vec![4]).unwrap(),
        (0..n).map(|i| i % 3).collect(),
    )
    .unwrap()
}

type Bn = network![Input<4>, Dense<8>, BatchNorm, ReLU, Dense<3>];

fn all_finite<M: typenet::dfdx::nn::tensor_collection::TensorCollection<f32, Cpu>>(m: &M) {
    let path = std::env::temp_dir().join(format!("typenet-rel-{}", std::process::id()));
    // Saving refuses non-finite tensors: a cheap check of every tensor.
    save_checkpoint(m, &path).expect("every tensor is finite");
    let _ = std::fs::remove_file(path);
}

/// 33 samples in batches of 32 left a last batch of one sample, whose running-variance
/// update divided by zero: `fit` failed with `NonFiniteWeights` and the model kept the NaN.
/// The lone sample now joins the batch before it.
#[test]
fn batch_norm_trains_on_a_set_that_leaves_one_sample_over() {
    let dev: Cpu = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Bn, f32>();
    let adam = Adam::new(&model, AdamConfig::default());
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<Rank1<4>>()
        .epochs(2)
        .batch_size(32)
        .verbose(false);
    let history = trainer.fit(&data(33)).unwrap();
    assert!(history.losses().iter().all(|l| l.is_finite()));
    all_finite(trainer.model());
}

/// A batch size of one with a batch norm is refused before training, naming the layer; the
/// model is unchanged.
#[test]
fn batch_norm_on_batches_of_one_is_refused_before_training() {
    let dev: Cpu = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Bn, f32>();
    let before = model.clone();
    let adam = Adam::new(&model, AdamConfig::default());
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<Rank1<4>>()
        .batch_size(1)
        .verbose(false);
    let err = trainer.fit(&data(10)).unwrap_err();
    assert!(
        matches!(&err, TrainError::BatchNormSingleSample { tensor, batch_size: 1, .. } if tensor == "2.running_var"),
        "{err}"
    );
    assert!(err.to_string().contains("batch size of 2 or more"), "{err}");
    let mut trainer = trainer.batch_size(32);
    let err = trainer.fit(&data(1)).unwrap_err();
    assert!(
        matches!(&err, TrainError::BatchNormSingleSample { samples: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("at least 2 samples"), "{err}");
    drop(trainer);
    assert_eq!(
        model.head.tail.0 .0.running_var.as_vec(),
        before.head.tail.0 .0.running_var.as_vec()
    );
}

/// A NaN loss in a model with a batch norm left NaN in its running statistics (the forward
/// pass updates them before the loss is checked); the model is now given back its weights
/// from the start of the epoch.
#[test]
fn a_nan_loss_does_not_leave_nan_in_the_model() {
    let clean = data(40);
    let mut x = clean.samples().as_slice().to_vec();
    x[17 * 4] = f32::NAN;
    let poisoned =
        Dataset::new(Samples::new(x, vec![4]).unwrap(), clean.labels().to_vec()).unwrap();
    let dev: Cpu = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Bn, f32>();
    let before = model.head.tail.0 .0.running_mean.as_vec();
    let adam = Adam::new(&model, AdamConfig::default());
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<Rank1<4>>()
        .batch_size(8)
        .verbose(false);
    let err = trainer.fit(&poisoned).unwrap_err();
    assert!(
        matches!(err, TrainError::NonFiniteLoss { epoch: 1, .. }),
        "{err}"
    );
    all_finite(trainer.model());
    drop(trainer);
    assert_eq!(model.head.tail.0 .0.running_mean.as_vec(), before);
}

type Mlp = network![Input<4>, Dense<8>, Tanh, Dense<3>];

/// NaN only in the validation data: `fit` returned Ok with a NaN validation loss every
/// epoch. It is now an error naming the epoch, and no checkpoint of that epoch is written.
#[test]
fn nan_in_the_validation_data_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    let val = data(12);
    let mut x = val.samples().as_slice().to_vec();
    x[5 * 4 + 1] = f32::NAN;
    let val = Dataset::new(Samples::new(x, vec![4]).unwrap(), val.labels().to_vec()).unwrap();
    let dev: Cpu = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Mlp, f32>();
    let adam = Adam::new(&model, AdamConfig::default());
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<Rank1<4>>()
        .epochs(3)
        .validation_data(&val)
        .checkpoint(ModelCheckpoint::every_epoch(&path))
        .verbose(false);
    let err = trainer.fit(&data(30)).unwrap_err();
    assert!(
        matches!(err, TrainError::NonFiniteValidationLoss { epoch: 1, loss } if loss.is_nan()),
        "{err}"
    );
    assert!(err.to_string().contains("validation data"), "{err}");
    assert!(!path.exists());
}

/// `evaluate` on no samples returned loss 0 and accuracy 0, as if measured.
#[test]
fn evaluating_no_samples_is_an_error() {
    let dev: Cpu = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Mlp, f32>();
    let adam = Adam::new(&model, AdamConfig::default());
    let trainer = Trainer::new(&mut model, adam)
        .input::<Rank1<4>>()
        .verbose(false);
    let empty = Dataset::new(Samples::new(vec![], vec![4]).unwrap(), vec![]).unwrap();
    let err = trainer.evaluate(&empty).unwrap_err();
    assert!(matches!(err, TrainError::NoSamples), "{err}");
    assert_eq!(
        err.to_string(),
        "no samples to evaluate: the data set is empty"
    );
    // Predicting no samples has a sensible result: no outputs.
    assert!(trainer.predict(empty.samples()).unwrap().is_empty());
}

/// A checkpoint holding NaN (written by dfdx, which does not refuse it) loaded silently.
#[test]
fn a_checkpoint_holding_nan_is_refused() {
    use typenet::dfdx::nn::builders::{Linear, Tanh};
    type Net = (Linear<4, 8>, Tanh, Linear<8, 3>);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.safetensors");
    let dev: Cpu = Cpu::seed_from_u64(0);
    let mut diverged = dev.build_module::<Net, f32>();
    diverged.2.bias = dev.tensor([0.0, f32::NAN, 0.0]);
    diverged.save_safetensors(&path).unwrap();

    let mut model = dev.build_module::<Net, f32>();
    let before = model.2.bias.array();
    let err = load_checkpoint(&mut model, &path).unwrap_err();
    assert!(
        matches!(&err, TrainError::NonFiniteInCheckpoint { tensor, .. } if tensor == "2.bias"),
        "{err}"
    );
    assert!(err.to_string().contains("layer 2's bias"), "{err}");
    assert_eq!(model.2.bias.array(), before);
}
