//! `ModelInput` for tuples of 2 and 3 single inputs: a model that reads, say, an image and
//! a sentence per example.
//!
//! These impls do not overlap the one for every `InputShape`, although dfdx's `Rank2<A, B>`
//! is itself the 2-tuple `(Const<A>, Const<B>)`: a tuple here needs both elements to be a
//! [`SingleInput`], and `Const<N>` is none (it is not an `InputShape`, nor `Tokens`, and
//! both traits are this crate's, so no other crate can make it one).

use super::dataset::{same_lengths, Samples};
use super::error::DataError;
use super::model_input::{exactly, ModelInput, SingleInput};
use dfdx::prelude::{Device, Dtype, Gradients};

/// Wraps input `input`'s error so that it says which input it is about.
fn in_input(input: usize) -> impl Fn(DataError) -> DataError {
    move |source| DataError::Input {
        input,
        source: Box::new(source),
    }
}

macro_rules! tuple_input {
    ($n:literal: $first:ident $first_at:tt $(, $rest:ident $rest_at:tt)+) => {
        /// The first input carries the tape in training; the others are tape-less.
        impl<E: Dtype, D: Device<E>, $first, $($rest),+> ModelInput<E, D> for ($first, $($rest),+)
        where
            $first: ModelInput<E, D> + SingleInput,
            $($rest: ModelInput<E, D> + SingleInput),+
        {
            type Rows = ($first::Rows, $($rest::Rows),+);
            type Plain = ($first::Plain, $($rest::Plain),+);
            type Traced = ($first::Traced, $($rest::Plain),+);

            fn check(inputs: &[&Samples]) -> Result<(), DataError> {
                let sets = exactly::<$n>(inputs)?;
                same_lengths(&sets)?;
                $first::check(&[sets[$first_at]]).map_err(in_input($first_at))?;
                $($rest::check(&[sets[$rest_at]]).map_err(in_input($rest_at))?;)+
                Ok(())
            }

            fn check_vocabulary(inputs: &[&Samples], vocabulary: usize) -> Result<(), DataError> {
                let sets = exactly::<$n>(inputs)?;
                $first::check_vocabulary(&[sets[$first_at]], vocabulary)
                    .map_err(in_input($first_at))?;
                $($rest::check_vocabulary(&[sets[$rest_at]], vocabulary)
                    .map_err(in_input($rest_at))?;)+
                Ok(())
            }

            fn gather(inputs: &[&Samples], indices: &[usize]) -> Result<Self::Rows, DataError> {
                let sets = exactly::<$n>(inputs)?;
                Ok((
                    $first::gather(&[sets[$first_at]], indices).map_err(in_input($first_at))?,
                    $($rest::gather(&[sets[$rest_at]], indices).map_err(in_input($rest_at))?),+
                ))
            }

            fn plain(dev: &D, rows: Self::Rows) -> Result<Self::Plain, D::Err> {
                Ok((
                    $first::plain(dev, rows.$first_at)?,
                    $($rest::plain(dev, rows.$rest_at)?),+
                ))
            }

            fn traced(plain: Self::Plain, grads: Gradients<E, D>) -> Self::Traced {
                ($first::traced(plain.$first_at, grads), $(plain.$rest_at),+)
            }
        }
    };
}

tuple_input!(2: A 0, B 1);
tuple_input!(3: A 0, B 1, C 2);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Tokens;
    use dfdx::prelude::{Const, Cpu, NoneTape, OwnedTape, Rank1, Rank2, Tensor};

    type Pair = (Rank2<2, 2>, Tokens<3>);

    fn sets() -> (Samples, Samples) {
        let grids = Samples::new((0..8).map(|v| v as f32).collect(), vec![2, 2]).unwrap();
        let ids = Samples::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![3]).unwrap();
        (grids, ids)
    }

    #[test]
    fn rows_of_each_input_stay_with_their_sample() {
        let (grids, ids) = sets();
        let (values, tokens) =
            <Pair as ModelInput<f32, Cpu>>::gather(&[&grids, &ids], &[1, 0]).unwrap();
        assert_eq!(values, [4.0, 5.0, 6.0, 7.0, 0.0, 1.0, 2.0, 3.0]);
        assert_eq!(tokens, [4, 5, 6, 1, 2, 3]);
    }

    #[test]
    fn only_the_first_input_is_traced() {
        let dev = Cpu::default();
        let (grids, ids) = sets();
        let rows = <Pair as ModelInput<f32, Cpu>>::gather(&[&grids, &ids], &[0, 1]).unwrap();
        let plain = <Pair as ModelInput<f32, Cpu>>::plain(&dev, rows).unwrap();
        let _: (
            Tensor<(usize, Const<2>, Const<2>), f32, Cpu, OwnedTape<f32, Cpu>>,
            Tensor<(usize, Const<3>), usize, Cpu, NoneTape>,
        ) = <Pair as ModelInput<f32, Cpu>>::traced(plain, Gradients::leaky());
        // Tokens first: the tape rides on the ids.
        type Reversed = (Tokens<3>, Rank1<4>, Rank1<4>);
        let rows =
            <Reversed as ModelInput<f32, Cpu>>::gather(&[&ids, &grids, &grids], &[1]).unwrap();
        let plain = <Reversed as ModelInput<f32, Cpu>>::plain(&dev, rows).unwrap();
        let _: (
            Tensor<(usize, Const<3>), usize, Cpu, OwnedTape<f32, Cpu>>,
            Tensor<(usize, Const<4>), f32, Cpu>,
            Tensor<(usize, Const<4>), f32, Cpu>,
        ) = <Reversed as ModelInput<f32, Cpu>>::traced(plain, Gradients::leaky());
    }

    #[test]
    fn errors_say_which_input() {
        let (grids, ids) = sets();
        let check = |inputs: &[&Samples]| <Pair as ModelInput<f32, Cpu>>::check(inputs);
        assert!(check(&[&grids, &ids]).is_ok());
        assert!(matches!(
            check(&[&grids]),
            Err(DataError::InputCount {
                expected: 2,
                found: 1
            })
        ));
        // The ids in place of the grids: input 0's shape is wrong.
        let err = check(&[&ids, &ids]).unwrap_err();
        assert!(
            matches!(&err, DataError::Input { input: 0, source } if matches!(**source, DataError::SampleShape { .. })),
            "{err}"
        );
        assert!(
            err.to_string().starts_with("input 0: samples of shape [3]"),
            "{err}"
        );
        let bad = Samples::new(vec![1.0, 2.0, 3.0, 4.0, 5.5, 6.0], vec![3]).unwrap();
        let err = check(&[&grids, &bad]).unwrap_err();
        assert!(
            matches!(&err, DataError::Input { input: 1, source } if matches!(**source, DataError::TokenId { sample: 1, position: 1, .. })),
            "{err}"
        );
        let one = Samples::new(vec![1.0, 2.0, 3.0], vec![3]).unwrap();
        assert!(matches!(
            check(&[&grids, &one]),
            Err(DataError::InputLengths {
                input: 1,
                samples: 1,
                expected: 2
            })
        ));
    }
}
