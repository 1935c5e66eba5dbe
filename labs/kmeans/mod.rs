//! Lab 3: k-means, the assignment step (Lloyd's iterations with bounds come next).
//!
//! Points X (n×d, row-major f32) and centroids C (k×d). The assignment returns, for every point,
//! the index of the nearest centroid (squared L2, ties to the lower index) and its squared
//! distance, and the inertia: their sum, accumulated in f64 in a fixed order ([`inertia_of`]),
//! so that labels and inertia are the same bits for any thread count.
//!
//! The assignment is 1-nearest-neighbour search with the centroids as the training set, so the
//! k-NN lab's building blocks serve here too (the SIMD distance kernel, the error bound, the
//! exact expanded form: `crate::distance`, shared by both labs). What
//! changes is the shape: n is large (10⁶) and k small (8 to 256), so the work is spread over the
//! points, and the selection is an argmin.
//!
//! | rung | file | idea |
//! |---|---|---|
//! | naive | `naive.rs` | for each point, for each centroid, a scalar distance; keep the minimum |
//! | simd | `solutions/simd.rs` | SIMD distances, four centroids per pass |
//! | blocked | `solutions/blocked.rs` | ‖c‖² − 2·x·c on tiles of 16 points × 256 centroids, kept exact |
//! | parallel | `solutions/parallel.rs` | rayon over fixed chunks, inertia reduced in chunk order |
//! | best | `solutions/best.rs` | packed micro-kernel, points as lanes, a two-smallest argmin epilogue; the direct form for few centroids or k·d ≤ 1024 (≤ 2048 on AMD's Zen) |

pub mod exercises;
pub(crate) mod lab;
pub mod naive;
pub mod solutions;
#[cfg(test)]
mod tests;

pub use crate::assignment::{
    Answer, AssignError as KmeansError, DataSet, INERTIA_CHUNK, Inputs, Shape, check, check_shape, check_values,
    chunk_inertia, generate, inertia_of,
};
pub use lab::{Kmeans, parse_size};

use crate::lab::Variant;

/// Every assignment kernel has this signature. Kernels may assume [`Shape::check`] passed (the
/// checked entry point [`assign`] makes sure) and must overwrite every label, distance and the
/// inertia.
pub type Kernel = fn(inputs: &Inputs, answer: &mut Answer);

/// The lab's variants, in ladder order: the harness, the tests and the benches all use this table.
pub fn variants() -> Vec<Variant<Kernel>> {
    use solutions::{best, blocked, parallel, simd};
    vec![
        Variant::baseline("naive", "for each point, for each centroid: a scalar distance", naive::assign as Kernel),
        Variant::exercise("your-simd", "simd", exercises::simd::assign),
        Variant::reference("simd", "SIMD distances, four centroids per pass", simd::assign),
        Variant::exercise("your-blocked", "blocked", exercises::blocked::assign),
        Variant::reference("blocked", "tiles, ‖c‖² − 2·x·c, exact re-ranking", blocked::assign),
        Variant::exercise("your-parallel", "parallel", exercises::parallel::assign as Kernel).on_all_cores(),
        Variant::reference("parallel", "rayon over fixed chunks, inertia in chunk order", parallel::assign as Kernel)
            .on_all_cores(),
        Variant::reference("best", "packed micro-kernel, points as lanes, fused argmin, rayon", best::assign as Kernel)
            .on_all_cores(),
    ]
}

/// The checked entry point: validates sizes, lengths and finiteness, then runs `kernel`.
pub fn assign(kernel: Kernel, inputs: &Inputs, answer: &mut Answer) -> Result<(), KmeansError> {
    inputs.shape.check(inputs, answer)?;
    check_values(inputs.points, inputs.centroids, inputs.shape.d)?;
    kernel(inputs, answer);
    Ok(())
}
