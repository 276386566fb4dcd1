//! Networks over sequences: `Conv1D` and the 1-D pools in `network!`, from token ids
//! through an `Embedding` to a text classifier, with Keras's shapes and counts, gradients
//! checked by finite differences, a few training steps, and checkpoints by name.

mod common;

use common::{close, numeric};
use typenet::prelude::*;

/// The README's text CNN.
type TextCnn = network![
    Tokens<50>,
    Embedding<1000, 32>,
    Conv1D<64, 5, activation = relu>,
    GlobalMaxPool1D,
    Dense<2>
];

#[test]
fn the_text_cnn_has_keras_shapes_and_counts() {
    let summary = TextCnn::summary();
    // Keras: Embedding (50, 32) 32000, Conv1D (46, 64) 5*32*64 + 64 = 10304,
    // GlobalMaxPooling1D (64) 0, Dense (2) 130.
    assert_eq!(
        summary.output_shapes(),
        [vec![50, 32], vec![46, 64], vec![46, 64], vec![64], vec![2]]
    );
    let names: Vec<&str> = summary.rows.iter().map(|r| r.name).collect();
    assert_eq!(
        names,
        ["Embedding", "Conv1D", "ReLU", "GlobalMaxPool1D", "Dense"]
    );
    let params: Vec<usize> = summary.rows.iter().map(|r| r.params).collect();
    assert_eq!(params, [32000, 10304, 0, 0, 130]);
    let dev: Cpu = Default::default();
    let net = dev.build_module::<TextCnn, f32>();
    // (K, C, F): Keras's kernel layout
    assert_eq!(net.head.tail.weight.shape().concrete(), [5, 32, 64]);
}

/// Token ids of a toy task: label 1 if token 7 occurs, else 0.
fn toy_batch(
    dev: &Cpu,
) -> (
    Tensor<Rank2<8, 50>, usize, Cpu>,
    Tensor<Rank2<8, 2>, f32, Cpu>,
) {
    let mut ids = Vec::new();
    let mut labels = Vec::new();
    for i in 0..8 {
        let mut row: Vec<usize> = (0..50).map(|t| 10 + (i * 31 + t * 17) % 900).collect();
        if i % 2 == 1 {
            row[(i * 13) % 50] = 7;
        }
        labels.extend(if i % 2 == 1 { [0.0, 1.0] } else { [1.0, 0.0] });
        ids.extend(row);
    }
    (
        dev.tensor_from_vec(ids, Default::default()),
        dev.tensor_from_vec(labels, Default::default()),
    )
}

#[test]
fn the_text_cnn_trains() {
    let dev = Cpu::seed_from_u64(11);
    let mut net = dev.build_module::<TextCnn, f32>();
    let (ids, labels) = toy_batch(&dev);
    let loss = |net: &<TextCnn as BuildOnDevice<Cpu, f32>>::Built| {
        cross_entropy_with_logits_loss(net.forward(ids.clone()), labels.clone()).array()
    };
    let before = loss(&net);
    let mut opt = Adam::new(
        &net,
        AdamConfig {
            lr: 1e-2,
            ..Default::default()
        },
    );
    for _ in 0..15 {
        // Token ids carry the tape (of the float gradients) into the embedding.
        let anchor: Tensor<Rank0, f32, _> = dev.zeros();
        let (_, tape) = anchor.traced(net.alloc_grads()).split_tape();
        let logits = net.forward_mut(ids.clone().put_tape(tape));
        let grads = cross_entropy_with_logits_loss(logits, labels.clone()).backward();
        opt.update(&mut net, &grads).unwrap();
    }
    let after = loss(&net);
    assert!(after < 0.5 * before, "{before} -> {after}");
}

/// Every sequence layer and option in one network.
type SeqNet = network![
    Input<9, 3>,
    Conv1D<4, 3, padding = same, activation = tanh>,
    MaxPool1D<2>,
    Conv1D<2, 2, dilation = 2>,
    AvgPool1D<2, stride = 1, padding = same>,
    GlobalAvgPool1D,
    Dense<2>
];

fn loss(
    net: &<SeqNet as BuildOnDevice<Cpu, f64>>::Built,
    x: &Tensor<Rank3<2, 9, 3>, f64, Cpu>,
) -> f64 {
    net.forward(x.clone()).square().sum::<Rank0, _>().array()
}

#[test]
fn sequence_layers_have_keras_shapes_and_exact_gradients() {
    assert_eq!(
        SeqNet::summary().output_shapes(),
        [
            vec![9, 4],
            vec![9, 4],
            vec![4, 4],
            vec![2, 2],
            vec![2, 2],
            vec![2],
            vec![2]
        ]
    );
    let dev = Cpu::seed_from_u64(3);
    let mut net = dev.build_module::<SeqNet, f64>();
    let x: Tensor<Rank3<2, 9, 3>, f64, _> = dev.sample_normal();
    let grads = net
        .forward(x.clone().leaky_traced())
        .square()
        .sum::<Rank0, _>()
        .backward();
    let g_conv1 = grads.get(&net.head.head.weight).as_vec();
    let g_conv2 = grads.get(&net.tail.head.head.weight).as_vec();
    let g_x = grads.get(&x).as_vec();
    for i in [0, 7, 35] {
        let n = numeric(&mut net, |n| loss(n, &x), |n| &mut n.head.head.weight, i);
        close(n, g_conv1[i]);
    }
    for i in [0, 5, 15] {
        let n = numeric(
            &mut net,
            |n| loss(n, &x),
            |n| &mut n.tail.head.head.weight,
            i,
        );
        close(n, g_conv2[i]);
    }
    let mut input = x.clone();
    for i in [0, 13, 53] {
        close(numeric(&mut input, |x| loss(&net, x), |x| x, i), g_x[i]);
    }
}

#[test]
fn a_sample_alone_and_in_a_batch_agree() {
    let dev = Cpu::seed_from_u64(5);
    let net = dev.build_module::<SeqNet, f64>();
    let x: Tensor<Rank3<2, 9, 3>, f64, _> = dev.sample_normal();
    let batched = net.forward(x.clone()).as_vec();
    let one: Tensor<Rank2<9, 3>, f64, _> = x.clone().select(dev.tensor(1));
    for (a, b) in net.forward(one).as_vec().iter().zip(&batched[2..]) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

#[test]
fn sequence_layers_save_and_load_by_name() {
    let dir = std::env::temp_dir().join(format!("typenet-seq-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("seq.safetensors");
    let trained = Cpu::seed_from_u64(1).build_module::<SeqNet, f64>();
    save_checkpoint(&trained, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = file.names().into_iter().cloned().collect();
    names.sort();
    assert_eq!(
        names,
        ["1.bias", "1.weight", "3.bias", "3.weight", "6.bias", "6.weight"]
    );
    assert_eq!(file.tensor("1.weight").unwrap().shape().to_vec(), [3, 3, 4]);
    let mut fresh = Cpu::seed_from_u64(2).build_module::<SeqNet, f64>();
    load_checkpoint(&mut fresh, &path).unwrap();
    let x: Tensor<Rank2<9, 3>, f64, _> = Cpu::seed_from_u64(3).sample_normal();
    assert_eq!(
        fresh.forward(x.clone()).as_vec(),
        trained.forward(x).as_vec()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
