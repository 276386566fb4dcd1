use typenet::prelude::*;

type Net = network![
    Input<64>,
    Add<[Dense<32>, ReLU], [Dense<16>], []>,
];

fn main() {}
