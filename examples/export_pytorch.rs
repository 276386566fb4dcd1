//! Trains the seed CNN briefly on the shipped MNIST digits, exports its weights as the
//! `state_dict` of the equivalent PyTorch `nn.Sequential`, and writes a few test digits with
//! typenet's logits, for `scripts/pytorch_parity.py` to compare with PyTorch's.
//!
//! ```sh
//! cargo run --release --example export_pytorch                  # 8,000 digits, 1 epoch
//! cargo run --release --example export_pytorch -- --samples 2000 --out target/pytorch
//! python scripts/pytorch_parity.py target/pytorch
//! # and back: PyTorch's own state_dict into typenet, logits compared with the probes'
//! cargo run --release --example export_pytorch -- --import target/pytorch/seed_cnn_from_torch.safetensors
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;
use typenet::data::Mnist;
use typenet::prelude::*;
use typenet::train::{export_pytorch, import_pytorch, pytorch_modules, TrainError};

type SeedCnn = network![
    Input<1, 28, 28>,
    Conv2D<32, 3>, ReLU, MaxPool<2>,
    Conv2D<64, 3>, ReLU, MaxPool<2>,
    Conv2D<64, 3>, ReLU,
    Flatten,
    Dense<64>, ReLU,
    Dense<10>,
];

/// Test digits written with their logits.
const PROBES: usize = 16;

fn main() -> Result<(), TrainError> {
    let mut samples = 8000;
    let mut out = PathBuf::from("target/pytorch");
    let mut import = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--samples" => samples = value.parse().expect("--samples takes a number"),
            "--out" => out = value.into(),
            "--import" => import = Some(PathBuf::from(value)),
            _ => panic!("unknown argument {flag}; see the top of examples/export_pytorch.rs"),
        }
    }
    std::fs::create_dir_all(&out).map_err(|source| TrainError::Io {
        path: out.clone(),
        source,
    })?;

    if let Some(state_dict) = import {
        return check_import(&state_dict, &out);
    }
    let mnist = Mnist::shipped()?;
    let train = mnist.train.take(samples);
    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<SeedCnn, f32>();
    let started = Instant::now();
    let adam = Adam::new(&model, AdamConfig::default());
    let mut trainer = Trainer::new(&mut model, adam)
        .input::<Rank3<1, 28, 28>>()
        .epochs(1)
        .batch_size(64)
        .verbose(Verbosity::Lines);
    trainer.fit(&train)?;
    let test = trainer.evaluate(&mnist.test)?;
    drop(trainer);
    println!(
        "seed CNN: 1 epoch on {} digits in {:.1} s, test accuracy {:.2}%",
        train.len(),
        started.elapsed().as_secs_f64(),
        test.accuracy * 100.0
    );

    println!("\nthe nn.Sequential its weights are exported for:");
    for m in pytorch_modules(&model)? {
        println!(
            "  {:>2}  {:<12} (typenet layer {:>2} {:<9}) {}",
            m.index,
            m.torch,
            m.layer,
            m.name,
            m.tensors.join(", ")
        );
    }
    let weights = out.join("seed_cnn.safetensors");
    export_pytorch(&model, &weights)?;

    // A few test digits and typenet's logits for them, in one more safetensors file.
    let probes = mnist.test.take(PROBES);
    let pixels = probes.samples().as_slice().to_vec();
    let x: Tensor<(usize, Const<1>, Const<28>, Const<28>), f32, Cpu> =
        dev.tensor_from_vec(pixels.clone(), (PROBES, Const, Const, Const));
    let logits = model.forward(x).as_vec();
    let labels: Vec<f32> = probes.labels().iter().map(|&l| l as f32).collect();
    let probe_file = out.join("seed_cnn_probes.safetensors");
    write_f32s(
        &probe_file,
        &[
            ("inputs", vec![PROBES, 1, 28, 28], &pixels),
            ("logits", vec![PROBES, 10], &logits),
            ("labels", vec![PROBES], &labels),
        ],
    )?;
    println!(
        "\nweights: {}\nprobes:  {} ({PROBES} test digits, typenet's logits)\nnow: python scripts/pytorch_parity.py {}",
        weights.display(),
        probe_file.display(),
        out.display()
    );
    Ok(())
}

/// Loads a state_dict saved by PyTorch into a fresh seed CNN and compares its logits on
/// the probes with those the exported model gave.
fn check_import(state_dict: &PathBuf, out: &Path) -> Result<(), TrainError> {
    let dev = Cpu::default();
    let mut model = dev.build_module::<SeedCnn, f32>();
    import_pytorch(&mut model, state_dict)?;
    let probe_file = out.join("seed_cnn_probes.safetensors");
    let bytes = std::fs::read(&probe_file).map_err(|source| TrainError::Io {
        path: probe_file.clone(),
        source,
    })?;
    let probes = safetensors::SafeTensors::deserialize(&bytes).map_err(|source| {
        TrainError::Safetensors {
            path: probe_file.clone(),
            source,
        }
    })?;
    let f32s = |name: &str| -> Vec<f32> {
        let view = probes.tensor(name).expect("the example wrote it");
        view.data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    let x: Tensor<(usize, Const<1>, Const<28>, Const<28>), f32, Cpu> =
        dev.tensor_from_vec(f32s("inputs"), (PROBES, Const, Const, Const));
    let logits = model.forward(x).as_vec();
    let diff = logits
        .iter()
        .zip(f32s("logits"))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    println!(
        "{} loaded into typenet: max |logit - exported model's logit| = {diff:.3e} on {PROBES} test digits",
        state_dict.display()
    );
    Ok(())
}

/// Writes named `f32` arrays to a safetensors file.
fn write_f32s(path: &PathBuf, arrays: &[(&str, Vec<usize>, &[f32])]) -> Result<(), TrainError> {
    let bytes: Vec<Vec<u8>> = arrays
        .iter()
        .map(|(_, _, values)| values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = arrays
        .iter()
        .zip(&bytes)
        .map(|((name, shape, _), bytes)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                .map(|view| (*name, view))
        })
        .collect::<Result<Vec<_>, _>>();
    let file = views.and_then(|views| safetensors::serialize(views, &None));
    let file = file.map_err(|source| TrainError::Safetensors {
        path: path.clone(),
        source,
    })?;
    std::fs::write(path, file).map_err(|source| TrainError::Io {
        path: path.clone(),
        source,
    })
}
