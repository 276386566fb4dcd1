use typenet::prelude::*;

type Net = network![
    Input<1, 28, 28>,
    Flatten,
    Concat<[Input<784>], [Tokens<20>, Embedding<100, 8>, LSTM<8>]>,
];

fn main() {}
