//! Rung 0, the interview answer: for each point, for each centroid, a scalar distance loop; keep
//! the minimum (strict `<`, so the lower index wins a tie). O(n·k·d), nothing allocated: the
//! next rungs change only how fast each distance is computed and how the work is shared.
//!
//! The search for one point is a function of its own and kept out of line, so that a profile
//! (`cargo lab profile kmeans naive`) shows its two parts as frames: `nearest` (the argmin loop)
//! and `squared_distance` under it (the distances, where the time goes).

use super::{Answer, Inputs, inertia_of};
use crate::distance::squared_distance;

pub fn assign(inputs: &Inputs, answer: &mut Answer) {
    for i in 0..inputs.shape.n {
        let (label, distance) = nearest(inputs, inputs.point(i));
        answer.labels[i] = label;
        answer.distances[i] = distance;
    }
    *answer.inertia = inertia_of(answer.distances);
}

/// The nearest centroid to `point` and its squared distance: the argmin over all k.
#[inline(never)]
fn nearest(inputs: &Inputs, point: &[f32]) -> (u32, f32) {
    let (mut best, mut best_distance) = (0, f32::INFINITY);
    for c in 0..inputs.shape.k {
        let distance = squared_distance(point, inputs.centroid(c));
        if distance < best_distance {
            (best, best_distance) = (c, distance);
        }
    }
    (best as u32, best_distance)
}
