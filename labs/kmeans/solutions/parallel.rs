//! Rung 3: rayon over fixed chunks of points, the inertia reduced in chunk order.
//!
//! Points are independent, so each chunk of [`INERTIA_CHUNK`] points is one task (the simd
//! rung's loop). The inertia is where determinism could slip: a parallel `sum()` adds in an order
//! that depends on how rayon split the work, and f64 addition is not associative. Here every
//! chunk writes its own sum to its own slot, and the slots are added in order afterwards: the
//! same bits on any number of threads.

use rayon::prelude::*;

use crate::gemm::buffers::Pool;
use crate::kmeans::solutions::simd::assign_points_at;
use crate::kmeans::{Answer, INERTIA_CHUNK, Inputs, chunk_inertia};
use crate::simd;

/// The chunks' inertia sums, reused from call to call.
static SUMS: Pool<Vec<f64>> = Pool::new();

pub fn assign(inputs: &Inputs, answer: &mut Answer) {
    inputs.shape.assert_fits(inputs, answer);
    let level = simd::simd_level();
    let chunks = inputs.shape.n.div_ceil(INERTIA_CHUNK);
    SUMS.with(|sums| {
        sums.resize(chunks, 0.0);
        let work = answer.labels.par_chunks_mut(INERTIA_CHUNK).zip(answer.distances.par_chunks_mut(INERTIA_CHUNK));
        work.zip(sums.par_iter_mut()).enumerate().for_each(|(chunk, ((labels, distances), sum))| {
            assign_points_at(level, inputs, chunk * INERTIA_CHUNK, labels, distances);
            *sum = chunk_inertia(distances);
        });
        *answer.inertia = sums.iter().sum();
    });
}
