//! The seed's other networks on the MNIST digits, trained as `mnist.rs` trains the seed CNN
//! (same flags: `--data`, `--epochs`, `--out`, `--saliency`, `--augment`).
//!
//! ```sh
//! cargo run --release --example mnist_models -- --model lstm     # the seed's stacked LSTM on rows
//! cargo run --release --example mnist_models -- --model crnn     # Conv2D, MaxPool, LSTM, Dense
//! cargo run --release --example mnist_models -- --model resnet   # a small residual CNN
//! ```

mod mnist_run;

use mnist_run::{parse_args, report, train, write_saliency, Recipe};
use std::error::Error;
use typenet::prelude::*;

type SeedLstm = network![Input<28, 28>, LSTM<64, return_sequences>, LSTM<64>, Dense<10>];
type Crnn = network![Input<1, 28, 28>, Conv2D<32, 3>, MaxPool<2>, LSTM<64>, Dense<10>];
/// Two ResNet basic blocks, the second downsampling with a projection shortcut.
type ResNet = network![
    Input<1, 28, 28>,
    Conv2D<16, 3, padding = same>, BatchNorm, ReLU, MaxPool<2>,
    Residual<[
        Conv2D<16, 3, padding = same>, BatchNorm, ReLU,
        Conv2D<16, 3, padding = same>, BatchNorm,
    ]>,
    ReLU,
    Residual<
        [
            Conv2D<32, 3, stride = 2, padding = same>, BatchNorm, ReLU,
            Conv2D<32, 3, padding = same>, BatchNorm,
        ],
        shortcut = [Conv2D<32, 1, stride = 2>, BatchNorm],
    >,
    ReLU,
    GlobalAvgPool,
    Dense<10>,
];

/// Why the residual network has no `--saliency`.
const NO_SALIENCY: &str = "--saliency needs a model without BatchNorm: dfdx's batch norms have no inference forward pass on a traced input";

fn main() {
    report(run())
}

fn run() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;
    let Some(model) = args.model.as_deref() else {
        return Err("name the network: --model lstm, crnn or resnet".into());
    };
    if args.saliency.is_some() && model == "resnet" {
        return Err(NO_SALIENCY.into());
    }
    match model {
        "lstm" => train::<SeedLstm, Rank2<28, 28>>(
            "seed_lstm",
            Recipe {
                epochs: 20,
                decay: 0.9,
            },
            &args,
            write_saliency::<Rank2<28, 28>, _>,
        ),
        "crnn" => train::<Crnn, Rank3<1, 28, 28>>(
            "crnn",
            Recipe {
                epochs: 10,
                decay: 0.8,
            },
            &args,
            write_saliency::<Rank3<1, 28, 28>, _>,
        ),
        "resnet" => train::<ResNet, Rank3<1, 28, 28>>(
            "resnet",
            Recipe {
                epochs: 10,
                decay: 0.8,
            },
            &args,
            // Refused above, before training.
            |_, _, _, _| Err(NO_SALIENCY.into()),
        ),
        other => Err(format!(
            "--model is lstm, crnn or resnet, not {other} (the seed CNN is `--example mnist`)"
        )
        .into()),
    }
}
