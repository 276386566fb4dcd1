//! Which reduction a pooling layer applies: the type parameter of the pooling layers.

/// Max or average pooling, as a type so that layer types name it.
pub trait PoolMode: Default + Copy + Send + Sync + 'static {
    const IS_MAX: bool;
    /// Keras's name of the windowed layer.
    const NAME: &'static str;
    /// Keras's name of the global layer.
    const GLOBAL_NAME: &'static str;
    /// Keras's names of the layers over sequences.
    const NAME_1D: &'static str;
    const GLOBAL_NAME_1D: &'static str;
}

/// Max pooling.
#[derive(Debug, Clone, Copy, Default)]
pub struct Max;

/// Average pooling.
#[derive(Debug, Clone, Copy, Default)]
pub struct Avg;

impl PoolMode for Max {
    const IS_MAX: bool = true;
    const NAME: &'static str = "MaxPool";
    const GLOBAL_NAME: &'static str = "GlobalMaxPool";
    const NAME_1D: &'static str = "MaxPool1D";
    const GLOBAL_NAME_1D: &'static str = "GlobalMaxPool1D";
}

impl PoolMode for Avg {
    const IS_MAX: bool = false;
    const NAME: &'static str = "AvgPool";
    const GLOBAL_NAME: &'static str = "GlobalAvgPool";
    const NAME_1D: &'static str = "AvgPool1D";
    const GLOBAL_NAME_1D: &'static str = "GlobalAvgPool1D";
}
