//! The `network!` macro of typenet: parse -> infer shapes -> expand.
//!
//! Read it as a pipeline: [`parse`] turns tokens into layer specs, [`infer`] computes each
//! layer's input and output shape and returns a spanned error for the first one that does
//! not fit, and [`expand`] writes the `::typenet::Chain<..>` type with every dimension
//! spelled out as a const generic.
extern crate proc_macro;

mod args;
mod expand;
mod infer;
mod parse;
mod suggest;

use proc_macro::TokenStream;

/// Declares a network as a type. See the typenet crate's documentation for the grammar.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    syn::parse::<parse::NetworkSpec>(input)
        .and_then(|spec| infer::infer(&spec))
        .map(|inferred| expand::expand(&inferred))
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}
