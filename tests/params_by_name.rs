//! A model's parameters and their gradients read by name (`train::param`,
//! `train::gradient`), and the typed errors for names the model lacks or tensors that have
//! no gradient.

use typenet::prelude::*;
use typenet::train::{gradient, param, TrainError};

type Net = network![Input<4>, Dense<3>, BatchNorm, ReLU, Dense<2>];

#[test]
fn a_parameter_reads_as_its_tensor_by_name() {
    let dev = Cpu::seed_from_u64(1);
    let model = dev.build_module::<Net, f64>();
    let names: Vec<String> = typenet::train::tensor_specs(&model)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert!(names.contains(&"4.weight".to_string()), "{names:?}");
    let weight = param(&model, "4.weight").unwrap();
    assert_eq!(weight.name, "4.weight");
    assert_eq!(weight.shape, [2, 3]);
    let expected: Vec<f64> = model.tail.tail.weight.array().concat();
    assert_eq!(weight.values, expected);
    let running_var = param(&model, "2.running_var").unwrap();
    assert_eq!(running_var.values, [1.0, 1.0, 1.0]);
}

#[test]
fn a_typo_names_the_closest_tensor_and_a_stranger_name_lists_them_all() {
    let dev = Cpu::default();
    let model = dev.build_module::<Net, f32>();
    match param(&model, "4.wieght").unwrap_err() {
        TrainError::UnknownTensor {
            name,
            close,
            available,
        } => {
            assert_eq!(name, "4.wieght");
            assert_eq!(close, ["4.weight"]);
            assert_eq!(available.len(), 8, "{available:?}");
        }
        other => panic!("{other}"),
    }
    let err = param(&model, "4.wieght").unwrap_err();
    assert_eq!(
        err.to_string(),
        "the model has no tensor `4.wieght`; did you mean `4.weight`?"
    );
    let err = param(&model, "decoder.kernel").unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("the model has no tensor `decoder.kernel`; its tensors are `1.weight`, `1.bias`, `2.scale`"),
        "{message}"
    );
    // Two names at the same distance are both offered.
    let err = param(&model, "3.bias").unwrap_err();
    assert!(
        matches!(&err, TrainError::UnknownTensor { close, .. } if close == &["1.bias", "2.bias", "4.bias"]),
        "{err}"
    );
}

#[test]
fn a_gradient_reads_as_dfdx_gives_it_by_name() {
    let dev = Cpu::seed_from_u64(2);
    let mut model = dev.build_module::<Net, f64>();
    let x: Tensor<Rank2<5, 4>, f64, _> = dev.sample_normal();
    let grads = model.alloc_grads();
    let grads = model.forward_mut(x.trace(grads)).square().mean().backward();
    let read = gradient(&model, &grads, "1.weight").unwrap();
    assert_eq!(read.shape, [3, 4]);
    assert_eq!(read.values, grads.get(&model.head.head.weight).as_vec());
    assert!(read.values.iter().any(|&g| g != 0.0));
    let read = gradient(&model, &grads, "4.bias").unwrap();
    assert_eq!(read.values, grads.get(&model.tail.tail.bias).as_vec());
}

#[test]
fn running_statistics_have_no_gradient_and_unknown_names_are_errors() {
    let dev = Cpu::default();
    let mut model = dev.build_module::<Net, f32>();
    let x: Tensor<Rank2<2, 4>, f32, _> = dev.sample_normal();
    let grads = model.alloc_grads();
    let grads = model.forward_mut(x.trace(grads)).sum().backward();
    let err = gradient(&model, &grads, "2.running_mean").unwrap_err();
    assert!(matches!(&err, TrainError::NoGradient { tensor } if tensor == "2.running_mean"));
    assert_eq!(
        err.to_string(),
        "layer 2's running_mean is not trained by gradients (it is updated in the forward pass), so it has no gradient"
    );
    let err = gradient(&model, &grads, "5.weight").unwrap_err();
    assert!(matches!(err, TrainError::UnknownTensor { .. }), "{err}");
}

#[test]
fn a_parameter_the_pass_did_not_reach_has_a_zero_gradient_not_a_panic() {
    let dev = Cpu::default();
    let model = dev.build_module::<(Linear<2, 2>, Linear<2, 1>), f32>();
    let x: Tensor<Rank1<2>, f32, _> = dev.ones();
    // Leaky gradients hold entries only for what the pass touched: model.1 is not there.
    let grads = model.0.forward(x.leaky_trace()).sum().backward();
    assert_eq!(
        gradient(&model, &grads, "1.weight").unwrap().values,
        [0.0, 0.0]
    );
    assert_eq!(
        gradient(&model, &grads, "0.bias").unwrap().values,
        [1.0, 1.0]
    );
}
