//! Rung 0, the baseline: the textbook i-j-k triple loop.
//!
//! Each element of C is a dot product of a row of A with a column of B. The row of A is read
//! with unit stride, but the column of B jumps `n` floats (a whole row) per step: every access
//! to B touches a new cache line, and a column of a large B does not stay in cache from one
//! `j` to the next. That, not the arithmetic, is what makes this slow.

use super::Shape;

/// C = A·B, one dot product per element of C.
pub fn matmul(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    let Shape { m, k, n } = shape;
    for i in 0..m {
        for j in 0..n {
            let mut sum = 0.0f32;
            for p in 0..k {
                sum += a[i * k + p] * b[p * n + j];
            }
            c[i * n + j] = sum;
        }
    }
}
