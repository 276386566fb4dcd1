use typenet::prelude::*;

type Net = network![Input<1, 28, 28>, MaxPool<2, padding = 2>];

fn main() {}
