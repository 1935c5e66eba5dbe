//! Lab 4: k-means, Lloyd's iterations: T iterations of assignment and update, where bounds pay.
//!
//! From initial centroids C₀, iteration t assigns every point to its nearest centroid of C_t
//! (labels L_t, inertia I_t: the sum of those squared distances) and then moves every centroid to
//! the mean of its points, giving C_{t+1}; a centroid that got no point keeps its place. After T
//! iterations a variant returns C_T, the last labels L_{T−1} and the T inertias.
//!
//! Every variant shares one update step ([`update`]), so equal labels give equal bits: what a
//! variant may change is only how it finds the labels.
//!
//! | rung | file | idea |
//! |---|---|---|
//! | lloyd | `solutions/lloyd.rs` | every iteration: the flagship's assignment (n·k distances), then the update |
//! | hamerly | `solutions/hamerly.rs` | per point an upper bound to its centroid and a lower bound to all others, carried across iterations: most points skip the k distances |
//!
//! The assignment is the k-means lab's flagship, shared with this lab (`labs/assignment/`):
//! `cargo lab bench kmeans` times the assignment's ladder, `cargo lab bench lloyd` these.

pub mod check;
pub mod exercises;
mod lab;
pub mod solutions;
#[cfg(test)]
mod tests;

use std::fmt;

use rayon::prelude::*;

pub use lab::{Lloyd, parse_size};

use crate::assignment::Shape;
use crate::distance::distances;
use crate::gemm::buffers::Pool;
use crate::input_error::{InputError, ensure_in_range};
use crate::lab::Variant;
use crate::simd::{F32Vec, SimdLevel, WithSimd, dispatch};

/// The sizes of a Lloyd run: the assignment's shape and the number of iterations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LloydShape {
    pub shape: Shape,
    pub iterations: usize,
}

impl fmt::Display for LloydShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},iters={}", self.shape, self.iterations)
    }
}

/// The inputs of a Lloyd run: n × d points, the k × d initial centroids and T.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    pub shape: Shape,
    pub iterations: usize,
    pub points: &'a [f32],
    pub initial: &'a [f32],
}

impl<'a> Inputs<'a> {
    /// The assignment of these points to `centroids`.
    pub fn assignment<'c>(&self, centroids: &'c [f32]) -> crate::assignment::Inputs<'c>
    where
        'a: 'c,
    {
        crate::assignment::Inputs { shape: self.shape, points: self.points, centroids }
    }

    /// Checks sizes and buffers: everything a Lloyd variant may assume.
    pub fn check(&self, answer: &Answer) -> Result<(), LloydError> {
        let Shape { n, d, k } = self.shape;
        let whole = LloydShape { shape: self.shape, iterations: self.iterations };
        if d == 0 {
            return Err(InputError::NoCoordinates.into());
        }
        if k == 0 || k > n || k > u32::MAX as usize {
            return Err(InputError::BadK { k, n, k_is: "centroids", n_is: "points" }.into());
        }
        if self.iterations == 0 {
            return Err(LloydError::NoIterations);
        }
        let len = |rows: usize| rows.checked_mul(d).ok_or(InputError::TooLarge { shape: whole });
        let expected = [
            ("points", len(n)?, self.points.len()),
            ("initial centroids", len(k)?, self.initial.len()),
            ("centroids", len(k)?, answer.centroids.len()),
            ("labels", n, answer.labels.len()),
            ("inertia (one per iteration)", self.iterations, answer.inertia.len()),
        ];
        for (what, expected, got) in expected {
            if expected != got {
                return Err(InputError::Length { what, shape: whole, expected, got }.into());
            }
        }
        Ok(())
    }

    /// Panics with a clear message unless sizes and buffers agree.
    pub fn assert_fits(&self, answer: &Answer) {
        if let Err(err) = self.check(answer) {
            panic!("{err}");
        }
    }
}

/// Where a Lloyd variant writes: the final centroids, the last labels, the inertia of every
/// iteration and how many point-to-centroid distances its assignments computed.
#[derive(Debug)]
pub struct Answer<'a> {
    pub centroids: &'a mut [f32],
    pub labels: &'a mut [u32],
    pub inertia: &'a mut [f64],
    /// Distances the assignments computed (plain Lloyd: n·k per iteration). The update's one
    /// distance per point, for the inertia, is the same for every variant and not counted.
    pub distance_computations: &'a mut u64,
}

/// Why a Lloyd run was refused: what every lab of points refuses, or no iteration to run.
#[derive(Clone, Debug, PartialEq)]
pub enum LloydError {
    Input(InputError<LloydShape>),
    /// At least one iteration is needed for labels to exist.
    NoIterations,
}

impl From<InputError<LloydShape>> for LloydError {
    fn from(error: InputError<LloydShape>) -> LloydError {
        LloydError::Input(error)
    }
}

impl fmt::Display for LloydError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LloydError::Input(error) => error.fmt(f),
            LloydError::NoIterations => write!(f, "iterations = 0: Lloyd needs at least one (assign, then update)"),
        }
    }
}

