//! Lab 1: dense matrix multiply, C = A·B in f32, row-major.
//!
//! A is m×k, B is k×n, C is m×n; every kernel overwrites C (it never reads what C held).
//! The ladder, one file per rung (see this folder's README for the measured figures):
//!
//! | rung | file | idea |
//! |---|---|---|
//! | naive | `naive.rs` | i-j-k: a dot product per element, B walked down a column |
//! | loop-order | `solutions/loop_order.rs` | i-k-j: every inner access is a unit stride |
//! | blocked | `solutions/blocked.rs` | tiles of B stay in cache while all rows of A use them |
//! | simd | `solutions/simd.rs` | an explicit register-blocked FMA kernel (AVX-512 / AVX2 / scalar) |
//! | parallel | `solutions/parallel.rs` | rayon: rows of C split across cores |
//! | best | `solutions/best/` | packing + micro-kernel + L1/L2/L3 blocking + rayon |

pub mod check;
pub mod exercises;
mod lab;
pub mod libraries;
pub mod naive;
pub mod solutions;
#[cfg(test)]
mod tests;

pub use lab::{Matmul, parse_shape};

use std::fmt;

use crate::lab::Variant;

/// The dimensions of C = A·B: A is m×k, B is k×n, C is m×n.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    pub m: usize,
    pub k: usize,
    pub n: usize,
}

impl Shape {
    pub const fn new(m: usize, k: usize, n: usize) -> Shape {
        Shape { m, k, n }
    }

    /// A square n×n×n problem.
    pub const fn square(n: usize) -> Shape {
        Shape { m: n, k: n, n }
    }

    /// Floating-point operations of one multiply: a multiply and an add per (i, p, j).
    pub fn flops(&self) -> f64 {
        2.0 * self.m as f64 * self.k as f64 * self.n as f64
    }

    /// Element counts of A, B and C, or an error when one does not fit in memory's address space.
    pub fn lens(&self) -> Result<(usize, usize, usize), MatmulError> {
        let len = |rows: usize, cols: usize| {
            rows.checked_mul(cols)
                .filter(|len| len.checked_mul(size_of::<f32>()).is_some_and(|b| b <= isize::MAX as usize))
                .ok_or(MatmulError::TooLarge { shape: *self })
        };
        Ok((len(self.m, self.k)?, len(self.k, self.n)?, len(self.m, self.n)?))
    }

    /// Panics with a clear message unless the buffers fit this shape. Kernels that index with raw
    /// pointers call this first, so that a safe call with wrong lengths can never read out of bounds.
    pub fn assert_fits(&self, a: &[f32], b: &[f32], c: &[f32]) {
        if let Err(err) = self.check(a, b, c) {
            panic!("{err}");
        }
    }

    /// Checks that the buffers have exactly the lengths this shape needs.
    pub fn check(&self, a: &[f32], b: &[f32], c: &[f32]) -> Result<(), MatmulError> {
        let (a_len, b_len, c_len) = self.lens()?;
        for (matrix, expected, got) in [("A", a_len, a.len()), ("B", b_len, b.len()), ("C", c_len, c.len())] {
            if expected != got {
                return Err(MatmulError::Length { matrix, shape: *self, expected, got });
            }
        }
        Ok(())
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}x{}", self.m, self.k, self.n)
    }
}

/// Why a multiply was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum MatmulError {
    /// A buffer's length does not match the shape.
    Length { matrix: &'static str, shape: Shape, expected: usize, got: usize },
    /// The matrices would not fit in the address space.
    TooLarge { shape: Shape },
    /// An input holds NaN or infinity, for which no error bound (and so no validation) exists.
    NonFinite { matrix: &'static str, row: usize, col: usize, value: f32 },
    /// A row of A and a column of B so long that their dot product could overflow f32.
    TooLong { row: usize, row_norm: f64, col: usize, col_norm: f64 },
}

/// The largest ‖row of A‖·‖column of B‖ accepted: 2¹²⁴ ≈ 2.1e37. Every partial sum of an element
/// of C is at most Σ|a|·|b| ≤ that product (Cauchy–Schwarz), in any order of summation, so no
/// kernel can overflow; the factor of 16 left below f32::MAX covers rounding and the oracle's
/// bounds. The same rule, in the same words, as the distance labs' row-norm limit.
pub const MAX_NORM_PRODUCT: f64 = 2.126_764_793_255_865e37; // 2^124

impl fmt::Display for MatmulError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatmulError::Length { matrix, shape, expected, got } => {
                let (rows, cols) = match *matrix {
                    "A" => (shape.m, shape.k),
                    "B" => (shape.k, shape.n),
                    _ => (shape.m, shape.n),
                };
                write!(
                    f,
                    "matrix {matrix} has {got} elements, but shape m×k×n = {shape} needs {rows}×{cols} = {expected}"
                )
            }
            MatmulError::TooLarge { shape } => write!(f, "shape {shape} is too large to allocate"),
            MatmulError::NonFinite { matrix, row, col, value } => {
                write!(f, "matrix {matrix} holds {value} at row {row}, column {col}: inputs must be finite")
            }
            MatmulError::TooLong { row, row_norm, col, col_norm } => write!(
                f,
                "row {row} of A (norm {row_norm:.3e}) times column {col} of B (norm {col_norm:.3e}) is {:.3e}, \
                 beyond the {MAX_NORM_PRODUCT:.3e} that keeps every element of C below f32::MAX: scale A or B down",
                row_norm * col_norm
            ),
        }
    }
}

