//! A typenet network is an ordinary dfdx module: dfdx's traits and combinators work on it,
//! and dfdx modules work inside it.

use dfdx::nn::builders;
use typenet::prelude::*;

type Block = network![Input<8>, Dense<8>, ReLU];

#[test]
fn a_network_inside_dfdx_tuples_and_residual() {
    let dev: Cpu = Cpu::seed_from_u64(1);
    let model =
        dev.build_module::<(Block, builders::Residual<Block>, builders::Linear<8, 2>), f64>();
    let x: Tensor<Rank2<3, 8>, f64, _> = dev.sample_normal();
    let y: Tensor<Rank2<3, 2>, f64, _> = model.forward(x.clone());

    // the residual adds its input back: check it against the parts run by hand
    let h = model.0.forward(x);
    let r = model.1 .0.forward(h.clone()) + h;
    assert_eq!(y.array(), model.2.forward(r).array());
}

#[test]
fn dfdx_modules_inside_a_network() {
    // a hand-written chain: a typenet network, then dfdx's own LayerNorm1D and Linear,
    // numbered so that their tensors have distinct names
    type Mixed = Chain<
        Numbered<1, Block>,
        Chain<Numbered<2, builders::LayerNorm1D<8>>, Numbered<3, builders::Linear<8, 3>>>,
    >;
    let dev: Cpu = Default::default();
    let model = dev.build_module::<Mixed, f32>();
    let y: Tensor<Rank2<4, 3>, f32, _> = model.forward(dev.sample_normal::<Rank2<4, 8>>());
    assert!(y.array().iter().flatten().all(|v| v.is_finite()));
    assert_eq!(
        model.num_trainable_params(),
        (8 * 8 + 8) + (8 + 8) + (8 * 3 + 3)
    );
    let names: Vec<String> = typenet::train::tensor_specs(&model)
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(
        names,
        [
            "1.1.weight",
            "1.1.bias",
            "2.gamma",
            "2.beta",
            "3.weight",
            "3.bias"
        ]
    );
}

#[test]
fn safetensors_reset_and_to_device_work_unchanged() {
    let dev: Cpu = Cpu::seed_from_u64(2);
    let mut a = dev.build_module::<Block, f32>();
    let b = dev.build_module::<Block, f32>();
    let x: Tensor<Rank1<8>, f32, _> = dev.sample_normal();
    assert_ne!(a.forward(x.clone()).array(), b.forward(x.clone()).array());

    let path = std::env::temp_dir().join(format!(
        "typenet-interop-{}.safetensors",
        std::process::id()
    ));
    b.save_safetensors(&path).unwrap();
    a.load_safetensors(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(a.forward(x.clone()).array(), b.forward(x.clone()).array());

    let copy = a.to_device(&Cpu::default());
    assert_eq!(
        copy.forward(x.clone()).array(),
        b.forward(x.clone()).array()
    );

    a.reset_params();
    assert_ne!(a.forward(x.clone()).array(), b.forward(x).array());
}

/// `use typenet::prelude::*` leaves the name `safetensors` to the crate: dfdx's prelude
/// holds a module of that name (`dfdx::tensor::safetensors`), which a glob re-export would
/// put in front of the crate (so that `safetensors::SafeTensors` failed to resolve here).
#[test]
fn the_prelude_leaves_the_safetensors_crate_its_name() {
    let dev: Cpu = Default::default();
    let model = dev.build_module::<Block, f32>();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("block.safetensors");
    save_checkpoint(&model, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    assert_eq!(names, ["1.bias", "1.weight"]);
    // dfdx's module is still there, by its full path
    fn safe<E: typenet::dfdx::tensor::safetensors::SafeDtype>() {}
    safe::<f32>();
}
