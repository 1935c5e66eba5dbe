//! Per-thread packing buffers, reused from call to call so that a warm flagship allocates nothing.

use std::cell::RefCell;
use std::thread::LocalKey;

/// Packed data starts on a cache-line boundary: a vector load never straddles two lines.
const ALIGN_FLOATS: usize = 64 / size_of::<f32>();

/// Storage that grows (never shrinks) and hands out 64-byte-aligned slices.
#[derive(Default)]
pub struct AlignedBuffer {
    raw: Vec<f32>,
}

impl AlignedBuffer {
    /// A 64-byte-aligned slice of `len` floats (its contents are whatever was there before).
    pub fn slice(&mut self, len: usize) -> &mut [f32] {
        if self.raw.len() < len + ALIGN_FLOATS {
            self.raw = vec![0.0; len + ALIGN_FLOATS];
        }
        let offset = self.raw.as_ptr().align_offset(64).min(ALIGN_FLOATS);
        &mut self.raw[offset..offset + len]
    }
}

thread_local! {
    static A_BLOCK: RefCell<AlignedBuffer> = RefCell::default();
    static B_PANEL: RefCell<AlignedBuffer> = RefCell::default();
}

/// Runs `f` with this thread's A-block buffer of `len` floats.
pub fn with_a_block<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    with_buffer(&A_BLOCK, len, f)
}

/// Runs `f` with this thread's B-panel buffer of `len` floats.
pub fn with_b_panel<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    with_buffer(&B_PANEL, len, f)
}

/// Runs `f` with `len` floats of the thread-local buffer `key` (a lab may declare its own keys,
/// e.g. for a tile of distances).
pub fn with_buffer<R>(
    key: &'static LocalKey<RefCell<AlignedBuffer>>,
    len: usize,
    f: impl FnOnce(&mut [f32]) -> R,
) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => f(buffer.slice(len)),
        // Re-entered on this thread (a rayon worker that stole a second multiply while it
        // waits inside the first): that one gets a buffer of its own.
        Err(_) => f(AlignedBuffer::default().slice(len)),
    })
}

/// Scratch shared by every thread: a call (or a task) takes one item, and gives it back when
/// done. Unlike a thread-local buffer, it stays warm whichever thread a call lands on (a rayon
/// pool runs a call on any of its workers), so a warm kernel allocates nothing.
pub struct Pool<T> {
    items: std::sync::Mutex<Vec<T>>,
}

impl<T: Default> Pool<T> {
    pub const fn new() -> Pool<T> {
        Pool { items: std::sync::Mutex::new(Vec::new()) }
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
