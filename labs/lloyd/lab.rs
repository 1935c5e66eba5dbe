//! The Lloyd lab as the harness, the benches and the tests see it: sizes, inputs, validation.

use super::check::{Returned, check, same_as_plain};
use super::{Inputs, Kernel, LloydShape, variants};
use crate::assignment::{DataSet, Shape, check_shape, generate};
use crate::lab::{
    CallgrindSize, Define, LabInfo, NamedArray, OutOfProcess, Output, Sweep, Variant, WorkUnit, f32_bytes, pick,
};
use crate::problem::{Problem, Rows};
use crate::sizes::parse_keyed;
use rand::Rng;
use rand::rngs::StdRng;

/// Lloyd's iterations of k-means, plain and with bounds.
pub struct Lloyd;

/// Defaults for keys a size leaves out: the assignment's large size, 20 iterations.
const DEFAULT: LloydShape = LloydShape { shape: Shape { n: 1_000_000, d: 32, k: 256 }, iterations: 20 };

#[rustfmt::skip]
static INFO: LabInfo = LabInfo {
    name: "lloyd",
    about: "k-means, Lloyd's iterations (assign + update) from given centroids: plain, and with Hamerly's bounds",
    size_syntax: "n=POINTS,d=DIMS,k=CENTROIDS,iters=T[,data=blobs|normal|shifted], keys in any order, omitted \
                  ones default to n=1000000,d=32,k=256,iters=20,data=blobs",
    slice_unit: "points",
    quick_sizes: &["n=50000,d=32,k=64,iters=10"],
    default_sizes: &["n=1000000,d=32,k=256,iters=20", "n=100000,d=16,k=8,iters=20"],
    bench_sizes: &["n=20000,d=32,k=64,iters=10"],
    // One iteration and several; k = 1 and k = n; both forms of the flagship's assignment on every
    // CPU (k ≤ 16, and k·d past the direct form's limit on Zen); d off the lane widths; n off the
    // chunk sizes; far-from-origin data.
    edge_sizes: &[
        "n=1,d=1,k=1,iters=1", "n=7,d=1,k=7,iters=3", "n=33,d=17,k=5,iters=4", "n=50,d=3,k=1,iters=3",
        "n=4097,d=9,k=3,iters=5", "n=500,d=33,k=13,iters=3,data=shifted", "n=2000,d=24,k=90,iters=6",
        "n=3000,d=8,k=40,iters=8,data=normal", "n=300,d=400,k=20,iters=2",
    ],
    allocation_sizes: &["n=5000,d=20,k=7,iters=4", "n=9000,d=32,k=70,iters=4,data=shifted"],
    flagship: "hamerly",
    data_sets: DataSet::NAMES,
    // The Python ladder's answer (labs/lloyd/python/); a loop version is the k-means lab's
    // py-loops once per iteration, too slow to run whole here (a Lloyd run is never sliced).
    out_of_process: &[
        OutOfProcess::python_rung(
            "py-numpy",
            "numpy: the chunked, centred GEMM assignment, a bincount update in float64",
            "labs/lloyd/python/numpy_lloyd.py",
            include_str!("python/numpy_lloyd.py"),
            true,
        ),
        OutOfProcess::python_exercise("your-numpy", "py-numpy", "labs/lloyd/exercises/numpy.py"),
    ],
    // The assignment inside takes the same form on every CPU at this size (see kmeans's).
    callgrind_sizes: &[CallgrindSize { name: "small", size: "n=4096,d=32,k=72,iters=8", only: None }],
    // The points grow past every cache; 64 centroids of 32 coordinates, 5 iterations held.
    sweep: Sweep { size: "n={},d=32,k=64,iters=5", axis: "n", from: 64, to: 4_000_000 },
};

impl Define for Lloyd {
    type Size = (LloydShape, DataSet);
    type Problem = LloydProblem;

    const INFO: &'static LabInfo = &INFO;

    fn parse(size: &str) -> Result<(LloydShape, DataSet), String> {
        parse_size(size)
    }

    fn footprint_parts((LloydShape { shape, iterations }, _): &(LloydShape, DataSet)) -> Vec<(&'static str, u64)> {
        let Shape { n, d, k } = *shape;
        vec![
            ("the points", f32_bytes(&[n, d])),
            ("the initial and final centroids", f32_bytes(&[3, k, d])),
            ("the labels and the bounds' per-point state", f32_bytes(&[5, n])),
            ("the inertias", f32_bytes(&[*iterations, 2])),
        ]
    }

    fn problem((shape, data): (LloydShape, DataSet), seed: u64) -> Result<LloydProblem, String> {
        Ok(LloydProblem::new(shape, data, seed))
    }

