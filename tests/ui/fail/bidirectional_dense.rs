use typenet::prelude::*;

type Net = network![Input<28, 28>, Bidirectional<Dense<64>>];

fn main() {}
