//! The `perflab` command line, end to end: output, JSON, and clear errors for bad input. Every
//! lab in the registry is exercised; nothing here names a lab.

use assert_cmd::Command;
use perflab_labs::{Lab, Role};
use predicates::prelude::*;

fn perflab() -> Command {
    Command::cargo_bin("perflab").unwrap()
}

fn labs() -> Vec<&'static dyn Lab> {
    perflab_labs::all()
}

/// The lab's baseline, its first exercise and its flagship: one of each kind of rung.
fn three_variants(lab: &dyn Lab) -> [&'static str; 3] {
    let variants = lab.variants();
    let first = |role| variants.iter().find(|v| v.role == role).unwrap().name;
    [first(Role::Baseline), first(Role::Exercise), lab.flagship()]
}

#[test]
fn bench_validates_times_and_writes_the_documented_json() {
    let dir = std::env::temp_dir().join(format!("perflab-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for lab in labs() {
        let json = dir.join(format!("{}.json", lab.name()));
        let size = lab.allocation_sizes()[0];
        let [baseline, exercise, flagship] = three_variants(lab);
        perflab()
            .args(["bench", lab.name(), "--size", size, "--variant", baseline, "--variant", flagship])
            .args(["--variant", exercise, "--threads", "1", "--seconds", "0.05", "--json"])
            .arg(&json)
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("{} ", lab.name())))
            .stdout(predicate::str::contains("| threads 1"))
            .stdout(predicate::str::contains("threads: 1"));

        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(doc["schema"], perflab_harness::report::SCHEMA);
        assert!(doc["machine"]["fma_peak_gflops"].as_f64().unwrap() > 0.0);
        assert!(doc["machine"]["peak_probes"].as_u64().unwrap() > 1, "the peak is probed during the rounds too");
        let record = &doc["records"][0];
        assert_eq!(record["lab"], lab.name());
        let case = lab.prepare(size, 42).unwrap();
        assert_eq!(record["size"], case.label());
        for (name, value) in case.params() {
            assert_eq!(record["params"][name], value, "{record}");
        }
        assert_eq!(record["threads"], 1);
        assert_eq!(record["footprint_bytes"], lab.footprint(size).unwrap(), "{record}");
        assert!(!record["probe_gflops"].as_array().unwrap().is_empty(), "each round's probe");
        assert!(record.get("cores_together").is_none(), "one thread: no probe of the cores together");
        let limits = &doc["machine"]["limits"];
        assert!(limits["bandwidth"]["one_thread_gbs"].as_f64().unwrap() > 0.0, "{limits}");
        assert!(limits["fingerprint"]["id"].is_string(), "{limits}");
        assert!(doc["machine"]["cpu"].is_string() && doc["machine"]["simd_level"].is_string());
        let blocks = &doc["machine"]["gemm_blocks"];
        assert!(
            blocks["sizes"]["kc"].as_u64().unwrap() > 0 && blocks["choices"].as_array().unwrap().len() == 3,
            "{blocks}"
        );
        let variants = record["variants"].as_array().unwrap();
        let names: Vec<_> = variants.iter().map(|v| v["name"].as_str().unwrap()).collect();
        let mut expected: Vec<_> =
            lab.variants().iter().map(|v| v.name).filter(|n| three_variants(lab).contains(n)).collect();
        expected.dedup();
        assert_eq!(names, expected, "in the lab's ladder order");
        let work = case.work();
        for v in variants {
            assert_eq!(v["verdict"]["status"], "measured", "{v}");
            assert_eq!(v["verdict"]["correct"], true, "{v}");
            let median = v["timing"]["median_s"].as_f64().unwrap();
            assert!(median > 0.0);
            let samples = v["timing"]["samples_s"].as_array().unwrap();
            assert_eq!(samples.len() as u64, v["timing"]["samples"].as_u64().unwrap(), "every round's sample, {v}");
            assert!(v["timing"]["epochs"].as_u64().unwrap() >= 1);
            assert_eq!(v["speed"]["throughput"]["unit"], work.name);
            let rate = v["speed"]["throughput"]["value"].as_f64().unwrap();
            assert!((rate - work.per_call / median / work.scale).abs() <= 1e-9 * rate.max(1.0), "{v}");
        }
        assert_eq!(variants[0]["speed"]["speedup_vs_naive"], 1.0);
        let by_name = |name: &str| variants.iter().find(|v| v["name"] == name).unwrap();
        // Allocations were counted (the binary installs the counting allocator), and the flagship
        // allocates nothing per call.
        assert_eq!(by_name(flagship)["memory"]["allocs_per_call"], 0, "{}", by_name(flagship));
        assert_eq!(by_name(flagship)["memory"]["alloc_bytes_per_call"], 0);
        assert_eq!(by_name(exercise)["reference"], exercise.trim_start_matches("your-"));
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unknown_lab_variant_flag_and_bad_sizes_get_one_clear_line_and_no_panic() {
    let known: Vec<_> = labs().iter().map(|l| l.name()).collect();
    let unknown_lab = format!("unknown lab 'no-such-lab'; known labs: {}", known.join(", "));
    perflab().args(["bench", "no-such-lab"]).assert().code(2).stderr(predicate::str::contains(unknown_lab));
    for lab in labs() {
        let name = lab.name();
        let no_variant = format!("lab '{name}' has no variant 'fastest'; its variants: ");
        let axis = lab.sweep().axis;
        let cases: [(&[&str], String); 15] = [
            (&["bench", name, "--variant", "fastest"], no_variant),
            (&["bench", name, "--size", "12x"], lab.footprint("12x").unwrap_err()),
            (&["bench", name, "--size", "abc"], lab.footprint("abc").unwrap_err()),
            (&["bench", name, "--threads", "0"], "--threads".into()),
            (&["bench", name, "--seconds=0"], "not a number of seconds".into()),
            // A value that starts with '-' is read as the value, not as a flag.
            (&["bench", name, "--seconds", "-1"], "not a number of seconds".into()),
            (&["bench", name, "--threads", "-2"], "'-2' is not a thread count".into()),
            (&["bench", name, "--size", "-5"], lab.footprint("-5").unwrap_err()),
            (&["bench", name, "--size", "--threads", "2"], "a value is required for '--size".into()),
            (&["profile", name, "no-such"], format!("lab '{name}' has no variant 'no-such'")),
            (&["sweep", name, "--sizes", "64,big"], format!("'big' is not a value of {axis}")),
            (&["sweep", name, "--sizes", "0"], format!("{axis} = 0 does no work")),
            (&["bench", name, "--threads", "4..1"], "from fewer threads to more".into()),
            (&["bench", name, "--threads", "1,x"], "'x' is not a thread count".into()),
            (&["bench", name, "--threads", "1,2", "--baseline", "x"], "compare one thread count".into()),
        ];
        for (args, message) in cases {
            refused(args, &message);
        }
    }
    perflab().arg("--frobnicate").assert().code(2).stderr(predicate::str::contains("unexpected argument"));
    // Refused before anything is built or timed, by every command that takes them.
    let before_any_work: [(&[&str], &str); 5] = [
        (&["check", "matmul", "your-simd", "--size", "1000000", "--no-time"], "GiB of memory"),
        (&["bench", "matmul", "--size", "1073741824x1073741824x1610612736"], "more than 2^64 bytes"),
        (&["check", "matmul", "your-simd", "--threads", "9999"], "--threads 9999 on a machine"),
        (&["tune", "matmul", "--threads", "9999"], "--threads 9999 on a machine"),
        (&["bench", "matmul", "--size", "8", "--threads", "1..9999"], "--threads 9999 on a machine"),
    ];
    for (args, message) in before_any_work {
        refused(args, message);
    }
}

/// `args` end with exit code 2 and `message`, never a panic.
fn refused(args: &[&str], message: &str) {
    perflab()
        .args(args)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(message))
        .stderr(predicate::str::contains("panicked").not());
}

