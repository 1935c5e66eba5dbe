//! Heap allocations per call, counted with dhat in a pass of its own.
//!
//! dhat counts allocations through its global allocator, which takes a global lock on every
//! allocation and free even when no profiler runs: a process that times kernels must not pay
//! that. So the `perflab` binary installs [`Switch`], which forwards to the system allocator,
//! and to dhat's only while [`count`] measures one call, after all timing is done.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

/// The global allocator of the `perflab` binary: the system allocator, or dhat's while counting.
pub struct Switch;

static COUNTING: AtomicBool = AtomicBool::new(false);

// SAFETY: every call forwards to an allocator that upholds the contract (dhat's allocator is
// the system allocator plus bookkeeping, so blocks may move between the two freely: dhat
// ignores frees and reallocations of blocks it did not see allocated).
unsafe impl GlobalAlloc for Switch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's layout contract, forwarded to the allocator that serves it.
        unsafe { if COUNTING.load(Ordering::Relaxed) { dhat::Alloc.alloc(layout) } else { System.alloc(layout) } }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller\'s contract, forwarded to the allocator that serves it (a block
        // allocated by one may be freed by the other: see the impl\'s comment).
        unsafe {
            if COUNTING.load(Ordering::Relaxed) {
                dhat::Alloc.alloc_zeroed(layout)
            } else {
                System.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller\'s contract, forwarded to the allocator that serves it (a block
        // allocated by one may be freed by the other: see the impl\'s comment).
        unsafe {
            if COUNTING.load(Ordering::Relaxed) {
                dhat::Alloc.dealloc(ptr, layout)
            } else {
                System.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller\'s contract, forwarded to the allocator that serves it (a block
        // allocated by one may be freed by the other: see the impl\'s comment).
        unsafe {
            if COUNTING.load(Ordering::Relaxed) {
                dhat::Alloc.realloc(ptr, layout, new_size)
            } else {
                System.realloc(ptr, layout, new_size)
            }
        }
    }
}

/// What one call allocated on the heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AllocStats {
    /// Allocations made (blocks).
    pub blocks: u64,
    /// Bytes allocated in all.
    pub bytes: u64,
    /// The most bytes live at once.
    pub peak_bytes: u64,
}

/// Runs `call` once to warm up (first-use buffers, thread pools), then once more while dhat
/// counts. `None` when this process's global allocator is not [`Switch`] (nothing would be seen).
/// One count at a time per process: dhat allows one profiler, and a second caller (two tests of
/// one binary measuring at once) waits its turn instead of panicking.
pub fn count(mut call: impl FnMut()) -> Option<AllocStats> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    call();
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let profiler = dhat::Profiler::builder().testing().trim_backtraces(Some(8)).build();
    COUNTING.store(true, Ordering::SeqCst);
    let probe = std::hint::black_box(Box::new(0u8)); // proves the counting allocator is in place
    drop(probe);
    let before = dhat::HeapStats::get();
    call();
    COUNTING.store(false, Ordering::SeqCst);
    let after = dhat::HeapStats::get();
    drop(profiler);
    let blocks = after.total_blocks - before.total_blocks;
    (before.total_blocks > 0).then(|| AllocStats {
        blocks,
        bytes: after.total_bytes - before.total_bytes,
        // dhat's peak spans the whole profile, probe included: it only means something if the
        // call allocated at all.
        peak_bytes: if blocks == 0 { 0 } else { after.max_bytes as u64 },
    })
}
