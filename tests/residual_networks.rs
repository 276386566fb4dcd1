//! Residual blocks: the sum the hand-written computation gives, gradients through both
//! branches by finite differences, names by place in the block, and a residual CNN that trains.

mod common;

use common::{close, numeric};
use typenet::prelude::*;
use typenet::train::tensor_specs;

type Mlp = network![
    Input<4>,
    Residual<[Dense<4>, Tanh, Dense<4>]>,
    Residual<[Dense<3>], shortcut = [Dense<3>]>,
];

/// `x W^T + b`, row by row.
fn dense(x: &[Vec<f64>], w: &Tensor<(Const<3>, Const<4>), f64, Cpu>, b: &[f64]) -> Vec<Vec<f64>> {
    let w = w.array();
    x.iter()
        .map(|row| {
            (0..3)
                .map(|o| b[o] + (0..4).map(|i| w[o][i] * row[i]).sum::<f64>())
                .collect()
        })
        .collect()
}

fn dense4(x: &[Vec<f64>], w: &Tensor<Rank2<4, 4>, f64, Cpu>, b: &[f64]) -> Vec<Vec<f64>> {
    let w = w.array();
    x.iter()
        .map(|row| {
            (0..4)
                .map(|o| b[o] + (0..4).map(|i| w[o][i] * row[i]).sum::<f64>())
                .collect()
        })
        .collect()
}

fn add(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
    a.iter()
        .zip(b)
        .map(|(a, b)| a.iter().zip(b).map(|(a, b)| a + b).collect())
        .collect()
}

