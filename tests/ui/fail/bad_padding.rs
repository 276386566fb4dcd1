use typenet::prelude::*;

type Net = network![Input<1, 28, 28>, Conv2D<8, 3, padding = full>];

fn main() {}
