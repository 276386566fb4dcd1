//! The README's `Sentiment` network (token ids, an embedding, a bidirectional GRU, one sigmoid
//! output) trained through the `Trainer` on short movie reviews whose padding is masked.
//!
//! The task: is a review positive? The reviews are generated here from a small grammar of 75
//! words (nothing is downloaded), so that the answer hangs on word order:
//!
//! - a clause rates something: "the plot was good", "it felt really dull", "i loved the cast",
//!   "i thought the ending was clever";
//! - it may be negated, which flips it: "the acting was not good", "the ending was never
//!   boring", "i did not enjoy the soundtrack", "i did not think the story was weak" (the
//!   negation four words before the adjective it turns); an intensifier ("very", "really",
//!   "so", "truly") changes nothing;
//! - a review is one clause, or two joined so that one decides: "A but B" and "although A ,
//!   B" mean B, "A even though B" means A, "A and B" join two that agree; an opener
//!   ("honestly") and neutral clauses ("i saw it on friday ,", "and we watched it at home")
//!   may come around them.
//!
//! The label is the sentiment of the deciding clause. Every word of "the plot was not bad but
//! the acting was dull" also makes "the plot was bad but the acting was not dull", so a
//! model that counts words cannot tell them apart. Reviews are 3 to 31 words, padded after
//! the end (token 0) to 40 steps and masked (`MaskedTokens<40>`), so the GRU reads the real
//! words only. 4,000 reviews train, 1,000 others test (seeds 1 and 2; 36 of the test
//! reviews also occur in training).
//!
//! Printed: the test accuracy of the masked model and of two baselines, always answering the
//! majority class and a bag-of-words logistic regression (`Dense<1>` on word counts); then
//! the same network without the mask, padded after the review or before it, and a GRU of one
//! direction with and without the mask: it reads the padding after the review unless masked,
//! where the bidirectional GRU's other direction reads the review after the padding.
//!
//! ```sh
//! cargo run --release --example sentiment                # 3 epochs
//! cargo run --release --example sentiment -- --epochs 8  # longer
//! ```

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;
use std::time::Instant;
use typenet::data::{
    pad_sequences, Dataset, MaskedTokens, ModelInput, Padding, Samples, Side, Tokens,
};
use typenet::prelude::*;
use typenet::train::{Classifier, TrainError};

/// Every word of the grammar; a word's token id is 1 + its place here (0 is the padding).
#[rustfmt::skip]
const WORDS: [&str; 75] = [
    // subjects, linking verbs
    "the", "movie", "film", "plot", "acting", "ending", "soundtrack", "cast", "story",
    "dialogue", "it", "was", "is", "felt", "seemed",
    // negations, intensifiers
    "not", "never", "hardly", "very", "really", "so", "truly",
    // praise, blame
    "good", "great", "excellent", "brilliant", "fun", "moving", "clever", "beautiful",
    "bad", "boring", "awful", "dull", "terrible", "weak", "slow", "predictable",
    // "i liked the cast", "i did not like the cast", "i did not think the plot was good"
    "i", "did", "liked", "like", "loved", "love", "enjoyed", "enjoy", "hated", "hate",
    "disliked", "dislike", "thought", "think",
    // joining clauses, openers
    "but", "although", ",", "even", "though", "and", "honestly", "overall", "well",
    // neutral clauses
    "we", "saw", "watched", "on", "friday", "at", "home", "with", "friends", "two", "hours",
    "long", "last", "night",
];
/// Token ids below this: the words and the padding.
const VOCABULARY: usize = WORDS.len() + 1;
/// The padded length of a review.
const STEPS: usize = 40;

type Sentiment = network![Tokens<40>, Embedding<76, 64>, Bidirectional<GRU<32>>, Dense<1>, Sigmoid];
type BagOfWords = network![Input<76>, Dense<1>, Sigmoid];
/// One direction only: it reads the padding after the review unless it is masked.
type Forward = network![Tokens<40>, Embedding<76, 64>, GRU<32>, Dense<1>, Sigmoid];

const SUBJECTS: [[&str; 2]; 9] = [
    ["the", "movie"],
    ["the", "film"],
    ["the", "plot"],
    ["the", "acting"],
    ["the", "ending"],
    ["the", "soundtrack"],
    ["the", "cast"],
    ["the", "story"],
    ["the", "dialogue"],
];
const PRAISE: [&str; 8] = [
    "good",
    "great",
    "excellent",
    "brilliant",
    "fun",
    "moving",
    "clever",
    "beautiful",
];
const BLAME: [&str; 8] = [
    "bad",
    "boring",
    "awful",
    "dull",
    "terrible",
    "weak",
    "slow",
    "predictable",
];
/// (past, after "did not", whether it praises)
const VERBS: [(&str, &str, bool); 5] = [
    ("liked", "like", true),
    ("loved", "love", true),
    ("enjoyed", "enjoy", true),
    ("hated", "hate", false),
    ("disliked", "dislike", false),
];
/// Clauses that say nothing about the film.
const NEUTRAL: [[&str; 5]; 5] = [
    ["i", "saw", "it", "on", "friday"],
    ["we", "watched", "it", "at", "home"],
    ["i", "watched", "it", "with", "friends"],
    ["it", "is", "two", "hours", "long"],
    ["we", "saw", "it", "last", "night"],
];

