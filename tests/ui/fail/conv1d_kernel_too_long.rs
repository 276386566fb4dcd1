use typenet::prelude::*;

type Net = network![
    Tokens<12>,
    Embedding<1000, 32>,
    Conv1D<64, 5>, MaxPool1D<2>,
    Conv1D<64, 5>,
    GlobalMaxPool1D,
    Dense<2>,
];

fn main() {}
