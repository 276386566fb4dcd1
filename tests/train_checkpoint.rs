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
    assert_eq!(
        names(dir.path()),
        ["net.safetensors"],
        "no temporary is left"
    );
}

/// The names in `dir`, sorted.
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
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
    // A name of 250 bytes: the checkpoint fits the file system's limit of 255, but no
    // temporary name beside it (`<name>.<pid>.<n>.tmp`) does, so every save fails before it
    // writes anything, whoever runs the test (a read-only directory does not stop root).
    let name = format!("{}.safetensors", "n".repeat(250 - ".safetensors".len()));
    let path = dir.path().join(&name);
    let first = trained_looking(1);
    let second = trained_looking(2);
    save_checkpoint(&first, dir.path().join("short")).unwrap();
    std::fs::rename(dir.path().join("short"), &path).unwrap();
    let good = std::fs::read(&path).unwrap();

    let err = save_checkpoint(&second, &path).unwrap_err();
    assert!(matches!(err, TrainError::Io { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), good);
    let mut loaded = trained_looking(3);
    load_checkpoint(&mut loaded, &path).unwrap();
    assert_eq!(outputs(&loaded), outputs(&first));
    assert_eq!(names(dir.path()), [name.as_str()]);

    // Temporary files left by crashed writers (of the old `<path>.tmp` scheme and of this
    // one) are garbage, not an obstacle, and are left alone.
    let path = dir.path().join("net.safetensors");
    save_checkpoint(&first, &path).unwrap();
    let leftovers = [
        "net.safetensors.tmp".to_string(),
        format!("net.safetensors.{}.0.tmp", std::process::id()),
        "net.safetensors.1.0.tmp".to_string(),
    ];
    for leftover in &leftovers {
        std::fs::write(dir.path().join(leftover), b"half a checkpoint").unwrap();
    }
    save_checkpoint(&second, &path).unwrap();
    load_checkpoint(&mut loaded, &path).unwrap();
    assert_eq!(outputs(&loaded), outputs(&second));
    for leftover in &leftovers {
        assert_eq!(
            std::fs::read(dir.path().join(leftover)).unwrap(),
            b"half a checkpoint"
        );
    }
    assert_eq!(names(dir.path()).len(), 2 + leftovers.len());
}

/// Two processes saving one checkpoint path at once no longer share `<path>.tmp`: the
/// checkpoint is always one of the two, whole, and every save succeeds.
#[test]
fn concurrent_saves_of_one_path_do_not_collide() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    let models = [trained_looking(1), trained_looking(2)];
    std::thread::scope(|scope| {
        for model in &models {
            let path = &path;
            scope.spawn(move || {
                for _ in 0..30 {
                    save_checkpoint(model, path).unwrap();
                }
            });
        }
    });
    let mut loaded = trained_looking(3);
    load_checkpoint(&mut loaded, &path).unwrap();
    let out = outputs(&loaded);
    assert!(out == outputs(&models[0]) || out == outputs(&models[1]));
    assert_eq!(names(dir.path()), ["net.safetensors"]);
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

/// A network without tensors implements `TensorCollection<E, D>` for every `E` and `D`,
/// so a checkpoint call names them; the file holds no tensor, and one that holds some is
/// refused.
#[test]
fn a_network_without_tensors_saves_and_loads_with_its_types_named() {
    use typenet::network;
    type Pooling = network![Input<1, 4, 4>, MaxPool<2>, ReLU, Flatten];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pooling.safetensors");
    let dev = Cpu::default();
    let mut model = dev.build_module::<Pooling, f32>();
    save_checkpoint::<_, f32, Cpu>(&model, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(::safetensors::SafeTensors::deserialize(&bytes)
        .unwrap()
        .names()
        .is_empty());
    load_checkpoint::<_, f32, Cpu>(&mut model, &path).unwrap();

    let other = dir.path().join("linear.safetensors");
    save_checkpoint(&dev.build_module::<Linear<2, 2>, f32>(), &other).unwrap();
    let err = load_checkpoint::<_, f32, Cpu>(&mut model, &other).unwrap_err();
    assert!(matches!(err, TrainError::UnexpectedTensor { .. }), "{err}");
}
