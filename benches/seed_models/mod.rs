//! The seed models and their training step, shared by the benches that time them
//! (`seed_cnn` on the `Cpu`, `cuda_step` on a GPU), measure their memory (`peak_memory`)
//! and compare them with the machine's limit. `benches/pytorch_seed_cnn.py` defines the same models in PyTorch.

// Each bench uses part of this module.
#![allow(dead_code, unused_macros)]

use typenet::prelude::*;

pub type SeedCnn = network![
    Input<1, 28, 28>,
    Conv2D<32, 3>, ReLU, MaxPool<2>,
    Conv2D<64, 3>, ReLU, MaxPool<2>,
    Conv2D<64, 3>, ReLU,
    Flatten,
    Dense<64>, ReLU,
    Dense<10>,
];

pub type SeedLstm = network![Input<28, 28>, LSTM<64, ReturnSequences>, LSTM<64>, Dense<10>];

pub type Crnn = network![Input<1, 28, 28>, Conv2D<32, 3>, MaxPool<2>, LSTM<64>, Dense<10>];

/// The batch size of every training step here.
pub const BATCH: usize = 64;

/// Floating-point operations of a forward and backward pass, given the forward's: the
/// backward of a product (a convolution, a dense or recurrent layer) computes two products
/// as large as the forward's, the gradients of the input and of the weights.
pub const fn forward_backward_flops(forward: usize) -> usize {
    3 * forward
}

/// `Rank4<..>` or `Rank3<..>`, by the number of dimensions given.
macro_rules! Rank4Or3 {
    ($a:expr, $b:literal, $c:literal, $d:literal) => { Rank4<$a, $b, $c, $d> };
    ($a:expr, $b:literal, $c:literal) => { Rank3<$a, $b, $c> };
}

/// A closure that runs one training step of a `$net` (batch 64, cross-entropy, Adam) on a
/// random batch of samples of shape `($($dim),*)`, as a training loop does: the gradients
/// move through the tape and come back from backward, zeroed, for the next step. `$model`
/// is the model the closure will train. A macro rather than a generic function because each
/// model's input is a different concrete shape.
macro_rules! train_step {
    ($dev:expr, $model:expr, $net:ty, [$($dim:literal),*]) => {{
        let dev: &Cpu = &$dev;
        let batch: Tensor<Rank4Or3!(64, $($dim),*), f32, _> = dev.sample_uniform();
        let labels: [usize; 64] = std::array::from_fn(|i| i % 10);
        let targets = dev.tensor(
            labels.map(|l| std::array::from_fn::<f32, 10, _>(|k| (k == l) as u8 as f32)),
        );
        let mut opt = Adam::new($model, AdamConfig::default());
        let mut spare = Some($model.alloc_grads());
        move |model: &mut <$net as BuildOnDevice<Cpu, f32>>::Built| {
            let logits = model.forward_mut(batch.trace(spare.take().unwrap()));
            let loss = cross_entropy_with_logits_loss(logits, targets.clone());
            let mut grads = loss.backward();
            opt.update(model, &grads).expect("every parameter has a gradient");
            model.zero_grads(&mut grads);
            spare = Some(grads);
        }
    }};
}
