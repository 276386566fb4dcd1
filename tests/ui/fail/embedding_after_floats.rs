use typenet::prelude::*;

type Net = network![Input<20, 8>, Embedding<1000, 16>, LSTM<32>];

fn main() {}
