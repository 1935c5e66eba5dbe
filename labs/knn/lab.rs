//! The k-NN lab as the harness, the benches and the tests see it: sizes, data sets, inputs,
//! validation.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

use super::check::{Oracle, Returned};
use super::{Answer, Inputs, Kernel, Shape, variants};
use crate::lab::{Case, Lab, NamedArray, PythonAnchor, Swap, Variant, WorkUnit, kernels_with, pick, random_sizes_from};
use crate::sizes::parse_keyed;

/// The lab: exact k nearest neighbours in squared L2, f32.
pub struct Knn;

/// Classes the generated labels take (the vote's work does not depend on it).
const CLASSES: u32 = 10;
/// Far from the origin: `shifted` adds this to every coordinate (the expanded form's trap).
const SHIFT: f32 = 256.0;
/// In `duplicates`, each distinct training point appears this many times.
const COPIES: usize = 8;
/// Defaults for keys a size leaves out: the size faiss, scikit-learn and numpy were measured at.
const DEFAULT: Shape = Shape { n: 100_000, d: 64, m: 1000, k: 10 };

/// How the inputs are generated (`data=` in a size, or `--data`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataSet {
    /// Standard normal coordinates, points and queries alike.
    Normal,
    /// The same plus 256 on every coordinate: far from the origin, close together.
    Shifted,
    /// Normal, but every distinct training point appears 8 times: exact ties everywhere.
    Duplicates,
}

impl DataSet {
    const ALL: [DataSet; 3] = [DataSet::Normal, DataSet::Shifted, DataSet::Duplicates];

    pub fn name(self) -> &'static str {
        match self {
            DataSet::Normal => "normal",
            DataSet::Shifted => "shifted",
            DataSet::Duplicates => "duplicates",
        }
    }
}

