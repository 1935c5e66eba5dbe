//! Rung 2: cache blocking (tiling).
//!
//! In the i-k-j loop every row of C streams the whole of B through the cache: for n = 1024
//! that is 4 MiB per row, far more than L1 (32-48 KiB) or L2 (1-2 MiB) hold, so B comes from L3
//! or memory m times. Tiling cuts B into `DEPTH_TILE × COL_TILE` tiles small enough to stay in
//! L2 while *every* row of A uses them, so each tile is fetched from far away once.

use crate::matmul::Shape;

/// Columns of B and C per tile. A 256-float slice of a C row (1 KiB) stays in L1 while the
/// depth loop below updates it `DEPTH_TILE` times.
const COL_TILE: usize = 256;
/// Rows of B (the depth, k) per tile. The B tile is 128 × 256 floats = 128 KiB: it fits in L2
/// (1 MiB on Zen 4, 1.25-2 MiB on recent Intel) with room for the rows of A and C passing by.
const DEPTH_TILE: usize = 128;

/// C = A·B, i-k-j order inside tiles of B.
pub fn matmul(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    let Shape { m, k, n } = shape;
    c.fill(0.0);
    for j0 in (0..n).step_by(COL_TILE) {
        let j1 = (j0 + COL_TILE).min(n);
        for p0 in (0..k).step_by(DEPTH_TILE) {
            let p1 = (p0 + DEPTH_TILE).min(k);
            // The tile B[p0..p1, j0..j1] is now reused by all m rows.
            for i in 0..m {
                let c_row = &mut c[i * n + j0..i * n + j1];
                for p in p0..p1 {
                    let a_ip = a[i * k + p];
                    let b_row = &b[p * n + j0..p * n + j1];
                    for (c_ij, &b_pj) in c_row.iter_mut().zip(b_row) {
                        *c_ij += a_ip * b_pj;
                    }
                }
            }
        }
    }
}
