//! Parallel branches and several inputs: each merge against the same computation by hand,
//! gradients through every branch by finite differences, names and summary rows by place,
//! batched and unbatched inputs.

mod common;
#[path = "common/readme.rs"]
mod readme;

use common::{close, numeric};
use typenet::prelude::*;
use typenet::train::tensor_specs;

/// An Inception-style block: a 1x1 conv, a 3x3 conv, a pool and the identity, side by side.
type Inception = network![
    Input<2, 5, 5>,
    Concat<
        [Conv2D<2, 1>],
        [Conv2D<3, 3, padding = same>, ReLU],
        [MaxPool<3, stride = 1, padding = same>],
        [],
    >,
    Flatten,
    Dense<3>,
];

type InceptionBuilt = <Inception as BuildOnDevice<Cpu, f64>>::Built;

#[test]
fn concat_puts_the_branches_channels_side_by_side() {
    let dev = Cpu::seed_from_u64(1);
    let net = dev.build_module::<Inception, f64>();
    let x: Tensor<Rank4<2, 2, 5, 5>, f64, _> = dev.sample_normal();
    let block = &net.head.0;
    let y = block.forward(x.clone()).array();
    let (b1, b2, b3) = (
        block.branches.0.forward(x.clone()).array(),
        block.branches.1.forward(x.clone()).array(),
        block.branches.2.forward(x.clone()).array(),
    );
    let input = x.array();
    for n in 0..2 {
        let channels: Vec<[[f64; 5]; 5]> = b1[n]
            .iter()
            .chain(&b2[n])
            .chain(&b3[n])
            .chain(&input[n])
            .copied()
            .collect();
        assert_eq!(channels.len(), 9);
        assert_eq!(y[n].to_vec(), channels, "sample {n}");
    }

    // a lone sample and a run-time batch give the same values
    let one: Tensor<Rank1<3>, f64, _> = net.forward(x.clone().select(dev.tensor(1)));
    let batch = net.forward(x.clone()).array();
    assert_eq!(one.array(), batch[1]);
    let runtime: Tensor<(usize, Const<3>), f64, _> =
        net.forward(x.clone().reshape_like(&(2, Const, Const, Const)));
    assert_eq!(runtime.as_vec(), net.forward(x).as_vec());
    // and an empty batch is empty
    let none: Tensor<(usize, Const<3>), f64, _> =
        net.forward(dev.zeros_like(&(0, Const::<2>, Const::<5>, Const::<5>)));
    assert_eq!(none.shape().0, 0);
}

#[test]
fn gradients_reach_every_branch_and_the_shared_input() {
    let dev = Cpu::seed_from_u64(2);
    let mut net = dev.build_module::<Inception, f64>();
    let x: Tensor<Rank4<2, 2, 5, 5>, f64, _> = dev.sample_normal();
    let grads = net
        .forward(x.clone().leaky_traced())
        .square()
        .sum()
        .backward();
    let g_first = grads.get(&net.head.0.branches.0.weight).as_vec();
    let g_second = grads.get(&net.head.0.branches.1.head.weight).as_vec();
    let g_x = grads.get(&x).as_vec();

    let loss = |x: &Tensor<Rank4<2, 2, 5, 5>, f64, Cpu>| {
        let x = x.clone();
        move |net: &InceptionBuilt| net.forward(x.clone()).square().sum::<Rank0, _>().array()
    };
    close(
        numeric(&mut net, loss(&x), |n| &mut n.head.0.branches.0.weight, 1),
        g_first[1],
    );
    close(
        numeric(
            &mut net,
            loss(&x),
            |n| &mut n.head.0.branches.1.head.weight,
            7,
        ),
        g_second[7],
    );
    // the input reaches the loss through all four branches
    for at in [0, 13, 37] {
        let mut input = x.clone();
        close(numeric(&mut input, |x| loss(x)(&net), |x| x, at), g_x[at]);
    }
}

