//! Exercise: parallelism with rayon. Reference: `../solutions/parallel.rs`.
//!
//! Goal: near-linear scaling with cores. Check: `cargo test --release -p perflab-labs --test every_lab`,
//! then `cargo lab bench matmul --threads 1 --variant your-parallel` and again with
//! `--threads 2` (or more): the ratio is your scaling.
//!
//! TODO 1. Find the independent work: rows of C do not depend on each other. (Do columns? Do
//!         steps of the depth loop? Which would need locks or atomics?)
//! TODO 2. Split C into bands of rows with `c.par_chunks_mut(rows_per_task * n)` (from
//!         `rayon::prelude::*`) and `.enumerate()` to know which rows a band holds.
//! TODO 3. In each band, run the i-k-j loop of `solutions/loop_order.rs` for its rows.
//! TODO 4. Choose `rows_per_task`: one row per task schedules thousands of tiny tasks; m / threads
//!         leaves cores idle when one is slow. Measure 1, 16 and 128.
//! TODO 5. `par_chunks_mut(0)` panics: return early when m or n is zero.
//!
//! Hint: the harness runs you inside a rayon pool of `--threads` threads; never build your own
//! pool here, use the current one.

use crate::matmul::{Shape, naive};

/// C = A·B. Replace the body with your parallel version.
pub fn matmul(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    naive::matmul(shape, a, b, c);
}
