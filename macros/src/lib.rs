//! The `network!` macro of typenet: parse -> decode -> infer shapes -> expand.
//!
//! Read it as a pipeline: [`parse`] turns tokens into layers as written, [`decode`] looks
//! each one up in the [`registry`] (one entry per layer: name, usage, options, argument
//! rules) and checks its arguments, reporting every layer that is wrong, [`infer`] computes
//! each layer's input and output shape and returns a spanned error for the first one that
//! does not fit, and [`expand`] writes the `::typenet::Chain<..>` type with every dimension
//! spelled out as a const generic.
extern crate proc_macro;

mod args;
mod decode;
mod expand;
mod infer;
mod parse;
mod registry;
mod suggest;

use proc_macro::TokenStream;

/// Declares a network as a type. See the typenet crate's documentation for the grammar.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    syn::parse::<parse::NetworkSpec>(input)
        .and_then(|spec| decode::decode(&spec).and_then(|decoded| infer::infer(&decoded)))
        .map(|inferred| expand::expand(&inferred))
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}
