//! The k-means lab as the harness, the benches and the tests see it: sizes, data sets, inputs,
//! validation.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

use super::check::{Returned, check};
use super::{Answer, Inputs, Kernel, Shape, variants};
use crate::knn::squared_distance;
use crate::lab::{Case, Lab, NamedArray, PythonAnchor, Swap, Variant, WorkUnit, kernels_with, pick, random_sizes_from};
use crate::sizes::parse_keyed;

/// The lab: the k-means assignment step, squared L2, f32.
pub struct Kmeans;

/// Far from the origin: `shifted` adds this to every coordinate.
const SHIFT: f32 = 256.0;
/// Spread of the true centres of `blobs` (each point is its centre plus standard normal noise).
const BLOB_SPREAD: f32 = 5.0;
/// Defaults for keys a size leaves out: the size faiss and scikit-learn were measured at.
const DEFAULT: Shape = Shape { n: 1_000_000, d: 32, k: 256 };

/// How the inputs are generated (`data=` in a size, or `--data`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataSet {
    /// Points around k true centres, as real clustering input looks; the centroids are k points.
    Blobs,
    /// Standard normal points; the centroids are k of them.
    Normal,
    /// Normal plus 256 on every coordinate: the expanded form's trap.
    Shifted,
}

impl DataSet {
    const ALL: [DataSet; 3] = [DataSet::Blobs, DataSet::Normal, DataSet::Shifted];

    pub fn name(self) -> &'static str {
        match self {
            DataSet::Blobs => "blobs",
            DataSet::Normal => "normal",
            DataSet::Shifted => "shifted",
        }
    }
}

impl Lab for Kmeans {
    fn name(&self) -> &'static str {
        "kmeans"
    }

    fn about(&self) -> &'static str {
        "the k-means assignment step: every point's nearest centroid, squared L2, f32, and the inertia"
    }

    fn size_syntax(&self) -> &'static str {
        "n=POINTS,d=DIMS,k=CENTROIDS[,data=blobs|normal|shifted], keys in any order, omitted ones default \
         to n=1000000,d=32,k=256,data=blobs"
    }

    fn slice_unit(&self) -> &'static str {
        "points"
    }

    fn quick_sizes(&self) -> &'static [&'static str] {
        &["n=50000,d=32,k=64"]
    }

    fn default_sizes(&self) -> &'static [&'static str] {
        &["n=1000000,d=32,k=256", "n=100000,d=16,k=8"]
    }

    fn bench_sizes(&self) -> &'static [&'static str] {
        &["n=20000,d=32,k=64", "n=20000,d=16,k=8,data=shifted"]
    }

    /// k = 1, k = n, d = 1, d off every lane width and past the depth block (384), n off the
    /// inertia chunk (4096) and the register tiles, far-from-origin data, blobs.
    fn edge_sizes(&self) -> &'static [&'static str] {
        &[
            "n=1,d=1,k=1",
            "n=7,d=1,k=7",
            "n=33,d=17,k=5",
            "n=100,d=5,k=100",
            "n=4097,d=9,k=3",
            "n=500,d=33,k=13,data=shifted",
            "n=8200,d=16,k=8,data=shifted",
            "n=300,d=400,k=13",
            "n=1000,d=4,k=40,data=normal",
            "n=2000,d=24,k=25",
        ]
    }

    /// Serial and parallel paths (more than one chunk of 4096 points), edges included.
    fn allocation_sizes(&self) -> &'static [&'static str] {
        &["n=5000,d=20,k=7", "n=9000,d=32,k=33,data=shifted"]
    }

    fn flagship(&self) -> &'static str {
        "best"
    }

    fn variants(&self) -> Vec<Variant> {
        variants().iter().map(Variant::describe).collect()
    }

    fn footprint(&self, size: &str) -> Result<u64, String> {
        let (shape, _) = parse_size(size)?;
        let floats = [shape.n * shape.d, shape.k * shape.d, 2 * shape.n];
        Ok(floats.iter().map(|&f| f as u64).sum::<u64>() * 4)
    }

    fn label(&self, size: &str) -> Result<String, String> {
        parse_size(size).map(|(shape, data)| label_of(&shape, data))
    }

    fn prepare_with(&self, size: &str, seed: u64, swap: Option<Swap<'_>>) -> Result<Box<dyn Case>, String> {
        let (shape, data) = parse_size(size)?;
        let kernels = kernels_with(variants(), swap)?;
        Ok(Box::new(KmeansCase::new(shape, data, kernels, seed)))
    }

    /// Up to 5000 points of up to 70 coordinates and 70 centroids (never above n), every data set.
    fn random_sizes(&self, seed: u64, count: usize) -> Vec<String> {
        random_sizes_from(seed, count, |rng| {
            let (n, d) = (rng.random_range(1..=5000), rng.random_range(1..=70));
            let k = rng.random_range(1..=n.min(70));
            format!("n={n},d={d},k={k},data={}", pick(rng, self.data_sets()))
        })
    }

    fn data_sets(&self) -> &'static [&'static str] {
        &["blobs", "normal", "shifted"] // DataSet::ALL's names, the default first
    }

    fn python_anchors(&self) -> &'static [PythonAnchor] {
        &[
            PythonAnchor { name: "faiss", summary: "faiss IndexFlatL2(C).search(X, 1), as faiss's k-means does" },
            PythonAnchor {
                name: "sklearn",
                summary: "scikit-learn's Lloyd labelling kernel (chunks of 256, a GEMM each)",
            },
            PythonAnchor { name: "numpy", summary: "numpy: argmin of ‖c‖² − 2·X·Cᵀ per chunk of points" },
        ]
    }
}

