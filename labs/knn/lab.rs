//! The k-NN lab as the harness, the benches and the tests see it: sizes, data sets, inputs,
//! validation.

use rand::Rng;
use rand::rngs::StdRng;

use super::check::{Oracle, Returned};
use super::data::{DataSet, generate, parse_size};
use super::{Answer, Inputs, Kernel, Shape, variants};
use crate::lab::{
    CallgrindSize, Define, LabInfo, NamedArray, OutOfProcess, Output, Sweep, Variant, WorkUnit, f32_bytes, pick,
};
use crate::problem::{Problem, Rows};

/// The lab: exact k nearest neighbours in squared L2, f32.
pub struct Knn;

#[rustfmt::skip]
static INFO: LabInfo = LabInfo {
    name: "knn",
    about: "exact k nearest neighbours, squared L2, f32, with a majority vote",
    size_syntax: "n=POINTS,d=DIMS,m=QUERIES,k=NEIGHBOURS[,data=normal|shifted|duplicates], keys in any order, \
                  omitted ones default to n=100000,d=64,m=1000,k=10,data=normal",
    slice_unit: "queries",
    quick_sizes: &["n=20000,d=64,m=200,k=10", "n=20000,d=64,m=200,k=10,data=shifted"],
    default_sizes: &["n=100000,d=64,m=1000,k=10", "n=200000,d=128,m=1000,k=10", "n=100000,d=64,m=8,k=10"],
    bench_sizes: &["n=20000,d=64,m=100,k=10", "n=20000,d=64,m=100,k=10,data=shifted"],
    // n = 1, k = n, d = 1, d off every lane width (8, 16) and past the depth block (384), m = 0,
    // queries off the register tiles (6, 12), points off the vector and tile widths,
    // far-from-origin data, exact ties, and few queries on many points (the parallel split).
    edge_sizes: &[
        "n=5,d=3,m=0,k=2", "n=1,d=1,m=1,k=1", "n=7,d=1,m=3,k=7", "n=33,d=17,m=13,k=5", "n=100,d=33,m=25,k=100",
        "n=257,d=8,m=17,k=3,data=duplicates", "n=300,d=31,m=29,k=10,data=shifted",
        "n=1000,d=64,m=3,k=10,data=shifted", "n=129,d=400,m=7,k=4", "n=600,d=16,m=40,k=20,data=duplicates",
        "n=9000,d=5,m=2,k=10", "n=5000,d=24,m=50,k=1,data=shifted", "n=2049,d=9,m=12,k=16",
        "n=40,d=2,m=1,k=40,data=duplicates",
    ],
    // Serial and parallel paths of every rung, the split over points (m = 2) included.
    allocation_sizes: &["n=2000,d=20,m=30,k=5", "n=9000,d=12,m=2,k=7", "n=3000,d=64,m=100,k=10,data=shifted"],
    flagship: "best",
    data_sets: DataSet::NAMES,
    out_of_process: &[
        OutOfProcess::python_library("faiss", "faiss IndexFlatL2.search, faiss's own choice of path"),
        OutOfProcess::python_library(
            "faiss-blas",
            "faiss IndexFlatL2.search, sgemm path forced (distance_compute_blas_threshold = 0)",
        ),
        OutOfProcess::python_library("sklearn", "scikit-learn NearestNeighbors(algorithm='brute').kneighbors"),
        OutOfProcess::python_library("numpy", "numpy: ‖q‖² + ‖x‖² − 2·Q·Xᵀ per 128 queries, argpartition"),
        // The Python ladder (labs/knn/python/).
        OutOfProcess::python_rung("py-loops", "pure Python: a loop per query, point and coordinate, heapq",
            "labs/knn/python/loops.py", include_str!("python/loops.py"), false).slow(),
        OutOfProcess::python_rung("py-broadcast", "numpy broadcasting: an m×n×d temporary, argsort",
            "labs/knn/python/broadcast.py", include_str!("python/broadcast.py"), false).slow(),
        OutOfProcess::python_rung("py-gemm", "numpy: ‖x‖² − 2·Q·Xᵀ in one m×n GEMM, argpartition, float32",
            "labs/knn/python/gemm.py", include_str!("python/gemm.py"), true),
        OutOfProcess::python_rung("py-chunked", "numpy: the GEMM per 128 queries, centred, direct-form re-rank",
            "labs/knn/python/chunked.py", include_str!("python/chunked.py"), true),
        OutOfProcess::python_exercise("your-numpy", "py-chunked", "labs/knn/exercises/numpy.py"),
    ],
    // Every variant on a small search; the rungs that re-rank also far from the origin, where
    // re-ranking works hardest; `best` also on a batch small enough for its direct path.
    callgrind_sizes: &[
        CallgrindSize { name: "small", size: "n=4096,d=32,m=32,k=10", only: None },
        CallgrindSize { name: "shifted", size: "n=4096,d=32,m=32,k=10,data=shifted", only: Some(&["blocked", "best"]) },
        CallgrindSize { name: "few", size: "n=4096,d=32,m=4,k=10", only: Some(&["best"]) },
    ],
    // The points grow past every cache; 200 queries of 64 coordinates, k = 10 held.
    sweep: Sweep { size: "n={},d=64,m=200,k=10", axis: "n", from: 64, to: 4_000_000 },
};

