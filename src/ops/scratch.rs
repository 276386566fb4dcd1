//! Working buffers reused without zeroing.
//!
//! A kernel's working copies (a tensor's values read out of dfdx, the im2col columns, a
//! group's product before it is reordered) are written in full before anything reads them,
//! so zeroing them first is a wasted pass over memory: `vec![0.0; n]` on memory the
//! allocator recycles is a memset, and `perf` put memset at 13% of the seed CNN's training
//! step, most of it on such buffers. A [`Scratch`] comes from a pool of the buffers that earlier kernels
//! dropped, still holding their old values, and goes back to the pool when dropped, so the
//! steps of a training loop reuse the same few buffers.

use super::cpu::CpuFloat;
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

/// Buffers kept for reuse, per element type; beyond this many, a dropped one is freed. A
/// training step returns its buffers together, so this bounds the layers whose buffers are
/// reused, not the memory of any one.
const POOL_BUFFERS: usize = 256;

/// The pool of an element type: a `static` per type, so [`CpuFloat`] names it.
pub type Pool<E> = Mutex<Vec<Vec<E>>>;

/// A buffer of `len` values that whoever takes it overwrites before reading: its values are
/// whatever an earlier kernel left (never uninitialised memory).
pub struct Scratch<E: CpuFloat> {
    buf: Vec<E>,
}

impl<E: CpuFloat> Scratch<E> {
    /// `len` elements to be overwritten in full before they are read: the smallest pooled
    /// buffer that holds them, or a new one.
    pub fn for_overwriting(len: usize) -> Self {
        let buf = take(
            &mut E::scratch_pool().lock().unwrap_or_else(|e| e.into_inner()),
            len,
        );
        Self { buf }
    }
}

impl<E: CpuFloat> Drop for Scratch<E> {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        give_back(
            &mut E::scratch_pool().lock().unwrap_or_else(|e| e.into_inner()),
            buf,
        );
    }
}

/// The smallest buffer of `pool` that holds `len` elements (or a new one), at length `len`.
fn take<E: CpuFloat>(pool: &mut Vec<Vec<E>>, len: usize) -> Vec<E> {
    if len == 0 {
        return Vec::new();
    }
    let fit = (0..pool.len())
        .filter(|&i| pool[i].capacity() >= len)
        .min_by_key(|&i| pool[i].capacity());
    let mut buf = fit.map(|i| pool.swap_remove(i)).unwrap_or_default();
    // Within the capacity: no reallocation, and only a tail past the old length is written.
    buf.resize(len, E::zero());
    buf
}

fn give_back<E>(pool: &mut Vec<Vec<E>>, buf: Vec<E>) {
    if buf.capacity() > 0 && pool.len() < POOL_BUFFERS {
        pool.push(buf);
    }
}

impl<E: CpuFloat> Deref for Scratch<E> {
    type Target = [E];
    fn deref(&self) -> &[E] {
        &self.buf
    }
}

impl<E: CpuFloat> DerefMut for Scratch<E> {
    fn deref_mut(&mut self) -> &mut [E] {
        &mut self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_buffer_that_fits_is_reused_with_its_values() {
        let mut pool: Vec<Vec<f64>> = Vec::new();
        give_back(&mut pool, (0..100).map(f64::from).collect());
        give_back(&mut pool, (0..10).map(f64::from).collect());
        give_back(&mut pool, (0..1000).map(f64::from).collect());
        let buf = take(&mut pool, 60);
        assert_eq!(buf.capacity(), 100);
        assert_eq!(
            buf,
            (0..60).map(f64::from).collect::<Vec<_>>(),
            "old values, not zeros"
        );
        assert_eq!(pool.len(), 2);
    }

    #[test]
    fn a_longer_request_than_the_buffer_held_is_zero_past_the_old_values() {
        let mut pool: Vec<Vec<f32>> = Vec::new();
        let mut old = Vec::with_capacity(8);
        old.extend([1.0, 2.0, 3.0]);
        give_back(&mut pool, old);
        assert_eq!(take(&mut pool, 5), [1.0, 2.0, 3.0, 0.0, 0.0]);
        assert_eq!(
            take(&mut pool, 4),
            [0.0; 4],
            "an empty pool gives a new buffer"
        );
    }

    #[test]
    fn the_pool_keeps_a_bounded_number_of_buffers() {
        let mut pool: Vec<Vec<f32>> = Vec::new();
        for _ in 0..POOL_BUFFERS + 3 {
            give_back(&mut pool, vec![0.0; 2]);
        }
        give_back(&mut pool, Vec::new());
        assert_eq!(pool.len(), POOL_BUFFERS);
    }
}
