//! `pad_sequences`: Keras's helper that makes sequences of different lengths one length.

use super::error::DataError;

/// The most values (`rows * maxlen`) [`pad_sequences`] produces: 2^32.
///
/// Each value costs its own size plus 4 bytes of `f32` mask, so this is at least 32 GiB of
/// output, 340 times IMDB's 25,000 reviews padded to 500 steps. A request beyond it is almost
/// always a wrong `maxlen` (`Some(usize::MAX)` for "no limit"), and would otherwise abort
/// the process allocating terabytes; it gets [`DataError::PaddedTooLarge`] instead.
pub const MAX_PADDED_VALUES: usize = 1 << 32;

/// Which end of a sequence padding is added to, or truncation removes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Side {
    /// The start of the sequence (Keras's default for both padding and truncating).
    #[default]
    Pre,
    /// The end of the sequence.
    Post,
}

/// How [`pad_sequences`] pads; the `Default` is Keras's: pad and truncate at the start,
/// pad with zeros, to the length of the longest sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Padding<T> {
    /// The length of every output row; `None` for the longest input's length.
    pub maxlen: Option<usize>,
    /// Where padding goes in a short sequence.
    pub padding: Side,
    /// Where a long sequence loses its excess steps.
    pub truncating: Side,
    /// The value of a padding step.
    pub value: T,
}

/// Sequences padded to one length, row after row, with a mask of the real steps.
#[derive(Clone, Debug, PartialEq)]
pub struct Padded<T> {
    /// `rows * maxlen` values, row-major.
    pub values: Vec<T>,
    /// One entry per value: `1.0` for a step of the input, `0.0` for padding.
    pub mask: Vec<f32>,
    /// The number of sequences.
    pub rows: usize,
    /// The length of every row.
    pub maxlen: usize,
}

impl<T> Padded<T> {
    /// Row `i`'s values.
    ///
    /// # Panics
    /// If `i >= self.rows`.
    pub fn row(&self, i: usize) -> &[T] {
        &self.values[i * self.maxlen..(i + 1) * self.maxlen]
    }

    /// Row `i`'s mask.
    ///
    /// # Panics
    /// If `i >= self.rows`.
    pub fn mask_row(&self, i: usize) -> &[f32] {
        &self.mask[i * self.maxlen..(i + 1) * self.maxlen]
    }
}

