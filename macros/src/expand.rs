//! Expand: write the inferred layers as `::typenet::Chain<Layer, Chain<.., ::typenet::End>>`.
//!
//! Paths are absolute, so the user's own imports never clash with the expansion.

use crate::infer::{Activation, Cell, Inferred, Layer};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

pub fn expand(inferred: &Inferred) -> TokenStream {
    inferred
        .layers
        .iter()
        .rev()
        .fold(quote!(::typenet::End), |tail, (layer, _)| {
            let head = layer_type(layer);
            quote!(::typenet::Chain<#head, #tail>)
        })
}

fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

fn layer_type(layer: &Layer) -> TokenStream {
    match layer {
        Layer::Conv2D {
            c,
            f,
            k,
            stride,
            dilation,
            pad,
            input,
            output,
        } => {
            let [c, f, k, s, d, ph, pw, h, w, oh, ow] = [
                *c, *f, *k, *stride, *dilation, pad.0, pad.1, input.0, input.1, output.0, output.1,
            ]
            .map(lit);
            quote!(::typenet::layers::Conv2D<#c, #f, #k, #s, #d, #ph, #pw, #h, #w, #oh, #ow>)
        }
        Layer::Pool {
            max,
            c,
            k,
            stride,
            pad,
            input,
            output,
        } => {
            let [c, k, s, ph, pw, h, w, oh, ow] = [
                *c, *k, *stride, pad.0, pad.1, input.0, input.1, output.0, output.1,
            ]
            .map(lit);
            let mode = if *max { quote!(Max) } else { quote!(Avg) };
            quote!(::typenet::layers::Pool2D<::typenet::layers::#mode, #c, #k, #s, #ph, #pw, #h, #w, #oh, #ow>)
        }
        Layer::GlobalPool { max, c, h, w } => {
            let [c, h, w] = [*c, *h, *w].map(lit);
            let mode = if *max { quote!(Max) } else { quote!(Avg) };
            quote!(::typenet::layers::GlobalPool<::typenet::layers::#mode, #c, #h, #w>)
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

    #[test]
    fn the_design_example_expands_to_a_chain_with_every_shape() {
        let spec =
            syn::parse_str("Input<1, 28, 28>, Conv2D<32, 3>, ReLU, MaxPool<2>, Flatten, Dense<10>")
                .unwrap();
        let tokens = expand(&crate::infer::infer(&spec).unwrap())
            .to_string()
            .replace(' ', "");
        assert_eq!(
            tokens,
            "::typenet::Chain<::typenet::layers::Conv2D<1,32,3,1,1,0,0,28,28,26,26>,\
             ::typenet::Chain<::typenet::layers::Activation<::typenet::layers::ReLU,21632>,\
             ::typenet::Chain<::typenet::layers::Pool2D<::typenet::layers::Max,32,2,2,0,0,26,26,13,13>,\
             ::typenet::Chain<::typenet::layers::Flatten<(::typenet::dfdx::shapes::Const<32>,\
             ::typenet::dfdx::shapes::Const<13>,::typenet::dfdx::shapes::Const<13>,),5408>,\
             ::typenet::Chain<::typenet::layers::Dense<5408,10,0>,::typenet::End>>>>>"
        );
    }
}
