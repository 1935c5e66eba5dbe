//! A learner's Python exercise through the checker: the shipped scaffold passes, and the classic
//! mistakes fail with the point (or the shape) named. Needs a Python with the pinned packages
//! (skipped without one, unless `PERFLAB_REQUIRE_PYTHON` is set, as in CI).

use std::path::PathBuf;

use perflab_harness::{checker, exercises};
use perflab_labs::OutOfProcess;

mod support;

fn python_available() -> bool {
    support::python().is_some()
}

fn your_numpy(lab: &str) -> exercises::Exercise {
    let (_, all) = exercises::load_all().unwrap();
    exercises::select_one(&all, &[lab.into(), "your-numpy".into()]).unwrap()
}

/// Checks `source` as if it were the learner's file for kmeans (written to a temporary folder).
fn check(source: &str) -> Result<checker::Correct, checker::Failure> {
    check_in("kmeans", "py-chunked", source)
}

/// Checks `source` as if it were the learner's file of `lab`'s your-numpy.
fn check_in(lab: &str, reference: &'static str, source: &str) -> Result<checker::Correct, checker::Failure> {
    check_in_within(lab, reference, source, std::time::Duration::from_secs(60))
}

/// [`check_in`] with each call's deadline given.
fn check_in_within(
    lab: &str,
    reference: &'static str,
    source: &str,
    deadline: std::time::Duration,
) -> Result<checker::Correct, checker::Failure> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("numpy.py");
    std::fs::write(&path, source).unwrap();
    let path: &'static str = Box::leak(path.to_string_lossy().into_owned().into_boxed_str());
    let file: &'static OutOfProcess = Box::leak(Box::new(OutOfProcess::python_exercise("your-numpy", reference, path)));
    perflab_harness::python_check::check_within(&your_numpy(lab), file, 42, deadline, |_| {})
}

const SCORES: &str =
    "import numpy as np\n\ndef assign(x, c):\n    scores = x @ (c.T * np.float32(-2)) + np.einsum('ij,ij->i', c, c)\n";

#[test]
fn the_shipped_scaffold_passes_and_an_argmin_over_the_wrong_axis_fails_with_the_point_named() {
    if !python_available() {
        return eprintln!("skipped: no Python with the pinned packages");
    }
    let shipped = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../labs/kmeans/exercises/shipped/numpy.py.txt"),
    )
    .unwrap();
    let correct = check(&shipped).unwrap_or_else(|f| panic!("{}: {}", f.headline(), f.error));
    assert!(correct.describe().contains("in Python"), "{}", correct.describe());

    let wrong_axis = format!(
        "{SCORES}    labels = scores.argmin(axis=0)\n    d = x - c[labels]\n    return labels, float((d * d).sum(dtype=np.float64))\n"
    );
    let failure = check(&wrong_axis).unwrap_err();
    let message = format!("{}\n{}\n{}", failure.headline(), failure.error, failure.pattern());
    assert!(message.contains("in Python"), "{message}");
    // Where n = k the shapes agree and the oracle names a point; elsewhere the shape says why.
    assert!(failure.error.contains("one label per point") || failure.error.contains("point "), "{message}");
    assert!(failure.also.iter().any(|size| size.contains("k=7")) || failure.shape.size.contains("k=7"), "{message}");
}

#[test]
fn a_call_that_never_returns_is_stopped_at_the_deadline_and_ends_the_check() {
    if !python_available() {
        return eprintln!("skipped: no Python with the pinned packages");
    }
    let forever = "def matmul(a, b):\n    while True:\n        pass\n";
    let deadline = std::time::Duration::from_secs(2);
    let started = std::time::Instant::now();
    let failure = check_in_within("matmul", "py-loops", forever, deadline).unwrap_err();
    // One stopped call, not one per size (24 edge sizes and more: minutes at any deadline).
    assert!(started.elapsed() < deadline * 8, "took {:?}", started.elapsed());
    assert_eq!(failure.checked, 1, "{}", failure.pattern());
    assert!(failure.error.contains("no reply from Python within 2s"), "{}", failure.error);
    assert!(failure.error.contains("--deadline") && failure.error.contains("not checked"), "{}", failure.error);
}

#[test]
fn a_float32_running_sum_of_the_inertia_fails_with_the_inertia_named() {
    if !python_available() {
        return eprintln!("skipped: no Python with the pinned packages");
    }
    // TODO 1 done, but the inertia accumulates numpy float32 scalars: `0.0 + np.float32` stays
    // float32 in numpy 2, and a running float32 sum drifts past the oracle's bound.
    let float32_sum = "import numpy as np\n\ndef assign(x, c):\n    labels = []\n    inertia = 0.0\n    for point in x:\n        d = ((c - point) ** 2).sum(axis=1)\n        j = int(d.argmin())\n        labels.append(j)\n        inertia += d[j]\n    return labels, inertia\n";
    let failure = check(float32_sum).unwrap_err();
    assert!(failure.error.contains("inertia"), "{}: {}", failure.headline(), failure.error);
}

#[test]
fn a_lloyd_update_that_divides_by_an_empty_clusters_zero_count_is_named() {
    if !python_available() {
        return eprintln!("skipped: no Python with the pinned packages");
    }
    // The reference's assignment, but every centroid set to its mean, also the ones with no
    // point: 0/0 makes NaN, and the centroid never gets a point again.
    let reference =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../labs/lloyd/python/numpy_lloyd.py"))
            .unwrap();
    let careless = reference.replace(
        "moved[has_points] = (sums[has_points] / counts[has_points, None]).astype(np.float32)",
        "moved[:] = (sums / counts[:, None]).astype(np.float32)",
    );
    assert_ne!(careless, reference, "the reference's update line is where this test expects it");
    let failure = check_in("lloyd", "py-numpy", &careless).unwrap_err();
    assert!(failure.error.contains("must keep its place"), "{}: {}", failure.headline(), failure.error);
    check_in("lloyd", "py-numpy", &reference)
        .unwrap_or_else(|f| panic!("the reference: {}: {}", f.headline(), f.error));
}
