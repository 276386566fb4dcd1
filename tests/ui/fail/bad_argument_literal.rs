use typenet::prelude::*;

type Net = network![Input<64>, Dense<"ten">];

fn main() {}
