//! Lloyd, plain: every iteration assigns every point with the flagship (`best`: n·k distances,
//! at the speed of a GEMM), then updates the centroids. The baseline that the bounds of
//! `hamerly.rs` are measured against: the same labels, the same bits, fewer distances.

use crate::assignment::best;
use crate::gemm::buffers::Pool;
use crate::lloyd::{Answer, Inputs, update};
use crate::simd::{SimdLevel, simd_level};

/// The assignment's distances (the update computes the inertia itself).
static DISTANCES: Pool<Vec<f32>> = Pool::new();

pub fn lloyd(inputs: &Inputs, answer: &mut Answer) {
    lloyd_at(simd_level(), inputs, answer);
}

/// Plain Lloyd at an explicit SIMD level.
///
/// # Panics
/// If the CPU lacks `level`, or the buffers do not fit the shape.
pub fn lloyd_at(level: SimdLevel, inputs: &Inputs, answer: &mut Answer) {
    inputs.assert_fits(answer);
    let shape = inputs.shape;
    answer.centroids.copy_from_slice(inputs.initial);
    DISTANCES.with(|distances| {
        distances.resize(shape.n, 0.0);
        for t in 0..inputs.iterations {
            let mut inertia = 0.0;
            let mut assigned = crate::assignment::Answer { labels: answer.labels, distances, inertia: &mut inertia };
            best::assign_at(level, &inputs.assignment(answer.centroids), &mut assigned);
            answer.inertia[t] = update(level, inputs, answer.labels, answer.centroids);
        }
    });
    *answer.distance_computations = (shape.n * shape.k * inputs.iterations) as u64;
}
