//! The recurrent layers: parameter counts, initialisation, loaders, output selection,
//! bidirectional concatenation, masks through a stack, and training.

use dfdx::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

use super::*;
use crate::layers::masked::{lengths_mask, Masked, SequencePadding};

fn random(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen_range(-0.8..0.8)).collect()
}

fn assert_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * x.abs().max(y.abs()).max(1.0),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

#[test]
fn parameter_counts_match_keras() {
    let dev: Cpu = Default::default();
    assert_eq!(
        dev.build_module::<LSTM<28, 64, false>, f32>()
            .num_trainable_params(),
        23_808
    );
    assert_eq!(
        dev.build_module::<LSTM<64, 64, true>, f32>()
            .num_trainable_params(),
        33_024
    );
    assert_eq!(
        dev.build_module::<GRU<28, 64, false>, f32>()
            .num_trainable_params(),
        18_048
    );
    assert_eq!(
        dev.build_module::<SimpleRNN<28, 64, false>, f32>()
            .num_trainable_params(),
        5_952
    );
    let bi = dev.build_module::<Bidirectional<GRU<28, 64, true>, 128>, f32>();
    assert_eq!(bi.num_trainable_params(), 2 * 18_048);
}

#[test]
fn initialisation_follows_keras() {
    let dev = Cpu::seed_from_u64(3);
    let lstm = dev.build_module::<LSTM<28, 64, false>, f64>();
    // unit_forget_bias: the forget gate's bias is 1, the others 0.
    let bias = lstm.bias.array();
    assert!(bias[1].iter().all(|&b| b == 1.0));
    assert!([0, 2, 3].iter().all(|&g| bias[g].iter().all(|&b| b == 0.0)));
    // Glorot-uniform input kernel: within sqrt(6 / (F + 4U)) and spread over it.
    let limit = (6.0f64 / (28.0 + 256.0)).sqrt();
    let w = lstm.w_ih.as_vec();
    assert!(w.iter().all(|v| v.abs() <= limit));
    assert!(w.iter().fold(0.0f64, |m, v| m.max(v.abs())) > 0.9 * limit);
    // Orthogonal recurrent kernel: the (4U x U) matrix has orthonormal columns.
    let r = lstm.w_hh.as_vec();
    for i in 0..64 {
        for j in 0..64 {
            let dot: f64 = (0..256).map(|k| r[k * 64 + i] * r[k * 64 + j]).sum();
            let expected = if i == j { 1.0 } else { 0.0 };
            assert!((dot - expected).abs() < 1e-10, "R^T R [{i}, {j}] = {dot}");
        }
    }
    let gru = dev.build_module::<GRU<5, 3, true>, f64>();
    assert!(gru
        .bias
        .as_vec()
        .iter()
        .chain(&gru.recurrent_bias.as_vec())
        .all(|&b| b == 0.0));
    // Two modules built from one device differ.
    let other = dev.build_module::<LSTM<28, 64, false>, f64>();
    assert_ne!(other.w_hh.as_vec(), r);
}

/// Transposes PyTorch's `(G*U, n)` into Keras's `(n, G*U)`, putting our gate `g` at Keras's
/// position `keras_gate[g]`.
fn to_keras(m: &[f64], n: usize, units: usize, keras_gate: &[usize]) -> Vec<f64> {
    let gu = keras_gate.len() * units;
    let mut out = vec![f64::NAN; n * gu];
    for (g, &kg) in keras_gate.iter().enumerate() {
        for u in 0..units {
            for k in 0..n {
                out[k * gu + kg * units + u] = m[(g * units + u) * n + k];
            }
        }
    }
    out
}

fn bias_to_keras(v: &[f64], units: usize, keras_gate: &[usize]) -> Vec<f64> {
    to_keras(v, 1, units, keras_gate)
}

