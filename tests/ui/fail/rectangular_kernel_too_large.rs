use typenet::prelude::*;

// A kernel 5 columns wide on spectrogram frames 4 columns wide: the rows fit, the columns
// do not.
type Net = network![
    Input<1, 40, 4>,
    Conv2D<16, (3, 5)>,
    Flatten,
    Dense<10>,
];

fn main() {}
