//! What a layer tells a model summary, known from its type alone.

/// Per-sample facts about a layer, all computed from its const generics.
pub trait LayerInfo {
    /// The name a Keras user knows the layer by, e.g. `"Conv2D"`.
    const NAME: &'static str;
    /// Output shape of one sample; `None` for layers that keep their input's shape.
    const OUTPUT: Option<&'static [usize]>;
    /// Parameters, counted as Keras counts them (BatchNorm's running statistics included).
    const PARAMS: usize;
    /// Floating-point operations of one forward pass over one sample (a multiply-add is 2).
    const FLOPS: usize;
    /// Elements of one sample's output.
    const ACTIVATIONS: usize;

    /// The summary rows of the layers inside this one (a branch, a residual block), labelled
    /// after `prefix`; `input` is the shape reaching this layer, where known.
    fn inner_rows(
        _prefix: &str,
        _input: Option<&'static [usize]>,
        _rows: &mut Vec<crate::summary::SummaryRow>,
    ) {
    }
}
