//! The shipped MNIST digits, end to end: read, train a small MLP, evaluate, write the
//! history as CSV and PNG, checkpoint.

use typenet::data::Mnist;
use typenet::dfdx::prelude::*;
use typenet::train::{
    load_checkpoint, Adam, AdamConfig, EarlyStopping, ModelCheckpoint, Monitor, Trainer, Verbosity,
};

#[test]
fn a_small_mlp_learns_the_shipped_digits() {
    let mnist = Mnist::shipped().unwrap();
    let (train, test) = (mnist.train.take(2_000), mnist.test.take(500));
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("mlp.safetensors");

    type Mlp = (Linear<784, 32>, ReLU, Linear<32, 10>);
    let mut model = Cpu::seed_from_u64(0).build_module::<Mlp, f32>();
    let adam = Adam::new(
        &model,
        AdamConfig {
            lr: 3e-3,
            ..Default::default()
        },
    );
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<Rank1<784>>() // 28x28 images, flattened
        .epochs(3)
        .batch_size(64)
        .validation_split(0.1)
        .early_stopping(EarlyStopping {
            monitor: Monitor::ValAccuracy,
            patience: 2,
            ..Default::default()
        })
        .checkpoint(ModelCheckpoint::best(&checkpoint, Monitor::ValAccuracy))
        .verbose(Verbosity::Lines);
    let history = trainer.fit(&train).unwrap();
    let test_metrics = trainer.evaluate(&test).unwrap();
    assert!(test_metrics.accuracy > 0.8, "{test_metrics:?}");
    assert!(history.epochs.last().unwrap().validation.unwrap().accuracy > 0.8);

    history.write_csv(dir.path().join("history.csv")).unwrap();
    history.plot_svg(dir.path().join("history.svg")).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("history.csv")).unwrap();
    assert_eq!(csv.lines().count(), history.epochs.len() + 1);
    assert!(std::fs::read_to_string(dir.path().join("history.svg"))
        .unwrap()
        .starts_with("<svg"));

    let mut restored = Cpu::seed_from_u64(1).build_module::<Mlp, f32>();
    load_checkpoint(&mut restored, &checkpoint).unwrap();
    let x = Cpu::default().tensor_from_vec(
        test.samples().as_slice().to_vec(),
        (test.len(), Const::<784>),
    );
    let predicted: Vec<usize> = restored
        .forward(x)
        .as_vec()
        .chunks(10)
        .map(|row| (0..10).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap())
        .collect();
    let correct = predicted
        .iter()
        .zip(test.labels())
        .filter(|(p, l)| p == l)
        .count();
    assert!(correct as f64 / test.len() as f64 > 0.8);
}
