//! Exercise: a SIMD distance kernel for the assignment. Reference: `../solutions/simd.rs` (peek
//! only when stuck).
//!
//! Stuck? `cargo lab hint kmeans your-simd` reveals one hint at a time.
//!
//! Goal: each point's k distances at 8 or 16 coordinates per instruction. `cargo lab status` shows
//! the goal `cargo lab check` measures (`exercises.toml` beside this file holds every hint too, so
//! ask for them one at a time instead of opening it); `cargo lab bench kmeans --variant your-simd
//! --variant simd --size n=200000,k=64` shows yours beside the reference.
//!
//! TODO 1. Start from `naive.rs`: for each point, for each centroid, the distance, a strict `<`
//!         to keep the lower centroid on a tie, as every reference does (the check cannot insist:
//!         it accepts either centroid of a near tie, which rounding may decide either way); then
//!         `inertia_of(answer.distances)`.
//!         Check: `cargo lab check kmeans your-simd`
//! TODO 2. Write the distance generic over `V: F32Vec` (see `crate::simd`), marked
//!         `#[inline(always)]`: per `V::LANES` coordinates `V::load` both rows, `sub`, `mul_add`;
//!         `acc.sum()` and a scalar loop over the `d % LANES` left at the end. (The k-NN lab's
//!         `crate::distance::distances` is one; write your own first.)
//!         Check: call it as `distance::<crate::simd::Scalar8>` (portable: no dispatch needed yet),
//!         then `cargo lab check kmeans your-simd` (its edge sizes have d off every lane width)
//! TODO 3. Dispatch at run time: a struct with the arguments implementing
//!         `crate::simd::WithSimd`, run with `crate::simd::dispatch(crate::simd::simd_level(), it)`.
//!         Check: `cargo lab check kmeans your-simd` (it runs every SIMD level the CPU has)
//! TODO 4. Several centroids per pass, sharing each load of the point: one accumulator each.
//!         Why should that help, when the arithmetic is the same? Measure with one, two and four.
//!         Check: `cargo lab check kmeans your-simd`
//!
//! Rules: no closures inside the `#[target_feature]` code (a closure handed to a library
//! function is compiled without the caller's features, so every intrinsic in it becomes a call).
//! Check lengths once at the top (`inputs.shape.assert_fits(inputs, answer)`), and say in a
//! `// SAFETY:` comment why each `unsafe` block is sound. Never build with `-C target-cpu=native`.

use crate::kmeans::{Answer, Inputs, naive};

/// Every point's nearest centroid. Replace the body with your SIMD version.
pub fn assign(inputs: &Inputs, answer: &mut Answer) {
    naive::assign(inputs, answer);
}