fn pick<T: Copy>(rng: &mut StdRng, options: &[T]) -> T {
    *options.choose(rng).expect("options are never empty")
}

/// "the plot was (not) (very) good": a subject, a linking verb, an adjective.
fn rating(rng: &mut StdRng, negated: bool, words: &mut Vec<&'static str>) -> bool {
    if rng.gen_bool(0.15) {
        words.push("it");
    } else {
        words.extend(pick(rng, &SUBJECTS));
    }
    words.push(pick(rng, &["was", "is", "felt", "seemed"]));
    if negated {
        words.push(pick(rng, &["not", "never", "hardly"]));
    }
    if rng.gen_bool(0.3) {
        words.push(pick(rng, &["very", "really", "so", "truly"]));
    }
    let praises = rng.gen_bool(0.5);
    words.push(pick(rng, if praises { &PRAISE } else { &BLAME }));
    praises
}

/// A clause and whether it is positive.
fn clause(rng: &mut StdRng) -> (Vec<&'static str>, bool) {
    let negated = rng.gen_bool(0.4);
    let mut words = Vec::new();
    let praises = match rng.gen_range(0..4) {
        0 | 1 => rating(rng, negated, &mut words),
        2 => {
            // "i (really) loved the cast", "i did not (really) love the cast"
            let (past, base, praises) = pick(rng, &VERBS);
            words.push("i");
            if negated {
                words.extend(["did", "not"]);
            }
            if rng.gen_bool(0.3) {
                words.push("really");
            }
            words.push(if negated { base } else { past });
            words.extend(pick(rng, &SUBJECTS));
            praises
        }
        _ => {
            // "i thought the plot was good", "i did not think the plot was good": the
            // negation stands four or more words before the word it turns
            words.extend(if negated {
                &["i", "did", "not", "think"][..]
            } else {
                &["i", "thought"]
            });
            rating(rng, false, &mut words)
        }
    };
    (words, praises != negated)
}

/// A review and its label (1 positive).
fn review(rng: &mut StdRng) -> (Vec<&'static str>, usize) {
    let mut words = Vec::new();
    if rng.gen_bool(0.2) {
        words.push(pick(rng, &["honestly", "overall", "well"]));
    }
    if rng.gen_bool(0.25) {
        words.extend(pick(rng, &NEUTRAL));
        words.push(",");
    }
    let (a, a_positive) = clause(rng);
    let (mut b, mut b_positive) = clause(rng);
    let positive = match rng.gen_range(0..6) {
        0 | 1 => {
            words.extend(a);
            a_positive
        }
        2 => {
            words.extend(a);
            words.push("but");
            words.extend(b);
            b_positive
        }
        3 => {
            words.push("although");
            words.extend(a);
            words.push(",");
            words.extend(b);
            b_positive
        }
        4 => {
            words.extend(a);
            words.extend(["even", "though"]);
            words.extend(b);
            a_positive
        }
        _ => {
            while b_positive != a_positive {
                (b, b_positive) = clause(rng);
            }
            words.extend(a);
            words.push("and");
            words.extend(b);
            a_positive
        }
    };
    if rng.gen_bool(0.25) {
        words.push("and");
        words.extend(pick(rng, &NEUTRAL));
    }
    (words, usize::from(positive))
}

/// `n` reviews as token ids, with their labels.
fn reviews(n: usize, seed: u64) -> (Vec<Vec<usize>>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let id = |word: &str| {
        1 + WORDS
            .iter()
            .position(|w| *w == word)
            .expect("a word of WORDS")
    };
    (0..n)
        .map(|_| {
            let (words, label) = review(&mut rng);
            (words.into_iter().map(id).collect(), label)
        })
        .unzip()
}

/// The reviews as data sets: padded after and masked, padded after, padded before, and as
/// word counts.
struct Sets {
    /// The reviews' token ids, unpadded.
    ids: Vec<Vec<usize>>,
    masked: Dataset,
    post: Dataset,
    pre: Dataset,
    counts: Dataset,
}

