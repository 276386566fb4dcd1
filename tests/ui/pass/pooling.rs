//! MaxPool and AvgPool with their options, and the global pools.
use typenet::prelude::*;

type Pools = network![
    Input<2, 9, 9>,
    MaxPool<2>,
    AvgPool<3, stride = 1, padding = same>,
    MaxPool<3, stride = 2, padding = 1>,
    AvgPool<2, padding = valid>,
];
// A size and stride per axis (rows, columns): 9x9 -> 4x9 -> 4x4.
type Rectangular = network![Input<2, 9, 9>, MaxPool<(2, 1)>, AvgPool<(1, 3), stride = (1, 2)>];
type Globals = network![Input<3, 5, 4>, GlobalMaxPool];
type GlobalAvg = network![Input<3, 5, 4>, GlobalAvgPool, Dense<2>];

fn main() {
    let dev: Cpu = Default::default();
    let pools = dev.build_module::<Pools, f32>();
    let _: Tensor<Rank3<2, 1, 1>, f32, _> = pools.forward(dev.ones::<Rank3<2, 9, 9>>());
    let _: Tensor<Rank4<5, 2, 1, 1>, f32, _> = pools.forward(dev.ones::<Rank4<5, 2, 9, 9>>());
    let _: Tensor<Rank3<2, 4, 4>, f32, _> =
        dev.build_module::<Rectangular, f32>().forward(dev.ones::<Rank3<2, 9, 9>>());

    let x: Tensor<Rank3<3, 5, 4>, f32, _> = dev.sample_normal();
    let max: Tensor<Rank1<3>, f32, _> = dev.build_module::<Globals, f32>().forward(x.clone());
    assert_eq!(max.array(), x.clone().max::<Rank1<3>, _>().array());
    let _: Tensor<Rank2<7, 2>, f32, _> = dev.build_module::<GlobalAvg, f32>().forward(dev.zeros::<Rank4<7, 3, 5, 4>>());
}
