//! Weights to and from PyTorch: the names, shapes and values of the exported `state_dict`
//! worked by hand, exact round trips, typed import errors, and a `state_dict` written by
//! PyTorch itself (tests/fixtures, made by scripts/pytorch_fixture.py) giving PyTorch's
//! outputs in typenet.

use safetensors::{Dtype as FileDtype, SafeTensors};
use std::collections::HashMap;
use std::path::Path;
use typenet::prelude::*;
use typenet::train::{export_pytorch, import_pytorch, pytorch_modules, tensor_specs, TrainError};

/// Conv2D + ReLU, BatchNorm, MaxPool, Flatten, Dense + ReLU, Dense; the kernel and pool
/// windows rectangular, to hold their (rows, columns) order to PyTorch's.
type Image = network![
    Input<1, 6, 6>,
    Conv2D<2, (3, 2), activation = relu>,
    BatchNorm,
    MaxPool<(2, 3), stride = 2>,
    Flatten,
    Dense<4, activation = relu>,
    Dense<3>,
];

/// An LSTM of every step, a bidirectional GRU, a dense layer.
type Sequence = network![Input<5, 3>, LSTM<2, return_sequences>, Bidirectional<GRU<2>>, Dense<1>];

type Built<M> = <M as BuildOnDevice<Cpu, f32>>::Built;

/// Tensor `k` (in the model's order) holds `0.5 + k + 0.01 * i` at its element `i`: known
/// values, all different, all positive (a valid running variance).
fn known<M>(model: &mut M)
where
    M: typenet::dfdx::nn::tensor_collection::TensorCollection<f32, Cpu>,
{
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("known.safetensors");
    let specs = tensor_specs(model);
    let data: Vec<(String, Vec<usize>, Vec<u8>)> = specs
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let n: usize = s.shape.iter().product();
            let bytes = (0..n)
                .flat_map(|i| known_value(k, i).to_le_bytes())
                .collect();
            (s.name.clone(), s.shape.clone(), bytes)
        })
        .collect();
    write_file(&path, &data);
    typenet::train::load_checkpoint(model, &path).unwrap();
}

fn known_value(tensor: usize, element: usize) -> f32 {
    0.5 + tensor as f32 + 0.01 * element as f32
}

/// Writes `f32` tensors to a safetensors file.
fn write_file(path: &Path, tensors: &[(String, Vec<usize>, Vec<u8>)]) {
    let views: Vec<_> = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            (
                name.as_str(),
                safetensors::tensor::TensorView::new(FileDtype::F32, shape.clone(), bytes).unwrap(),
            )
        })
        .collect();
    std::fs::write(path, safetensors::serialize(views, &None).unwrap()).unwrap();
}

/// The file's tensors: name -> (dtype, shape, values as f64).
fn read_file(path: &Path) -> HashMap<String, (FileDtype, Vec<usize>, Vec<f64>)> {
    let bytes = std::fs::read(path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    file.tensors()
        .into_iter()
        .map(|(name, view)| {
            let values = match view.dtype() {
                FileDtype::F32 => view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64)
                    .collect(),
                FileDtype::I64 => view
                    .data()
                    .chunks_exact(8)
                    .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f64)
                    .collect(),
                other => panic!("{name} is {other:?}"),
            };
            (name, (view.dtype(), view.shape().to_vec(), values))
        })
        .collect()
}

fn values(range: std::ops::Range<usize>, tensor: usize) -> Vec<f64> {
    range.map(|i| known_value(tensor, i) as f64).collect()
}

