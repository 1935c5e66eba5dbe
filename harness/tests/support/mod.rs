//! What the integration tests that need Python share.

use std::path::PathBuf;

/// A Python that can import numpy, or None (a skip, unless CI demands one with
/// `PERFLAB_REQUIRE_PYTHON`): `PERFLAB_PYTHON`, else `.venv/bin/python` at the workspace root.
pub fn python() -> Option<PathBuf> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let candidate = std::env::var_os("PERFLAB_PYTHON").map(PathBuf::from).unwrap_or(workspace.join(".venv/bin/python"));
    let works = std::process::Command::new(&candidate)
        .args(["-c", "import numpy, threadpoolctl"])
        .status()
        .is_ok_and(|s| s.success());
    if !works && std::env::var_os("PERFLAB_REQUIRE_PYTHON").is_some() {
        panic!("PERFLAB_REQUIRE_PYTHON is set but {} cannot import numpy and threadpoolctl", candidate.display());
    }
    works.then_some(candidate)
}
