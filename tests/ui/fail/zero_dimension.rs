use typenet::prelude::*;

type Net = network![Input<1, 0, 28>, Flatten, Dense<10>];

fn main() {}
