//! The `perflab` command line, end to end: output, JSON, and clear errors for bad input.

use assert_cmd::Command;
use predicates::prelude::*;

fn perflab() -> Command {
    Command::cargo_bin("perflab").unwrap()
}

#[test]
fn bench_validates_times_and_writes_the_documented_json() {
    let dir = std::env::temp_dir().join(format!("perflab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("out.json");
    perflab()
        .args(["bench", "matmul", "--size", "33x17x65", "--variant", "naive", "--variant", "best"])
        .args(["--variant", "your-simd", "--threads", "1", "--seconds", "0.05", "--json"])
        .arg(&json)
        .assert()
        .success()
        .stdout(predicate::str::contains("matmul 33x17x65 | threads 1"))
        .stdout(predicate::str::contains("threads: 1"));

    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let record = &doc["records"][0];
    assert_eq!(record["lab"], "matmul");
    assert_eq!(record["params"], serde_json::json!({"m": 33, "k": 17, "n": 65}));
    assert_eq!(record["threads"], 1);
    assert!(record["cpu"].is_string() && record["simd_level"].is_string());
    let variants = record["variants"].as_array().unwrap();
    let names: Vec<_> = variants.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["naive", "your-simd", "best"]);
    for v in variants {
        assert_eq!(v["correct"], true, "{v}");
        assert!(v["median_s"].as_f64().unwrap() > 0.0);
        assert_eq!(v["throughput"]["unit"], "GFLOP/s");
        let flops = 2.0 * 33.0 * 17.0 * 65.0;
        let gflops = v["gflops"].as_f64().unwrap();
        assert!((gflops - flops / v["median_s"].as_f64().unwrap() / 1e9).abs() < 1e-9 * gflops.max(1.0));
    }
    assert_eq!(variants[0]["speedup_vs_naive"], 1.0);
    // Allocations were counted (the binary installs the counting allocator), and the reference
    // solution allocates nothing per call.
    assert_eq!(variants[2]["allocs_per_call"], 0, "{}", variants[2]);
    assert_eq!(variants[2]["alloc_bytes_per_call"], 0);
    assert_eq!(variants[1]["reference"], "simd");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unknown_lab_variant_flag_and_bad_sizes_get_one_clear_line_and_no_panic() {
    let cases: [(&[&str], &str); 6] = [
        (&["bench", "gemm"], "unknown lab 'gemm'; known labs: matmul"),
        (&["bench", "matmul", "--variant", "fastest"], "lab 'matmul' has no variant 'fastest'; its variants: naive"),
        (&["bench", "matmul", "--size", "12x"], "malformed matmul size '12x'"),
        (&["bench", "matmul", "--size", "3x4"], "expected N (square) or MxKxN"),
        (&["bench", "matmul", "--threads", "0"], "--threads"),
        (&["bench", "matmul", "--seconds=0"], "not a number of seconds"),
    ];
    for (args, message) in cases {
        perflab()
            .args(args)
            .assert()
            .failure()
            .stderr(predicate::str::contains(message))
            .stderr(predicate::str::contains("panicked").not());
    }
    perflab().arg("--frobnicate").assert().code(2).stderr(predicate::str::contains("unexpected argument"));
}

#[test]
fn list_names_every_variant_and_its_role() {
    perflab()
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains("your-blocked   exercise"))
        .stdout(predicate::str::contains("best           reference"))
        .stdout(predicate::str::contains("ndarray        library"));
}

#[test]
fn help_teaches_with_examples() {
    perflab()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("cargo lab bench matmul --size 1024"))
        .stdout(predicate::str::contains("PERFLAB_SIMD"));
}

#[test]
fn profile_writes_a_flamegraph_with_its_sample_count() {
    let dir = std::env::temp_dir().join(format!("perflab-profile-{}", std::process::id()));
    let svg = dir.join("best.svg");
    perflab()
        .args(["profile", "matmul", "best", "--size", "96", "--seconds", "0.5", "--threads", "1", "--out"])
        .arg(&svg)
        .assert()
        .success()
        .stdout(predicate::str::contains("samples in"))
        .stdout(predicate::str::contains("where the samples were"));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<?xml") && text.contains("<svg"), "not an SVG");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn profile_refuses_a_variant_it_cannot_run() {
    perflab()
        .args(["profile", "matmul", "no-such"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("lab 'matmul' has no variant 'no-such'"));
}
