//! The Lloyd case's own tests (every variant on every edge size, compared with plain Lloyd, runs
//! in `tests/every_lab.rs`).

use proptest::prelude::*;

use super::check::{Returned, check, same_as_plain};
use super::solutions::{hamerly, lloyd};
use super::*;
use crate::Lab;
use crate::assignment::{DataSet, generate};
use crate::simd::{SimdLevel, simd_level};

/// Owned points and initial centroids, and a run's result.
struct Owned {
    shape: Shape,
    iterations: usize,
    points: Vec<f32>,
    initial: Vec<f32>,
}

/// A run's result: centroids, labels, inertia per iteration, distances computed.
#[derive(Debug, PartialEq)]
struct Run {
    centroids: Vec<u32>,
    labels: Vec<u32>,
    inertia: Vec<u64>,
    computed: u64,
}

impl Owned {
    fn generated(shape: Shape, iterations: usize, data: DataSet, seed: u64) -> Owned {
        let (points, initial) = generate(shape, data, seed);
        Owned { shape, iterations, points, initial }
    }

    /// Coordinates on a small integer grid: many exact ties between centroids.
    fn grid(shape: Shape, iterations: usize, seed: u64) -> Owned {
        use rand::{Rng, SeedableRng, rngs::StdRng};
        let mut rng = StdRng::seed_from_u64(seed);
        let points: Vec<f32> = (0..shape.n * shape.d).map(|_| rng.random_range(0..4) as f32).collect();
        let initial = points[..shape.k * shape.d].to_vec();
        Owned { shape, iterations, points, initial }
    }

    fn inputs(&self) -> Inputs<'_> {
        Inputs { shape: self.shape, iterations: self.iterations, points: &self.points, initial: &self.initial }
    }

    /// Runs `kernel` on junk-filled buffers; centroids and inertia as bits.
    fn run(&self, kernel: impl Fn(&Inputs, &mut Answer)) -> Run {
        let (mut centroids, mut labels) = (vec![f32::NAN; self.shape.k * self.shape.d], vec![u32::MAX; self.shape.n]);
        let (mut inertia, mut computed) = (vec![f64::NAN; self.iterations], 0);
        let mut answer = Answer {
            centroids: &mut centroids,
            labels: &mut labels,
            inertia: &mut inertia,
            distance_computations: &mut computed,
        };
        kernel(&self.inputs(), &mut answer);
        Run {
            centroids: centroids.iter().map(|x| x.to_bits()).collect(),
            labels,
            inertia: inertia.iter().map(|x| x.to_bits()).collect(),
            computed,
        }
    }

    /// The oracle's verdict on `run` (checks 1 to 3), given the previous iteration's centroids.
    fn check(&self, run: &Run) -> Result<String, String> {
        let previous = if self.iterations == 1 {
            self.initial.clone()
        } else {
            let shorter = Owned { iterations: self.iterations - 1, ..self.clone_data() };
            floats(&shorter.run(lloyd::lloyd).centroids)
        };
        let (centroids, inertia) =
            (floats(&run.centroids), run.inertia.iter().map(|&b| f64::from_bits(b)).collect::<Vec<_>>());
        check(&self.inputs(), &previous, &Returned { centroids: &centroids, labels: &run.labels, inertia: &inertia })
    }

    fn clone_data(&self) -> Owned {
        Owned { points: self.points.clone(), initial: self.initial.clone(), ..*self }
    }
}

fn floats(bits: &[u32]) -> Vec<f32> {
    bits.iter().map(|&b| f32::from_bits(b)).collect()
}

/// Plain Lloyd and Hamerly at `level`: the oracle accepts plain, and Hamerly is the same bits.
fn assert_hamerly_is_plain(owned: &Owned, level: SimdLevel) {
    let plain = owned.run(|i, a| lloyd::lloyd_at(level, i, a));
    let bounded = owned.run(|i, a| hamerly::lloyd_at(level, i, a));
    let at = format!("{},iters={} at {level}", owned.shape, owned.iterations);
    owned.check(&plain).unwrap_or_else(|e| panic!("plain Lloyd on {at}: {e}"));
    assert_eq!(plain.labels, bounded.labels, "labels on {at}");
    assert_eq!(plain.centroids, bounded.centroids, "centroids on {at}");
    assert_eq!(plain.inertia, bounded.inertia, "inertia on {at}");
    assert_eq!(plain.computed, (owned.shape.n * owned.shape.k * owned.iterations) as u64);
    // At worst every point tightens its bound (one distance) and still needs all k.
    let worst = (owned.shape.n * (owned.shape.k + 1) * owned.iterations) as u64;
    assert!(bounded.computed <= worst, "{at}: hamerly computed {} distances, more than {worst}", bounded.computed);
}

