//! The k-NN lab's own tests (every variant on every edge size runs in `tests/every_lab.rs`).

use proptest::prelude::*;

use super::parse_size;
use super::solutions::{best, simd};
use super::*;
use crate::lab::Lab;
use crate::simd::SimdLevel;

/// Owned inputs and answer buffers for one search.
struct Owned {
    shape: Shape,
    train: Vec<f32>,
    labels: Vec<u32>,
    queries: Vec<f32>,
}

impl Owned {
    fn random(shape: Shape, shift: f32, seed: u64) -> Owned {
        use rand::{Rng, SeedableRng, rngs::StdRng};
        let mut rng = StdRng::seed_from_u64(seed);
        let mut row = |len: usize| (0..len).map(|_| rng.random_range(-1.0f32..1.0) + shift).collect::<Vec<_>>();
        let train = row(shape.n * shape.d);
        let queries = row(shape.m * shape.d);
        Owned { shape, train, labels: (0..shape.n as u32).map(|i| i % 3).collect(), queries }
    }

    fn inputs(&self) -> Inputs<'_> {
        Inputs { shape: self.shape, train: &self.train, labels: &self.labels, queries: &self.queries }
    }

    /// Runs `kernel` on junk-filled buffers; returns (indices, distances, classes).
    fn run(&self, kernel: impl Fn(&Inputs, &mut Answer)) -> (Vec<u32>, Vec<f32>, Vec<u32>) {
        let Shape { m, k, .. } = self.shape;
        let (mut indices, mut distances, mut classes) = (vec![7; m * k], vec![f32::NAN; m * k], vec![9; m]);
        let mut answer = Answer { indices: &mut indices, distances: &mut distances, classes: &mut classes };
        kernel(&self.inputs(), &mut answer);
        (indices, distances, classes)
    }

    fn check(&self, (indices, distances, classes): &(Vec<u32>, Vec<f32>, Vec<u32>)) -> Result<String, String> {
        let returned = check::Returned { indices, distances, classes: Some(classes) };
        check::Oracle::default().check(&self.inputs(), &returned)
    }
}

#[test]
fn the_checked_entry_point_refuses_bad_input_with_a_clear_error() {
    let good = Owned::random(Shape { n: 6, d: 3, m: 2, k: 2 }, 0.0, 1);
    let attempt = |shape: Shape, train: &[f32], labels: &[u32], queries: &[f32]| {
        let (mut i, mut dist, mut c) = (vec![0; shape.m * shape.k], vec![0.0; shape.m * shape.k], vec![0; shape.m]);
        let inputs = Inputs { shape, train, labels, queries };
        search(naive::knn, &inputs, &mut Answer { indices: &mut i, distances: &mut dist, classes: &mut c })
            .map_err(|e| e.to_string())
    };
    let Owned { shape, train, labels, queries } = &good;
    let shape = *shape;
    assert!(attempt(Shape { k: 0, ..shape }, train, labels, queries).unwrap_err().contains("k = 0"));
    assert!(attempt(Shape { k: 7, ..shape }, train, labels, queries).unwrap_err().contains("between 1 and the 6"));
    assert!(attempt(Shape { d: 0, ..shape }, &[], labels, &[]).unwrap_err().contains("d = 0"));
    let narrow = attempt(shape, train, labels, &queries[..5]).unwrap_err();
    assert!(narrow.contains("queries: 5 values given") && narrow.contains("needs 6"), "{narrow}");
    assert!(attempt(shape, train, &labels[..5], queries).unwrap_err().contains("labels: 5 values given"));
    let mut poisoned = train.clone();
    poisoned[4] = f32::INFINITY;
    let error = attempt(shape, &poisoned, labels, queries).unwrap_err();
    assert!(error.contains("training points hold inf at row 1, coordinate 1"), "{error}");
    assert_eq!(attempt(Shape { m: 0, ..shape }, train, labels, &[]), Ok(()), "m = 0 is an empty answer");
}