impl std::error::Error for MatmulError {}

/// One multiply's operands, handed to a kernel that is dispatched by SIMD level
/// ([`crate::simd::dispatch`] in `simd`, [`crate::simd::dispatch_micro_kernel`] in `best`).
pub(crate) struct Operands<'a> {
    pub shape: Shape,
    pub a: &'a [f32],
    pub b: &'a [f32],
    pub c: &'a mut [f32],
}

/// Every matmul kernel has this signature: C (m×n) = A (m×k) · B (k×n), all row-major.
/// Kernels may assume the lengths match `shape` (the checked entry point [`multiply`] makes sure).
pub type Kernel = fn(shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]);

/// The lab's variants, in ladder order: the harness, the tests and the benches all use this table.
pub fn variants() -> Vec<Variant<Kernel>> {
    use solutions::{best, blocked, loop_order, parallel, simd};
    vec![
        Variant::baseline("naive", "i-j-k triple loop", naive::matmul as Kernel),
        Variant::reference("loop-order", "i-k-j: unit-stride inner loop", loop_order::matmul),
        Variant::exercise("your-blocked", "blocked", exercises::blocked::matmul),
        Variant::reference("blocked", "cache tiles of B reused by every row", blocked::matmul),
        Variant::exercise("your-simd", "simd", exercises::simd::matmul),
        Variant::reference("simd", "register-blocked FMA kernel, runtime ISA dispatch", simd::matmul),
        Variant::exercise("your-parallel", "parallel", exercises::parallel::matmul as Kernel).on_all_cores(),
        Variant::reference("parallel", "rayon over rows of C", parallel::matmul as Kernel).on_all_cores(),
        Variant::exercise("your-best", "best", exercises::best::matmul as Kernel).on_all_cores(),
        Variant::reference("best", "packing + micro-kernel + L1/L2/L3 blocking + rayon", best::matmul as Kernel)
            .on_all_cores(),
        Variant::library(
            "ndarray",
            "ndarray general_mat_mul (matrixmultiply, AVX-512 kernel enabled)",
            Ok(libraries::ndarray_gemm),
        ),
        Variant::library("openblas", "system OpenBLAS cblas_sgemm", libraries::openblas_kernel()),
    ]
}

/// The checked entry point: validates lengths and finiteness, then runs `kernel`.
pub fn multiply(kernel: Kernel, shape: Shape, a: &[f32], b: &[f32], c: &mut [f32]) -> Result<(), MatmulError> {
    shape.check(a, b, c)?;
    check_values(shape, a, b)?;
    kernel(shape, a, b, c);
    Ok(())
}

/// The input contract on values: finite, and no element of C can overflow f32.
pub fn check_values(shape: Shape, a: &[f32], b: &[f32]) -> Result<(), MatmulError> {
    ensure_finite("A", a, shape.k)?;
    ensure_finite("B", b, shape.n)?;
    ensure_no_overflow(shape, a, b)
}

/// Refuses A and B when the longest row of A times the longest column of B exceeds
/// [`MAX_NORM_PRODUCT`] (naming both): a sufficient test for "no element of C overflows", in
/// O(m·k + k·n) rather than the multiply's O(m·k·n).
pub fn ensure_no_overflow(shape: Shape, a: &[f32], b: &[f32]) -> Result<(), MatmulError> {
    let Shape { m, k, n } = shape;
    if m == 0 || k == 0 || n == 0 {
        return Ok(());
    }
    let square = |x: &f32| f64::from(*x) * f64::from(*x);
    let row_norms = a.chunks_exact(k).map(|row| row.iter().map(square).sum::<f64>().sqrt());
    let (row, row_norm) = longest(row_norms);
    let mut col_squares = vec![0.0f64; n];
    for b_row in b.chunks_exact(n) {
        col_squares.iter_mut().zip(b_row).for_each(|(sum, x)| *sum += square(x));
    }
    let (col, col_norm) = longest(col_squares.into_iter().map(f64::sqrt));
    if row_norm * col_norm > MAX_NORM_PRODUCT {
        return Err(MatmulError::TooLong { row, row_norm, col, col_norm });
    }
    Ok(())
}

/// The index and value of the largest of `norms`.
fn longest(norms: impl Iterator<Item = f64>) -> (usize, f64) {
    norms.enumerate().fold((0, 0.0), |best, (i, norm)| if norm > best.1 { (i, norm) } else { best })
}

fn ensure_finite(matrix: &'static str, data: &[f32], cols: usize) -> Result<(), MatmulError> {
    match data.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(at) => Err(MatmulError::NonFinite { matrix, row: at / cols, col: at % cols, value: data[at] }),
    }
}

/// A rows × cols matrix of uniform values in [-1, 1), the same for the same seed.
pub fn random_matrix(rows: usize, cols: usize, seed: u64) -> Vec<f32> {
    use rand::{Rng, SeedableRng, rngs::StdRng};
    let mut rng = StdRng::seed_from_u64(seed);
    (0..rows * cols).map(|_| rng.random_range(-1.0..1.0)).collect()
}
