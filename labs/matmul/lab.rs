//! The matmul lab as the harness, the benches and the tests see it: sizes, inputs, validation.

use rand::Rng;
use rand::rngs::StdRng;

use super::{Kernel, Shape, check, libraries, random_matrix, variants};
use crate::lab::{
    CallgrindSize, Define, LabInfo, NamedArray, OutOfProcess, Output, Sweep, Variant, WorkUnit, f32_bytes,
};
use crate::problem::{Problem, Rows};
use crate::sizes::Label;

/// The lab: C = A·B in f32.
pub struct Matmul;

impl Label for Shape {
    fn label(&self) -> String {
        self.to_string()
    }
}

#[rustfmt::skip]
static INFO: LabInfo = LabInfo {
    name: "matmul",
    about: "dense f32 matrix multiply C = A·B (row-major, m×k times k×n)",
    size_syntax: "N (square) or MxKxN, e.g. 1024 or 512x2048x256",
    slice_unit: "rows",
    quick_sizes: &["256", "1024"],
    default_sizes: &["1024"],
    bench_sizes: &["128", "512", "1024"],
    // Empty dimensions, 1, primes, tall and skinny, and sizes one off the vector widths (8, 16),
    // the register tiles (MR and NR of `gemm::kernel`): the test
    // `edge_sizes_straddle_every_register_tile` checks that they do (the cache blocks are the
    // machine's, crossed by `best_is_right_with_small_blocks_across_every_block_edge`).
    edge_sizes: &[
        "0x0x0", "0x5x7", "5x0x7", "5x7x0", "1x1x1", "1x1x17", "2x3x5", "7x11x13", "6x16x16", "12x8x32",
        "13x9x33", "5x17x15", "31x1x31", "33x64x47", "1x300x1", "1000x3x2", "2x3x1000", "127x129x145",
        "145x257x65", "97x193x289", "64x513x40", "150x30x4100", "4x9x16", "20x385x40",
    ],
    // Serial and parallel sizes for `best` (its threshold is 128³), edges and two panels included.
    allocation_sizes: &["37x53x29", "301x260x177", "144x700x4100"],
    flagship: "best",
    data_sets: &[],
    out_of_process: &[
        OutOfProcess::python_library("numpy", "numpy.matmul(A, B, out=C), float32, numpy's own BLAS"),
        // The Python ladder (labs/matmul/python/), below numpy's one BLAS call.
        OutOfProcess::python_rung("py-loops", "pure Python: three loops, a sum per element of C",
            "labs/matmul/python/loops.py", include_str!("python/loops.py"), false).slow(),
        OutOfProcess::python_rung("py-rows", "numpy, i-p-j order: C[i] += A[i, p]·B[p], one call per (i, p)",
            "labs/matmul/python/rows.py", include_str!("python/rows.py"), false).slow(),
        OutOfProcess::python_exercise("your-numpy", "numpy", "labs/matmul/exercises/numpy.py"),
    ],
    // Every variant at 128; the baseline and the reference rungs also at 48, which fits in L1.
    callgrind_sizes: &[
        CallgrindSize { name: "128", size: "128", only: None },
        CallgrindSize {
            name: "48", size: "48", only: Some(&["naive", "loop-order", "blocked", "simd", "parallel", "best"]),
        },
    ],
    // Square n×n: the working set 12·n² bytes, from 3 KiB to 192 MiB.
    sweep: Sweep { size: "{}", axis: "n", from: 16, to: 4_096 },
};

impl Define for Matmul {
    type Size = Shape;
    type Problem = MatmulProblem;

    const INFO: &'static LabInfo = &INFO;

    fn parse(size: &str) -> Result<Shape, String> {
        let shape = parse_shape(size)?;
        shape.lens().map_err(|e| e.to_string())?;
        Ok(shape)
    }

    fn footprint_parts(shape: &Shape) -> Vec<(&'static str, u64)> {
        let Shape { m, k, n } = *shape;
        vec![("A", f32_bytes(&[m, k])), ("B", f32_bytes(&[k, n])), ("C", f32_bytes(&[m, n]))]
    }