impl Lab for Knn {
    fn name(&self) -> &'static str {
        "knn"
    }

    fn about(&self) -> &'static str {
        "exact k nearest neighbours, squared L2, f32, with a majority vote"
    }

    fn size_syntax(&self) -> &'static str {
        "n=POINTS,d=DIMS,m=QUERIES,k=NEIGHBOURS[,data=normal|shifted|duplicates], keys in any order, \
         omitted ones default to n=100000,d=64,m=1000,k=10,data=normal"
    }

    fn slice_unit(&self) -> &'static str {
        "queries"
    }

    fn quick_sizes(&self) -> &'static [&'static str] {
        &["n=20000,d=64,m=200,k=10", "n=20000,d=64,m=200,k=10,data=shifted"]
    }

    fn default_sizes(&self) -> &'static [&'static str] {
        &["n=100000,d=64,m=1000,k=10", "n=200000,d=128,m=1000,k=10", "n=100000,d=64,m=8,k=10"]
    }

    fn bench_sizes(&self) -> &'static [&'static str] {
        &["n=20000,d=64,m=100,k=10", "n=20000,d=64,m=100,k=10,data=shifted"]
    }

    /// n = 1, k = n, d = 1, d off every lane width (8, 16) and past the depth block (384),
    /// m = 0, queries off the register tiles (6, 12), points off the vector and tile widths,
    /// far-from-origin data, exact ties, and few queries on many points (the parallel split).
    fn edge_sizes(&self) -> &'static [&'static str] {
        &[
            "n=5,d=3,m=0,k=2",
            "n=1,d=1,m=1,k=1",
            "n=7,d=1,m=3,k=7",
            "n=33,d=17,m=13,k=5",
            "n=100,d=33,m=25,k=100",
            "n=257,d=8,m=17,k=3,data=duplicates",
            "n=300,d=31,m=29,k=10,data=shifted",
            "n=1000,d=64,m=3,k=10,data=shifted",
            "n=129,d=400,m=7,k=4",
            "n=600,d=16,m=40,k=20,data=duplicates",
            "n=9000,d=5,m=2,k=10",
            "n=5000,d=24,m=50,k=1,data=shifted",
            "n=2049,d=9,m=12,k=16",
            "n=40,d=2,m=1,k=40,data=duplicates",
        ]
    }

    /// Serial and parallel paths of every rung, the split over points (m = 2) included.
    fn allocation_sizes(&self) -> &'static [&'static str] {
        &["n=2000,d=20,m=30,k=5", "n=9000,d=12,m=2,k=7", "n=3000,d=64,m=100,k=10,data=shifted"]
    }

    fn flagship(&self) -> &'static str {
        "best"
    }

    fn variants(&self) -> Vec<Variant> {
        variants().iter().map(Variant::describe).collect()
    }

    fn footprint(&self, size: &str) -> Result<u64, String> {
        let (shape, _) = parse_size(size)?;
        let floats = [shape.n * shape.d, shape.n, shape.m * shape.d, 3 * shape.m * shape.k, shape.m];
        Ok(floats.iter().map(|&f| f as u64).sum::<u64>() * 4)
    }

    fn label(&self, size: &str) -> Result<String, String> {
        parse_size(size).map(|(shape, data)| label_of(&shape, data))
    }

    fn prepare_with(&self, size: &str, seed: u64, swap: Option<Swap<'_>>) -> Result<Box<dyn Case>, String> {
        let (shape, data) = parse_size(size)?;
        let kernels = kernels_with(variants(), swap)?;
        Ok(Box::new(KnnCase::new(shape, data, kernels, seed)))
    }

    /// Up to 1500 points of up to 70 coordinates, 0 to 30 queries, k up to 25 (never above n),
    /// every data set.
    fn random_sizes(&self, seed: u64, count: usize) -> Vec<String> {
        random_sizes_from(seed, count, |rng| {
            let (n, d, m) = (rng.random_range(1..=1500), rng.random_range(1..=70), rng.random_range(0..=30));
            let k = rng.random_range(1..=n.min(25));
            format!("n={n},d={d},m={m},k={k},data={}", pick(rng, self.data_sets()))
        })
    }

    fn data_sets(&self) -> &'static [&'static str] {
        &["normal", "shifted", "duplicates"] // DataSet::ALL's names, the default first
    }

    fn python_anchors(&self) -> &'static [PythonAnchor] {
        &[
            PythonAnchor { name: "faiss", summary: "faiss IndexFlatL2.search, faiss's own choice of path" },
            PythonAnchor {
                name: "faiss-blas",
                summary: "faiss IndexFlatL2.search, sgemm path forced (distance_compute_blas_threshold = 0)",
            },
            PythonAnchor { name: "sklearn", summary: "scikit-learn NearestNeighbors(algorithm='brute').kneighbors" },
            PythonAnchor {
                name: "numpy", summary: "numpy: ‖q‖² + ‖x‖² − 2·Q·Xᵀ per 128 queries, argpartition"
            },
        ]
    }
}

/// Parses `n=..,d=..,m=..,k=..[,data=..]` (any order, defaults for omitted keys) and checks the
/// sizes make a search: d ≥ 1, 1 ≤ k ≤ n.
pub fn parse_size(size: &str) -> Result<(Shape, DataSet), String> {
    let example = "n=100000,d=64,m=1000,k=10,data=shifted";
    let ([n, d, m, k], data) = parse_keyed("knn", size, ["n", "d", "m", "k"], Knn.data_sets(), example)?;
    let shape = Shape {
        n: n.unwrap_or(DEFAULT.n),
        d: d.unwrap_or(DEFAULT.d),
        m: m.unwrap_or(DEFAULT.m),
        k: k.unwrap_or(DEFAULT.k),
    };
    let data = DataSet::ALL.into_iter().find(|set| Some(set.name()) == data).unwrap_or(DataSet::Normal);
    if shape.d == 0 {
        return Err(format!("knn size '{size}': d = 0, points need at least one coordinate"));
    }
    if shape.k == 0 || shape.k > shape.n {
        return Err(format!("knn size '{size}': k = {} must be between 1 and n = {}", shape.k, shape.n));
    }
    let too_large = || format!("knn size '{size}' is too large to allocate or index");
    if shape.n > u32::MAX as usize {
        return Err(too_large());
    }
    for (rows, cols) in [(shape.n, shape.d), (shape.m, shape.d), (shape.m, shape.k)] {
        rows.checked_mul(cols).filter(|&len| len <= isize::MAX as usize / 8).ok_or_else(too_large)?;
    }
    Ok((shape, data))
}

