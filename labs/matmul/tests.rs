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
    // A long depth and many columns at the machine's own block sizes.
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

// The adapter (lab.rs): sizes, footprint, limits, validation.
#[test]
fn sizes_parse_or_say_what_is_expected() {
    assert_eq!(parse_shape("1024"), Ok(Shape::square(1024)));
    assert_eq!(parse_shape("3x5x7"), Ok(Shape::new(3, 5, 7)));
    assert_eq!(parse_shape("0x5x7"), Ok(Shape::new(0, 5, 7)));
    for bad in ["", "x", "3x5", "3x5x7x9", "-4", "1e3", "abc", "256,512,1024"] {
        let err = parse_shape(bad).unwrap_err();
        assert!(err.contains("expected N (square) or MxKxN"), "{bad}: {err}");
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn edge_sizes_straddle_every_register_tile() {
    use crate::gemm::kernel::{Avx2, Avx512, MicroKernel, Portable};
    fn tile<K: MicroKernel>() -> [usize; 2] {
        [K::MR, K::NR]
    }
    let shapes = edge_shapes();
    let has = |dim: fn(&Shape) -> usize, value: usize| shapes.iter().any(|s| dim(s) == value);
    for [mr, nr] in [tile::<Avx2>(), tile::<Avx512>(), tile::<Portable>()] {
        assert!(has(|s| s.m, mr) && has(|s| s.m, mr + 1), "rows MR = {mr} and one more");
        assert!(has(|s| s.n, nr) && has(|s| s.n, nr + 1), "columns NR = {nr} and one more");
    }
}

/// The cache blocks depend on the machine (and on `cargo lab tune`), so the edge shapes cannot
/// straddle them; instead the loop nest runs with small blocks that every edge shape crosses:
/// several depth blocks (C written, then added to), several B blocks and several A panels, each
/// ending in a partial one.
#[test]
fn best_is_right_with_small_blocks_across_every_block_edge() {
    use crate::gemm::blocking::{self, BlockSizes};
    for level in SimdLevel::available() {
        let (mr, nr) = blocking::tile(level);
        for sizes in [
            BlockSizes { kc: 1, nc: nr, mc: mr },
            BlockSizes { kc: 5, nc: 2 * nr, mc: 2 * mr },
            BlockSizes { kc: 64, nc: 3 * nr, mc: 5 * mr },
        ] {
            for shape in edge_shapes() {
                let a = random_matrix(shape.m, shape.k, 11);
                let b = random_matrix(shape.k, shape.n, 12);
                let mut c = vec![f32::NAN; shape.m * shape.n];
                solutions::best::matmul_blocked(level, sizes, shape, &a, &b, &mut c);
                if let Err(mismatch) = check::check_exact(shape, &a, &b, &c) {
                    panic!("best@{level} with {} is wrong on {shape}:\n{mismatch}", sizes.describe());
                }
            }
        }
    }
}

/// The parallel loop nest with small blocks: bands of rows (the last one short) that each cross
/// several A panels, depth blocks and B blocks, on thread counts that do not divide the slivers.
#[test]
fn best_is_right_on_several_threads_with_small_blocks() {
    use crate::gemm::blocking::{self, BlockSizes};
    for threads in [2, 3, 5] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        for level in SimdLevel::available() {
            let (mr, nr) = blocking::tile(level);
            for sizes in
                [BlockSizes { kc: 64, nc: 3 * nr, mc: 2 * mr }, BlockSizes { kc: 200, nc: 8 * nr, mc: 64 * mr }]
            {
                // Partial slivers and tiles, and deep enough to run in parallel.
                let (m, n) = (7 * mr * threads + 5, 5 * nr + 3);
                let k = (solutions::best::PARALLEL_MIN_FLOPS / (2 * m * n) as f64) as usize + 37;
                let shape = Shape::new(m, k, n);
                assert!(shape.flops() >= solutions::best::PARALLEL_MIN_FLOPS);
                let a = random_matrix(shape.m, shape.k, 21);
                let b = random_matrix(shape.k, shape.n, 22);
                let mut c = vec![f32::NAN; shape.m * shape.n];
                pool.install(|| solutions::best::matmul_blocked(level, sizes, shape, &a, &b, &mut c));
                if let Err(mismatch) = check::check_exact(shape, &a, &b, &c) {
                    panic!(
                        "best@{level} on {threads} threads with {} is wrong on {shape}:\n{mismatch}",
                        sizes.describe()
                    );
                }
            }
        }
    }
}

#[test]
fn the_footprint_counts_a_b_and_c() {
    assert_eq!(Matmul.footprint("2x3x4"), Ok(4 * (6 + 12 + 8)));
    assert!(Matmul.footprint(&format!("{}x4x1", usize::MAX / 2)).unwrap_err().contains("too large"));
}

#[test]
fn a_limited_variant_runs_on_fewer_rows_and_still_validates() {
    let mut case = Matmul.prepare("64x32x16", 1).unwrap();
    assert_eq!(case.limit(0, 0.25), 0.25);
    case.validate(0).unwrap();
    assert_eq!(case.limit(0, 1e-9), 1.0 / 64.0, "at least one row");
}

/// A case of `size` whose baseline (variant 0) runs `kernel`.
fn baseline_runs(kernel: Kernel, size: &str) -> Box<dyn crate::Case> {
    let lab: &'static dyn Lab = &Matmul;
    crate::lab::Swapped::new(lab, "naive", kernel).prepare(size, 1).unwrap()
}

#[test]
fn a_wrong_variant_fails_validation_with_the_element() {
    let wrong: Kernel = |s, a, b, c| {
        crate::matmul::naive::matmul(s, a, b, c);
        c[5 * 30 + 7] += 1.0;
    };
    let mut case = baseline_runs(wrong, "20x10x30");
    let err = case.validate(0).unwrap_err();
    assert!(err.contains("C[5, 7]"), "{err}");
}

#[test]
fn a_variant_that_skips_elements_fails_because_c_starts_as_junk() {
    let lazy: Kernel = |_, _, _, _| {};
    let mut case = baseline_runs(lazy, "8x8x8");
    let err = case.validate(0).unwrap_err();
    assert!(err.contains("C[0, 0] = NaN"), "{err}");
}
