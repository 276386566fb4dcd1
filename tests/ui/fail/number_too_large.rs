use typenet::prelude::*;

type Net = network![Input<64>, Dense<99999999999999999999999>];

fn main() {}
