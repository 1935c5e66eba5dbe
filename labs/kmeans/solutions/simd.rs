//! Rung 1: an explicit SIMD distance kernel (`crate::distance::distances`, the one k-NN's simd
//! rung uses), four centroids per pass so that each load of the point serves four distances.
//!
//! The point is the shared operand here (one point against every centroid), and ‖x − c‖² =
//! ‖c − x‖² bit for bit, so the same kernel serves with the roles swapped.

use crate::distance::distances;
use crate::kmeans::{Answer, Inputs, inertia_of};
use crate::simd::{self, F32Vec, SimdLevel, WithSimd};

/// Centroids per pass.
const CENTROIDS_PER_STEP: usize = 4;

pub fn assign(inputs: &Inputs, answer: &mut Answer) {
    assign_at(simd::simd_level(), inputs, answer);
}

/// The simd rung at an explicit SIMD level (tests run every level the CPU has).
///
/// # Panics
/// If the CPU lacks `level`, or the buffers do not fit the shape.
pub fn assign_at(level: SimdLevel, inputs: &Inputs, answer: &mut Answer) {
    inputs.shape.assert_fits(inputs, answer);
    assign_points_at(level, inputs, 0, answer.labels, answer.distances);
    *answer.inertia = inertia_of(answer.distances);
}

/// Labels and distances of the points `first..first + labels.len()`: the building block of the
/// `parallel` rung, which hands each thread a chunk.
///
/// # Panics
/// If the CPU lacks `level`, or the chunk reaches past the points.
pub fn assign_points_at(level: SimdLevel, inputs: &Inputs, first: usize, labels: &mut [u32], distances: &mut [f32]) {
    assert!(labels.len() == distances.len() && first + labels.len() <= inputs.shape.n, "the chunk fits the points");
    simd::dispatch(level, Chunk { inputs, first, labels, distances });
}

struct Chunk<'c, 'a> {
    inputs: &'c Inputs<'a>,
    first: usize,
    labels: &'c mut [u32],
    distances: &'c mut [f32],
}

impl WithSimd for Chunk<'_, '_> {
    type Output = ();

    #[inline(always)]
    unsafe fn run<V: F32Vec>(self) {
        let Chunk { inputs, first, labels, distances: out } = self;
        let k = inputs.shape.k;
        for (j, (label, distance)) in labels.iter_mut().zip(out.iter_mut()).enumerate() {
            let point = inputs.point(first + j);
            let (mut best, mut best_distance) = (0, f32::INFINITY);
            let mut c = 0;
            while c + CENTROIDS_PER_STEP <= k {
                let centroids =
                    [inputs.centroid(c), inputs.centroid(c + 1), inputs.centroid(c + 2), inputs.centroid(c + 3)];
                // SAFETY: `dispatch` enabled V; every row has d floats.
                let found = unsafe { distances::<V, CENTROIDS_PER_STEP>(point, centroids) };
                for (step, &candidate) in found.iter().enumerate() {
                    if candidate < best_distance {
                        (best, best_distance) = (c + step, candidate);
                    }
                }
                c += CENTROIDS_PER_STEP;
            }
            for c in c..k {
                // SAFETY: as above.
                let [candidate] = unsafe { distances::<V, 1>(point, [inputs.centroid(c)]) };
                if candidate < best_distance {
                    (best, best_distance) = (c, candidate);
                }
            }
            *label = best as u32;
            *distance = best_distance;
        }
    }
}
