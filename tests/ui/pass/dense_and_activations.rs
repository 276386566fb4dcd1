//! Dense on vectors and sequences, every activation, and `Flatten` on a vector (a no-op).
use typenet::prelude::*;

type Vectors = network![
    Input<6>,
    Flatten,
    Dense<8>, ReLU, Dense<8>, LeakyReLU, Dense<8>, LeakyReLU<0.01>,
    Dense<8>, Sigmoid, Dense<8>, Tanh, Dense<8>, GELU,
    Dense<4, activation = leaky_relu>, Dense<3, activation = softmax>,
];
type Steps = network![Input<5, 6>, Dense<4, activation = gelu>, Softmax];

fn main() {
    let dev: Cpu = Default::default();
    let net = dev.build_module::<Vectors, f64>();
    let y: Tensor<Rank1<3>, f64, _> = net.forward(dev.sample_normal::<Rank1<6>>());
    assert!((y.array().iter().sum::<f64>() - 1.0).abs() < 1e-12);
    let seq = dev.build_module::<Steps, f32>();
    let _: Tensor<Rank2<5, 4>, f32, _> = seq.forward(dev.zeros::<Rank2<5, 6>>());
    let _: Tensor<Rank3<2, 5, 4>, f32, _> = seq.forward(dev.zeros::<Rank3<2, 5, 6>>());
}