macro_rules! elementwise {
    ($name:ident, $Kind:ident, $merge:expr) => {
        #[test]
        fn $name() {
    type Net = network![Input<2>, $Kind<[Dense<2>], [Dense<2>, Tanh], []>];
            let dev = Cpu::seed_from_u64(3);
            let mut net = dev.build_module::<Net, f64>();
            let x: Tensor<Rank2<4, 2>, f64, _> = dev.sample_normal();

            // by hand, from each branch's own output
            let a = net.0.branches.0.forward(x.clone()).array();
            let b = net.0.branches.1.forward(x.clone()).array();
            let c = x.array();
            let y = net.forward(x.clone()).array();
            let merge: fn(f64, f64, f64) -> f64 = $merge;
            for n in 0..4 {
                for i in 0..2 {
                    let expected = merge(a[n][i], b[n][i], c[n][i]);
                    assert!(
                        (y[n][i] - expected).abs() < 1e-12,
                        "{} vs {expected}",
                        y[n][i]
                    );
                }
            }

            let grads = net
                .forward(x.clone().leaky_traced())
                .square()
                .sum()
                .backward();
            let g_w = grads.get(&net.0.branches.1.head.weight).as_vec();
            let g_x = grads.get(&x).as_vec();
            let loss = |x: &Tensor<Rank2<4, 2>, f64, Cpu>| {
                let x = x.clone();
                move |net: &<Net as BuildOnDevice<Cpu, f64>>::Built| {
                    net.forward(x.clone()).square().sum::<Rank0, _>().array()
                }
            };
            close(
                numeric(&mut net, loss(&x), |n| &mut n.0.branches.1.head.weight, 3),
                g_w[3],
            );
            for at in [0, 5] {
                let mut input = x.clone();
                close(numeric(&mut input, |x| loss(x)(&net), |x| x, at), g_x[at]);
            }
        }
    };
}

elementwise!(add_sums_the_branches, Add, |a, b, c| a + b + c);
elementwise!(multiply_multiplies_them, Multiply, |a, b, c| a * b * c);
elementwise!(average_is_their_mean, Average, |a, b, c| (a + b + c) / 3.0);
elementwise!(maximum_takes_the_largest, Maximum, |a, b, c| a
    .max(b)
    .max(c));

#[test]
fn sequences_concatenate_their_features_step_by_step() {
    type Net = network![Input<3, 2>, Concat<[Dense<4>], [LSTM<1, return_sequences>]>];
    let dev = Cpu::seed_from_u64(4);
    let net = dev.build_module::<Net, f64>();
    let x: Tensor<Rank3<2, 3, 2>, f64, _> = dev.sample_normal();
    let a = net.0.branches.0.forward(x.clone()).array();
    let b = net.0.branches.1.forward(x.clone()).array();
    let y: [[[f64; 5]; 3]; 2] = net.forward(x).array();
    for n in 0..2 {
        for t in 0..3 {
            let expected: Vec<f64> = a[n][t].iter().chain(&b[n][t]).copied().collect();
            assert_eq!(y[n][t].to_vec(), expected);
        }
    }
}

#[test]
fn branch_layers_are_named_and_summarised_by_place() {
    let summary = Inception::summary();
    // The README shows this summary.
    readme::assert_readme_shows(&summary.to_string(), "summary of a branch network");
    let labels: Vec<&str> = summary.rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["1.1.1", "1.2.1", "1.2.2", "1.3.1", "1", "2", "3"]);
    assert_eq!(
        summary.output_shapes(),
        vec![
            vec![2, 5, 5],
            vec![3, 5, 5],
            vec![3, 5, 5],
            vec![2, 5, 5],
            vec![9, 5, 5],
            vec![225],
            vec![3]
        ]
    );
    // the block's row holds no parameters of its own; the column adds up to the total
    let params: usize = summary.rows.iter().map(|r| r.params).sum();
    assert_eq!(params, Inception::PARAMS);
    assert_eq!(summary.rows[4].params, 0);
    assert_eq!(
        Inception::PARAMS,
        (2 * 2 + 2) + (3 * 2 * 9 + 3) + (225 * 3 + 3)
    );
    let shown = summary.to_string();
    assert!(shown.contains("1.2.1  Conv2D"), "{shown}");

    let dev: Cpu = Default::default();
    let net = dev.build_module::<Inception, f32>();
    let names: Vec<String> = tensor_specs(&net).into_iter().map(|t| t.name).collect();
    assert_eq!(
        names,
        [
            "1.1.1.weight",
            "1.1.1.bias",
            "1.2.1.weight",
            "1.2.1.bias",
            "3.weight",
            "3.bias"
        ]
    );
}

