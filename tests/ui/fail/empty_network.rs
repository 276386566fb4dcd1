use typenet::prelude::*;

type Net = network![];

fn main() {}