#[test]
fn lstm_loaders_agree() {
    let dev: Cpu = Default::default();
    let (w_ih, w_hh, b_ih, b_hh) = (
        random(4 * 4 * 3, 1),
        random(4 * 4 * 4, 2),
        random(16, 3),
        random(16, 4),
    );
    let mut a = dev.build_module::<LSTM<3, 4, true>, f64>();
    a.load_pytorch(&w_ih, &w_hh, &b_ih, &b_hh).unwrap();
    assert_eq!(a.w_ih.as_vec(), w_ih);
    assert_close(
        &a.bias.as_vec(),
        &b_ih
            .iter()
            .zip(&b_hh)
            .map(|(x, y)| x + y)
            .collect::<Vec<_>>(),
        0.0,
        "bias",
    );
    let mut b = dev.build_module::<LSTM<3, 4, true>, f64>();
    let order = [0, 1, 2, 3]; // Keras i, f, c, o is PyTorch's i, f, g, o
    let bias: Vec<f64> = b_ih.iter().zip(&b_hh).map(|(x, y)| x + y).collect();
    b.load_keras(
        &to_keras(&w_ih, 3, 4, &order),
        &to_keras(&w_hh, 4, 4, &order),
        &bias_to_keras(&bias, 4, &order),
    )
    .unwrap();
    let x: Tensor<Rank3<2, 5, 3>, f64, _> = dev.sample_normal();
    assert_eq!(a.forward(x.clone()).as_vec(), b.forward(x).as_vec());
    // Wrong lengths are refused, naming the array.
    let err = b.load_keras(&w_ih[1..], &w_hh, &bias).unwrap_err();
    assert_eq!(
        err,
        ShapeError {
            what: "LSTM kernel",
            expected: 48,
            found: 47
        }
    );
}

#[test]
fn gru_keras_gate_order_is_mapped() {
    // The weights and expected outputs of ops::recurrent's gru_known_values (PyTorch layout,
    // figures from a plain-Python transcription of PyTorch's GRU equations), written the way
    // Keras stores them: transposed, gates z, r, h, bias rows (input, recurrent).
    let w_ih = [
        0.3, -0.1, 0.2, 0.4, -0.2, 0.1, 0.5, -0.3, 0.4, 0.2, -0.1, 0.6,
    ];
    let w_hh = [
        0.1, 0.2, -0.3, 0.1, 0.2, 0.2, 0.0, -0.4, 0.5, -0.2, 0.3, 0.1,
    ];
    let b_ih = [0.1, 0.0, -0.1, 0.2, 0.05, -0.05];
    let b_hh = [0.0, 0.1, 0.2, -0.1, 0.3, 0.1];
    let expected = [
        0.11665840445045614,
        -0.1972241975224735,
        0.3823699539598129,
        -0.10369583533773619,
        0.3218424641609775,
        0.2531430476294806,
    ];
    let order = [1, 0, 2]; // our r, z, n sit at Keras's positions 1, 0, 2 (z, r, h)
    let mut keras_bias = bias_to_keras(&b_ih, 2, &order);
    keras_bias.extend(bias_to_keras(&b_hh, 2, &order));
    let dev: Cpu = Default::default();
    let x: Tensor<Rank2<3, 2>, f64, _> = dev.tensor([[0.5, -1.0], [1.0, 0.25], [-0.5, 0.75]]);
    let mut keras = dev.build_module::<GRU<2, 2, true>, f64>();
    keras
        .load_keras(
            &to_keras(&w_ih, 2, 2, &order),
            &to_keras(&w_hh, 2, 2, &order),
            &keras_bias,
        )
        .unwrap();
    assert_close(
        &keras.forward(x.clone()).as_vec(),
        &expected,
        1e-12,
        "GRU from Keras weights",
    );
    let mut torch = dev.build_module::<GRU<2, 2, true>, f64>();
    torch.load_pytorch(&w_ih, &w_hh, &b_ih, &b_hh).unwrap();
    assert_close(
        &torch.forward(x).as_vec(),
        &expected,
        1e-12,
        "GRU from PyTorch weights",
    );
    assert!(
        keras.load_keras(&w_ih, &w_hh, &b_ih).is_err(),
        "a reset_after=False bias (3U) is refused"
    );
}

