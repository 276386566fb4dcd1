//! The `network!` macro of typenet: parse -> infer shapes -> expand.
extern crate proc_macro;

use proc_macro::TokenStream;

/// Declares a network as a type. See the typenet crate's documentation.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
