//! Every lab in the registry, every variant it has (scaffolding, references, libraries), on
//! every edge size the lab lists: validated against the lab's oracle through the same `Case`
//! the harness times. Plus the table's own consistency. Nothing here names a lab.

use std::collections::HashSet;

use perflab_labs::{Lab, Role};

fn available(lab: &dyn Lab) -> Vec<(usize, &'static str)> {
    lab.variants().iter().enumerate().filter(|(_, v)| v.kernel.is_ok()).map(|(i, v)| (i, v.name)).collect()
}

#[test]
fn every_variant_matches_the_oracle_on_every_edge_size() {
    for lab in perflab_labs::all() {
        for (seed, size) in lab.edge_sizes().iter().enumerate() {
            let mut case = lab.prepare(size, seed as u64).unwrap_or_else(|e| panic!("{}: {e}", lab.name()));
            for (v, name) in available(lab) {
                if let Err(error) = case.validate(v) {
                    panic!("{} {name} is wrong at size {size}:\n{error}", lab.name());
                }
            }
        }
    }
}

#[test]
fn every_variant_matches_inside_rayon_pools_of_one_and_three_threads() {
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        for lab in perflab_labs::all() {
            for size in lab.allocation_sizes() {
                let mut case = lab.prepare(size, 5).unwrap();
                for (v, name) in available(lab) {
                    if let Err(error) = pool.install(|| case.validate(v)) {
                        panic!("{} {name} is wrong at size {size} on {threads} threads:\n{error}", lab.name());
                    }
                }
            }
        }
    }
}

#[test]
fn every_variant_table_is_consistent() {
    let mut lab_names = HashSet::new();
    for lab in perflab_labs::all() {
        assert!(lab_names.insert(lab.name()), "two labs are called {}", lab.name());
        assert_eq!(perflab_labs::find(lab.name()).map(|l| l.name()), Ok(lab.name()));
        let variants = lab.variants();
        let names: HashSet<_> = variants.iter().map(|v| v.name).collect();
        assert_eq!(names.len(), variants.len(), "{}: variant names repeat", lab.name());
        let role_of = |name: &str| variants.iter().find(|v| v.name == name).map(|v| v.role);
        assert_eq!(variants.iter().filter(|v| v.role == Role::Baseline).count(), 1, "{}: one baseline", lab.name());
        assert_eq!(role_of(lab.flagship()), Some(Role::Reference), "{}: the flagship is a reference", lab.name());
        for v in &variants {
            match v.role {
                Role::Exercise => {
                    let of = v.reference.unwrap_or_else(|| panic!("{}: exercise {} names no rung", lab.name(), v.name));
                    assert_eq!(v.name, format!("your-{of}"), "{}: an exercise is named your-<rung>", lab.name());
                    assert_eq!(
                        role_of(of),
                        Some(Role::Reference),
                        "{}: {} compares with a reference",
                        lab.name(),
                        v.name
                    );
                }
                _ => assert_eq!(v.reference, None, "{}: only exercises name a reference", lab.name()),
            }
            if v.role != Role::Library {
                assert!(v.kernel.is_ok(), "{}: only libraries may be missing from a build", lab.name());
            }
        }
        for size in lab.quick_sizes().iter().chain(lab.default_sizes()).chain(lab.bench_sizes()) {
            lab.footprint(size).unwrap_or_else(|e| panic!("{}: its own size {size} is refused: {e}", lab.name()));
        }
    }
}

#[test]
fn malformed_sizes_are_refused_with_the_lab_syntax_not_a_panic() {
    for lab in perflab_labs::all() {
        for bad in ["", "abc", "-3", "1e3"] {
            let error = lab.footprint(bad).unwrap_err();
            assert!(error.contains(bad) && error.contains(lab.name()), "{}: '{bad}' gave {error}", lab.name());
            assert!(lab.prepare(bad, 1).is_err());
        }
    }
}

