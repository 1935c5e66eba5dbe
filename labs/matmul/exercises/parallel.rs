//! Exercise: parallelism with rayon. Reference: `../solutions/parallel.rs` (peek only when stuck).
//!
//! Stuck? `cargo lab hint matmul your-parallel` reveals one hint at a time.
//!
//! Goal: as much scaling with cores as memory allows. On the matmul README's 2-core machine (ladder
//! table) the reference scales 1.9x at n = 1024 and 1.5x at n = 2048, where two cores share one
//! memory bus streaming B. `cargo lab status` shows the goal `cargo lab check` measures
//! (`exercises.toml` beside this file holds every hint too, so ask for them one at a time instead
//! of opening it); your scaling is your median time in `cargo lab bench matmul --threads 1
//! --variant your-parallel` over your median time in the same with `--threads 2` (or more).
//!
//! TODO 1. Find the independent work: rows of C do not depend on each other. (Do columns? Do
//!         steps of the depth loop? Which would need locks or atomics?)
//!         Check: compare your answer with `cargo lab hint matmul your-parallel 1`
//! TODO 2. Split C into bands of rows with `c.par_chunks_mut(rows_per_task * n)` (from
//!         `rayon::prelude::*`) and `.enumerate()` to know which rows a band holds. A chunk size
//!         of 0 panics: return early when m or n is zero (C is empty then). Run the naive kernel
//!         on each band's rows for now.
//!         Check: `cargo lab check matmul your-parallel` (its edge shapes include empty ones; the
//!         naive kernel in parallel bands is only as fast as naive on one core times the cores)
//! TODO 3. In each band, run the i-k-j loop of `solutions/loop_order.rs` for its rows.
//!         Check: `cargo lab check matmul your-parallel`
//! TODO 4. Choose `rows_per_task`: one row per task schedules thousands of tiny tasks; m / threads
//!         leaves cores idle when one is slow. Measure a few sizes between the two, and explain
//!         what you see. (On a 2-core machine shared with other work the differences can drown in
//!         the noise: run each a few times, and compare with the reference in the same run.)
//!         Check: `cargo lab check matmul your-parallel`
//!
//! Rules: the harness runs you inside a rayon pool of `--threads` threads; never build your own
//! pool here, use the current one. `cargo test --release -p perflab-labs --test every_lab` also
//! runs every variant in pools of 1 and 3 threads.

use crate::matmul::{Shape, naive};

/// C = A·B. Replace the body with your parallel version.
pub fn matmul(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    naive::matmul(shape, a, b, c);
}
