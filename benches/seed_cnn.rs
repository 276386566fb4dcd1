//! The seed models on the `Cpu`, for the README's speed table. `benches/pytorch_seed_cnn.py`
//! times the same models, batch sizes, inputs and optimizer in PyTorch: run both in one
//! session and compare ratios, as the machines here are shared and noisy.
//!
//! `cargo bench --bench seed_cnn`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use typenet::prelude::*;

type SeedCnn = network![
    Input<1, 28, 28>,
    Conv2D<32, 3>, ReLU, MaxPool<2>,
    Conv2D<64, 3>, ReLU, MaxPool<2>,
    Conv2D<64, 3>, ReLU,
    Flatten,
    Dense<64>, ReLU,
    Dense<10>,
];

type SeedLstm = network![Input<28, 28>, LSTM<64, ReturnSequences>, LSTM<64>, Dense<10>];

type Crnn = network![Input<1, 28, 28>, Conv2D<32, 3>, MaxPool<2>, LSTM<64>, Dense<10>];

/// Benchmarks `$model` on inputs of shape `($batch, $($dim),*)`: inference at batch 1 and 64
/// and one training step (forward, backward, Adam) at batch 64. A macro rather than a
/// generic function because each model's input is a different concrete shape.
macro_rules! bench_model {
    ($c:expr, $name:literal, $model:ty, [$($dim:literal),*]) => {{
        let dev: Cpu = Cpu::seed_from_u64(0);
        let mut model = dev.build_module::<$model, f32>();
        let mut group = $c.benchmark_group($name);

        let one: Tensor<Rank4Or3!(1, $($dim),*), f32, _> = dev.sample_uniform();
        group.throughput(Throughput::Elements(1));
        group.bench_function("inference_batch_1", |b| b.iter(|| model.forward(one.clone())));

        let batch: Tensor<Rank4Or3!(64, $($dim),*), f32, _> = dev.sample_uniform();
        group.throughput(Throughput::Elements(64));
        group.bench_function("inference_batch_64", |b| b.iter(|| model.forward(batch.clone())));

        let labels: [usize; 64] = std::array::from_fn(|i| i % 10);
        let targets = dev.tensor(labels.map(|l| std::array::from_fn::<f32, 10, _>(|k| (k == l) as u8 as f32)));
        let mut opt = Adam::new(&model, AdamConfig::default());
        // Gradients move through the tape and come back from backward, as in a training loop.
        let mut spare = Some(model.alloc_grads());
        group.bench_function("train_step_batch_64", |b| {
            b.iter(|| {
                let logits = model.forward_mut(batch.trace(spare.take().unwrap()));
                let loss = cross_entropy_with_logits_loss(logits, targets.clone());
                let mut grads = loss.backward();
                opt.update(&mut model, &grads).expect("every parameter has a gradient");
                model.zero_grads(&mut grads);
                spare = Some(grads);
            })
        });
        group.finish();
    }};
}

/// `Rank4<..>` or `Rank3<..>`, by the number of dimensions given.
macro_rules! Rank4Or3 {
    ($a:literal, $b:literal, $c:literal, $d:literal) => { Rank4<$a, $b, $c, $d> };
    ($a:literal, $b:literal, $c:literal) => { Rank3<$a, $b, $c> };
}

fn seed_models(c: &mut Criterion) {
    bench_model!(c, "seed_cnn", SeedCnn, [1, 28, 28]);
    bench_model!(c, "seed_lstm", SeedLstm, [28, 28]);
    bench_model!(c, "crnn", Crnn, [1, 28, 28]);
}

criterion_group!(benches, seed_models);
criterion_main!(benches);
