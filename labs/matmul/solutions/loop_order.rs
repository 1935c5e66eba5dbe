//! Rung 1: the loop-order fix, i-k-j.
//!
//! Swapping the two inner loops turns the dot product into a row update:
//! `C[i, :] += A[i, p] * B[p, :]`. Now the innermost loop walks a row of B and a row of C with
//! unit stride, every cache line is used in full, and the compiler can vectorise the loop.
//! Same arithmetic, same result (up to rounding order), several times faster.

use crate::matmul::Shape;

/// C = A·B with the i-k-j loop order.
pub fn matmul(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    let Shape { m, k, n } = shape;
    for i in 0..m {
        row_times_b(&a[i * k..(i + 1) * k], b, &mut c[i * n..(i + 1) * n]);
    }
}

/// `c_row = a_row · B`: one row of C, accumulated one row of B at a time.
pub(crate) fn row_times_b(a_row: &[f32], b: &[f32], c_row: &mut [f32]) {
    let n = c_row.len();
    c_row.fill(0.0);
    for (p, &a_ip) in a_row.iter().enumerate() {
        let b_row = &b[p * n..(p + 1) * n];
        // A unit-stride `c += a * b` over the row: the loop the compiler vectorises.
        for (c_ij, &b_pj) in c_row.iter_mut().zip(b_row) {
            *c_ij += a_ip * b_pj;
        }
    }
}
