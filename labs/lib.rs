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
/// thing in `main`, before any other thread exists (matrixmultiply reads an environment variable).
pub fn set_library_threads(threads: usize) {
    matmul::libraries::set_library_threads(threads);
}
