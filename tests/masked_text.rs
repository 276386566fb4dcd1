//! Masked token sequences end to end: through `Embedding` and the per-step layers into a
//! bidirectional GRU (the result of each sequence is that of its real steps alone, and the
//! gradients are finite differences'), and through the trainer with `MaskedTokens`.

mod common;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use typenet::data::{pad_sequences, DataError, Dataset, MaskedTokens, Padding, Side};
use typenet::layers::{lengths_mask, Masked, SequencePadding};
use typenet::prelude::*;
use typenet::train::{TrainError, Trainer};

/// The README's sentiment model, small, with the per-step layers a user may put between the
/// embedding and the recurrent layer.
type Sentiment = network![
    Tokens<6>,
    Embedding<10, 4>,
    Dropout<0.5>,
    Dense<5, activation = tanh>,
    Bidirectional<GRU<3>>,
    Dense<1>,
    Sigmoid,
];

/// Three sequences of ids 1..9 of lengths 4, 6 and 2; id 0 is padding only.
const SEQUENCES: [&[usize]; 3] = [&[3, 1, 4, 1], &[5, 9, 2, 6, 5, 3], &[5, 8]];

/// Token ids `(batch, steps)` and a mask of the same shape.
type Ids = Tensor<(usize, usize), usize, Cpu>;
type Mask = Tensor<(usize, usize), f64, Cpu>;

/// The sequences padded to 6 steps on `side`, with their mask.
fn padded(dev: &Cpu, side: SequencePadding) -> (Ids, Mask) {
    let lengths: Vec<usize> = SEQUENCES.iter().map(|s| s.len()).collect();
    let mut ids = Vec::new();
    for seq in SEQUENCES {
        let pad = vec![0; 6 - seq.len()];
        match side {
            SequencePadding::Post => ids.extend(seq.iter().chain(&pad)),
            SequencePadding::Pre => ids.extend(pad.iter().chain(seq.iter())),
        }
    }
    let mask = lengths_mask::<f64, _>(dev, &lengths, 6, side).unwrap();
    (dev.tensor_from_vec(ids, (3, 6)), mask)
}

#[test]
fn each_masked_sequence_gives_what_it_gives_alone() {
    let dev = Cpu::seed_from_u64(11);
    let net = dev.build_module::<Sentiment, f64>();
    for side in [SequencePadding::Post, SequencePadding::Pre] {
        let (ids, mask) = padded(&dev, side);
        let masked: Tensor<(usize, Const<1>), f64, _> =
            net.forward(Masked::new(ids, mask).unwrap());
        for (i, seq) in SEQUENCES.iter().enumerate() {
            // the built layers take any number of steps: the sequence alone, unpadded
            let alone = dev.tensor_from_vec(seq.to_vec(), (1usize, seq.len()));
            let alone: Tensor<(usize, Const<1>), f64, _> = net.forward(alone);
            let (a, b) = (alone.as_vec()[0], masked.as_vec()[i]);
            assert!(
                (a - b).abs() < 1e-12,
                "{side:?} sequence {i}: {a} alone, {b} masked"
            );
        }
        // and unmasked, the padding changes the result
        let (ids, _) = padded(&dev, side);
        let unmasked: Tensor<(usize, Const<1>), f64, _> = net.forward(ids);
        assert!((unmasked.as_vec()[0] - masked.as_vec()[0]).abs() > 1e-6);
    }
}

#[test]
fn a_traced_masked_batch_trains_with_dropout() {
    let dev = Cpu::seed_from_u64(12);
    let mut net = dev.build_module::<Sentiment, f64>();
    let (ids, mask) = padded(&dev, SequencePadding::Post);
    let inference = net.forward(Masked::new(ids.clone(), mask.clone()).unwrap());
    let grads = net.alloc_grads();
    let y: Tensor<(usize, Const<1>), f64, _, OwnedTape<f64, Cpu>> =
        net.forward_mut(Masked::new(ids.traced(grads), mask).unwrap());
    // dropout at rate 0.5 on 3 * 6 * 4 embeddings changes the outputs
    assert_ne!(y.as_vec(), inference.as_vec());
    let grads = y.sum().backward();
    assert!(grads
        .get(&net.head.head.weight)
        .as_vec()
        .iter()
        .any(|&g| g != 0.0));
}