#[test]
fn layers_become_the_modules_of_a_sequential_in_order() {
    let dev = Cpu::default();
    let modules = pytorch_modules(&dev.build_module::<Image, f32>()).unwrap();
    let table: Vec<(usize, &str, &str, &str)> = modules
        .iter()
        .map(|m| (m.index, m.layer.as_str(), m.name, m.torch))
        .collect();
    // The `activation` options take a place each: typenet's layer 6 is module 7.
    assert_eq!(
        table,
        [
            (0, "1", "Conv2D", "nn.Conv2d"),
            (1, "1", "ReLU", "nn.ReLU"),
            (2, "2", "BatchNorm2D", "nn.BatchNorm2d"),
            (3, "3", "MaxPool2D", "nn.MaxPool2d"),
            (4, "4", "Flatten", "nn.Flatten"),
            (5, "5", "Dense", "nn.Linear"),
            (6, "5", "ReLU", "nn.ReLU"),
            (7, "6", "Dense", "nn.Linear"),
        ]
    );
    assert_eq!(
        modules[2].tensors,
        [
            "2.weight",
            "2.bias",
            "2.running_mean",
            "2.running_var",
            "2.num_batches_tracked"
        ]
    );
    let modules = pytorch_modules(&dev.build_module::<Sequence, f32>()).unwrap();
    let torch: Vec<&str> = modules.iter().map(|m| m.torch).collect();
    assert_eq!(torch, ["nn.LSTM", "nn.GRU", "nn.Linear"]);
    assert_eq!(modules[1].name, "Bidirectional(GRU)");
    assert_eq!(
        modules[1].tensors,
        [
            "1.weight_ih_l0",
            "1.weight_hh_l0",
            "1.bias_ih_l0",
            "1.bias_hh_l0",
            "1.weight_ih_l0_reverse",
            "1.weight_hh_l0_reverse",
            "1.bias_ih_l0_reverse",
            "1.bias_hh_l0_reverse",
        ]
    );
}

#[test]
fn inserted_layers_and_dfdx_tuples_take_their_places_too() {
    let dev = Cpu::default();
    // The macro inserts a `ToSequence` between the maps and the LSTM: a module of its own.
    type Crnn = network![Input<1, 6, 6>, Conv2D<2, 3>, LSTM<3>, Dense<2>];
    let modules = pytorch_modules(&dev.build_module::<Crnn, f32>()).unwrap();
    let table: Vec<(&str, &str)> = modules
        .iter()
        .map(|m| (m.layer.as_str(), m.torch))
        .collect();
    assert_eq!(
        table,
        [
            ("1", "nn.Conv2d"),
            ("2", "ImageToSequence (permute, flatten)"),
            ("2", "nn.LSTM"),
            ("3", "nn.Linear"),
        ]
    );
    assert_eq!(modules[2].tensors[0], "2.weight_ih_l0");
    assert_eq!(modules[3].tensors, ["3.weight", "3.bias"]);

    type Words =
        network![Tokens<4>, Embedding<10, 3>, Bidirectional<SimpleRNN<2>>, Dense<1>, Sigmoid];
    let modules = pytorch_modules(&dev.build_module::<Words, f32>()).unwrap();
    let torch: Vec<&str> = modules.iter().map(|m| m.torch).collect();
    assert_eq!(torch, ["nn.Embedding", "nn.RNN", "nn.Linear", "nn.Sigmoid"]);
    assert_eq!(modules[1].name, "Bidirectional(SimpleRNN)");
    assert_eq!(modules[0].tensors, ["0.weight"]);

    type Pooled = network![Input<1, 6, 6>, Conv2D<2, 3>, GlobalAvgPool, Dense<1>];
    let modules = pytorch_modules(&dev.build_module::<Pooled, f32>()).unwrap();
    assert_eq!(modules[1].name, "GlobalAvgPool");

    // A dfdx tuple is a Sequential too.
    type Mlp = (
        Linear<4, 8>,
        typenet::dfdx::nn::builders::ReLU,
        Linear<8, 2>,
    );
    let modules = pytorch_modules(&dev.build_module::<Mlp, f32>()).unwrap();
    let torch: Vec<&str> = modules.iter().map(|m| m.torch).collect();
    assert_eq!(torch, ["nn.Linear", "nn.ReLU", "nn.Linear"]);
    assert_eq!(modules[2].tensors, ["2.weight", "2.bias"]);
}

