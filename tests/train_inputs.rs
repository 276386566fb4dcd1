//! The trainer on token-id inputs and on models of two inputs: both learn tasks that need
//! what they read, and bad ids or inputs of different lengths are typed errors.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use typenet::data::{DataError, Dataset, Samples, Tokens};
use typenet::dfdx::nn::modules::{Embedding, Linear};
use typenet::dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection};
use typenet::dfdx::nn::NonMutableModule;
use typenet::prelude::*;
use typenet::train::{Metrics, TrainError, Trainer};

fn adam<M>(model: &M, lr: f64) -> Adam<M, f32, Cpu> {
    Adam::new(
        model,
        AdamConfig {
            lr,
            ..Default::default()
        },
    )
}

/// `n` sequences of `len` token ids below `vocab`, stored as `f32`.
fn random_ids(rng: &mut StdRng, n: usize, len: usize, vocab: usize) -> Vec<f32> {
    (0..n * len)
        .map(|_| rng.gen_range(0..vocab) as f32)
        .collect()
}

/// Sequences of 6 ids below 10, labelled by whether token 3 appears: 1 - 0.9^6, about 47%,
/// do, so always answering "no" scores about 53%.
fn has_three(n: usize, seed: u64) -> Dataset {
    let mut rng = StdRng::seed_from_u64(seed);
    let ids = random_ids(&mut rng, n, 6, 10);
    let labels = ids
        .chunks(6)
        .map(|s| usize::from(s.contains(&3.0)))
        .collect();
    Dataset::new(Samples::new(ids, vec![6]).unwrap(), labels).unwrap()
}

type Words = network![Tokens<6>, Embedding<10, 8>, GRU<8>, Dense<2>];

#[test]
fn a_token_network_learns_whether_a_token_appears() {
    let (train, test) = (has_three(600, 1), has_three(300, 2));
    let majority = test.labels().iter().filter(|&&l| l == 0).count() as f64 / 300.0;
    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Words, f32>();
    let opt = adam(&model, 1e-2);
    let mut trainer = Trainer::new(&mut model, opt)
        .input::<Tokens<6>>()
        .epochs(5)
        .batch_size(32)
        .validation_data(&test)
        .verbose(false);
    let history = trainer.fit(&train).unwrap();
    let metrics = trainer.evaluate(&test).unwrap();
    assert!(
        metrics.accuracy > 0.9 && metrics.accuracy > majority + 0.3,
        "accuracy {} (majority {majority}); {:?}",
        metrics.accuracy,
        history.losses()
    );
    let classes = trainer.predict_classes(test.samples()).unwrap();
    let right = classes.iter().zip(test.labels()).filter(|(a, b)| a == b);
    assert_eq!(right.count() as f64 / 300.0, metrics.accuracy);
}

#[test]
fn a_value_that_is_not_a_token_id_is_a_typed_error() {
    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Words, f32>();
    let opt = adam(&model, 1e-2);
    let mut trainer = Trainer::new(&mut model, opt)
        .input::<Tokens<6>>()
        .verbose(false);
    for (bad, value) in [(2.5, 2.5), (-1.0, -1.0), (16_777_216.0, 16_777_216.0)] {
        let mut ids = vec![1.0; 4 * 6];
        ids[2 * 6 + 4] = bad;
        let data = Dataset::new(Samples::new(ids, vec![6]).unwrap(), vec![0; 4]).unwrap();
        let err = trainer.fit(&data).unwrap_err();
        assert!(
            matches!(err, TrainError::Data(DataError::TokenId { sample: 2, position: 4, value: v }) if v == value),
            "{err}"
        );
        assert!(err.to_string().contains("sample 2"), "{err}");
        let err = trainer.predict::<2>(data.samples()).unwrap_err();
        assert!(
            matches!(err, TrainError::Data(DataError::TokenId { sample: 2, .. })),
            "{err}"
        );
    }
}

