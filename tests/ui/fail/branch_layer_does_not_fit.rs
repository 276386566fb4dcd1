use typenet::prelude::*;

type Net = network![
    Input<1, 28, 28>,
    Conv2D<8, 3>,
    Concat<[Conv2D<8, 1>], [MaxPool<2>, Conv2D<8, 14>]>,
];

fn main() {}
