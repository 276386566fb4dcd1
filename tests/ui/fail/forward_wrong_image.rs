use typenet::prelude::*;

type Net = network![Input<1, 28, 28>, Conv2D<8, 3>, ReLU, Flatten, Dense<10>];

fn main() {
    let dev: Cpu = Default::default();
    let net = dev.build_module::<Net, f32>();
    // colour images into a network declared for grey ones
    let _ = net.forward(dev.zeros::<Rank4<2, 3, 28, 28>>());
}
