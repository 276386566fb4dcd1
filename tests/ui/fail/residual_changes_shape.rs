use typenet::prelude::*;

type Net = network![
    Input<1, 28, 28>,
    Conv2D<32, 3, padding = same>,
    MaxPool<2>,
    Residual<[Conv2D<64, 3, stride = 2, padding = same>, BatchNorm, ReLU]>,
];

fn main() {}
