//! The typed errors of reading data and of fitting it to a model's input.

use std::path::PathBuf;

/// What can go wrong reading a data file or matching samples to a model.
///
/// Every failure of the readers is one of these; none of them panics on bad input.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file that should be there is not.
    #[error("{}: no such file", path.display())]
    NotFound {
        /// The file.
        path: PathBuf,
    },

    /// A data set directory lacks one of its files, compressed or not.
    #[error("{}: found neither {name} nor {name}.gz", dir.display())]
    MissingFile {
        /// The directory searched.
        dir: PathBuf,
        /// The file name looked for, without `.gz`.
        name: String,
    },

    /// The operating system refused to read a file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// A file is not well-formed IDX data.
    #[error("{}: {source}", path.display())]
    Idx {
        /// The file.
        path: PathBuf,
        /// What is wrong with its content.
        #[source]
        source: IdxError,
    },

    /// An IDX file holds another kind of array than the one asked for, e.g. labels
    /// (magic 2049) where images (magic 2051) were expected.
    #[error("{}: magic number {found} ({found:#010x}), expected {expected} ({expected:#010x})", path.display())]
    WrongMagic {
        /// The file.
        path: PathBuf,
        /// The magic number of the array asked for.
        expected: u32,
        /// The file's magic number.
        found: u32,
    },

    /// An images file and its labels file disagree on how many samples there are.
    #[error("{images} images but {labels} labels")]
    CountMismatch {
        /// The number of samples.
        images: usize,
        /// The number of labels.
        labels: usize,
    },

    /// A flat buffer does not divide into whole samples of the given shape.
    #[error("{len} values do not divide into samples of shape {shape:?}")]
    Ragged {
        /// The number of values given.
        len: usize,
        /// The sample shape they should divide into.
        shape: Vec<usize>,
    },

    /// A sample shape whose number of values does not fit in a `usize`, e.g. `[1 << 32, 1 << 32]`
    /// on a 64-bit machine: no data could hold even one such sample.
    #[error("a sample of shape {shape:?} would hold more values than a usize can count; check the shape (e.g. [28, 28] for MNIST images)")]
    ShapeOverflow {
        /// The shape given.
        shape: Vec<usize>,
    },

    /// [`pad_sequences`](crate::data::pad_sequences) was asked for more values than
    /// [`MAX_PADDED_VALUES`](crate::data::MAX_PADDED_VALUES) (or than a `usize` counts):
    /// almost always a `maxlen` far larger than meant. Nothing was allocated.
    #[error("padding {rows} sequences to maxlen {maxlen} needs {} values, more than the {limit} pad_sequences allows; pass a smaller maxlen (every row is padded to exactly maxlen, as in Keras), or pad fewer sequences at a time", values.map_or_else(|| "more than usize::MAX".to_string(), |v| v.to_string()))]
    PaddedTooLarge {
        /// The number of sequences.
        rows: usize,
        /// The length asked for.
        maxlen: usize,
        /// `rows * maxlen`, or `None` where that overflows a `usize`.
        values: Option<usize>,
        /// The most values allowed.
        limit: usize,
    },

    /// A value of a token-id input is not a token id. Token ids are stored as `f32`, like
    /// every sample value, so an id is a whole number from 0 to 2^24 - 1, the range in which
    /// `f32` holds every integer exactly.
    #[error("sample {sample} holds {value} at position {position}, which is not a token id (a whole number from 0 to 16777215, the largest integer an f32 stores exactly)")]
    TokenId {
        /// The sample's index in its set.
        sample: usize,
        /// The value's place within the sample.
        position: usize,
        /// The value.
        value: f32,
    },

    /// A token id the model's embedding table has no row for: ids run from 0 to
    /// `vocabulary - 1`.
    #[error("sample {sample} holds token id {id} at position {position}, but the model's embedding has a vocabulary of {vocabulary} (ids 0 to {}): map the words it has no row for to an id below {vocabulary} (an out-of-vocabulary token), or build the Embedding with a larger vocabulary", vocabulary.saturating_sub(1))]
    TokenOutOfVocabulary {
        /// The sample's index in its set.
        sample: usize,
        /// The id's place within the sample.
        position: usize,
        /// The id.
        id: usize,
        /// The number of rows of the embedding table.
        vocabulary: usize,
    },

    /// A value of a token mask ([`MaskedTokens`](crate::data::MaskedTokens)) that is neither
    /// 1 (a real step) nor 0 (padding).
    #[error("sample {sample} of the mask holds {value} at position {position}; a mask holds 1 for a real step and 0 for padding, nothing else")]
    MaskValue {
        /// The sample's index in its set.
        sample: usize,
        /// The value's place within the sample.
        position: usize,
        /// The value.
        value: f32,
    },

    /// A sequence said to be longer than the steps its ids were padded to.
    #[error("sequence {sample} is said to be {length} steps long, but its ids were padded to {steps}: pad or truncate every sequence to {steps} steps first (pad_sequences with maxlen: Some({steps})) and pass the lengths it kept")]
    SequenceLength {
        /// The sequence's index in its set.
        sample: usize,
        /// The length given for it.
        length: usize,
        /// The padded number of steps.
        steps: usize,
    },

    /// A model takes one set of samples per input, and was given another number of sets.
    #[error(
        "the model reads one set of samples per input, {expected} in all, but was given {found}"
    )]
    InputCount {
        /// The model's number of inputs.
        expected: usize,
        /// The number of sets given.
        found: usize,
    },

    /// The inputs of one data set hold different numbers of samples; sample `i` of every
    /// input belongs to one example, so they must agree.
    #[error("input {input} holds {samples} samples but input 0 holds {expected}")]
    InputLengths {
        /// The input that disagrees, from 0.
        input: usize,
        /// Its number of samples.
        samples: usize,
        /// The number of samples of input 0.
        expected: usize,
    },

    /// A data set was given no inputs at all.
    #[error("a data set needs at least one input")]
    NoInputs,

    /// What went wrong with one input of a model that takes several (its shape or its
    /// values); a single-input model reports the error itself.
    #[error("input {input}: {source}")]
    Input {
        /// The input, from 0, in the order of the model's input tuple.
        input: usize,
        /// What is wrong with it.
        #[source]
        source: Box<DataError>,
    },

    /// Samples of one shape were given to a model whose input has another, e.g. 28x28
    /// images to a model expecting 1x32x32.
    #[error("samples of shape {found:?} do not fit the model's input shape {expected:?}")]
    SampleShape {
        /// The shape of one model input.
        expected: Vec<usize>,
        /// The shape of one sample.
        found: Vec<usize>,
    },
}

