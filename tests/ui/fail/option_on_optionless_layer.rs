use typenet::prelude::*;

type Net = network![Input<64>, Dropout<0.5, seed = 1>];

fn main() {}
