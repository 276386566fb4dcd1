use typenet::prelude::*;

type Net = network![Input<1, 28, 28>, ToSequence<time = depth>];

fn main() {}
