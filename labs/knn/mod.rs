//! Lab 2: exact k-nearest neighbours, squared L2 distance, f32.
//!
//! Training points X (n×d, row-major) with a class label each, queries Q (m×d), and k. For every
//! query: the k nearest training points in ascending distance (ties to the lower index), their
//! squared distances, and the class most of them share (a tie between classes goes to the class
//! of the nearest neighbour among the tied ones). The ladder, one file per rung (see this
//! folder's README for the measured figures):
//!
//! | rung | file | idea |
//! |---|---|---|
//! | naive | `naive.rs` | every distance into a list, sort it all, take k: allocates per query |
//! | select | `solutions/select.rs` | a bounded max-heap of k: O(n log k), nothing allocated |
//! | simd | `solutions/simd.rs` | SIMD distance kernel; the heap is touched only below its threshold |
//! | blocked | `solutions/blocked.rs` | ‖q‖² + ‖x‖² − 2·q·x on tiles: inner products, GEMM-shaped |
//! | parallel | `solutions/parallel.rs` | rayon over queries, or over the training set when queries are few |
//! | best | `solutions/best/` | packed micro-kernel, fused top-k epilogue, exact re-ranking, rayon |
//!
//! The expanded form of `blocked` and `best` is not accurate where points sit far from the origin
//! (its error grows with ‖q‖² + ‖x‖², not with the distance): [`exact`] is what keeps them exact.

pub mod check;
mod data;
pub mod exercises;
mod lab;
pub mod naive;
pub mod solutions;
#[cfg(test)]
mod tests;
pub mod topk;

pub use data::{DataSet, generate, parse_size};
pub use lab::Knn;

use std::fmt;

use crate::input_error::{InputError, ensure_in_range};
use crate::lab::Variant;

/// The sizes of one search: n training points of d coordinates, m queries, k neighbours each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    pub n: usize,
    pub d: usize,
    pub m: usize,
    pub k: usize,
}

impl Shape {
    /// Equivalent floating-point work: a subtract-and-multiply-add (or one inner-product FMA plus
    /// its share of the norms) per coordinate of every (query, point) pair, counted as 2 flops as
    /// faiss and the GEMM form do.
    pub fn flops(&self) -> f64 {
        2.0 * self.m as f64 * self.n as f64 * self.d as f64
    }

    /// Checks the sizes and the buffers' lengths: everything a kernel may assume.
    pub fn check(&self, inputs: &Inputs, answer: &Answer) -> Result<(), KnnError> {
        let Shape { n, d, m, k } = *self;
        if d == 0 {
            return Err(KnnError::NoCoordinates);
        }
        if k == 0 || k > n {
            return Err(KnnError::BadK { k, n, k_is: "neighbours asked for", n_is: "training points" });
        }
        let len = |rows: usize, cols: usize| rows.checked_mul(cols).ok_or(KnnError::TooLarge { shape: *self });
        let expected = [
            ("training points", len(n, d)?, inputs.train.len()),
            ("labels", n, inputs.labels.len()),
            ("queries", len(m, d)?, inputs.queries.len()),
            ("neighbour indices", len(m, k)?, answer.indices.len()),
            ("neighbour distances", len(m, k)?, answer.distances.len()),
            ("predicted classes", m, answer.classes.len()),
        ];
        for (what, expected, got) in expected {
            if expected != got {
                return Err(KnnError::Length { what, shape: *self, expected, got });
            }
        }
        if n > u32::MAX as usize {
            return Err(KnnError::TooLarge { shape: *self });
        }
        Ok(())
    }

    /// Panics with a clear message unless sizes and buffers agree. Kernels that index with raw
    /// pointers call this first, so that a safe call can never read out of bounds.
    pub fn assert_fits(&self, inputs: &Inputs, answer: &Answer) {
        if let Err(err) = self.check(inputs, answer) {
            panic!("{err}");
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n={},d={},m={},k={}", self.n, self.d, self.m, self.k)
    }
}

/// The inputs of one search. Every row is `shape.d` floats; `labels[i]` is the class of row i
/// of `train`.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    pub shape: Shape,
    pub train: &'a [f32],
    pub labels: &'a [u32],
    pub queries: &'a [f32],
}

