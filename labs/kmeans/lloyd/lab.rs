//! The Lloyd case as the harness, the benches and the tests see it: `cargo lab bench lloyd`.

use super::check::{Returned, check, same_as_plain};
use super::{Inputs, Kernel, LloydShape, variants};
use crate::kmeans::lab::{check_shape, data_set, label_of};
use crate::kmeans::{DataSet, Kmeans, Shape, generate};
use crate::lab::{Case, Lab, Swap, Variant, WorkUnit, kernels_with, pick, random_sizes_from};
use crate::sizes::parse_keyed;
use rand::Rng;

/// Lloyd's iterations of k-means, plain and with bounds (the k-means lab's second case).
pub struct KmeansLloyd;

/// Defaults for keys a size leaves out: the assignment's large size, 20 iterations.
const DEFAULT: LloydShape = LloydShape { shape: Shape { n: 1_000_000, d: 32, k: 256 }, iterations: 20 };

impl Lab for KmeansLloyd {
    fn name(&self) -> &'static str {
        "lloyd"
    }

    fn folder(&self) -> &'static str {
        "kmeans"
    }

    fn about(&self) -> &'static str {
        "k-means, Lloyd's iterations (assign + update) from given centroids: plain, and with Hamerly's bounds"
    }

    fn size_syntax(&self) -> &'static str {
        "n=POINTS,d=DIMS,k=CENTROIDS,iters=T[,data=blobs|normal|shifted], keys in any order, omitted ones \
         default to n=1000000,d=32,k=256,iters=20,data=blobs"
    }

    fn slice_unit(&self) -> &'static str {
        "iterations"
    }

    fn quick_sizes(&self) -> &'static [&'static str] {
        &["n=50000,d=32,k=64,iters=10"]
    }

    fn default_sizes(&self) -> &'static [&'static str] {
        &["n=1000000,d=32,k=256,iters=20", "n=100000,d=16,k=8,iters=20"]
    }

    fn bench_sizes(&self) -> &'static [&'static str] {
        &["n=20000,d=32,k=64,iters=10"]
    }

    /// One iteration and several; k = 1 and k = n; both paths of the flagship's assignment
    /// (k ≤ 16 and above); d off the lane widths; n off the chunk sizes; far-from-origin data.
    fn edge_sizes(&self) -> &'static [&'static str] {
        &[
            "n=1,d=1,k=1,iters=1",
            "n=7,d=1,k=7,iters=3",
            "n=33,d=17,k=5,iters=4",
            "n=50,d=3,k=1,iters=3",
            "n=4097,d=9,k=3,iters=5",
            "n=500,d=33,k=13,iters=3,data=shifted",
            "n=2000,d=24,k=25,iters=6",
            "n=3000,d=8,k=40,iters=8,data=normal",
            "n=300,d=400,k=20,iters=2",
        ]
    }

    fn allocation_sizes(&self) -> &'static [&'static str] {
        &["n=5000,d=20,k=7,iters=4", "n=9000,d=32,k=33,iters=4,data=shifted"]
    }

    fn flagship(&self) -> &'static str {
        "hamerly"
    }

    fn variants(&self) -> Vec<Variant> {
        variants().iter().map(Variant::describe).collect()
    }

    fn footprint(&self, size: &str) -> Result<u64, String> {
        let (LloydShape { shape, iterations }, _) = parse_size(size)?;
        // Points, initial and final centroids, labels, and the bounds' per-point state.
        let floats = [shape.n * shape.d, 3 * shape.k * shape.d, 5 * shape.n, iterations * 2];
        Ok(floats.iter().map(|&f| f as u64).sum::<u64>() * 4)
    }

    fn label(&self, size: &str) -> Result<String, String> {
        parse_size(size).map(|(shape, data)| label_of(&shape, data))
    }

    fn prepare_with(&self, size: &str, seed: u64, swap: Option<Swap<'_>>) -> Result<Box<dyn Case>, String> {
        let (shape, data) = parse_size(size)?;
        let kernels = kernels_with(variants(), swap)?;
        Ok(Box::new(LloydCase::new(shape, data, kernels, seed)))
    }

    /// Up to 2000 points of up to 40 coordinates, 30 centroids (never above n), 1 to 5 iterations.
    fn random_sizes(&self, seed: u64, count: usize) -> Vec<String> {
        random_sizes_from(seed, count, |rng| {
            let (n, d, iters) = (rng.random_range(1..=2000), rng.random_range(1..=40), rng.random_range(1..=5));
            let k = rng.random_range(1..=n.min(30));
            format!("n={n},d={d},k={k},iters={iters},data={}", pick(rng, self.data_sets()))
        })
    }

    fn data_sets(&self) -> &'static [&'static str] {
        Kmeans.data_sets()
    }
}

/// Parses `n=..,d=..,k=..,iters=..[,data=..]` (any order, defaults for omitted keys) and checks
/// the sizes make a Lloyd run: d ≥ 1, 1 ≤ k ≤ n, T ≥ 1.
pub fn parse_size(size: &str) -> Result<(LloydShape, DataSet), String> {
    let example = "n=1000000,d=32,k=256,iters=20,data=blobs";
    let ([n, d, k, iterations], data) =
        parse_keyed("lloyd", size, ["n", "d", "k", "iters"], KmeansLloyd.data_sets(), example)?;
    let shape =
        Shape { n: n.unwrap_or(DEFAULT.shape.n), d: d.unwrap_or(DEFAULT.shape.d), k: k.unwrap_or(DEFAULT.shape.k) };
    check_shape("lloyd", size, shape)?;
    let iterations = iterations.unwrap_or(DEFAULT.iterations);
    if iterations == 0 || iterations > 10_000 {
        return Err(format!("lloyd size '{size}': iters = {iterations} must be between 1 and 10000"));
    }
    let data = data_set(data);
    Ok((LloydShape { shape, iterations }, data))
}

