//! The one place a thread count becomes a rayon pool.
//!
//! Parallel variants run on the current rayon pool, and library anchors (matrixmultiply,
//! OpenBLAS, ...) have thread pools of their own: `--threads N` must govern both, or a
//! "1-thread" comparison would pit one core against all of them.

use rayon::{ThreadPool, ThreadPoolBuildError, ThreadPoolBuilder};

/// The thread count asked for, or every core.
pub fn resolve(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Tells every lab's library anchors to use `threads` threads, then builds a rayon pool of
/// `threads` threads for the parallel variants.
///
/// # Safety
/// Libraries may read their thread count from the environment, so this sets environment
/// variables: call it while the process has a single thread (first thing in `main`).
pub unsafe fn pool(threads: usize) -> Result<ThreadPool, ThreadPoolBuildError> {
    for lab in crate::all() {
        // SAFETY: forwarded to the caller (a single thread).
        unsafe { lab.set_library_threads(threads) };
    }
    ThreadPoolBuilder::new().num_threads(threads).build()
}
