use typenet::prelude::*;

type Net = network![Tokens<20>, Dense<16>];

fn main() {}
