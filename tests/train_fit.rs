//! The training loop end to end on small dfdx models: convergence, validation, callbacks,
//! train/inference mode switching, and the typed errors of bad data and diverging runs.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};
use typenet::data::{epoch_order, DataError, Dataset, Samples};
use typenet::dfdx::nn::{NonMutableModule, ZeroSizedModule};
use typenet::dfdx::prelude::*;
use typenet::train::{
    load_checkpoint, tensor_specs, Adam, AdamConfig, EarlyStopping, LearningRate, LrSchedule,
    ModelCheckpoint, Momentum, Monitor, RMSprop, RMSpropConfig, Sgd, SgdConfig, TrainError,
    Trainer,
};

type Mlp = (Linear<4, 8>, ReLU, Linear<8, 3>);

/// `n` points in 4-d, in three Gaussian blobs, one per class.
fn blobs(n: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 0.5).unwrap();
    let centres = [
        [2.0, 0.0, 0.0, 1.0],
        [0.0, 2.0, 0.0, -1.0],
        [0.0, 0.0, 2.0, 0.0],
    ];
    let labels: Vec<usize> = (0..n).map(|i| i % 3).collect();
    let x = labels
        .iter()
        .flat_map(|&c| centres[c].map(|v: f32| v + noise.sample(&mut rng)))
        .collect();
    Dataset::new(Samples::new(x, vec![4]).unwrap(), labels).unwrap()
}

fn adam<M>(model: &M, lr: f64) -> Adam<M, f32, Cpu> {
    Adam::new(
        model,
        AdamConfig {
            lr,
            ..Default::default()
        },
    )
}

#[test]
fn loss_decreases_on_a_fixed_seed_and_runs_reproduce() {
    let data = blobs(300, 1);
    let run = || {
        let mut model = Cpu::seed_from_u64(0).build_module::<Mlp, f32>();
        let opt = adam(&model, 1e-2);
        let mut trainer = Trainer::new(&mut model, opt)
            .input::<Rank1<4>>()
            .epochs(5)
            .batch_size(32)
            .seed(7)
            .verbose(false);
        trainer.fit(&data).unwrap()
    };
    let history = run();
    let losses = history.losses();
    assert!(losses.windows(2).all(|w| w[1] < w[0]), "{losses:?}");
    assert!(losses[4] < losses[0] / 2.0, "{losses:?}");
    assert!(history.epochs[4].train.accuracy > 0.9);
    assert_eq!(run().losses(), losses, "same seeds, same run");
}

#[test]
fn a_tiny_network_fits_a_tiny_set_exactly_in_f64() {
    // Twelve random points with random labels: nothing to learn but the points themselves.
    let mut rng = StdRng::seed_from_u64(3);
    let x: Vec<f32> = (0..48).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let labels: Vec<usize> = (0..12).map(|_| rng.gen_range(0..3)).collect();
    let data = Dataset::new(Samples::new(x, vec![4]).unwrap(), labels.clone()).unwrap();

    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<(Linear<4, 32>, Tanh, Linear<32, 3>), f64>();
    let opt = Adam::new(
        &model,
        AdamConfig {
            lr: 0.05,
            ..Default::default()
        },
    );
    let mut trainer = Trainer::new(&mut model, opt)
        .input::<Rank1<4>>()
        .epochs(300)
        .batch_size(12)
        .verbose(false);
    trainer.fit(&data).unwrap();
    let metrics = trainer.evaluate(&data).unwrap();
    assert_eq!(metrics.accuracy, 1.0, "{metrics:?}");
    assert_eq!(trainer.predict_classes(data.samples()).unwrap(), labels);
}