fn sets(n: usize, seed: u64) -> Result<Sets, TrainError> {
    let (ids, labels) = reviews(n, seed);
    let padded = |padding| {
        let options = Padding {
            maxlen: Some(STEPS),
            padding,
            ..Default::default()
        };
        pad_sequences(&ids, options)
    };
    let masked = Dataset::padded_tokens(&padded(Side::Post)?, labels.clone())?;
    let post = Dataset::new(masked.inputs()[0].clone(), labels.clone())?;
    let pre = Dataset::padded_tokens(&padded(Side::Pre)?, labels.clone())?;
    let pre = Dataset::new(pre.inputs()[0].clone(), labels.clone())?;
    let mut counts = vec![0.0; n * VOCABULARY];
    for (row, review) in counts.chunks_mut(VOCABULARY).zip(&ids) {
        for &id in review {
            row[id] += 1.0;
        }
    }
    let counts = Dataset::new(Samples::new(counts, vec![VOCABULARY])?, labels)?;
    Ok(Sets {
        ids,
        masked,
        post,
        pre,
        counts,
    })
}

/// Trains `Net` on `train` and returns its test accuracy.
fn accuracy<Net, In>(
    name: &str,
    train: &Dataset,
    test: &Dataset,
    epochs: usize,
    lr: f64,
) -> Result<f64, TrainError>
where
    Net: BuildOnDevice<Cpu, f32>,
    Net::Built: Classifier<In, f32, Cpu, 1>,
    In: ModelInput<f32, Cpu>,
{
    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Net, f32>();
    let adam = Adam::new(
        &model,
        AdamConfig {
            lr,
            ..Default::default()
        },
    );
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<In>()
        .loss(Loss::BinaryCrossentropy { from_logits: false })
        .epochs(epochs)
        .batch_size(32)
        .verbose(false);
    let started = Instant::now();
    trainer.fit(train)?;
    let test = trainer.evaluate(test)?;
    println!(
        "{name:<44} test accuracy {:>6.2}%  ({:.1} s)",
        test.accuracy * 100.0,
        started.elapsed().as_secs_f64()
    );
    Ok(test.accuracy)
}

fn main() -> Result<(), TrainError> {
    let epochs = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => 3,
        [flag, n] if flag == "--epochs" => n.parse().expect("--epochs takes a number"),
        _ => panic!("usage: sentiment [--epochs N]"),
    };
    let (train, test) = (sets(4_000, 1)?, sets(1_000, 2)?);
    let mut rng = StdRng::seed_from_u64(3);
    println!(
        "{} training and {} test reviews, e.g.",
        train.masked.len(),
        test.masked.len()
    );
    for _ in 0..4 {
        let (words, label) = review(&mut rng);
        let sentiment = ["negative", "positive"][label];
        println!("  {sentiment}: \"{}\"", words.join(" "));
    }
    let seen: HashSet<&Vec<usize>> = train.ids.iter().collect();
    let lengths = train.ids.iter().map(Vec::len);
    println!(
        "reviews of {} to {} words; {} of the {} test reviews also occur in the training set",
        lengths.clone().min().unwrap_or(0),
        lengths.max().unwrap_or(0),
        test.ids.iter().filter(|r| seen.contains(r)).count(),
        test.ids.len()
    );
    println!("\n{}\n", Sentiment::summary());

    let positive = test.masked.labels().iter().filter(|&&l| l == 1).count();
    let majority = positive.max(test.masked.len() - positive) as f64 / test.masked.len() as f64;
    println!(
        "{:<44} test accuracy {:>6.2}%",
        "majority class",
        majority * 100.0
    );
    accuracy::<BagOfWords, Rank1<VOCABULARY>>(
        "bag of words (Dense<1> on word counts)",
        &train.counts,
        &test.counts,
        4 * epochs,
        1e-2,
    )?;
    let masked = accuracy::<Sentiment, MaskedTokens<STEPS>>(
        "Sentiment, padded after, masked",
        &train.masked,
        &test.masked,
        epochs,
        3e-3,
    )?;
    accuracy::<Sentiment, Tokens<STEPS>>(
        "Sentiment, padded after, no mask",
        &train.post,
        &test.post,
        epochs,
        3e-3,
    )?;
    accuracy::<Sentiment, Tokens<STEPS>>(
        "Sentiment, padded before, no mask",
        &train.pre,
        &test.pre,
        epochs,
        3e-3,
    )?;
    accuracy::<Forward, MaskedTokens<STEPS>>(
        "GRU (one direction), padded after, masked",
        &train.masked,
        &test.masked,
        epochs,
        3e-3,
    )?;
    accuracy::<Forward, Tokens<STEPS>>(
        "GRU (one direction), padded after, no mask",
        &train.post,
        &test.post,
        epochs,
        3e-3,
    )?;
    println!(
        "\nthe masked GRU after {epochs} epochs: {:.2}%",
        masked * 100.0
    );
    Ok(())
}