/// `rows × cols` standard normal values, plus `shift`.
fn normal_rows(rows: usize, cols: usize, shift: f32, rng: &mut StdRng) -> Vec<f32> {
    (0..rows * cols).map(|_| rng.sample::<f32, _>(StandardNormal) + shift).collect()
}

/// One generated input, the answer buffers, and the oracle's cache.
struct KnnCase {
    shape: Shape,
    data: DataSet,
    train: Vec<f32>,
    labels: Vec<u32>,
    queries: Vec<f32>,
    indices: Vec<u32>,
    distances: Vec<f32>,
    classes: Vec<u32>,
    /// Queries each variant runs on: all of them unless the variant is limited.
    rows: Vec<usize>,
    kernels: Vec<Option<Kernel>>,
    oracle: Oracle,
}

/// Generated inputs: training points, their labels and queries, the same for the same seed.
pub fn generate(shape: Shape, data: DataSet, seed: u64) -> (Vec<f32>, Vec<u32>, Vec<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let shift = if data == DataSet::Shifted { SHIFT } else { 0.0 };
    let train = match data {
        DataSet::Duplicates => {
            let count = shape.n.div_ceil(COPIES);
            let distinct = normal_rows(count, shape.d, 0.0, &mut rng);
            (0..shape.n).flat_map(|i| &distinct[(i % count) * shape.d..][..shape.d]).copied().collect()
        }
        _ => normal_rows(shape.n, shape.d, shift, &mut rng),
    };
    let labels = (0..shape.n).map(|_| rng.random_range(0..CLASSES)).collect();
    let queries = normal_rows(shape.m, shape.d, shift, &mut rng);
    (train, labels, queries)
}

impl KnnCase {
    fn new(shape: Shape, data: DataSet, kernels: Vec<Option<Kernel>>, seed: u64) -> KnnCase {
        let (train, labels, queries) = generate(shape, data, seed);
        KnnCase {
            shape,
            data,
            train,
            labels,
            queries,
            indices: vec![0; shape.m * shape.k],
            distances: vec![0.0; shape.m * shape.k],
            classes: vec![0; shape.m],
            rows: vec![shape.m; kernels.len()],
            kernels,
            oracle: Oracle::default(),
        }
    }

    /// The inputs with the first `rows` queries.
    fn search_inputs(&self, rows: usize) -> Inputs<'_> {
        let d = self.shape.d;
        Inputs {
            shape: Shape { m: rows, ..self.shape },
            train: &self.train,
            labels: &self.labels,
            queries: &self.queries[..rows * d],
        }
    }
}

impl Case for KnnCase {
    fn scale_inputs(&mut self, factor: f32) -> Result<(), String> {
        crate::lab::scale(&mut self.train, factor);
        crate::lab::scale(&mut self.queries, factor);
        self.oracle = Oracle::default();
        super::check_values(&self.train, &self.queries, self.shape.d).map_err(|e| e.to_string())
    }

    fn label(&self) -> String {
        label_of(&self.shape, self.data)
    }

    fn params(&self) -> Vec<(&'static str, usize)> {
        let Shape { n, d, m, k } = self.shape;
        vec![("n", n), ("d", d), ("m", m), ("k", k)]
    }

