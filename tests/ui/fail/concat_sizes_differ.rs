use typenet::prelude::*;

type Net = network![
    Input<3, 32, 32>,
    Concat<[Conv2D<16, 1>], [Conv2D<16, 3, stride = 2>, ReLU]>,
];

fn main() {}
