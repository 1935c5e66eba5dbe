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
//! | best | `solutions/best.rs` | packed micro-kernel, points as lanes, a two-smallest argmin epilogue |

pub mod check;
pub mod exercises;
pub(crate) mod lab;
pub mod lloyd;
pub mod naive;
pub mod solutions;
#[cfg(test)]
mod tests;

use std::fmt;

use rayon::iter::Either;
use rayon::prelude::*;

pub use lab::{DataSet, Kmeans, generate, parse_size};

use crate::gemm::buffers::Pool;
use crate::input_error::{InputError, ensure_in_range};
use crate::lab::Variant;

/// The sizes of one assignment: n points and k centroids of d coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    pub n: usize,
    pub d: usize,
    pub k: usize,
}

impl Shape {
    /// Equivalent floating-point work: 2 flops per coordinate of every (point, centroid) pair.
    pub fn flops(&self) -> f64 {
        2.0 * self.n as f64 * self.k as f64 * self.d as f64
    }

    /// Checks the sizes and the buffers' lengths: everything a kernel may assume.
    pub fn check(&self, inputs: &Inputs, answer: &Answer) -> Result<(), KmeansError> {
        let Shape { n, d, k } = *self;
        if d == 0 {
            return Err(KmeansError::NoCoordinates);
        }
        if k == 0 || k > n || k > u32::MAX as usize {
            return Err(KmeansError::BadK { k, n, k_is: "centroids", n_is: "points" });
        }
        let len = |rows: usize| rows.checked_mul(d).ok_or(KmeansError::TooLarge { shape: *self });
        let expected = [
            ("points", len(n)?, inputs.points.len()),
            ("centroids", len(k)?, inputs.centroids.len()),
            ("labels", n, answer.labels.len()),
            ("distances", n, answer.distances.len()),
        ];
        for (what, expected, got) in expected {
            if expected != got {
                return Err(KmeansError::Length { what, shape: *self, expected, got });
            }
        }
        Ok(())
    }

    /// Panics with a clear message unless sizes and buffers agree.
    pub fn assert_fits(&self, inputs: &Inputs, answer: &Answer) {
        if let Err(err) = self.check(inputs, answer) {
            panic!("{err}");
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n={},d={},k={}", self.n, self.d, self.k)
    }
}

/// The inputs of one assignment.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    pub shape: Shape,
    pub points: &'a [f32],
    pub centroids: &'a [f32],
}

impl<'a> Inputs<'a> {
    /// Point `i`.
    #[inline(always)]
    pub fn point(&self, i: usize) -> &'a [f32] {
        &self.points[i * self.shape.d..][..self.shape.d]
    }

    /// Centroid `c`.
    #[inline(always)]
    pub fn centroid(&self, c: usize) -> &'a [f32] {
        &self.centroids[c * self.shape.d..][..self.shape.d]
    }
}

/// Where a kernel writes its answer: every point's label and squared distance, and the inertia.
#[derive(Debug)]
pub struct Answer<'a> {
    pub labels: &'a mut [u32],
    pub distances: &'a mut [f32],
    pub inertia: &'a mut f64,
}

/// Why an assignment was refused.
pub type KmeansError = InputError<Shape>;

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

/// The input contract on values (beside the shapes): finite coordinates, and no row longer than
/// [`crate::input_error::MAX_ROW_NORM`].
pub fn check_values(points: &[f32], centroids: &[f32], d: usize) -> Result<(), KmeansError> {
    ensure_in_range("points", points, d)?;
    ensure_in_range("centroids", centroids, d)
}

/// Points per inertia chunk: the sum runs in f64 within each chunk, and the chunks' sums are
/// added in chunk order. Fixed, so the result never depends on how work was split.
pub const INERTIA_CHUNK: usize = 4096;

/// The chunks' inertia sums of [`assign_in_chunks`], reused from call to call.
static CHUNK_SUMS: Pool<Vec<f64>> = Pool::new();

/// Runs `assign_chunk(first, labels, distances, runner_up)` on every chunk of [`INERTIA_CHUNK`]
/// points (rayon; `first` is the chunk's first point, `runner_up` its part of the optional
/// runner-up output), then sets the inertia: each chunk's sum in a slot of its own, the slots
/// added in order, so the bits never depend on how rayon split the work. The `parallel` rung
/// spells this out for the learner; `best`'s two paths share it here.
pub(crate) fn assign_in_chunks(
    answer: &mut Answer,
    runner_up: Option<&mut [f32]>,
    assign_chunk: impl Fn(usize, &mut [u32], &mut [f32], Option<&mut [f32]>) + Sync,
) {
    let chunks = answer.labels.len().div_ceil(INERTIA_CHUNK);
    let runner_up = match runner_up {
        Some(slice) => Either::Left(slice.par_chunks_mut(INERTIA_CHUNK).map(Some)),
        None => Either::Right((0..chunks).into_par_iter().map(|_| None)),
    };
    CHUNK_SUMS.with(|sums| {
        sums.resize(chunks, 0.0);
        let work = answer.labels.par_chunks_mut(INERTIA_CHUNK).zip(answer.distances.par_chunks_mut(INERTIA_CHUNK));
        work.zip(runner_up).zip(sums.par_iter_mut()).enumerate().for_each(
            |(chunk, (((labels, distances), runner_up), sum))| {
                assign_chunk(chunk * INERTIA_CHUNK, labels, distances, runner_up);
                *sum = chunk_inertia(distances);
            },
        );
        *answer.inertia = sums.iter().sum();
    });
}

/// The inertia of `distances`, in the fixed order every variant uses.
pub fn inertia_of(distances: &[f32]) -> f64 {
    distances.chunks(INERTIA_CHUNK).map(chunk_inertia).sum()
}

/// One chunk's share of the inertia (see [`inertia_of`]).
pub fn chunk_inertia(distances: &[f32]) -> f64 {
    distances.iter().map(|&d| d as f64).sum()
}