/// Parses `n=..,d=..,k=..[,data=..]` (any order, defaults for omitted keys) and checks the sizes
/// make an assignment: d ≥ 1, 1 ≤ k ≤ n.
pub fn parse_size(size: &str) -> Result<(Shape, DataSet), String> {
    let example = "n=1000000,d=32,k=256,data=shifted";
    let ([n, d, k], data) = parse_keyed("kmeans", size, ["n", "d", "k"], Kmeans.data_sets(), example)?;
    let shape = Shape { n: n.unwrap_or(DEFAULT.n), d: d.unwrap_or(DEFAULT.d), k: k.unwrap_or(DEFAULT.k) };
    check_shape("kmeans", size, shape)?;
    Ok((shape, data_set(data)))
}

/// The data set `data=` named, blobs if none.
pub(crate) fn data_set(name: Option<&str>) -> DataSet {
    DataSet::ALL.into_iter().find(|set| Some(set.name()) == name).unwrap_or(DataSet::Blobs)
}

/// Whether `shape` (parsed from `size`) makes an assignment: d ≥ 1, 1 ≤ k ≤ n, and it fits.
pub(crate) fn check_shape(lab: &str, size: &str, shape: Shape) -> Result<(), String> {
    if shape.d == 0 {
        return Err(format!("{lab} size '{size}': d = 0, points need at least one coordinate"));
    }
    if shape.k == 0 || shape.k > shape.n {
        return Err(format!("{lab} size '{size}': k = {} must be between 1 and n = {}", shape.k, shape.n));
    }
    if shape.k >= 1 << 24 || shape.n.checked_mul(shape.d).is_none_or(|len| len > isize::MAX as usize / 8) {
        return Err(format!("{lab} size '{size}' is too large to allocate or index"));
    }
    Ok(())
}

/// Generated inputs: the points and the centroids (k of the points), the same for the same seed.
pub fn generate(shape: Shape, data: DataSet, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let Shape { n, d, k } = shape;
    let normal = |rng: &mut StdRng| rng.sample::<f32, _>(StandardNormal);
    let points: Vec<f32> = match data {
        DataSet::Blobs => {
            let centres: Vec<f32> = (0..k * d).map(|_| BLOB_SPREAD * normal(&mut rng)).collect();
            let mut points = Vec::with_capacity(n * d);
            for _ in 0..n {
                let centre = rng.random_range(0..k);
                points.extend(centres[centre * d..][..d].iter().map(|&c| c + normal(&mut rng)));
            }
            points
        }
        DataSet::Normal => (0..n * d).map(|_| normal(&mut rng)).collect(),
        DataSet::Shifted => (0..n * d).map(|_| normal(&mut rng) + SHIFT).collect(),
    };
    // Centroids: k distinct points, as a k-means initialisation would pick them.
    let step = n / k;
    let centroids = (0..k).flat_map(|j| points[(j * step + rng.random_range(0..step)) * d..][..d].to_vec()).collect();
    (points, centroids)
}

/// One generated input and the answer buffers.
struct KmeansCase {
    shape: Shape,
    data: DataSet,
    points: Vec<f32>,
    centroids: Vec<f32>,
    labels: Vec<u32>,
    distances: Vec<f32>,
    inertia: f64,
    /// Points each variant runs on: all of them unless the variant is limited.
    rows: Vec<usize>,
    kernels: Vec<Option<Kernel>>,
}

impl KmeansCase {
    fn new(shape: Shape, data: DataSet, kernels: Vec<Option<Kernel>>, seed: u64) -> KmeansCase {
        let (points, centroids) = generate(shape, data, seed);
        KmeansCase {
            shape,
            data,
            points,
            centroids,
            labels: vec![0; shape.n],
            distances: vec![0.0; shape.n],
            inertia: 0.0,
            rows: vec![shape.n; kernels.len()],
            kernels,
        }
    }

    /// The inputs with the first `rows` points.
    fn first_points(&self, rows: usize) -> Inputs<'_> {
        Inputs {
            shape: Shape { n: rows, ..self.shape },
            points: &self.points[..rows * self.shape.d],
            centroids: &self.centroids,
        }
    }
}