#[test]
fn an_image_network_exports_pytorch_s_names_shapes_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.safetensors");
    let mut model = Cpu::default().build_module::<Image, f32>();
    known(&mut model);
    let specs: Vec<String> = tensor_specs(&model).into_iter().map(|s| s.name).collect();
    // typenet's order: 1.weight, 1.bias, 2.scale, 2.bias, 2.running_mean, 2.running_var,
    // 5.weight, 5.bias, 6.weight, 6.bias: tensor k holds known_value(k, ..).
    assert_eq!(specs[2], "2.scale");
    assert_eq!(specs[8], "6.weight");
    export_pytorch(&model, &path).unwrap();

    let file = read_file(&path);
    let mut names: Vec<&str> = file.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "0.bias",
            "0.weight",
            "2.bias",
            "2.num_batches_tracked",
            "2.running_mean",
            "2.running_var",
            "2.weight",
            "5.bias",
            "5.weight",
            "7.bias",
            "7.weight",
        ]
    );
    let f32_tensor = |shape: &[usize], values: Vec<f64>| (FileDtype::F32, shape.to_vec(), values);
    // Conv2d: (out, in, kH, kW), as typenet's.
    assert_eq!(
        file["0.weight"],
        f32_tensor(&[2, 1, 3, 2], values(0..12, 0))
    );
    assert_eq!(file["0.bias"], f32_tensor(&[2], values(0..2, 1)));
    // BatchNorm: typenet's scale is PyTorch's weight; the batch counter an int64 0.
    assert_eq!(file["2.weight"], f32_tensor(&[2], values(0..2, 2)));
    assert_eq!(file["2.bias"], f32_tensor(&[2], values(0..2, 3)));
    assert_eq!(file["2.running_mean"], f32_tensor(&[2], values(0..2, 4)));
    assert_eq!(file["2.running_var"], f32_tensor(&[2], values(0..2, 5)));
    assert_eq!(
        file["2.num_batches_tracked"],
        (FileDtype::I64, vec![], vec![0.0])
    );
    // Linear: (out, in); the first takes the 2 x 2 x 2 pooled maps flattened, 8 inputs.
    assert_eq!(file["5.weight"], f32_tensor(&[4, 8], values(0..32, 6)));
    assert_eq!(file["7.weight"], f32_tensor(&[3, 4], values(0..12, 8)));
    assert_eq!(file["7.bias"], f32_tensor(&[3], values(0..3, 9)));
}

