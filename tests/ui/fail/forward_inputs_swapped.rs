use typenet::prelude::*;

type Net = network![
    Concat<[Input<1, 28, 28>, Flatten], [Tokens<20>, Embedding<100, 8>, LSTM<8>]>,
    Dense<10>,
];

fn main() {
    let dev: Cpu = Default::default();
    let net = dev.build_module::<Net, f32>();
    let image: Tensor<Rank4<2, 1, 28, 28>, f32, _> = dev.zeros();
    let words: Tensor<Rank2<2, 20>, usize, _> = dev.zeros();
    let _ = net.forward((words, image));
}
