//! The matmul lab as the harness, the benches and the tests see it: sizes, inputs, validation.

use super::{Kernel, Shape, check, libraries, random_matrix, variants};
use crate::lab::{Case, Lab, NamedArray, PythonAnchor, Swap, Variant, WorkUnit, kernels_with, random_sizes_from};
use rand::Rng;

/// The lab: C = A·B in f32.
pub struct Matmul;

impl Lab for Matmul {
    fn name(&self) -> &'static str {
        "matmul"
    }

    fn about(&self) -> &'static str {
        "dense f32 matrix multiply C = A·B (row-major, m×k times k×n)"
    }

    fn size_syntax(&self) -> &'static str {
        "N (square) or MxKxN, e.g. 1024 or 512x2048x256"
    }

    fn slice_unit(&self) -> &'static str {
        "rows"
    }

    fn quick_sizes(&self) -> &'static [&'static str] {
        &["256", "1024"]
    }

    fn default_sizes(&self) -> &'static [&'static str] {
        &["1024"]
    }

    fn bench_sizes(&self) -> &'static [&'static str] {
        &["128", "512", "1024"]
    }

    /// Empty dimensions, 1, primes, tall and skinny, and sizes one off the vector widths (8, 16),
    /// the register tiles (MR and NR of `gemm::kernel`) and the cache blocks (KC, MC, NC).
    /// `edge_sizes_straddle_every_block_size` below checks that they do.
    fn edge_sizes(&self) -> &'static [&'static str] {
        &[
            "0x0x0",
            "0x5x7",
            "5x0x7",
            "5x7x0",
            "1x1x1",
            "1x1x17",
            "2x3x5",
            "7x11x13",
            "6x16x16",
            "12x8x32",
            "13x9x33",
            "5x17x15",
            "31x1x31",
            "33x64x47",
            "1x300x1",
            "1000x3x2",
            "2x3x1000",
            "127x129x145",
            "145x257x65",
            "97x193x289",
            "64x513x40",
            "150x30x4100",
            "4x9x16",
            "20x385x40",
        ]
    }

    /// Serial and parallel sizes for `best` (its threshold is 128³), edges and two panels included.
    fn allocation_sizes(&self) -> &'static [&'static str] {
        &["37x53x29", "301x260x177", "144x700x4100"]
    }

    fn flagship(&self) -> &'static str {
        "best"
    }

    fn variants(&self) -> Vec<Variant> {
        variants().iter().map(Variant::describe).collect()
    }

    fn footprint(&self, size: &str) -> Result<u64, String> {
        let shape = parse_shape(size)?;
        let (a, b, c) = shape.lens().map_err(|e| e.to_string())?;
        Ok((a as u64 + b as u64 + c as u64) * size_of::<f32>() as u64)
    }

    fn label(&self, size: &str) -> Result<String, String> {
        parse_shape(size).map(|shape| shape.to_string())
    }

    fn prepare_with(&self, size: &str, seed: u64, swap: Option<Swap<'_>>) -> Result<Box<dyn Case>, String> {
        let shape = parse_shape(size)?;
        shape.lens().map_err(|e| e.to_string())?;
        let kernels = kernels_with(variants(), swap)?;
        Ok(Box::new(MatmulCase::new(shape, kernels, seed)))
    }

    /// Shapes up to 160 × 400 × 160: past every register tile, and past KC in depth.
    fn random_sizes(&self, seed: u64, count: usize) -> Vec<String> {
        random_sizes_from(seed, count, |rng| {
            let (m, k, n) = (rng.random_range(1..=160), rng.random_range(1..=400), rng.random_range(1..=160));
            format!("{m}x{k}x{n}")
        })
    }

    fn python_anchors(&self) -> &'static [PythonAnchor] {
        &[PythonAnchor { name: "numpy", summary: "numpy.matmul(A, B, out=C), float32, numpy's own BLAS" }]
    }

    unsafe fn set_library_threads(&self, threads: usize) {
        // SAFETY: forwarded to the caller (a single thread).
        unsafe { libraries::set_library_threads(threads) };
    }
}