#[test]
fn every_optimizer_trains() {
    let data = blobs(150, 2);
    let dev = Cpu::seed_from_u64(0);
    let first_and_last = |history: typenet::train::History| {
        let l = history.losses();
        (l[0], l[l.len() - 1])
    };

    let mut model = dev.build_module::<Mlp, f32>();
    let sgd = Sgd::new(
        &model,
        SgdConfig {
            lr: 0.05,
            momentum: Some(Momentum::Nesterov(0.9)),
            weight_decay: None,
        },
    );
    let mut trainer = Trainer::new(&mut model, sgd)
        .input::<Rank1<4>>()
        .epochs(4)
        .verbose(false);
    let (first, last) = first_and_last(trainer.fit(&data).unwrap());
    assert!(last < first, "sgd: {first} -> {last}");

    let mut model = dev.build_module::<Mlp, f32>();
    let rmsprop = RMSprop::new(
        &model,
        RMSpropConfig {
            lr: 1e-2,
            ..Default::default()
        },
    );
    let mut trainer = Trainer::new(&mut model, rmsprop)
        .input::<Rank1<4>>()
        .epochs(4)
        .verbose(false);
    let (first, last) = first_and_last(trainer.fit(&data).unwrap());
    assert!(last < first, "rmsprop: {first} -> {last}");
}

#[test]
fn validation_split_holds_back_the_tail_and_evaluates_it() {
    let data = blobs(100, 4);
    let mut model = Cpu::seed_from_u64(0).build_module::<Mlp, f32>();
    let opt = adam(&model, 1e-2);
    let mut trainer = Trainer::new(&mut model, opt)
        .input::<Rank1<4>>()
        .validation_split(0.2)
        .epochs(2)
        .verbose(false);
    let history = trainer.fit(&data).unwrap();
    let reported = history.epochs[1].validation.expect("validation metrics");
    let (_, tail) = data.split_validation(0.2);
    assert_eq!(tail.len(), 20);
    assert_eq!(trainer.evaluate(&tail).unwrap(), reported);
    // The tail was never trained on: 80 samples per epoch.
    let steps_of_80 = 80f64 / history.epochs[0].seconds;
    assert!((history.epochs[0].samples_per_sec - steps_of_80).abs() < 1e-6 * steps_of_80);
}

#[test]
fn early_stopping_stops_and_restores_the_best_weights() {
    let data = blobs(60, 5);
    let dev = Cpu::seed_from_u64(0);
    // A min_delta no epoch can beat: only the first epoch counts as an improvement.
    let stop = EarlyStopping {
        monitor: Monitor::Loss,
        patience: 2,
        min_delta: 100.0,
        restore_best_weights: true,
    };
    let mut model = dev.build_module::<Mlp, f32>();
    let opt = adam(&model, 1e-2);
    let history = Trainer::new(&mut model, opt)
        .input::<Rank1<4>>()
        .epochs(10)
        .early_stopping(stop)
        .verbose(false)
        .fit(&data)
        .unwrap();
    assert_eq!(history.epochs.len(), 3);
    assert!(history.stopped_early);

    // The same run stopped by hand after one epoch has the restored weights.
    let dev = Cpu::seed_from_u64(0);
    let mut one_epoch = dev.build_module::<Mlp, f32>();
    let opt = adam(&one_epoch, 1e-2);
    Trainer::new(&mut one_epoch, opt)
        .input::<Rank1<4>>()
        .verbose(false)
        .fit(&data)
        .unwrap();
    assert_eq!(model.0.weight.array(), one_epoch.0.weight.array());
    assert_eq!(model.2.bias.array(), one_epoch.2.bias.array());
}

#[test]
fn early_stopping_on_val_loss_needs_validation_data() {
    let data = blobs(30, 6);
    let mut model = Cpu::default().build_module::<Mlp, f32>();
    let opt = adam(&model, 1e-2);
    let err = Trainer::new(&mut model, opt)
        .input::<Rank1<4>>()
        .early_stopping(EarlyStopping::default())
        .verbose(false)
        .fit(&data)
        .unwrap_err();
    assert!(
        matches!(&err, TrainError::Config(msg) if msg.contains("val_loss")),
        "{err}"
    );
}

#[test]
fn the_schedule_sets_the_optimizer_rate_each_epoch() {
    let data = blobs(30, 7);
    let mut model = Cpu::default().build_module::<Mlp, f32>();
    let opt = adam(&model, 0.01);
    let mut trainer = Trainer::new(&mut model, opt)
        .input::<Rank1<4>>()
        .epochs(5)
        .lr_schedule(LrSchedule::StepDecay {
            every: 2,
            factor: 0.5,
        })
        .verbose(false);
    let history = trainer.fit(&data).unwrap();
    let rates: Vec<f64> = history.epochs.iter().map(|e| e.learning_rate).collect();
    assert_eq!(rates, [0.01, 0.01, 0.005, 0.005, 0.0025]);
    assert_eq!(trainer.optimizer().learning_rate(), 0.0025);
}

