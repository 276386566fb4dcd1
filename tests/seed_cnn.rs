//! The seed's CNN: shapes, Keras's parameter counts, batched/unbatched/runtime-batch forward
//! on f32 and f64, and a training step with dfdx's Adam.

#[path = "common/readme.rs"]
mod readme;

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

#[test]
fn parameter_counts_equal_keras() {
    let summary = MnistCnn::summary();
    let counted: Vec<usize> = summary
        .rows
        .iter()
        .map(|r| r.params)
        .filter(|&p| p > 0)
        .collect();
    // model.summary() of the seed's Keras model
    assert_eq!(counted, [320, 18_496, 36_928, 36_928, 650]);
    assert_eq!(MnistCnn::PARAMS, 93_322);
    let dev: Cpu = Default::default();
    assert_eq!(
        dev.build_module::<MnistCnn, f32>().num_trainable_params(),
        93_322
    );
}

#[test]
fn the_summary_lists_every_output_shape() {
    let shapes = MnistCnn::summary().output_shapes();
    let expected: Vec<Vec<usize>> = vec![
        vec![32, 26, 26],
        vec![32, 26, 26],
        vec![32, 13, 13],
        vec![64, 11, 11],
        vec![64, 11, 11],
        vec![64, 5, 5],
        vec![64, 3, 3],
        vec![64, 3, 3],
        vec![576],
        vec![64],
        vec![64],
        vec![10],
    ];
    assert_eq!(shapes, expected);
    // ~5.6 MFLOP per image forward (2 per multiply-add of its convolutions and Dense layers)
    assert!(
        (5_400_000..5_800_000).contains(&MnistCnn::FLOPS),
        "{}",
        MnistCnn::FLOPS
    );
}

/// The README's "Cost from the type" shows this network's summary.
#[test]
fn the_readme_shows_the_summary_as_printed() {
    readme::assert_readme_shows(&MnistCnn::summary().to_string(), "summary of the seed CNN");
}

#[test]
fn forward_on_every_batch_kind_and_dtype() {
    let dev: Cpu = Cpu::seed_from_u64(0);
    let model = dev.build_module::<MnistCnn, f32>();
    let one: Tensor<Rank3<1, 28, 28>, f32, _> = dev.sample_uniform();
    let logits: Tensor<Rank1<10>, f32, _> = model.forward(one.clone());
    let batch: Tensor<Rank4<2, 1, 28, 28>, f32, _> = one.clone().broadcast();
    let logits2: Tensor<Rank2<2, 10>, f32, _> = model.forward(batch);
    for row in logits2.array() {
        for (a, b) in row.iter().zip(logits.array()) {
            assert!((a - b).abs() < 1e-5);
        }
    }
    let runtime: Tensor<(usize, Const<1>, Const<28>, Const<28>), f32, _> =
        dev.sample_uniform_like(&(3, Const, Const, Const));
    let out: Tensor<(usize, Const<10>), f32, _> = model.forward(runtime);
    assert_eq!(out.shape().0, 3);

    let model64 = dev.build_module::<MnistCnn, f64>();
    let _: Tensor<Rank2<4, 10>, f64, _> =
        model64.forward(dev.sample_uniform::<Rank4<4, 1, 28, 28>>());
}

#[test]
fn adam_steps_reduce_the_loss_on_a_fixed_batch() {
    let dev: Cpu = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<MnistCnn, f32>();
    let mut opt = Adam::new(&model, AdamConfig::default());
    let x: Tensor<Rank4<16, 1, 28, 28>, f32, _> = dev.sample_uniform();
    let y = dev.tensor(std::array::from_fn::<_, 16, _>(|i| {
        std::array::from_fn::<f32, 10, _>(|k| (k == i % 10) as u8 as f32)
    }));
    let mut grads = model.alloc_grads();
    let mut losses = Vec::new();
    for _ in 0..15 {
        let loss = cross_entropy_with_logits_loss(model.forward_mut(x.trace(grads)), y.clone());
        losses.push(loss.array());
        grads = loss.backward();
        opt.update(&mut model, &grads).unwrap();
        model.zero_grads(&mut grads);
    }
    assert!(losses.iter().all(|l| l.is_finite()));
    assert!(losses[14] < losses[0] - 0.05, "{losses:?}");
}