/// Why a byte string is not IDX data.
#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    /// The data starts like gzip but does not decompress.
    #[error("corrupt or truncated gzip stream: {0}")]
    Gzip(#[source] std::io::Error),

    /// The header is not an IDX header; the text says why.
    #[error("not an IDX file: {0}")]
    NotIdx(String),

    /// The header names an element type this reader does not read.
    #[error("unsupported IDX element type {code:#04x} (only unsigned bytes, 0x08, are read)")]
    UnsupportedType {
        /// The type code, the magic number's third byte.
        code: u8,
    },

    /// The data ends before the header says it should.
    #[error("truncated: {found} bytes, but the header describes {expected}")]
    Truncated {
        /// The length in bytes the header implies (or the header itself needs).
        expected: usize,
        /// The length there is.
        found: usize,
    },

    /// A gzip file decompresses to more bytes than its IDX header describes. Decompression
    /// stops one byte past the described size, so a small file that inflates without end
    /// (a "zip bomb") costs no more memory than its header admits to.
    #[error("the gzip stream holds more than the {expected} bytes its header describes (decompression stopped there)")]
    GzipTrailingBytes {
        /// The length in bytes the header implies.
        expected: usize,
    },

    /// More bytes follow the data the header describes.
    #[error("{extra} bytes after the {expected} the header describes")]
    TrailingBytes {
        /// The length in bytes the header implies.
        expected: usize,
        /// The number of bytes past it.
        extra: usize,
    },
}
