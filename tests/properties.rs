//! Property tests (proptest): random and mutated IDX files and checkpoints never panic,
//! and every layer kind of `network!` takes batches of 0, 1 and more.
//!
//! The fast kernels are held to the generic path by the property tests inside
//! `src/ops/*/tests.rs` (they need crate-private test helpers).

use proptest::prelude::*;
use typenet::data::{DataError, Idx};
use typenet::prelude::*;
use typenet::train::{load_checkpoint, save_checkpoint, TrainError};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------- IDX

/// A small valid IDX array: 1 to 3 dimensions of 0 to 4.
fn idx() -> impl Strategy<Value = Idx> {
    proptest::collection::vec(0usize..5, 1..4).prop_flat_map(|dims| {
        let n: usize = dims.iter().product();
        proptest::collection::vec(any::<u8>(), n).prop_map(move |data| Idx {
            dims: dims.clone(),
            data,
        })
    })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// One change to a byte string.
#[derive(Clone, Debug)]
enum Mutation {
    /// Sets the byte at this position (modulo the length) to this value.
    Set(usize, u8),
    /// Keeps this many bytes (modulo the length + 1).
    Truncate(usize),
    /// Inserts bytes at this position (modulo the length + 1).
    Insert(usize, Vec<u8>),
    /// Removes the byte at this position (modulo the length).
    Remove(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..9))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => any::<usize>().prop_map(Mutation::Remove),
    ]
}

/// Applies `mutations` to `bytes`; positions are taken modulo `window` (the bytes from 0 to
/// `window`, or all of them for `usize::MAX`), so that mutations can aim at a header.
fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation], window: usize) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().min(window);
        match m {
            Mutation::Set(i, b) if len > 0 => bytes[i % len] = *b,
            Mutation::Truncate(n) => bytes.truncate(n % (bytes.len() + 1)),
            Mutation::Insert(i, b) => {
                let at = i % (len + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Mutation::Remove(i) if len > 0 => {
                bytes.remove(i % len);
            }
            _ => {}
        }
    }
    bytes
}

