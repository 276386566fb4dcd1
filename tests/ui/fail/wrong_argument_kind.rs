use typenet::prelude::*;

type Net = network![Input<64>, Dense<relu>];

fn main() {}
