//! Rung 0, the interview answer: for each point, for each centroid, a scalar distance loop; keep
//! the minimum (strict `<`, so the lower index wins a tie). O(n·k·d), nothing allocated: the
//! next rungs change only how fast each distance is computed and how the work is shared.

use super::{Answer, Inputs, inertia_of};
use crate::knn::squared_distance;

pub fn assign(inputs: &Inputs, answer: &mut Answer) {
    for i in 0..inputs.shape.n {
        let point = inputs.point(i);
        let (mut best, mut best_distance) = (0, f32::INFINITY);
        for c in 0..inputs.shape.k {
            let distance = squared_distance(point, inputs.centroid(c));
            if distance < best_distance {
                (best, best_distance) = (c, distance);
            }
        }
        answer.labels[i] = best as u32;
        answer.distances[i] = best_distance;
    }
    *answer.inertia = inertia_of(answer.distances);
}
