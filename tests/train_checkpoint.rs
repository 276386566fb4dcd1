//! Checkpoints: exact round trips, mismatched networks, interrupted saves, NaN weights.

use typenet::dfdx::prelude::*;
use typenet::train::{load_checkpoint, save_checkpoint, TrainError};

type Net = (Linear<4, 8>, BatchNorm1D<8>, ReLU, Linear<8, 3>);
type Built<M> = <M as BuildOnDevice<Cpu, f32>>::Built;

fn outputs(model: &Built<Net>) -> Vec<f32> {
    let dev = Cpu::seed_from_u64(99);
    let x: Tensor<(usize, Const<4>), f32, Cpu> = dev.sample_normal_like(&(5, Const));
    model.forward(x).as_vec()
}

/// A model whose batch-norm statistics are not the defaults, as after training.
fn trained_looking(seed: u64) -> Built<Net> {
    let dev = Cpu::seed_from_u64(seed);
    let mut model = dev.build_module::<Net, f32>();
    model.1.running_mean = dev.sample_normal();
    model.1.running_var = dev.sample_uniform() + 0.5;
    model
}

#[test]
fn a_round_trip_reproduces_outputs_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    let model = trained_looking(1);
    save_checkpoint(&model, &path).unwrap();

    let mut other = trained_looking(2);
    assert_ne!(outputs(&other), outputs(&model));
    load_checkpoint(&mut other, &path).unwrap();
    assert_eq!(outputs(&other), outputs(&model));
    assert!(!dir.path().join("net.safetensors.tmp").exists());
}

#[test]
fn another_network_fails_naming_the_tensor_and_both_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.safetensors");
    let dev = Cpu::seed_from_u64(0);
    save_checkpoint(
        &dev.build_module::<(Linear<4, 8>, ReLU, Linear<8, 3>), f32>(),
        &path,
    )
    .unwrap();

    let mut wider = dev.build_module::<(Linear<4, 16>, ReLU, Linear<16, 3>), f32>();
    let before = wider.2.weight.array();
    let err = load_checkpoint(&mut wider, &path).unwrap_err();
    assert!(
        matches!(&err, TrainError::ShapeMismatch { tensor, expected, found, .. }
            if tensor == "0.weight" && expected == &[16, 4] && found == &[8, 4]),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.ends_with("layer 0's weight is (16, 4) in the model but (8, 4) in the checkpoint"),
        "{msg}"
    );
    // Checked before loading anything: no tensor was touched, not even matching ones.
    assert_eq!(wider.2.weight.array(), before);

    let mut deeper =
        dev.build_module::<(Linear<4, 8>, ReLU, Linear<8, 3>, ReLU, Linear<3, 3>), f32>();
    let err = load_checkpoint(&mut deeper, &path).unwrap_err();
    assert!(
        matches!(&err, TrainError::MissingTensor { tensor, .. } if tensor == "4.weight"),
        "{err}"
    );

    let mut shallower = dev.build_module::<(Linear<4, 8>, ReLU), f32>();
    let err = load_checkpoint(&mut shallower, &path).unwrap_err();
    assert!(
        matches!(&err, TrainError::UnexpectedTensor { tensor, .. } if tensor == "2.bias"),
        "{err}"
    );
}

/// A network names its tensors by layer number, so its checkpoint survives any change in how
/// the macro arranges the layers, and errors name the layer.
#[test]
fn network_checkpoints_name_tensors_by_layer_number() {
    use typenet::network;
    type Mlp = network![Input<4>, Dense<8, activation = relu>, Dropout<0.1>, Dense<3>];
    type Wider = network![Input<4>, Dense<8, activation = relu>, Dropout<0.1>, Dense<5>];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlp.safetensors");
    let dev = Cpu::seed_from_u64(0);
    let model = dev.build_module::<Mlp, f32>();
    save_checkpoint(&model, &path).unwrap();
    let names: Vec<String> = typenet::train::tensor_specs(&model)
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["1.weight", "1.bias", "3.weight", "3.bias"]);

    let err = load_checkpoint(&mut dev.build_module::<Wider, f32>(), &path).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("layer 3's weight is (5, 8) in the model but (3, 8) in the checkpoint"),
        "{err}"
    );
}

/// Files of typenet 0.1 named tensors by the nested chain (`tail.tail.head.weight`).
#[test]
fn an_old_nested_checkpoint_is_refused_with_the_reason() {
    use typenet::network;
    type Mlp = network![Input<4>, Dense<8>, ReLU, Dense<3>];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.safetensors");
    let dev = Cpu::seed_from_u64(0);
    // The same tensors under the old names, written with dfdx's own tuple naming.
    let old = dev.build_module::<(Linear<4, 8>, ReLU, Linear<8, 3>), f32>();
    let bytes = {
        let tmp = dir.path().join("tuple.safetensors");
        save_checkpoint(&old, &tmp).unwrap();
        std::fs::read(&tmp).unwrap()
    };
    let file = ::safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut views: Vec<(String, ::safetensors::tensor::TensorView)> = file.tensors();
    for (name, _) in &mut views {
        *name = match name.as_str() {
            "0.weight" => "head.weight".into(),
            "0.bias" => "head.bias".into(),
            "2.weight" => "tail.tail.head.weight".into(),
            _ => "tail.tail.head.bias".into(),
        };
    }
    ::safetensors::serialize_to_file(views, &None, &path).unwrap();

    let mut model = dev.build_module::<Mlp, f32>();
    let err = load_checkpoint(&mut model, &path).unwrap_err();
    assert!(matches!(&err, TrainError::LegacyCheckpoint { .. }), "{err}");
    assert!(
        err.to_string().contains("nested `head`/`tail` layout"),
        "{err}"
    );
}

#[test]
fn an_interrupted_save_leaves_the_previous_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    let tmp = dir.path().join("net.safetensors.tmp");
    let first = trained_looking(1);
    let second = trained_looking(2);
    save_checkpoint(&first, &path).unwrap();
    let good = std::fs::read(&path).unwrap();

    // The temporary file cannot be written (a directory is in the way).
    std::fs::create_dir(&tmp).unwrap();
    let err = save_checkpoint(&second, &path).unwrap_err();
    assert!(matches!(err, TrainError::Io { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), good);
    let mut loaded = trained_looking(3);
    load_checkpoint(&mut loaded, &path).unwrap();
    assert_eq!(outputs(&loaded), outputs(&first));

    // A temporary file left by a crash is garbage, not an obstacle.
    std::fs::remove_dir(&tmp).unwrap();
    std::fs::write(&tmp, b"half a checkpoint").unwrap();
    save_checkpoint(&second, &path).unwrap();
    load_checkpoint(&mut loaded, &path).unwrap();
    assert_eq!(outputs(&loaded), outputs(&second));
    assert!(!tmp.exists());
}

#[test]
fn nan_weights_are_never_saved() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    let mut model = trained_looking(1);
    save_checkpoint(&model, &path).unwrap();
    let good = std::fs::read(&path).unwrap();

    model.3.bias = model.3.bias.clone() * f32::INFINITY - f32::INFINITY;
    let err = save_checkpoint(&model, &path).unwrap_err();
    assert!(
        matches!(&err, TrainError::NonFiniteCheckpoint { tensor, .. } if tensor == "3.bias"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), good);
}
