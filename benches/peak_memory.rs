//! Peak memory of training: the resident-set peak (`VmHWM`, Linux) of a process that runs
//! 5 warm-up and 20 training steps of a seed model (batch 64, Adam), as
//! `benches/pytorch_seed_cnn.py` prints PyTorch's. Each model runs in a fresh process (this
//! bench starts itself once per model), so no model's peak includes another's.
//!
//! `cargo bench --bench peak_memory`

#[macro_use]
mod seed_models;

use seed_models::{Crnn, SeedCnn, SeedLstm};
use std::process::Command;
use typenet::prelude::*;

const WARM_UP_STEPS: usize = 5;
const STEPS: usize = 20;
const MODELS: [&str; 3] = ["seed_cnn", "seed_lstm", "crnn"];

/// Builds `$net` and trains it for the warm-up and measured steps.
macro_rules! train {
    ($net:ty, [$($dim:literal),*]) => {{
        let dev: Cpu = Cpu::seed_from_u64(0);
        let mut model = dev.build_module::<$net, f32>();
        let mut step = train_step!(dev, &model, $net, [$($dim),*]);
        for _ in 0..WARM_UP_STEPS + STEPS {
            step(&mut model);
        }
    }};
}

/// The process's resident-set peak in KiB, as /proc/self/status reports it.
fn peak_resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    // `cargo bench` passes `--bench`; a model's name means this is the process measuring it.
    match std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        Some(name) => {
            let before = peak_resident_kib();
            match name.as_str() {
                "seed_cnn" => train!(SeedCnn, [1, 28, 28]),
                "seed_lstm" => train!(SeedLstm, [28, 28]),
                "crnn" => train!(Crnn, [1, 28, 28]),
                _ => panic!("unknown model {name}; one of {MODELS:?}"),
            }
            match (before, peak_resident_kib()) {
                (Some(before), Some(peak)) => println!(
                    "{name}: peak resident set {:.1} MiB over {WARM_UP_STEPS} + {STEPS} \
                     training steps (batch 64, Adam); {:.1} MiB before them",
                    mib(peak),
                    mib(before),
                ),
                _ => println!("{name}: no /proc/self/status here to read the peak from"),
            }
        }
        None => {
            let me = std::env::current_exe().expect("the bench's own path");
            for name in MODELS {
                let status = Command::new(&me)
                    .arg(name)
                    .status()
                    .expect("starting myself");
                assert!(status.success(), "measuring {name} failed");
            }
        }
    }
}