#[test]
fn simple_rnn_loaders_agree() {
    let dev: Cpu = Default::default();
    let (w_ih, w_hh, b_ih, b_hh) = (random(4 * 3, 5), random(16, 6), random(4, 7), random(4, 8));
    let mut a = dev.build_module::<SimpleRNN<3, 4, false>, f64>();
    a.load_pytorch(&w_ih, &w_hh, &b_ih, &b_hh).unwrap();
    let mut b = dev.build_module::<SimpleRNN<3, 4, false>, f64>();
    let bias: Vec<f64> = b_ih.iter().zip(&b_hh).map(|(x, y)| x + y).collect();
    b.load_keras(
        &to_keras(&w_ih, 3, 4, &[0]),
        &to_keras(&w_hh, 4, 4, &[0]),
        &bias,
    )
    .unwrap();
    let x: Tensor<Rank3<2, 5, 3>, f64, _> = dev.sample_normal();
    assert_eq!(a.forward(x.clone()).as_vec(), b.forward(x).as_vec());
}

/// Without return_sequences the output is the last step of the full output; unbatched input is
/// a batch of one; runtime dimensions work.
#[test]
fn output_is_every_step_or_the_last() {
    let dev = Cpu::seed_from_u64(1);
    let every = dev.build_module::<GRU<3, 4, true>, f64>();
    let last = GruModule::<3, 4, false, f64, Cpu> {
        w_ih: every.w_ih.clone(),
        w_hh: every.w_hh.clone(),
        bias: every.bias.clone(),
        recurrent_bias: every.recurrent_bias.clone(),
    };
    let x: Tensor<Rank3<2, 5, 3>, f64, _> = dev.sample_normal();
    let all: [[[f64; 4]; 5]; 2] = every.forward(x.clone()).array();
    let y: [[f64; 4]; 2] = last.forward(x.clone()).array();
    assert_eq!(y, [all[0][4], all[1][4]]);
    let one: Tensor<Rank2<5, 3>, f64, _> = dev.tensor(x.array()[1]);
    assert_eq!(every.forward(one.clone()).array(), all[1]);
    assert_eq!(last.forward(one).array(), all[1][4]);
    let dynamic = x.reshape_like(&(2usize, 5usize, Const::<3>));
    let y_dyn: Tensor<(usize, Const<4>), f64, _> = last.forward(dynamic);
    assert_eq!(y_dyn.as_vec(), y.concat());
}

/// Every step: [forward h_t, backward h_t]; the last: [forward h_S, backward h_1].
#[test]
fn bidirectional_concatenates_forward_and_backward() {
    let dev = Cpu::seed_from_u64(2);
    let bi = dev.build_module::<Bidirectional<LSTM<3, 4, true>, 8>, f64>();
    let x: Tensor<Rank3<2, 5, 3>, f64, _> = dev.sample_normal();
    let fwd = bi
        .forward
        .try_sequence(x.clone(), None, false)
        .unwrap()
        .array();
    let bwd = bi
        .backward
        .try_sequence(x.clone(), None, true)
        .unwrap()
        .array();
    let y = bi.forward(x.clone()).array();
    for b in 0..2 {
        for t in 0..5 {
            assert_eq!(y[b][t][..4], fwd[b][t]);
            assert_eq!(y[b][t][4..], bwd[b][t]);
        }
    }
    // The backward direction really runs backwards: it is the forward run of the reversed input.
    let reversed: Tensor<Rank3<2, 5, 3>, f64, _> =
        dev.tensor(x.array().map(|seq| std::array::from_fn(|t| seq[4 - t])));
    let bwd_as_fwd = bi
        .backward
        .try_sequence(reversed, None, false)
        .unwrap()
        .array();
    assert_eq!(bwd_as_fwd[0][4], bwd[0][0]);
    let last = BidirectionalModule::<LstmModule<3, 4, false, f64, Cpu>, 8> {
        forward: LstmModule {
            w_ih: bi.forward.w_ih.clone(),
            w_hh: bi.forward.w_hh.clone(),
            bias: bi.forward.bias.clone(),
            recurrent_bias: (),
        },
        backward: LstmModule {
            w_ih: bi.backward.w_ih.clone(),
            w_hh: bi.backward.w_hh.clone(),
            bias: bi.backward.bias.clone(),
            recurrent_bias: (),
        },
    };
    let y_last = last.forward(x.clone()).array();
    for b in 0..2 {
        assert_eq!(y_last[b][..4], fwd[b][4]);
        assert_eq!(y_last[b][4..], bwd[b][0]);
    }
    // Unbatched.
    let one: Tensor<Rank2<5, 3>, f64, _> = dev.tensor(x.array()[0]);
    assert_eq!(bi.forward(one.clone()).array(), y[0]);
    assert_eq!(last.forward(one).array(), y_last[0]);
}