/// Pads (or truncates) every sequence to one length, as Keras's `pad_sequences`.
///
/// Every row is exactly `maxlen` long (the longest sequence's length without one), so
/// `rows * maxlen` values are allocated: more than [`MAX_PADDED_VALUES`] is
/// [`DataError::PaddedTooLarge`], checked before anything is allocated.
///
/// ```
/// use typenet::data::{pad_sequences, DataError, Padding, Side};
/// let seqs = [vec![1, 2, 3], vec![4], vec![5, 6, 7, 8, 9]];
/// let padded = pad_sequences(&seqs, Padding { maxlen: Some(4), ..Default::default() })?;
/// assert_eq!(padded.row(0), [0, 1, 2, 3]);
/// assert_eq!(padded.row(1), [0, 0, 0, 4]);
/// assert_eq!(padded.row(2), [6, 7, 8, 9]); // truncated at the start
/// assert_eq!(padded.mask_row(1), [0.0, 0.0, 0.0, 1.0]);
///
/// let post = Padding { padding: Side::Post, truncating: Side::Post, value: -1, maxlen: None };
/// let padded = pad_sequences(&seqs, post)?;
/// assert_eq!(padded.row(1), [4, -1, -1, -1, -1]);
///
/// let endless = Padding { maxlen: Some(usize::MAX), ..Default::default() };
/// assert!(matches!(pad_sequences(&seqs, endless), Err(DataError::PaddedTooLarge { .. })));
/// # Ok::<(), DataError>(())
/// ```
pub fn pad_sequences<T: Copy, S: AsRef<[T]>>(
    sequences: &[S],
    options: Padding<T>,
) -> Result<Padded<T>, DataError> {
    let maxlen = options.maxlen.unwrap_or_else(|| {
        sequences
            .iter()
            .map(|s| s.as_ref().len())
            .max()
            .unwrap_or(0)
    });
    let total = sequences.len().checked_mul(maxlen);
    let total = match total {
        Some(n) if n <= MAX_PADDED_VALUES => n,
        values => {
            return Err(DataError::PaddedTooLarge {
                rows: sequences.len(),
                maxlen,
                values,
                limit: MAX_PADDED_VALUES,
            })
        }
    };
    let mut values = Vec::with_capacity(total);
    let mut mask = Vec::with_capacity(total);
    for seq in sequences {
        let seq = seq.as_ref();
        let kept = match options.truncating {
            Side::Pre => &seq[seq.len().saturating_sub(maxlen)..],
            Side::Post => &seq[..seq.len().min(maxlen)],
        };
        let (before, after) = match options.padding {
            Side::Pre => (maxlen - kept.len(), 0),
            Side::Post => (0, maxlen - kept.len()),
        };
        values.extend(std::iter::repeat_n(options.value, before));
        values.extend_from_slice(kept);
        values.extend(std::iter::repeat_n(options.value, after));
        mask.extend(std::iter::repeat_n(0.0, before));
        mask.extend(std::iter::repeat_n(1.0, kept.len()));
        mask.extend(std::iter::repeat_n(0.0, after));
    }
    Ok(Padded {
        values,
        mask,
        rows: sequences.len(),
        maxlen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEQS: [&[i32]; 3] = [&[1, 2, 3], &[4], &[5, 6, 7, 8, 9]];

    fn pad(maxlen: Option<usize>, padding: Side, truncating: Side) -> Padded<i32> {
        try_pad(maxlen, padding, truncating).unwrap()
    }

    fn try_pad(
        maxlen: Option<usize>,
        padding: Side,
        truncating: Side,
    ) -> Result<Padded<i32>, DataError> {
        pad_sequences(
            &SEQS,
            Padding {
                maxlen,
                padding,
                truncating,
                value: 0,
            },
        )
    }

    #[test]
    fn defaults_are_keras_pre_pre_to_the_longest() {
        let padded = pad_sequences(&SEQS, Padding::default()).unwrap();
        assert_eq!((padded.rows, padded.maxlen), (3, 5));
        assert_eq!(padded.row(0), [0, 0, 1, 2, 3]);
        assert_eq!(padded.row(2), [5, 6, 7, 8, 9]);
        assert_eq!(padded.mask_row(0), [0.0, 0.0, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn every_side_combination() {
        let p = pad(Some(3), Side::Post, Side::Post);
        assert_eq!(p.values, [1, 2, 3, 4, 0, 0, 5, 6, 7]);
        assert_eq!(p.mask, [1., 1., 1., 1., 0., 0., 1., 1., 1.]);
        let p = pad(Some(3), Side::Pre, Side::Post);
        assert_eq!(p.values, [1, 2, 3, 0, 0, 4, 5, 6, 7]);
        let p = pad(Some(3), Side::Post, Side::Pre);
        assert_eq!(p.values, [1, 2, 3, 4, 0, 0, 7, 8, 9]);
        let p = pad(Some(3), Side::Pre, Side::Pre);
        assert_eq!(p.values, [1, 2, 3, 0, 0, 4, 7, 8, 9]);
        assert_eq!(p.mask, [1., 1., 1., 0., 0., 1., 1., 1., 1.]);
    }

    #[test]
    fn edge_lengths() {
        let p = pad(Some(0), Side::Pre, Side::Pre);
        assert_eq!((p.values.len(), p.maxlen), (0, 0));
        let none: [&[i32]; 0] = [];
        let p = pad_sequences(&none, Padding::default()).unwrap();
        assert_eq!((p.rows, p.maxlen), (0, 0));
        let p = pad_sequences(
            &[[0.5f32; 0]],
            Padding {
                maxlen: Some(2),
                value: 9.0,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!((p.values, p.mask), (vec![9.0, 9.0], vec![0.0, 0.0]));
    }

    /// `usize::MAX` overflowed `rows * maxlen` (a capacity-overflow panic), `1 << 40` tried to
    /// allocate terabytes (an abort); both are now errors, before any allocation.
    #[test]
    fn a_huge_maxlen_is_an_error_not_an_allocation() {
        for maxlen in [usize::MAX, 1 << 40, MAX_PADDED_VALUES / 3 + 1] {
            let err = try_pad(Some(maxlen), Side::Pre, Side::Pre).unwrap_err();
            assert!(
                matches!(err, DataError::PaddedTooLarge { rows: 3, maxlen: m, .. } if m == maxlen),
                "{err}"
            );
            assert!(err.to_string().contains("smaller maxlen"), "{err}");
        }
        let err = try_pad(Some(usize::MAX), Side::Pre, Side::Pre).unwrap_err();
        assert!(err.to_string().contains("more than usize::MAX"), "{err}");
        // Many empty rows of a sane length are fine; no rows at all are fine at any length.
        let none: [&[i32]; 0] = [];
        let maxlen = Some(usize::MAX);
        let p = pad_sequences(
            &none,
            Padding {
                maxlen,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!((p.rows, p.values.len()), (0, 0));
    }
}
