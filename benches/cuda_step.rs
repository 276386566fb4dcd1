//! The seed models on an NVIDIA GPU (`Cuda`), beside `python3 benches/pytorch_seed_cnn.py cuda`
//! on the same machine: inference at batch 1 and 64 and one training step (forward, backward,
//! Adam) at batch 64, as `benches/seed_cnn.rs` times them on the `Cpu`. Each figure is the
//! median of repeated runs, each ended by waiting for the GPU's queue.
//!
//! `cargo bench --features cuda --bench cuda_step` (needs a GPU; `scripts/cuda-gpu-run.sh` runs
//! the copy that `scripts/cuda-build.sh` builds).

mod seed_models;

use seed_models::{Crnn, SeedCnn, SeedLstm};
use std::time::Instant;
use typenet::prelude::*;

/// The median wall time of `run`, after `warmup` runs, each waited for on the GPU.
fn median_seconds(dev: &Cuda, repeats: usize, mut run: impl FnMut()) -> f64 {
    for _ in 0..5 {
        run();
    }
    dev.synchronize();
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            run();
            dev.synchronize();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[repeats / 2]
}

macro_rules! bench_model {
    ($dev:expr, $name:literal, $model:ty, [$($dim:literal),*]) => {{
        let dev: &Cuda = $dev;
        let mut model = dev.build_module::<$model, f32>();
        let one: Tensor<(Const<1>, $(Const<$dim>),*), f32, _> = dev.sample_uniform();
        let batch: Tensor<(Const<64>, $(Const<$dim>),*), f32, _> = dev.sample_uniform();
        let labels: [usize; 64] = std::array::from_fn(|i| i % 10);
        let targets = dev.tensor(labels.map(|l| std::array::from_fn::<f32, 10, _>(|k| (k == l) as u8 as f32)));
        let mut opt = Adam::new(&model, AdamConfig::default());
        let t1 = median_seconds(dev, 200, || drop(model.forward(one.clone())));
        let t64 = median_seconds(dev, 100, || drop(model.forward(batch.clone())));
        let mut spare = Some(model.alloc_grads());
        let tt = median_seconds(dev, 100, || {
            let logits = model.forward_mut(batch.trace(spare.take().unwrap()));
            let loss = cross_entropy_with_logits_loss(logits, targets.clone());
            let mut grads = loss.backward();
            opt.update(&mut model, &grads).expect("every parameter has a gradient");
            model.zero_grads(&mut grads);
            spare = Some(grads);
        });
        println!("{} (cuda)", $name);
        println!("  inference batch 1:   {:.3} ms", t1 * 1e3);
        println!("  inference batch 64:  {:.2} ms = {:.0} samples/s", t64 * 1e3, 64.0 / t64);
        println!("  train step batch 64: {:.2} ms = {:.0} samples/s", tt * 1e3, 64.0 / tt);
    }};
}

fn main() {
    let dev = match typenet::cuda::open_cuda(0, 0) {
        Ok(dev) => dev,
        Err(why) => {
            eprintln!("nothing to time: {why}");
            return;
        }
    };
    bench_model!(&dev, "seed_cnn", SeedCnn, [1, 28, 28]);
    bench_model!(&dev, "seed_lstm", SeedLstm, [28, 28]);
    bench_model!(&dev, "crnn", Crnn, [1, 28, 28]);
}
