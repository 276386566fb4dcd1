use typenet::prelude::*;

type Net = network![Conv2D<32, 3>, Flatten, Dense<10>];

fn main() {}
