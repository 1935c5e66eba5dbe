//! Where output goes, decided at run time from the current directory (never from where the
//! binary was built: a shared `CARGO_TARGET_DIR` or a moved checkout must not write into
//! another checkout).

use std::path::{Path, PathBuf};

/// The workspace the current directory is in: the nearest ancestor whose `Cargo.toml` declares
/// `[workspace]`.
pub fn workspace() -> Option<PathBuf> {
    let here = std::env::current_dir().ok()?;
    workspace_above(&here)
}

fn workspace_above(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| std::fs::read_to_string(d.join("Cargo.toml")).is_ok_and(|text| text.contains("[workspace]")))
        .map(Path::to_path_buf)
}

/// The folder output folders (`flamegraphs/`) go in: `PERFLAB_OUT` if set, else the workspace,
/// else the current directory.
pub fn out_dir() -> PathBuf {
    if let Some(out) = std::env::var_os("PERFLAB_OUT").filter(|o| !o.is_empty()) {
        return PathBuf::from(out);
    }
    workspace().unwrap_or_else(|| PathBuf::from("."))
}

/// Cargo's target folder for the workspace: `CARGO_TARGET_DIR` if set, else `<workspace>/target`.
pub fn target_dir(workspace: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|t| !t.is_empty()) {
        Some(dir) => workspace.join(dir), // an absolute path replaces the workspace
        None => workspace.join("target"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_is_found_from_any_folder_inside_it() {
        let root = workspace_above(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(root.join("harness").is_dir() && root.join("labs").is_dir(), "{}", root.display());
        assert_eq!(workspace_above(&root.join("harness/src")), Some(root.clone()));
        assert_eq!(workspace_above(Path::new("/")), None);
    }
}