impl std::error::Error for LloydError {}

/// Every Lloyd variant has this signature. It may assume [`Inputs::check`] passed.
pub type Kernel = fn(inputs: &Inputs, answer: &mut Answer);

/// The Lloyd variants, plain Lloyd first (the baseline the bounds are measured against).
pub fn variants() -> Vec<Variant<Kernel>> {
    use solutions::{hamerly, lloyd};
    vec![
        Variant::baseline(
            "lloyd",
            "every iteration: best's assignment (n·k distances), then the update",
            lloyd::lloyd as Kernel,
        )
        .on_all_cores(),
        Variant::exercise("your-hamerly", "hamerly", exercises::hamerly::lloyd as Kernel).on_all_cores(),
        Variant::reference(
            "hamerly",
            "Hamerly's two bounds per point, carried across iterations",
            hamerly::lloyd as Kernel,
        )
        .on_all_cores(),
    ]
}

/// The checked entry point: validates sizes, lengths and finiteness, then runs `kernel`.
pub fn run(kernel: Kernel, inputs: &Inputs, answer: &mut Answer) -> Result<(), LloydError> {
    inputs.check(answer)?;
    check_values(inputs.points, inputs.initial, inputs.shape.d)?;
    kernel(inputs, answer);
    Ok(())
}

/// The input contract on values (beside the shapes): finite coordinates, and no row longer than
/// [`crate::input_error::MAX_ROW_NORM`].
pub fn check_values(points: &[f32], initial: &[f32], d: usize) -> Result<(), LloydError> {
    ensure_in_range("points", points, d)?;
    Ok(ensure_in_range("initial centroids", initial, d)?)
}

/// Points per piece of the update: a piece sums its points in order, in f64, and the pieces'
/// sums are added in piece order, so the centroids are the same bits on any thread count. Fixed
/// (2¹⁵: 31 pieces at n = 10⁶, enough for 16 cores; each piece's k·d sums fit in L2).
pub const UPDATE_CHUNK: usize = 1 << 15;

/// Per piece: k·d coordinate sums, k counts, and the inertia.
static PIECES: Pool<Vec<f64>> = Pool::new();

/// The update step every Lloyd variant shares: returns the inertia of `labels` against
/// `centroids` (the direct form, summed in f64 in a fixed order), then moves every centroid to
/// the mean of its points; a centroid with no point keeps its place.
pub fn update(level: SimdLevel, inputs: &Inputs, labels: &[u32], centroids: &mut [f32]) -> f64 {
    let Shape { n, d, k } = inputs.shape;
    assert!(labels.len() == n && centroids.len() == k * d && inputs.points.len() == n * d);
    let stride = k * d + k + 1;
    let pieces = n.div_ceil(UPDATE_CHUNK);
    PIECES.with(|scratch| {
        scratch.resize(pieces * stride, 0.0);
        let current: &[f32] = centroids;
        let work = scratch.par_chunks_mut(stride).zip(labels.par_chunks(UPDATE_CHUNK)).enumerate();
        work.for_each(|(piece, (sums, labels))| {
            let points = &inputs.points[piece * UPDATE_CHUNK * d..][..labels.len() * d];
            dispatch(level, Accumulate { points, d, labels, centroids: current, sums });
        });
        let (total, rest) = scratch.split_at_mut(stride);
        for piece in rest.chunks_exact(stride) {
            total.iter_mut().zip(piece).for_each(|(t, p)| *t += p);
        }
        let (sums, rest) = total.split_at(k * d);
        let (counts, inertia) = rest.split_at(k);
        for ((centroid, sum), &count) in centroids.chunks_exact_mut(d).zip(sums.chunks_exact(d)).zip(counts) {
            if count > 0.0 {
                centroid.iter_mut().zip(sum).for_each(|(c, s)| *c = (s / count) as f32);
            }
        }
        inertia[0]
    })
}

/// One piece of the update: its points' coordinate sums and counts per label, and its inertia.
struct Accumulate<'a> {
    points: &'a [f32],
    d: usize,
    labels: &'a [u32],
    centroids: &'a [f32],
    /// k·d sums, k counts, 1 inertia: overwritten.
    sums: &'a mut [f64],
}

impl WithSimd for Accumulate<'_> {
    type Output = ();

    #[inline(always)]
    unsafe fn run<V: F32Vec>(self) {
        let Accumulate { points, d, labels, centroids, sums } = self;
        sums.fill(0.0);
        let k = centroids.len() / d;
        let (coordinates, rest) = sums.split_at_mut(k * d);
        let (counts, inertia) = rest.split_at_mut(k);
        for (point, &label) in points.chunks_exact(d).zip(labels) {
            let c = label as usize;
            // SAFETY: `dispatch` enabled V; both rows hold d floats.
            let [distance] = unsafe { distances::<V, 1>(point, [&centroids[c * d..][..d]]) };
            inertia[0] += distance as f64;
            counts[c] += 1.0;
            for (sum, &x) in coordinates[c * d..][..d].iter_mut().zip(point) {
                *sum += x as f64;
            }
        }
    }
}
