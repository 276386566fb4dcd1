use typenet::prelude::*;

type Net = network![Input<1, 28, 28, 3>, Flatten, Dense<10>];

fn main() {}
