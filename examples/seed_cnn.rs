//! The seed's CNN as a type: its shapes and parameter counts, then one training step.
//!
//! `cargo run --release --example seed_cnn`

use std::time::Instant;
use typenet::prelude::*;

type MnistCnn = network![
    Input<1, 28, 28>,
    Conv2D<32, 3>, ReLU, MaxPool<2>,
    Conv2D<64, 3>, ReLU, MaxPool<2>,
    Conv2D<64, 3>, ReLU,
    Flatten,
    Dense<64>, ReLU,
    Dense<10>,
];

fn main() {
    // Known before anything is built, from the type alone.
    println!("{}\n", MnistCnn::summary());

    let dev: Cpu = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<MnistCnn, f32>();
    println!(
        "built on the CPU: {} trainable parameters",
        model.num_trainable_params()
    );

    let mut opt = Adam::new(&model, AdamConfig::default());
    let images: Tensor<Rank4<64, 1, 28, 28>, f32, _> = dev.sample_uniform();
    let labels: [usize; 64] = std::array::from_fn(|i| i % 10);
    let targets =
        dev.tensor(labels.map(|l| std::array::from_fn::<f32, 10, _>(|k| (k == l) as u8 as f32)));

    let mut grads = model.alloc_grads();
    for step in 1..=3 {
        let start = Instant::now();
        let logits = model.forward_mut(images.trace(grads));
        let loss = cross_entropy_with_logits_loss(logits, targets.clone());
        let loss_value = loss.array();
        grads = loss.backward();
        opt.update(&mut model, &grads)
            .expect("every parameter has a gradient");
        model.zero_grads(&mut grads);
        println!(
            "step {step}: loss {loss_value:.4}, forward + backward + Adam on a batch of 64 in {:.1} ms",
            start.elapsed().as_secs_f64() * 1e3
        );
    }
}
