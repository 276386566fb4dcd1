//! Conv1D with every option and the 1-D pools, after an `Input<T, F>`, an `Embedding` and a
//! recurrent layer, batched and unbatched.
use typenet::prelude::*;

type TextCnn = network![
    Tokens<50>,
    Embedding<1000, 32>,
    Conv1D<64, 5, activation = relu>,
    GlobalMaxPool1D,
    Dense<2>,
];
type Options = network![
    Input<20, 3>,
    Conv1D<4, 3, stride = 2, padding = same, activation = "relu">,
    Conv1D<5, 2, padding = 1, dilation = 2>,
    MaxPool1D<2, padding = "same">,
    AvgPool1D<3, stride = 1, padding = 1>,
    GlobalAvgPool1D,
];
type AfterLstm = network![Input<10, 4>, LSTM<8, return_sequences>, Conv1D<6, 3>, MaxPool1D<2>, GRU<4>];

fn main() {
    let dev: Cpu = Default::default();
    let text = dev.build_module::<TextCnn, f32>();
    let _: Tensor<Rank1<2>, f32, _> = text.forward(dev.tensor([0usize; 50]));
    let _: Tensor<Rank2<3, 2>, f32, _> = text.forward(dev.tensor([[1usize; 50]; 3]));
    let options = dev.build_module::<Options, f32>();
    let _: Tensor<Rank1<5>, f32, _> = options.forward(dev.zeros::<Rank2<20, 3>>());
    let _: Tensor<(usize, Const<5>), f32, _> =
        options.forward(dev.zeros_like(&(4usize, Const::<20>, Const::<3>)));
    let _: Tensor<Rank2<2, 4>, f32, _> =
        dev.build_module::<AfterLstm, f32>().forward(dev.zeros::<Rank3<2, 10, 4>>());
}