/// Dropout and batch norm train on `forward_mut` of a traced batch and infer on `forward`.
#[test]
fn dropout_and_batch_norm_switch_between_training_and_inference() {
    type Net = (Linear<4, 8>, BatchNorm1D<8>, ReLU, Dropout, Linear<8, 3>);
    let data = blobs(90, 8);
    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Net, f32>();
    model.3.p = 0.5;
    let opt = adam(&model, 1e-2);
    let mut trainer = Trainer::new(&mut model, opt)
        .input::<Rank1<4>>()
        .epochs(2)
        .verbose(false);
    trainer.fit(&data).unwrap();
    // Training updated the running statistics ...
    let running = trainer.model().1.running_mean.array();
    assert!(running.iter().any(|&m| m != 0.0), "{running:?}");
    // ... and inference neither drops out nor updates them.
    let a = trainer.evaluate(&data).unwrap();
    let b = trainer.evaluate(&data).unwrap();
    assert_eq!(a, b);
    let outputs = trainer.predict(data.samples()).unwrap();
    assert_eq!(outputs, trainer.predict(data.samples()).unwrap());
    assert_eq!(trainer.model().1.running_mean.array(), running);
    // predict is exactly `forward` on the whole set.
    let x = dev.tensor_from_vec(data.samples().as_slice().to_vec(), (data.len(), Const::<4>));
    let direct = trainer.model().forward(x).as_vec();
    assert_eq!(outputs.concat(), direct);
}

/// A parameter-free module that flattens 1x2x2 images: a tiny image model without
/// typenet's Flatten.
#[derive(Clone, Copy, Debug, Default)]
struct Flatten1x2x2;
impl ZeroSizedModule for Flatten1x2x2 {}
impl NonMutableModule for Flatten1x2x2 {}
impl<E: Dtype, D: Device<E>, T: Tape<E, D>>
    Module<Tensor<(usize, Const<1>, Const<2>, Const<2>), E, D, T>> for Flatten1x2x2
{
    type Output = Tensor<(usize, Const<4>), E, D, T>;
    type Error = D::Err;
    fn try_forward(
        &self,
        x: Tensor<(usize, Const<1>, Const<2>, Const<2>), E, D, T>,
    ) -> Result<Self::Output, D::Err> {
        let n = x.shape().0;
        x.try_reshape_like(&(n, Const))
    }
}

#[test]
fn image_inputs_train_and_wrong_sizes_are_typed_errors() {
    let flat = blobs(60, 9);
    // The same values as 2x2 images: fits the model's 1x2x2 input.
    let images = Dataset::new(
        Samples::new(flat.samples().as_slice().to_vec(), vec![2, 2]).unwrap(),
        flat.labels().to_vec(),
    )
    .unwrap();
    let mut model = Cpu::seed_from_u64(0).build_module::<(Flatten1x2x2, Mlp), f32>();
    let opt = adam(&model, 1e-2);
    let mut trainer = Trainer::new(&mut model, opt)
        .input::<Rank3<1, 2, 2>>()
        .epochs(3)
        .verbose(false);
    let history = trainer.fit(&images).unwrap();
    assert!(history.losses()[2] < history.losses()[0]);

    // 3x3 images into a 1x2x2 input.
    let big = Dataset::new(Samples::new(vec![0.5; 18], vec![3, 3]).unwrap(), vec![0, 1]).unwrap();
    let err = trainer.fit(&big).unwrap_err();
    assert!(
        matches!(&err, TrainError::Data(DataError::SampleShape { expected, found }) if expected == &[1, 2, 2] && found == &[3, 3]),
        "{err}"
    );
    assert!(trainer.evaluate(&big).is_err());
    assert!(trainer.predict(big.samples()).is_err());
}

