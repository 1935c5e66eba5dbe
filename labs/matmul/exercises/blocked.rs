//! Exercise: cache blocking (tiling). Reference: `../solutions/blocked.rs` (peek only when stuck).
//!
//! Stuck? `cargo lab hint matmul your-blocked` reveals one hint at a time.
//!
//! Goal: keep a tile of B in cache while every row of A uses it, and stop loading and storing C for
//! every multiply-add. Where that pays depends on the machine: on the matmul README's (ladder
//! table), one core at n = 1024 gives blocked 25.5 GFLOP/s against loop-order's 22.9, and on two
//! cores at n = 2048, where both threads stream B, loop-order falls to 13.8 while blocked holds
//! 17.4. `cargo lab status` shows the goal `cargo lab check` measures (`exercises.toml` beside this
//! file holds every hint too, so ask for them one at a time instead of opening it). See your own
//! machine's version: `cargo lab bench matmul --size 2048 --variant loop-order --variant
//! your-blocked --variant blocked`, with `--threads 1` and without.
//!
//! TODO 1. Start from the i-k-j loop (`solutions/loop_order.rs`): zero C, then for each row i,
//!         for each p, add `A[i, p] * B[p, :]` to `C[i, :]`. This is your speed to beat.
//!         Check: `cargo lab check matmul your-blocked`
//! TODO 2. Wrap it in two tile loops: columns `j0..j1` of B and C, and depth `p0..p1`; inside, run
//!         the i-k-j loop restricted to the tile. Measure: little or no gain yet. Why? (How far
//!         apart in memory are the rows of one tile of B, and which cache sets do they land in?)
//!         Check: `cargo lab check matmul your-blocked`
//! TODO 3. Copy each tile into a small contiguous buffer first (on the stack, rows as far apart as
//!         the tile is wide), and read B from there. How large may the buffer be, and why?
//!         Check: `cargo lab check matmul your-blocked`
//! TODO 4. Sum C in registers: for a strip of one row of C, keep a local fixed-size array over the
//!         tile's whole depth, split into groups the compiler can keep in vector registers, and
//!         add it to C once at the end. How many independent groups does it take before the loop
//!         stops waiting on its own additions? Try a few and measure.
//!         Check: `cargo lab check matmul your-blocked`
//! TODO 5. Edges: the last tile and strip in each direction are partial (`min(j0 + COLS, n)`).
//!         `cargo lab check` runs primes and sizes one off a tile boundary; it will tell you.
//!         Check: `cargo lab check matmul your-blocked`
//!
//! Rules: zero-sized dimensions must not panic, and k = 0 must still leave C all zeros.

use crate::matmul::{Shape, naive};

/// C = A·B. Replace the body with your tiled version.
pub fn matmul(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    naive::matmul(shape, a, b, c);
}