/// A finite query whose squared norm overflows f32 (it made `blocked` panic with an empty slot
/// in the vote): refused by the entry point, for every variant, naming the row and its norm.
#[test]
fn rows_too_long_for_f32_distances_are_refused_not_answered_with_empty_slots() {
    let shape = Shape { n: 5, d: 2, m: 1, k: 1 };
    let train: Vec<f32> = (0..10).map(|i| i as f32).collect();
    let (labels, queries) = ([0, 1, 0, 1, 0], [2e19f32, 2e19]);
    for variant in variants() {
        let Ok(kernel) = variant.kernel else { continue };
        let (mut i, mut dist, mut c) = ([0u32], [0.0f32], [0u32]);
        let inputs = Inputs { shape, train: &train, labels: &labels, queries: &queries };
        let answer = &mut Answer { indices: &mut i, distances: &mut dist, classes: &mut c };
        let error = search(kernel, &inputs, answer).unwrap_err().to_string();
        assert!(error.contains("queries: row 0 has norm 2.828e19"), "{}: {error}", variant.name);
    }
}

#[test]
fn sizes_parse_in_any_order_with_defaults_or_say_what_is_expected() {
    assert_eq!(parse_size("k=5,n=10"), Ok((Shape { n: 10, d: 64, m: 1000, k: 5 }, DataSet::Normal)));
    assert_eq!(parse_size("d=3,data=shifted,m=2,n=4,k=4").unwrap().1, DataSet::Shifted);
    for (bad, says) in [
        ("n=10,k=11", "between 1 and n = 10"),
        ("n=10,k=0", "between 1 and n"),
        ("d=0", "d = 0"),
        ("n=5,n=6", "gives n twice"),
        ("x=5", "unknown key 'x'"),
        ("n=5,data=uniform", "unknown data set 'uniform'"),
        ("1024", "expected keys n, d, m, k and data"),
    ] {
        let error = parse_size(bad).unwrap_err();
        assert!(error.contains(says), "{bad}: {error}");
    }
}

#[test]
fn a_missing_neighbour_is_named_with_the_expected_and_returned_lists() {
    let owned = Owned::random(Shape { n: 50, d: 4, m: 3, k: 4 }, 0.0, 2);
    let mut answer = owned.run(super::solutions::select::knn);
    owned.check(&answer).unwrap();
    // Replace query 1's nearest with the farthest point: the checker must name query 1.
    let far = (0..50u32)
        .max_by(|&a, &b| {
            let distance = |p: u32| {
                crate::distance::bound::true_distance(owned.inputs().query(1), owned.inputs().point(p as usize))
            };
            distance(a).total_cmp(&distance(b))
        })
        .unwrap();
    let nearest = answer.0[4];
    answer.0[4..8].rotate_left(1);
    answer.0[7] = far;
    answer.1[4..8].rotate_left(1);
    answer.1[7] =
        crate::distance::bound::true_distance(owned.inputs().query(1), owned.inputs().point(far as usize)) as f32;
    answer.2[1] = topk::vote(&owned.labels, &answer.0[4..8]);
    let error = owned.check(&answer).unwrap_err();
    assert!(error.starts_with("query 1:"), "{error}");
    assert!(error.contains(&format!("point {nearest}")) && error.contains("is missing"), "{error}");
}

#[test]
fn a_wrong_vote_and_junk_left_in_the_answer_are_caught() {
    let owned = Owned::random(Shape { n: 30, d: 2, m: 2, k: 3 }, 0.0, 3);
    let mut answer = owned.run(super::solutions::select::knn);
    answer.2[0] = (answer.2[0] + 1) % 3;
    assert!(owned.check(&answer).unwrap_err().contains("the returned neighbours vote"));
    let lazy = owned.run(|_, _| {});
    assert!(owned.check(&lazy).is_err(), "untouched junk must fail");
}