/// Sizes whose bytes overflow 64 bits read as too large, never wrap round to a few bytes that pass
/// the memory check (and then abort in the allocator).
#[test]
fn sizes_beyond_64_bits_of_bytes_are_refused_not_wrapped() {
    let huge = [
        ("matmul", "1073741824x1073741824x1610612736"),
        ("knn", "n=33554432,d=33521695,m=34359738360,k=33554432"),
        ("kmeans", "n=4611686018427387904,d=2,k=1"),
        ("lloyd", "n=768614336404564651,d=1,k=1,iters=1"),
    ];
    for (name, size) in huge {
        let lab = perflab_labs::find(name).unwrap();
        match lab.footprint(size) {
            Ok(bytes) => panic!("{name} {size}: {bytes} bytes"),
            Err(error) => assert!(error.contains("2^64") || error.contains(size), "{name} {size}: {error}"),
        }
    }
}

/// The input contract on magnitudes, for every variant of every lab: inputs scaled by every power
/// of ten from 1e-30 to 1e38 (and 3e38, near f32::MAX) are either refused by the lab's checked
/// entry point with a clear error, or answered within the oracle's bound: never a panic, never
/// empty slots. Tiny values make squares underflow (the oracles' bounds count that), large ones
/// would overflow squared distances or dot products (refused).
#[test]
fn every_variant_answers_or_refuses_every_magnitude_from_1e_minus_30_to_3e38() {
    let magnitudes = (-30..=38).map(|e| 10f32.powi(e)).chain([3e38]);
    let mut failures = Vec::new();
    for factor in magnitudes {
        for lab in perflab_labs::all() {
            let size = lab.allocation_sizes()[0];
            let mut case = lab.prepare(size, 3).unwrap();
            if let Err(refusal) = case.scale_inputs(factor) {
                assert!(
                    refusal.contains("norm") || refusal.contains("finite"),
                    "{} at {size} × {factor:e}: refused, but the message does not say why: {refusal}",
                    lab.name()
                );
                continue;
            }
            for (v, name) in available(lab) {
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case.validate(v)));
                match outcome {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => {
                        failures.push(format!("{} {name} at {size} × {factor:e}: wrong:\n{error}", lab.name()))
                    }
                    Err(_) => failures.push(format!("{} {name} at {size} × {factor:e}: panicked", lab.name())),
                }
            }
        }
    }
    if !failures.is_empty() {
        let heads: Vec<_> = failures.iter().map(|f| f.lines().next().unwrap_or_default()).collect();
        panic!("{} failures:\n{}\nthe first in full:\n{}", failures.len(), heads.join("\n"), failures[0]);
    }
}

/// Where the contract's line falls: every lab accepts its inputs scaled by 1e12 and refuses them
/// scaled by 1e20 (beyond 2⁶⁰ per row, or per product of norms for matmul), naming a row.
#[test]
fn the_magnitude_limit_is_the_same_rule_in_every_lab() {
    for lab in perflab_labs::all() {
        let size = lab.allocation_sizes()[0];
        let scaled = |factor: f32| lab.prepare(size, 3).unwrap().scale_inputs(factor);
        assert_eq!(scaled(1e12), Ok(()), "{} at {size}", lab.name());
        let refusal = scaled(1e20).expect_err(lab.name());
        assert!(refusal.contains("row ") && refusal.contains("norm"), "{}: {refusal}", lab.name());
    }
}

#[test]
fn every_sweep_parses_at_both_ends_and_grows_its_footprint() {
    for lab in perflab_labs::all() {
        let sweep = lab.sweep();
        assert!(sweep.from < sweep.to, "{}: the sweep must grow", lab.name());
        let bytes = |count: usize| {
            lab.footprint(&sweep.at(count)).unwrap_or_else(|e| panic!("{} sweep at {count}: {e}", lab.name()))
        };
        let (small, middle, large) = (bytes(sweep.from), bytes((sweep.from + sweep.to) / 2), bytes(sweep.to));
        assert!(small < middle && middle < large, "{}: footprints {small}, {middle}, {large}", lab.name());
    }
}