/// Without dropout, for the gradient check: layers 1 (Embedding), 2 (Dense + Tanh),
/// 3 (Bidirectional GRU), 4 (Dense), 5 (Sigmoid).
type Checked = network![
    Tokens<6>,
    Embedding<10, 4>,
    Dense<5, activation = tanh>,
    Bidirectional<GRU<3>>,
    Dense<1>,
    Sigmoid,
];

#[test]
fn masked_gradients_are_finite_differences() {
    let dev = Cpu::seed_from_u64(13);
    let mut net = dev.build_module::<Checked, f64>();
    let (ids, mask) = padded(&dev, SequencePadding::Post);
    let loss = |net: &Checked_| {
        let y = net.forward(Masked::new(ids.clone(), mask.clone()).unwrap());
        y.sum::<Rank0, _>().array()
    };
    type Checked_ = <Checked as BuildOnDevice<Cpu, f64>>::Built;
    let y = net.forward(Masked::new(ids.clone().traced(net.alloc_grads()), mask.clone()).unwrap());
    let grads = y.sum().backward();

    let embedding = grads.get(&net.head.head.weight).as_vec();
    // id 0 appears only in padding: no gradient reaches its row
    assert!(embedding[..4].iter().all(|&g| g == 0.0), "{embedding:?}");
    for at in [4, 9 * 4 + 3, 5 * 4 + 1] {
        let numeric = common::numeric(&mut net, loss, |n| &mut n.head.head.weight, at);
        common::close(numeric, embedding[at]);
    }
    let dense = grads.get(&net.head.tail.head.weight).as_vec();
    for at in [0, 7, 19] {
        let numeric = common::numeric(&mut net, loss, |n| &mut n.head.tail.head.weight, at);
        common::close(numeric, dense[at]);
    }
    let backward_w = grads.get(&net.tail.head.backward.w_ih).as_vec();
    for at in [0, 11, 44] {
        let numeric = common::numeric(&mut net, loss, |n| &mut n.tail.head.backward.w_ih, at);
        common::close(numeric, backward_w[at]);
    }
}

/// Sequences of 1 to 8 ids from 1..=10 (0 pads), labelled by whether the last one is above
/// 5: what a GRU that reads the real steps only finds at once, and one that reads padding
/// after them must carry through it.
fn last_word(n: usize, seed: u64) -> (Vec<Vec<usize>>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let sequences: Vec<Vec<usize>> = (0..n)
        .map(|_| {
            let len = rng.gen_range(1..=8);
            (0..len).map(|_| rng.gen_range(1..=10)).collect()
        })
        .collect();
    let labels = sequences
        .iter()
        .map(|s| usize::from(s[s.len() - 1] > 5))
        .collect();
    (sequences, labels)
}

fn masked_set(n: usize, seed: u64) -> Dataset {
    let (sequences, labels) = last_word(n, seed);
    let post = Padding {
        maxlen: Some(8),
        padding: Side::Post,
        ..Default::default()
    };
    Dataset::padded_tokens(&pad_sequences(&sequences, post).unwrap(), labels).unwrap()
}

type Words = network![Tokens<8>, Embedding<11, 8>, Bidirectional<GRU<8>>, Dense<1>, Sigmoid];

#[test]
fn the_trainer_fits_evaluates_and_predicts_masked_tokens() {
    let (train, test) = (masked_set(600, 1), masked_set(300, 2));
    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Words, f32>();
    let adam = Adam::new(
        &model,
        AdamConfig {
            lr: 1e-2,
            ..Default::default()
        },
    );
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<MaskedTokens<8>>()
        .loss(Loss::BinaryCrossentropy { from_logits: false })
        .epochs(6)
        .validation_data(&test)
        .verbose(false);
    let history = trainer.fit(&train).unwrap();
    let metrics = trainer.evaluate(&test).unwrap();
    assert!(metrics.accuracy > 0.95, "{metrics:?} {history:?}");
    let classes = trainer.predict_classes(test.inputs()).unwrap();
    let right = classes
        .iter()
        .zip(test.labels())
        .filter(|(a, b)| a == b)
        .count();
    assert_eq!(right as f64 / 300.0, metrics.accuracy);
    // predict takes the two sets as an array too
    let outputs = trainer
        .predict([&test.inputs()[0], &test.inputs()[1]])
        .unwrap();
    assert_eq!(outputs.len(), 300);
}

