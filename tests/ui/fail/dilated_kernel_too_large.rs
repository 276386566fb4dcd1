use typenet::prelude::*;

type Net = network![Input<1, 8, 8>, Conv2D<4, 3, dilation = 4>];

fn main() {}
