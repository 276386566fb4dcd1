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
        .unwrap_or_else(errors_as_type)
        .into()
}

/// The errors as a type, since the macro stands where a type is expected: one error is its
/// `compile_error!`, several a tuple of them (side by side they would not parse as a type,
/// and only the first would be reported).
fn errors_as_type(errors: syn::Error) -> proc_macro2::TokenStream {
    let mut each: Vec<proc_macro2::TokenStream> =
        errors.into_iter().map(|e| e.to_compile_error()).collect();
    if each.len() == 1 {
        return each.remove(0);
    }
    quote::quote!((#(#each),*))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_errors_are_one_type_holding_each() {
        let one = syn::Error::new(proc_macro2::Span::call_site(), "one");
        assert!(errors_as_type(one.clone())
            .to_string()
            .starts_with(":: core :: compile_error !"));
        let mut two = one;
        two.combine(syn::Error::new(proc_macro2::Span::call_site(), "two"));
        let tokens = errors_as_type(two).to_string();
        assert!(tokens.starts_with('('), "{tokens}");
        assert_eq!(tokens.matches("compile_error").count(), 2, "{tokens}");
    }
}
