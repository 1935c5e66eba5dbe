//! Exercise: rayon over chunks of points, with a deterministic inertia. Reference:
//! `../solutions/parallel.rs` (peek only when stuck).
//!
//! Stuck? `cargo lab hint kmeans your-parallel` reveals one hint at a time.
//!
//! Goal: every core busy, and labels and inertia that are the same bits on any thread count. `cargo
//! lab status` shows the goal `cargo lab check` measures (`exercises.toml` beside this file holds
//! every hint too, so ask for them one at a time instead of opening it); `cargo lab bench kmeans
//! --variant your-parallel --variant parallel --threads 2` shows yours beside the reference.
//!
//! TODO 1. Split `answer.labels` and `answer.distances` with `par_chunks_mut(INERTIA_CHUNK)`,
//!         zip them, enumerate, and label each chunk's points. Use the simd rung's chunk kernel
//!         (yours from `exercises/simd.rs` once it is as fast, or the reference's): this rung is
//!         about scaling, and a slow serial loop scales just as well while staying slow.
//!         Check: `cargo lab check kmeans your-parallel`
//! TODO 2. Compute the inertia with a parallel `sum()` and run it in pools of 1, 2 and 3 threads:
//!         do the bits of the inertia agree? (`../tests.rs` compares them for the reference in
//!         `labels_and_inertia_are_the_same_bits_on_any_number_of_threads`: point a copy of that
//!         test at `exercises::parallel::assign`.) Summed in f64, f32 distances often add up
//!         exactly and the bits agree by luck (a learner's five shapes all did); sum in f32
//!         once to see the order show. The bits must not depend on luck: TODO 3 fixes the order.
//!         Check: `cargo lab check kmeans your-parallel` (its oracle accepts any inertia within
//!         the error bounds, so the bits are for your copy of the test to compare)
//! TODO 3. Give each chunk its own slot for its sum (`chunk_inertia`), then add the slots in
//!         order: the order no longer depends on the split. Keep the slots in a buffer reused
//!         across calls (`crate::gemm::buffers::Pool`).
//!         Check: `cargo lab check kmeans your-parallel`, and your copy of the test: same bits now?

use crate::kmeans::{Answer, Inputs, naive};

/// Every point's nearest centroid. Replace the body with your parallel version.
pub fn assign(inputs: &Inputs, answer: &mut Answer) {
    naive::assign(inputs, answer);
}