    fn variants() -> Vec<Variant<Kernel>> {
        variants()
    }

    /// Up to 2000 points of up to 40 coordinates, 30 centroids (never above n), 1 to 5 iterations.
    fn random_size(rng: &mut StdRng) -> String {
        let (n, d, iters) = (rng.random_range(1..=2000), rng.random_range(1..=40), rng.random_range(1..=5));
        let k = rng.random_range(1..=n.min(30));
        format!("n={n},d={d},k={k},iters={iters},data={}", pick(rng, DataSet::NAMES))
    }
}

/// Parses `n=..,d=..,k=..,iters=..[,data=..]` (any order, defaults for omitted keys) and checks
/// the sizes make a Lloyd run: d ≥ 1, 1 ≤ k ≤ n, T ≥ 1.
pub fn parse_size(size: &str) -> Result<(LloydShape, DataSet), String> {
    let example = "n=1000000,d=32,k=256,iters=20,data=blobs";
    let ([n, d, k, iterations], data) = parse_keyed("lloyd", size, ["n", "d", "k", "iters"], DataSet::NAMES, example)?;
    let shape =
        Shape { n: n.unwrap_or(DEFAULT.shape.n), d: d.unwrap_or(DEFAULT.shape.d), k: k.unwrap_or(DEFAULT.shape.k) };
    check_shape("lloyd", size, shape)?;
    let iterations = iterations.unwrap_or(DEFAULT.iterations);
    if iterations == 0 || iterations > 10_000 {
        return Err(format!("lloyd size '{size}': iters = {iterations} must be between 1 and 10000"));
    }
    Ok((LloydShape { shape, iterations }, DataSet::named(data)))
}

/// Plain Lloyd's result on this case, which every other variant must match bit for bit.
struct Plain {
    centroids: Vec<f32>,
    labels: Vec<u32>,
    inertia: Vec<f64>,
}

/// One generated input, the answer buffers, and the baseline's answer once computed.
pub struct LloydProblem {
    shape: LloydShape,
    points: Vec<f32>,
    initial: Vec<f32>,
    centroids: Vec<f32>,
    labels: Vec<u32>,
    inertia: Vec<f64>,
    /// The centroids of T − 1 iterations, for the check of the last labels.
    previous: Option<Vec<f32>>,
    plain: Option<Plain>,
}

impl LloydProblem {
    fn new(shape: LloydShape, data: DataSet, seed: u64) -> LloydProblem {
        let (points, initial) = generate(shape.shape, data, seed);
        let Shape { n, .. } = shape.shape;
        LloydProblem {
            shape,
            centroids: initial.clone(),
            points,
            initial,
            labels: vec![0; n],
            inertia: vec![0.0; shape.iterations],
            previous: None,
            plain: None,
        }
    }

    /// Runs `kernel` for `iterations` (at most the case's), writing the first `iterations`
    /// inertias; returns the distances its assignments computed.
    fn run_for(&mut self, kernel: Kernel, iterations: usize) -> u64 {
        let inputs = Inputs { shape: self.shape.shape, iterations, points: &self.points, initial: &self.initial };
        let mut computed = 0;
        let mut answer = super::Answer {
            centroids: &mut self.centroids,
            labels: &mut self.labels,
            inertia: &mut self.inertia[..iterations],
            distance_computations: &mut computed,
        };
        kernel(&inputs, &mut answer);
        computed
    }

    fn returned(&self) -> Returned<'_> {
        Returned { centroids: &self.centroids, labels: &self.labels, inertia: &self.inertia }
    }

    /// Computes plain Lloyd's answer (the baseline's) once per case.
    fn plain(&mut self, baseline: Kernel) {
        if self.plain.is_none() {
            self.run_for(baseline, self.shape.iterations);
            let plain =
                Plain { centroids: self.centroids.clone(), labels: self.labels.clone(), inertia: self.inertia.clone() };
            self.plain = Some(plain);
        }
    }
}

/// Never limited: a shorter run would time the expensive first iterations only.
impl Problem for LloydProblem {
    type Kernel = Kernel;

    fn params(&self) -> Vec<(&'static str, usize)> {
        let Shape { n, d, k } = self.shape.shape;
        vec![("n", n), ("d", d), ("k", k), ("iters", self.shape.iterations)]
    }

    /// Iterations per second; the time column divided by T is the seconds per iteration.
    fn work(&self) -> WorkUnit {
        let iterations = self.shape.iterations as f64;
        let items = Some((iterations * self.shape.shape.n as f64, "points/s"));
        WorkUnit { per_call: iterations, name: "iterations/s", scale: 1.0, is_flops: false, items }
    }

