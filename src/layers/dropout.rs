//! `Dropout`: zeroes a random fraction of the inputs while training.

use super::LayerInfo;
use dfdx::nn::{Module, ModuleMut, ZeroSizedModule};
use dfdx::prelude::{Device, Dtype, Shape, Tape, Tensor};

/// Zeroes each element with probability `RATE_PPM / 1e6` and scales the rest by
/// `1 / (1 - rate)` in `forward_mut` on a traced input (training); the identity in
/// `forward` (inference), as Keras's `Dropout(rate)` and `torch.nn.Dropout(p)`.
///
/// - Input shape: any; output shape: the same. `N` is the number of elements per sample.
/// - Arguments: `Dropout<0.25>` in `network!`; `RATE_PPM` is the rate in parts per million.
///
/// ```
/// use typenet::prelude::*;
/// let dev: Cpu = Default::default();
/// let x: Tensor<Rank1<4>, f32, _> = dev.ones();
/// assert_eq!(Dropout::<500_000, 4>.forward(x.clone()).array(), [1.0; 4]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Dropout<const RATE_PPM: u32, const N: usize>;

impl<const RATE_PPM: u32, const N: usize> ZeroSizedModule for Dropout<RATE_PPM, N> {}

impl<const RATE_PPM: u32, const N: usize> Dropout<RATE_PPM, N> {
    /// The dropout probability.
    pub const RATE: f64 = {
        assert!(RATE_PPM < 1_000_000, "Dropout: the rate must be below 1");
        RATE_PPM as f64 / 1e6
    };
}

impl<const RATE_PPM: u32, const N: usize> LayerInfo for Dropout<RATE_PPM, N> {
    const NAME: &'static str = "Dropout";
    const OUTPUT: Option<&'static [usize]> = None;
    const PARAMS: usize = 0;
    const FLOPS: usize = 0;
    const ACTIVATIONS: usize = N;
}

impl<const RATE_PPM: u32, const N: usize, S: Shape, E: Dtype, D: Device<E>, T>
    Module<Tensor<S, E, D, T>> for Dropout<RATE_PPM, N>
{
    type Output = Tensor<S, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
        Ok(x)
    }
}

/// Drops only where a tape is recording (training); one impl for both kinds of tape, so the
/// trait solver never has two to choose from (see [`BatchOf`](super::BatchOf)).
impl<const RATE_PPM: u32, const N: usize, S: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>>
    ModuleMut<Tensor<S, E, D, T>> for Dropout<RATE_PPM, N>
{
    type Output = Tensor<S, E, D, T>;
    type Error = D::Err;

    fn try_forward_mut(&mut self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
        if T::OWNS_TAPE {
            x.try_dropout(Self::RATE)
        } else {
            Ok(x)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::prelude::*;

    #[test]
    fn dropout_is_active_only_while_training() {
        let dev: Cpu = Default::default();
        let x: Tensor<Rank1<1000>, f64, _> = dev.ones();
        let mut layer = Dropout::<250_000, 1000>;
        assert_eq!(layer.forward(x.clone()).array(), [1.0; 1000]);
        assert_eq!(layer.forward_mut(x.clone()).array(), [1.0; 1000]);
        let y = layer.forward_mut(x.traced(Gradients::leaky())).array();
        let zeros = y.iter().filter(|&&v| v == 0.0).count();
        assert!(
            (150..350).contains(&zeros),
            "{zeros} of 1000 dropped at rate 0.25"
        );
        assert!(y
            .iter()
            .all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-12));
    }
}
