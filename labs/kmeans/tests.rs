//! The k-means lab's own tests (every variant on every edge size runs in `tests/every_lab.rs`).

use proptest::prelude::*;

use super::check::{Returned, check};
use super::solutions::{best, blocked, parallel, simd};
use super::*;
use crate::Lab;
use crate::assignment::best::{Form, assign_in, assign_with_runner_up_in};
use crate::simd::SimdLevel;

/// Owned points and centroids: uniform in [-1, 1) plus `shift`, centroids drawn from the points.
struct Owned {
    shape: Shape,
    points: Vec<f32>,
    centroids: Vec<f32>,
}

impl Owned {
    fn random(shape: Shape, shift: f32, seed: u64) -> Owned {
        use rand::{Rng, SeedableRng, rngs::StdRng};
        let mut rng = StdRng::seed_from_u64(seed);
        let points: Vec<f32> = (0..shape.n * shape.d).map(|_| rng.random_range(-1.0f32..1.0) + shift).collect();
        let centroids = (0..shape.k * shape.d).map(|_| rng.random_range(-1.0f32..1.0) + shift).collect();
        Owned { shape, points, centroids }
    }

    fn inputs(&self) -> Inputs<'_> {
        Inputs { shape: self.shape, points: &self.points, centroids: &self.centroids }
    }

    /// Runs `kernel` on junk-filled buffers: (labels, distances, inertia).
    fn run(&self, kernel: impl Fn(&Inputs, &mut Answer)) -> (Vec<u32>, Vec<f32>, f64) {
        let n = self.shape.n;
        let (mut labels, mut distances, mut inertia) = (vec![u32::MAX; n], vec![f32::NAN; n], f64::NAN);
        kernel(&self.inputs(), &mut Answer { labels: &mut labels, distances: &mut distances, inertia: &mut inertia });
        (labels, distances, inertia)
    }

    fn check(&self, (labels, distances, inertia): &(Vec<u32>, Vec<f32>, f64)) -> Result<String, String> {
        check(&self.inputs(), &Returned { labels, distances, inertia: Some(*inertia) })
    }
}

fn kernels() -> Vec<(&'static str, Kernel)> {
    vec![
        ("naive", naive::assign as Kernel),
        ("simd", simd::assign),
        ("blocked", blocked::assign),
        ("parallel", parallel::assign),
        ("best", best::assign),
        ("best in the direct form", best_direct),
        ("best in the GEMM form", best_gemm),
    ]
}

/// The flagship in each form, whichever this CPU would choose for the shape.
fn best_direct(inputs: &Inputs, answer: &mut Answer) {
    assign_in(crate::simd::simd_level(), Form::Direct, inputs, answer);
}

fn best_gemm(inputs: &Inputs, answer: &mut Answer) {
    assign_in(crate::simd::simd_level(), Form::Gemm, inputs, answer);
}

#[test]
fn every_rung_matches_the_oracle_on_edge_shapes() {
    // k = 1, k = n, d = 1, d off every lane width, n off the inertia chunk, ties, far from the origin.
    let shapes = [
        (Shape { n: 1, d: 1, k: 1 }, 0.0),
        (Shape { n: 7, d: 1, k: 7 }, 0.0),
        (Shape { n: 33, d: 17, k: 5 }, 0.0),
        (Shape { n: 4097, d: 9, k: 3 }, 0.0),
        (Shape { n: 500, d: 33, k: 13 }, 256.0),
        (Shape { n: 8200, d: 16, k: 8 }, 256.0),
        // The direct form's blocks with 16 lanes: two vectors of points at k·d ≤ 128 (above), one
        // vector on every CPU at d ≥ 64 (here: groups of 8 centroids and a remainder of 3), and
        // at 33 · 13 either, by CPU family.
        (Shape { n: 300, d: 70, k: 11 }, 256.0),
        // Past 16 centroids: the direct form on every CPU (k·d = 760), by CPU family (1330), and
        // the GEMM form on every CPU (2310).
        (Shape { n: 300, d: 19, k: 40 }, 0.0),
        (Shape { n: 300, d: 19, k: 70 }, 0.0),
        (Shape { n: 500, d: 33, k: 70 }, 256.0),
    ];
    for (shape, shift) in shapes {
        let owned = Owned::random(shape, shift, 1);
        for (name, kernel) in kernels() {
            if let Err(error) = owned.check(&owned.run(kernel)) {
                panic!("{name} at {shape} (shift {shift}): {error}");
            }
        }
    }
}

