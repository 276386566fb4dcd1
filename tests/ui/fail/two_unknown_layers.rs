use typenet::prelude::*;

type Net = network![Input<1, 28, 28>, Conv2d<32, 3>, MaxPooling2D<2>, Flatten, Dense<10>];

fn main() {}
