use typenet::prelude::*;

type Net = network![Input<28, 28>, LSTM<64, return_sequences = yes>];

fn main() {}
