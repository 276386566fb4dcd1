//! The same seed gives bit-identical weights, run after run, on one machine and thread count:
//! the fast kernels reduce in a fixed order, whatever the scheduling.

use typenet::layers::SampleShape;
use typenet::prelude::*;

/// The seed CNN's first two convolutions, on the batch size where runs drifted apart.
type Cnn = network![
    Input<1, 28, 28>,
    Conv2D<32, 3>, ReLU, MaxPool<2>,
    Conv2D<64, 3>, ReLU, MaxPool<2>,
    Flatten,
    Dense<10>,
];
type Recurrent = network![Input<7, 5>, LSTM<16, return_sequences>, GRU<8>, Dense<10>];

/// Trains `M` for a few Adam steps from seed 0 on a batch of 64 inputs of shape `S` and
/// returns its checkpoint: every parameter's exact bits.
fn trained_bytes<M, S>() -> Vec<u8>
where
    S: SampleShape + ConstShape,
    M: BuildOnDevice<Cpu, f32>,
    M::Built: ModuleMut<
        Tensor<S::Batched<Const<64>>, f32, Cpu, OwnedTape<f32, Cpu>>,
        Output = Tensor<Rank2<64, 10>, f32, Cpu, OwnedTape<f32, Cpu>>,
        Error = CpuError,
    >,
{
    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<M, f32>();
    let x: Tensor<S::Batched<Const<64>>, f32, _> =
        dev.sample_normal_like(&S::default().batched(Const));
    let y: Tensor<Rank2<64, 10>, f32, _> = dev.sample_normal();
    let mut adam = Adam::new(&model, AdamConfig::default());
    let mut grads = model.alloc_grads();
    for _ in 0..5 {
        let out = model.forward_mut(x.clone().traced(grads));
        grads = (out - y.clone()).square().mean().backward();
        adam.update(&mut model, &grads).unwrap();
        model.zero_grads(&mut grads);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.safetensors");
    save_checkpoint(&model, &path).unwrap();
    std::fs::read(path).unwrap()
}

#[test]
fn a_cnn_trains_to_the_same_bits_every_time() {
    let first = trained_bytes::<Cnn, Rank3<1, 28, 28>>();
    for _ in 0..5 {
        assert!(
            trained_bytes::<Cnn, Rank3<1, 28, 28>>() == first,
            "weights differ between runs"
        );
    }
}

#[test]
fn recurrent_layers_train_to_the_same_bits_every_time() {
    let first = trained_bytes::<Recurrent, Rank2<7, 5>>();
    for _ in 0..5 {
        assert!(
            trained_bytes::<Recurrent, Rank2<7, 5>>() == first,
            "weights differ between runs"
        );
    }
}
