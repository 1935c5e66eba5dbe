//! Scratch memory shared by every thread of a call and reused from call to call, so that a warm
//! kernel allocates nothing whichever worker runs which task.
//!
//! Why not thread-locals: a rayon pool hands a task to whichever worker is free, and a worker
//! that meets a task of this shape for the first time would grow its own buffer during the call
//! (a flagship on 3 threads was seen allocating 300 KB per call that way, one run in a few).

use std::sync::{Mutex, MutexGuard};

/// Packed data starts on a cache-line boundary: a vector load never straddles two lines.
const ALIGN_FLOATS: usize = 64 / size_of::<f32>();

/// Storage that grows (never shrinks) and hands out 64-byte-aligned slices.
#[derive(Default)]
pub struct AlignedBuffer {
    raw: Vec<f32>,
}

impl AlignedBuffer {
    /// Grows the storage (if needed) so that [`AlignedBuffer::slice`] of `len` never allocates.
    fn reserve(&mut self, len: usize) {
        if self.raw.len() < len + ALIGN_FLOATS {
            self.raw = vec![0.0; len + ALIGN_FLOATS];
        }
    }

    /// A 64-byte-aligned slice of `len` floats (its contents are whatever was there before).
    pub fn slice(&mut self, len: usize) -> &mut [f32] {
        self.reserve(len);
        let offset = self.raw.as_ptr().align_offset(64).min(ALIGN_FLOATS);
        &mut self.raw[offset..offset + len]
    }
}

/// Aligned scratch buffers for the tasks of a parallel kernel: each task takes one for as long
/// as it runs and gives it back.
///
/// A warm call never allocates, whoever runs its tasks, because two things hold between calls:
/// every free buffer is as long as the longest request the pool has seen (the last task of a
/// call often asks for less than the others; the next call may hand that buffer to a full
/// task), and the pool holds a buffer for every thread of the current rayon pool from the first
/// task on (not one more each time tasks happen to overlap further, which a warm-up may never
/// have shown). A call that asks for more than any before allocates, once.
pub struct BufferPool {
    stock: Mutex<Stock>,
}

struct Stock {
    free: Vec<AlignedBuffer>,
    /// Buffers made so far: `free` keeps room for all of them, so giving one back never grows it.
    made: usize,
    /// The longest slice asked for so far; every free buffer can hold it.
    longest: usize,
}

impl BufferPool {
    pub const fn new() -> BufferPool {
        BufferPool { stock: Mutex::new(Stock { free: Vec::new(), made: 0, longest: 0 }) }
    }

    /// Runs `f` with `len` floats of a pooled, 64-byte-aligned buffer (contents undefined).
    pub fn with_slice<R>(&self, len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
        let mut buffer = self.take(len);
        let result = f(buffer.slice(len));
        self.give_back(buffer);
        result
    }

    fn lock(&self) -> MutexGuard<'_, Stock> {
        // A task that panicked while holding the lock left the stock consistent (it only
        // pushes or pops whole buffers), so a poisoned lock is safe to use.
        self.stock.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self, len: usize) -> AlignedBuffer {
        let mut stock = self.lock();
        if len > stock.longest {
            stock.longest = len;
            stock.free.iter_mut().for_each(|buffer| buffer.reserve(len));
        }
        // One buffer per thread of the pool from the first task on, not one more each time the
        // tasks happen to overlap further: a warm-up whose tasks all ran one after the other
        // must still leave enough for a call whose tasks all run at once.
        let threads = rayon::current_num_threads().max(1);
        let missing = if stock.free.is_empty() { threads } else { threads.saturating_sub(stock.made) };
        if missing > 0 {
            stock.made += missing;
            let (made, longest) = (stock.made, stock.longest);
            let room = made - stock.free.len();
            stock.free.reserve(room);
            stock.free.extend((0..missing).map(|_| {
                let mut buffer = AlignedBuffer::default();
                buffer.reserve(longest);
                buffer
            }));
        }
        stock.free.pop().expect("the stock was refilled above")
    }

    fn give_back(&self, mut buffer: AlignedBuffer) {
        let mut stock = self.lock();
        // The pool may have been asked for more while this buffer was out.
        buffer.reserve(stock.longest);
        stock.free.push(buffer);
    }
}

impl Default for BufferPool {
    fn default() -> BufferPool {
        BufferPool::new()
    }
}

/// Scratch taken once per call (not per task): a call takes one item and gives it back when
/// done. Kept in a pool rather than in a thread-local so that it stays warm whichever thread
/// the call lands on.
pub struct Pool<T> {
    items: Mutex<Vec<T>>,
}

impl<T: Default> Pool<T> {
    pub const fn new() -> Pool<T> {
        Pool { items: Mutex::new(Vec::new()) }
    }

    /// Runs `f` with an item of the pool (a new one if all are in use).
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let taken = self.items.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut item = taken.unwrap_or_default();
        let result = f(&mut item);
        self.items.lock().unwrap_or_else(|e| e.into_inner()).push(item);
        result
    }
}

impl<T: Default> Default for Pool<T> {
    fn default() -> Pool<T> {
        Pool::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_given_back_short_is_grown_to_the_longest_request() {
        let pool = BufferPool::new();
        let rayon_pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        rayon_pool.install(|| {
            // Two buffers out at once: one for a long task, one for a short one.
            pool.with_slice(10, |_| pool.with_slice(1000, |long| long.fill(1.0)));
            let stock = pool.lock();
            assert_eq!(stock.made, 2, "a refill makes one buffer per thread");
            assert!(stock.free.iter().all(|b| b.raw.len() >= 1000 + ALIGN_FLOATS));
            assert!(stock.free.capacity() >= stock.made);
        });
    }

    #[test]
    fn one_task_alone_leaves_a_buffer_for_every_thread() {
        let pool = BufferPool::new();
        let rayon_pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        rayon_pool.install(|| pool.with_slice(100, |_| ()));
        let stock = pool.lock();
        assert_eq!((stock.made, stock.free.len()), (3, 3));
        assert!(stock.free.iter().all(|b| b.raw.len() >= 100 + ALIGN_FLOATS));
    }

    #[test]
    fn slices_are_aligned_and_of_the_length_asked() {
        let pool = BufferPool::new();
        for len in [0, 1, 17, 4096] {
            pool.with_slice(len, |s| {
                assert_eq!(s.len(), len);
                assert_eq!(s.as_ptr() as usize % 64, 0);
            });
        }
    }
}
