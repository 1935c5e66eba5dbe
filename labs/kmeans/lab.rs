//! The k-means lab as the harness, the benches and the tests see it: sizes, data sets, inputs,
//! validation.

use rand::Rng;
use rand::rngs::StdRng;

use super::check::{Returned, check};
use super::{Answer, DataSet, Inputs, Kernel, Shape, check_shape, generate, variants};
use crate::lab::{
    CallgrindSize, Define, LabInfo, NamedArray, OutOfProcess, Output, Sweep, Variant, WorkUnit, f32_bytes, pick,
};
use crate::problem::{Problem, Rows};
use crate::sizes::parse_keyed;

/// The lab: the k-means assignment step, squared L2, f32.
pub struct Kmeans;

/// Defaults for keys a size leaves out: the size faiss and scikit-learn were measured at.
const DEFAULT: Shape = Shape { n: 1_000_000, d: 32, k: 256 };

#[rustfmt::skip]
static INFO: LabInfo = LabInfo {
    name: "kmeans",
    about: "the k-means assignment step: every point's nearest centroid, squared L2, f32, and the inertia",
    size_syntax: "n=POINTS,d=DIMS,k=CENTROIDS[,data=blobs|normal|shifted], keys in any order, omitted ones \
                  default to n=1000000,d=32,k=256,data=blobs",
    slice_unit: "points",
    quick_sizes: &["n=50000,d=32,k=64"],
    default_sizes: &["n=1000000,d=32,k=256", "n=100000,d=16,k=8"],
    bench_sizes: &["n=20000,d=32,k=64", "n=20000,d=16,k=8,data=shifted"],
    // k = 1, k = n, d = 1, d off every lane width and past the depth block (384), n off the
    // inertia chunk (4096) and the register tiles, far-from-origin data, blobs; both forms of the
    // flagship on every CPU (k ≤ 16, and k·d past the direct form's limit on Zen).
    edge_sizes: &[
        "n=1,d=1,k=1", "n=7,d=1,k=7", "n=33,d=17,k=5", "n=100,d=5,k=100", "n=4097,d=9,k=3",
        "n=500,d=33,k=13,data=shifted", "n=8200,d=16,k=8,data=shifted", "n=300,d=400,k=20",
        "n=1000,d=4,k=40,data=normal", "n=2000,d=24,k=90",
    ],
    // Serial and parallel paths (more than one chunk of 4096 points), edges included; both forms.
    allocation_sizes: &["n=5000,d=20,k=7", "n=9000,d=32,k=70,data=shifted"],
    flagship: "best",
    data_sets: DataSet::NAMES,
    out_of_process: &[
        OutOfProcess::python_library("faiss", "faiss IndexFlatL2(C).search(X, 1), as faiss's k-means does"),
        OutOfProcess::python_library("sklearn", "scikit-learn's Lloyd labelling kernel (chunks of 256, a GEMM each)"),
        OutOfProcess::python_library("numpy", "numpy: argmin of ‖c‖² − 2·X·Cᵀ per chunk of points"),
        // The Python ladder (labs/kmeans/python/): what an interview in Python climbs.
        OutOfProcess::python_rung("py-loops", "pure Python: a loop per point, centroid and coordinate",
            "labs/kmeans/python/loops.py", include_str!("python/loops.py"), false).slow(),
        OutOfProcess::python_rung("py-broadcast", "numpy broadcasting: an n×k×d temporary",
            "labs/kmeans/python/broadcast.py", include_str!("python/broadcast.py"), false).slow(),
        OutOfProcess::python_rung("py-gemm", "numpy: argmin of ‖c‖² − 2·X·Cᵀ, one n×k GEMM, float32",
            "labs/kmeans/python/gemm.py", include_str!("python/gemm.py"), true),
        OutOfProcess::python_rung("py-chunked", "numpy: the GEMM per 2 MiB chunk of points, centred",
            "labs/kmeans/python/chunked.py", include_str!("python/chunked.py"), true),
        OutOfProcess::python_exercise("your-numpy", "py-chunked", "labs/kmeans/exercises/numpy.py"),
    ],
    // Every variant on a small assignment; blocked and best also on shifted data (their filters'
    // hardest case); best also with 8 centroids, its direct form. Each size takes the same form on
    // every CPU (k·d = 2304 is past the direct form's limit on Zen), so the counts compare anywhere.
    callgrind_sizes: &[
        CallgrindSize { name: "small", size: "n=4096,d=32,k=72", only: None },
        CallgrindSize { name: "shifted", size: "n=4096,d=32,k=72,data=shifted", only: Some(&["blocked", "best"]) },
        CallgrindSize { name: "few", size: "n=4096,d=16,k=8", only: Some(&["best"]) },
    ],
    // The points grow past every cache; 256 centroids of 32 coordinates (32 KiB) held.
    sweep: Sweep { size: "n={},d=32,k=256", axis: "n", from: 256, to: 8_000_000 },
};

impl Define for Kmeans {
    type Size = (Shape, DataSet);
    type Problem = KmeansProblem;

    const INFO: &'static LabInfo = &INFO;

    fn parse(size: &str) -> Result<(Shape, DataSet), String> {
        parse_size(size)
    }

