use typenet::prelude::*;

type Net = network![
    Concat<[Input<1, 28, 28>, Flatten], [Dense<8>]>,
    Dense<10>,
];

fn main() {}