#[test]
fn the_runner_up_is_a_tight_lower_bound_of_the_second_nearest_in_both_forms_at_every_level() {
    // Both forms for each shape, whichever this CPU would choose (k = 5 and 13: the direct form's
    // groups and a remainder; k = 40: more centroids than one GEMM tile holds; d = 70: the direct
    // form's one-vector blocks with 16 lanes on every CPU).
    let shapes = [(19, 2), (19, 5), (19, 13), (19, 40), (70, 11)];
    for (d, k, form) in shapes.into_iter().flat_map(|(d, k)| [(d, k, Form::Direct), (d, k, Form::Gemm)]) {
        let owned = Owned::random(Shape { n: 300, d, k }, 0.0, k as u64);
        let exact = |i: usize, c: usize| -> f64 {
            let (x, y) = (&owned.points[i * d..][..d], &owned.centroids[c * d..][..d]);
            x.iter().zip(y).map(|(&a, &b)| (a as f64 - b as f64).powi(2)).sum()
        };
        for level in SimdLevel::available() {
            let (mut labels, mut distances, mut inertia) = (vec![u32::MAX; 300], vec![f32::NAN; 300], f64::NAN);
            let mut runner_up = vec![f32::NAN; 300];
            let mut answer = Answer { labels: &mut labels, distances: &mut distances, inertia: &mut inertia };
            assign_with_runner_up_in(level, form, &owned.inputs(), &mut answer, &mut runner_up);
            for (i, &label) in labels.iter().enumerate() {
                let second = (0..k).filter(|&c| c != label as usize).map(|c| exact(i, c)).fold(f64::INFINITY, f64::min);
                let bound = runner_up[i] as f64;
                // A lower bound, up to the direct form's own f32 rounding (d + 3 operations deep) ...
                assert!(
                    bound <= second * (1.0 + 1e-5),
                    "d {d}, k {k}, {form:?} form at {level}, point {i}: {bound} above {second}"
                );
                // ... and a useful one: Lloyd's bounds prune nothing with a loose runner-up.
                assert!(
                    bound >= second * 0.999 - 1e-4,
                    "d {d}, k {k}, {form:?} form at {level}, point {i}: {bound} far below {second}"
                );
            }
        }
    }
}

#[test]
fn the_sizes_pin_the_flagships_form_where_they_must() {
    crate::assignment::best::assert_sizes_pin_the_forms(super::Kmeans.info(), |size| {
        parse_size(size).expect("a valid size").0
    });
}

#[test]
fn ties_go_to_the_lower_centroid() {
    // Every centroid the same: every point's label must be 0, in every rung.
    let mut owned = Owned::random(Shape { n: 50, d: 5, k: 6 }, 0.0, 2);
    let first: Vec<f32> = owned.centroids[..5].to_vec();
    for centroid in owned.centroids.chunks_mut(5) {
        centroid.copy_from_slice(&first);
    }
    for (name, kernel) in kernels() {
        let (labels, ..) = owned.run(kernel);
        assert!(labels.iter().all(|&l| l == 0), "{name}: {labels:?}");
    }
}

#[test]
fn labels_and_inertia_are_the_same_bits_on_any_number_of_threads() {
    let owned = Owned::random(Shape { n: 20_000, d: 12, k: 9 }, 0.0, 3);
    let answers: Vec<_> = [1, 2, 3]
        .into_iter()
        .map(|threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            (pool.install(|| owned.run(parallel::assign)), pool.install(|| owned.run(best::assign)))
        })
        .collect();
    owned.check(&answers[0].0).unwrap();
    owned.check(&answers[0].1).unwrap();
    for (parallel_answer, best_answer) in &answers[1..] {
        for (answer, first) in [(parallel_answer, &answers[0].0), (best_answer, &answers[0].1)] {
            assert_eq!(answer.0, first.0);
            assert_eq!(answer.2.to_bits(), first.2.to_bits(), "inertia differs across thread counts");
        }
    }
    let answers: Vec<_> = answers.into_iter().map(|(parallel_answer, _)| parallel_answer).collect();
    let serial = owned.run(simd::assign);
    assert_eq!(serial.2.to_bits(), answers[0].2.to_bits(), "the same fixed order as the serial rung");
}

