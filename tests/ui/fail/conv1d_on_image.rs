use typenet::prelude::*;

type Net = network![Input<1, 28, 28>, Conv1D<32, 3>, Flatten, Dense<10>];

fn main() {}