/// `N` or `MxKxN` (also with `×`), each a non-negative integer.
pub fn parse_shape(size: &str) -> Result<Shape, String> {
    let bad = || format!("malformed matmul size '{size}': expected N (square) or MxKxN, e.g. 1024 or 512x2048x256");
    let dims: Vec<usize> =
        size.split(['x', 'X', '×']).map(|d| d.trim().parse::<usize>()).collect::<Result<_, _>>().map_err(|_| bad())?;
    match dims[..] {
        [n] => Ok(Shape::square(n)),
        [m, k, n] => Ok(Shape::new(m, k, n)),
        _ => Err(bad()),
    }
}

/// Random A and B of one shape, C, and how many rows each variant runs on.
struct MatmulCase {
    shape: Shape,
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
    /// Rows of A (and C) each variant runs on: all of them unless the variant is limited.
    rows: Vec<usize>,
    kernels: Vec<Option<Kernel>>,
    seed: u64,
}

impl MatmulCase {
    /// Random A and B for `shape`; `kernels` is the variant table (None: unavailable).
    fn new(shape: Shape, kernels: Vec<Option<Kernel>>, seed: u64) -> MatmulCase {
        MatmulCase {
            shape,
            a: random_matrix(shape.m, shape.k, seed),
            b: random_matrix(shape.k, shape.n, seed.wrapping_add(1)),
            c: vec![0.0; shape.m * shape.n],
            rows: vec![shape.m; kernels.len()],
            kernels,
            seed,
        }
    }

    /// The problem `variant` runs on: the first `rows` rows of A and C, all of B.
    fn sub_problem(&self, variant: usize) -> Shape {
        Shape { m: self.rows[variant], ..self.shape }
    }

    fn kernel(&self, variant: usize) -> Kernel {
        self.kernels[variant].expect("only available variants are run")
    }
}

impl Case for MatmulCase {
    fn scale_inputs(&mut self, factor: f32) -> Result<(), String> {
        crate::lab::scale(&mut self.a, factor);
        crate::lab::scale(&mut self.b, factor);
        super::check_values(self.shape, &self.a, &self.b).map_err(|e| e.to_string())
    }

    fn label(&self) -> String {
        self.shape.to_string()
    }

    fn params(&self) -> Vec<(&'static str, usize)> {
        vec![("m", self.shape.m), ("k", self.shape.k), ("n", self.shape.n)]
    }

    fn work(&self) -> WorkUnit {
        WorkUnit { per_call: self.shape.flops(), name: "GFLOP/s", scale: 1e9, is_flops: true, items: None }
    }

    fn limit(&mut self, variant: usize, fraction: f64) -> f64 {
        let m = self.shape.m;
        let rows = ((m as f64 * fraction).ceil() as usize).clamp(m.min(1), m);
        self.rows[variant] = rows;
        if m == 0 { 1.0 } else { rows as f64 / m as f64 }
    }

    fn run(&mut self, variant: usize) {
        let sub = self.sub_problem(variant);
        let kernel = self.kernel(variant);
        kernel(sub, &self.a[..sub.m * sub.k], &self.b, &mut self.c[..sub.m * sub.n]);
    }

    fn validate(&mut self, variant: usize) -> Result<String, String> {
        let sub = self.sub_problem(variant);
        // Junk in C: a kernel that skips an element, or returns early, cannot pass.
        self.c.fill(f32::NAN);
        self.run(variant);
        let (a, c) = (&self.a[..sub.m * sub.k], &self.c[..sub.m * sub.n]);
        oracle(sub, a, &self.b, c, self.seed ^ variant as u64)
    }

    fn inputs(&self) -> Vec<NamedArray<'_>> {
        let Shape { m, k, n } = self.shape;
        vec![
            NamedArray { name: "a", shape: [m, k], data: &self.a },
            NamedArray { name: "b", shape: [k, n], data: &self.b },
        ]
    }

    fn check_output(&self, shape: &[usize], output: &[f32]) -> Result<String, String> {
        let Shape { m, n, .. } = self.shape;
        if shape != [m, n] || output.len() != m * n {
            return Err(format!("C has shape {shape:?}, expected [{m}, {n}]"));
        }
        oracle(self.shape, &self.a, &self.b, output, self.seed ^ 0xa4c4)
    }
}

