//! Exercise: rayon over chunks of points, with a deterministic inertia. Reference:
//! `../solutions/parallel.rs`.
//!
//! Goal: every core busy, and labels and inertia that are the same bits on any thread count.
//! Check: `cargo test --release -p perflab-labs --test every_lab` (pools of 1 and 3 threads),
//! then `cargo lab bench kmeans --variant your-parallel --variant parallel --threads 2`.
//!
//! TODO 1. Split `answer.labels` and `answer.distances` with `par_chunks_mut(INERTIA_CHUNK)`,
//!         zip them, enumerate, and label each chunk's points (the naive loop, or your SIMD one).
//! TODO 2. Compute the inertia with a parallel `sum()` and run the test on 1, 2 and 3 threads:
//!         do the bits agree? Why not? (f64 addition is not associative, and rayon splits the sum
//!         differently on different pools.)
//! TODO 3. Give each chunk its own slot for its sum (`chunk_inertia`), then add the slots in
//!         order: the order no longer depends on the split. Keep the slots in a buffer reused
//!         across calls (`crate::gemm::buffers::Pool`).

use crate::kmeans::{Answer, Inputs, naive};

/// Every point's nearest centroid. Replace the body with your parallel version.
pub fn assign(inputs: &Inputs, answer: &mut Answer) {
    naive::assign(inputs, answer);
}
