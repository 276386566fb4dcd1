use typenet::prelude::*;

type Net = network![Input<64>, Dense<10>, Input<10>];

fn main() {}
