//! perflab kernels: one folder per lab, one file per variant.
//!
//! Each lab (`matmul`, ...) has a naive baseline, the reference solutions of the optimisation
//! ladder under `solutions/`, the learner's scaffolding under `exercises/`, and a table of
//! variants the harness, the tests and the benches all iterate over.

pub mod cpu;
pub mod matmul;
pub mod simd;
pub mod variant;

pub use variant::Role;

/// Sets the thread count of every library anchor (OpenBLAS, matrixmultiply). Call it first
/// thing in `main`, before any multiply.
///
/// # Safety
/// It sets an environment variable (matrixmultiply reads one): no other thread may read or
/// write the environment at the same time, so call it while the process has a single thread.
pub unsafe fn set_library_threads(threads: usize) {
    // SAFETY: forwarded to the caller.
    unsafe { matmul::libraries::set_library_threads(threads) };
}