#[test]
fn hamerly_gives_plain_lloyds_bits_on_edge_shapes_and_data_sets() {
    let cases = [
        (Shape { n: 1, d: 1, k: 1 }, 1, DataSet::Normal),
        (Shape { n: 7, d: 1, k: 7 }, 4, DataSet::Normal),
        (Shape { n: 50, d: 3, k: 1 }, 3, DataSet::Blobs),
        (Shape { n: 4100, d: 9, k: 3 }, 6, DataSet::Blobs),
        (Shape { n: 2000, d: 16, k: 16 }, 8, DataSet::Shifted),
        (Shape { n: 3000, d: 24, k: 17 }, 8, DataSet::Shifted),
        (Shape { n: 5000, d: 33, k: 40 }, 10, DataSet::Blobs),
        // k·d = 2400: the assignment's GEMM form on every CPU (Zen takes the direct form above).
        (Shape { n: 3000, d: 40, k: 60 }, 6, DataSet::Blobs),
    ];
    for (shape, iterations, data) in cases {
        let owned = Owned::generated(shape, iterations, data, 7);
        for level in SimdLevel::available() {
            assert_hamerly_is_plain(&owned, level);
        }
    }
}

#[test]
fn exact_ties_on_a_grid_keep_the_lower_centroid_in_both() {
    // k = 700 of 3 coordinates: the assignment's GEMM form on every CPU, and its tie-break.
    let shapes =
        [(Shape { n: 400, d: 2, k: 6 }, 5), (Shape { n: 2000, d: 3, k: 30 }, 6), (Shape { n: 2000, d: 3, k: 700 }, 3)];
    for (shape, iterations) in shapes {
        let owned = Owned::grid(shape, iterations, 3);
        for level in SimdLevel::available() {
            assert_hamerly_is_plain(&owned, level);
        }
    }
}

#[test]
fn an_empty_cluster_keeps_its_centroid() {
    // Two tight groups and a third centroid far from both: it never gets a point.
    let shape = Shape { n: 6, d: 2, k: 3 };
    let points = vec![0.0, 0.0, 0.1, 0.0, 0.0, 0.1, 10.0, 10.0, 10.1, 10.0, 10.0, 10.1];
    let initial = vec![0.0, 0.0, 10.0, 10.0, -500.0, 300.0];
    let owned = Owned { shape, iterations: 3, points, initial };
    for kernel in [lloyd::lloyd as Kernel, hamerly::lloyd] {
        let run = owned.run(kernel);
        assert_eq!(run.labels, [0, 0, 0, 1, 1, 1]);
        assert_eq!(floats(&run.centroids)[4..], [-500.0, 300.0], "the empty cluster's centroid moved");
        let mean = (0.1f64 / 3.0) as f32;
        assert_eq!(floats(&run.centroids)[..4], [mean, mean, 10.0 + mean, 10.0 + mean]);
        owned.check(&run).unwrap();
    }
}

#[test]
fn results_are_the_same_bits_on_one_two_and_three_threads() {
    let owned = Owned::generated(Shape { n: 20_000, d: 12, k: 24 }, 6, DataSet::Blobs, 5);
    for kernel in [lloyd::lloyd as Kernel, hamerly::lloyd] {
        let runs: Vec<Run> = [1, 2, 3]
            .iter()
            .map(|&threads| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                pool.install(|| owned.run(kernel))
            })
            .collect();
        assert_eq!(runs[0], runs[1]);
        assert_eq!(runs[0], runs[2]);
    }
}

#[test]
fn bounds_skip_most_distances_once_the_centroids_settle() {
    let owned = Owned::generated(Shape { n: 20_000, d: 16, k: 32 }, 20, DataSet::Blobs, 11);
    let (plain, bounded) = (owned.run(lloyd::lloyd), owned.run(hamerly::lloyd));
    assert_eq!(plain.labels, bounded.labels);
    // The first iteration computes everything; 20 iterations must average well below that.
    assert!(bounded.computed * 2 < plain.computed, "hamerly computed {} of {}", bounded.computed, plain.computed);
}

