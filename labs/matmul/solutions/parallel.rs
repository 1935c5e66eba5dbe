//! Rung 4: parallelism with rayon.
//!
//! Rows of C are independent, so they can be computed on different cores with no locking: each
//! task owns a band of rows of C and reads the shared A and B. Each band runs the i-k-j loop of
//! rung 1, so the speedup over `loop-order` is the parallel scaling alone. Bands, not single
//! rows, keep the per-task overhead small; rayon's work stealing balances them.

use rayon::prelude::*;

use crate::matmul::Shape;
use crate::matmul::solutions::loop_order::row_times_b;

/// Rows of C per rayon task: enough work per task (≥ 16·k·n multiply-adds) to amortise the
/// scheduling, few enough that 16 cores still get several tasks each at n = 1024.
const ROWS_PER_TASK: usize = 16;

/// C = A·B, bands of rows of C computed in parallel on the current rayon pool.
pub fn matmul(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
    let Shape { m, k, n } = shape;
    if m == 0 || n == 0 {
        return; // C is empty; par_chunks_mut refuses a chunk size of zero.
    }
    c.par_chunks_mut(ROWS_PER_TASK * n).enumerate().for_each(|(band, c_band)| {
        let first_row = band * ROWS_PER_TASK;
        for (r, c_row) in c_band.chunks_mut(n).enumerate() {
            let i = first_row + r;
            row_times_b(&a[i * k..(i + 1) * k], b, c_row);
        }
    });
}
