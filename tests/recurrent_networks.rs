//! Recurrent networks through `network!`: the seed's stacked LSTM, the CRNN with its inserted
//! image-to-sequence step, GRU/SimpleRNN/Bidirectional stacks, Embedding and masking.

use typenet::layers::{lengths_mask, Masked, SequencePadding};
use typenet::prelude::*;

type SeedLstm = network![Input<28, 28>, LSTM<64, return_sequences>, LSTM<64>, Dense<10>];
type Crnn = network![Input<1, 28, 28>, Conv2D<32, 3>, MaxPool<2>, LSTM<64>, Dense<10>];

#[test]
fn the_seed_lstm_has_keras_shapes_and_counts() {
    let summary = SeedLstm::summary();
    assert_eq!(
        summary.output_shapes(),
        vec![vec![28, 64], vec![64], vec![10]]
    );
    let params: Vec<usize> = summary.rows.iter().map(|r| r.params).collect();
    assert_eq!(params, [23_808, 33_024, 650]);

    let dev: Cpu = Cpu::seed_from_u64(0);
    let model = dev.build_module::<SeedLstm, f32>();
    assert_eq!(model.num_trainable_params(), 23_808 + 33_024 + 650);
    // the first LSTM alone: (B, 28, 64) batched, (28, 64) unbatched
    let x: Tensor<Rank3<4, 28, 28>, f32, _> = dev.sample_normal();
    let _: Tensor<Rank3<4, 28, 64>, f32, _> = model.head.forward(x.clone());
    let _: Tensor<Rank2<28, 64>, f32, _> = model.head.forward(dev.sample_normal::<Rank2<28, 28>>());
    let y: Tensor<Rank2<4, 10>, f32, _> = model.forward(x);
    assert!(y.array().iter().flatten().all(|v| v.is_finite()));
    let _: Tensor<Rank1<10>, f32, _> = model.forward(dev.sample_normal::<Rank2<28, 28>>());
    let model64 = dev.build_module::<SeedLstm, f64>();
    let _: Tensor<(usize, Const<10>), f64, _> =
        model64.forward(dev.sample_normal_like(&(3, Const::<28>, Const::<28>)));
}

#[test]
fn the_crnn_reads_width_as_time() {
    let summary = Crnn::summary();
    let names: Vec<&str> = summary.rows.iter().map(|r| r.name).collect();
    assert_eq!(names, ["Conv2D", "MaxPool", "ToSequence", "LSTM", "Dense"]);
    assert_eq!(summary.output_shapes()[2], vec![13, 32 * 13]);

    let dev: Cpu = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Crnn, f32>();
    let mut opt = Adam::new(&model, AdamConfig::default());
    let x: Tensor<Rank4<8, 1, 28, 28>, f32, _> = dev.sample_uniform();
    let y = dev.tensor(std::array::from_fn::<_, 8, _>(|i| {
        std::array::from_fn::<f32, 10, _>(|k| (k == i) as u8 as f32)
    }));
    let mut grads = model.alloc_grads();
    let mut losses = Vec::new();
    for _ in 0..10 {
        let loss = cross_entropy_with_logits_loss(model.forward_mut(x.trace(grads)), y.clone());
        losses.push(loss.array());
        grads = loss.backward();
        opt.update(&mut model, &grads).unwrap();
        model.zero_grads(&mut grads);
    }
    assert!(losses[9] < losses[0] - 0.1, "{losses:?}");
}

#[test]
fn gru_simple_rnn_and_bidirectional_stack() {
    type Net = network![
        Input<12, 5>,
        Bidirectional<GRU<8, return_sequences>>,
        SimpleRNN<6, return_sequences = true>,
        Bidirectional<LSTM<4>>,
        Dense<3>,
    ];
    let shapes = Net::summary().output_shapes();
    assert_eq!(shapes, vec![vec![12, 16], vec![12, 6], vec![8], vec![3]]);
    assert_eq!(
        Net::summary().rows[0].params,
        2 * 3 * (5 * 8 + 8 * 8 + 2 * 8)
    );
    let dev: Cpu = Default::default();
    let net = dev.build_module::<Net, f64>();
    let _: Tensor<Rank2<2, 3>, f64, _> = net.forward(dev.sample_normal::<Rank3<2, 12, 5>>());
}

#[test]
fn height_as_time_is_an_explicit_layer() {
    type Net = network![Input<2, 4, 6>, ToSequence<time = height>, GRU<3>];
    assert_eq!(Net::summary().output_shapes(), vec![vec![4, 12], vec![3]]);
    let dev: Cpu = Default::default();
    let _: Tensor<Rank2<5, 3>, f32, _> =
        dev.build_module::<Net, f32>()
            .forward(dev.zeros::<Rank4<5, 2, 4, 6>>());
}

#[test]
fn token_ids_through_an_embedding() {
    type Net = network![Tokens<7>, Embedding<50, 8>, LSTM<16>, Dense<2>];
    assert_eq!(Net::summary().rows[0].params, 50 * 8);
    assert_eq!(Net::summary().output_shapes()[0], vec![7, 8]);
    let dev: Cpu = Default::default();
    let net = dev.build_module::<Net, f32>();
    let ids: Tensor<Rank1<7>, usize, _> = dev.tensor([1, 4, 9, 49, 0, 3, 3]);
    let _: Tensor<Rank1<2>, f32, _> = net.forward(ids);
    let batch: Tensor<Rank2<3, 7>, usize, _> = dev.tensor([[1; 7], [2; 7], [3; 7]]);
    let _: Tensor<Rank2<3, 2>, f32, _> = net.forward(batch);
}

#[test]
fn a_mask_makes_padding_invisible_through_the_network() {
    type Net = network![Input<6, 3>, LSTM<5, return_sequences>, GRU<4>, Dense<2>];
    let dev: Cpu = Cpu::seed_from_u64(3);
    let net = dev.build_module::<Net, f64>();
    // two sequences of lengths 4 and 6, padded after; the first padded with garbage
    let x: Tensor<(usize, Const<6>, Const<3>), f64, _> = dev.sample_normal_like(&(2, Const, Const));
    let mask = lengths_mask::<f64, _>(&dev, &[4, 6], 6, SequencePadding::Post)
        .unwrap()
        .reshape_like(&(2, Const::<6>));
    let masked: Tensor<(usize, Const<2>), f64, _> =
        net.forward(Masked::new(x.clone(), mask.clone()).unwrap());
    // changing the padded steps changes nothing
    let mut values = x.as_vec();
    for v in &mut values[4 * 3..6 * 3] {
        *v = 1e3;
    }
    let x2 = dev.tensor_from_vec(values, (2, Const::<6>, Const::<3>));
    let again = net.forward(Masked::new(x2, mask).unwrap());
    assert_eq!(masked.as_vec(), again.as_vec());
    // and the first sequence's result is that of its 4 real steps alone
    let alone: Tensor<Rank1<2>, f64, _> = {
        type Short = network![Input<4, 3>, LSTM<5, return_sequences>, GRU<4>, Dense<2>];
        let short = dev.build_module::<Short, f64>();
        let mut short = short;
        short.head = net.head.clone();
        short.tail.head = net.tail.head.clone();
        short.tail.tail = net.tail.tail.clone();
        let first: Vec<f64> = x.as_vec()[..4 * 3].to_vec();
        short.forward(dev.tensor_from_vec(first, (Const::<4>, Const::<3>)))
    };
    for (a, b) in alone.as_vec().iter().zip(&masked.as_vec()[..2]) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}