impl Define for Knn {
    type Size = (Shape, DataSet);
    type Problem = KnnProblem;

    const INFO: &'static LabInfo = &INFO;

    fn parse(size: &str) -> Result<(Shape, DataSet), String> {
        parse_size(size)
    }

    fn footprint_parts((shape, _): &(Shape, DataSet)) -> Vec<(&'static str, u64)> {
        let Shape { n, d, m, k } = *shape;
        vec![
            ("the points", f32_bytes(&[n, d])),
            ("their labels", f32_bytes(&[n])),
            ("the queries", f32_bytes(&[m, d])),
            ("the answers", f32_bytes(&[3, m, k])),
            ("the votes", f32_bytes(&[m])),
        ]
    }

    fn problem((shape, data): (Shape, DataSet), seed: u64) -> Result<KnnProblem, String> {
        Ok(KnnProblem::new(shape, data, seed))
    }

    fn variants() -> Vec<Variant<Kernel>> {
        variants()
    }

    /// Up to 1500 points of up to 70 coordinates, 0 to 30 queries, k up to 25 (never above n),
    /// every data set.
    fn random_size(rng: &mut StdRng) -> String {
        let (n, d, m) = (rng.random_range(1..=1500), rng.random_range(1..=70), rng.random_range(0..=30));
        let k = rng.random_range(1..=n.min(25));
        format!("n={n},d={d},m={m},k={k},data={}", pick(rng, DataSet::NAMES))
    }
}

/// One generated input, the answer buffers, and the oracle's cache.
pub struct KnnProblem {
    shape: Shape,
    train: Vec<f32>,
    labels: Vec<u32>,
    queries: Vec<f32>,
    indices: Vec<u32>,
    distances: Vec<f32>,
    classes: Vec<u32>,
    oracle: Oracle,
}

impl KnnProblem {
    fn new(shape: Shape, data: DataSet, seed: u64) -> KnnProblem {
        let (train, labels, queries) = generate(shape, data, seed);
        KnnProblem {
            shape,
            train,
            labels,
            queries,
            indices: vec![0; shape.m * shape.k],
            distances: vec![0.0; shape.m * shape.k],
            classes: vec![0; shape.m],
            oracle: Oracle::default(),
        }
    }
}

/// The inputs with the first `rows` queries (the borrow of the inputs alone, beside the answer's).
fn first_queries<'a>(shape: Shape, train: &'a [f32], labels: &'a [u32], queries: &'a [f32], rows: usize) -> Inputs<'a> {
    Inputs { shape: Shape { m: rows, ..shape }, train, labels, queries: &queries[..rows * shape.d] }
}

/// A variant limited to `rows` rows answers the first `rows` queries.
impl Problem for KnnProblem {
    type Kernel = Kernel;

    fn params(&self) -> Vec<(&'static str, usize)> {
        let Shape { n, d, m, k } = self.shape;
        vec![("n", n), ("d", d), ("m", m), ("k", k)]
    }

    fn work(&self) -> WorkUnit {
        let items = Some((self.shape.m as f64, "queries/s"));
        WorkUnit { per_call: self.shape.flops(), name: "GFLOP/s", scale: 1e9, is_flops: true, items }
    }

    fn rows(&self) -> Option<Rows> {
        Some(Rows { total: self.shape.m, min: 1 })
    }

    fn scale_inputs(&mut self, factor: f32) -> Result<(), String> {
        crate::lab::scale(&mut self.train, factor);
        crate::lab::scale(&mut self.queries, factor);
        self.oracle = Oracle::default();
        super::check_values(&self.train, &self.queries, self.shape.d).map_err(|e| e.to_string())
    }

    fn run(&mut self, kernel: Kernel, rows: usize) -> Option<u64> {
        let k = self.shape.k;
        let inputs = first_queries(self.shape, &self.train, &self.labels, &self.queries, rows);
        let mut answer = Answer {
            indices: &mut self.indices[..rows * k],
            distances: &mut self.distances[..rows * k],
            classes: &mut self.classes[..rows],
        };
        kernel(&inputs, &mut answer);
        None
    }

    fn fill_with_junk(&mut self) {
        self.indices.fill(u32::MAX - 1);
        self.distances.fill(f32::NAN);
        self.classes.fill(u32::MAX - 1);
    }

    fn check(&mut self, rows: usize, _seed: u64) -> Result<String, String> {
        let k = self.shape.k;
        let returned = Returned {
            indices: &self.indices[..rows * k],
            distances: &self.distances[..rows * k],
            classes: Some(&self.classes[..rows]),
        };
        let inputs = first_queries(self.shape, &self.train, &self.labels, &self.queries, rows);
        self.oracle.check(&inputs, &returned)
    }

    fn inputs(&self) -> Vec<NamedArray<'_>> {
        let Shape { n, d, m, .. } = self.shape;
        vec![
            NamedArray { name: "x", shape: [n, d], data: &self.train, sliced: false },
            NamedArray { name: "q", shape: [m, d], data: &self.queries, sliced: true },
        ]
    }

    fn check_output(&self, rows: usize, outputs: &[Output]) -> Result<String, String> {
        let inputs = first_queries(self.shape, &self.train, &self.labels, &self.queries, rows);
        // The oracle's cache is per case; an anchor's check is rare, so a fresh oracle will do.
        Oracle::default().check_outputs(&inputs, outputs)
    }
}
