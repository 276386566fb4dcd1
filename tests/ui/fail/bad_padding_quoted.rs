use typenet::prelude::*;

// Keras's causal padding is not one of typenet's: the message lists those that are.
type Net = network![Input<100, 8>, Conv1D<16, 3, padding = "causal">];

fn main() {}