#[test]
fn the_expanded_form_alone_fails_far_from_the_origin_and_the_fix_restores_it() {
    // The rung's lesson, checked: without centring and re-ranking, `‖q‖² + ‖x‖² − 2·q·x` in f32
    // ranks shifted points wrongly; `blocked` and `best` return the direct form's answer.
    let owned = Owned::random(Shape { n: 400, d: 32, m: 20, k: 10 }, 256.0, 4);
    let expanded_only = owned.run(|inputs, answer| {
        let norm = |row: &[f32]| row.iter().map(|x| x * x).sum::<f32>();
        for q in 0..inputs.shape.m {
            let query = inputs.query(q);
            let (indices, distances, class) = answer.query_mut(q, inputs.shape.k);
            let mut top = topk::TopK::new(distances, indices);
            for i in 0..inputs.shape.n {
                let point = inputs.point(i);
                let dot: f32 = query.iter().zip(point).map(|(a, b)| a * b).sum();
                top.push((norm(query) + norm(point) - 2.0 * dot).max(0.0), i as u32);
            }
            top.into_sorted();
            *class = topk::vote(inputs.labels, indices);
        }
    });
    assert!(owned.check(&expanded_only).is_err(), "the expanded form alone should not pass on shifted data");
    for kernel in [super::solutions::blocked::knn as Kernel, best::knn] {
        owned.check(&owned.run(kernel)).unwrap();
    }
}

/// The flagship with the f32 filter, wherever the CPU would pick bf16.
fn best_f32(inputs: &Inputs, answer: &mut Answer) {
    best::knn_with(crate::simd::simd_level(), best::Filter::F32, inputs, answer);
}

#[test]
fn parallel_and_best_give_the_same_bits_on_any_number_of_threads() {
    // The direct path; the GEMM path with one chunk of points; with many chunks, the threads
    // sharing their limits (up to 9); and with three blocks of queries (d = 512: 1 MiB of packed
    // queries is about 500 of them), each block's lists merged before the next.
    let shapes = [
        Shape { n: 9000, d: 20, m: 3, k: 6 },
        Shape { n: 5000, d: 17, m: 150, k: 4 },
        Shape { n: 40000, d: 9, m: 100, k: 7 },
        Shape { n: 5000, d: 512, m: 1100, k: 3 },
    ];
    for shape in shapes {
        let random = Owned::random(shape, 0.0, 5);
        // Every point twice, once in each half: ties across slices, which must go to the lower index.
        let mut twice = Owned::random(shape, 0.0, 5);
        let half = shape.n / 2 * shape.d;
        twice.train.copy_within(..half, half);
        for (owned, kernel) in [&random, &twice].into_iter().flat_map(|owned| {
            [super::solutions::parallel::knn as Kernel, best::knn, best_f32].map(|kernel| (owned, kernel))
        }) {
            let answers: Vec<_> = [1, 2, 3, 8]
                .into_iter()
                .map(|threads| {
                    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                    pool.install(|| owned.run(kernel))
                })
                .collect();
            owned.check(&answers[0]).unwrap();
            let bits = |a: &(Vec<u32>, Vec<f32>, Vec<u32>)| {
                (a.0.clone(), a.1.iter().map(|d| d.to_bits()).collect::<Vec<_>>(), a.2.clone())
            };
            assert!(answers.iter().all(|a| bits(a) == bits(&answers[0])), "{shape}: differs across thread counts");
        }
    }
}

/// Near-ties seen through large inner products: the queries sit among points 1 ± 10⁻⁴ away, while
/// a far cluster pulls the centre 100 away, so ‖q'‖² + ‖x'‖² ≈ 5·10⁵ and a bf16 inner product is
/// off by tens of units, a hundred thousand times the gaps between the true distances. Only a filter whose bound covers bf16's rounding keeps the true neighbours (a
/// bound without the bf16 term fails this); every filter must give the f32 answer's bits.
#[test]
fn every_filter_keeps_the_exact_neighbours_of_near_ties_behind_large_inner_products() {
    use rand::{Rng, SeedableRng, rngs::StdRng};
    let shape = Shape { n: 4000, d: 24, m: 40, k: 5 };
    let mut rng = StdRng::seed_from_u64(11);
    let unit = |rng: &mut StdRng| {
        let v: Vec<f32> = (0..shape.d).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / norm).collect::<Vec<_>>()
    };
    let queries: Vec<f32> = (0..shape.m).flat_map(|q| vec![q as f32 * 0.01; shape.d]).collect();
    let mut train = Vec::with_capacity(shape.n * shape.d);
    for i in 0..shape.n {
        let direction = unit(&mut rng);
        // The far points at even indices: the centre's sample (every 4th row here) sees only
        // them, so the centre lands 100 away from the queries and every norm is large.
        if i % 2 == 1 {
            // Around query (i / 2) % m, at radius 1 + a distinct 10⁻⁴ step.
            let (q, radius) = ((i / 2) % shape.m, 1.0 + (i / 2) as f32 * 1e-4);
            train.extend(direction.iter().zip(&queries[q * shape.d..][..shape.d]).map(|(u, c)| c + radius * u));
        } else {
            train.extend(direction.iter().map(|u| 100.0 + u));
        }
    }
    let owned = Owned { shape, train, labels: (0..shape.n as u32).map(|i| i % 3).collect(), queries };
    assert_every_filter_gives_the_f32_bits(&owned);
}

