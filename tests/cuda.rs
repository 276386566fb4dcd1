//! The seed networks on `Cuda` against `Cpu`: the same weights give the same outputs and the
//! same gradients (to 1e-3 relative), and a few training steps on the GPU lower the loss as
//! they do on the CPU.
//!
//! Built only with the `cuda` feature. Without a GPU (or with `cuda-check`, whose kernels are
//! empty) every test prints why it skips and passes. `scripts/cuda-build.sh` builds these on a
//! machine without the CUDA toolkit; `scripts/cuda-gpu-run.sh` runs them on a GPU machine.
#![cfg(feature = "cuda")]

use std::collections::BTreeMap;
use typenet::dfdx::nn::tensor_collection::TensorCollection;
use typenet::layers::{lengths_mask, Masked, SequencePadding};
use typenet::prelude::*;
use typenet::train::{load_checkpoint, save_checkpoint};

type SeedCnn = network![
    Input<1, 28, 28>,
    Conv2D<32, 3>, ReLU, MaxPool<2>,
    Conv2D<64, 3>, ReLU, MaxPool<2>,
    Conv2D<64, 3>, ReLU,
    Flatten,
    Dense<64>, ReLU,
    Dense<10>,
];
type SeedLstm = network![Input<28, 28>, LSTM<64, ReturnSequences>, LSTM<64>, Dense<10>];
type Crnn = network![Input<1, 28, 28>, Conv2D<32, 3>, MaxPool<2>, LSTM<64>, Dense<10>];
type TextBiGru =
    network![Tokens<12>, Embedding<50, 8>, Dropout<0.2>, Bidirectional<GRU<16>>, Dense<10>];
type SequenceBiGru = network![Input<12, 8>, Bidirectional<GRU<16>>, Dense<10>];
type Normed = network![
    Input<3, 12, 12>,
    Conv2D<8, 3, padding = same>, BatchNorm, ReLU,
    Residual<[Conv2D<8, 3, padding = same>, BatchNorm]>,
    GlobalAvgPool,
    Dense<16>, BatchNorm, Dense<10>,
];
type Dropped = network![Input<20>, Dense<32, activation = relu>, Dropout<0.5>, Dense<10>];

const BATCH: usize = 8;

/// The GPU, or `None` with the reason printed.
fn gpu() -> Option<Cuda> {
    if cfg!(feature = "cuda-check") {
        eprintln!("skipped: built with `cuda-check`, whose kernels are empty; build with `cuda`");
        return None;
    }
    match typenet::cuda::open_cuda(0, 0) {
        Ok(dev) => Some(dev),
        Err(why) => {
            eprintln!("skipped: {why}");
            None
        }
    }
}

/// Every f32 tensor of `model` by name, read back through a checkpoint.
fn tensors<M: TensorCollection<f32, D>, D: Device<f32>>(model: &M) -> BTreeMap<String, Vec<f32>> {
    let file = tempfile::NamedTempFile::new().unwrap();
    save_checkpoint(model, file.path()).unwrap();
    let bytes = std::fs::read(file.path()).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .filter(|(_, view)| view.dtype() == safetensors::Dtype::F32)
        .map(|(name, view)| {
            let values = view.data().chunks_exact(4);
            (
                name,
                values
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect(),
            )
        })
        .collect()
}

/// `b` equals `a` to 1e-3 relative, with a floor for values near zero.
fn assert_close(what: &str, a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = a.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let tolerance = 1e-3 * x.abs().max(y.abs()) + 1e-5 * scale.max(1.0);
        assert!((x - y).abs() <= tolerance, "{what}[{i}]: cpu {x}, cuda {y}");
    }
}

/// Each tensor's change over one step: with SGD at learning rate 1, minus its gradient.
fn steps(
    before: &BTreeMap<String, Vec<f32>>,
    after: &BTreeMap<String, Vec<f32>>,
) -> BTreeMap<String, Vec<f32>> {
    before
        .iter()
        .map(|(name, b)| {
            (
                name.clone(),
                after[name].iter().zip(b).map(|(a, b)| a - b).collect(),
            )
        })
        .collect()
}

