//! Exercise: rayon, over queries, or over the points when queries are few. Reference:
//! `../solutions/parallel.rs` (peek only when stuck).
//!
//! Stuck? `cargo lab hint knn your-parallel` reveals one hint at a time.
//!
//! Goal: every core busy, and an answer that does not depend on the thread count. `cargo lab
//! status` shows the goal `cargo lab check` measures (`exercises.toml` beside this file holds every
//! hint too, so ask for them one at a time instead of opening it); the goal has few queries on
//! purpose. `cargo lab bench knn --variant your-parallel --variant parallel --threads 2` shows yours beside
//! the reference.
//!
//! TODO 1. Queries are independent: zip `answer.indices.par_chunks_mut(k)`,
//!         `answer.distances.par_chunks_mut(k)` and `answer.classes.par_iter_mut()`, enumerate,
//!         and run one query's search in each task. Use the simd rung's scan (yours from
//!         `exercises/simd.rs` once it is as fast, or the reference's): this rung is about
//!         scaling, and a slow serial scan scales just as well while staying slow.
//!         Check: `cargo lab check knn your-parallel`
//! TODO 2. Try `--size n=100000,d=64,m=1,k=10` with `--threads 2` and with `--threads 1`: how
//!         many cores does one query keep busy? Split the points instead: each task takes a
//!         slice of the training set and keeps its own k best per query.
//!         Check: `cargo lab check knn your-parallel` (its edge sizes include few queries on many
//!         points)
//! TODO 3. Merge the slices' lists per query into the answer: push them all into one `TopK`
//!         (skip the empty slots, index `topk::NO_POINT`). Why is the merged answer the same
//!         for any number of slices? (Read `topk::is_before`.) Then choose when to split which.
//!         Check: `cargo lab check knn your-parallel`, and `cargo test --release -p perflab-labs
//!         --test every_lab`, which runs every variant in pools of 1 and 3 threads
//!
//! Rules: `rayon::current_num_threads()` is the pool's size (the harness sets it with
//! `--threads`); never build your own pool here. Keep the partial lists in a buffer reused
//! across calls.

use crate::knn::{Answer, Inputs, naive};

/// The k nearest neighbours of every query. Replace the body with your parallel version.
pub fn knn(inputs: &Inputs, answer: &mut Answer) {
    naive::knn(inputs, answer);
}
