//! Parse: `network![Input<1, 28, 28>, Conv2D<32, 3, stride = 2>, ReLU, ...]` into layer specs.
//!
//! The grammar is deliberately small: a comma-separated list of layers; a layer is a name
//! with optional `<...>` arguments; an argument is a number, a word, a quoted word (as Keras
//! writes option values: `padding = "same"`), a nested layer, or `name = value`.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitBool, LitFloat, LitInt, LitStr, Token};

/// The whole macro input.
pub struct NetworkSpec {
    pub layers: Vec<LayerSpec>,
    /// Where the list closes, for errors about what is missing at its end.
    pub end: Span,
}

/// One layer as written.
#[derive(Clone)]
pub struct LayerSpec {
    pub name: Ident,
    pub args: Vec<Arg>,
    /// The tokens as written, so that errors underline the whole layer.
    pub tokens: TokenStream,
}

/// One argument of a layer: positional (`32`) or named (`stride = 2`).
#[derive(Clone)]
pub struct Arg {
    pub key: Option<Ident>,
    pub value: Value,
}

#[derive(Clone)]
pub enum Value {
    Int(LitInt),
    Float(LitFloat),
    Bool(LitBool),
    /// A bare word (`same`, `relu`, `ReturnSequences`) or a nested layer (`LSTM<64>`).
    Layer(LayerSpec),
    /// A quoted word, as Keras writes option values: `padding = "same"`.
    Str(LitStr),
    /// A list of layers in brackets: the block of a `Residual`.
    List(Vec<LayerSpec>, Span),
    /// Values in parentheses, as Keras writes a size per axis: `(3, 5)`.
    Tuple(Vec<Value>, Span),
}

impl Parse for NetworkSpec {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let layers = Punctuated::<LayerSpec, Token![,]>::parse_terminated(input)?;
        Ok(NetworkSpec {
            layers: layers.into_iter().collect(),
            end: input.span(),
        })
    }
}

impl Parse for LayerSpec {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let fork = input.fork();
        let name: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a layer name such as `Conv2D<32, 3>` or `ReLU`",
            )
        })?;
        let mut args = Vec::new();
        if input.peek(Token![<]) {
            input.parse::<Token![<]>()?;
            while !input.peek(Token![>]) {
                args.push(input.parse()?);
                if input.peek(Token![>]) {
                    break;
                }
                input.parse::<Token![,]>().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        format!("expected `,` or `>` in the arguments of `{name}`"),
                    )
                })?;
            }
            input.parse::<Token![>]>()?;
        }
        // Everything consumed since the fork is the layer's own tokens.
        let mut tokens = TokenStream::new();
        let consumed = input.cursor();
        let mut cursor = fork.cursor();
        while cursor != consumed {
            match cursor.token_tree() {
                Some((tt, next)) => {
                    tt.to_tokens(&mut tokens);
                    cursor = next;
                }
                None => break,
            }
        }
        Ok(LayerSpec { name, args, tokens })
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = if input.peek(Ident) && input.peek2(Token![=]) {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            Some(key)
        } else {
            None
        };
        Ok(Arg {
            key,
            value: input.parse()?,
        })
    }
}

impl Parse for Value {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let lookahead = input.lookahead1();
        if lookahead.peek(syn::token::Bracket) {
            let content;
            let bracket = syn::bracketed!(content in input);
            let layers = Punctuated::<LayerSpec, Token![,]>::parse_terminated(&content)?;
            Ok(Value::List(
                layers.into_iter().collect(),
                bracket.span.join(),
            ))
        } else if lookahead.peek(syn::token::Paren) {
            let content;
            let paren = syn::parenthesized!(content in input);
            let values = Punctuated::<Value, Token![,]>::parse_terminated(&content)?;
            Ok(Value::Tuple(
                values.into_iter().collect(),
                paren.span.join(),
            ))
        } else if lookahead.peek(LitInt) {
            Ok(Value::Int(input.parse()?))
        } else if lookahead.peek(LitFloat) {
            Ok(Value::Float(input.parse()?))
        } else if lookahead.peek(LitBool) {
            Ok(Value::Bool(input.parse()?))
        } else if lookahead.peek(LitStr) {
            Ok(Value::Str(input.parse()?))
        } else if lookahead.peek(Ident) {
            Ok(Value::Layer(input.parse()?))
        } else {
            Err(lookahead.error())
        }
    }
}

impl LayerSpec {
    /// The layer as a user wrote it, e.g. `Conv2D<64, 5>`.
    pub fn display(&self) -> String {
        if self.args.is_empty() {
            return self.name.to_string();
        }
        let args: Vec<String> = self.args.iter().map(Arg::display).collect();
        format!("{}<{}>", self.name, args.join(", "))
    }