/// Builds `$net` on both devices with the CPU's weights, then compares outputs for one input,
/// the gradients of one SGD step, and the losses of `$train_steps` Adam steps (compared only
/// when `$same_draws`: dropout's masks come from each device's own generator).
macro_rules! compare {
    ($net:ty, $dev:ident => $input:expr, $same_draws:expr) => {{
        let Some(cuda) = gpu() else { return };
        let cpu = Cpu::seed_from_u64(0);
        let mut on_cpu = cpu.build_module::<$net, f32>();
        let mut on_gpu = cuda.build_module::<$net, f32>();
        let weights = tempfile::NamedTempFile::new().unwrap();
        save_checkpoint(&on_cpu, weights.path()).unwrap();
        load_checkpoint(&mut on_gpu, weights.path()).unwrap();

        let x_cpu = {
            let $dev = &cpu;
            $input
        };
        let x_gpu = {
            let $dev = &cuda;
            $input
        };
        let labels: Vec<f32> = (0..BATCH * 10)
            .map(|i| ((i / 10 + i % 10) % 10 == 0) as u8 as f32)
            .collect();
        let y_cpu = cpu.tensor_from_vec(labels.clone(), (BATCH, Const::<10>));
        let y_gpu = cuda.tensor_from_vec(labels, (BATCH, Const::<10>));

        let out_cpu = on_cpu.forward(x_cpu.clone());
        let out_gpu = on_gpu.forward(x_gpu.clone());
        assert_close("output", &out_cpu.as_vec(), &out_gpu.as_vec());

        if $same_draws {
            let sgd = SgdConfig {
                lr: 1.0,
                momentum: None,
                weight_decay: None,
            };
            let before = tensors(&on_cpu);
            let loss = cross_entropy_with_logits_loss(
                on_cpu.forward_mut(x_cpu.clone().with_tape(on_cpu.alloc_grads())),
                y_cpu.clone(),
            );
            Sgd::new(&on_cpu, sgd)
                .update(&mut on_cpu, &loss.backward())
                .unwrap();
            let loss = cross_entropy_with_logits_loss(
                on_gpu.forward_mut(x_gpu.clone().with_tape(on_gpu.alloc_grads())),
                y_gpu.clone(),
            );
            Sgd::new(&on_gpu, sgd)
                .update(&mut on_gpu, &loss.backward())
                .unwrap();
            let (cpu_step, gpu_step) = (
                steps(&before, &tensors(&on_cpu)),
                steps(&before, &tensors(&on_gpu)),
            );
            for (name, step) in &cpu_step {
                assert_close(&format!("gradient of {name}"), step, &gpu_step[name]);
            }
        }

        let (mut adam_cpu, mut adam_gpu) = (
            Adam::new(
                &on_cpu,
                AdamConfig {
                    lr: 1e-2,
                    ..Default::default()
                },
            ),
            Adam::new(
                &on_gpu,
                AdamConfig {
                    lr: 1e-2,
                    ..Default::default()
                },
            ),
        );
        let (mut cpu_losses, mut gpu_losses) = (vec![], vec![]);
        for _ in 0..5 {
            let loss = cross_entropy_with_logits_loss(
                on_cpu.forward_mut(x_cpu.clone().with_tape(on_cpu.alloc_grads())),
                y_cpu.clone(),
            );
            cpu_losses.push(loss.array());
            adam_cpu.update(&mut on_cpu, &loss.backward()).unwrap();
            let loss = cross_entropy_with_logits_loss(
                on_gpu.forward_mut(x_gpu.clone().with_tape(on_gpu.alloc_grads())),
                y_gpu.clone(),
            );
            gpu_losses.push(loss.array());
            adam_gpu.update(&mut on_gpu, &loss.backward()).unwrap();
        }
        eprintln!("losses of 5 Adam steps: cpu {cpu_losses:?}, cuda {gpu_losses:?}");
        assert!(
            gpu_losses[4] < gpu_losses[0],
            "training on the GPU did not lower the loss: {gpu_losses:?}"
        );
        if $same_draws {
            assert_close("losses", &cpu_losses, &gpu_losses);
        }
    }};
}

