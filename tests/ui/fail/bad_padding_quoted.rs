use typenet::prelude::*;

// Keras's `padding="causal"` is not one of typenet's.
type Net = network![Input<100, 8>, Conv1D<16, 3, padding = "causal">];

fn main() {}
