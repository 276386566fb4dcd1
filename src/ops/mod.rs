//! Tensor ops that dfdx 0.13 lacks on stable Rust. Each op has a fast `Cpu` kernel and a
//! device-generic implementation composed of dfdx ops; the latter is what `Cuda` runs and
//! the oracle the fast kernel is tested against.

pub mod cpu;
