//! matmul's own tests: the SIMD rungs at every level, `best`'s blocking and threading, random
//! shapes, and the checker itself. (Every variant on the lab's edge sizes, and allocations, are
//! checked for every lab alike by `labs/tests/`.)

use proptest::prelude::*;

use crate::lab::Lab;
use crate::matmul::check::Region;
use crate::matmul::{self, Kernel, Matmul, MatmulError, Shape, check, parse_shape, random_matrix, solutions};
use crate::simd::SimdLevel;

/// Runs `kernel` on random inputs of `shape` (C pre-filled with NaN, so an element the kernel
/// forgets to write fails) and validates every element: what is wrong, if anything.
fn verdict(name: &str, kernel: Kernel, shape: Shape, seed: u64) -> Result<(), String> {
    let a = random_matrix(shape.m, shape.k, seed);
    let b = random_matrix(shape.k, shape.n, seed + 1);
    let mut c = vec![f32::NAN; shape.m * shape.n];
    kernel(shape, &a, &b, &mut c);
    check::check_exact(shape, &a, &b, &c)
        .map(|_| ())
        .map_err(|mismatch| format!("{name} is wrong on {shape}:\n{mismatch}"))
}

/// [`verdict`], panicking on a failure.
fn run_and_check(name: &str, kernel: Kernel, shape: Shape, seed: u64) {
    if let Err(error) = verdict(name, kernel, shape, seed) {
        panic!("{error}");
    }
}

/// Every variant this build has (the OpenBLAS anchor only with `--features openblas`).
fn kernels() -> Vec<(&'static str, Kernel)> {
    matmul::variants().into_iter().filter_map(|v| v.kernel.ok().map(|k| (v.name, k))).collect()
}

fn edge_shapes() -> Vec<Shape> {
    Matmul.edge_sizes().iter().map(|size| parse_shape(size).unwrap()).collect()
}

/// The SIMD kernels at every level this CPU has, not only the widest one.
#[test]
fn simd_and_best_match_at_every_simd_level() {
    for level in SimdLevel::available() {
        let simd: Kernel = match level {
            SimdLevel::Scalar => |s, a, b, c| solutions::simd::matmul_at(SimdLevel::Scalar, s, a, b, c),
            SimdLevel::Avx2Fma => |s, a, b, c| solutions::simd::matmul_at(SimdLevel::Avx2Fma, s, a, b, c),
            SimdLevel::Avx512 => |s, a, b, c| solutions::simd::matmul_at(SimdLevel::Avx512, s, a, b, c),
        };
        let best: Kernel = match level {
            SimdLevel::Scalar => |s, a, b, c| solutions::best::matmul_at(SimdLevel::Scalar, s, a, b, c),
            SimdLevel::Avx2Fma => |s, a, b, c| solutions::best::matmul_at(SimdLevel::Avx2Fma, s, a, b, c),
            SimdLevel::Avx512 => |s, a, b, c| solutions::best::matmul_at(SimdLevel::Avx512, s, a, b, c),
        };
        for shape in edge_shapes() {
            run_and_check(&format!("simd@{level}"), simd, shape, 7);
            run_and_check(&format!("best@{level}"), best, shape, 7);
        }
    }
}

/// The `your-best` exercise with the micro-kernel it picks at each level this CPU has (the
/// shipped scaffold picks its portable kernel everywhere; a learner's AVX2 and AVX-512 kernels
/// are tested here as soon as `with_your_kernel` dispatches to them).
#[test]
fn your_best_matches_at_every_simd_level() {
    use crate::matmul::exercises::best;
    for level in SimdLevel::available() {
        let yours: Kernel = match level {
            SimdLevel::Scalar => |s, a, b, c| best::matmul_at(SimdLevel::Scalar, s, a, b, c),
            SimdLevel::Avx2Fma => |s, a, b, c| best::matmul_at(SimdLevel::Avx2Fma, s, a, b, c),
            SimdLevel::Avx512 => |s, a, b, c| best::matmul_at(SimdLevel::Avx512, s, a, b, c),
        };
        for shape in edge_shapes().into_iter().chain([Shape::new(37, 600, 4100)]) {
            run_and_check(&format!("your-best@{level}"), yours, shape, 7);
        }
    }
}

#[test]
fn best_is_right_across_several_depth_and_panel_blocks() {
    // k > KC (several depth blocks: C is written, then accumulated) and n > NC (two panels).
    run_and_check("best", solutions::best::matmul, Shape::new(37, 600, 4100), 3);
}

#[test]
fn best_works_inside_rayon_pools_of_any_size() {
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| run_and_check("best", solutions::best::matmul, Shape::new(301, 260, 77), 5));
    }
}

#[test]
fn best_calls_nested_in_a_parallel_loop_do_not_collide() {
    use rayon::prelude::*;
    (0..8u64)
        .into_par_iter()
        .for_each(|seed| run_and_check("best", solutions::best::matmul, Shape::new(50, 300, 40), seed));
}

proptest! {
    // The first failing shape is reported as it was found, not shrunk: it comes with the oracle's
    // explanation (the element, the bound, the map), and the exercises are in this list, where a
    // learner wants the one clear failure (`cargo lab check` shows the same, faster).
    #![proptest_config(ProptestConfig { cases: 48, max_shrink_iters: 0, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn every_variant_matches_on_random_shapes(m in 0usize..70, k in 0usize..300, n in 0usize..90, seed in 0u64..1000) {
        // A failure is returned, not panicked, so that proptest prints it once (a panic would be
        // printed by the panic hook for every case tried).
        for (name, kernel) in kernels() {
            verdict(name, kernel, Shape::new(m, k, n), seed).map_err(TestCaseError::fail)?;
        }
    }
}