    fn footprint_parts((shape, _): &(Shape, DataSet)) -> Vec<(&'static str, u64)> {
        let Shape { n, d, k } = *shape;
        vec![
            ("the points", f32_bytes(&[n, d])),
            ("the centroids", f32_bytes(&[k, d])),
            ("the labels and distances", f32_bytes(&[2, n])),
        ]
    }

    fn problem((shape, data): (Shape, DataSet), seed: u64) -> Result<KmeansProblem, String> {
        Ok(KmeansProblem::new(shape, data, seed))
    }

    fn variants() -> Vec<Variant<Kernel>> {
        variants()
    }

    /// Up to 5000 points of up to 70 coordinates and 70 centroids (never above n), every data set.
    fn random_size(rng: &mut StdRng) -> String {
        let (n, d) = (rng.random_range(1..=5000), rng.random_range(1..=70));
        let k = rng.random_range(1..=n.min(70));
        format!("n={n},d={d},k={k},data={}", pick(rng, DataSet::NAMES))
    }
}

/// Parses `n=..,d=..,k=..[,data=..]` (any order, defaults for omitted keys) and checks the sizes
/// make an assignment: d ≥ 1, 1 ≤ k ≤ n.
pub fn parse_size(size: &str) -> Result<(Shape, DataSet), String> {
    let example = "n=1000000,d=32,k=256,data=shifted";
    let ([n, d, k], data) = parse_keyed("kmeans", size, ["n", "d", "k"], DataSet::NAMES, example)?;
    let shape = Shape { n: n.unwrap_or(DEFAULT.n), d: d.unwrap_or(DEFAULT.d), k: k.unwrap_or(DEFAULT.k) };
    check_shape("kmeans", size, shape)?;
    Ok((shape, DataSet::named(data)))
}

/// One generated input and the answer buffers.
pub struct KmeansProblem {
    shape: Shape,
    points: Vec<f32>,
    centroids: Vec<f32>,
    labels: Vec<u32>,
    distances: Vec<f32>,
    inertia: f64,
}

impl KmeansProblem {
    fn new(shape: Shape, data: DataSet, seed: u64) -> KmeansProblem {
        let (points, centroids) = generate(shape, data, seed);
        let (labels, distances) = (vec![0; shape.n], vec![0.0; shape.n]);
        KmeansProblem { shape, points, centroids, labels, distances, inertia: 0.0 }
    }
}

/// The inputs with the first `rows` points (the borrow of the inputs alone, beside the answer's).
fn first_points<'a>(shape: Shape, points: &'a [f32], centroids: &'a [f32], rows: usize) -> Inputs<'a> {
    Inputs { shape: Shape { n: rows, ..shape }, points: &points[..rows * shape.d], centroids }
}

/// A variant limited to `rows` rows assigns the first `rows` points (at least k: a slice must
/// still be an assignment).
impl Problem for KmeansProblem {
    type Kernel = Kernel;

    fn params(&self) -> Vec<(&'static str, usize)> {
        let Shape { n, d, k } = self.shape;
        vec![("n", n), ("d", d), ("k", k)]
    }

    fn work(&self) -> WorkUnit {
        let items = Some((self.shape.n as f64, "points/s"));
        WorkUnit { per_call: self.shape.flops(), name: "GFLOP/s", scale: 1e9, is_flops: true, items }
    }

    fn rows(&self) -> Option<Rows> {
        Some(Rows { total: self.shape.n, min: self.shape.k })
    }

    fn scale_inputs(&mut self, factor: f32) -> Result<(), String> {
        crate::lab::scale(&mut self.points, factor);
        crate::lab::scale(&mut self.centroids, factor);
        super::check_values(&self.points, &self.centroids, self.shape.d).map_err(|e| e.to_string())
    }

    fn run(&mut self, kernel: Kernel, rows: usize) -> Option<u64> {
        let inputs = first_points(self.shape, &self.points, &self.centroids, rows);
        let mut answer = Answer {
            labels: &mut self.labels[..rows],
            distances: &mut self.distances[..rows],
            inertia: &mut self.inertia,
        };
        kernel(&inputs, &mut answer);
        None
    }

    fn fill_with_junk(&mut self) {
        self.labels.fill(u32::MAX - 1);
        self.distances.fill(f32::NAN);
        self.inertia = f64::NAN;
    }

    fn check(&mut self, rows: usize, _seed: u64) -> Result<String, String> {
        let returned =
            Returned { labels: &self.labels[..rows], distances: &self.distances[..rows], inertia: Some(self.inertia) };
        check(&first_points(self.shape, &self.points, &self.centroids, rows), &returned)
    }

    fn inputs(&self) -> Vec<NamedArray<'_>> {
        let Shape { n, d, k } = self.shape;
        vec![
            NamedArray { name: "x", shape: [n, d], data: &self.points, sliced: true },
            NamedArray { name: "c", shape: [k, d], data: &self.centroids, sliced: false },
        ]
    }

    fn check_output(&self, rows: usize, outputs: &[Output]) -> Result<String, String> {
        super::check::check_output(&first_points(self.shape, &self.points, &self.centroids, rows), outputs)
    }
}
