use typenet::prelude::*;

type Net = network![Input<64>, Dropout<1.5>];

fn main() {}
