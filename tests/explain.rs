//! Saliency (vanilla gradients), integrated gradients and their heat maps: known values on a
//! linear model, finite differences on a small conv net, integrated gradients' completeness,
//! and a PNG that decodes to the expected size and colours.

mod common;

use typenet::explain::{
    class_scores, integrated_gradients, render_heatmap, vanilla_gradient, write_heatmap_png,
    ExplainError,
};
use typenet::prelude::*;

type Linear = network![Input<4>, Dense<3>];
type SmallCnn = network![Input<1, 6, 6>, Conv2D<2, 3>, Tanh, MaxPool<2>, Flatten, Dense<3>];
/// Smooth everywhere (no max-pool switching between inputs), for the midpoint rule's
/// `1/steps²` error.
type SmoothCnn = network![Input<1, 6, 6>, Conv2D<2, 3>, Tanh, Flatten, Dense<3>];
type Batch = Tensor<(usize, Const<1>, Const<6>, Const<6>), f64, Cpu>;

const WEIGHT: [[f64; 4]; 3] = [
    [1.0, -2.0, 0.5, 0.0],
    [0.25, 3.0, -1.0, 2.0],
    [-0.5, 0.0, 4.0, 1.5],
];

fn linear(dev: &Cpu) -> <Linear as BuildOnDevice<Cpu, f64>>::Built {
    let mut model = dev.build_module::<Linear, f64>();
    model.weight = dev.tensor(WEIGHT);
    model.bias = dev.tensor([0.1, 0.2, 0.3]);
    model
}

fn small_cnn() -> (Cpu, <SmallCnn as BuildOnDevice<Cpu, f64>>::Built, Batch) {
    let dev = Cpu::seed_from_u64(7);
    let model = dev.build_module::<SmallCnn, f64>();
    let x: Batch = dev.sample_uniform_like(&(2, Const, Const, Const));
    (dev, model, x)
}

#[test]
fn the_saliency_of_a_linear_model_is_the_weight_row_of_the_class() {
    let dev = Cpu::default();
    let model = linear(&dev);
    let x: Tensor<(usize, Const<4>), f64, _> =
        dev.tensor_from_vec(vec![1.0, 2.0, 3.0, 4.0, -1.0, 0.0, 7.0, 0.5], (2, Const));
    let saliency = vanilla_gradient(&model, &x, &[1, 2]).unwrap();
    assert_eq!(saliency.as_vec()[..4], WEIGHT[1]);
    assert_eq!(saliency.as_vec()[4..], WEIGHT[2]);
}

#[test]
fn the_saliency_of_a_conv_net_matches_finite_differences() {
    let (_, model, mut x) = small_cnn();
    let classes = [2, 0];
    let saliency = vanilla_gradient(&model, &x, &classes).unwrap().as_vec();
    assert!(
        saliency.iter().any(|&g| g.abs() > 1e-3),
        "a gradient to compare"
    );
    let per_sample = 36;
    for at in [0, 7, 14, 21, 35, 36, 43, 50, 64, 71] {
        let sample = at / per_sample;
        // The score of the sample that element `at` belongs to, alone: the other sample's
        // score must not leak into its gradient.
        let score = |x: &Batch| class_scores(&model, x, &classes).unwrap()[sample];
        let numeric = common::numeric(&mut x, score, |x| x, at);
        common::close(numeric, saliency[at]);
    }
}

#[test]
fn integrated_gradients_of_a_linear_model_are_input_minus_baseline_times_weight() {
    let dev = Cpu::default();
    let model = linear(&dev);
    let x: Tensor<(usize, Const<4>), f64, _> =
        dev.tensor_from_vec(vec![1.0, 2.0, 3.0, 4.0], (1, Const));
    let baseline = dev.tensor_from_vec(vec![0.5, 0.0, -1.0, 4.0], (1, Const));
    // The gradient is the same everywhere, so one step is exact.
    for (baseline, expected) in [
        (None, [0.25, 6.0, -3.0, 8.0]),
        (Some(&baseline), [0.125, 6.0, -4.0, 0.0]),
    ] {
        let attributions = integrated_gradients(&model, &x, &[1], baseline, 1).unwrap();
        assert_eq!(attributions.as_vec(), expected);
    }
}

