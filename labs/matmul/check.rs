//! The oracle: is C close enough to A·B, by an error bound rather than a magic epsilon?
//!
//! Any f32 evaluation order of a length-k dot product (sequential, blocked, tree-shaped, with or
//! without FMA) satisfies the forward error bound
//! `|ĉ_ij − c_ij| ≤ γ_k · Σ_p |a_ip|·|b_pj|`, with `γ_k = k·u / (1 − k·u)` and `u = 2⁻²⁴`
//! (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1). The oracle computes both
//! the product and `Σ|a||b|` in f64, whose own error is a billion times smaller.
//!
//! Small problems are checked element by element. Large ones (where the f64 oracle would cost
//! more than the kernel) are checked on every element of a sample of rows and columns (always
//! including the last ones, where edge-tile bugs live), on random single elements, and with
//! Freivalds' test on all of C: `C·x` against `A·(B·x)` for a random x, which costs O(n²) and
//! sees every element. Freivalds' bound for a row is the sum of its elements' bounds, so it
//! catches NaN left anywhere and any row or tile that is substantially wrong, but a single
//! element a little off in a row outside the sample can pass it: the sampled check is strong
//! on patterns (a tiling bug repeats), not a proof for every element.

use std::fmt;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::Shape;
use crate::gemm::kernel::{AVX2_MR, AVX2_NR, AVX512_MR, AVX512_NR, PORTABLE_MR, PORTABLE_NR};

/// Above this many multiply-adds, [`check`] samples instead of computing all of A·B in f64.
pub const EXACT_LIMIT: f64 = (1u64 << 27) as f64; // 512 × 512 × 512
/// Random rows and columns checked exactly when sampling (besides the first and last ones).
const SAMPLED_LINES: usize = 16;
/// Random single elements checked exactly when sampling.
const SAMPLED_ELEMENTS: usize = 4096;
/// At most this many rows flagged by Freivalds' test are re-checked element by element (each
/// costs k·n; a kernel wrong everywhere would otherwise cost a whole f64 product).
const MAX_SUSPECT_ROWS: usize = 16;
/// Trailing rows and columns always checked: one more than the tallest and widest register tile of
/// any kernel here (the simd rung's tiles are no larger), where remainder bugs live.
const EDGE_ROWS: usize = AVX512_MR + 1;
const EDGE_COLS: usize = AVX512_NR + 1;
const _: () =
    assert!(AVX512_MR >= AVX2_MR && AVX512_MR >= PORTABLE_MR && AVX512_NR >= AVX2_NR && AVX512_NR >= PORTABLE_NR);
/// Side of the coarse map of wrong elements shown on failure.
const MAP_CELLS: usize = 8;

/// The f32 unit roundoff, u = 2⁻²⁴.
pub const UNIT_ROUNDOFF: f64 = f32::EPSILON as f64 / 2.0;

/// `γ_k = k·u / (1 − k·u)`: the relative forward error bound of a length-k f32 dot product.
pub fn gamma(k: usize) -> f64 {
    let ku = k as f64 * UNIT_ROUNDOFF;
    ku / (1.0 - ku)
}

/// The absolute error underflow can add to a length-k f32 dot product, beside `γ_k`'s relative
/// one: a product (or fused multiply-add) below f32's normal range rounds to a multiple of the
/// smallest subnormal 2⁻¹⁴⁹, off by at most half of it; sums of subnormals are exact. With
/// entries of 1e-30 every product is 1e-60 and rounds to 0: the error is all underflow.
pub fn underflow(k: usize) -> f64 {
    k as f64 * f64::from(f32::from_bits(1))
}

/// How a result was validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Every element against the f64 oracle.
    Exact,
    /// Every element of sampled rows and columns, plus Freivalds' test on all of C.
    Sampled { rows: usize, cols: usize },
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Exact => f.write_str("every element against an f64 oracle"),
            Method::Sampled { rows, cols } => {
                write!(
                    f,
                    "{rows} full rows + {cols} full columns against an f64 oracle, and Freivalds' test on all of C"
                )
            }
        }
    }
}

/// A result outside the error bound: where, by how much, and the pattern of wrong elements.
#[derive(Clone, Debug)]
pub struct Mismatch {
    pub row: usize,
    pub col: usize,
    pub expected: f64,
    pub got: f32,
    /// The forward error bound at that element.
    pub bound: f64,
    /// Wrong elements found, and elements examined.
    pub wrong: usize,
    pub examined: usize,
    pub shape: Shape,
    pub method: Method,
    /// C cut into at most `MAP_CELLS` × `MAP_CELLS` regions (fewer when C has fewer rows or
    /// columns): what the check found in each.
    pub map: Vec<Vec<Region>>,
}