/// Plain Lloyd's result on this case, which every other variant must match bit for bit.
struct Plain {
    centroids: Vec<f32>,
    labels: Vec<u32>,
    inertia: Vec<f64>,
}

/// One generated input and the answer buffers.
struct LloydCase {
    shape: LloydShape,
    data: DataSet,
    points: Vec<f32>,
    initial: Vec<f32>,
    centroids: Vec<f32>,
    labels: Vec<u32>,
    inertia: Vec<f64>,
    /// Per variant: the distances its last run computed.
    computed: Vec<Option<u64>>,
    kernels: Vec<Option<Kernel>>,
    plain: Option<Plain>,
}

impl LloydCase {
    fn new(shape: LloydShape, data: DataSet, kernels: Vec<Option<Kernel>>, seed: u64) -> LloydCase {
        let (points, initial) = generate(shape.shape, data, seed);
        let Shape { n, .. } = shape.shape;
        LloydCase {
            shape,
            data,
            centroids: initial.clone(),
            points,
            initial,
            labels: vec![0; n],
            inertia: vec![0.0; shape.iterations],
            computed: vec![None; kernels.len()],
            kernels,
            plain: None,
        }
    }

    /// Runs `variant` for `iterations` (at most the case's), writing the first `iterations`
    /// inertias.
    fn run_for(&mut self, variant: usize, iterations: usize) {
        let kernel = self.kernels[variant].expect("only available variants are run");
        let inputs = Inputs { shape: self.shape.shape, iterations, points: &self.points, initial: &self.initial };
        let mut computed = 0;
        let mut answer = super::Answer {
            centroids: &mut self.centroids,
            labels: &mut self.labels,
            inertia: &mut self.inertia[..iterations],
            distance_computations: &mut computed,
        };
        kernel(&inputs, &mut answer);
        self.computed[variant] = Some(computed);
    }

    fn fill_with_junk(&mut self) {
        self.centroids.fill(f32::NAN);
        self.labels.fill(u32::MAX - 1);
        self.inertia.fill(f64::NAN);
    }

    fn returned(&self) -> Returned<'_> {
        Returned { centroids: &self.centroids, labels: &self.labels, inertia: &self.inertia }
    }
}

impl Case for LloydCase {
    fn scale_inputs(&mut self, factor: f32) -> Result<(), String> {
        crate::lab::scale(&mut self.points, factor);
        crate::lab::scale(&mut self.initial, factor);
        self.plain = None;
        super::check_values(&self.points, &self.initial, self.shape.shape.d).map_err(|e| e.to_string())
    }

    fn label(&self) -> String {
        label_of(&self.shape, self.data)
    }

    fn params(&self) -> Vec<(&'static str, usize)> {
        let Shape { n, d, k } = self.shape.shape;
        vec![("n", n), ("d", d), ("k", k), ("iters", self.shape.iterations)]
    }

    /// Iterations per second; the time column divided by T is the seconds per iteration.
    fn work(&self) -> WorkUnit {
        let iterations = self.shape.iterations as f64;
        WorkUnit {
            per_call: iterations,
            name: "iterations/s",
            scale: 1.0,
            is_flops: false,
            items: Some((iterations * self.shape.shape.n as f64, "points/s")),
        }
    }

    /// Never limited: a shorter run would time the expensive first iterations only.
    fn limit(&mut self, _variant: usize, _fraction: f64) -> f64 {
        1.0
    }

    fn run(&mut self, variant: usize) {
        self.run_for(variant, self.shape.iterations);
    }

    fn validate(&mut self, variant: usize) -> Result<String, String> {
        let t = self.shape.iterations;
        // The centroids the last labels were computed against: a run of T − 1 iterations.
        let previous = if t == 1 {
            self.initial.clone()
        } else {
            self.fill_with_junk();
            self.run_for(variant, t - 1);
            self.centroids.clone()
        };
        self.fill_with_junk();
        self.run(variant);
        let inputs = Inputs { shape: self.shape.shape, iterations: t, points: &self.points, initial: &self.initial };
        let how = check(&inputs, &previous, &self.returned())?;
        if variant == 0 {
            let Returned { centroids, labels, inertia } = self.returned();
            self.plain =
                Some(Plain { centroids: centroids.to_vec(), labels: labels.to_vec(), inertia: inertia.to_vec() });
            return Ok(how);
        }
        if self.plain.is_none() {
            let (centroids, labels, inertia) = (self.centroids.clone(), self.labels.clone(), self.inertia.clone());
            self.run(0);
            let plain =
                Plain { centroids: self.centroids.clone(), labels: self.labels.clone(), inertia: self.inertia.clone() };
            (self.centroids, self.labels, self.inertia) = (centroids, labels, inertia);
            self.plain = Some(plain);
        }
        let plain = self.plain.as_ref().expect("set above");
        let plain = Returned { centroids: &plain.centroids, labels: &plain.labels, inertia: &plain.inertia };
        same_as_plain(&plain, &self.returned())?;
        Ok(format!("{how}; identical to plain Lloyd"))
    }

    fn counted(&self, variant: usize) -> Option<String> {
        let computed = self.computed[variant]? as f64;
        let LloydShape { shape, iterations } = self.shape;
        let per_point = computed / (shape.n * iterations) as f64;
        Some(format!(
            "{per_point:.2} distance computations per point per iteration in its assignments ({:.1}% of plain \
             Lloyd's k = {})",
            100.0 * per_point / shape.k as f64,
            shape.k
        ))
    }
}