/// An image and a sentence, each with its own branch, joined and classified.
type Multimodal = network![
    Concat<
        [Input<1, 6, 6>, Conv2D<2, 3>, ReLU, Flatten],
        [Tokens<4>, Embedding<5, 3>, GRU<4>],
    >,
    Dense<2>,
];

type MultimodalBuilt = <Multimodal as BuildOnDevice<Cpu, f64>>::Built;

fn pair(
    dev: &Cpu,
) -> (
    Tensor<Rank4<3, 1, 6, 6>, f64, Cpu>,
    Tensor<Rank2<3, 4>, usize, Cpu>,
) {
    let tokens = dev.tensor([[0, 1, 2, 3], [4, 4, 0, 1], [2, 2, 2, 2]]);
    (dev.sample_normal(), tokens)
}

#[test]
fn several_inputs_each_feed_their_branch() {
    let dev = Cpu::seed_from_u64(5);
    let net = dev.build_module::<Multimodal, f64>();
    let (image, tokens) = pair(&dev);
    let block = &net.head.0;
    let a = block.branches.0.forward(image.clone()).array();
    let b = block.branches.1.forward(tokens.clone()).array();
    let joined = block.forward((image.clone(), tokens.clone())).array();
    for n in 0..3 {
        let expected: Vec<f64> = a[n].iter().chain(&b[n]).copied().collect();
        assert_eq!(joined[n].to_vec(), expected);
    }

    // one sample of each, and run-time batches, agree with the batch
    let y = net.forward((image.clone(), tokens.clone())).array();
    let one: Tensor<Rank1<2>, f64, _> = net.forward((
        image.clone().select(dev.tensor(2)),
        tokens.clone().select(dev.tensor(2)),
    ));
    assert_eq!(one.array(), y[2]);
    let runtime: Tensor<(usize, Const<2>), f64, _> = net.forward((
        image.clone().reshape_like(&(3, Const, Const, Const)),
        tokens.clone().reshape_like(&(3, Const)),
    ));
    assert_eq!(runtime.as_vec(), net.forward((image, tokens)).as_vec());

    let names: Vec<String> = tensor_specs(&net).into_iter().map(|t| t.name).collect();
    for expected in ["1.1.1.weight", "1.2.1.weight", "1.2.2.", "2.weight"] {
        assert!(
            names.iter().any(|n| n.starts_with(expected)),
            "{expected} in {names:?}"
        );
    }
    let labels: Vec<String> = Multimodal::summary()
        .rows
        .into_iter()
        .map(|r| r.label)
        .collect();
    assert_eq!(
        labels,
        ["1.1.1", "1.1.2", "1.1.3", "1.2.1", "1.2.2", "1", "2"]
    );
}

#[test]
#[should_panic(expected = "every input needs the same number, one per example")]
fn inputs_of_different_batch_sizes_are_refused() {
    let dev: Cpu = Default::default();
    let net = dev.build_module::<Multimodal, f32>();
    let image: Tensor<(usize, Const<1>, Const<6>, Const<6>), f32, _> =
        dev.zeros_like(&(3, Const, Const, Const));
    let tokens: Tensor<(usize, Const<4>), usize, _> = dev.zeros_like(&(2, Const));
    let _ = net.forward((image, tokens));
}

