use typenet::prelude::*;

type Net = network![Tokens<50>, Embedding<1000, 32>, Conv2D<64, 5, activation = relu>, GlobalMaxPool, Dense<2>];

fn main() {}