    fn rows(&self) -> Option<Rows> {
        None
    }

    fn scale_inputs(&mut self, factor: f32) -> Result<(), String> {
        crate::lab::scale(&mut self.points, factor);
        crate::lab::scale(&mut self.initial, factor);
        (self.previous, self.plain) = (None, None);
        super::check_values(&self.points, &self.initial, self.shape.shape.d).map_err(|e| e.to_string())
    }

    fn run(&mut self, kernel: Kernel, _rows: usize) -> Option<u64> {
        Some(self.run_for(kernel, self.shape.iterations))
    }

    fn fill_with_junk(&mut self) {
        self.centroids.fill(f32::NAN);
        self.labels.fill(u32::MAX - 1);
        self.inertia.fill(f64::NAN);
    }

    /// Lloyd's invariants after T iterations, against the centroids the last labels were
    /// computed against, and the same bits as plain Lloyd (both kept by [`Problem::validate`]).
    fn check(&mut self, _rows: usize, _seed: u64) -> Result<String, String> {
        let (Some(previous), Some(plain)) = (&self.previous, &self.plain) else {
            return Err("a Lloyd run is checked by validate, which first runs T - 1 iterations and plain Lloyd".into());
        };
        let t = self.shape.iterations;
        let inputs = Inputs { shape: self.shape.shape, iterations: t, points: &self.points, initial: &self.initial };
        let how = check(&inputs, previous, &self.returned())?;
        let plain = Returned { centroids: &plain.centroids, labels: &plain.labels, inertia: &plain.inertia };
        same_as_plain(&plain, &self.returned())?;
        Ok(format!("{how}; identical to plain Lloyd"))
    }

    /// Runs T − 1 iterations for the centroids the last labels are computed against, and plain
    /// Lloyd once per case, then the T iterations that are checked.
    fn validate(&mut self, kernel: Kernel, rows: usize, baseline: Kernel, seed: u64) -> Result<String, String> {
        let t = self.shape.iterations;
        self.previous = Some(if t == 1 {
            self.initial.clone()
        } else {
            self.fill_with_junk();
            self.run_for(kernel, t - 1);
            self.centroids.clone()
        });
        self.plain(baseline);
        self.fill_with_junk();
        self.run_for(kernel, t);
        self.check(rows, seed)
    }

    /// A Python run may take the first points (at least k): a plain Lloyd run on fewer points is
    /// still one, and its time per call grows with n. (Hamerly's would not scale so.)
    fn external_rows(&self) -> Option<Rows> {
        Some(Rows { total: self.shape.shape.n, min: self.shape.shape.k })
    }

    fn inputs(&self) -> Vec<NamedArray<'_>> {
        let Shape { n, d, k } = self.shape.shape;
        vec![
            NamedArray { name: "x", shape: [n, d], data: &self.points, sliced: true },
            NamedArray { name: "c", shape: [k, d], data: &self.initial, sliced: false },
        ]
    }

    /// Checks 1 to 3 of a run in another process: `centroids` (k × d), `labels` (n × 1),
    /// `inertia` (T × 1) and `previous`, the centroids its own run of T − 1 iterations returned
    /// (the initial ones for T = 1). Not check 4: plain Lloyd's bits come from this lab's fixed
    /// order of f64 sums, which another language's sums need not follow.
    fn check_output(&self, rows: usize, outputs: &[Output]) -> Result<String, String> {
        let (Shape { d, k, .. }, t) = (self.shape.shape, self.shape.iterations);
        let shape = Shape { n: rows, ..self.shape.shape };
        let n = rows;
        let f32s = |name: &str, shape: [usize; 2]| Output::expect(outputs, name, shape).map(Output::to_f32);
        let centroids = f32s("centroids", [k, d])?;
        let previous = f32s("previous", [k, d])?;
        let labels = Output::expect(outputs, "labels", [n, 1])?.indices(k, "centroids")?;
        let inertia = Output::expect(outputs, "inertia", [t, 1])?.data.clone();
        let inputs = Inputs { shape, iterations: t, points: &self.points[..rows * d], initial: &self.initial };
        check(&inputs, &previous, &Returned { centroids: &centroids, labels: &labels, inertia: &inertia })
    }

    fn describe_count(&self, computed: u64) -> Option<String> {
        let LloydShape { shape, iterations } = self.shape;
        let per_point = computed as f64 / (shape.n * iterations) as f64;
        Some(format!(
            "{per_point:.2} distance computations per point per iteration in its assignments ({:.1}% of plain \
             Lloyd's k = {})",
            100.0 * per_point / shape.k as f64,
            shape.k
        ))
    }
}