/// An input that can carry a gradient tape: a tensor, or the sequences of a `Masked`.
trait WithTape<D: Device<f32>> {
    type Traced;
    fn with_tape(self, grads: Gradients<f32, D>) -> Self::Traced;
}

impl<S: Shape, D: Device<f32>> WithTape<D> for Tensor<S, f32, D> {
    type Traced = Tensor<S, f32, D, OwnedTape<f32, D>>;
    fn with_tape(self, grads: Gradients<f32, D>) -> Self::Traced {
        self.traced(grads)
    }
}

impl<S: Shape, D: Device<f32>> WithTape<D> for Tensor<S, usize, D> {
    type Traced = Tensor<S, usize, D, OwnedTape<f32, D>>;
    fn with_tape(self, grads: Gradients<f32, D>) -> Self::Traced {
        self.traced(grads)
    }
}

impl<X: WithTape<D>, M, D: Device<f32>> WithTape<D> for Masked<X, M> {
    type Traced = Masked<X::Traced, M>;
    fn with_tape(self, grads: Gradients<f32, D>) -> Self::Traced {
        Masked {
            x: self.x.with_tape(grads),
            mask: self.mask,
        }
    }
}

/// A batch of inputs of shape `(BATCH, ..dims)`, the same on every device: values from a
/// fixed formula rather than a device's generator.
fn batch<S: Shape, D: Device<f32>>(dev: &D, shape: S) -> Tensor<S, f32, D> {
    let n = shape.num_elements();
    dev.tensor_from_vec(
        (0..n)
            .map(|i| (i * 7919 % 1000) as f32 / 500.0 - 1.0)
            .collect(),
        shape,
    )
}

#[test]
fn seed_cnn_matches_cpu() {
    compare!(SeedCnn, dev => batch(dev, (BATCH, Const::<1>, Const::<28>, Const::<28>)), true);
}

#[test]
fn stacked_lstm_matches_cpu() {
    compare!(SeedLstm, dev => batch(dev, (BATCH, Const::<28>, Const::<28>)), true);
}

#[test]
fn crnn_matches_cpu() {
    compare!(Crnn, dev => batch(dev, (BATCH, Const::<1>, Const::<28>, Const::<28>)), true);
}

#[test]
fn masked_text_bidirectional_gru_matches_cpu() {
    // Token ids of sequences of 12, 11, .. 5 steps, padded after with id 0: the mask changes
    // every sequence but the first. Dropout (0.2) draws on each device: this compares outputs,
    // which are inference's, and trains; the masked GRU's gradients are compared below.
    let lengths: Vec<usize> = (0..BATCH).map(|i| 12 - i).collect();
    let ids: Vec<usize> = (0..BATCH * 12)
        .map(|i| {
            if i % 12 < lengths[i / 12] {
                1 + i * 31 % 49
            } else {
                0
            }
        })
        .collect();
    compare!(
        TextBiGru,
        dev => {
            let ids = dev.tensor_from_vec(ids.clone(), (BATCH, 12usize));
            Masked::new(ids, lengths_mask(dev, &lengths, 12, SequencePadding::Post).unwrap()).unwrap()
        },
        false
    );
}

#[test]
fn masked_bidirectional_gru_gradients_match_cpu() {
    let lengths: Vec<usize> = (0..BATCH).map(|i| 12 - 11 * i / (BATCH - 1)).collect();
    compare!(
        SequenceBiGru,
        dev => {
            let x = batch(dev, (BATCH, 12usize, Const::<8>));
            Masked::new(x, lengths_mask(dev, &lengths, 12, SequencePadding::Post).unwrap()).unwrap()
        },
        true
    );
}

#[test]
fn batch_norm_network_matches_cpu() {
    compare!(Normed, dev => batch(dev, (BATCH, Const::<3>, Const::<12>, Const::<12>)), true);
}

#[test]
fn dropout_network_infers_as_cpu_and_trains() {
    compare!(Dropped, dev => batch(dev, (BATCH, Const::<20>)), false);
}