impl Case for KmeansCase {
    fn scale_inputs(&mut self, factor: f32) -> Result<(), String> {
        crate::lab::scale(&mut self.points, factor);
        crate::lab::scale(&mut self.centroids, factor);
        super::check_values(&self.points, &self.centroids, self.shape.d).map_err(|e| e.to_string())
    }

    fn label(&self) -> String {
        label_of(&self.shape, self.data)
    }

    fn params(&self) -> Vec<(&'static str, usize)> {
        let Shape { n, d, k } = self.shape;
        vec![("n", n), ("d", d), ("k", k)]
    }

    fn work(&self) -> WorkUnit {
        WorkUnit {
            per_call: self.shape.flops(),
            name: "GFLOP/s",
            scale: 1e9,
            is_flops: true,
            items: Some((self.shape.n as f64, "points/s")),
        }
    }

    fn limit(&mut self, variant: usize, fraction: f64) -> f64 {
        // At least k points: the slice must still be an assignment (k ≤ n).
        let (n, k) = (self.shape.n, self.shape.k);
        let rows = ((n as f64 * fraction).ceil() as usize).clamp(k, n);
        self.rows[variant] = rows;
        rows as f64 / n as f64
    }

    fn run(&mut self, variant: usize) {
        let rows = self.rows[variant];
        let kernel = self.kernels[variant].expect("only available variants are run");
        let inputs = Inputs {
            shape: Shape { n: rows, ..self.shape },
            points: &self.points[..rows * self.shape.d],
            centroids: &self.centroids,
        };
        let mut answer = Answer {
            labels: &mut self.labels[..rows],
            distances: &mut self.distances[..rows],
            inertia: &mut self.inertia,
        };
        kernel(&inputs, &mut answer);
    }

    fn validate(&mut self, variant: usize) -> Result<String, String> {
        // Junk everywhere: a kernel that skips a point, or returns early, cannot pass.
        self.labels.fill(u32::MAX - 1);
        self.distances.fill(f32::NAN);
        self.inertia = f64::NAN;
        self.run(variant);
        let rows = self.rows[variant];
        let returned =
            Returned { labels: &self.labels[..rows], distances: &self.distances[..rows], inertia: Some(self.inertia) };
        check(&self.first_points(rows), &returned)
    }

    fn inputs(&self) -> Vec<NamedArray<'_>> {
        let Shape { n, d, k } = self.shape;
        vec![
            NamedArray { name: "x", shape: [n, d], data: &self.points },
            NamedArray { name: "c", shape: [k, d], data: &self.centroids },
        ]
    }

    /// An anchor's output is n × 1: the labels (as f32, exact below 2²⁴). Its distances are the
    /// direct form's, computed here, so only the labels are the anchor's.
    fn check_output(&self, shape: &[usize], output: &[f32]) -> Result<String, String> {
        let Shape { n, k, .. } = self.shape;
        if shape != [n, 1] || output.len() != n {
            return Err(format!("the output has shape {shape:?}, expected [{n}, 1] (one label per point)"));
        }
        let mut labels = Vec::with_capacity(n);
        for &label in output {
            if label.fract() != 0.0 || label < 0.0 || label >= k as f32 {
                return Err(format!("{label} is not the index of one of the {k} centroids"));
            }
            labels.push(label as u32);
        }
        let inputs = self.first_points(n);
        let distances: Vec<f32> = labels
            .iter()
            .enumerate()
            .map(|(i, &c)| squared_distance(inputs.point(i), inputs.centroid(c as usize)))
            .collect();
        check(&inputs, &Returned { labels: &labels, distances: &distances, inertia: None })
    }
}

/// A size as printed: the shape, and the data set unless it is the default.
pub(crate) fn label_of(shape: &impl std::fmt::Display, data: DataSet) -> String {
    match data {
        DataSet::Blobs => shape.to_string(),
        data => format!("{shape},data={}", data.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_sets_listed_are_the_ones_generated_default_first() {
        assert_eq!(Kmeans.data_sets(), DataSet::ALL.map(DataSet::name));
        assert_eq!(parse_size("n=5,k=1").map(|(_, data)| data), Ok(DataSet::ALL[0]));
    }

    #[test]
    fn sizes_parse_in_any_order_with_defaults_or_say_what_is_expected() {
        assert_eq!(parse_size("k=5,n=10"), Ok((Shape { n: 10, d: 32, k: 5 }, DataSet::Blobs)));
        assert_eq!(parse_size("data=shifted,d=3,k=2,n=4").unwrap(), (Shape { n: 4, d: 3, k: 2 }, DataSet::Shifted));
        for (bad, says) in [
            ("n=10,k=11", "between 1 and n = 10"),
            ("n=10,k=0", "between 1 and n"),
            ("d=0", "d = 0"),
            ("k=5,k=6", "gives k twice"),
            ("m=5", "unknown key 'm'"),
            ("data=duplicates", "unknown data set 'duplicates'"),
            ("256", "expected keys n, d, k and data"),
        ] {
            let error = parse_size(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
