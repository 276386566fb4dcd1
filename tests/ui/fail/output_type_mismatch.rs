use typenet::prelude::*;

type Net = network![Input<8>, Dense<4>];

fn main() {
    let dev: Cpu = Default::default();
    let net = dev.build_module::<Net, f32>();
    // the compiler knows the output is (2, 4), not (2, 10)
    let _: Tensor<Rank2<2, 10>, f32, Cpu> = net.forward(dev.zeros::<Rank2<2, 8>>());
}