/// |sum of attributions - (score(x) - score(baseline))| for each sample, relative to
/// 1 + |score(x) - score(baseline)|.
fn completeness_gap<M>(model: &M, steps: usize, baseline: Option<&Batch>) -> Vec<f64>
where
    M: Module<Batch, Output = Tensor<(usize, Const<3>), f64, Cpu>>
        + Module<
            Tensor<(usize, Const<1>, Const<6>, Const<6>), f64, Cpu, OwnedTape<f64, Cpu>>,
            Output = Tensor<(usize, Const<3>), f64, Cpu, OwnedTape<f64, Cpu>>,
        >,
{
    let (dev, _, x) = small_cnn();
    let classes = [1, 2];
    let attributions = integrated_gradients(model, &x, &classes, baseline, steps)
        .unwrap()
        .as_vec();
    let zeros: Batch = dev.zeros_like(&(2, Const, Const, Const));
    let start = class_scores(model, baseline.unwrap_or(&zeros), &classes).unwrap();
    let end = class_scores(model, &x, &classes).unwrap();
    attributions
        .chunks(36)
        .zip(start.iter().zip(&end))
        .map(|(a, (s, e))| (a.iter().sum::<f64>() - (e - s)).abs() / (1.0 + (e - s).abs()))
        .collect()
}

#[test]
fn integrated_gradients_add_up_to_the_score_difference_ever_closer_with_more_steps() {
    let dev = Cpu::seed_from_u64(3);
    let model = dev.build_module::<SmoothCnn, f64>();
    let other: Batch = dev.sample_normal_like(&(2, Const, Const, Const));
    for baseline in [None, Some(&other)] {
        let coarse = completeness_gap(&model, 2, baseline);
        let fine = completeness_gap(&model, 64, baseline);
        println!("completeness gap: {coarse:?} at 2 steps, {fine:?} at 64 steps");
        for (coarse, fine) in coarse.iter().zip(&fine) {
            assert!(*fine < 1e-5, "gap {fine} at 64 steps");
            // The midpoint rule's error falls as 1/steps²: 1024 times from 2 to 64 steps.
            assert!(
                fine * 100.0 < *coarse,
                "gap {coarse} at 2 steps, {fine} at 64"
            );
        }
    }
}

#[test]
fn integrated_gradients_add_up_across_max_pool_switches_given_enough_steps() {
    let (dev, model, _) = small_cnn();
    // From a random baseline the path crosses max-pool switches, where the gradient jumps.
    let baseline: Batch = dev.sample_normal_like(&(2, Const, Const, Const));
    for gap in completeness_gap(&model, 512, Some(&baseline)) {
        assert!(gap < 1e-3, "gap {gap} at 512 steps");
    }
}

#[test]
fn an_input_equal_to_its_baseline_gets_no_attribution() {
    let (_, model, x) = small_cnn();
    let attributions = integrated_gradients(&model, &x, &[0, 1], Some(&x), 8).unwrap();
    assert!(attributions.as_vec().iter().all(|&a| a == 0.0));
}

