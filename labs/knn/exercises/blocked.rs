//! Exercise: tiles and the expanded form ‖q‖² + ‖x‖² − 2·q·x, kept exact. Reference:
//! `../solutions/blocked.rs`, and `../exact.rs` for why the fix works.
//!
//! Goal: compute inner products for a tile of queries × a tile of points while both are in
//! cache, and return exactly the direct form's answer, also on `--data shifted`. Check:
//! `cargo test --release -p perflab-labs --test every_lab`, then
//! `cargo lab bench knn --variant your-blocked --variant blocked --data shifted`.
//!
//! TODO 1. Norms once per call: for every point and query, ‖row‖². Then, for a tile of 16
//!         queries × 256 points, the 16 × 256 inner products into a small array, and the
//!         distance `‖q‖² + ‖x‖² − 2·q·x` pushed into each query's `TopK` (use `TopK::new` at
//!         the start of a query tile and `TopK::resume` for every later point tile).
//! TODO 2. Run the tests with `--data shifted` sizes (they are among the edge sizes): they fail.
//!         Print a few expanded distances next to `squared_distance`: how large is the error,
//!         and how large are ‖q‖² and ‖x‖²?
//! TODO 3. Centre: subtract `crate::knn::exact::centre` from every point and query (copies,
//!         made once per call), and compute the norms of the centred rows. Better, not exact.
//! TODO 4. Filter and re-rank: keep a pair only when `(1−ε)‖x'‖² − 2·q'·x' ≤ t`, with
//!         `exact::norm_scale` and `exact::query_threshold` (read `exact.rs`: why is that a safe
//!         test?), and push the direct form `squared_distance(q, x)` on the original rows.
//! TODO 5. Write the dot product with eight partial sums so that the compiler vectorises it.
//!
//! Hints: scratch buffers reused across calls keep the allocation column at zero
//! (a `static` `crate::gemm::buffers::Pool<AlignedBuffer>`: warm whichever thread runs the call).

use crate::knn::{Answer, Inputs, naive};

/// The k nearest neighbours of every query. Replace the body with your blocked version.
pub fn knn(inputs: &Inputs, answer: &mut Answer) {
    naive::knn(inputs, answer);
}
