//! Exercise: cache blocking (tiling). Reference: `../solutions/blocked.rs`.
//!
//! Goal: keep a tile of B in cache while every row of A uses it, and stop loading and storing C
//! for every multiply-add. The payoff shows at n = 2048, where loop-order halves its speed and the
//! reference holds it (1.5x loop-order on this project's machine; at n = 1024, where B still
//! streams well from L3, even the reference only matches loop-order). Check your work:
//! `cargo test --release -p perflab-labs --test every_lab` (correctness), then
//! `cargo lab bench matmul --size 2048 --variant loop-order --variant your-blocked --variant blocked`.
//!
//! TODO 1. Start from the i-k-j loop (`solutions/loop_order.rs`): zero C, then for each row i,
//!         for each p, add `A[i, p] * B[p, :]` to `C[i, :]`. Run the tests: still green?
//! TODO 2. Wrap it in two tile loops: columns `j0..j1` of B and C, and depth `p0..p1`; inside, run
//!         the i-k-j loop restricted to the tile. Measure: little or no gain yet. Why? (B's rows are
//!         n floats apart: at n = 1024 that is 4 KiB, so a tile's rows all land in the same few
//!         L1 sets and evict each other.)
//! TODO 3. Copy each tile into a small contiguous buffer first (`[f32; DEPTH * COLS]` on the
//!         stack), rows COLS floats apart, and read B from there. Size it to L1: 64 × 128 floats
//!         is 32 KiB.
//! TODO 4. Sum C in registers: for a strip of 32 columns of one row of C, keep a local
//!         `[f32; 32]` (better: `[[f32; 4]; 8]`, eight groups the compiler keeps in eight vector
//!         registers) over the tile's whole depth, and add it to C once at the end.
//! TODO 5. Edges: the last tile and strip in each direction are partial (`min(j0 + COLS, n)`).
//!         The tests use primes and sizes one off a tile boundary; they will tell you.
//!
//! Hint: why eight groups and not four? An addition takes 3-4 cycles to finish; with four
//! independent sums the loop waits on its own results. Zero-sized dimensions must not panic.

use crate::matmul::{Shape, naive};

/// C = A·B. Replace the body with your tiled version.
pub fn matmul(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    naive::matmul(shape, a, b, c);
}
