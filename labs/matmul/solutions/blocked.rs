//! Rung 2: cache blocking (tiling).
//!
//! The i-k-j loop is limited by C, not by arithmetic: every multiply-add loads a value of C and
//! stores it back. And every row of C streams the whole of B (4 MiB at n = 1024) through the
//! cache, far more than L1 (32-48 KiB) or L2 (1-2 MiB) hold.
//!
//! Blocking fixes both:
//! 1. B is cut into tiles of `DEPTH_TILE` rows × `COL_TILE` columns that stay in L1 while every
//!    row of A uses them.
//! 2. Each tile is first **copied** into a small contiguous buffer. In B itself, the rows of a
//!    tile are `n` floats apart: for n = 1024 that is 4 KiB, so every row of the tile maps to
//!    the same few L1 sets and they evict each other (try it without the copy: it is slower
//!    than `loop-order`). In the buffer they are 512 bytes apart and fill L1 evenly.
//! 3. Inside a tile, a strip of `STRIP` values of a C row is summed in a local array over the
//!    whole depth of the tile, which the compiler keeps in registers: C is loaded and stored
//!    once per tile instead of once per multiply-add.
//!
//! Plain Rust, no intrinsics: the compiler vectorises the strip.

use crate::matmul::Shape;

/// Values of a C row summed in registers: 32 floats = eight SSE registers. Eight independent
/// sums, because one addition takes 3-4 cycles to complete: with only four chains the loop
/// would wait on its own results instead of issuing two additions per cycle.
const STRIP: usize = 32;
/// Columns of B per tile: four strips.
const COL_TILE: usize = 4 * STRIP;
/// Rows of B (the depth, k) per tile: the copied tile is 64 × 128 floats = 32 KiB, the size of
/// L1 on Zen 4 (48 KiB on recent Intel), on the stack.
const DEPTH_TILE: usize = 64;

/// C = A·B, tile by tile of B, each C strip summed in registers over a tile's depth.
pub fn matmul(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    let Shape { m, k, n } = shape;
    c.fill(0.0);
    let mut tile = [0.0f32; DEPTH_TILE * COL_TILE];
    for j0 in (0..n).step_by(COL_TILE) {
        let width = COL_TILE.min(n - j0);
        for p0 in (0..k).step_by(DEPTH_TILE) {
            let depth = DEPTH_TILE.min(k - p0);
            copy_tile(b, n, p0, depth, j0, width, &mut tile);
            // The tile is now reused by all m rows.
            for i in 0..m {
                let a_row = &a[i * k + p0..i * k + p0 + depth];
                for s0 in (0..width).step_by(STRIP) {
                    let s1 = (s0 + STRIP).min(width);
                    add_strip(a_row, &tile, s0, &mut c[i * n + j0 + s0..i * n + j0 + s1]);
                }
            }
        }
    }
}

/// Copies `B[p0..p0+depth, j0..j0+width]` into `tile`, rows `COL_TILE` apart.
fn copy_tile(b: &[f32], n: usize, p0: usize, depth: usize, j0: usize, width: usize, tile: &mut [f32]) {
    for p in 0..depth {
        let src = &b[(p0 + p) * n + j0..(p0 + p) * n + j0 + width];
        tile[p * COL_TILE..p * COL_TILE + width].copy_from_slice(src);
    }
}

/// `c_strip += a_row · tile[.., s0..s0 + c_strip.len()]`, with the sum kept in a local array.
fn add_strip(a_row: &[f32], tile: &[f32], s0: usize, c_strip: &mut [f32]) {
    let mut acc = [0.0f32; STRIP];
    if c_strip.len() == STRIP {
        // Fixed-size groups of four lanes: the compiler keeps each group in one vector register.
        let mut groups = [[0.0f32; 4]; STRIP / 4];
        for (&a_ip, b_row) in a_row.iter().zip(tile.chunks_exact(COL_TILE)) {
            for (group, b) in groups.iter_mut().zip(b_row[s0..s0 + STRIP].chunks_exact(4)) {
                for (acc_j, &b_pj) in group.iter_mut().zip(b) {
                    *acc_j += a_ip * b_pj;
                }
            }
        }
        acc.copy_from_slice(groups.as_flattened());
    } else {
        // The narrower strip at the right edge.
        let width = c_strip.len();
        for (p, &a_ip) in a_row.iter().enumerate() {
            let b_row = &tile[p * COL_TILE + s0..p * COL_TILE + s0 + width];
            for (acc_j, &b_pj) in acc.iter_mut().zip(b_row) {
                *acc_j += a_ip * b_pj;
            }
        }
    }
    for (c_ij, acc_j) in c_strip.iter_mut().zip(acc) {
        *c_ij += acc_j;
    }
}
