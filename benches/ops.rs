//! Each op of the seed models alone, at the seed models' sizes, on the `Cpu` in `f32` at
//! batch 64: forward, and forward then backward, through the public layer types (a network
//! of one layer).
//!
//! Throughput is in floating-point operations: each benchmark tells criterion the FLOPs of
//! one iteration as `Throughput::Elements`, so the "elem/s" criterion prints is FLOP/s
//! ("Gelem/s" = GFLOP/s). The forward's FLOPs come from the layer's type
//! (`Network::FLOPS`, a multiply-add counted as 2); a forward and backward of a convolution
//! or recurrent layer counts three times that (`forward_backward_flops`); a recurrent
//! layer's count is its gemms', not its gates' element-wise sigmoid and tanh. A max-pool does
//! comparisons, counted as its FLOPs, and its backward only routes each gradient to its
//! window's maximum: its forward and backward counts the forward's comparisons once.
//!
//! `cargo bench --bench ops` (`-- conv2d` for the convolutions alone, `-- block` for the
//! seed CNN's fused blocks)

#[macro_use]
mod seed_models;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seed_models::{forward_backward_flops, BATCH};
use typenet::prelude::*;

/// Benchmarks the one-layer network `$net` on a random batch of shape `$input` as group
/// `$name`: `forward` (no tape) and `forward_backward` (the input traced as in a training
/// step, the output summed to a loss, backward). `$flops` maps the forward's FLOPs to the
/// forward and backward's.
macro_rules! bench_op {
    ($c:expr, $name:literal, $net:ty, $input:ty, $flops:expr) => {{
        let dev: Cpu = Cpu::seed_from_u64(0);
        let mut model = dev.build_module::<$net, f32>();
        let x: Tensor<$input, f32, _> = dev.sample_uniform();
        let forward = BATCH * <$net as Network>::FLOPS;
        let mut group = $c.benchmark_group($name);

        group.throughput(Throughput::Elements(forward as u64));
        group.bench_function("forward", |b| b.iter(|| model.forward(x.clone())));

        group.throughput(Throughput::Elements($flops(forward) as u64));
        let mut spare = Some(model.alloc_grads());
        group.bench_function("forward_backward", |b| {
            b.iter(|| {
                let y = model.forward_mut(x.trace(spare.take().unwrap()));
                let mut grads = y.sum::<Rank0, _>().backward();
                model.zero_grads(&mut grads);
                spare = Some(grads);
            })
        });
        group.finish();
    }};
}

/// A pooling backward does no arithmetic (see the module's doc).
fn forward_only(forward: usize) -> usize {
    forward
}

/// The seed CNN's three convolutions and its first pooling.
fn convolutions_and_pooling(c: &mut Criterion) {
    type Conv1 = network![Input<1, 28, 28>, Conv2D<32, 3>];
    type Conv2 = network![Input<32, 13, 13>, Conv2D<64, 3>];
    type Conv3 = network![Input<64, 5, 5>, Conv2D<64, 3>];
    type Pool = network![Input<32, 26, 26>, MaxPool<2>];
    bench_op!(c, "conv2d_1x28x28_to_32", Conv1, Rank4<BATCH, 1, 28, 28>, forward_backward_flops);
    bench_op!(c, "conv2d_32x13x13_to_64", Conv2, Rank4<BATCH, 32, 13, 13>, forward_backward_flops);
    bench_op!(c, "conv2d_64x5x5_to_64", Conv3, Rank4<BATCH, 64, 5, 5>, forward_backward_flops);
    bench_op!(c, "maxpool2_32x26x26", Pool, Rank4<BATCH, 32, 26, 26>, forward_only);
}

/// The seed CNN's first two blocks as the model runs them: each `Conv2D, ReLU, MaxPool<2>`
/// is one fused kernel (README, Speed). Their counts come from the block's type, as the
/// other rows' do (`Network::FLOPS` of all three layers, times 3 for forward and backward).
fn fused_blocks(c: &mut Criterion) {
    type Block1 = network![Input<1, 28, 28>, Conv2D<32, 3>, ReLU, MaxPool<2>];
    type Block2 = network![Input<32, 13, 13>, Conv2D<64, 3>, ReLU, MaxPool<2>];
    bench_op!(c, "block_1x28x28_to_32", Block1, Rank4<BATCH, 1, 28, 28>, forward_backward_flops);
    bench_op!(c, "block_32x13x13_to_64", Block2, Rank4<BATCH, 32, 13, 13>, forward_backward_flops);
}

/// The seed LSTM's two layers (the first returns its sequence, as there) and a GRU in the
/// first one's place.
fn recurrent(c: &mut Criterion) {
    type Lstm28 = network![Input<28, 28>, LSTM<64, ReturnSequences>];
    type Lstm64 = network![Input<28, 64>, LSTM<64>];
    type Gru28 = network![Input<28, 28>, GRU<64, ReturnSequences>];
    bench_op!(c, "lstm64_28x28_sequences", Lstm28, Rank3<BATCH, 28, 28>, forward_backward_flops);
    bench_op!(c, "lstm64_28x64_last", Lstm64, Rank3<BATCH, 28, 64>, forward_backward_flops);
    bench_op!(c, "gru64_28x28_sequences", Gru28, Rank3<BATCH, 28, 28>, forward_backward_flops);
}

criterion_group!(benches, convolutions_and_pooling, fused_blocks, recurrent);
criterion_main!(benches);