#[test]
fn a_tape_on_either_input_trains_both_branches() {
    let dev = Cpu::seed_from_u64(6);
    let mut net = dev.build_module::<Multimodal, f64>();
    let (image, tokens) = pair(&dev);
    let loss = |image: Tensor<Rank4<3, 1, 6, 6>, f64, Cpu>| {
        let tokens = tokens.clone();
        move |net: &MultimodalBuilt| {
            net.forward((image.clone(), tokens.clone()))
                .square()
                .sum::<Rank0, _>()
                .array()
        }
    };

    // the image carries the tape; the embedding of the tokens still gets its gradient
    let grads = net
        .forward((image.clone().traced(net.alloc_grads()), tokens.clone()))
        .square()
        .sum()
        .backward();
    let g_conv = grads.get(&net.head.0.branches.0.head.weight).as_vec();
    let g_embedding = grads.get(&net.head.0.branches.1.head.weight).as_vec();
    close(
        numeric(
            &mut net,
            loss(image.clone()),
            |n| &mut n.head.0.branches.0.head.weight,
            4,
        ),
        g_conv[4],
    );
    // token 2 appears in the batch, so its row of the table matters
    close(
        numeric(
            &mut net,
            loss(image.clone()),
            |n| &mut n.head.0.branches.1.head.weight,
            2 * 3 + 1,
        ),
        g_embedding[2 * 3 + 1],
    );

    // and the tape can ride on the tokens instead: the same gradients
    let anchor: Tensor<Rank0, f64, _> = dev.zeros();
    let (_, tape) = anchor.traced(net.alloc_grads()).split_tape();
    let grads = net
        .forward((image.clone(), tokens.clone().put_tape(tape)))
        .square()
        .sum()
        .backward();
    assert_eq!(
        grads.get(&net.head.0.branches.0.head.weight).as_vec(),
        g_conv
    );

    // a few steps of SGD lower the loss
    let mut sgd = Sgd::new(
        &net,
        SgdConfig {
            lr: 0.01,
            ..Default::default()
        },
    );
    let before = loss(image.clone())(&net);
    for _ in 0..20 {
        let grads = net
            .forward_mut((image.clone().traced(net.alloc_grads()), tokens.clone()))
            .square()
            .sum()
            .backward();
        sgd.update(&mut net, &grads).unwrap();
    }
    let after = loss(image)(&net);
    assert!(after < 0.5 * before, "{before} -> {after}");
}

#[test]
fn a_network_with_several_inputs_saves_and_loads_by_name() {
    let dir = std::env::temp_dir().join(format!("typenet-branches-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("multimodal.safetensors");
    let dev = Cpu::seed_from_u64(7);
    let (image, tokens) = pair(&dev);
    let trained = dev.build_module::<Multimodal, f64>();
    typenet::train::save_checkpoint(&trained, &path).unwrap();

    let mut fresh = Cpu::seed_from_u64(8).build_module::<Multimodal, f64>();
    let before = fresh.forward((image.clone(), tokens.clone())).as_vec();
    assert_ne!(
        before,
        trained.forward((image.clone(), tokens.clone())).as_vec()
    );
    typenet::train::load_checkpoint(&mut fresh, &path).unwrap();
    assert_eq!(
        fresh.forward((image.clone(), tokens.clone())).as_vec(),
        trained.forward((image, tokens)).as_vec()
    );

    // a checkpoint of another network says which tensor does not fit
    let mut other = dev.build_module::<Inception, f64>();
    let error = typenet::train::load_checkpoint(&mut other, &path).unwrap_err();
    assert!(
        error.to_string().ends_with(
            "layer 1.1.1's weight is (2, 2, 1, 1) in the model but (2, 1, 3, 3) in the checkpoint"
        ),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_merge_costs_its_branches_and_the_merge_itself() {
    type Merged = network![Input<2>, Add<[Dense<2>], [Dense<2>, Tanh], []>];
    type First = network![Input<2>, Dense<2>];
    type Second = network![Input<2>, Dense<2>, Tanh];
    // the branches, and one addition per output value for each branch after the first
    assert_eq!(Merged::FLOPS, First::FLOPS + Second::FLOPS + 2 * 2);
    assert_eq!(Merged::PARAMS, First::PARAMS + Second::PARAMS);
    // every branch's outputs, and the merged output
    assert_eq!(
        Merged::ACTIVATIONS,
        First::ACTIVATIONS + Second::ACTIVATIONS + 2
    );
    type Joined = network![Input<3>, Concat<[Dense<4>], []>];
    assert_eq!(Joined::FLOPS, <network![Input<3>, Dense<4>]>::FLOPS);
    assert_eq!(Joined::summary().output_shapes().last(), Some(&vec![7]));
}
