//! Augmentation in `fit`: what the transform sees, that its output is what trains, that
//! it reproduces from the seed, and that it leaves everything else about `fit` alone.

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use std::cell::RefCell;
use std::rc::Rc;
use typenet::data::augment::{AugmentError, GaussianNoise, RandomShift};
use typenet::data::{Dataset, Samples};
use typenet::dfdx::nn::tensor_collection::TensorCollection;
use typenet::prelude::*;
use typenet::train::{History, TrainError};

type Net = network![Input<1, 6, 6>, Conv2D<3, 3>, ReLU, Flatten, Dense<3>];

/// `n` 6x6 images whose class is the third of the image holding a bright pixel.
fn images(n: usize) -> Dataset {
    let mut rng = StdRng::seed_from_u64(1);
    let labels: Vec<usize> = (0..n).map(|i| i % 3).collect();
    let mut x = vec![0.0f32; n * 36];
    for (i, &c) in labels.iter().enumerate() {
        let (row, col) = (rng.gen_range(0..6), 2 * c + rng.gen_range(0..2));
        x[i * 36 + row * 6 + col] = 1.0;
        x[i * 36 + rng.gen_range(0..36)] += 0.3;
    }
    Dataset::new(Samples::new(x, vec![6, 6]).unwrap(), labels).unwrap()
}

/// The model's checkpoint: every weight's bits.
fn weights<M: TensorCollection<f32, Cpu>>(model: &M) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    save_checkpoint(model, &path).unwrap();
    std::fs::read(path).unwrap()
}

/// `history` without its timings, which differ run to run.
fn untimed(mut history: History) -> History {
    for epoch in &mut history.epochs {
        epoch.seconds = 0.0;
        epoch.samples_per_sec = 0.0;
    }
    history
}

/// A transform without state.
type Transform = fn(&mut [f32], &[usize], &mut dyn RngCore);

/// Trains a fresh `Net` on `data` with validation, a schedule and early stopping, and
/// the transform `augment` if any; returns the history and the weights.
fn fit_with(data: &Dataset, augment: Option<Transform>) -> (History, Vec<u8>) {
    let mut model = Cpu::seed_from_u64(0).build_module::<Net, f32>();
    let adam = Adam::new(&model, Default::default());
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<Rank3<1, 6, 6>>()
        .epochs(6)
        .batch_size(8)
        .seed(3)
        .validation_split(0.25)
        .lr_schedule(LrSchedule::ExponentialDecay { rate: 0.7 })
        .early_stopping(EarlyStopping {
            patience: 1,
            restore_best_weights: true,
            ..Default::default()
        })
        .verbose(false);
    if let Some(augment) = augment {
        trainer = trainer.augment(augment);
    }
    let history = untimed(trainer.fit(data).unwrap());
    (history, weights(&model))
}

#[test]
fn an_identity_transform_changes_nothing() {
    let data = images(60);
    let plain = fit_with(&data, None);
    assert!(plain.0.epochs.len() >= 2);
    assert_eq!(fit_with(&data, Some(|_, _, _| {})), plain);
}

#[test]
fn the_transformed_batch_is_what_trains() {
    // Inverting every batch trains as the inverted data set does, shuffled alike.
    let data = images(60);
    let invert: Transform = |batch, _, _| {
        batch.iter_mut().for_each(|v| *v = 1.0 - *v);
    };
    // Only the training part (the first 45) is inverted: validation sees the data as is.
    let mut x = data.samples().as_slice().to_vec();
    x[..45 * 36].iter_mut().for_each(|v| *v = 1.0 - *v);
    let inverted =
        Dataset::new(Samples::new(x, vec![6, 6]).unwrap(), data.labels().to_vec()).unwrap();
    let augmented = fit_with(&data, Some(invert));
    assert_eq!(augmented, fit_with(&inverted, None));
    assert_ne!(augmented, fit_with(&data, None));
}

/// What one run hands the transform: each batch's values, in order.
fn batches_seen(seed: u64, epochs: usize) -> Vec<Vec<f32>> {
    let data = images(40);
    let seen = Rc::new(RefCell::new(Vec::new()));
    let shift = RandomShift::new(1);
    let record = {
        let seen = seen.clone();
        move |batch: &mut [f32], shape: &[usize], rng: &mut dyn RngCore| {
            use typenet::data::augment::Augment;
            assert_eq!(shape, [6, 6]);
            shift.augment(batch, shape, rng);
            seen.borrow_mut().push(batch.to_vec());
        }
    };
    let mut model = Cpu::seed_from_u64(0).build_module::<Net, f32>();
    let adam = Adam::new(&model, Default::default());
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<Rank3<1, 6, 6>>()
        .epochs(epochs)
        .batch_size(10)
        .seed(seed)
        .validation_split(0.25)
        .augment(record)
        .verbose(false);
    trainer.fit(&data).unwrap();
    trainer.evaluate(&data).unwrap();
    trainer.predict::<3>(data.samples()).unwrap();
    let seen = seen.borrow().clone();
    seen
}

#[test]
fn augmented_batches_reproduce_from_the_seed_and_only_training_batches_are_augmented() {
    let run = batches_seen(5, 2);
    // 30 training samples in batches of 10, two epochs; the 10 validation samples, the
    // evaluation and the prediction are never handed over.
    assert_eq!(
        run.iter().map(|b| b.len() / 36).collect::<Vec<_>>(),
        [10; 6]
    );
    assert_eq!(batches_seen(5, 2), run, "one seed, the same batches");
    assert_ne!(batches_seen(6, 2), run, "another seed, other batches");
    // Epoch 2 sees the same 30 samples shifted otherwise: the sorted values of a sample
    // may repeat, but not the whole epoch's images.
    let epoch = |e: usize| run[3 * e..3 * e + 3].concat();
    let sum = |v: &[f32]| v.iter().sum::<f32>();
    assert_ne!(epoch(0), epoch(1));
    // A shift of at most one pixel loses at most an edge row and column of each image.
    assert!(sum(&epoch(0)) <= 30.0 * 1.3 + 1e-3);
}

#[test]
fn a_transform_that_cannot_take_the_samples_fails_before_any_update() {
    let data = images(20);
    let flat = Dataset::new(
        Samples::new(data.samples().as_slice().to_vec(), vec![36]).unwrap(),
        data.labels().to_vec(),
    )
    .unwrap();
    type Flat = network![Input<36>, Dense<3>];
    let mut model = Cpu::seed_from_u64(0).build_module::<Flat, f32>();
    let before = weights(&model);
    let adam = Adam::new(&model, Default::default());
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<Rank1<36>>()
        .augment(RandomShift::new(2))
        .verbose(false);
    let err = trainer.fit(&flat).unwrap_err();
    assert!(
        matches!(&err, TrainError::Augment(AugmentError::NotAnImage { transform: "RandomShift", shape }) if shape == &[36]),
        "{err}"
    );
    assert!(err.to_string().contains("RandomShift"), "{err}");
    let mut trainer = trainer.augment(GaussianNoise::new(-1.0));
    let err = trainer.fit(&flat).unwrap_err();
    assert!(
        matches!(err, TrainError::Augment(AugmentError::Setting { .. })),
        "{err}"
    );
    assert!(weights(&model) == before, "no update");
}
