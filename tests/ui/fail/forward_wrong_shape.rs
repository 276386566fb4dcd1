use typenet::prelude::*;

type Net = network![Input<8>, Dense<4>];

fn main() {
    let dev: Cpu = Default::default();
    let net = dev.build_module::<Net, f32>();
    // a batch of 9-element samples into a network that takes 8
    let _ = net.forward(dev.zeros::<Rank2<2, 9>>());
}
