//! Exercise: Lloyd's iterations with Hamerly's bounds (lab `lloyd`). Reference:
//! `../solutions/hamerly.rs` (peek only when stuck).
//!
//! Stuck? `cargo lab hint lloyd your-hamerly` reveals one hint at a time.
//!
//! Goal: the same labels, centroids and inertia as plain Lloyd, bit for bit, with far fewer
//! distances: the report's note counts them per point and iteration (plain Lloyd: k). `cargo lab
//! status` shows the goal `cargo lab check` measures (`exercises.toml` beside this file holds every
//! hint too, so ask for them one at a time instead of opening it); `cargo lab bench lloyd --variant
//! lloyd --variant your-hamerly --variant hamerly` shows yours beside plain Lloyd and the
//! reference.
//!
//! TODO 1. Start from `solutions/lloyd.rs` (copy its loop): iteration 0 assigns every point,
//!         every iteration ends with `update`, which you must not change (it is what makes equal
//!         labels give equal bits). Set `answer.distance_computations`.
//!         Check: `cargo lab check lloyd your-hamerly` (every size is compared with plain Lloyd)
//! TODO 2. Keep per point `upper` (≥ the true distance to its centroid) and `lower` (≤ the true
//!         distance to every other centroid). After iteration 0: `upper` from the distance, and
//!         `lower` from the second smallest distance: `best::assign_with_runner_up` returns both.
//!         Distances or squared distances: which of the two obeys the triangle inequality?
//!         Check: `cargo lab check lloyd your-hamerly` (the bounds are not used yet: still green)
//! TODO 3. After each update, measure each centroid's drift ‖c_new − c_old‖. Then, per point,
//!         `upper += drift[label]` and `lower −= the largest drift of any other centroid`: why does
//!         the triangle inequality make these still true? How do you find "the largest drift of
//!         any other centroid" without a loop over the centroids for every point?
//!         Check: `cargo lab check lloyd your-hamerly`
//! TODO 4. Skip the point when `upper < lower`. Otherwise recompute `upper` exactly (one
//!         distance) and test again; only then compute its k distances: point by point, or for
//!         all the points still in doubt at once, as one assignment of their own (the flagship
//!         wants their rows in one buffer)? Count what you compute.
//!         Check: `cargo lab check lloyd your-hamerly`, and the distance counts in
//!         `cargo lab bench lloyd --variant lloyd --variant your-hamerly` (a rare mismatch with
//!         plain Lloyd here is what TODO 5 is for)
//! TODO 5. Make the skip exact, not just usually right: computed squared distances are within a
//!         factor 1 ± γ of the true ones, γ = `distance::bound::relative_bound(d)`, so skip only when
//!         even the worst rounding (the label's squared distance computed γ too high, the other's
//!         γ too low) keeps the order; and round every bound outwards when it becomes an f32.
//!         Without this, a near-tie now and then gets a different label from plain Lloyd, and
//!         every centroid after it differs: the check compares bits.
//!         Check: `cargo lab check lloyd your-hamerly`
//! TODO 6. Hamerly's second test: half the distance from a centroid to its nearest other one
//!         also bounds from below (why? if upper ≤ half that gap, can another centroid be
//!         nearer?). Use the larger of the two. Then parallelise the per-point pass over chunks
//!         with rayon.
//!         Check: `cargo lab check lloyd your-hamerly`, and the distance counts again
//!
//! Rules: keep the per-point state in buffers reused across calls (`crate::gemm::buffers::Pool`);
//! never change `update`.

use crate::lloyd::solutions::lloyd as plain;
use crate::lloyd::{Answer, Inputs};

/// T iterations of Lloyd. Replace the body with your version using bounds.
pub fn lloyd(inputs: &Inputs, answer: &mut Answer) {
    plain::lloyd(inputs, answer);
}
