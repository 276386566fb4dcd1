//! What a network costs, known from its type alone: `model.summary()` without a model.

use crate::chain::{Chain, End};
use crate::layers::LayerInfo;
use crate::numbered::Numbered;
use std::fmt;

/// Facts about a whole network, summed over its layers at compile time.
///
/// ```
/// use typenet::prelude::*;
/// type Net = network![Input<1, 28, 28>, Conv2D<8, 3>, ReLU, Flatten, Dense<10>];
/// const _: () = assert!(Net::PARAMS < 100_000); // an over-budget model fails the build
/// assert_eq!(Net::PARAMS, (8 * 9 + 8) + (8 * 26 * 26 * 10 + 10));
/// println!("{}", Net::summary());
/// ```
pub trait Network {
    /// Parameters, as Keras counts them.
    const PARAMS: usize;
    /// Floating-point operations of one forward pass over one sample.
    const FLOPS: usize;
    /// Elements of all layer outputs for one sample (what training keeps for backward).
    const ACTIVATIONS: usize;
    /// The output shape of one sample; `None` where the network keeps its input's shape.
    const OUTPUT: Option<&'static [usize]>;
    /// Elements of the last layer's output for one sample (0 for no layers).
    const LAST_ACTIVATIONS: usize;
    /// Bytes of all layer outputs for one `f32` sample.
    const ACTIVATION_BYTES: usize = Self::ACTIVATIONS * std::mem::size_of::<f32>();

    /// Appends one row per layer, the layers inside a block (a branch, a residual block)
    /// before the block's own row, labelled after `prefix` (`"4.2."` inside branch 2 of layer
    /// 4). `input` is the shape reaching the first layer, where known; returns the shape
    /// leaving the last.
    fn rows_within(
        prefix: &str,
        input: Option<&'static [usize]>,
        rows: &mut Vec<SummaryRow>,
    ) -> Option<&'static [usize]>;

    /// The table a Keras user gets from `model.summary()`.
    fn summary() -> Summary {
        let mut rows = Vec::new();
        Self::rows_within("", None, &mut rows);
        Summary {
            rows,
            params: Self::PARAMS,
            flops: Self::FLOPS,
            activation_bytes: Self::ACTIVATION_BYTES,
        }
    }
}

/// One layer of a [`Summary`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryRow {
    /// The layer's number, as compile errors and checkpoint names give it (from 1 after the
    /// input; an `activation` option or an inserted `ToSequence` shares its layer's number;
    /// `4.2.1` is the first layer of branch 2 of layer 4).
    pub label: String,
    pub name: &'static str,
    /// Output shape of one sample; `None` where the layer keeps its input's shape.
    pub output: Option<&'static [usize]>,
    pub params: usize,
}

/// A network's layers, output shapes and parameter counts; `Display` prints the table.
#[derive(Clone, Debug)]
pub struct Summary {
    pub rows: Vec<SummaryRow>,
    pub params: usize,
    pub flops: usize,
    pub activation_bytes: usize,
}

impl Summary {
    /// Each layer's output shape, with shape-keeping layers given their input's.
    pub fn output_shapes(&self) -> Vec<Vec<usize>> {
        let mut last: &[usize] = &[];
        self.rows
            .iter()
            .map(|row| {
                if let Some(out) = row.output {
                    last = out;
                }
                last.to_vec()
            })
            .collect()
    }
}

impl Network for End {
    const PARAMS: usize = 0;
    const FLOPS: usize = 0;
    const ACTIVATIONS: usize = 0;
    const OUTPUT: Option<&'static [usize]> = None;
    const LAST_ACTIVATIONS: usize = 0;
    fn rows_within(
        _: &str,
        input: Option<&'static [usize]>,
        _: &mut Vec<SummaryRow>,
    ) -> Option<&'static [usize]> {
        input
    }
}

impl<Head: Network, Tail: Network> Network for Chain<Head, Tail> {
    const PARAMS: usize = Head::PARAMS + Tail::PARAMS;
    const FLOPS: usize = Head::FLOPS + Tail::FLOPS;
    const ACTIVATIONS: usize = Head::ACTIVATIONS + Tail::ACTIVATIONS;
    const OUTPUT: Option<&'static [usize]> = match Tail::OUTPUT {
        Some(_) => Tail::OUTPUT,
        None => Head::OUTPUT,
    };
    const LAST_ACTIVATIONS: usize = if Tail::LAST_ACTIVATIONS > 0 {
        Tail::LAST_ACTIVATIONS
    } else {
        Head::LAST_ACTIVATIONS
    };

    fn rows_within(
        prefix: &str,
        input: Option<&'static [usize]>,
        rows: &mut Vec<SummaryRow>,
    ) -> Option<&'static [usize]> {
        let middle = Head::rows_within(prefix, input, rows);
        Tail::rows_within(prefix, middle, rows)
    }
}

impl<const N: usize, L: LayerInfo> Network for Numbered<N, L> {
    const PARAMS: usize = L::PARAMS;
    const FLOPS: usize = L::FLOPS;
    const ACTIVATIONS: usize = L::ACTIVATIONS;
    const OUTPUT: Option<&'static [usize]> = L::OUTPUT;
    const LAST_ACTIVATIONS: usize = L::ACTIVATIONS;

    fn rows_within(
        prefix: &str,
        input: Option<&'static [usize]>,
        rows: &mut Vec<SummaryRow>,
    ) -> Option<&'static [usize]> {
        let label = format!("{prefix}{N}");
        let first_inner = rows.len();
        L::inner_rows(&format!("{label}."), input, rows);
        // A block's row shows only what its inner rows do not: the column adds up.
        let inner: usize = rows[first_inner..].iter().map(|row| row.params).sum();
        let output = L::OUTPUT.or(input);
        rows.push(SummaryRow {
            label,
            name: L::NAME,
            output,
            params: L::PARAMS - inner,
        });
        output
    }
}

/// `93322` as `93,322`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let rule = "─".repeat(62);
        writeln!(
            f,
            "{:<7}{:<15}{:<26}{:>14}",
            "#", "Layer", "Output shape", "Param #"
        )?;
        writeln!(f, "{rule}")?;
        for (row, shape) in self.rows.iter().zip(self.output_shapes()) {
            let dims: Vec<String> = std::iter::once("B".to_string())
                .chain(shape.iter().map(usize::to_string))
                .collect();
            let shape = format!("({})", dims.join(", "));
            writeln!(
                f,
                "{:<7}{:<15}{:<26}{:>14}",
                row.label,
                row.name,
                shape,
                thousands(row.params)
            )?;
        }
        writeln!(f, "{rule}")?;
        writeln!(f, "Total params: {}", thousands(self.params))?;
        writeln!(f, "Forward FLOPs per sample: {}", thousands(self.flops))?;
        write!(
            f,
            "Activations per sample: {} bytes (f32)",
            thousands(self.activation_bytes)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(93322), "93,322");
        assert_eq!(thousands(320), "320");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
