use typenet::prelude::*;

type Net = network![Input<64>, Conv2D<8, 3>];

fn main() {}
