//! Exercise: rayon, over queries, or over the points when queries are few. Reference:
//! `../solutions/parallel.rs`.
//!
//! Goal: every core busy, and an answer that does not depend on the thread count. Check:
//! `cargo test --release -p perflab-labs --test every_lab` (it runs pools of 1 and 3 threads),
//! then `cargo lab bench knn --variant your-parallel --variant parallel --threads 2`.
//!
//! TODO 1. Queries are independent: zip `answer.indices.par_chunks_mut(k)`,
//!         `answer.distances.par_chunks_mut(k)` and `answer.classes.par_iter_mut()`, enumerate,
//!         and run one query's search in each task (the `select` loop, or your SIMD scan).
//! TODO 2. Try `--size n=100000,d=64,m=2,k=10 --threads 2`: one query per thread is not enough
//!         to hide the imbalance, and m = 1 uses one core. Split the points instead: each task
//!         takes a slice of the training set and keeps its own k best per query.
//! TODO 3. Merge the slices' lists per query into the answer: push them all into one `TopK`
//!         (skip the empty slots, index `topk::NO_POINT`). Why is the merged answer the same
//!         for any number of slices? (Hint: `topk::is_before`.)
//!
//! Hints: `rayon::current_num_threads()` is the pool's size (the harness sets it with
//! `--threads`). Keep the partial lists in a buffer reused across calls.

use crate::knn::{Answer, Inputs, naive};

/// The k nearest neighbours of every query. Replace the body with your parallel version.
pub fn knn(inputs: &Inputs, answer: &mut Answer) {
    naive::knn(inputs, answer);
}
