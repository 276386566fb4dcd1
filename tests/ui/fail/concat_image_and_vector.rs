use typenet::prelude::*;

type Net = network![
    Input<1, 28, 28>,
    Conv2D<8, 3>,
    Concat<[MaxPool<2>], [GlobalAvgPool, Dense<8>]>,
    Dense<10>,
];

fn main() {}
