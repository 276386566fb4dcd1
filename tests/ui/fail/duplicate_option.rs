use typenet::prelude::*;

type Net = network![Input<1, 28, 28>, Conv2D<32, 3, stride = 2, stride = 1>];

fn main() {}
