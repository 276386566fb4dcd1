use typenet::prelude::*;

type Net = network![
    Tokens<20>,
    Concat<[], [Embedding<100, 8>]>,
];

fn main() {}
