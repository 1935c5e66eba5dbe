//! Exercise: cache blocking (tiling). Reference: `../solutions/blocked.rs`.
//!
//! Goal: beat `loop-order` at n ≥ 1024 by keeping a tile of B in cache while every row of A
//! uses it. Check your work: `cargo test --release -p perflab-labs --test matmul` (correctness), then
//! `cargo lab bench matmul --size 1024 --variant your-blocked --variant blocked` (speed).
//!
//! TODO 1. Start from the i-k-j loop (`solutions/loop_order.rs`): zero C, then for each row i,
//!         for each p, add `A[i, p] * B[p, :]` to `C[i, :]`. Run the tests: still green?
//! TODO 2. Wrap it in two tile loops: columns `j0..j1` of B and C, and depth `p0..p1`. Inside,
//!         run the i-k-j loop restricted to the tile. (Which loop must be outermost so that
//!         C is zeroed exactly once?)
//! TODO 3. Pick tile sizes. The B tile is `depth × cols × 4` bytes: make it fit in L2
//!         (1 MiB on Zen 4; `lscpu` tells yours) with room to spare. Try 64×256, 128×256, 256×512
//!         and keep the fastest.
//! TODO 4. Handle edges: the last tile in each direction is partial (`min(j0 + TILE, n)`). The
//!         tests use primes and sizes one off a tile boundary; they will tell you.
//!
//! Hint: the whole solution is about 20 lines. Zero-sized dimensions must not panic.

use crate::matmul::{Shape, naive};

/// C = A·B. Replace the body with your tiled version.
pub fn matmul(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    naive::matmul(shape, a, b, c);
}