#[test]
fn labels_the_model_cannot_output_are_typed_errors() {
    let x = Samples::new(vec![0.0; 8], vec![4]).unwrap();
    let data = Dataset::new(x, vec![1, 3]).unwrap();
    let mut model = Cpu::default().build_module::<Mlp, f32>();
    let opt = adam(&model, 1e-2);
    let err = Trainer::new(&mut model, opt)
        .input::<Rank1<4>>()
        .verbose(false)
        .fit(&data)
        .unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::LabelOutOfRange {
                index: 1,
                label: 3,
                classes: 3
            }
        ),
        "{err}"
    );
}

/// `n` points in 2-d labelled 1 when `x0 + x1 > 0.43`: about 38% positives, as in the
/// report of a `Sigmoid` model trained from logits that stuck at 37.9% accuracy.
fn binary_set(n: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let normal = Normal::new(0.0f32, 1.0).unwrap();
    let x: Vec<f32> = (0..2 * n).map(|_| normal.sample(&mut rng)).collect();
    let labels = x
        .chunks(2)
        .map(|p| usize::from(p[0] + p[1] > 0.43))
        .collect();
    Dataset::new(Samples::new(x, vec![2]).unwrap(), labels).unwrap()
}

/// The outputs of a model on a few fixed points, to see that an error changed nothing.
fn outputs_of<M: Module<Tensor<Rank2<3, 2>, f32, Cpu>, Output = Tensor<Rank2<3, 1>, f32, Cpu>>>(
    model: &M,
) -> [[f32; 1]; 3] {
    let dev = Cpu::default();
    model
        .forward(dev.tensor([[0.5, -1.0], [2.0, 0.1], [-0.3, 0.3]]))
        .array()
}

