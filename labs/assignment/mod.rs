//! The nearest-centroid assignment, shared by the two k-means labs: its shape, inputs and answer
//! ([`Shape`], [`Inputs`], [`Answer`]), its oracle ([`check`]), the inputs both labs generate
//! ([`data`]), the fixed-order inertia, and the k-means lab's flagship ([`best`]), which is also
//! the assignment inside Lloyd's iterations (lab `lloyd`). The k-means lab (`labs/kmeans/`) climbs
//! the ladder to it; Lloyd's lab (`labs/lloyd/`) builds on it. No lab imports another.

pub mod best;
pub mod check;
pub mod data;

use std::fmt;

use rayon::iter::Either;
use rayon::prelude::*;

pub use data::{DataSet, check_shape, generate};

use crate::gemm::buffers::Pool;
use crate::input_error::{InputError, ensure_in_range};

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
    pub fn check(&self, inputs: &Inputs, answer: &Answer) -> Result<(), AssignError> {
        let Shape { n, d, k } = *self;
        if d == 0 {
            return Err(AssignError::NoCoordinates);
        }
        if k == 0 || k > n || k > u32::MAX as usize {
            return Err(AssignError::BadK { k, n, k_is: "centroids", n_is: "points" });
        }
        let len = |rows: usize| rows.checked_mul(d).ok_or(AssignError::TooLarge { shape: *self });
        let expected = [
            ("points", len(n)?, inputs.points.len()),
            ("centroids", len(k)?, inputs.centroids.len()),
            ("labels", n, answer.labels.len()),
            ("distances", n, answer.distances.len()),
        ];
        for (what, expected, got) in expected {
            if expected != got {
                return Err(AssignError::Length { what, shape: *self, expected, got });
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
pub type AssignError = InputError<Shape>;

/// The input contract on values (beside the shapes): finite coordinates, and no row longer than
/// [`crate::input_error::MAX_ROW_NORM`].
pub fn check_values(points: &[f32], centroids: &[f32], d: usize) -> Result<(), AssignError> {
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
pub fn assign_in_chunks(
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
