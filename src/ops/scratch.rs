//! Working buffers reused without zeroing.
//!
//! A kernel's working copies (a tensor's values read out of dfdx, the im2col columns, a
//! group's product before it is reordered) are written in full before anything reads them,
//! so zeroing them first is a wasted pass over memory: `vec![0.0; n]` on memory the
//! allocator recycles is a memset, and `perf` put memset at 13% of the seed CNN's training
//! step, much of it on such buffers. A [`Scratch`] comes from a pool of the buffers that
//! earlier kernels dropped, still holding their old values, and goes back to the pool when
//! dropped, so the steps of a training loop reuse the same few buffers. A program that asked
//! for freed buffers to be handed back (`keep_freed_buffers(false)`) gets no pool: its
//! buffers are freed, and zeroed when made.

use super::cpu::{releases_freed_buffers, CpuFloat};
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
    /// The whole buffer, as long as when it was first made: a `Vec` shortened and lengthened
    /// again would zero what it regrows, so the length in use is kept beside it.
    buf: Vec<E>,
    len: usize,
    /// Where the buffer came from and goes back to when dropped; `None`: made, then freed.
    pool: Option<&'static Pool<E>>,
}

impl<E: CpuFloat> Scratch<E> {
    /// `len` elements to be overwritten in full before they are read: the shortest pooled
    /// buffer that holds them, or a new one.
    pub fn for_overwriting(len: usize) -> Self {
        Self::from_pool((!releases_freed_buffers()).then(E::scratch_pool), len)
    }

    fn from_pool(pool: Option<&'static Pool<E>>, len: usize) -> Self {
        let buf = match pool {
            Some(pool) => take(&mut lock(pool), len),
            None => take(&mut Vec::new(), len),
        };
        Self { buf, len, pool }
    }
}

impl<E: CpuFloat> Drop for Scratch<E> {
    fn drop(&mut self) {
        if let Some(pool) = self.pool {
            give_back(&mut lock(pool), std::mem::take(&mut self.buf));
        }
    }
}

/// The pool's buffers; a panic while it was held leaves them as usable as before.
fn lock<E>(pool: &Pool<E>) -> std::sync::MutexGuard<'_, Vec<Vec<E>>> {
    pool.lock().unwrap_or_else(|e| e.into_inner())
}

/// The shortest buffer of `pool` that holds `len` elements, or a new one of `len` zeros.
fn take<E: CpuFloat>(pool: &mut Vec<Vec<E>>, len: usize) -> Vec<E> {
    if len == 0 {
        return Vec::new();
    }
    let fit = (0..pool.len())
        .filter(|&i| pool[i].len() >= len)
        .min_by_key(|&i| pool[i].len());
    match fit {
        Some(i) => pool.swap_remove(i),
        None => {
            // Written here, not left to `calloc`: fresh pages would otherwise fault in
            // later, inside a kernel's parallel loop.
            let mut buf = Vec::with_capacity(len);
            buf.resize(len, E::zero());
            buf
        }
    }
}

fn give_back<E>(pool: &mut Vec<Vec<E>>, buf: Vec<E>) {
    if !buf.is_empty() && pool.len() < POOL_BUFFERS {
        pool.push(buf);
    }
}

impl<E: CpuFloat> Deref for Scratch<E> {
    type Target = [E];
    fn deref(&self) -> &[E] {
        &self.buf[..self.len]
    }
}

impl<E: CpuFloat> DerefMut for Scratch<E> {
    fn deref_mut(&mut self) -> &mut [E] {
        &mut self.buf[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortest_buffer_that_fits_is_reused_with_its_values() {
        let mut pool: Vec<Vec<f64>> = Vec::new();
        give_back(&mut pool, (0..100).map(f64::from).collect());
        give_back(&mut pool, (0..10).map(f64::from).collect());
        give_back(&mut pool, (0..1000).map(f64::from).collect());
        let buf = take(&mut pool, 60);
        assert_eq!(
            buf,
            (0..100).map(f64::from).collect::<Vec<_>>(),
            "old values, not zeros"
        );
        assert_eq!(pool.len(), 2);
        assert_eq!(
            take(&mut pool, 2000),
            [0.0; 2000],
            "none fits: a new buffer"
        );
        assert_eq!(pool.len(), 2);
    }

    #[test]
    fn a_scratch_shows_the_length_asked_for_and_keeps_the_rest() {
        // A pool of its own: a test running beside this one cannot take the buffer.
        static POOL: Pool<f64> = Pool::new(Vec::new());
        let len = 500;
        let mut first = Scratch::from_pool(Some(&POOL), len);
        first
            .iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v = i as f64);
        let address = first.as_ptr();
        drop(first);
        let mut second = Scratch::from_pool(Some(&POOL), len - 1);
        assert_eq!(second.len(), len - 1);
        assert_eq!(second.as_ptr(), address, "the pooled buffer is reused");
        assert_eq!(
            second[len - 2],
            (len - 2) as f64,
            "its values are kept, not zeroed"
        );
        second.fill(-1.0);
        drop(second);
        let third = Scratch::from_pool(Some(&POOL), len);
        assert_eq!(third.as_ptr(), address);
        assert_eq!(
            third[len - 1],
            (len - 1) as f64,
            "the element beyond the second's length"
        );
    }

    #[test]
    fn an_unpooled_scratch_is_freed_when_dropped() {
        static POOL: Pool<f32> = Pool::new(Vec::new());
        drop(Scratch::<f32>::from_pool(None, 30));
        assert!(POOL.lock().unwrap().is_empty());
        drop(Scratch::from_pool(Some(&POOL), 30));
        assert_eq!(POOL.lock().unwrap().len(), 1);
        let unpooled = Scratch::<f32>::from_pool(None, 30);
        assert_eq!(
            POOL.lock().unwrap().len(),
            1,
            "an unpooled scratch takes no buffer"
        );
        drop(unpooled);
        assert_eq!(POOL.lock().unwrap().len(), 1, "nor gives one back");
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
