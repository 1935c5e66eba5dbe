//! Exercise: a SIMD distance kernel, and a threshold test before the heap. Reference:
//! `../solutions/simd.rs` (peek only when stuck).
//!
//! Stuck? `cargo lab hint knn your-simd` reveals one hint at a time.
//!
//! Goal: the distance loop does 8 or 16 coordinates per instruction, and the heap is touched only
//! by the few points that beat the current k-th best. `cargo lab status` shows the goal `cargo lab
//! check` measures (`exercises.toml` beside this file holds every hint too, so ask for them one at
//! a time instead of opening it); `cargo lab bench knn --variant your-simd --variant simd` shows
//! yours beside the reference.
//!
//! TODO 1. Start from `select` (`../solutions/select.rs`): per query, a `TopK` over the query's
//!         answer slots (`answer.query_mut(q, k)`), every point pushed, `into_sorted`, `vote`.
//!         Make it work here first (already faster than naive, with no allocation: why?).
//!         Check: `cargo lab check knn your-simd`
//! TODO 2. Write the distance once, generic over `V: F32Vec` (see `crate::simd`):
//!         `unsafe fn distance<V: F32Vec>(query: &[f32], point: &[f32]) -> f32`, marked
//!         `#[inline(always)]`. Per step of `V::LANES` coordinates: `V::load` both, `sub`, then
//!         `mul_add(diff, diff, acc)`. At the end `acc.sum()`, plus a scalar loop over the
//!         `d % LANES` coordinates left.
//!         Check: call it as `distance::<crate::simd::Scalar8>` in your query loop (portable: no
//!         dispatch needed yet), then `cargo lab check knn your-simd` (its edge sizes have d off
//!         every lane width)
//! TODO 3. Dispatch at run time: put the arguments in a struct, implement
//!         `crate::simd::WithSimd` for it (its `run::<V>` holds your query loop; mark it
//!         `#[inline(always)]`), and call `crate::simd::dispatch(crate::simd::simd_level(), it)`.
//!         Check: `cargo lab check knn your-simd` (it runs every SIMD level the CPU has)
//! TODO 4. How many points per query can still enter the heap once it is full? Count them
//!         (compare each distance with `top.threshold()`). `TopK::push` (`../topk.rs`) already
//!         makes that test before it sifts: read its first line, and say why almost every call
//!         costs one comparison. (A test of your own in the loop saves only the call: measure.)
//!         Check: `cargo lab check knn your-simd`
//! TODO 5. Several points per pass, sharing each load of the query: one pass over q gives four
//!         distances, from four independent accumulator chains. Compare it with four accumulators
//!         for one point (`cargo lab bench knn --variant your-simd --variant simd --threads 1`): a
//!         learner's run measured no gain from the accumulators at d = 64 and about +25% from four
//!         points per pass. Why does one beat the other?
//!         Check: `cargo lab check knn your-simd`
//!
//! Rules: check lengths once at the top (`inputs.shape.assert_fits(inputs, answer)`) so raw
//! pointer loads inside `unsafe` are sound, and say so in a `// SAFETY:` comment (clippy checks
//! it). Never build with `-C target-cpu=native` to make it work: runtime dispatch is the point.

use crate::knn::{Answer, Inputs, naive};

/// The k nearest neighbours of every query. Replace the body with your SIMD version.
pub fn knn(inputs: &Inputs, answer: &mut Answer) {
    naive::knn(inputs, answer);
}