#[test]
fn residual_blocks_add_the_block_to_the_shortcut() {
    let dev = Cpu::seed_from_u64(3);
    let net = dev.build_module::<Mlp, f64>();
    let x: Tensor<Rank2<5, 4>, f64, _> = dev.sample_normal();
    let y = net.forward(x.clone()).array();

    // by hand: h = x + Dense(tanh(Dense(x))), y = Dense(h) + Dense'(h)
    let rows: Vec<Vec<f64>> = x.array().iter().map(|r| r.to_vec()).collect();
    let block = &net.head.block;
    let first = dense4(&rows, &block.head.weight, &block.head.bias.as_vec());
    let first: Vec<Vec<f64>> = first
        .iter()
        .map(|r| r.iter().map(|v| v.tanh()).collect())
        .collect();
    let last = &block.tail.tail;
    let h = add(&rows, &dense4(&first, &last.weight, &last.bias.as_vec()));
    let second = &net.tail;
    let by_hand = add(
        &dense(&h, &second.block.weight, &second.block.bias.as_vec()),
        &dense(&h, &second.shortcut.weight, &second.shortcut.bias.as_vec()),
    );
    for (row, expected) in y.iter().zip(&by_hand) {
        for (a, b) in row.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    // unbatched and run-time batches agree with the batch
    let one: Tensor<Rank1<3>, f64, _> = net.forward(x.clone().select(dev.tensor(2)));
    assert_eq!(one.array(), y[2]);
    let runtime: Tensor<(usize, Const<3>), f64, _> =
        net.forward(x.clone().reshape_like(&(5, Const::<4>)));
    assert_eq!(runtime.as_vec(), net.forward(x).as_vec());
}

type Built = <Mlp as BuildOnDevice<Cpu, f64>>::Built;

/// `sum(net(x)^2)`.
fn loss(net: &Built, x: &Tensor<Rank2<3, 4>, f64, Cpu>) -> f64 {
    net.forward(x.clone()).square().sum::<Rank0, _>().array()
}

/// Gradients of a loss with respect to a weight of the block, of the shortcut and to the
/// input (which reaches the loss through both branches), against central differences.
#[test]
fn gradients_flow_through_both_branches() {
    let dev = Cpu::seed_from_u64(4);
    let mut net = dev.build_module::<Mlp, f64>();
    let x: Tensor<Rank2<3, 4>, f64, _> = dev.sample_normal();

    // a leaky tape keeps every gradient, the input's included
    let grads = net
        .forward(x.clone().leaky_traced())
        .square()
        .sum()
        .backward();
    let g_block = grads.get(&net.head.block.head.weight).as_vec();
    let g_shortcut = grads.get(&net.tail.shortcut.weight).as_vec();
    let g_x = grads.get(&x).as_vec();

    close(
        numeric(
            &mut net,
            |n| loss(n, &x),
            |n| &mut n.head.block.head.weight,
            5,
        ),
        g_block[5],
    );
    close(
        numeric(
            &mut net,
            |n| loss(n, &x),
            |n| &mut n.tail.shortcut.weight,
            5,
        ),
        g_shortcut[5],
    );
    // the input: through the identity shortcut and the block
    let mut input = x.clone();
    close(numeric(&mut input, |x| loss(&net, x), |x| x, 6), g_x[6]);
}

type ResCnn = network![
    Input<1, 12, 12>,
    Conv2D<4, 3, padding = same>, ReLU,
    Residual<[Conv2D<4, 3, padding = same>, BatchNorm, ReLU, Conv2D<4, 3, padding = same>]>,
    ReLU,
    Residual<[Conv2D<8, 3, stride = 2, padding = same>, ReLU], shortcut = [Conv2D<8, 1, stride = 2>]>,
    GlobalAvgPool,
    Dense<3>,
];

#[test]
fn a_residual_cnn_names_its_tensors_by_place_and_trains() {
    let summary = ResCnn::summary();
    let rows: Vec<(&str, &str)> = summary
        .rows
        .iter()
        .map(|r| (r.label.as_str(), r.name))
        .collect();
    // the layers inside a block come before its row, numbered by place
    assert_eq!(
        rows,
        [
            ("1", "Conv2D"),
            ("2", "ReLU"),
            ("3.1", "Conv2D"),
            ("3.2", "BatchNorm"),
            ("3.3", "ReLU"),
            ("3.4", "Conv2D"),
            ("3", "Residual"),
            ("4", "ReLU"),
            ("5.1", "Conv2D"),
            ("5.2", "ReLU"),
            ("5.shortcut.1", "Conv2D"),
            ("5", "Residual"),
            ("6", "GlobalAvgPool"),
            ("7", "Dense")
        ]
    );
    assert_eq!(summary.output_shapes()[11], vec![8, 6, 6]);
    // the shortcut reads the block's input, not the block's output
    assert_eq!(summary.output_shapes()[10], vec![8, 6, 6]);
    assert_eq!(summary.rows[11].params, 0);
    // parameters: convs, the batch norm (4 per channel, as Keras counts), the projection
    let params =
        (4 * 9 + 4) + 2 * (4 * 4 * 9 + 4) + 4 * 4 + (8 * 4 * 9 + 8) + (8 * 4 + 8) + (8 * 3 + 3);
    assert_eq!(ResCnn::PARAMS, params);

    let dev = Cpu::seed_from_u64(5);
    let mut model = dev.build_module::<ResCnn, f32>();
    let names: Vec<String> = tensor_specs(&model).into_iter().map(|t| t.name).collect();
    for expected in [
        "1.weight",
        "3.1.weight",
        "3.2.scale",
        "3.4.bias",
        "5.1.weight",
        "5.shortcut.1.weight",
        "7.weight",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not in {names:?}"
        );
    }

    let x: Tensor<Rank4<6, 1, 12, 12>, f32, _> = dev.sample_normal();
    let labels = [0usize, 1, 2, 0, 1, 2];
    let mut targets = vec![0.0f32; 6 * 3];
    for (i, &l) in labels.iter().enumerate() {
        targets[i * 3 + l] = 1.0;
    }
    let targets = dev.tensor_from_vec(targets, (Const::<6>, Const::<3>));
    let mut adam = Adam::new(
        &model,
        AdamConfig {
            lr: 1e-2,
            ..Default::default()
        },
    );
    let mut grads = model.alloc_grads();
    let mut losses = Vec::new();
    for _ in 0..30 {
        let logits = model.forward_mut(x.clone().traced(grads));
        let loss = cross_entropy_with_logits_loss(logits, targets.clone());
        losses.push(loss.array());
        grads = loss.backward();
        adam.update(&mut model, &grads).unwrap();
        model.zero_grads(&mut grads);
    }
    assert!(losses[29] < 0.5 * losses[0], "{losses:?}");
}