impl<'a> Inputs<'a> {
    /// Training point `i`.
    #[inline(always)]
    pub fn point(&self, i: usize) -> &'a [f32] {
        &self.train[i * self.shape.d..][..self.shape.d]
    }

    /// Query `q`.
    #[inline(always)]
    pub fn query(&self, q: usize) -> &'a [f32] {
        &self.queries[q * self.shape.d..][..self.shape.d]
    }

    /// The same training set with only queries `start..start + count` (a parallel part).
    pub fn queries_slice(&self, start: usize, count: usize) -> Inputs<'a> {
        let d = self.shape.d;
        Inputs { shape: Shape { m: count, ..self.shape }, queries: &self.queries[start * d..][..count * d], ..*self }
    }
}

/// Where a kernel writes its answer: for query q, `indices[q·k..][..k]` and
/// `distances[q·k..][..k]` in ascending distance, and `classes[q]`. Kernels overwrite all of it.
#[derive(Debug)]
pub struct Answer<'a> {
    pub indices: &'a mut [u32],
    pub distances: &'a mut [f32],
    pub classes: &'a mut [u32],
}

impl Answer<'_> {
    /// The answer slots of query `q`: its neighbours, their distances, its class.
    pub fn query_mut(&mut self, q: usize, k: usize) -> (&mut [u32], &mut [f32], &mut u32) {
        (&mut self.indices[q * k..][..k], &mut self.distances[q * k..][..k], &mut self.classes[q])
    }
}

/// Why a search was refused.
pub type KnnError = InputError<Shape>;

/// Every k-NN kernel has this signature. Kernels may assume [`Shape::check`] passed (the checked
/// entry point [`search`] makes sure) and must overwrite every slot of the answer.
pub type Kernel = fn(inputs: &Inputs, answer: &mut Answer);

/// The lab's variants, in ladder order: the harness, the tests and the benches all use this table.
pub fn variants() -> Vec<Variant<Kernel>> {
    use solutions::{best, blocked, parallel, select, simd};
    vec![
        Variant::baseline("naive", "all n distances into a list, full sort, first k", naive::knn as Kernel),
        Variant::reference("select", "bounded max-heap of k: O(n log k), no allocation", select::knn),
        Variant::exercise("your-simd", "simd", exercises::simd::knn),
        Variant::reference("simd", "SIMD distance kernel, threshold test before the heap", simd::knn),
        Variant::exercise("your-blocked", "blocked", exercises::blocked::knn),
        Variant::reference("blocked", "query × point tiles, ‖q‖²+‖x‖²−2q·x, exact re-ranking", blocked::knn),
        Variant::exercise("your-parallel", "parallel", exercises::parallel::knn as Kernel).on_all_cores(),
        Variant::reference(
            "parallel",
            "rayon over queries, or over points when queries are few",
            parallel::knn as Kernel,
        )
        .on_all_cores(),
        Variant::reference("best", "packed micro-kernel, fused top-k, exact re-ranking, rayon", best::knn as Kernel)
            .on_all_cores()
            .with_bf16_products(best::Filter::fastest(crate::simd::simd_level()) == best::Filter::Bf16),
    ]
}

/// The checked entry point: validates sizes, lengths and finiteness, then runs `kernel`.
/// m = 0 is an empty answer.
pub fn search(kernel: Kernel, inputs: &Inputs, answer: &mut Answer) -> Result<(), KnnError> {
    inputs.shape.check(inputs, answer)?;
    check_values(inputs.train, inputs.queries, inputs.shape.d)?;
    kernel(inputs, answer);
    Ok(())
}

/// The input contract on values (beside the shapes): finite coordinates, and no row longer than
/// [`crate::input_error::MAX_ROW_NORM`].
pub fn check_values(train: &[f32], queries: &[f32], d: usize) -> Result<(), KnnError> {
    ensure_in_range("training points", train, d)?;
    ensure_in_range("queries", queries, d)
}