/// The flagship with the f32 filter passes the oracle on `owned`, and every filter this CPU runs
/// gives its answer bit for bit.
fn assert_every_filter_gives_the_f32_bits(owned: &Owned) {
    let level = crate::simd::simd_level();
    let expected = owned.run(|i, a| best::knn_with(level, best::Filter::F32, i, a));
    owned.check(&expected).unwrap();
    for filter in best::Filter::available(level) {
        let answer = owned.run(|i, a| best::knn_with(level, filter, i, a));
        assert_eq!(answer, expected, "{} filter", filter.name());
    }
}

/// Coordinates around 10⁻²⁰: every product of two of them (about 10⁻⁴⁰) is below f32's normal
/// range, which AVX-512 BF16 flushes to zero, so the bf16 inner products are all but zero while
/// the true ones, and the distances, are of the same tiny size. Only the filter's absolute slack
/// (`exact::absolute_slack`) keeps the true neighbours; every filter must give the f32 answer's bits.
#[test]
fn every_filter_keeps_the_exact_neighbours_of_coordinates_whose_products_underflow() {
    let shape = Shape { n: 3000, d: 16, m: 30, k: 4 };
    let mut owned = Owned::random(shape, 0.0, 17);
    for x in owned.train.iter_mut().chain(owned.queries.iter_mut()) {
        *x *= 1e-20;
    }
    assert_every_filter_gives_the_f32_bits(&owned);
}

#[test]
fn no_queries_on_enough_points_to_split_is_an_empty_answer_on_any_number_of_threads() {
    // With fewer queries than threads the parallel rungs split the points; with none, there are
    // no lists to split them into (the parallel rung once asked rayon for chunks of zero slots).
    let owned = Owned::random(Shape { n: 9000, d: 3, m: 0, k: 2 }, 0.0, 1);
    for kernel in [super::solutions::parallel::knn as Kernel, best::knn] {
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let answer = pool.install(|| owned.run(kernel));
            assert_eq!(answer, (vec![], vec![], vec![]), "{threads} threads");
        }
    }
}

#[test]
fn every_lab_size_of_the_table_parses() {
    for size in Knn.edge_sizes().iter().chain(Knn.quick_sizes()).chain(Knn.default_sizes()) {
        parse_size(size).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn simd_and_best_match_the_oracle_at_every_simd_level_on_random_shapes(
        n in 1usize..300, d in 1usize..70, m in 0usize..40, k_fraction in 0.0f64..1.0, shifted in any::<bool>(),
    ) {
        let k = 1 + ((n - 1) as f64 * k_fraction) as usize;
        let owned = Owned::random(Shape { n, d, m, k }, if shifted { 256.0 } else { 0.0 }, (n * d + m) as u64);
        for level in SimdLevel::available() {
            let mut answers = vec![("simd", owned.run(|i, a| simd::knn_at(level, i, a)))];
            for filter in best::Filter::available(level) {
                answers.push((filter.name(), owned.run(|i, a| best::knn_with(level, filter, i, a))));
            }
            for (name, answer) in answers {
                if let Err(error) = owned.check(&answer) {
                    prop_assert!(false, "{} at {} on {}: {}", name, level, owned.shape, error);
                }
            }
        }
    }
}
