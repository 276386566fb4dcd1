use typenet::prelude::*;

type Net = network![Input<28, 28>, Flatten, Dense<64>, LSTM<32>];

fn main() {}