#[test]
fn a_bad_mask_or_length_is_a_typed_error_before_training() {
    let data = masked_set(10, 3);
    let mut mask = data.inputs()[1].as_slice().to_vec();
    mask[8 + 2] = 2.0;
    let bad = Dataset::with_inputs(
        vec![
            data.inputs()[0].clone(),
            Samples::new(mask, vec![8]).unwrap(),
        ],
        data.labels().to_vec(),
    )
    .unwrap();
    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Words, f32>();
    let before = model.head.head.weight.as_vec();
    let adam = Adam::new(&model, Default::default());
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<MaskedTokens<8>>()
        .loss(Loss::BinaryCrossentropy { from_logits: false })
        .verbose(false);
    let err = trainer.fit(&bad).unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::Data(DataError::MaskValue { sample: 1, position: 2, value }) if value == 2.0
        ),
        "{err}"
    );
    // ids without their mask: one set where two are read
    let err = trainer.predict(&data.inputs()[0]).unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::Data(DataError::InputCount {
                expected: 2,
                found: 1
            })
        ),
        "{err}"
    );
    assert_eq!(trainer.model().head.head.weight.as_vec(), before);
    let ids = data.inputs()[0].clone();
    let err = Dataset::tokens_with_lengths(ids, &[9; 10], Side::Post, vec![0; 10]).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::SequenceLength {
                sample: 0,
                length: 9,
                steps: 8
            }
        ),
        "{err}"
    );
}

#[test]
fn an_id_past_the_vocabulary_is_a_typed_error_not_a_panic() {
    // id 11 in sample 4, where Words's embedding has rows 0 to 10
    let data = masked_set(10, 4);
    let mut ids = data.inputs()[0].as_slice().to_vec();
    ids[4 * 8] = 11.0;
    let ids = Samples::new(ids, vec![8]).unwrap();
    let bad = Dataset::with_inputs(
        vec![ids.clone(), data.inputs()[1].clone()],
        data.labels().to_vec(),
    )
    .unwrap();
    let past = |err: TrainError| {
        assert!(
            matches!(
                err,
                TrainError::Data(DataError::TokenOutOfVocabulary {
                    sample: 4,
                    position: 0,
                    id: 11,
                    vocabulary: 11
                })
            ),
            "{err}"
        );
        assert!(err.to_string().contains("ids 0 to 10"), "{err}");
    };
    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Words, f32>();
    let adam = Adam::new(&model, Default::default());
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<MaskedTokens<8>>()
        .loss(Loss::BinaryCrossentropy { from_logits: false })
        .verbose(false);
    past(trainer.fit(&bad).unwrap_err());
    past(trainer.evaluate(&bad).unwrap_err());
    past(trainer.predict(bad.inputs()).unwrap_err());

    // the same without the mask, and as the second input of two
    type Plain = network![Tokens<8>, Embedding<11, 8>, GRU<8>, Dense<1>, Sigmoid];
    let mut model = dev.build_module::<Plain, f32>();
    let adam = Adam::new(&model, Default::default());
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<Tokens<8>>()
        .loss(Loss::BinaryCrossentropy { from_logits: false })
        .verbose(false);
    past(
        trainer
            .fit(&Dataset::new(ids.clone(), data.labels().to_vec()).unwrap())
            .unwrap_err(),
    );
    past(trainer.predict(&ids).unwrap_err());
    type Two = network![
        Concat<[Input<2>, Dense<4>], [Tokens<8>, Embedding<11, 8>, GRU<4>]>,
        Dense<1>,
        Sigmoid,
    ];
    let mut model = dev.build_module::<Two, f32>();
    let adam = Adam::new(&model, Default::default());
    let trainer = Trainer::new(&mut model, adam)
        .input::<(Rank1<2>, Tokens<8>)>()
        .loss(Loss::BinaryCrossentropy { from_logits: false })
        .verbose(false);
    let points = Samples::new(vec![0.5; 20], vec![2]).unwrap();
    let err = trainer.predict([&points, &ids]).unwrap_err();
    assert!(
        matches!(
            &err,
            TrainError::Data(DataError::Input { input: 1, source })
                if matches!(**source, DataError::TokenOutOfVocabulary { sample: 4, id: 11, .. })
        ),
        "{err}"
    );
}