/// The oracle's verdict on C, as `Case` reports it: how C was checked, or what is wrong.
fn oracle(shape: Shape, a: &[f32], b: &[f32], c: &[f32], seed: u64) -> Result<String, String> {
    check::check(shape, a, b, c, seed).map(|method| method.to_string()).map_err(|mismatch| mismatch.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_or_say_what_is_expected() {
        assert_eq!(parse_shape("1024"), Ok(Shape::square(1024)));
        assert_eq!(parse_shape("3x5x7"), Ok(Shape::new(3, 5, 7)));
        assert_eq!(parse_shape("0x5x7"), Ok(Shape::new(0, 5, 7)));
        for bad in ["", "x", "3x5", "3x5x7x9", "-4", "1e3", "abc", "256,512,1024"] {
            let err = parse_shape(bad).unwrap_err();
            assert!(err.contains("expected N (square) or MxKxN"), "{bad}: {err}");
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn edge_sizes_straddle_every_block_size() {
        use crate::gemm::kernel::{Avx2, Avx512, MicroKernel, Portable};
        fn sizes<K: MicroKernel>() -> [usize; 5] {
            [K::MR, K::NR, K::KC, K::MC, K::NC]
        }
        let shapes: Vec<Shape> = Matmul.edge_sizes().iter().map(|s| parse_shape(s).unwrap()).collect();
        let has = |dim: fn(&Shape) -> usize, value: usize| shapes.iter().any(|s| dim(s) == value);
        for [mr, nr, kc, mc, nc] in [sizes::<Avx2>(), sizes::<Avx512>(), sizes::<Portable>()] {
            assert!(has(|s| s.m, mr) && has(|s| s.m, mr + 1), "rows MR = {mr} and one more");
            assert!(has(|s| s.n, nr) && has(|s| s.n, nr + 1), "columns NR = {nr} and one more");
            assert!(shapes.iter().any(|s| s.k > kc && s.k % kc != 0), "a depth past KC = {kc}");
            assert!(shapes.iter().any(|s| s.m > mc && s.m % mc != 0), "rows past MC = {mc}");
            assert!(shapes.iter().any(|s| s.n > nc), "columns past NC = {nc}");
        }
    }

    #[test]
    fn the_footprint_counts_a_b_and_c() {
        assert_eq!(Matmul.footprint("2x3x4"), Ok(4 * (6 + 12 + 8)));
        assert!(Matmul.footprint(&format!("{}x4x1", usize::MAX / 2)).unwrap_err().contains("too large"));
    }

    #[test]
    fn a_limited_variant_runs_on_fewer_rows_and_still_validates() {
        let mut case = Matmul.prepare("64x32x16", 1).unwrap();
        assert_eq!(case.limit(0, 0.25), 0.25);
        case.validate(0).unwrap();
        assert_eq!(case.limit(0, 1e-9), 1.0 / 64.0, "at least one row");
    }

    #[test]
    fn a_wrong_variant_fails_validation_with_the_element() {
        let wrong: Kernel = |s, a, b, c| {
            crate::matmul::naive::matmul(s, a, b, c);
            c[5 * 30 + 7] += 1.0;
        };
        let mut case = MatmulCase::new(Shape::new(20, 10, 30), vec![Some(wrong)], 1);
        let err = case.validate(0).unwrap_err();
        assert!(err.contains("C[5, 7]"), "{err}");
    }

    #[test]
    fn a_variant_that_skips_elements_fails_because_c_starts_as_junk() {
        let lazy: Kernel = |_, _, _, _| {};
        let mut case = MatmulCase::new(Shape::new(8, 8, 8), vec![Some(lazy)], 1);
        let err = case.validate(0).unwrap_err();
        assert!(err.contains("C[0, 0] = NaN"), "{err}");
    }
}