#[test]
fn bad_classes_steps_and_baselines_are_typed_errors() {
    let (dev, model, x) = small_cnn();
    let err = vanilla_gradient(&model, &x, &[0]).unwrap_err();
    assert!(
        matches!(
            err,
            ExplainError::ClassCount {
                classes: 1,
                batch: 2
            }
        ),
        "{err}"
    );
    let err = vanilla_gradient(&model, &x, &[0, 3]).unwrap_err();
    assert!(
        matches!(
            err,
            ExplainError::ClassOutOfRange {
                sample: 1,
                class: 3,
                classes: 3
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "sample 1 asks for class 3, but the model has 3 outputs"
    );
    let err = integrated_gradients(&model, &x, &[0, 1], None, 0).unwrap_err();
    assert!(matches!(err, ExplainError::NoSteps), "{err}");
    let three: Batch = dev.zeros_like(&(3, Const, Const, Const));
    let err = integrated_gradients(&model, &x, &[0, 1], Some(&three), 4).unwrap_err();
    assert!(
        matches!(
            err,
            ExplainError::ShapeMismatch {
                what: "baseline",
                ..
            }
        ),
        "{err}"
    );
    assert!(class_scores(&model, &x, &[0, 9]).is_err());
}

/// dfdx's training idiom loses the input's gradient: `alloc_grads` marks the model's
/// parameters as the only leaves and the backward pass drops every other gradient, so
/// `grads.get(&x)` unwraps nothing. `vanilla_gradient` traces the input with leaky
/// gradients instead; this test shows why (and fails if dfdx ever keeps the input's).
#[test]
#[should_panic]
fn dfdx_drops_the_input_gradient_when_traced_with_the_models_gradients() {
    let dev = Cpu::default();
    let model = linear(&dev);
    let x: Tensor<Rank2<1, 4>, f64, _> = dev.ones();
    let grads = model.forward(x.trace(model.alloc_grads())).sum().backward();
    let _ = grads.get(&x);
}

/// Decodes a PNG into (width, height, RGB pixels).
fn decode(path: &std::path::Path) -> (u32, u32, Vec<u8>) {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn a_heat_map_png_decodes_to_one_tile_per_sample_in_grey_and_red() {
    let dev = Cpu::default();
    // Three 5x4 images, two channels; image values rise along each row.
    let (batch, channels, height, width, scale) = (3, 2, 5, 4, 3);
    let images: Vec<f32> = (0..batch * channels * height * width)
        .map(|i| (i % width) as f32)
        .collect();
    // All saliency sits on pixel (row 1, column 2) of each image, split over the channels.
    let mut saliency = vec![0.0f32; images.len()];
    for sample in 0..batch {
        for channel in 0..channels {
            saliency[((sample * channels + channel) * height + 1) * width + 2] = -0.5;
        }
    }
    let shape = (batch, Const::<2>, Const::<5>, Const::<4>);
    let images = dev.tensor_from_vec(images, shape);
    let saliency = dev.tensor_from_vec(saliency, shape);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heat.png");
    write_heatmap_png(&path, &images, &saliency, scale as u32).unwrap();
    let (w, h, rgb) = decode(&path);
    let gap = scale;
    assert_eq!(w as usize, batch * width * scale + (batch - 1) * gap);
    assert_eq!(h as usize, height * scale);
    let pixel = |x: usize, y: usize| {
        let at = (y * w as usize + x) * 3;
        [rgb[at], rgb[at + 1], rgb[at + 2]]
    };
    for sample in 0..batch {
        let left = sample * (width * scale + gap);
        for dy in 0..scale {
            for dx in 0..scale {
                // the salient pixel: pure red; columns 0 and 3 elsewhere: black and white
                assert_eq!(pixel(left + 2 * scale + dx, scale + dy), [255, 0, 0]);
                assert_eq!(pixel(left + dx, dy), [0, 0, 0]);
                assert_eq!(
                    pixel(left + 3 * scale + dx, 4 * scale + dy),
                    [255, 255, 255]
                );
            }
        }
        if sample > 0 {
            assert_eq!(pixel(left - 1, 0), [255, 255, 255], "the gap is white");
        }
    }
    // The file holds what render_heatmap draws.
    assert_eq!(render_heatmap(&images, &saliency, 3).unwrap().rgb, rgb);
}

#[test]
fn a_heat_map_of_mismatched_or_shapeless_tensors_is_an_error() {
    let dev = Cpu::default();
    let images: Tensor<(usize, Const<4>, Const<4>), f32, _> = dev.zeros_like(&(2, Const, Const));
    let other: Tensor<(usize, Const<4>, Const<4>), f32, _> = dev.zeros_like(&(3, Const, Const));
    let err = render_heatmap(&images, &other, 2).unwrap_err();
    assert!(
        matches!(
            err,
            ExplainError::ShapeMismatch {
                what: "saliency",
                ..
            }
        ),
        "{err}"
    );
    let err = render_heatmap(&images, &images, 0).unwrap_err();
    assert!(
        matches!(err, ExplainError::NotAnImage { scale: 0, .. }),
        "{err}"
    );
    // A batch of vectors draws one row of pixels per sample.
    let vectors: Tensor<Rank2<2, 5>, f32, _> = dev.zeros();
    let image = render_heatmap(&vectors, &vectors, 1).unwrap();
    assert_eq!((image.width, image.height), (11, 1));
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no such directory").join("heat.png");
    let err = write_heatmap_png(&missing, &images, &images, 1).unwrap_err();
    assert!(matches!(err, ExplainError::Io { .. }), "{err}");
}
