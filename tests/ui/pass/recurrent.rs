//! Every recurrent layer and option, the inserted and explicit image-to-sequence step, and
//! Embedding on token ids.
use typenet::prelude::*;

type Stacked = network![
    Input<10, 4>,
    LSTM<8, return_sequences>, GRU<8, ReturnSequences>, SimpleRNN<8, return_sequences = true>,
    Bidirectional<LSTM<4, return_sequences>>, Bidirectional<GRU<4>>,
    Dense<2>,
];
type Crnn = network![Input<1, 12, 12>, Conv2D<4, 3>, MaxPool<2>, GRU<8>, Dense<3>];
type HeightAsTime = network![Input<1, 12, 12>, Conv2D<4, 3>, ToSequence<time = height>, SimpleRNN<8>];
type QuotedTime = network![Input<1, 12, 12>, Conv2D<4, 3>, ToSequence<time = "height">, SimpleRNN<8>];
type Words = network![Tokens<6>, Embedding<20, 4>, Bidirectional<SimpleRNN<3>>, Dense<2>];

fn main() {
    let dev: Cpu = Default::default();
    let _: Tensor<Rank2<3, 2>, f32, _> = dev.build_module::<Stacked, f32>().forward(dev.zeros::<Rank3<3, 10, 4>>());
    let _: Tensor<Rank1<3>, f64, _> = dev.build_module::<Crnn, f64>().forward(dev.zeros::<Rank3<1, 12, 12>>());
    let _: Tensor<Rank2<2, 8>, f32, _> = dev.build_module::<HeightAsTime, f32>().forward(dev.zeros::<Rank4<2, 1, 12, 12>>());
    let _: Tensor<Rank2<2, 8>, f32, _> = dev.build_module::<QuotedTime, f32>().forward(dev.zeros::<Rank4<2, 1, 12, 12>>());
    let _: Tensor<Rank1<2>, f32, _> = dev.build_module::<Words, f32>().forward(dev.tensor([0usize, 1, 2, 3, 4, 19]));
}
