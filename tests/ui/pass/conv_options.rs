//! Conv2D with every option, on every kind of batch.
use typenet::prelude::*;

type Valid = network![Input<3, 9, 8>, Conv2D<4, 3>];
type Options = network![
    Input<3, 9, 8>,
    Conv2D<4, 3, stride = 2, padding = same, activation = relu>,
    Conv2D<5, 2, padding = 1, dilation = 2, activation = tanh>,
    Conv2D<2, 1, padding = valid, stride = 1, dilation = 1>,
];
// Keras's quoted spelling of word-valued options means the same.
type Quoted = network![
    Input<3, 9, 8>,
    Conv2D<4, 3, stride = 2, padding = "same", activation = "relu">,
    Conv2D<5, 2, padding = 1, dilation = 2, activation = "tanh">,
    Conv2D<2, 1, padding = "valid", stride = 1, dilation = 1>,
];
// Keras's tuples: a kernel, stride and dilation per axis (rows, columns).
type Rectangular = network![
    Input<3, 9, 8>,
    Conv2D<4, (3, 1), stride = (2, 1)>,
    Conv2D<4, (1, 3), padding = same, dilation = (1, 2)>,
    Conv2D<2, (2, 3), stride = (1, 2), padding = 1>,
];

fn main() {
    let dev: Cpu = Default::default();
    let valid = dev.build_module::<Valid, f32>();
    let _: Tensor<Rank3<4, 7, 6>, f32, _> = valid.forward(dev.zeros::<Rank3<3, 9, 8>>());

    let net = dev.build_module::<Options, f64>();
    let _: Tensor<Rank3<2, 5, 4>, f64, _> = net.forward(dev.zeros::<Rank3<3, 9, 8>>());
    let quoted = dev.build_module::<Quoted, f64>();
    let _: Tensor<Rank3<2, 5, 4>, f64, _> = quoted.forward(dev.zeros::<Rank3<3, 9, 8>>());
    // (9 - 3) / 2 + 1 = 4 rows, 8 columns; same keeps 4x8; (4 + 2 - 2) + 1 = 5 rows,
    // (8 + 2 - 3) / 2 + 1 = 4 columns.
    let rect = dev.build_module::<Rectangular, f32>();
    let _: Tensor<Rank3<2, 5, 4>, f32, _> = rect.forward(dev.zeros::<Rank3<3, 9, 8>>());
    let _: Tensor<Rank4<6, 2, 5, 4>, f64, _> = net.forward(dev.zeros::<Rank4<6, 3, 9, 8>>());
    let x: Tensor<(usize, Const<3>, Const<9>, Const<8>), f64, _> = dev.zeros_like(&(3, Const, Const, Const));
    let y: Tensor<(usize, Const<2>, Const<5>, Const<4>), f64, _> = net.forward(x);
    assert_eq!(y.shape().0, 3);
}
