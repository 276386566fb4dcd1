use typenet::prelude::*;

type Net = network![Input<1, 28, 28>, Conv2D<0, 3>];

fn main() {}
