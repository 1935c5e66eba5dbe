//! Exercise: tiles and ‖c‖² − 2·x·c for the argmin, kept exact. Reference:
//! `../solutions/blocked.rs` (peek only when stuck).
//!
//! Stuck? `cargo lab hint kmeans your-blocked` reveals one hint at a time.
//!
//! Goal: inner products for a tile of points × a tile of centroids while both are in cache, and
//! exactly the direct form's labels, also on `--data shifted`. `cargo lab status` shows the goal
//! `cargo lab check` measures (`exercises.toml` beside this file holds every hint too, so ask for
//! them one at a time instead of opening it); `cargo lab bench kmeans --variant your-blocked
//! --variant blocked --size n=200000,k=64 --data shifted` shows yours beside the reference.
//!
//! TODO 1. ‖c‖² once per call. For a tile of points × a tile of centroids, the inner products
//!         into a small array; each point's label is the argmin of ‖c‖² − 2·x·c (why may ‖x‖² be
//!         left out?); its distance is ‖x‖² plus that minimum.
//!         Check: `cargo lab check kmeans your-blocked` (the shifted sizes fail: TODO 2)
//! TODO 2. Look at the `data=shifted` sizes that fail: how large are ‖x‖² and ‖c‖² there, and how
//!         large is the gap between the two nearest centroids?
//!         Check: `cargo lab check kmeans your-blocked` names the first wrong point
//! TODO 3. Centre both sets (the centre and the bound are in `crate::distance::exact`), filter with the
//!         bound, and compute the direct form for the survivors: the answer is then exact, and
//!         the distance returned is the direct form's.
//!         Check: `cargo lab check kmeans your-blocked` (now the shifted sizes pass too)
//!
//! Rules: the assignment is 1-nearest-neighbour search with the centroids as the training set;
//! the shared pieces are in `crate::distance` (`exact`, `dot`, `squared_distance`). Scratch buffers reused across calls keep the allocation column at
//! zero (`crate::gemm::buffers::Pool`).

use crate::kmeans::{Answer, Inputs, naive};

/// Every point's nearest centroid. Replace the body with your blocked version.
pub fn assign(inputs: &Inputs, answer: &mut Answer) {
    naive::assign(inputs, answer);
}
