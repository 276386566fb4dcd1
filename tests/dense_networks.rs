//! Networks of the layers that need no image kernels: built, run batched and unbatched,
//! trained with dfdx's optimizers, and summarised from the type.

use typenet::prelude::*;

type Mlp = network![Input<6>, Dense<8, activation = relu>, Dropout<0.5>, Dense<3>, Softmax];
type SeqDense = network![Input<5, 4>, Dense<3>, Tanh, Flatten, Dense<2>];

#[test]
fn an_mlp_runs_unbatched_batched_and_with_a_runtime_batch() {
    let dev: Cpu = Default::default();
    let net = dev.build_module::<Mlp, f32>();
    let one: Tensor<Rank1<3>, f32, _> = net.forward(dev.sample_normal::<Rank1<6>>());
    let many: Tensor<Rank2<7, 3>, f32, _> = net.forward(dev.sample_normal::<Rank2<7, 6>>());
    let x: Tensor<(usize, Const<6>), f32, _> = dev.sample_normal_like(&(5, Const));
    let runtime: Tensor<(usize, Const<3>), f32, _> = net.forward(x);
    assert_eq!(runtime.shape().0, 5);
    // softmax rows sum to one
    for row in many.array() {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    assert!((one.array().iter().sum::<f32>() - 1.0).abs() < 1e-5);
}

#[test]
fn dense_on_a_sequence_applies_per_step_then_flattens() {
    let dev: Cpu = Default::default();
    let net = dev.build_module::<SeqDense, f64>();
    let x: Tensor<Rank3<2, 5, 4>, f64, _> = dev.sample_normal();
    let y: Tensor<Rank2<2, 2>, f64, _> = net.forward(x.clone());
    // the first Dense is the same at every step: compare with dfdx's Linear on one step
    let first = &net.head.head;
    let step0: Tensor<Rank1<3>, f64, _> =
        first.forward(x.clone().select(dev.tensor(0)).select(dev.tensor(1)));
    let all = first.forward(x.clone());
    let from_all = all.select(dev.tensor(0)).select(dev.tensor(1));
    assert_eq!(step0.array(), from_all.array());
    assert_eq!(y.shape(), &(Const::<2>, Const::<2>));
}

#[test]
fn a_network_trains_with_dfdx_adam() {
    let dev: Cpu = Cpu::seed_from_u64(0);
    let mut net =
        dev.build_module::<network![Input<2>, Dense<16, activation = tanh>, Dense<1>], f64>();
    let mut opt = Adam::new(
        &net,
        AdamConfig {
            lr: 1e-2,
            ..Default::default()
        },
    );
    // y = x0 - 2 x1
    let x: Tensor<Rank2<32, 2>, f64, _> = dev.sample_normal();
    let xs = x.array();
    let y = dev.tensor(xs.map(|r| [r[0] - 2.0 * r[1]]));
    let mut grads = net.alloc_grads();
    let mut losses = Vec::new();
    for _ in 0..200 {
        let pred = net.forward_mut(x.trace(grads));
        let loss = mse_loss(pred, y.clone());
        losses.push(loss.array());
        grads = loss.backward();
        opt.update(&mut net, &grads).unwrap();
        net.zero_grads(&mut grads);
    }
    assert!(
        losses[199] < losses[0] / 50.0,
        "{} -> {}",
        losses[0],
        losses[199]
    );
}

#[test]
fn the_summary_comes_from_the_type() {
    assert_eq!(<Mlp as Network>::PARAMS, 6 * 8 + 8 + 8 * 3 + 3);
    let summary = Mlp::summary();
    let names: Vec<&str> = summary.rows.iter().map(|r| r.name).collect();
    assert_eq!(names, ["Dense", "ReLU", "Dropout", "Dense", "Softmax"]);
    // numbered as written: the `activation = relu` option shares its Dense's number
    let labels: Vec<&str> = summary.rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["1", "1", "2", "3", "4"]);
    assert_eq!(
        summary.output_shapes(),
        vec![vec![8], vec![8], vec![8], vec![3], vec![3]]
    );
    assert_eq!(Mlp::FLOPS, 2 * 6 * 8 + 8 + 2 * 8 * 3 + 4 * 3);
    let shown = summary.to_string();
    assert!(shown.contains("Total params: 83"), "{shown}");
    assert!(shown.contains("\n3      Dense          (B, 3)"), "{shown}");
    assert_eq!(SeqDense::summary().output_shapes()[0], vec![5, 3]);
}

#[test]
fn flatten_passes_a_vector_through_as_keras_does() {
    type WithFlatten = network![Input<6>, Flatten, Dense<3>];
    type Without = network![Input<6>, Dense<3>];
    let summary = WithFlatten::summary();
    let names: Vec<&str> = summary.rows.iter().map(|r| r.name).collect();
    assert_eq!(names, ["Flatten", "Dense"]);
    // its row shows the vector it passes on
    assert_eq!(summary.rows[0].output, Some(&[6][..]));
    assert!(
        summary
            .to_string()
            .contains("\n1      Flatten        (B, 6)"),
        "{summary}"
    );
    assert_eq!(WithFlatten::PARAMS, Without::PARAMS);

    let dev: Cpu = Cpu::seed_from_u64(0);
    let with = dev.build_module::<WithFlatten, f32>();
    let mut without = dev.build_module::<Without, f32>();
    without.weight = with.tail.weight.clone();
    without.bias = with.tail.bias.clone();
    let x: Tensor<Rank2<4, 6>, f32, _> = dev.sample_normal();
    assert_eq!(
        with.forward(x.clone()).array(),
        without.forward(x.clone()).array()
    );
    let one: Tensor<Rank1<3>, f32, _> = with.forward(x.select(dev.tensor(0)));
    assert_eq!(one.array().len(), 3);
    // and the checkpoint names the Dense as layer 2, as written
    let names: Vec<String> = typenet::train::tensor_specs(&with)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["2.weight", "2.bias"]);
}
