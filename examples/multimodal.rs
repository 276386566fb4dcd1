//! The seed's multimodal model: an MNIST digit and a short sentence that names a digit
//! ("the digit is seven", "a one", "three"); is it the digit in the image? A CNN reads the
//! image, an LSTM the sentence, and their outputs are concatenated and classified.
//!
//! Neither input alone says anything about the label: every image is paired once with a
//! sentence naming its digit (label 1) and once with one naming another digit (label 0), so
//! a model that sees only the image, or only the sentence, stays at 50%. The example trains
//! those two as well, on the same pairs, and prints all three test accuracies.
//!
//! ```sh
//! cargo run --release --example multimodal                # the digits shipped in data/mnist
//! cargo run --release --example multimodal -- --epochs 3  # shorter
//! ```

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use typenet::data::ModelInput;
use typenet::data::{Dataset, Mnist, Samples, Tokens};
use typenet::prelude::*;
use typenet::train::{Classifier, TrainError};

/// Words in a sentence, padded at the end with token 0.
const STEPS: usize = 4;
/// The ten digit words: token 1 + d names digit d (token 0 is the padding), then the other
/// words, 16 tokens in all (the `Embedding<16, ..>` below).
const DIGIT_WORDS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];
const A: usize = 11;
const THE: usize = 12;
const DIGIT: usize = 13;
const IS: usize = 14;
const SHOWS: usize = 15;

type Multimodal = network![
    Concat<
        [Input<1, 28, 28>, Conv2D<16, 3>, ReLU, MaxPool<2>, Conv2D<32, 3>, ReLU, MaxPool<2>, Flatten],
        [Tokens<4>, Embedding<16, 16>, LSTM<32>],
    >,
    Dense<64>, ReLU,
    Dense<2>,
];
type ImageOnly = network![
    Input<1, 28, 28>,
    Conv2D<16, 3>, ReLU, MaxPool<2>, Conv2D<32, 3>, ReLU, MaxPool<2>, Flatten,
    Dense<64>, ReLU,
    Dense<2>,
];
type TextOnly = network![Tokens<4>, Embedding<16, 16>, LSTM<32>, Dense<64>, ReLU, Dense<2>];

/// A sentence naming digit `d`, from one of four templates, as token ids.
fn sentence(d: usize, rng: &mut StdRng) -> [usize; STEPS] {
    let word = 1 + d;
    match rng.gen_range(0..4) {
        0 => [word, 0, 0, 0],
        1 => [A, word, 0, 0],
        2 => [THE, DIGIT, IS, word],
        _ => [SHOWS, A, word, 0],
    }
}

/// Every image twice: with a sentence naming its digit (label 1) and one naming another.
/// Returns the images, the sentences and the labels, in that order.
fn pairs(digits: &Dataset, seed: u64) -> Result<(Samples, Samples, Vec<usize>), TrainError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut images = Vec::new();
    let mut words = Vec::new();
    let mut labels = Vec::new();
    for (i, &digit) in digits.labels().iter().enumerate() {
        let other = (digit + rng.gen_range(1..10)) % 10;
        for (named, matches) in [(digit, 1), (other, 0)] {
            images.push(i);
            words.extend(sentence(named, &mut rng).map(|t| t as f32));
            labels.push(matches);
        }
    }
    let images = digits.samples().select(&images);
    let words = Samples::new(words, vec![STEPS])?;
    Ok((images, words, labels))
}

/// Trains `Net` on `train` for `epochs` and returns its test accuracy.
fn accuracy<Net, In>(
    name: &str,
    train: &Dataset,
    test: &Dataset,
    epochs: usize,
) -> Result<f64, TrainError>
where
    Net: Network + BuildOnDevice<Cpu, f32>,
    Net::Built: Classifier<In, f32, Cpu, 2>,
    In: ModelInput<f32, Cpu>,
{
    println!("{name}\n{}\n", Net::summary());
    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Net, f32>();
    let adam = Adam::new(
        &model,
        AdamConfig {
            lr: 1e-3,
            ..Default::default()
        },
    );
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<In>()
        .epochs(epochs)
        .batch_size(64);
    trainer.fit(train)?;
    let test = trainer.evaluate(test)?;
    println!("{name}: test accuracy {:.2}%\n", test.accuracy * 100.0);
    Ok(test.accuracy)
}

fn main() -> Result<(), TrainError> {
    let epochs = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => 8,
        [flag, n] if flag == "--epochs" => n.parse().expect("--epochs takes a number"),
        _ => panic!("usage: multimodal [--epochs N]"),
    };
    let mnist = Mnist::shipped()?;
    let (images, words, labels) = pairs(&mnist.train, 1)?;
    let (test_images, test_words, test_labels) = pairs(&mnist.test, 2)?;
    println!(
        "{} training and {} test pairs of a digit and a sentence, e.g. \"the digit is {}\"\n",
        labels.len(),
        test_labels.len(),
        DIGIT_WORDS[7]
    );

    let both = Dataset::with_inputs(vec![images.clone(), words.clone()], labels.clone())?;
    let test_both = Dataset::with_inputs(
        vec![test_images.clone(), test_words.clone()],
        test_labels.clone(),
    )?;
    let joint = accuracy::<Multimodal, (Rank3<1, 28, 28>, Tokens<STEPS>)>(
        "image and sentence",
        &both,
        &test_both,
        epochs,
    )?;
    let image = accuracy::<ImageOnly, Rank3<1, 28, 28>>(
        "image alone",
        &Dataset::new(images, labels.clone())?,
        &Dataset::new(test_images, test_labels.clone())?,
        epochs,
    )?;
    let text = accuracy::<TextOnly, Tokens<STEPS>>(
        "sentence alone",
        &Dataset::new(words, labels)?,
        &Dataset::new(test_words, test_labels)?,
        epochs,
    )?;
    println!(
        "test accuracy after {epochs} epochs: image and sentence {:.2}%, image alone {:.2}%, sentence alone {:.2}%",
        joint * 100.0,
        image * 100.0,
        text * 100.0
    );
    Ok(())
}
