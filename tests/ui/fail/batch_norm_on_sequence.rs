use typenet::prelude::*;

type Net = network![Input<28, 28>, BatchNorm];

fn main() {}