/// On two cores each kept round also probes both threads at once: one value per round (near 1
/// when the cores are free; other tests running beside this one may lower some).
#[test]
fn a_two_thread_run_records_whether_the_cores_were_free_each_round() {
    if perflab_labs::cpu::physical_cores().unwrap_or(1) < 2 {
        return; // one core: nothing to probe together
    }
    let json = std::env::temp_dir().join(format!("perflab-cores-together-{}.json", std::process::id()));
    perflab()
        .args(["bench", "matmul", "--size", "64", "--variant", "best", "--threads", "2", "--seconds", "0.05"])
        .arg("--json")
        .arg(&json)
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let record = &doc["records"][0];
    let together: Vec<f64> = record["cores_together"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(together.len(), record["probe_gflops"].as_array().unwrap().len(), "one per kept round");
    // No upper bound: each is over the best one-core probe so far, which load can have lowered.
    assert!(together.iter().all(|&f| f > 0.0 && f.is_finite()), "{together:?}");
}

#[test]
fn an_unwritable_json_path_is_refused_before_anything_runs() {
    let lab = labs()[0];
    let started = std::time::Instant::now();
    perflab()
        .args(["bench", lab.name(), "--json", "/no/such/dir/x.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot write the JSON output /no/such/dir/x.json"))
        .stdout(predicate::str::contains("FMA peak").not());
    let folder = tempfile::tempdir().unwrap();
    perflab()
        .args(["bench", lab.name(), "--json"])
        .arg(folder.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("it is a folder"))
        .stdout(predicate::str::contains("FMA peak").not());
    // A baseline refused leaves no JSON file begun.
    let json = folder.path().join("run.json");
    perflab()
        .args(["bench", lab.name(), "--baseline", "no-such-baseline", "--json"])
        .arg(&json)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no baseline 'no-such-baseline'"));
    let left: Vec<_> = std::fs::read_dir(folder.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(started.elapsed().as_secs() < 10, "refused at once, not after the run");
}

#[test]
fn an_empty_problem_says_there_is_nothing_to_time() {
    // Every lab whose problem can be empty lists an empty size first (k-means cannot: k ≥ 1 centroids
    // need k ≤ n points); at least one lab here can.
    let empties: Vec<_> =
        labs().into_iter().filter(|lab| lab.prepare(lab.edge_sizes()[0], 1).unwrap().work().per_call == 0.0).collect();
    assert!(empties.len() >= 2, "matmul and knn list an empty size first");
    for lab in empties {
        let empty = lab.edge_sizes()[0];
        perflab()
            .args(["bench", lab.name(), "--size", empty, "--seconds", "0.05"])
            .assert()
            .success()
            .stdout(predicate::str::contains("nothing to time"));
    }
}

#[test]
fn list_names_every_variant_and_its_role() {
    let listing = perflab().arg("list").assert().success().get_output().stdout.clone();
    let listing = String::from_utf8(listing).unwrap();
    for lab in labs() {
        assert!(listing.contains(&format!("{}: {}", lab.name(), lab.about())), "{listing}");
        for v in lab.variants() {
            // An exercise shows its file and goal instead of its summary.
            let says = if v.role == Role::Exercise { "your file labs/".to_string() } else { v.summary.to_string() };
            assert!(listing.contains(&format!("{:<14} {:<9} {says}", v.name, v.role.as_str())), "{listing}");
            if v.role == Role::Exercise {
                assert!(listing.contains("goal ≥ "), "{listing}");
            }
        }
    }
}

#[cfg(unix)]
#[test]
fn output_into_a_closed_pipe_ends_quietly_without_a_panic() {
    // As in `cargo lab list | head -1`, but with the reading end closed before perflab starts, so
    // that its first write fails whatever the timing.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_perflab"))
        .arg("list")
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn help_teaches_with_examples() {
    perflab()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("cargo lab bench matmul --size 1024"))
        .stdout(predicate::str::contains("PERFLAB_SIMD"))
        .stdout(predicate::str::contains("PERFLAB_OUT"));
}

#[test]
fn data_help_names_every_data_set_of_every_lab_that_has_several() {
    for command in ["bench", "profile"] {
        let help = perflab().args([command, "--help"]).output().unwrap();
        let text = String::from_utf8_lossy(&help.stdout);
        for lab in labs().into_iter().filter(|lab| !lab.data_sets().is_empty()) {
            let listed = format!("{}: {}", lab.name(), lab.data_sets().join(", "));
            assert!(text.contains(&listed), "`{command} --help` lacks '{listed}':\n{text}");
        }
    }
}

#[test]
fn profile_writes_a_flamegraph_with_its_sample_count() {
    let dir = std::env::temp_dir().join(format!("perflab-profile-{}", std::process::id()));
    for lab in labs() {
        let svg = dir.join(format!("{}.svg", lab.name()));
        perflab()
            .args(["profile", lab.name(), lab.flagship(), "--size", lab.allocation_sizes()[0]])
            .args(["--seconds", "0.5", "--threads", "1", "--out"])
            .arg(&svg)
            .assert()
            .success()
            .stdout(predicate::str::contains("samples in"))
            .stdout(predicate::str::contains("where the samples were"))
            .stdout(predicate::str::contains(if cfg!(target_os = "linux") { "by source line" } else { "" }));
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.starts_with("<?xml") && text.contains("<svg"), "not an SVG");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn flamegraphs_go_to_the_current_workspace_or_perflab_out() {
    let out = std::env::temp_dir().join(format!("perflab-out-{}", std::process::id()));
    let lab = labs()[0];
    let size = lab.allocation_sizes()[0];
    perflab()
        .env("PERFLAB_OUT", &out)
        .args(["profile", lab.name(), lab.flagship(), "--size", size, "--seconds", "0.2", "--threads", "1"])
        .assert()
        .success();
    let label = lab.prepare(size, 42).unwrap().label();
    let svg = out.join("flamegraphs").join(lab.name()).join(format!("{}-{label}-threads-1.svg", lab.flagship()));
    assert!(svg.is_file(), "{} was not written", svg.display());
    std::fs::remove_dir_all(&out).ok();
}

/// The learner's commands, with their state (revealed hints, backups) kept out of the workspace.
fn learner() -> (Command, tempfile::TempDir) {
    let state = tempfile::tempdir().unwrap();
    let mut command = perflab();
    command.env("PERFLAB_STATE_DIR", state.path());
    (command, state)
}

/// Every exercise in the registry, as `<lab> <exercise>` (the Rust ones).
fn exercise_ids() -> Vec<(&'static str, &'static str)> {
    labs()
        .iter()
        .flat_map(|lab| lab.variants().into_iter().filter(|v| v.role == Role::Exercise).map(|v| (lab.name(), v.name)))
        .collect()
}

/// Every Python exercise, as `<lab> <exercise>`.
fn python_exercise_ids() -> Vec<(&'static str, &'static str)> {
    let python = |lab: &&'static dyn Lab| lab.out_of_process().iter().filter(|v| v.role == Role::Exercise);
    labs().iter().flat_map(|lab| python(lab).map(|v| (lab.name(), v.name))).collect()
}

#[test]
fn check_validates_one_exercise_and_names_it() {
    let (lab, exercise) = exercise_ids()[0];
    let (mut command, _state) = learner();
    command
        .args(["check", lab, exercise, "--no-time"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("{lab} {exercise}  labs/")))
        .stdout(predicate::str::contains("correct on "));
}

#[test]
fn status_lists_every_exercise_of_every_lab() {
    // Without a Python (Python is optional), as on a fresh machine: its exercises are listed as not
    // checked, with the reason once, and nothing fails.
    let (mut command, _state) = learner();
    let output = command.env("PERFLAB_PYTHON", NO_PYTHON).args(["status", "--no-time"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let python = python_exercise_ids();
    assert!(!python.is_empty(), "the labs have Python exercises");
    let rows = exercise_ids().into_iter().map(|e| (e, false)).chain(python.into_iter().map(|e| (e, true)));
    for ((lab, exercise), is_python) in rows {
        let row = stdout.lines().find(|l| l.contains(lab) && l.contains(&format!(" {exercise} ")));
        let row = row.unwrap_or_else(|| panic!("{lab} {exercise}:\n{stdout}"));
        assert_eq!(row.contains("not checked (no Python)"), is_python, "{row}");
    }
    assert!(stdout.contains(&format!("Python exercises not checked (Python is optional): {NO_PYTHON}")), "{stdout}");
}

/// A Python that is not there.
const NO_PYTHON: &str = "/nonexistent/perflab-test/python";

#[test]
fn a_python_exercise_asked_for_by_name_without_python_is_an_error_that_says_how_to_get_one() {
    let (mut command, _state) = learner();
    command.env("PERFLAB_PYTHON", NO_PYTHON).args(["check", "kmeans", "your-numpy"]);
    let stderr = predicate::str::contains("could not be checked").and(predicate::str::contains("pip install"));
    command.assert().code(2).stderr(stderr);
}

#[test]
fn tune_names_the_file_it_was_given_when_that_file_is_not_a_tuned_file() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("blocks.json");
    std::fs::write(&garbage, "not json").unwrap();
    let path = garbage.to_str().unwrap();
    refused(&["tune", "matmul", "--file", path], &format!("{path} does not parse as a tuned block sizes file"));
}

#[test]
fn a_bench_of_python_variants_alone_without_python_is_an_error_not_an_empty_run() {
    let mut command = perflab();
    command.env("PERFLAB_PYTHON", NO_PYTHON).args(["bench", "matmul", "--size", "64", "--variant", "numpy"]);
    let stderr =
        predicate::str::contains("every variant asked for runs in Python").and(predicate::str::contains(NO_PYTHON));
    command.assert().code(2).stderr(stderr);
}

#[test]
fn hints_come_one_at_a_time_and_bad_names_are_explained() {
    let (lab, exercise) = exercise_ids()[0];
    let (mut first, state) = learner();
    first.args(["hint", lab, exercise]).assert().success().stdout(predicate::str::contains("hint 1 of"));
    let mut second = perflab();
    second.env("PERFLAB_STATE_DIR", state.path()).args(["hint", lab, exercise]);
    second.assert().success().stdout(predicate::str::contains("hint 2 of"));
    let (mut too_far, _state) = learner();
    too_far.args(["hint", lab, exercise, "99"]).assert().code(2).stderr(predicate::str::contains("has hints 1 to"));
    let (mut unknown, _state) = learner();
    unknown.args(["hint", lab, "your-fft"]).assert().code(2).stderr(predicate::str::contains("has no exercise"));
    let (mut all_and_a_number, _state) = learner();
    all_and_a_number.args(["hint", lab, exercise, "2", "--all"]);
    all_and_a_number.assert().code(2).stderr(predicate::str::contains("leave out the hint number 2"));
}

#[test]
fn reset_refuses_to_overwrite_without_confirmation_and_leaves_a_shipped_file_alone() {
    for (lab, exercise) in exercise_ids() {
        let (mut command, _state) = learner();
        let output = command.args(["reset", lab, exercise]).write_stdin("").output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        // A clean checkout is as shipped; a learner's edited file is never replaced without --yes.
        let as_shipped = stdout.contains("already as shipped");
        assert!(as_shipped || stderr.contains("confirm with --yes"), "{lab} {exercise}: {stdout}{stderr}");
        assert_eq!(output.status.code(), Some(if as_shipped { 0 } else { 2 }));
    }
}

#[test]
fn machine_prints_the_limits_and_keeps_them() {
    perflab()
        .arg("machine")
        .assert()
        .success()
        .stdout(predicate::str::contains("f32 FMA peak:"))
        .stdout(predicate::str::contains("memory bandwidth (triad"))
        .stdout(predicate::str::contains("balance:"))
        .stdout(predicate::str::contains("GEMM cache blocks at"))
        .stdout(predicate::str::contains("kc = ").and(predicate::str::contains("nc = ")))
        .stdout(predicate::str::contains("k-means assignment (and Lloyd's): the direct form"))
        .stdout(predicate::str::contains("target/perflab/machine-"));
}

#[test]
fn a_baseline_is_saved_then_compared_and_a_missing_one_is_refused_before_timing() {
    let lab = labs()[0];
    let size = lab.allocation_sizes()[0];
    let name = format!("cli-test-{}", std::process::id());
    let bench = |extra: &[&str]| {
        let mut command = perflab();
        command.args(["bench", lab.name(), "--size", size, "--variant", lab.flagship(), "--threads", "1"]);
        command.args(["--seconds", "0.05"]).args(extra);
        command
    };
    bench(&["--save-baseline", &name])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("saved as baseline '{name}'")));
    let json = std::env::temp_dir().join(format!("{name}.json"));
    bench(&["--baseline", &name, "--json", json.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("vs baseline '{name}'")))
        .stdout(predicate::str::contains(lab.flagship()))
        .stdout(predicate::str::is_match("unchanged|inconclusive|faster|slower").unwrap());
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let change = &doc["against"]["baseline"]["changes"][0];
    assert_eq!(change["variant"], lab.flagship(), "{doc}");
    let verdict = change["change"]["verdict"].as_str().unwrap();
    assert!(["faster", "slower", "unchanged", "inconclusive"].contains(&verdict), "{change}");
    std::fs::remove_file(json).ok();
    bench(&["--baseline", "no-such-baseline"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no baseline 'no-such-baseline' on this machine"))
        .stdout(predicate::str::contains("threads:").not());
    bench(&["--save-baseline", "../escape"]).assert().code(2).stderr(predicate::str::contains("baseline name"));
    let path = perflab_harness::baseline::path(&name).unwrap();
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_sweep_saves_and_compares_baselines_as_bench_does() {
    let name = format!("cli-sweep-test-{}", std::process::id());
    let sweep = |extra: &[&str]| {
        let mut command = perflab();
        command.args(["sweep", "matmul", "--sizes", "16,32", "--variant", "simd", "--threads", "1"]);
        command.args(["--seconds", "0.05"]).args(extra);
        command
    };
    sweep(&["--save-baseline", &name])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("saved as baseline '{name}'")));
    sweep(&["--baseline", &name])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("vs baseline '{name}'")))
        .stdout(predicate::str::contains("matmul 16x16x16").and(predicate::str::contains("matmul 32x32x32")));
    sweep(&["--baseline", "no-such-baseline"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no baseline 'no-such-baseline' on this machine"))
        .stdout(predicate::str::contains("cells:").not());
    std::fs::remove_file(perflab_harness::baseline::path(&name).unwrap()).unwrap();
}

#[test]
fn compare_runs_against_every_shipped_reference_file() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("reference-timings");
    let shipped: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json").map(str::to_string))
        .collect();
    assert!(!shipped.is_empty(), "at least one reference file is shipped");
    perflab().args(["compare", "--list"]).assert().success().stdout(predicate::str::contains("(nearest)"));
    let lab = labs()[0];
    for name in shipped {
        let json = std::env::temp_dir().join(format!("perflab-compare-{}-{name}.json", std::process::id()));
        perflab()
            .args(["compare", lab.name(), "--reference", &name, "--variant", lab.flagship()])
            .args(["--threads", "1", "--seconds", "0.05", "--json"])
            .arg(&json)
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("vs reference {name}")))
            .stdout(predicate::str::is_match("the machine|the code").unwrap());
        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let row = &doc["comparisons"][0];
        assert_eq!((&row["variant"], &doc["reference"]["name"]), (&lab.flagship().into(), &name.clone().into()));
        assert!(row["here"]["time_s"].as_f64().unwrap() > 0.0 && row["there"]["time_s"].as_f64().unwrap() > 0.0);
        std::fs::remove_file(json).ok();
    }
}