#[test]
fn a_recurrent_network_exports_pytorch_s_gate_blocks_and_two_biases() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sequence.safetensors");
    let mut model = Cpu::default().build_module::<Sequence, f32>();
    known(&mut model);
    let specs: Vec<(String, Vec<usize>)> = tensor_specs(&model)
        .into_iter()
        .map(|s| (s.name, s.shape))
        .collect();
    // typenet's LSTM: w_ih (4, 2, 3), w_hh (4, 2, 2), bias (4, 2); then the GRU's two
    // directions, each with its recurrent bias.
    assert_eq!(specs[0], ("1.w_ih".to_string(), vec![4, 2, 3]));
    assert_eq!(specs[2], ("1.bias".to_string(), vec![4, 2]));
    assert_eq!(specs[3], ("2.forward.w_ih".to_string(), vec![3, 2, 2]));
    assert_eq!(
        specs[6],
        ("2.forward.recurrent_bias".to_string(), vec![3, 2])
    );
    assert_eq!(specs[7], ("2.backward.w_ih".to_string(), vec![3, 2, 2]));
    export_pytorch(&model, &path).unwrap();

    let file = read_file(&path);
    assert_eq!(file.len(), 4 + 8 + 2);
    let f32_tensor = |shape: &[usize], values: Vec<f64>| (FileDtype::F32, shape.to_vec(), values);
    // (G, U, F) is PyTorch's (G*U, F) with the same row-major values: row 2 is gate 1 (f),
    // unit 0, typenet's w_ih[1][0] = elements 6..9.
    let w_ih = &file["0.weight_ih_l0"];
    assert_eq!(w_ih, &f32_tensor(&[8, 3], values(0..24, 0)));
    assert_eq!(w_ih.2[2 * 3..3 * 3], values(6..9, 0)[..]);
    assert_eq!(
        file["0.weight_hh_l0"],
        f32_tensor(&[8, 2], values(0..16, 1))
    );
    // One bias per gate: all of it in bias_ih, bias_hh zero (PyTorch adds them).
    assert_eq!(file["0.bias_ih_l0"], f32_tensor(&[8], values(0..8, 2)));
    assert_eq!(file["0.bias_hh_l0"], f32_tensor(&[8], vec![0.0; 8]));
    // The GRU keeps both; the backward direction is PyTorch's `_reverse`.
    assert_eq!(
        file["1.weight_ih_l0"],
        f32_tensor(&[6, 2], values(0..12, 3))
    );
    assert_eq!(file["1.bias_ih_l0"], f32_tensor(&[6], values(0..6, 5)));
    assert_eq!(file["1.bias_hh_l0"], f32_tensor(&[6], values(0..6, 6)));
    assert_eq!(
        file["1.weight_ih_l0_reverse"],
        f32_tensor(&[6, 2], values(0..12, 7))
    );
    assert_eq!(
        file["1.weight_hh_l0_reverse"],
        f32_tensor(&[6, 2], values(0..12, 8))
    );
    assert_eq!(
        file["1.bias_hh_l0_reverse"],
        f32_tensor(&[6], values(0..6, 10))
    );
    assert_eq!(file["2.weight"], f32_tensor(&[1, 4], values(0..4, 11)));
}

#[test]
fn flatten_reads_channels_then_rows_then_columns_as_torch_flatten_does() {
    // x[c, h, w] = 1 at (1, 0, 1) only: torch.flatten puts it at 1*4 + 0*2 + 1 = 5, so a
    // dense layer with weights 0..8 outputs 5.
    type Net = network![Input<2, 2, 2>, Flatten, Dense<1>];
    let dev = Cpu::default();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flatten.safetensors");
    let weights: Vec<u8> = (0..8).flat_map(|i| (i as f32).to_le_bytes()).collect();
    write_file(
        &path,
        &[
            ("1.weight".into(), vec![1, 8], weights),
            ("1.bias".into(), vec![1], 0f32.to_le_bytes().to_vec()),
        ],
    );
    let mut model = dev.build_module::<Net, f32>();
    import_pytorch(&mut model, &path).unwrap();
    let mut x = [[[0.0f32; 2]; 2]; 2];
    x[1][0][1] = 1.0;
    assert_eq!(model.forward(dev.tensor(x)).array(), [5.0]);
}

fn image_outputs(model: &Built<Image>) -> Vec<f32> {
    let dev = Cpu::seed_from_u64(7);
    let x: Tensor<Rank4<3, 1, 6, 6>, f32, _> = dev.sample_normal();
    model.forward(x).as_vec()
}

fn sequence_outputs(model: &Built<Sequence>) -> Vec<f32> {
    let dev = Cpu::seed_from_u64(7);
    let x: Tensor<Rank3<2, 5, 3>, f32, _> = dev.sample_normal();
    model.forward(x).as_vec()
}

