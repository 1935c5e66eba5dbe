//! The Python anchors end to end, through the `perflab` binary: against a real Python when one
//! with the anchors' packages is found (`PERFLAB_PYTHON`, or `.venv/` at the workspace root; CI
//! sets `PERFLAB_REQUIRE_PYTHON=1` so that a missing one fails instead of skipping), and the
//! unavailable path, which needs no Python at all.

mod support;

use assert_cmd::Command;
use perflab_labs::Lab;
use predicates::prelude::*;
use support::python;

fn perflab() -> Command {
    Command::cargo_bin("perflab").unwrap()
}

/// The labs that have Python anchors, each with one of them.
fn labs_with_anchors() -> Vec<(&'static dyn Lab, &'static str)> {
    perflab_labs::all().into_iter().filter_map(|lab| lab.out_of_process().first().map(|a| (lab, a.name))).collect()
}

#[test]
fn a_python_anchor_is_validated_and_timed_in_the_same_rounds() {
    let Some(python) = python() else {
        eprintln!("skipped: no Python with the anchors' packages (see README, Python anchors)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("perflab-anchors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for lab in perflab_labs::all() {
        let anchors: Vec<&str> = lab.out_of_process().iter().map(|a| a.name).collect();
        let roles: Vec<&str> = lab.out_of_process().iter().map(|a| a.role.as_str()).collect();
        if anchors.is_empty() {
            continue;
        }
        let json = dir.join(format!("{}.json", lab.name()));
        let size = lab.allocation_sizes()[0];
        let mut command = perflab();
        command.args(["bench", lab.name(), "--size", size, "--variant", lab.flagship()]);
        for anchor in &anchors {
            command.args(["--variant", anchor]);
        }
        let output = command
            .args(["--threads", "1", "--seconds", "0.1", "--python"])
            .arg(&python)
            .arg("--json")
            .arg(&json)
            .assert()
            .success();
        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let variants = doc["records"][0]["variants"].as_array().unwrap();
        for (anchor, role) in anchors.into_iter().zip(roles) {
            let stdout = String::from_utf8_lossy(&output.get_output().stdout);
            assert!(stdout.contains(&format!("{anchor} (Python, its own process, same rounds)")), "{stdout}");
            let row = variants.iter().find(|v| v["name"] == anchor).unwrap();
            let verdict = &row["verdict"];
            assert_eq!(
                (verdict["status"].as_str(), verdict["correct"].as_bool()),
                (Some("measured"), Some(true)),
                "{row}"
            );
            assert_eq!(row["role"], role);
            assert!(row["timing"]["median_s"].as_f64().unwrap() > 0.0);
            let memory = &row["python_memory"];
            assert!(memory["peak_bytes"].is_u64(), "tracemalloc's peak for every Python row: {row}");
            assert!(memory["numpy_buffers"].is_u64(), "numpy's buffers counted with the pinned numpy: {row}");
            assert!(row["speed"]["ratio_vs_reference"].as_f64().unwrap() > 0.0, "compared with the flagship: {row}");
            let library = &row["library"];
            let fields = library.as_object().unwrap();
            let version = fields.iter().any(|(key, value)| {
                !["blas", "threads", "round_trip_ms", "sample_ms", "kernel_note"].contains(&key.as_str())
                    && value.is_string()
            });
            assert!(version && library["blas"].is_string(), "versions recorded: {library}");
            assert_eq!(library["threads"], 1, "--threads governs the anchor too");
            let blas = library["blas"].as_str().unwrap();
            assert!(blas.contains("1 threads"), "threadpoolctl sees the BLAS limited to one thread: {blas}");
            let kernels = library["blas_kernels"].as_array().expect("each BLAS's kernel, to judge against the CPU");
            assert!(!kernels.is_empty() && kernels.iter().all(|k| k["kernel"].is_string()), "{library}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_library_answer_the_oracle_rejects_is_reported_but_does_not_fail_the_run() {
    let Some(python) = python() else {
        eprintln!("skipped: no Python with the anchors' packages (see README, Python anchors)");
        return;
    };
    // numpy's ‖q‖² + ‖x‖² − 2·q·x in float32, far from the origin: distances off by about 1.
    perflab()
        .args(["bench", "knn", "--size", "n=2000,d=32,m=20,k=5", "--data", "shifted"])
        .args(["--variant", "best", "--variant", "numpy", "--threads", "1", "--seconds", "0.05", "--python"])
        .arg(&python)
        .assert()
        .success()
        .stdout(predicate::str::contains("numpy's answer does not meet the oracle on this input"))
        .stdout(predicate::str::contains("the exit code ignores it"));
}

#[test]
fn without_python_the_anchor_is_unavailable_with_the_command_that_enables_it() {
    // Beside one of the lab's own variants (Python rows alone, with no Python, are an error).
    for (lab, anchor) in labs_with_anchors() {
        perflab()
            .args(["bench", lab.name(), "--size", lab.allocation_sizes()[0], "--variant", anchor])
            .args(["--variant", lab.variants()[0].name])
            .args(["--seconds", "0.05", "--python", "/no/such/python"])
            .assert()
            .success()
            .stdout(predicate::str::contains("n/a"))
            .stdout(predicate::str::contains(format!("{anchor}: /no/such/python does not exist")))
            .stdout(predicate::str::contains("pip install -r harness/python/requirements.txt"));
    }
}

#[test]
fn without_python_the_missing_anchors_share_one_line() {
    let output = perflab()
        .args(["bench", "knn", "--size", "n=500,d=8,m=4,k=3", "--variant", "numpy", "--variant", "sklearn"])
        .args(["--variant", "best", "--seconds", "0.05", "--python", "/no/such/python"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let lines: Vec<_> = stdout.lines().filter(|l| l.contains("/no/such/python does not exist")).collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].contains("numpy") && lines[0].contains("sklearn"), "{}", lines[0]);
}

#[test]
fn an_anchor_that_answers_nonsense_fails_validation_and_the_exit_code_says_so() {
    // A "Python" that passes the harness's probe (`-c`: it imports numpy), is ready, loads the
    // inputs, times its calls, then claims to have validated without writing any output.
    let fake = std::env::temp_dir().join(format!("perflab-liar-{}", std::process::id()));
    let script = "#!/bin/sh\nif [ \"$1\" = -c ]; then echo 'perflab-python 3 fake'; exit 0; fi\necho 'ready {}'\n\
                  while read line; do case \"$line\" in sample*) echo 'seconds 0';; *) echo ok;; esac; done\n";
    std::fs::write(&fake, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (lab, anchor) in labs_with_anchors() {
        perflab()
            .args(["bench", lab.name(), "--size", lab.allocation_sizes()[0], "--variant", anchor])
            .args(["--seconds", "0.05", "--python"])
            .arg(&fake)
            .assert()
            .code(1)
            .stdout(predicate::str::contains("FAILED"))
            .stdout(predicate::str::contains("expected 'ok <outputs>', got 'ok'"));
    }
    std::fs::remove_file(&fake).ok();
}
