use typenet::prelude::*;

type Net = network![Input<64>, Dense<10, activation = swish>];

fn main() {}
