use typenet::prelude::*;

type Net = network![Input<1, 28, 28>, Conv2D<8, 3, padding = 99999999999999999999999>];

fn main() {}
