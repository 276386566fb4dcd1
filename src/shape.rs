//! Layer-type shape arithmetic: the one place where it lives.