    pub fn error(&self, message: impl std::fmt::Display) -> syn::Error {
        syn::Error::new_spanned(&self.tokens, message)
    }
}

impl Arg {
    pub fn display(&self) -> String {
        match &self.key {
            Some(key) => format!("{key} = {}", self.value.display()),
            None => self.value.display(),
        }
    }
}

impl Value {
    pub fn display(&self) -> String {
        match self {
            Value::Int(lit) => lit.to_string(),
            Value::Float(lit) => lit.to_string(),
            Value::Bool(lit) => lit.value.to_string(),
            Value::Str(lit) => lit.token().to_string(),
            Value::Layer(layer) => layer.display(),
            Value::List(layers, _) => {
                let shown: Vec<String> = layers.iter().map(LayerSpec::display).collect();
                format!("[{}]", shown.join(", "))
            }
            Value::Tuple(values, _) => {
                let shown: Vec<String> = values.iter().map(Value::display).collect();
                format!("({})", shown.join(", "))
            }
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Value::Int(lit) => lit.span(),
            Value::Float(lit) => lit.span(),
            Value::Bool(lit) => lit.span,
            Value::Str(lit) => lit.span(),
            Value::Layer(layer) => layer.name.span(),
            Value::List(_, span) | Value::Tuple(_, span) => *span,
        }
    }

    /// The value as a bare word (`same`), if it is one: how a flag is written
    /// (`return_sequences`).
    pub fn bare_word(&self) -> Option<String> {
        match self {
            Value::Layer(layer) if layer.args.is_empty() => Some(layer.name.to_string()),
            _ => None,
        }
    }

    /// The value of a word-valued option, bare (`padding = same`) or quoted as Keras writes
    /// it (`padding = "same"`): both spellings mean the same.
    pub fn word(&self) -> Option<String> {
        match self {
            Value::Str(lit) => Some(lit.value()),
            _ => self.bare_word(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_layers_with_positional_named_and_nested_arguments() {
        let net: NetworkSpec = syn::parse_str(
            "Input<1, 28, 28>, Conv2D<32, 3, stride = 2, padding = same>, ReLU, \
             Dropout<0.25>, Bidirectional<LSTM<64, return_sequences = true>>,",
        )
        .unwrap();
        let shown: Vec<String> = net.layers.iter().map(LayerSpec::display).collect();
        assert_eq!(
            shown,
            [
                "Input<1, 28, 28>",
                "Conv2D<32, 3, stride = 2, padding = same>",
                "ReLU",
                "Dropout<0.25>",
                "Bidirectional<LSTM<64, return_sequences = true>>"
            ]
        );
        assert_eq!(net.layers[1].args[3].key.as_ref().unwrap(), "padding");
        assert_eq!(net.layers[1].args[3].value.word().as_deref(), Some("same"));
    }

    #[test]
    fn option_values_may_be_quoted_as_keras_writes_them() {
        let net: NetworkSpec = syn::parse_str(
            r#"Input<1, 28, 28>, Conv2D<32, 3, padding = "same", activation = "relu">, ToSequence<time = "height">"#,
        )
        .unwrap();
        let conv = &net.layers[1];
        assert_eq!(
            conv.display(),
            r#"Conv2D<32, 3, padding = "same", activation = "relu">"#
        );
        assert_eq!(conv.args[2].value.word().as_deref(), Some("same"));
        assert_eq!(conv.args[3].value.word().as_deref(), Some("relu"));
        // a flag is a bare word; a quoted one is not a flag
        assert_eq!(conv.args[2].value.bare_word(), None);
        assert_eq!(
            net.layers[2].args[0].value.word().as_deref(),
            Some("height")
        );
    }

    #[test]
    fn sizes_per_axis_are_tuples_as_keras_writes_them() {
        let net: NetworkSpec = syn::parse_str(
            "Input<1, 28, 28>, Conv2D<32, (3, 5), stride = (2, 1)>, MaxPool<(2, 1)>",
        )
        .unwrap();
        let shown: Vec<String> = net.layers.iter().map(LayerSpec::display).collect();
        assert_eq!(
            shown[1..],
            ["Conv2D<32, (3, 5), stride = (2, 1)>", "MaxPool<(2, 1)>"]
        );
        match &net.layers[1].args[1].value {
            Value::Tuple(values, _) => assert_eq!(values.len(), 2),
            _ => panic!("not a tuple"),
        }
    }

    #[test]
    fn rejects_what_is_not_a_layer() {
        assert!(syn::parse_str::<NetworkSpec>("Input<1, 28, 28>, 42").is_err());
        assert!(syn::parse_str::<NetworkSpec>("Conv2D<32 3>").is_err());
    }
}