/// A masked batch through a stack (LSTM returning sequences, then a bidirectional GRU) gives,
/// for each sequence, what its real steps alone give: the first layer hands the mask on.
#[test]
fn masked_stack_equals_each_sequence_alone() {
    let dev = Cpu::seed_from_u64(4);
    let l1 = dev.build_module::<LSTM<3, 4, true>, f64>();
    let l2 = dev.build_module::<Bidirectional<GRU<4, 5, false>, 10>, f64>();
    let lengths = [5, 2, 0, 4, 1, 3, 5, 2, 4, 1];
    for padding in [SequencePadding::Post, SequencePadding::Pre] {
        let x: Tensor<(usize, usize, Const<3>), f64, _> = dev.sample_normal_like(&(10, 5, Const));
        let mask = lengths_mask(&dev, &lengths, 5, padding).unwrap();
        let h: Masked<Tensor<(usize, usize, Const<4>), f64, _>, _> =
            l1.forward(Masked::new(x.clone(), mask.clone()).unwrap());
        assert_eq!(h.mask.as_vec(), mask.as_vec());
        let y: Tensor<(usize, Const<10>), f64, _> = l2.forward(h);
        let y = y.as_vec();
        let xs = x.as_vec();
        for (b, &len) in lengths.iter().enumerate() {
            let row = &y[b * 10..(b + 1) * 10];
            if len == 0 {
                assert!(
                    row.iter().all(|&v| v == 0.0),
                    "an empty sequence outputs zeros"
                );
                continue;
            }
            let first = if padding == SequencePadding::Pre {
                5 - len
            } else {
                0
            };
            let alone: Tensor<(usize, Const<3>), f64, _> = dev.tensor_from_vec(
                xs[(b * 5 + first) * 3..(b * 5 + first + len) * 3].to_vec(),
                (len, Const),
            );
            let expected = l2.forward(l1.forward(alone)).as_vec();
            assert_close(row, &expected, 1e-12, &format!("{padding:?} sequence {b}"));
        }
    }
}

/// A tuple of recurrent layers and a dense head trains with dfdx's optimizer (forward_mut,
/// gradients into every parameter tensor) and fits a toy target: the sum of a sequence's first
/// feature, the signal ending up in the last step's output.
#[test]
fn a_stack_trains() {
    type Model = (
        LSTM<2, 8, true>,
        Bidirectional<GRU<8, 6, false>, 12>,
        dfdx::nn::builders::Linear<12, 1>,
    );
    let dev = Cpu::seed_from_u64(5);
    let mut model = dev.build_module::<Model, f32>();
    let mut opt = dfdx::optim::Adam::new(
        &model,
        dfdx::optim::AdamConfig {
            lr: 1e-2,
            ..Default::default()
        },
    );
    let x: Tensor<Rank3<16, 6, 2>, f32, _> = dev.sample_normal();
    let first_feature =
        x.clone()
            .slice((.., .., 0..1))
            .reshape_like(&(Const::<16>, Const::<6>, Const::<1>));
    let target: Tensor<Rank2<16, 1>, f32, _> = first_feature.sum::<_, Axis<1>>() * 0.3;
    let mut grads = model.alloc_grads();
    let mut losses = Vec::new();
    for _ in 0..60 {
        let y = model.forward_mut(x.trace(grads));
        let loss = mse_loss(y, target.clone());
        losses.push(loss.array());
        grads = loss.backward();
        opt.update(&mut model, &grads).unwrap();
        model.zero_grads(&mut grads);
    }
    assert!(
        losses[59] < 0.2 * losses[0],
        "loss {} -> {}",
        losses[0],
        losses[59]
    );
}