#[test]
fn the_checked_entry_point_refuses_bad_runs_with_clear_errors() {
    let owned = Owned::generated(Shape { n: 10, d: 3, k: 2 }, 2, DataSet::Normal, 1);
    let (mut centroids, mut labels, mut inertia, mut computed) = (vec![0.0; 6], vec![0; 10], vec![0.0; 2], 0);
    let mut attempt = |inputs: Inputs, inertia_len: usize| {
        let mut answer = Answer {
            centroids: &mut centroids,
            labels: &mut labels,
            inertia: &mut inertia[..inertia_len],
            distance_computations: &mut computed,
        };
        run(hamerly::lloyd, &inputs, &mut answer).map_err(|e| e.to_string())
    };
    let good = owned.inputs();
    assert_eq!(attempt(good, 2), Ok(()));
    let cases = [
        (Inputs { iterations: 0, ..good }, 0, "iterations = 0"),
        (Inputs { shape: Shape { k: 11, ..good.shape }, ..good }, 2, "k = 11 centroids"),
        (Inputs { shape: Shape { d: 0, ..good.shape }, ..good }, 2, "d = 0"),
        (Inputs { initial: &owned.initial[..5], ..good }, 2, "initial centroids: 5 values given"),
        (good, 1, "inertia (one per iteration): 1 values given"),
    ];
    for (inputs, inertia_len, says) in cases {
        let error = attempt(inputs, inertia_len).unwrap_err();
        assert!(error.contains(says), "expected '{says}' in: {error}");
    }
    let mut bad = owned.points.clone();
    bad[7] = f32::NAN;
    let error = attempt(Inputs { points: &bad, ..good }, 2).unwrap_err();
    assert!(error.contains("points hold NaN at row 2, coordinate 1"), "{error}");
}

#[test]
fn the_oracle_catches_a_wrong_update_a_rising_inertia_and_a_changed_label() {
    let owned = Owned::generated(Shape { n: 3000, d: 8, k: 10 }, 4, DataSet::Blobs, 2);
    let run = owned.run(lloyd::lloyd);
    owned.check(&run).unwrap();

    let mut moved = run.centroids.clone();
    moved[13] = (f32::from_bits(moved[13]) + 1e-3).to_bits();
    let error = owned.check(&Run { centroids: moved, ..owned.run(lloyd::lloyd) }).unwrap_err();
    assert!(error.contains("centroid 1, coordinate 5"), "{error}");

    let mut rising = run.inertia.clone();
    rising[2] = (f64::from_bits(rising[1]) * 1.01).to_bits();
    let error = owned.check(&Run { inertia: rising, ..owned.run(lloyd::lloyd) }).unwrap_err();
    assert!(error.contains("inertia rose"), "{error}");

    let mut relabelled = run.labels.clone();
    relabelled[100] = (relabelled[100] + 1) % 10;
    let (centroids, inertia) =
        (floats(&run.centroids), run.inertia.iter().map(|&b| f64::from_bits(b)).collect::<Vec<_>>());
    let plain = Returned { centroids: &centroids, labels: &run.labels, inertia: &inertia };
    let error = same_as_plain(&plain, &Returned { labels: &relabelled, ..plain }).unwrap_err();
    assert!(error.contains("point 100"), "{error}");
    let error = owned.check(&Run { labels: relabelled, ..owned.run(lloyd::lloyd) }).unwrap_err();
    assert!(error.contains("point 100"), "{error}");
}

#[test]
fn sizes_parse_with_iterations_and_refuse_what_is_not_a_run() {
    let parsed = parse_size("iters=5,k=2,n=10").unwrap();
    assert_eq!(parsed, (LloydShape { shape: Shape { n: 10, d: 32, k: 2 }, iterations: 5 }, DataSet::Blobs));
    assert_eq!(parse_size("n=10,k=2").unwrap().0.iterations, 20);
    for (bad, says) in
        [("n=10,k=2,iters=0", "iters = 0"), ("n=10,k=11", "between 1 and n = 10"), ("m=3", "unknown key 'm'")]
    {
        let error = parse_size(bad).unwrap_err();
        assert!(error.contains(says), "{bad}: {error}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn hamerly_gives_plain_lloyds_bits_on_random_shapes(
        n in 1usize..600, d in 1usize..24, k_fraction in 0.0f64..1.0, iterations in 1usize..8, data in 0usize..3,
    ) {
        let k = 1 + ((n - 1) as f64 * k_fraction * 0.1) as usize;
        let data = [DataSet::Blobs, DataSet::Normal, DataSet::Shifted][data];
        let owned = Owned::generated(Shape { n, d, k }, iterations, data, (n * d + k) as u64);
        assert_hamerly_is_plain(&owned, simd_level());
    }
}

#[test]
fn the_sizes_pin_the_assignments_form_where_they_must() {
    crate::assignment::best::assert_sizes_pin_the_forms(Lloyd.info(), |size| {
        parse_size(size).expect("a valid size").0.shape
    });
}