#[test]
fn binary_crossentropy_must_match_a_sigmoid_at_the_end() {
    let data = binary_set(400, 21);
    let positives = data.labels().iter().sum::<usize>() as f64 / 400.0;
    assert!((0.3..0.45).contains(&positives), "{positives}");
    type Probabilities =
        typenet::network![Input<2>, Dense<16, activation = tanh>, Dense<1>, Sigmoid];
    let from_logits = typenet::train::Loss::BinaryCrossentropy { from_logits: true };
    let from_probabilities = typenet::train::Loss::BinaryCrossentropy { from_logits: false };

    // Logits expected from a model that ends in Sigmoid: refused before any update, by
    // fit, evaluate and predict_classes alike.
    let mut model = Cpu::seed_from_u64(0).build_module::<Probabilities, f32>();
    let before = outputs_of(&model);
    let opt = adam(&model, 1e-2);
    let mut trainer = Trainer::new(&mut model, opt)
        .input::<Rank1<2>>()
        .loss(from_logits)
        .epochs(2)
        .verbose(false);
    let err = trainer.fit(&data).unwrap_err();
    match &err {
        TrainError::LossMismatch {
            loss,
            suggested,
            layer,
            place,
            probabilities,
        } => {
            assert_eq!(*loss, from_logits);
            assert_eq!(*suggested, from_probabilities);
            assert_eq!(
                (*layer, place.as_str(), *probabilities),
                ("Sigmoid", "3", true)
            );
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        err.to_string(),
        "the model ends in `Sigmoid` (layer 3), whose outputs are probabilities, but \
         `Loss::BinaryCrossentropy { from_logits: true }` takes logits and applies the sigmoid \
         itself: use `Loss::BinaryCrossentropy { from_logits: false }`, or remove the `Sigmoid`"
    );
    assert!(matches!(
        trainer.evaluate(&data),
        Err(TrainError::LossMismatch { .. })
    ));
    assert!(matches!(
        trainer.predict_classes(data.samples()),
        Err(TrainError::LossMismatch { .. })
    ));
    drop(trainer);
    assert_eq!(outputs_of(&model), before, "no update");

    // Probabilities, as the model gives: it learns the boundary, far above the positives'
    // share, and a probability above one half is the class 1.
    let opt = adam(&model, 2e-2);
    let mut trainer = Trainer::new(&mut model, opt)
        .input::<Rank1<2>>()
        .loss(from_probabilities)
        .epochs(30)
        .verbose(false);
    let history = trainer.fit(&data).unwrap();
    let accuracy = history.epochs.last().unwrap().train.accuracy;
    assert!(accuracy > 0.95, "{accuracy} (positives: {positives})");
    let probabilities = trainer.predict::<1>(data.samples()).unwrap();
    let classes = trainer.predict_classes(data.samples()).unwrap();
    for (p, class) in probabilities.iter().zip(&classes) {
        assert!((0.0..=1.0).contains(&p[0]));
        assert_eq!(*class, usize::from(p[0] > 0.5));
    }

    // The other way round: a dfdx model ending in a Linear gives logits.
    let mut model =
        Cpu::seed_from_u64(0).build_module::<(Linear<2, 16>, Tanh, Linear<16, 1>), f32>();
    let opt = adam(&model, 2e-2);
    let mut trainer = Trainer::new(&mut model, opt)
        .input::<Rank1<2>>()
        .loss(from_probabilities)
        .epochs(30)
        .verbose(false);
    let err = trainer.fit(&data).unwrap_err();
    assert!(
        matches!(&err, TrainError::LossMismatch { layer: "Linear", place, probabilities: false, suggested, .. } if place == "2" && *suggested == from_logits),
        "{err}"
    );
    assert!(
        err.to_string().ends_with(
            "use `Loss::BinaryCrossentropy { from_logits: true }`, or end the model in `Sigmoid`"
        ),
        "{err}"
    );
    let mut trainer = trainer.loss(from_logits);
    let history = trainer.fit(&data).unwrap();
    assert!(history.epochs.last().unwrap().train.accuracy > 0.95);
}

#[test]
fn outputs_outside_0_to_1_stop_a_loss_on_probabilities_before_the_update() {
    // dfdx's residual around a Sigmoid gives y + sigmoid(y): the walk does not judge a
    // block, but its outputs above 1 are no probabilities.
    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<(Linear<2, 1>, Residual<Sigmoid>), f32>();
    model.0.weight = dev.tensor([[5.0, 5.0]]);
    model.0.bias = dev.tensor([5.0]);
    let before = outputs_of(&model);
    let data = Dataset::new(
        Samples::new(vec![1.0; 8], vec![2]).unwrap(),
        vec![0, 1, 1, 0],
    )
    .unwrap();
    let opt = adam(&model, 1e-2);
    let mut trainer = Trainer::new(&mut model, opt)
        .input::<Rank1<2>>()
        .loss(typenet::train::Loss::BinaryCrossentropy { from_logits: false })
        .verbose(false);
    let err = trainer.fit(&data).unwrap_err();
    match err {
        TrainError::OutputNotProbability { value } => assert!(value > 15.0, "{value}"),
        other => panic!("{other}"),
    }
    assert!(matches!(
        trainer.evaluate(&data),
        Err(TrainError::OutputNotProbability { .. })
    ));
    drop(trainer);
    assert_eq!(outputs_of(&model), before, "no update");
}

#[test]
fn a_nan_loss_stops_training_at_its_epoch_and_step() {
    let clean = blobs(40, 10);
    let mut x = clean.samples().as_slice().to_vec();
    x[17 * 4 + 2] = f32::NAN; // sample 17
    let data = Dataset::new(Samples::new(x, vec![4]).unwrap(), clean.labels().to_vec()).unwrap();
    let expected_step = epoch_order(40, 11, 0)
        .iter()
        .position(|&i| i == 17)
        .unwrap()
        / 4
        + 1;

    // Tanh passes the NaN on to the loss.
    let mut model = Cpu::seed_from_u64(0).build_module::<(Linear<4, 8>, Tanh, Linear<8, 3>), f32>();
    let opt = adam(&model, 1e-2);
    let err = Trainer::new(&mut model, opt)
        .input::<Rank1<4>>()
        .batch_size(4)
        .seed(11)
        .epochs(3)
        .verbose(false)
        .fit(&data)
        .unwrap_err();
    assert!(
        matches!(err, TrainError::NonFiniteLoss { epoch: 1, step, loss } if step == expected_step && loss.is_nan()),
        "{err}, expected step {expected_step}"
    );
    assert!(err
        .to_string()
        .contains(&format!("epoch 1, step {expected_step}")));
    // The failing step was not applied.
    assert!(model
        .0
        .weight
        .array()
        .iter()
        .flatten()
        .all(|w| w.is_finite()));

    // ReLU maps NaN to 0, so the loss stays finite while the NaN gradient poisons the
    // first layer: caught at the end of the epoch, before any checkpoint.
    let mut model = Cpu::seed_from_u64(0).build_module::<Mlp, f32>();
    let opt = adam(&model, 1e-2);
    let err = Trainer::new(&mut model, opt)
        .input::<Rank1<4>>()
        .batch_size(4)
        .seed(11)
        .verbose(false)
        .fit(&data)
        .unwrap_err();
    assert!(
        matches!(&err, TrainError::NonFiniteWeights { epoch: 1, tensor } if tensor == "0.weight"),
        "{err}"
    );
}

/// A run that diverges in epoch 2 leaves the checkpoint of epoch 1 byte for byte.
#[test]
fn a_diverging_run_keeps_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    let data = blobs(32, 12);
    // An infinite learning rate from epoch 2 on.
    let diverge = LrSchedule::Custom(|epoch, lr| if epoch == 0 { lr } else { f64::INFINITY });
    let sgd = |model: &Mlp32| {
        Sgd::new(
            model,
            SgdConfig {
                lr: 0.01,
                momentum: None,
                weight_decay: None,
            },
        )
    };
    type Mlp32 = <Mlp as BuildOnDevice<Cpu, f32>>::Built;

    for (batch_size, expect_loss_error) in [(8, true), (32, false)] {
        let _ = std::fs::remove_file(&path);
        let mut good = Cpu::seed_from_u64(0).build_module::<Mlp, f32>();
        let opt = sgd(&good);
        Trainer::new(&mut good, opt)
            .input::<Rank1<4>>()
            .batch_size(batch_size)
            .checkpoint(ModelCheckpoint::every_epoch(&path))
            .verbose(false)
            .fit(&data)
            .unwrap();
        let after_epoch_1 = std::fs::read(&path).unwrap();

        let mut model = Cpu::seed_from_u64(0).build_module::<Mlp, f32>();
        let opt = sgd(&model);
        let err = Trainer::new(&mut model, opt)
            .input::<Rank1<4>>()
            .batch_size(batch_size)
            .epochs(3)
            .lr_schedule(diverge)
            .checkpoint(ModelCheckpoint::every_epoch(&path))
            .verbose(false)
            .fit(&data)
            .unwrap_err();
        if expect_loss_error {
            // Step 1 of epoch 2 makes the weights infinite, step 2 sees the NaN loss.
            assert!(
                matches!(
                    err,
                    TrainError::NonFiniteLoss {
                        epoch: 2,
                        step: 2,
                        ..
                    }
                ),
                "{err}"
            );
        } else {
            // One step per epoch: the loss was finite, the weights after it are not.
            assert!(
                matches!(err, TrainError::NonFiniteWeights { epoch: 2, .. }),
                "{err}"
            );
        }
        assert_eq!(std::fs::read(&path).unwrap(), after_epoch_1);
        let mut restored = Cpu::default().build_module::<Mlp, f32>();
        load_checkpoint(&mut restored, &path).unwrap();
        assert_eq!(restored.0.weight.array(), good.0.weight.array());
    }
}

#[test]
fn a_best_only_checkpoint_saves_improving_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("best.safetensors");
    let data = blobs(60, 13);
    let mut model = Cpu::seed_from_u64(0).build_module::<Mlp, f32>();
    let opt = adam(&model, 1e-2);
    let history = Trainer::new(&mut model, opt)
        .input::<Rank1<4>>()
        .validation_split(0.25)
        .epochs(3)
        .checkpoint(ModelCheckpoint::best(&path, Monitor::ValLoss))
        .verbose(false)
        .fit(&data)
        .unwrap();
    // Loss keeps falling on this easy set, so the last epoch is the best one.
    let val: Vec<f64> = history
        .epochs
        .iter()
        .map(|e| e.validation.unwrap().loss)
        .collect();
    assert!(val[2] < val[1] && val[1] < val[0], "{val:?}");
    let mut saved = Cpu::default().build_module::<Mlp, f32>();
    load_checkpoint(&mut saved, &path).unwrap();
    assert_eq!(saved.2.weight.array(), model.2.weight.array());
    assert_eq!(tensor_specs(&saved).len(), 4);
}
