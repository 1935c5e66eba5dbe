//! Exercise: tiles and the expanded form ‖q‖² + ‖x‖² − 2·q·x, kept exact. Reference:
//! `../solutions/blocked.rs` (peek only when stuck), and `../exact.rs` for why the fix works.
//!
//! Stuck? `cargo lab hint knn your-blocked` reveals one hint at a time.
//!
//! Goal: compute inner products for a tile of queries × a tile of points while both are in cache,
//! and return exactly the direct form's answer, also on `--data shifted`. `cargo lab status` shows
//! the goal `cargo lab check` measures (`exercises.toml` beside this file holds every hint too, so
//! ask for them one at a time instead of opening it); `cargo lab bench knn --variant your-blocked
//! --variant blocked --data shifted` shows yours beside the reference.
//!
//! TODO 1. Norms once per call: for every point and query, ‖row‖². Then, for a tile of queries ×
//!         a tile of points, the tile's inner products into a small array on the stack, and the
//!         distance `‖q‖² + ‖x‖² − 2·q·x` pushed into each query's `TopK` (use `TopK::new` at
//!         the start of a query tile and `TopK::resume` for every later point tile). How large
//!         may each tile be, and which cache should each stay in?
//!         Check: `cargo lab check knn your-blocked` (the normal-data sizes pass; the shifted
//!         ones fail, which is TODO 2)
//! TODO 2. Look at the `data=shifted` sizes that fail (they are among the edge sizes). Print a few
//!         expanded distances next to `squared_distance`: how large is the error, and how large
//!         are ‖q‖² and ‖x‖²?
//!         Check: `cargo lab check knn your-blocked` names the first wrong query
//! TODO 3. Centre: subtract `crate::distance::exact::centre` from every point and query (copies,
//!         made once per call), and compute the norms of the centred rows. Better, not exact:
//!         why not? (`exact.rs` has the error of the centred form.)
//!         Check: `cargo lab check knn your-blocked`
//! TODO 4. Filter and re-rank: skip a pair whose lower bound (the expanded form minus its error
//!         bound, `exact.rs`) cannot beat the k-th best so far, and push the direct form
//!         `squared_distance(q, x)` on the original rows for every other pair. Read `exact.rs`
//!         first: why is the test safe, and why does it cost no more per pair than the expanded
//!         form itself?
//!         Check: `cargo lab check knn your-blocked` (now every shifted size passes too)
//! TODO 5. Write the dot product with several partial sums so that the compiler vectorises it.
//!         Why can it not vectorise a single running sum of floats on its own?
//!         Check: `cargo lab check knn your-blocked`
//!
//! Rules: scratch buffers reused across calls keep the allocation column at zero
//! (a `static` `crate::gemm::buffers::Pool<AlignedBuffer>`: warm whichever thread runs the call).

use crate::knn::{Answer, Inputs, naive};

/// The k nearest neighbours of every query. Replace the body with your blocked version.
pub fn knn(inputs: &Inputs, answer: &mut Answer) {
    naive::knn(inputs, answer);
}