/// A hand-written model of two inputs, 4 values and 3 token ids per example: each input goes
/// through its own layer, the sums go through `tanh` and a last layer to 2 classes. Its
/// forward takes the tuple `Trainer::input::<(Rank1<4>, Tokens<3>)>()` builds, the tape on
/// the values; it moves that tape onto the ids, so that the embedding's gradients are
/// recorded on the one tape too.
struct TwoInputs<E: Dtype, D: Device<E>> {
    values: Linear<4, 16, E, D>,
    embedding: Embedding<4, 4, E, D>,
    ids: Linear<12, 16, E, D>,
    out: Linear<16, 2, E, D>,
}

impl<T: Tape<f32, Cpu>>
    Module<(
        Tensor<(usize, Const<4>), f32, Cpu, T>,
        Tensor<(usize, Const<3>), usize, Cpu, NoneTape>,
    )> for TwoInputs<f32, Cpu>
{
    type Output = Tensor<(usize, Const<2>), f32, Cpu, T>;
    type Error = <Cpu as HasErr>::Err;

    fn try_forward(
        &self,
        (values, ids): (
            Tensor<(usize, Const<4>), f32, Cpu, T>,
            Tensor<(usize, Const<3>), usize, Cpu, NoneTape>,
        ),
    ) -> Result<Self::Output, Self::Error> {
        let n = values.shape().0;
        let (values, tape) = self.values.try_forward(values)?.split_tape();
        let words = self.embedding.try_forward(ids.put_tape(tape))?;
        let words = self
            .ids
            .try_forward(words.try_reshape_like(&(n, Const::<12>))?)?;
        let hidden = words.try_add(values)?.try_tanh()?;
        self.out.try_forward(hidden)
    }
}

impl NonMutableModule for TwoInputs<f32, Cpu> {}

impl TensorCollection<f32, Cpu> for TwoInputs<f32, Cpu> {
    type To<E2: Dtype, D2: Device<E2>> = TwoInputs<E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, f32, Cpu>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::module("values", |s| &s.values, |s| &mut s.values),
                Self::module("embedding", |s| &s.embedding, |s| &mut s.embedding),
                Self::module("ids", |s| &s.ids, |s| &mut s.ids),
                Self::module("out", |s| &s.out, |s| &mut s.out),
            ),
            |(values, embedding, ids, out)| TwoInputs {
                values,
                embedding,
                ids,
                out,
            },
        )
    }
}

/// `n` examples of 4 values and 3 ids below 4; the class is whether the first value is
/// positive XOR the first id is odd (each true half the time), so that neither input alone
/// does better than chance.
fn xor_of_both(n: usize, seed: u64) -> (Samples, Samples, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let values: Vec<f32> = (0..n * 4).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let ids = random_ids(&mut rng, n, 3, 4);
    let labels = (0..n)
        .map(|i| usize::from((values[i * 4] > 0.0) != (ids[i * 3] as usize % 2 == 1)))
        .collect();
    (
        Samples::new(values, vec![4]).unwrap(),
        Samples::new(ids, vec![3]).unwrap(),
        labels,
    )
}

/// Trains `TwoInputs` on `data` (fixed seeds) and returns its losses, its metrics on `test`
/// and the classes it predicts for `test`, from the test set's two `Samples`.
fn train_two_inputs(data: &Dataset, test: &Dataset) -> (Vec<f64>, Metrics, Vec<usize>) {
    let mut model = TwoInputs::<f32, Cpu>::build(&Cpu::seed_from_u64(0));
    let opt = adam(&model, 2e-2);
    let mut trainer = Trainer::new(&mut model, opt)
        .input::<(Rank1<4>, Tokens<3>)>()
        .epochs(40)
        .batch_size(32)
        .validation_split(0.2)
        .verbose(false);
    let history = trainer.fit(data).unwrap();
    let metrics = trainer.evaluate(test).unwrap();
    let [values, ids] = test.inputs() else {
        panic!("two inputs")
    };
    let classes = trainer.predict_classes([values, ids]).unwrap();
    assert_eq!(
        trainer.predict::<2>(test.inputs()).unwrap().len(),
        test.len()
    );
    (history.losses(), metrics, classes)
}

