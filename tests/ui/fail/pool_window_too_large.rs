use typenet::prelude::*;

type Net = network![Input<3, 8, 8>, Conv2D<8, 3, stride = 2>, MaxPool<4>];

fn main() {}
