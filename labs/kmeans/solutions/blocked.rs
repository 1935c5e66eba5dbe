//! Rung 2: tiles and the expanded form, which for an argmin is ‖c‖² − 2·x·c: ‖x‖² is the same
//! for every centroid, so it leaves the comparison and comes back only for the distance.
//!
//! The assignment is 1-nearest-neighbour search with the centroids as the training set, so this
//! rung is the k-NN lab's `blocked` with k = 1 (`knn::solutions::blocked`): tiles of 16 points ×
//! 256 centroids, the products GEMM-shaped, and what keeps the expanded form exact far from the
//! origin (`knn::exact`: centring, a proven lower bound, re-ranking with the direct form). In its
//! filter `(1−ε)‖c'‖² − 2·x'·c' ≤ t` the point's norm sits in t, computed once per point and again
//! only when the best centroid so far changes: ‖x‖² out of the per-pair work, as promised.

use crate::gemm::buffers::Pool;
use crate::kmeans::{Answer, Inputs, inertia_of};
use crate::knn;

/// The k-NN kernel's class outputs (its vote, here the label again) and the centroids' own
/// indices as their classes, reused from call to call.
static SCRATCH: Pool<(Vec<u32>, Vec<u32>)> = Pool::new();

pub fn assign(inputs: &Inputs, answer: &mut Answer) {
    as_nearest_neighbour(knn::solutions::blocked::knn, inputs, answer);
}

/// Runs a k-NN kernel with k = 1, the centroids as training points and the points as queries.
pub(crate) fn as_nearest_neighbour(kernel: knn::Kernel, inputs: &Inputs, answer: &mut Answer) {
    inputs.shape.assert_fits(inputs, answer);
    let (n, d, k) = (inputs.shape.n, inputs.shape.d, inputs.shape.k);
    SCRATCH.with(|(classes, identity)| {
        classes.resize(n, 0);
        if identity.len() < k {
            identity.clear();
            identity.extend(0..k as u32);
        }
        let search = knn::Inputs {
            shape: knn::Shape { n: k, d, m: n, k: 1 },
            train: inputs.centroids,
            labels: &identity[..k],
            queries: inputs.points,
        };
        let mut found = knn::Answer { indices: answer.labels, distances: answer.distances, classes };
        kernel(&search, &mut found);
    });
    *answer.inertia = inertia_of(answer.distances);
}
