use typenet::prelude::*;

type Net = network![Input<64>, Flatten, Dense<10>];

fn main() {}
