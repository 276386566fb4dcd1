//! Dropout and BatchNorm switch between training (`forward_mut` on a traced input) and
//! inference (`forward`).
use typenet::prelude::*;

type Net = network![
    Input<1, 8, 8>,
    Conv2D<4, 3>, BatchNorm, ReLU, Dropout<0.25>,
    Flatten,
    Dense<16>, BatchNorm, Dropout<0.5>,
    Dense<2>,
];

fn main() {
    let dev: Cpu = Default::default();
    let mut net = dev.build_module::<Net, f32>();
    let x: Tensor<Rank4<4, 1, 8, 8>, f32, _> = dev.sample_normal();
    let grads = net.alloc_grads();
    let train = net.forward_mut(x.trace(grads));
    let _ = train.sum().backward();
    let a = net.forward(x.clone()).array();
    let b = net.forward(x).array();
    assert_eq!(a, b, "inference is deterministic");
}
