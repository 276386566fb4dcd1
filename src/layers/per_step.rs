//! Layers that act on each step of a sequence alone take a [`Masked`] batch and pass its
//! mask on, so that they can sit between an `Embedding` and a recurrent layer.
//!
//! These are `Dense` on a sequence (the same weights at every step), `Dropout` and the
//! activations. A padded step's output is computed as any other; the recurrent layer after
//! them skips it. Layers that mix steps (a recurrent layer, pooling) handle the mask
//! themselves or do not take it.

use super::activation::{LeakyReLU, ReLU};
use super::dense::DenseModule;
use super::dropout::Dropout;
use super::masked::Masked;
use dfdx::nn::modules::{AccurateGeLU, Sigmoid, Softmax, Tanh};
use dfdx::nn::{Module, ModuleMut};
use dfdx::prelude::{Dtype, Storage};

/// `Module<Masked<X, Mask>>` for a layer that is a `Module<X>`: the layer runs on `x`, the
/// mask goes along unchanged. Layers without state of their own (all here but `Dropout`)
/// are `NonMutableModule`s, for which dfdx derives `ModuleMut` from `Module`.
macro_rules! passes_the_mask_on {
    ($([$($generics:tt)*] $layer:ty;)*) => {$(
        impl<$($generics)* X, Mask> Module<Masked<X, Mask>> for $layer
        where
            $layer: Module<X>,
        {
            type Output = Masked<<$layer as Module<X>>::Output, Mask>;
            type Error = <$layer as Module<X>>::Error;

            fn try_forward(&self, input: Masked<X, Mask>) -> Result<Self::Output, Self::Error> {
                Ok(Masked {
                    x: self.try_forward(input.x)?,
                    mask: input.mask,
                })
            }
        }
    )*};
}

passes_the_mask_on! {
    [const I: usize, const O: usize, E: Dtype, D: Storage<E>,] DenseModule<I, O, E, D>;
    [const RATE_PPM: u32, const N: usize,] Dropout<RATE_PPM, N>;
    [] ReLU;
    [const SLOPE_PPM: u32,] LeakyReLU<SLOPE_PPM>;
    [] Sigmoid;
    [] Tanh;
    [] AccurateGeLU;
    [] Softmax;
}

/// Dropout in training: drops values of every step, padded or not (the recurrent layer after
/// it ignores the padded ones); the mask is untouched.
impl<const RATE_PPM: u32, const N: usize, X, Mask> ModuleMut<Masked<X, Mask>>
    for Dropout<RATE_PPM, N>
where
    Dropout<RATE_PPM, N>: ModuleMut<X>,
{
    type Output = Masked<<Self as ModuleMut<X>>::Output, Mask>;
    type Error = <Self as ModuleMut<X>>::Error;

    fn try_forward_mut(&mut self, input: Masked<X, Mask>) -> Result<Self::Output, Self::Error> {
        Ok(Masked {
            x: self.try_forward_mut(input.x)?,
            mask: input.mask,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::{lengths_mask, Dense, SequencePadding};
    use dfdx::prelude::{
        Const, Cpu, DeviceBuildExt, Gradients, ReshapeTo, SampleTensor, Tensor, Trace,
    };

    /// Each layer gives on a `Masked` batch what it gives on the bare sequences, and the
    /// mask comes out as it went in.
    #[test]
    fn a_masked_batch_is_the_bare_batch_with_its_mask() {
        let dev: Cpu = Cpu::seed_from_u64(5);
        let x: Tensor<(usize, Const<3>, Const<4>), f64, _> =
            dev.sample_normal_like(&(2, Const, Const));
        let mask = lengths_mask::<f64, _>(&dev, &[3, 1], 3, SequencePadding::Post)
            .unwrap()
            .reshape_like(&(2usize, Const::<3>));
        let masked = || Masked::new(x.clone(), mask.clone()).unwrap();
        let dense = dev.build_module::<Dense<4, 2, 3>, f64>();
        let y = dense.forward(masked());
        assert_eq!(y.x.as_vec(), dense.forward(x.clone()).as_vec());
        assert_eq!(y.mask.as_vec(), mask.as_vec());
        let cases: [(Vec<f64>, Vec<f64>); 5] = [
            (
                ReLU.forward(masked()).x.as_vec(),
                ReLU.forward(x.clone()).as_vec(),
            ),
            (
                LeakyReLU::<300_000>.forward(masked()).x.as_vec(),
                LeakyReLU::<300_000>.forward(x.clone()).as_vec(),
            ),
            (
                Sigmoid.forward(masked()).x.as_vec(),
                Sigmoid.forward(x.clone()).as_vec(),
            ),
            (
                Tanh.forward(masked()).x.as_vec(),
                Tanh.forward(x.clone()).as_vec(),
            ),
            (
                Softmax.forward(masked()).x.as_vec(),
                Softmax.forward(x.clone()).as_vec(),
            ),
        ];
        for (on_masked, on_bare) in cases {
            assert_eq!(on_masked, on_bare);
        }
        // dropout: the identity in inference, and it drops in training, keeping the mask
        let mut dropout = Dropout::<500_000, 12>;
        assert_eq!(dropout.forward(masked()).x.as_vec(), x.as_vec());
        let traced = Masked::new(x.clone().traced(Gradients::leaky()), mask.clone()).unwrap();
        let dropped = dropout.forward_mut(traced);
        assert!(dropped.x.as_vec().contains(&0.0));
        assert_eq!(dropped.mask.as_vec(), mask.as_vec());
    }
}
