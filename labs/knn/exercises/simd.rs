//! Exercise: a SIMD distance kernel, and a threshold test before the heap. Reference:
//! `../solutions/simd.rs`.
//!
//! Goal: the distance loop does 8 or 16 coordinates per instruction, and the heap is touched
//! only by the few points that beat the current k-th best. Check: `cargo test --release -p
//! perflab-labs --test every_lab`, then `cargo lab bench knn --variant your-simd --variant simd`.
//!
//! TODO 1. Start from `select` (`../solutions/select.rs`): per query, a `TopK` over the query's
//!         answer slots (`answer.query_mut(q, k)`), every point pushed, `into_sorted`, `vote`.
//!         Make it work here first (already faster than naive, with no allocation: why?).
//! TODO 2. Write the distance once, generic over `V: F32Vec` (see `crate::simd`):
//!         `unsafe fn distance<V: F32Vec>(query: &[f32], point: &[f32]) -> f32`, marked
//!         `#[inline(always)]`. Per step of `V::LANES` coordinates: `V::load` both, `sub`, then
//!         `mul_add(diff, diff, acc)`. At the end `acc.sum()`, plus a scalar loop over the
//!         `d % LANES` coordinates left.
//! TODO 3. Dispatch at run time: put the arguments in a struct, implement
//!         `crate::simd::WithSimd` for it (its `run::<V>` holds your query loop; mark it
//!         `#[inline(always)]`), and call `crate::simd::dispatch(crate::simd::simd_level(), it)`.
//! TODO 4. Test before you push: `if distance <= top.threshold() { top.push(..) }`. Almost every
//!         point fails the test once the heap is full: measure with and without it.
//! TODO 5. Two or four accumulators, or four points per pass sharing each load of the query:
//!         one accumulator is a chain of dependent FMAs (4 cycles each). Measure which helps.
//!
//! Hints: check lengths once at the top (`inputs.shape.assert_fits(inputs, answer)`) so raw
//! pointer loads inside `unsafe` are sound, and say so in a `// SAFETY:` comment (clippy checks
//! it). Never build with `-C target-cpu=native` to make it work: runtime dispatch is the point.

use crate::knn::{Answer, Inputs, naive};

/// The k nearest neighbours of every query. Replace the body with your SIMD version.
pub fn knn(inputs: &Inputs, answer: &mut Answer) {
    naive::knn(inputs, answer);
}
