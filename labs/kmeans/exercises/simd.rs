//! Exercise: a SIMD distance kernel for the assignment. Reference: `../solutions/simd.rs`.
//!
//! Goal: each point's k distances at 8 or 16 coordinates per instruction. Check: `cargo test
//! --release -p perflab-labs --test every_lab`, then
//! `cargo lab bench kmeans --variant your-simd --variant simd --size n=200000,k=64`.
//!
//! TODO 1. Start from `naive.rs`: for each point, for each centroid, the distance, a strict `<`
//!         to keep the lower centroid on a tie; then `inertia_of(answer.distances)`.
//! TODO 2. Write the distance generic over `V: F32Vec` (see `crate::simd`), marked
//!         `#[inline(always)]`: per `V::LANES` coordinates `V::load` both rows, `sub`, `mul_add`;
//!         `acc.sum()` and a scalar loop over the `d % LANES` left at the end. (The k-NN lab's
//!         `knn::solutions::simd::distances` is one; write your own first.)
//! TODO 3. Dispatch at run time: a struct with the arguments implementing
//!         `crate::simd::WithSimd`, run with `crate::simd::dispatch(crate::simd::simd_level(), it)`.
//! TODO 4. Four centroids per pass, sharing each load of the point: four accumulators. Measure.
//!
//! Hints: no closures inside the `#[target_feature]` code (a closure handed to a library
//! function is compiled without the caller's features, so every intrinsic in it becomes a call).
//! Check lengths once at the top (`inputs.shape.assert_fits(inputs, answer)`).

use crate::kmeans::{Answer, Inputs, naive};

/// Every point's nearest centroid. Replace the body with your SIMD version.
pub fn assign(inputs: &Inputs, answer: &mut Answer) {
    naive::assign(inputs, answer);
}
