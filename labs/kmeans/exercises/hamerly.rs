//! Exercise: Lloyd's iterations with Hamerly's bounds. Reference: `../solutions/hamerly.rs`.
//!
//! Goal: the same labels, centroids and inertia as plain Lloyd, bit for bit, with far fewer
//! distances: the report's note counts them per point and iteration (plain Lloyd: k). Check:
//! `cargo test --release -p perflab-labs --test every_lab` (every size is compared with plain
//! Lloyd), then `cargo lab bench lloyd --variant lloyd --variant your-hamerly --variant hamerly`.
//!
//! TODO 1. Start from `solutions/lloyd.rs` (copy its loop): iteration 0 assigns every point,
//!         every iteration ends with `update`, which you must not change (it is what makes equal
//!         labels give equal bits). Set `answer.distance_computations`.
//! TODO 2. Keep per point `upper` (≥ the true distance to its centroid) and `lower` (≤ the true
//!         distance to every other centroid). After iteration 0: `upper` from the distance, and
//!         `lower` from the second smallest distance: `best::assign_with_runner_up` returns both.
//! TODO 3. After each update, measure each centroid's drift ‖c_new − c_old‖. Then, per point,
//!         `upper += drift[label]` and `lower −= the largest drift of any other centroid`: why does
//!         the triangle inequality make these still true?
//! TODO 4. Skip the point when `upper < lower`. Otherwise recompute `upper` exactly (one
//!         distance) and test again; only then compute its k distances. Count what you compute.
//! TODO 5. Make the skip exact, not just usually right: computed squared distances are within
//!         γ = `knn::check::relative_bound(d)` of the true ones, so skip only when
//!         (1+γ)·upper² < (1−γ)·lower², and round every bound outwards when it becomes an f32.
//!         Without this, a near-tie now and then gets a different label from plain Lloyd, and
//!         every centroid after it differs: the test compares bits.
//! TODO 6. Hamerly's second test: half the distance from a centroid to its nearest other one
//!         also bounds from below (if upper ≤ gap/2, no other centroid can be nearer). Use the
//!         larger of the two. Then parallelise the per-point pass over chunks with rayon.
//!
//! Hints: the stale points' k distances are an assignment of their own: gather them and call the
//! flagship once per batch rather than point by point (it needs rows in one buffer). Keep the
//! per-point state in buffers reused across calls (`crate::gemm::buffers::Pool`).

use crate::kmeans::lloyd::{Answer, Inputs};
use crate::kmeans::solutions::lloyd as plain;

/// T iterations of Lloyd. Replace the body with your version using bounds.
pub fn lloyd(inputs: &Inputs, answer: &mut Answer) {
    plain::lloyd(inputs, answer);
}