#[test]
fn the_checker_catches_a_single_wrong_element_and_says_where() {
    let shape = Shape::new(40, 30, 50);
    let a = random_matrix(40, 30, 1);
    let b = random_matrix(30, 50, 2);
    let mut c = vec![0.0; 40 * 50];
    matmul::naive::matmul(shape, &a, &b, &mut c);
    c[17 * 50 + 23] += 1e-3;
    let mismatch = check::check_exact(shape, &a, &b, &c).unwrap_err();
    assert_eq!((mismatch.row, mismatch.col, mismatch.wrong), (17, 23, 1));
    assert!(mismatch.to_string().contains("C[17, 23]"), "{mismatch}");
}

#[test]
fn the_checker_accepts_any_summation_order_within_the_bound() {
    // Reversed summation order is a different but valid rounding: it must pass.
    let shape = Shape::new(20, 4000, 20);
    let a = random_matrix(20, 4000, 3);
    let b = random_matrix(4000, 20, 4);
    let c: Vec<f32> = (0..20 * 20)
        .map(|e| (0..4000).rev().fold(0.0f32, |s, p| s + a[(e / 20) * 4000 + p] * b[p * 20 + e % 20]))
        .collect();
    check::check_exact(shape, &a, &b, &c).unwrap();
}

#[test]
fn sampled_check_catches_an_untouched_element_anywhere() {
    let shape = Shape::new(600, 500, 700);
    let a = random_matrix(600, 500, 5);
    let b = random_matrix(500, 700, 6);
    let mut c = vec![0.0; 600 * 700];
    solutions::best::matmul(shape, &a, &b, &mut c);
    check::check_sampled(shape, &a, &b, &c, 9).unwrap();
    c[311 * 700 + 257] = f32::NAN; // a row no sample is likely to pick: Freivalds finds it
    let mismatch = check::check_sampled(shape, &a, &b, &c, 9).unwrap_err();
    assert_eq!((mismatch.row, mismatch.col), (311, 257), "{mismatch}");
}

#[test]
fn sampled_check_catches_a_wrong_edge_tile() {
    let shape = Shape::new(600, 500, 700);
    let a = random_matrix(600, 500, 5);
    let b = random_matrix(500, 700, 6);
    let mut c = vec![0.0; 600 * 700];
    solutions::best::matmul(shape, &a, &b, &mut c);
    for i in 594..600 {
        c[i * 700 + 699] *= 1.01; // the bottom-right corner tile is slightly off
    }
    let mismatch = check::check_sampled(shape, &a, &b, &c, 1).unwrap_err();
    assert!(mismatch.row >= 594 && mismatch.col == 699, "{mismatch}");
    assert!(mismatch.map[7][7] == Region::Wrong && mismatch.map[0][0] != Region::Wrong, "{mismatch}");
}

#[test]
fn the_error_map_has_one_region_per_row_and_column_of_a_small_result() {
    // 1 × 1: one region, wrong.
    let mismatch = check::check_exact(Shape::new(1, 2, 1), &[1.0, 2.0], &[3.0, 4.0], &[0.0]).unwrap_err();
    assert_eq!(mismatch.map, vec![vec![Region::Wrong]]);
    assert!(mismatch.to_string().contains("C cut into 1×1 regions"), "{mismatch}");
    // 3 × 2 with C[2, 1] wrong: every other region examined and correct.
    let (a, b) = ([1.0, 0.0, 0.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0]);
    let c = [1.0, 2.0, 3.0, 4.0, 4.0, 7.0];
    let mismatch = check::check_exact(Shape::new(3, 2, 2), &a, &b, &c).unwrap_err();
    assert_eq!((mismatch.row, mismatch.col), (2, 1), "{mismatch}");
    let lines: Vec<String> = mismatch.to_string().lines().skip(2).map(|l| l.trim().to_string()).collect();
    assert_eq!(lines, ["..", "..", ".#"], "{mismatch}");
}

#[test]
fn mismatched_shapes_get_a_clear_error() {
    let shape = Shape::new(2, 3, 4);
    let err = matmul::multiply(matmul::naive::matmul, shape, &[0.0; 6], &[0.0; 11], &mut [0.0; 8]).unwrap_err();
    assert_eq!(err, MatmulError::Length { matrix: "B", shape, expected: 12, got: 11 });
    assert_eq!(err.to_string(), "matrix B has 11 elements, but shape m×k×n = 2x3x4 needs 3×4 = 12");
}

#[test]
fn non_finite_inputs_are_refused() {
    let shape = Shape::new(2, 2, 2);
    let mut a = [1.0; 4];
    a[3] = f32::INFINITY;
    let err = matmul::multiply(matmul::naive::matmul, shape, &a, &[1.0; 4], &mut [0.0; 4]).unwrap_err();
    assert_eq!(err.to_string(), "matrix A holds inf at row 1, column 1: inputs must be finite");
}

#[test]
fn shapes_too_large_for_memory_are_refused() {
    let err = Shape::new(usize::MAX / 2, 4, 1).lens().unwrap_err();
    assert!(matches!(err, MatmulError::TooLarge { .. }));
}

#[test]
#[should_panic(expected = "matrix C has 3 elements")]
fn unsafe_kernels_refuse_short_buffers_instead_of_reading_past_them() {
    solutions::best::matmul(Shape::new(2, 2, 2), &[0.0; 4], &[0.0; 4], &mut [0.0; 3]);
}
