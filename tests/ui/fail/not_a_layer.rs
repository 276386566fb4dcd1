use typenet::prelude::*;

type Net = network![Input<64>, 10];

fn main() {}