/// What the check found in one region of C.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// No element of it was examined (a sampled check).
    Unexamined,
    /// Every element examined there is within the bound.
    Correct,
    /// At least one element examined there is wrong.
    Wrong,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Mismatch { row, col, expected, got, bound, wrong, examined, shape, .. } = self;
        if expected.is_nan() {
            return writeln!(
                f,
                "row {row} of C is wrong: its weighted sum (C·x)[{row}] differs from (A·(B·x))[{row}] by more than \
                 the error bound allows, though no element examined is out of bounds on its own (shape {shape})"
            );
        }
        writeln!(
            f,
            "C[{row}, {col}] = {got}, expected {expected} ± {bound:.3e} (bound γ_k·Σ|a||b| + k·2⁻¹⁴⁹, k = {}); \
             {wrong} of {examined} elements examined are wrong (shape {shape}, checked: {})",
            shape.k, self.method
        )?;
        let (rows, cols) = (self.map.len(), self.map.first().map_or(0, Vec::len));
        writeln!(
            f,
            "where the wrong elements are (C cut into {rows}×{cols} regions; # = wrong, . = correct, - = not examined):"
        )?;
        for cells in &self.map {
            let symbol = |region: &Region| match region {
                Region::Wrong => '#',
                Region::Correct => '.',
                Region::Unexamined => '-',
            };
            let line: String = cells.iter().map(symbol).collect();
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Mismatch {}

/// Validates C = A·B: exactly when the problem is small, by sampling plus Freivalds otherwise.
/// `seed` picks the sample and Freivalds' vector.
pub fn check(shape: Shape, a: &[f32], b: &[f32], c: &[f32], seed: u64) -> Result<Method, Box<Mismatch>> {
    if shape.flops() / 2.0 <= EXACT_LIMIT { check_exact(shape, a, b, c) } else { check_sampled(shape, a, b, c, seed) }
}

/// Every element of C against the f64 oracle.
pub fn check_exact(shape: Shape, a: &[f32], b: &[f32], c: &[f32]) -> Result<Method, Box<Mismatch>> {
    let rows: Vec<usize> = (0..shape.m).collect();
    let mut report = Report::new(shape, Method::Exact);
    check_rows(shape, a, b, c, &rows, &mut report);
    report.finish()
}

/// Sampled rows and columns against the oracle, plus Freivalds' test on all of C.
pub fn check_sampled(shape: Shape, a: &[f32], b: &[f32], c: &[f32], seed: u64) -> Result<Method, Box<Mismatch>> {
    let Shape { m, n, .. } = shape;
    let mut rng = StdRng::seed_from_u64(seed);
    let rows = sample_lines(m, EDGE_ROWS, &mut rng);
    let cols = sample_lines(n, EDGE_COLS, &mut rng);
    let mut report = Report::new(shape, Method::Sampled { rows: rows.len(), cols: cols.len() });
    check_rows(shape, a, b, c, &rows, &mut report);
    check_cols(shape, a, b, c, &cols, &mut report);
    check_random_elements(shape, a, b, c, &mut rng, &mut report);
    // Rows whose weighted sum is off hold a wrong element; find it with an exact row check.
    let suspects = freivalds_suspects(shape, a, b, c, &mut rng);
    check_rows(shape, a, b, c, &suspects[..suspects.len().min(MAX_SUSPECT_ROWS)], &mut report);
    if let Some(&row) = suspects.first()
        && report.first.is_none()
    {
        // The row sum is off but no single element is: report the row as a whole.
        report.wrong += 1;
        report.first = Some((row, 0, f64::NAN, f32::NAN, 0.0));
    }
    report.finish()
}

/// First and last rows, the trailing `edge` rows, and random ones, sorted and deduplicated.
fn sample_lines(len: usize, edge: usize, rng: &mut StdRng) -> Vec<usize> {
    if len == 0 {
        return Vec::new();
    }
    let mut lines: Vec<usize> = (0..SAMPLED_LINES).map(|_| rng.random_range(0..len)).collect();
    lines.push(0);
    lines.extend(len.saturating_sub(edge)..len);
    lines.sort_unstable();
    lines.dedup();
    lines
}

/// Accumulates what the checks find.
struct Report {
    shape: Shape,
    method: Method,
    examined: usize,
    wrong: usize,
    first: Option<(usize, usize, f64, f32, f64)>,
    map: Vec<Vec<Region>>,
}

impl Report {
    fn new(shape: Shape, method: Method) -> Report {
        // One region per row (column) when C has fewer than MAP_CELLS of them.
        let (rows, cols) = (MAP_CELLS.min(shape.m.max(1)), MAP_CELLS.min(shape.n.max(1)));
        Report { shape, method, examined: 0, wrong: 0, first: None, map: vec![vec![Region::Unexamined; cols]; rows] }
    }

    /// Compares one element with its oracle value and bound.
    #[allow(clippy::neg_cmp_op_on_partial_ord, reason = "NaN must fail the check")]
    fn element(&mut self, row: usize, col: usize, got: f32, expected: f64, abs_sum: f64) {
        self.examined += 1;
        // The f32 bound, plus the f64 oracle's own (tiny) error. Written as `!(x <= bound)` on
        // purpose: NaN compares false, so a NaN in C fails.
        let bound = gamma(self.shape.k) * abs_sum
            + 2.0 * self.shape.k as f64 * f64::EPSILON * abs_sum
            + underflow(self.shape.k);
        let (rows, cols) = (self.map.len(), self.map[0].len());
        let region = &mut self.map[row * rows / self.shape.m.max(1)][col * cols / self.shape.n.max(1)];
        if !((got as f64 - expected).abs() <= bound) {
            self.wrong += 1;
            self.first.get_or_insert((row, col, expected, got, bound));
            *region = Region::Wrong;
        } else if *region == Region::Unexamined {
            *region = Region::Correct;
        }
    }

    fn finish(self) -> Result<Method, Box<Mismatch>> {
        match self.first {
            None => Ok(self.method),
            Some((row, col, expected, got, bound)) => Err(Box::new(Mismatch {
                row,
                col,
                expected,
                got,
                bound,
                wrong: self.wrong,
                examined: self.examined,
                shape: self.shape,
                method: self.method,
                map: self.map,
            })),
        }
    }
}

/// Checks every element of the given rows, computing each row of A·B in f64 (i-k-j order).
fn check_rows(shape: Shape, a: &[f32], b: &[f32], c: &[f32], rows: &[usize], report: &mut Report) {
    let Shape { k, n, .. } = shape;
    let mut value = vec![0.0f64; n];
    let mut abs_sum = vec![0.0f64; n];
    for &i in rows {
        value.fill(0.0);
        abs_sum.fill(0.0);
        for p in 0..k {
            let a_ip = a[i * k + p] as f64;
            for (j, &b_pj) in b[p * n..(p + 1) * n].iter().enumerate() {
                value[j] += a_ip * b_pj as f64;
                abs_sum[j] += (a_ip * b_pj as f64).abs();
            }
        }
        for j in 0..n {
            report.element(i, j, c[i * n + j], value[j], abs_sum[j]);
        }
    }
}

/// Checks every element of the given columns.
fn check_cols(shape: Shape, a: &[f32], b: &[f32], c: &[f32], cols: &[usize], report: &mut Report) {
    let Shape { m, k, n } = shape;
    let mut value = vec![0.0f64; cols.len()];
    let mut abs_sum = vec![0.0f64; cols.len()];
    for i in 0..m {
        value.fill(0.0);
        abs_sum.fill(0.0);
        for p in 0..k {
            let a_ip = a[i * k + p] as f64;
            for (s, &j) in cols.iter().enumerate() {
                let product = a_ip * b[p * n + j] as f64;
                value[s] += product;
                abs_sum[s] += product.abs();
            }
        }
        for (s, &j) in cols.iter().enumerate() {
            report.element(i, j, c[i * n + j], value[s], abs_sum[s]);
        }
    }
}

/// Checks `SAMPLED_ELEMENTS` random elements, each a length-k dot product in f64.
fn check_random_elements(shape: Shape, a: &[f32], b: &[f32], c: &[f32], rng: &mut StdRng, report: &mut Report) {
    let Shape { m, k, n } = shape;
    if m == 0 || n == 0 {
        return;
    }
    for _ in 0..SAMPLED_ELEMENTS {
        let (i, j) = (rng.random_range(0..m), rng.random_range(0..n));
        let (mut value, mut abs_sum) = (0.0f64, 0.0f64);
        for p in 0..k {
            let product = a[i * k + p] as f64 * b[p * n + j] as f64;
            value += product;
            abs_sum += product.abs();
        }
        report.element(i, j, c[i * n + j], value, abs_sum);
    }
}

/// Freivalds' test: rows i where `(C·x)_i` and `(A·(B·x))_i` differ by more than the bound
/// `γ_k · (|A|·(|B|·x))_i` allows, for a random x with entries in [0.5, 1).
fn freivalds_suspects(shape: Shape, a: &[f32], b: &[f32], c: &[f32], rng: &mut StdRng) -> Vec<usize> {
    let Shape { m, k, n } = shape;
    let x: Vec<f64> = (0..n).map(|_| rng.random_range(0.5..1.0)).collect();
    let mat_vec = |mat: &[f32], rows: usize, cols: usize, v: &[f64], abs: bool| -> Vec<f64> {
        (0..rows)
            .map(|r| {
                let row = &mat[r * cols..(r + 1) * cols];
                row.iter().zip(v).map(|(&e, &x)| if abs { (e as f64).abs() * x } else { e as f64 * x }).sum()
            })
            .collect()
    };
    let bx = mat_vec(b, k, n, &x, false);
    let abx = mat_vec(a, m, k, &bx, false);
    let abs_bx = mat_vec(b, k, n, &x, true);
    let abs_abx = mat_vec(a, m, k, &abs_bx, true);
    let cx = mat_vec(c, m, n, &x, false);
    #[allow(clippy::neg_cmp_op_on_partial_ord, reason = "NaN must fail the check")]
    (0..m)
        .filter(|&i| {
            let slack = 4.0 * (k + n) as f64 * f64::EPSILON * abs_abx[i];
            !((cx[i] - abx[i]).abs() <= gamma(k) * abs_abx[i] + slack + n as f64 * underflow(k))
        })
        .collect()
}
