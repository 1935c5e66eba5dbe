//! `cargo lab tune matmul`: clear refusals, and a real (tiny) tune that keeps its winner for this
//! CPU beside every other CPU's entry.

use assert_cmd::Command;
use perflab_labs::gemm::blocking::{self, TunedFile};
use predicates::prelude::*;

fn perflab() -> Command {
    Command::cargo_bin("perflab").unwrap()
}

#[test]
fn tune_refuses_other_labs_bad_sizes_levels_and_block_variables() {
    for lab in perflab_labs::all().into_iter().filter(|l| l.name() != "matmul") {
        perflab()
            .args(["tune", lab.name()])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("only matmul has block sizes to tune"));
    }
    let cases: [(&[&str], &str); 3] = [
        (&["tune", "matmul", "--sizes", "10"], "between 64 and 8192"),
        (&["tune", "matmul", "--level", "avx9"], "one of scalar, avx2, avx512"),
        (&["tune", "matmul", "--threads", "0"], "--threads"),
    ];
    for (args, message) in cases {
        perflab().args(args).assert().code(2).stderr(predicate::str::contains(message));
    }
    for value in ["0", "many", "-3"] {
        perflab()
            .args(["bench", "matmul", "--size", "64"])
            .env("PERFLAB_GEMM_KC", value)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("PERFLAB_GEMM_KC={value} is not a positive whole number")))
            .stderr(predicate::str::contains("panicked").not());
    }
}

#[test]
fn a_tune_keeps_its_winner_for_this_cpu_and_every_other_entry() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tuned.json");
    let mut shipped = blocking::tuned_file().unwrap();
    let mut other = shipped.entries.first().cloned().unwrap_or_else(|| panic!("the shipped file has entries"));
    other.cpu = "another-cpu".into();
    shipped.entries.push(other.clone());
    std::fs::write(&file, serde_json::to_string_pretty(&shipped).unwrap()).unwrap();

    perflab()
        .args(["tune", "matmul", "--level", "scalar", "--sizes", "64,96", "--seconds", "0.001", "--file"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("the model's choice:"))
        .stdout(predicate::str::contains("over the model's choice"))
        .stdout(predicate::str::contains("kept for this CPU"));
    let kept: TunedFile = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let mine: Vec<_> = kept.entries.iter().filter(|e| e.cpu == blocking::cpu_key() && e.level == "scalar").collect();
    assert_eq!(mine.len(), 1, "one entry per CPU and level: {kept:?}");
    assert_eq!(mine[0].sizes_timed, vec![64, 96]);
    assert!(mine[0].gflops > 0.0 && mine[0].model_gflops.is_some());
    assert!(kept.entries.contains(&other), "another CPU's entry is kept");

    // --dry-run leaves the file alone.
    let before = std::fs::read_to_string(&file).unwrap();
    perflab()
        .args(["tune", "matmul", "--level", "scalar", "--sizes", "64", "--seconds", "0.001", "--dry-run", "--file"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains("left as it is"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
}