#[test]
fn a_two_input_model_learns_what_needs_both_inputs() {
    let (values, ids, labels) = xor_of_both(600, 3);
    let data = Dataset::with_inputs(vec![values.clone(), ids.clone()], labels.clone()).unwrap();
    let (test_values, test_ids, test_labels) = xor_of_both(300, 4);
    let test = Dataset::with_inputs(vec![test_values, test_ids], test_labels).unwrap();

    let (losses, metrics, classes) = train_two_inputs(&data, &test);
    assert!(metrics.accuracy > 0.9, "{metrics:?}; {losses:?}");
    let right = classes.iter().zip(test.labels()).filter(|(a, b)| a == b);
    assert_eq!(right.count() as f64 / 300.0, metrics.accuracy);
    assert_eq!(
        train_two_inputs(&data, &test).0,
        losses,
        "same seeds, same batches, same run"
    );

    // Trained with either input withheld (all zeros), the model does no better than chance.
    let zeros = |s: &Samples| Samples::new(vec![0.0; s.as_slice().len()], s.shape().to_vec());
    for inputs in [
        vec![zeros(&values).unwrap(), ids.clone()],
        vec![values.clone(), zeros(&ids).unwrap()],
    ] {
        let blind = Dataset::with_inputs(inputs, labels.clone()).unwrap();
        let (_, metrics, _) = train_two_inputs(&blind, &test);
        assert!(metrics.accuracy < 0.65, "{metrics:?}");
    }
}

#[test]
fn inputs_of_different_lengths_are_a_typed_error() {
    let (values, ids, labels) = xor_of_both(10, 5);
    let short = ids.select(&[0, 1, 2]);
    let err =
        Dataset::with_inputs(vec![values.clone(), short.clone()], labels.clone()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::InputLengths {
                input: 1,
                samples: 3,
                expected: 10
            }
        ),
        "{err}"
    );
    assert!(matches!(
        Dataset::with_inputs(vec![], vec![]),
        Err(DataError::NoInputs)
    ));

    let mut model = TwoInputs::<f32, Cpu>::build(&Cpu::seed_from_u64(0));
    let opt = adam(&model, 1e-2);
    let trainer = Trainer::new(&mut model, opt)
        .input::<(Rank1<4>, Tokens<3>)>()
        .verbose(false);
    let err = trainer.predict::<2>([&values, &short]).unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::Data(DataError::InputLengths { input: 1, .. })
        ),
        "{err}"
    );
    let err = trainer.predict::<2>(&values).unwrap_err();
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
    // The sets swapped: input 0's shape is wrong, and the error says it is input 0.
    let err = trainer.predict::<2>([&ids, &values]).unwrap_err();
    assert!(
        matches!(&err, TrainError::Data(DataError::Input { input: 0, source }) if matches!(**source, DataError::SampleShape { .. })),
        "{err}"
    );
    // A single-input data set given to a model of two inputs.
    let one = Dataset::new(values, labels).unwrap();
    assert!(matches!(
        trainer.evaluate(&one),
        Err(TrainError::Data(DataError::InputCount {
            expected: 2,
            found: 1
        }))
    ));
}

/// The same task as a `network!` with two inputs: a branch per input, concatenated.
type Mixed = network![
    Concat<[Input<4>], [Tokens<3>, Embedding<4, 4>, GRU<8>]>,
    Dense<16>, ReLU,
    Dense<2>,
];

#[test]
fn a_network_with_two_inputs_trains_with_the_trainer() {
    let (values, ids, labels) = xor_of_both(600, 3);
    let data = Dataset::with_inputs(vec![values, ids], labels).unwrap();
    let (test_values, test_ids, test_labels) = xor_of_both(300, 4);
    let test = Dataset::with_inputs(vec![test_values, test_ids], test_labels).unwrap();

    let mut model = Cpu::seed_from_u64(0).build_module::<Mixed, f32>();
    let opt = adam(&model, 1e-2);
    let mut trainer = Trainer::new(&mut model, opt)
        .input::<(Rank1<4>, Tokens<3>)>()
        .epochs(40)
        .batch_size(32)
        .verbose(false);
    let history = trainer.fit(&data).unwrap();
    let metrics = trainer.evaluate(&test).unwrap();
    assert!(
        metrics.accuracy > 0.9,
        "{metrics:?}; {:?}",
        history.losses()
    );
    assert_eq!(trainer.predict_classes(test.inputs()).unwrap().len(), 300);
}