    fn problem(shape: Shape, seed: u64) -> Result<MatmulProblem, String> {
        Ok(MatmulProblem::new(shape, seed))
    }

    fn variants() -> Vec<Variant<Kernel>> {
        variants()
    }

    /// Shapes up to 160 × 400 × 160: past every register tile.
    fn random_size(rng: &mut StdRng) -> String {
        let (m, k, n) = (rng.random_range(1..=160), rng.random_range(1..=400), rng.random_range(1..=160));
        format!("{m}x{k}x{n}")
    }

    unsafe fn set_library_threads(threads: usize) {
        // SAFETY: forwarded to the caller (a single thread).
        unsafe { libraries::set_library_threads(threads) };
    }

    fn library_kernels() -> Vec<crate::LibraryKernel> {
        libraries::kernels()
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

/// Random A and B of one shape, and C.
pub struct MatmulProblem {
    shape: Shape,
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
    seed: u64,
}

impl MatmulProblem {
    fn new(shape: Shape, seed: u64) -> MatmulProblem {
        MatmulProblem {
            shape,
            a: random_matrix(shape.m, shape.k, seed),
            b: random_matrix(shape.k, shape.n, seed.wrapping_add(1)),
            c: vec![0.0; shape.m * shape.n],
            seed,
        }
    }
}

/// A variant limited to `rows` rows multiplies the first rows of A into the first rows of C.
impl Problem for MatmulProblem {
    type Kernel = Kernel;

    fn params(&self) -> Vec<(&'static str, usize)> {
        vec![("m", self.shape.m), ("k", self.shape.k), ("n", self.shape.n)]
    }

    fn work(&self) -> WorkUnit {
        WorkUnit { per_call: self.shape.flops(), name: "GFLOP/s", scale: 1e9, is_flops: true, items: None }
    }

    fn rows(&self) -> Option<Rows> {
        Some(Rows { total: self.shape.m, min: 1 })
    }

    fn scale_inputs(&mut self, factor: f32) -> Result<(), String> {
        crate::lab::scale(&mut self.a, factor);
        crate::lab::scale(&mut self.b, factor);
        super::check_values(self.shape, &self.a, &self.b).map_err(|e| e.to_string())
    }

    fn run(&mut self, kernel: Kernel, rows: usize) -> Option<u64> {
        let sub = Shape { m: rows, ..self.shape };
        kernel(sub, &self.a[..sub.m * sub.k], &self.b, &mut self.c[..sub.m * sub.n]);
        None
    }

    fn fill_with_junk(&mut self) {
        self.c.fill(f32::NAN);
    }

    fn check(&mut self, rows: usize, seed: u64) -> Result<String, String> {
        let sub = Shape { m: rows, ..self.shape };
        oracle(sub, &self.a[..sub.m * sub.k], &self.b, &self.c[..sub.m * sub.n], seed)
    }

    fn inputs(&self) -> Vec<NamedArray<'_>> {
        let Shape { m, k, n } = self.shape;
        vec![
            NamedArray { name: "a", shape: [m, k], data: &self.a, sliced: true },
            NamedArray { name: "b", shape: [k, n], data: &self.b, sliced: false },
        ]
    }

    fn check_output(&self, rows: usize, outputs: &[Output]) -> Result<String, String> {
        let Shape { k, n, .. } = self.shape;
        let name = if outputs.iter().any(|o| o.name == "c") { "c" } else { "out" };
        let c = Output::expect(outputs, name, [rows, n]).map_err(|e| format!("C: {e}"))?;
        oracle(Shape { m: rows, ..self.shape }, &self.a[..rows * k], &self.b, &c.to_f32(), self.seed ^ 0xa4c4)
    }
}

/// The oracle's verdict on C, as `Case` reports it: how C was checked, or what is wrong.
fn oracle(shape: Shape, a: &[f32], b: &[f32], c: &[f32], seed: u64) -> Result<String, String> {
    check::check(shape, a, b, c, seed).map(|method| method.to_string()).map_err(|mismatch| mismatch.to_string())
}