    fn work(&self) -> WorkUnit {
        WorkUnit {
            per_call: self.shape.flops(),
            name: "GFLOP/s",
            scale: 1e9,
            is_flops: true,
            items: Some((self.shape.m as f64, "queries/s")),
        }
    }

    fn limit(&mut self, variant: usize, fraction: f64) -> f64 {
        let m = self.shape.m;
        let rows = ((m as f64 * fraction).ceil() as usize).clamp(m.min(1), m);
        self.rows[variant] = rows;
        if m == 0 { 1.0 } else { rows as f64 / m as f64 }
    }

    fn run(&mut self, variant: usize) {
        let rows = self.rows[variant];
        let kernel = self.kernels[variant].expect("only available variants are run");
        let (m, k) = (rows, self.shape.k);
        let inputs = Inputs {
            shape: Shape { m, ..self.shape },
            train: &self.train,
            labels: &self.labels,
            queries: &self.queries[..m * self.shape.d],
        };
        let mut answer = Answer {
            indices: &mut self.indices[..m * k],
            distances: &mut self.distances[..m * k],
            classes: &mut self.classes[..m],
        };
        kernel(&inputs, &mut answer);
    }

    fn validate(&mut self, variant: usize) -> Result<String, String> {
        // Junk in every slot: a kernel that skips a query, or returns early, cannot pass.
        self.indices.fill(u32::MAX - 1);
        self.distances.fill(f32::NAN);
        self.classes.fill(u32::MAX - 1);
        self.run(variant);
        let rows = self.rows[variant];
        let k = self.shape.k;
        let returned = Returned {
            indices: &self.indices[..rows * k],
            distances: &self.distances[..rows * k],
            classes: Some(&self.classes[..rows]),
        };
        let inputs = Inputs {
            shape: Shape { m: rows, ..self.shape },
            train: &self.train,
            labels: &self.labels,
            queries: &self.queries[..rows * self.shape.d],
        };
        self.oracle.check(&inputs, &returned)
    }

    fn inputs(&self) -> Vec<NamedArray<'_>> {
        let Shape { n, d, m, .. } = self.shape;
        vec![
            NamedArray { name: "x", shape: [n, d], data: &self.train },
            NamedArray { name: "q", shape: [m, d], data: &self.queries },
        ]
    }

    /// An anchor's output is m × 2k: the k indices (as f32, exact below 2²⁴) then the k distances.
    fn check_output(&self, shape: &[usize], output: &[f32]) -> Result<String, String> {
        let Shape { n, m, k, .. } = self.shape;
        if shape != [m, 2 * k] || output.len() != m * 2 * k {
            return Err(format!("the output has shape {shape:?}, expected [{m}, {}] (indices, then distances)", 2 * k));
        }
        let mut indices = Vec::with_capacity(m * k);
        let mut distances = Vec::with_capacity(m * k);
        for row in output.chunks_exact(2 * k) {
            for &index in &row[..k] {
                if index.fract() != 0.0 || index < 0.0 || index >= n as f32 || n >= 1 << 24 {
                    return Err(format!("{index} is not the index of one of the {n} training points"));
                }
                indices.push(index as u32);
            }
            distances.extend_from_slice(&row[k..]);
        }
        let returned = Returned { indices: &indices, distances: &distances, classes: None };
        // The oracle's cache is per case; an anchor's check is rare, so a fresh oracle will do.
        Oracle::default().check(&self.search_inputs(m), &returned)
    }
}

/// A size as printed: the shape, and the data set unless it is the default.
fn label_of(shape: &impl std::fmt::Display, data: DataSet) -> String {
    match data {
        DataSet::Normal => shape.to_string(),
        data => format!("{shape},data={}", data.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_sets_listed_are_the_ones_generated_default_first() {
        assert_eq!(Knn.data_sets(), DataSet::ALL.map(DataSet::name));
        assert_eq!(parse_size("n=5,k=1").map(|(_, data)| data), Ok(DataSet::ALL[0]));
    }
}