#[test]
fn the_checked_entry_point_refuses_bad_input_with_a_clear_error() {
    let owned = Owned::random(Shape { n: 4, d: 2, k: 2 }, 0.0, 4);
    let attempt = |shape: Shape, points: &[f32], centroids: &[f32]| {
        let (mut labels, mut distances, mut inertia) = (vec![0; shape.n], vec![0.0; shape.n], 0.0);
        let answer = &mut Answer { labels: &mut labels, distances: &mut distances, inertia: &mut inertia };
        assign(naive::assign, &Inputs { shape, points, centroids }, answer).map_err(|e| e.to_string())
    };
    let shape = owned.shape;
    assert!(attempt(Shape { k: 0, ..shape }, &owned.points, &[]).unwrap_err().contains("k = 0"));
    assert!(attempt(Shape { k: 5, ..shape }, &owned.points, &[0.0; 10]).unwrap_err().contains("between 1 and the 4"));
    assert!(attempt(Shape { d: 0, ..shape }, &[], &[]).unwrap_err().contains("d = 0"));
    let narrow = attempt(shape, &owned.points, &owned.centroids[..3]).unwrap_err();
    assert!(narrow.contains("centroids: 3 values given") && narrow.contains("needs 4"), "{narrow}");
    let mut poisoned = owned.points.clone();
    poisoned[5] = f32::NAN;
    let error = attempt(shape, &poisoned, &owned.centroids).unwrap_err();
    assert!(error.contains("points hold NaN at row 2, coordinate 1"), "{error}");
    assert_eq!(attempt(shape, &owned.points, &owned.centroids), Ok(()));
    // k > n is refused whatever n is, n = 0 included (k = 1 centroid for no points).
    let empty = attempt(Shape { n: 0, ..shape }, &[], &owned.centroids).unwrap_err();
    assert!(empty.contains("between 1 and the 0 points"), "{empty}");
    // A point too far out for f32 squared distances (it made `blocked` panic).
    let mut far = owned.points.clone();
    far[2] = 3e19;
    let error = attempt(shape, &far, &owned.centroids).unwrap_err();
    assert!(error.contains("points: row 1 has norm 3.000e19"), "{error}");
}

#[test]
fn the_oracle_catches_a_wrong_label_a_wrong_distance_and_a_wrong_inertia() {
    let owned = Owned::random(Shape { n: 200, d: 4, k: 10 }, 0.0, 5);
    let good = owned.run(naive::assign);
    owned.check(&good).unwrap();
    let mut wrong_label = good.clone();
    wrong_label.0[17] = (wrong_label.0[17] + 1) % 10;
    wrong_label.1[17] = crate::distance::bound::true_distance(
        owned.inputs().point(17),
        owned.inputs().centroid(wrong_label.0[17] as usize),
    ) as f32;
    let error = owned.check(&wrong_label).unwrap_err();
    assert!(error.starts_with("point 17:") && error.contains("is nearer"), "{error}");
    let mut wrong_distance = good.clone();
    wrong_distance.1[3] *= 1.01;
    assert!(owned.check(&wrong_distance).unwrap_err().starts_with("point 3: distance"));
    let mut wrong_inertia = good.clone();
    wrong_inertia.2 *= 1.001;
    assert!(owned.check(&wrong_inertia).unwrap_err().starts_with("inertia"));
    assert!(owned.check(&owned.run(|_, _| {})).is_err(), "untouched junk must fail");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn simd_and_best_match_the_oracle_at_every_simd_level_on_random_shapes(
        n in 1usize..400, d in 1usize..40, k_fraction in 0.0f64..1.0, shifted in any::<bool>(),
    ) {
        let k = 1 + ((n - 1) as f64 * k_fraction * 0.2) as usize;
        let owned = Owned::random(Shape { n, d, k }, if shifted { 256.0 } else { 0.0 }, (n * d + k) as u64);
        for level in SimdLevel::available() {
            for (name, answer) in [
                ("simd", owned.run(|i, a| simd::assign_at(level, i, a))),
                ("best", owned.run(|i, a| best::assign_at(level, i, a))),
                ("best in the direct form", owned.run(|i, a| assign_in(level, Form::Direct, i, a))),
                ("best in the GEMM form", owned.run(|i, a| assign_in(level, Form::Gemm, i, a))),
            ] {
                if let Err(error) = owned.check(&answer) {
                    prop_assert!(false, "{} at {} on {}: {}", name, level, owned.shape, error);
                }
            }
        }
    }
}

// The adapter (lab.rs): sizes.
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
