//! The README's main job: train the seed CNN on the MNIST digits shipped in `data/mnist`
//! (or on the full MNIST files in a directory you name), print test accuracy, save a
//! checkpoint and the loss/accuracy curves. The seed's other networks (stacked LSTM, CRNN,
//! a small ResNet) are in `mnist_models.rs`.
//!
//! ```sh
//! cargo run --release --example mnist                       # the seed CNN
//! cargo run --release --example mnist -- --data ~/mnist     # the full 60,000/10,000 set
//! cargo run --release --example mnist -- --saliency target/mnist/saliency  # heat maps too
//! cargo run --release --example mnist -- --augment          # random shifts and rotations
//! cargo run --release --example mnist -- --epochs 20 --out DIR
//! ```

mod mnist_run;

use mnist_run::{parse_args, report, train, write_saliency, Recipe};
use std::error::Error;
use typenet::prelude::*;

type SeedCnn = network![
    Input<1, 28, 28>,
    Conv2D<32, 3>, ReLU, MaxPool<2>,
    Conv2D<64, 3>, ReLU, MaxPool<2>,
    Conv2D<64, 3>, ReLU,
    Flatten,
    Dense<64>, ReLU,
    Dense<10>,
];

fn main() {
    report(run())
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;
    match args.model.as_deref() {
        None | Some("cnn") => {}
        Some(other @ ("lstm" | "crnn" | "resnet")) => {
            return Err(format!(
                "the {other} network is in the mnist_models example: \
                 cargo run --release --example mnist_models -- --model {other}"
            )
            .into())
        }
        Some(other) => {
            return Err(format!(
                "--model here is cnn (or left out), not {other}; \
                 lstm, crnn and resnet are in --example mnist_models"
            )
            .into())
        }
    }
    train::<SeedCnn, Rank3<1, 28, 28>>(
        "seed_cnn",
        Recipe {
            epochs: 10,
            decay: 0.8,
        },
        &args,
        write_saliency::<Rank3<1, 28, 28>, _>,
    )
}