#[test]
fn export_then_import_gives_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    let mut image = Cpu::seed_from_u64(1).build_module::<Image, f32>();
    known(&mut image);
    export_pytorch(&image, &path).unwrap();
    let mut other = Cpu::seed_from_u64(2).build_module::<Image, f32>();
    assert_ne!(image_outputs(&other), image_outputs(&image));
    import_pytorch(&mut other, &path).unwrap();
    assert_eq!(image_outputs(&other), image_outputs(&image));

    let sequence = Cpu::seed_from_u64(1).build_module::<Sequence, f32>();
    export_pytorch(&sequence, &path).unwrap();
    let mut other = Cpu::seed_from_u64(2).build_module::<Sequence, f32>();
    assert_ne!(sequence_outputs(&other), sequence_outputs(&sequence));
    import_pytorch(&mut other, &path).unwrap();
    assert_eq!(sequence_outputs(&other), sequence_outputs(&sequence));
    // A model of f64 reads the same f32 file.
    let mut wide = Cpu::default().build_module::<Sequence, f64>();
    import_pytorch(&mut wide, &path).unwrap();
    let x: Tensor<Rank3<2, 5, 3>, f64, _> = Cpu::seed_from_u64(7).sample_normal();
    let y = wide.forward(x).as_vec();
    for (a, b) in y.iter().zip(sequence_outputs(&sequence)) {
        assert!((a - b as f64).abs() < 1e-5, "{a} vs {b}");
    }
}

#[test]
fn two_recurrent_biases_are_imported_as_their_sum() {
    type Net = network![Input<2, 1>, SimpleRNN<1>];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rnn.safetensors");
    let f = |v: f32| v.to_le_bytes().to_vec();
    write_file(
        &path,
        &[
            ("0.weight_ih_l0".into(), vec![1, 1], f(0.5)),
            ("0.weight_hh_l0".into(), vec![1, 1], f(0.0)),
            ("0.bias_ih_l0".into(), vec![1], f(0.25)),
            ("0.bias_hh_l0".into(), vec![1], f(-0.75)),
        ],
    );
    let dev = Cpu::default();
    let mut model = dev.build_module::<Net, f32>();
    import_pytorch(&mut model, &path).unwrap();
    // h = tanh(0.5 x + 0.25 - 0.75) at the last step, x = 2: tanh(0.5).
    let h = model.forward(dev.tensor([[0.0f32], [2.0]])).array();
    assert!((h[0] - 0.5f32.tanh()).abs() < 1e-6, "{h:?}");
}

#[test]
fn import_errors_name_pytorch_s_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    let dev = Cpu::default();
    let model = dev.build_module::<Image, f32>();
    export_pytorch(&model, &path).unwrap();
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = read_file(&path)
        .into_iter()
        .filter(|(_, (dtype, _, _))| *dtype == FileDtype::F32)
        .map(|(name, (_, shape, values))| {
            let bytes = values
                .iter()
                .flat_map(|v| (*v as f32).to_le_bytes())
                .collect();
            (name, shape, bytes)
        })
        .collect();
    tensors.sort();
    let mut target = dev.build_module::<Image, f32>();

    // Without num_batches_tracked (older PyTorch files lack it): fine.
    write_file(&path, &tensors);
    import_pytorch(&mut target, &path).unwrap();
    assert_eq!(image_outputs(&target), image_outputs(&model));
    let mut target = dev.build_module::<Image, f32>();
    let before = image_outputs(&target);

    let missing: Vec<_> = tensors
        .iter()
        .filter(|t| t.0 != "5.bias")
        .cloned()
        .collect();
    write_file(&path, &missing);
    let err = import_pytorch(&mut target, &path).unwrap_err();
    assert!(
        matches!(&err, TrainError::MissingTensor { tensor, .. } if tensor == "5.bias"),
        "{err}"
    );

    let mut extra = tensors.clone();
    extra.push(("8.weight".into(), vec![1], vec![0; 4]));
    write_file(&path, &extra);
    let err = import_pytorch(&mut target, &path).unwrap_err();
    assert!(
        matches!(&err, TrainError::UnexpectedTensor { tensor, .. } if tensor == "8.weight"),
        "{err}"
    );

    let mut reshaped = tensors.clone();
    let conv = reshaped.iter_mut().find(|t| t.0 == "0.weight").unwrap();
    // The kernel's rows and columns swapped: as many values, in the wrong order.
    conv.1 = vec![2, 1, 2, 3];
    write_file(&path, &reshaped);
    let err = import_pytorch(&mut target, &path).unwrap_err();
    assert!(
        matches!(&err, TrainError::ShapeMismatch { tensor, expected, found, .. }
            if tensor == "0.weight" && expected == &[2, 1, 3, 2] && found == &[2, 1, 2, 3]),
        "{err}"
    );
    assert!(err.to_string().contains("(2, 1, 3, 2)"), "{err}");

    let mut non_finite = tensors.clone();
    non_finite[0].2[..4].copy_from_slice(&f32::NAN.to_le_bytes());
    write_file(&path, &non_finite);
    let err = import_pytorch(&mut target, &path).unwrap_err();
    assert!(
        matches!(err, TrainError::NonFiniteInCheckpoint { .. }),
        "{err}"
    );

    // A double-precision state_dict: the dtype is named.
    let views: Vec<_> = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            let wide: Vec<u8> = bytes
                .chunks_exact(4)
                .flat_map(|b| (f32::from_le_bytes(b.try_into().unwrap()) as f64).to_le_bytes())
                .collect();
            (name.clone(), shape.clone(), wide)
        })
        .collect();
    let views: Vec<_> = views
        .iter()
        .map(|(n, s, b)| {
            (
                n.as_str(),
                safetensors::tensor::TensorView::new(FileDtype::F64, s.clone(), b).unwrap(),
            )
        })
        .collect();
    std::fs::write(&path, safetensors::serialize(views, &None).unwrap()).unwrap();
    let err = import_pytorch(&mut target, &path).unwrap_err();
    assert!(
        matches!(&err, TrainError::DtypeMismatch { expected, found, .. } if expected == "F32" && found == "F64"),
        "{err}"
    );

    // Nothing was loaded by the failed imports.
    assert_eq!(image_outputs(&target), before);
}

