//! Every merge, branches that pass their input through, merges of sequences, and networks of
//! two and three inputs, batched and unbatched.
use typenet::prelude::*;

type Inception = network![
    Input<3, 16, 16>,
    Concat<
        [Conv2D<8, 1>],
        [Conv2D<8, 3, padding = same>, ReLU],
        [Conv2D<8, 5, padding = same>, ReLU],
        [MaxPool<3, stride = 1, padding = same>, Conv2D<8, 1>],
        [],
    >,
    BatchNorm,
    Add<[Conv2D<35, 1>], []>,
    Multiply<[Conv2D<35, 1>, Sigmoid], []>,
    Average<[MaxPool<2>], [AvgPool<2>]>,
    Maximum<[GlobalAvgPool], [GlobalMaxPool]>,
    Dense<10>,
];
type Sequences = network![
    Input<12, 4>,
    Concat<[LSTM<8, return_sequences>], [GRU<8, return_sequences>], [Dense<3>]>,
    LSTM<4>,
];
type ImageAndText = network![
    Concat<
        [Input<1, 28, 28>, Conv2D<8, 3>, MaxPool<2>, Flatten],
        [Tokens<20>, Embedding<100, 16>, Bidirectional<GRU<8>>],
        [Input<3>],
    >,
    Dense<16>, ReLU,
    Dense<2>,
];

fn main() {
    let dev: Cpu = Default::default();
    let _: Tensor<Rank2<2, 10>, f32, _> =
        dev.build_module::<Inception, f32>().forward(dev.zeros::<Rank4<2, 3, 16, 16>>());
    let _: Tensor<Rank1<4>, f32, _> =
        dev.build_module::<Sequences, f32>().forward(dev.zeros::<Rank2<12, 4>>());
    let net = dev.build_module::<ImageAndText, f32>();
    let words: Tensor<Rank2<5, 20>, usize, _> = dev.zeros();
    let word: Tensor<Rank1<20>, usize, _> = dev.zeros();
    let _: Tensor<Rank2<5, 2>, f32, _> = net.forward((
        dev.zeros::<Rank4<5, 1, 28, 28>>(),
        words,
        dev.zeros::<Rank2<5, 3>>(),
    ));
    let _: Tensor<Rank1<2>, f32, _> = net.forward((
        dev.zeros::<Rank3<1, 28, 28>>(),
        word,
        dev.zeros::<Rank1<3>>(),
    ));
}
