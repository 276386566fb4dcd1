//! Expand: write the inferred layers as a balanced binary tree of `::typenet::Chain`s whose
//! leaves are `::typenet::Numbered<N, Layer>`.
//!
//! A tree, not a list: the trait solver's work grows with the nesting depth of the type, and
//! a tree of n layers is log2(n) deep (a list made `cargo check` exponential in depth).
//! Paths are absolute, so the user's own imports never clash with the expansion.

use crate::infer::{Activation, Cell, Dims, Inferred, Layer, Layers, MergeInput};
use crate::registry::MergeKind;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

pub fn expand(inferred: &Inferred) -> TokenStream {
    network(&inferred.layers)
}

/// A list of numbered layers as a tree: the network, or the block of a `Residual`.
///
/// A `ReLU` and then a `MaxPool` that directly follow a `Conv2D` (either, or both in that
/// order) are fused into it: the convolution is written `Conv2D<.., ReLU, Pool2D<Max, ..>>`
/// and applies them in its own op, and each keeps its place and number as a layer that
/// passes its input through: `Activation<Fused<ReLU>, N>`, `Fused<Pool2D<Max, ..>>`.
fn network(layers: &Layers) -> TokenStream {
    let leaf = |number: usize, layer: TokenStream| {
        let number = lit(number);
        quote!(::typenet::Numbered<#number, #layer>)
    };
    let mut leaves = Vec::with_capacity(layers.len());
    let mut i = 0;
    while let Some((number, layer, _)) = layers.get(i) {
        i += 1;
        if !matches!(layer, Layer::Conv2D { .. }) {
            leaves.push(leaf(*number, layer_type(layer)));
            continue;
        }
        let relu = layers.get(i).filter(|(_, layer, _)| is_relu(layer));
        i += relu.is_some() as usize;
        let pool = layers.get(i).filter(|(_, layer, _)| is_max_pool(layer));
        i += pool.is_some() as usize;
        let activation = match relu {
            Some(_) => quote!(::typenet::layers::ReLU),
            None => quote!(::typenet::layers::Identity),
        };
        let pooled = match pool {
            Some((_, pool, _)) => layer_type(pool),
            None => quote!(::typenet::layers::NoPool),
        };
        leaves.push(leaf(*number, conv2d_type(layer, activation, pooled)));
        if let Some((number, Layer::Activation { n, .. }, _)) = relu {
            let n = lit(*n);
            let fused = quote!(::typenet::layers::Fused<::typenet::layers::ReLU>);
            leaves.push(leaf(
                *number,
                quote!(::typenet::layers::Activation<#fused, #n>),
            ));
        }
        if let Some((number, pool, _)) = pool {
            let pool = layer_type(pool);
            leaves.push(leaf(*number, quote!(::typenet::layers::Fused<#pool>)));
        }
    }
    tree(&leaves)
}

fn is_relu(layer: &Layer) -> bool {
    matches!(
        layer,
        Layer::Activation {
            kind: Activation::Relu,
            ..
        }
    )
}

fn is_max_pool(layer: &Layer) -> bool {
    matches!(layer, Layer::Pool { max: true, .. })
}

/// `Chain<tree(first half), tree(second half)>`; one leaf is itself, none is `End`.
fn tree(leaves: &[TokenStream]) -> TokenStream {
    match leaves {
        [] => quote!(::typenet::End),
        [leaf] => leaf.clone(),
        _ => {
            let (head, tail) = leaves.split_at(leaves.len() / 2);
            let (head, tail) = (tree(head), tree(tail));
            quote!(::typenet::Chain<#head, #tail>)
        }
    }
}

fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

/// One sample's shape as dfdx's tuple of `Const`s.
fn shape(dims: Dims) -> TokenStream {
    let dims = dims.list().into_iter().map(lit);
    quote!((#(::typenet::dfdx::shapes::Const<#dims>,)*))
}

/// A `Conv2D` layer's type, with `activation` and then `pool` fused into its op.
fn conv2d_type(layer: &Layer, activation: TokenStream, pool: TokenStream) -> TokenStream {
    let Layer::Conv2D {
        c,
        f,
        k,
        stride,
        dilation,
        pad,
        input,
        output,
    } = layer
    else {
        unreachable!("conv2d_type of a layer that is not a Conv2D")
    };
    // Each pair is (rows, columns), as the layer's parameters are.
    let [c, f, kh, kw, sh, sw, dh, dw, ph, pw, h, w, oh, ow] = [
        *c, *f, k.0, k.1, stride.0, stride.1, dilation.0, dilation.1, pad.0, pad.1, input.0,
        input.1, output.0, output.1,
    ]
    .map(lit);
    quote!(::typenet::layers::Conv2D<#c, #f, #kh, #kw, #sh, #sw, #dh, #dw, #ph, #pw, #h, #w, #oh, #ow, #activation, #pool>)
}

fn layer_type(layer: &Layer) -> TokenStream {
    match layer {
        Layer::Residual { block, shortcut } => {
            let block = network(block);
            let shortcut = match shortcut {
                Some(layers) => network(layers),
                None => quote!(::typenet::End),
            };
            quote!(::typenet::layers::Residual<#block, #shortcut>)
        }
        Layer::Merge {
            kind,
            steps,
            route,
            branches,
            output,
        } => {
            let op = match kind {
                MergeKind::Concat => {
                    let steps = lit(*steps);
                    quote!(::typenet::layers::Concat<#steps>)
                }
                MergeKind::Add => quote!(::typenet::layers::Add),
                MergeKind::Multiply => quote!(::typenet::layers::Multiply),
                MergeKind::Average => quote!(::typenet::layers::Average),
                MergeKind::Maximum => quote!(::typenet::layers::Maximum),
            };
            let route = match route {
                MergeInput::Shared(dims) => {
                    let input = shape(*dims);
                    quote!(::typenet::layers::Shared<#input>)
                }
                MergeInput::Own(inputs) => {
                    let inputs = inputs.iter().map(|d| shape(*d));
                    quote!(::typenet::layers::Inputs<(#(#inputs,)*)>)
                }
            };
            let output = shape(*output);
            let branches = branches.iter().map(network);
            quote!(::typenet::layers::Parallel<#op, #output, #route, (#(#branches,)*)>)
        }
        Layer::Conv2D { .. } => conv2d_type(
            layer,
            quote!(::typenet::layers::Identity),
            quote!(::typenet::layers::NoPool),
        ),
        Layer::Pool {
            max,
            c,
            k,
            stride,
            pad,
            input,
            output,
        } => {
            let [c, kh, kw, sh, sw, ph, pw, h, w, oh, ow] = [
                *c, k.0, k.1, stride.0, stride.1, pad.0, pad.1, input.0, input.1, output.0,
                output.1,
            ]
            .map(lit);
            let mode = if *max { quote!(Max) } else { quote!(Avg) };
            quote!(::typenet::layers::Pool2D<::typenet::layers::#mode, #c, #kh, #kw, #sh, #sw, #ph, #pw, #h, #w, #oh, #ow>)
        }
        Layer::GlobalPool { max, c, h, w } => {
            let [c, h, w] = [*c, *h, *w].map(lit);
            let mode = if *max { quote!(Max) } else { quote!(Avg) };
            quote!(::typenet::layers::GlobalPool<::typenet::layers::#mode, #c, #h, #w>)
        }
        Layer::Conv1D {
            c,
            f,
            k,
            stride,
            dilation,
            pad,
            steps,
            output,
        } => {
            let [c, f, k, s, d, p, l, ol] =
                [*c, *f, *k, *stride, *dilation, *pad, *steps, *output].map(lit);
            quote!(::typenet::layers::Conv1D<#c, #f, #k, #s, #d, #p, #l, #ol>)
        }
        Layer::Pool1D {
            max,
            c,
            k,
            stride,
            pad,
            steps,
            output,
        } => {
            let [c, k, s, p, l, ol] = [*c, *k, *stride, *pad, *steps, *output].map(lit);
            let mode = if *max { quote!(Max) } else { quote!(Avg) };
            quote!(::typenet::layers::Pool1D<::typenet::layers::#mode, #c, #k, #s, #p, #l, #ol>)
        }
        Layer::GlobalPool1D { max, steps, c } => {
            let [l, c] = [*steps, *c].map(lit);
            let mode = if *max { quote!(Max) } else { quote!(Avg) };
            quote!(::typenet::layers::GlobalPool1D<::typenet::layers::#mode, #l, #c>)
        }
        Layer::Flatten { input, n } => {
            let dims = input.iter().map(|d| lit(*d));
            let n = lit(*n);
            quote!(::typenet::layers::Flatten<(#(::typenet::dfdx::shapes::Const<#dims>,)*), #n>)
        }
        Layer::Dense { i, o, steps } => {
            let [i, o, t] = [*i, *o, *steps].map(lit);
            quote!(::typenet::layers::Dense<#i, #o, #t>)
        }
        Layer::Activation { kind, n } => {
            let n = lit(*n);
            let activation = match kind {
                Activation::Relu => quote!(::typenet::layers::ReLU),
                Activation::LeakyRelu { slope_ppm } => {
                    let slope = Literal::u32_unsuffixed(*slope_ppm);
                    quote!(::typenet::layers::LeakyReLU<#slope>)
                }
                Activation::Sigmoid => quote!(::typenet::layers::Sigmoid),
                Activation::Tanh => quote!(::typenet::layers::Tanh),
                Activation::Gelu => quote!(::typenet::layers::GELU),
                Activation::Softmax => quote!(::typenet::layers::Softmax),
            };
            quote!(::typenet::layers::Activation<#activation, #n>)
        }
        Layer::Dropout { rate_ppm, n } => {
            let rate = Literal::u32_unsuffixed(*rate_ppm);
            let n = lit(*n);
            quote!(::typenet::layers::Dropout<#rate, #n>)
        }
        Layer::BatchNorm2D { c, h, w } => {
            let [c, h, w] = [*c, *h, *w].map(lit);
            quote!(::typenet::layers::BatchNorm2D<#c, #h, #w>)
        }
        Layer::BatchNorm1D { c } => {
            let c = lit(*c);
            quote!(::typenet::layers::BatchNorm1D<#c>)
        }
        Layer::Recurrent {
            cell,
            steps,
            f,
            u,
            return_sequences,
            bidirectional,
        } => {
            let [t, f, u, both] = [*steps, *f, *u, 2 * *u].map(lit);
            let cell = match cell {
                Cell::Lstm => quote!(LSTM),
                Cell::Gru => quote!(GRU),
                Cell::SimpleRnn => quote!(SimpleRNN),
            };
            let mut layer = quote!(::typenet::layers::#cell<#f, #u, #return_sequences>);
            if *bidirectional {
                layer = quote!(::typenet::layers::Bidirectional<#layer, #both>);
            }
            quote!(::typenet::layers::Steps<#layer, #t>)
        }
        Layer::ToSequence {
            c,
            h,
            w,
            height_as_time,
        } => {
            let (steps, features) = if *height_as_time {
                (*h, c * w)
            } else {
                (*w, c * h)
            };
            let [c, h, w, steps, features] = [*c, *h, *w, steps, features].map(lit);
            quote!(::typenet::layers::ImageToSequence<#c, #h, #w, #steps, #features, #height_as_time>)
        }
        Layer::Embedding { vocab, dim, steps } => {
            let [v, d, t] = [*vocab, *dim, *steps].map(lit);
            quote!(::typenet::layers::Steps<::typenet::layers::Embedding<#v, #d>, #t>)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expansion of a network, without spaces.
    fn expanded(network: &str) -> String {
        let spec = syn::parse_str(network).unwrap();
        let decoded = crate::decode::decode(&spec).unwrap();
        expand(&crate::infer::infer(&decoded).unwrap())
            .to_string()
            .replace(' ', "")
    }

    #[test]
    fn only_a_relu_and_a_max_pool_right_after_a_conv2d_are_fused() {
        let tokens = expanded(
            "Input<1, 9, 9>, Conv2D<2, 3>, ReLU, Conv2D<2, 3>, MaxPool<2>, ReLU, Flatten, \
             Dense<4>, ReLU, Residual<[ReLU]>",
        );
        let fused = "::typenet::layers::Fused<::typenet::layers::ReLU>";
        assert_eq!(tokens.matches(fused).count(), 1, "{tokens}");
        // The ReLUs after the pooling, the Dense and inside the Residual stay layers.
        let relu = "::typenet::layers::Activation<::typenet::layers::ReLU,";
        assert_eq!(tokens.matches(relu).count(), 3, "{tokens}");
        // 9x9 -> 7x7 with the ReLU after it; 7x7 -> 5x5 followed by a max pool to 2x2.
        assert_eq!(
            tokens
                .matches("9,9,7,7,::typenet::layers::ReLU,::typenet::layers::NoPool>")
                .count(),
            1
        );
        let pool = "::typenet::layers::Pool2D<::typenet::layers::Max,2,2,2,2,2,0,0,5,5,2,2>";
        let identity_pooled = format!("7,7,5,5,::typenet::layers::Identity,{pool}>");
        assert_eq!(tokens.matches(&identity_pooled).count(), 1, "{tokens}");
        let fused_pool = format!("::typenet::Numbered<4,::typenet::layers::Fused<{pool}>>");
        assert_eq!(tokens.matches(&fused_pool).count(), 1, "{tokens}");
    }

    #[test]
    fn an_average_pool_or_a_pool_after_another_layer_is_not_fused() {
        let tokens = expanded(
            "Input<1, 9, 9>, Conv2D<2, 3>, AvgPool<2>, Conv2D<2, 2>, Dropout<0.5>, MaxPool<2>",
        );
        assert_eq!(tokens.matches("Fused").count(), 0, "{tokens}");
        assert_eq!(tokens.matches("NoPool").count(), 2, "{tokens}");
    }

    #[test]
    fn the_design_example_expands_to_a_tree_of_numbered_layers() {
        let tokens = expanded(
            "Input<1, 28, 28>, Conv2D<32, 3, activation = relu>, MaxPool<2>, Flatten, Dense<10>",
        );
        assert_eq!(
            tokens,
            "::typenet::Chain<\
             ::typenet::Chain<\
             ::typenet::Numbered<1,::typenet::layers::Conv2D<1,32,3,3,1,1,1,1,0,0,28,28,26,26,\
             ::typenet::layers::ReLU,\
             ::typenet::layers::Pool2D<::typenet::layers::Max,32,2,2,2,2,0,0,26,26,13,13>>>,\
             ::typenet::Numbered<1,::typenet::layers::Activation<\
             ::typenet::layers::Fused<::typenet::layers::ReLU>,21632>>>,\
             ::typenet::Chain<\
             ::typenet::Numbered<2,::typenet::layers::Fused<\
             ::typenet::layers::Pool2D<::typenet::layers::Max,32,2,2,2,2,0,0,26,26,13,13>>>,\
             ::typenet::Chain<\
             ::typenet::Numbered<3,::typenet::layers::Flatten<(::typenet::dfdx::shapes::Const<32>,\
             ::typenet::dfdx::shapes::Const<13>,::typenet::dfdx::shapes::Const<13>,),5408>>,\
             ::typenet::Numbered<4,::typenet::layers::Dense<5408,10,0>>>>>"
        );
    }

    #[test]
    fn flatten_on_a_vector_is_a_flatten_of_one_dimension() {
        let tokens = expanded("Input<64>, Flatten");
        assert_eq!(
            tokens,
            "::typenet::Numbered<1,::typenet::layers::Flatten<(::typenet::dfdx::shapes::Const<64>,),64>>"
        );
    }

    #[test]
    fn the_tree_is_as_shallow_as_a_binary_tree_can_be() {
        for n in [0, 1, 2, 3, 7, 8, 100, 300] {
            let leaves: Vec<TokenStream> = (0..n).map(|_| quote!(L)).collect();
            let text = tree(&leaves).to_string();
            let depth = text
                .chars()
                .scan(0i32, |d, c| {
                    *d += match c {
                        '<' => 1,
                        '>' => -1,
                        _ => 0,
                    };
                    Some(*d)
                })
                .max()
                .unwrap_or(0);
            assert_eq!(text.matches('L').count(), n, "{text}");
            let expected = (n as f64).log2().ceil() as i32;
            assert_eq!(depth, expected.max(0), "{n} leaves: {text}");
        }
    }
}
