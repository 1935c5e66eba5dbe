//! Exercise: tiles and ‖c‖² − 2·x·c for the argmin, kept exact. Reference:
//! `../solutions/blocked.rs` (which reuses the k-NN lab's blocked rung: read both).
//!
//! Goal: inner products for a tile of points × a tile of centroids while both are in cache, and
//! exactly the direct form's labels, also on `--data shifted`. Check: `cargo test --release -p
//! perflab-labs --test every_lab`, then `cargo lab bench kmeans --variant your-blocked --variant
//! blocked --size n=200000,k=64 --data shifted`.
//!
//! TODO 1. ‖c‖² once per call. For a tile of 16 points × 64 centroids, the inner products into a
//!         small array; each point's label is the argmin of ‖c‖² − 2·x·c (why may ‖x‖² be left
//!         out?); its distance is ‖x‖² plus that minimum.
//! TODO 2. Try `--data shifted`: the tests fail. How large are ‖x‖² and ‖c‖² there, and how
//!         large is the gap between the two nearest centroids?
//! TODO 3. Centre both sets (`crate::knn::exact::centre` works on any rows), filter with the
//!         bound of `crate::knn::exact`, and compute the direct form for the survivors: the
//!         answer is then exact, and the distance returned is the direct form's.
//!
//! Hints: the assignment is 1-nearest-neighbour search with the centroids as the training set.

use crate::kmeans::{Answer, Inputs, naive};

/// Every point's nearest centroid. Replace the body with your blocked version.
pub fn assign(inputs: &Inputs, answer: &mut Answer) {
    naive::assign(inputs, answer);
}