#[test]
fn blocks_have_no_sequential_module() {
    type Net = network![Input<4>, Dense<4>, Residual<[Dense<4>, Tanh]>, Dense<1>];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("residual.safetensors");
    let mut model = Cpu::default().build_module::<Net, f32>();
    let err = export_pytorch(&model, &path).unwrap_err();
    assert!(
        matches!(&err, TrainError::NoPyTorchEquivalent { layer, name } if layer == "2" && name == "Residual"),
        "{err}"
    );
    assert!(!path.exists(), "nothing is written");
    assert!(matches!(
        import_pytorch(&mut model, &path),
        Err(TrainError::NoPyTorchEquivalent { .. })
    ));
}

/// The `input` and `output` tensors of a fixture written by scripts/pytorch_fixture.py.
fn pytorch_io(name: &str) -> (Vec<f32>, Vec<f32>) {
    let file = read_file(&fixture(&format!("pytorch_{name}_io.safetensors")));
    let f32s = |t: &str| file[t].2.iter().map(|&v| v as f32).collect::<Vec<f32>>();
    (f32s("input"), f32s("output"))
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn assert_close(ours: &[f32], theirs: &[f32]) {
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().zip(theirs) {
        assert!((a - b).abs() < 1e-5, "typenet {ours:?}\nPyTorch {theirs:?}");
    }
}

#[test]
fn a_state_dict_saved_by_pytorch_gives_pytorch_s_outputs() {
    let dev = Cpu::default();
    let mut image = dev.build_module::<Image, f32>();
    import_pytorch(&mut image, fixture("pytorch_image.safetensors")).unwrap();
    let (x, y) = pytorch_io("image");
    let x: Tensor<Rank4<3, 1, 6, 6>, f32, _> = dev.tensor(x);
    assert_close(&image.forward(x).as_vec(), &y);

    // PyTorch's LSTM biases are both non-zero here: typenet keeps their sum.
    let mut sequence = dev.build_module::<Sequence, f32>();
    import_pytorch(&mut sequence, fixture("pytorch_sequence.safetensors")).unwrap();
    let (x, y) = pytorch_io("sequence");
    let x: Tensor<Rank3<2, 5, 3>, f32, _> = dev.tensor(x);
    assert_close(&sequence.forward(x).as_vec(), &y);
}
