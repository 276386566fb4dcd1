use typenet::prelude::*;

type Net = network![
    Input<1, 28, 28>,
    Conv2D<32, 3>, MaxPool<2>,
    Conv2D<64, 3>, MaxPool<2>,
    Conv2D<64, 5>,
    Conv2D<64, 5>,
];

fn main() {}
