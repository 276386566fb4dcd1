//! The layers a `network!` is made of.