/// Decodes `bytes`, and reads them back from a file: either succeeds with a well-formed
/// array or fails with a typed error, and the two agree.
fn check_idx(bytes: &[u8], dir: &std::path::Path) -> Result<(), TestCaseError> {
    let decoded = Idx::decode(bytes);
    if let Ok(idx) = &decoded {
        prop_assert!(!idx.dims.is_empty());
        prop_assert_eq!(idx.dims.iter().product::<usize>(), idx.data.len());
        // What decodes encodes back to the raw bytes (gzip input: to its contents).
        prop_assert_eq!(Idx::decode(&idx.encode()).unwrap(), idx.clone());
    } else {
        // The error has a message (Display does not panic either).
        prop_assert!(!decoded.as_ref().unwrap_err().to_string().is_empty());
    }
    let path = dir.join("x-idx1-ubyte");
    std::fs::write(&path, bytes).unwrap();
    match (Idx::read(&path), decoded) {
        (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
        (Err(DataError::Idx { source, .. }), Err(e)) => {
            prop_assert_eq!(source.to_string(), e.to_string())
        }
        (a, b) => prop_assert!(false, "read {a:?} but decode {b:?}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn random_bytes_never_panic_the_idx_reader(
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
        gzipped in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let bytes = if gzipped { gzip(&bytes) } else { bytes };
        check_idx(&bytes, dir.path())?;
    }

    #[test]
    fn valid_idx_round_trips_raw_and_gzipped(idx in idx()) {
        prop_assert_eq!(Idx::decode(&idx.encode()).unwrap(), idx.clone());
        prop_assert_eq!(Idx::decode(&gzip(&idx.encode())).unwrap(), idx);
    }

    #[test]
    fn mutated_idx_never_panics_the_reader(
        idx in idx(),
        mutations in proptest::collection::vec(mutation(), 1..4),
        header_only in any::<bool>(),
        gzipped in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let raw = idx.encode();
        // Aim at the header (magic and dims) half the time: the data bytes always parse.
        let window = if header_only { 4 + 4 * idx.dims.len() } else { usize::MAX };
        let mutated = mutate(raw.clone(), &mutations, window);
        check_idx(&mutated, dir.path())?;
        // A valid gzip stream of mutated contents, and a mutated gzip stream.
        if gzipped {
            check_idx(&gzip(&mutated), dir.path())?;
            check_idx(&mutate(gzip(&raw), &mutations, usize::MAX), dir.path())?;
        }
    }
}

// ---------------------------------------------------------------- checkpoints

type Small = network![Input<3>, Dense<4>, BatchNorm, ReLU, Dense<2>];

/// The checkpoint bytes of `model` (as the file `save_checkpoint` writes).
fn checkpoint_bytes<M>(model: &M, dir: &std::path::Path) -> Vec<u8>
where
    M: typenet::dfdx::nn::tensor_collection::TensorCollection<f32, Cpu>,
{
    let path = dir.join("snapshot.safetensors");
    save_checkpoint(model, &path).unwrap();
    std::fs::read(path).unwrap()
}

/// The length of the safetensors header: 8 bytes of size, then the JSON.
fn header_end(bytes: &[u8]) -> usize {
    8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn mutated_checkpoints_never_panic_and_leave_the_model_unchanged_on_error(
        mutations in proptest::collection::vec(mutation(), 1..4),
        aim in 0u8..3,
        digit_edits in proptest::collection::vec((any::<usize>(), 0u8..10), 0..3),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let dev: Cpu = Cpu::seed_from_u64(1);
        let source = dev.build_module::<Small, f32>();
        let good = checkpoint_bytes(&source, dir.path());
        // 0: anywhere; 1: the header (JSON names, dtypes, shapes, offsets); 2: digits of the
        // header only, which keeps the JSON valid more often and reaches the shape checks.
        let end = header_end(&good);
        let bad = match aim {
            0 => mutate(good, &mutations, usize::MAX),
            1 => mutate(good, &mutations, end),
            _ => {
                let mut b = good;
                let digits: Vec<usize> = (8..end).filter(|&i| b[i].is_ascii_digit()).collect();
                for (i, d) in &digit_edits {
                    b[digits[i % digits.len()]] = b'0' + d;
                }
                b
            }
        };
        let path = dir.path().join("mutated.safetensors");
        std::fs::write(&path, &bad).unwrap();

        let other = Cpu::seed_from_u64(2);
        let mut model = other.build_module::<Small, f32>();
        let before = checkpoint_bytes(&model, dir.path());
        match load_checkpoint(&mut model, &path) {
            Ok(()) => {}
            Err(err) => {
                prop_assert!(!err.to_string().is_empty());
                prop_assert!(
                    matches!(
                        err,
                        TrainError::Safetensors { .. }
                            | TrainError::ShapeMismatch { .. }
                            | TrainError::MissingTensor { .. }
                            | TrainError::UnexpectedTensor { .. }
                            | TrainError::DtypeMismatch { .. }
                            | TrainError::NonFiniteInCheckpoint { .. }
                            | TrainError::LegacyCheckpoint { .. }
                    ),
                    "unexpected error kind: {err:?}"
                );
                prop_assert_eq!(checkpoint_bytes(&model, dir.path()), before, "{}", err);
            }
        }
    }

    #[test]
    fn random_bytes_never_panic_load_checkpoint(
        bytes in proptest::collection::vec(any::<u8>(), 0..128),
        json in "\\{[\"a-z0-9_.:,\\[\\] ]{0,60}\\}",
    ) {
        let dir = tempfile::tempdir().unwrap();
        let dev: Cpu = Cpu::seed_from_u64(2);
        let mut model = dev.build_module::<Small, f32>();
        let before = checkpoint_bytes(&model, dir.path());
        // Raw random bytes, then a length prefix with JSON-like text and random data.
        let mut framed = (json.len() as u64).to_le_bytes().to_vec();
        framed.extend_from_slice(json.as_bytes());
        framed.extend_from_slice(&bytes);
        for file in [bytes, framed] {
            let path = dir.path().join("random.safetensors");
            std::fs::write(&path, &file).unwrap();
            prop_assert!(load_checkpoint(&mut model, &path).is_err());
            prop_assert_eq!(checkpoint_bytes(&model, dir.path()), before.clone());
        }
    }
}

// ---------------------------------------------------------------- batch sizes

/// Batch sizes: none, one, a few, and sizes the recurrent kernel splits across threads.
const BATCHES: [usize; 8] = [0, 1, 2, 3, 4, 5, 9, 17];

type Cnn = network![
    Input<2, 9, 9>,
    Conv2D<3, 3, padding = same, activation = relu>,
    BatchNorm,
    MaxPool<2>,
    Conv2D<4, 2, dilation = 2, padding = 1>,
    AvgPool<2, stride = 1, padding = 1>,
    Dropout<0.5>,
    Flatten,
    Dense<5, activation = tanh>,
    Dense<3>,
    Softmax,
];

type ResCnn = network![
    Input<1, 8, 8>,
    Conv2D<4, 3, stride = 1>,
    Sigmoid,
    Residual<[Conv2D<4, 3, padding = same>, BatchNorm, GELU]>,
    Residual<[Conv2D<6, 3, stride = 2, padding = same>, ReLU], shortcut = [Conv2D<6, 1, stride = 2>]>,
    MaxPool<3, stride = 2, padding = same>,
    GlobalAvgPool,
    Dense<2>,
];

type GlobalMax = network![Input<3, 5, 4>, Conv2D<2, 2>, GlobalMaxPool, Dense<2>];

type Rnn = network![
    Input<5, 3>,
    LSTM<4, return_sequences>,
    Bidirectional<GRU<3, return_sequences>>,
    SimpleRNN<2, return_sequences>,
    Dense<3>,
    Bidirectional<LSTM<2>>,
    Dense<2>,
];

type Crnn = network![Input<1, 6, 6>, Conv2D<2, 3>, GRU<3>, Dense<2>];

type Words = network![Tokens<6>, Embedding<20, 4>, Bidirectional<SimpleRNN<3>>, Dense<1>, Sigmoid];

type Mlp = network![Input<4>, Dense<8>, BatchNorm, ReLU, Dropout<0.2>, Dense<3>, Residual<[Dense<3>, Tanh]>];

/// Whether every element is finite. (dfdx 0.13's `as_vec` indexes element 0 even of an
/// empty tensor, a panic; `copy_into` does not.)
fn finite<S: Shape, T>(y: &Tensor<S, f32, Cpu, T>) -> bool {
    let mut v = vec![0.0; y.shape().num_elements()];
    y.copy_into(&mut v);
    v.iter().all(|v| v.is_finite())
}

/// Runs `model` on a batch of `b` in inference and, unless it has a batch norm and `b < 2`,
/// in training (traced, with a backward pass when the output is not empty); checks that
/// the output has `b` rows and is finite.
macro_rules! check_batches {
    ($net:ty, $has_bn:expr, |$dev:ident, $b:ident| $input:expr, $out:ty) => {{
        let $dev: Cpu = Cpu::seed_from_u64(0);
        let mut model = $dev.build_module::<$net, f32>();
        for $b in BATCHES {
            let y: $out = model.forward($input);
            assert_eq!(
                y.shape().0,
                $b,
                "{} inference, batch {}",
                stringify!($net),
                $b
            );
            assert!(finite(&y), "{} batch {}", stringify!($net), $b);
            if $has_bn && $b < 2 {
                continue;
            }
            let grads = model.alloc_grads();
            let y: typenet::dfdx::tensor::Tensor<_, f32, Cpu, OwnedTape<f32, Cpu>> =
                model.forward_mut($input.traced(grads));
            assert_eq!(
                y.shape().0,
                $b,
                "{} training, batch {}",
                stringify!($net),
                $b
            );
            assert!(finite(&y), "{} batch {}", stringify!($net), $b);
            if $b > 0 {
                let grads = y.square().sum().backward();
                drop(grads);
            }
        }
    }};
}

#[test]
fn every_layer_kind_takes_batches_of_any_size() {
    check_batches!(
        Cnn,
        true,
        |dev, b| dev.sample_normal_like(&(b, Const::<2>, Const::<9>, Const::<9>)),
        Tensor<(usize, Const<3>), f32, Cpu>
    );
    check_batches!(
        ResCnn,
        true,
        |dev, b| dev.sample_normal_like(&(b, Const::<1>, Const::<8>, Const::<8>)),
        Tensor<(usize, Const<2>), f32, Cpu>
    );
    check_batches!(
        GlobalMax,
        false,
        |dev, b| dev.sample_normal_like(&(b, Const::<3>, Const::<5>, Const::<4>)),
        Tensor<(usize, Const<2>), f32, Cpu>
    );
    check_batches!(
        Rnn,
        false,
        |dev, b| dev.sample_normal_like(&(b, Const::<5>, Const::<3>)),
        Tensor<(usize, Const<2>), f32, Cpu>
    );
    check_batches!(
        Mlp,
        true,
        |dev, b| dev.sample_normal_like(&(b, Const::<4>)),
        Tensor<(usize, Const<3>), f32, Cpu>
    );
}

/// Found by this test: an empty batch through the `ToSequence` step the macro inserts
/// between an image and a recurrent layer panics (dfdx 0.13's reshape of an empty
/// permuted tensor).
#[test]
fn image_to_sequence_takes_an_empty_batch() {
    check_batches!(
        Crnn,
        false,
        |dev, b| dev.sample_normal_like(&(b, Const::<1>, Const::<6>, Const::<6>)),
        Tensor<(usize, Const<2>), f32, Cpu>
    );
}

type Leaky = network![Input<4>, Dense<3>, LeakyReLU, Dense<2>];

/// Found by this test: an empty batch through `LeakyReLU` panics inside dfdx 0.13 (its
/// strided iterators read element 0 of an empty tensor, in `prelu`'s `lt`).
#[test]
fn leaky_relu_takes_an_empty_batch() {
    check_batches!(
        Leaky,
        false,
        |dev, b| dev.sample_normal_like(&(b, Const::<4>)),
        Tensor<(usize, Const<2>), f32, Cpu>
    );
}

#[test]
fn embeddings_take_batches_of_one_and_more() {
    embeddings(&BATCHES[1..]);
}

/// Found by this test: an empty batch of token ids panicked inside dfdx 0.13's `Embedding`
/// (its `gather` reads element 0 of an empty tensor); typenet's own `Embedding` returns an
/// empty `(0, T, D)` instead.
#[test]
fn embeddings_take_an_empty_batch() {
    embeddings(&[0]);
}

fn embeddings(batches: &[usize]) {
    let dev: Cpu = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Words, f32>();
    for &b in batches {
        let ids: Vec<usize> = (0..b * 6).map(|i| (i * 7) % 20).collect();
        let x: Tensor<(usize, Const<6>), usize, Cpu> = dev.tensor_from_vec(ids, (b, Const));
        let y: Tensor<(usize, Const<1>), f32, Cpu> = model.forward(x.clone());
        assert_eq!(y.shape().0, b);
        let grads = model.alloc_grads();
        let y = model.forward_mut(x.traced(grads));
        assert_eq!(y.shape().0, b);
        if b > 0 {
            let _ = y.square().sum().backward();
        }
    }
}
