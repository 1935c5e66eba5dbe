//! The learner's mirror: every file under `exercises/` has a reference solution of the same rung
//! under `solutions/` (a file or a folder), and a variant `your-<rung>` in the lab's table that is
//! compared with the variant `<rung>`; and every scaffold as committed is its shipped copy. That
//! every scaffold passes from the start is checked with every other variant in `every_lab.rs`.

use std::path::Path;
use std::process::{Command, Stdio};

use perflab_labs::Role;

/// Rust module names (`loop_order`) are variant names with dashes (`loop-order`).
fn rungs_in(dir: &Path) -> Vec<String> {
    let mut rungs: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter_map(|path| {
            let stem = path.file_stem()?.to_str()?.to_string();
            let module = path.is_dir() || path.extension().is_some_and(|e| e == "rs");
            // `shipped/` holds the scaffolds as shipped (what `cargo lab reset` restores), not a rung.
            (module && stem != "mod" && stem != "shipped").then(|| stem.replace('_', "-"))
        })
        .collect();
    rungs.sort();
    rungs
}

#[test]
fn every_exercise_has_a_solution_of_the_same_rung_and_a_variant_that_compares_them() {
    for lab in perflab_labs::all() {
        let name = lab.name();
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
        let exercises = rungs_in(&folder.join("exercises"));
        let solutions = rungs_in(&folder.join("solutions"));
        let variants = lab.variants();
        assert!(!exercises.is_empty(), "{name}: no exercises");
        for rung in &exercises {
            assert!(solutions.contains(rung), "{name}: exercises/{rung} has no solutions/{rung}");
            let variant = format!("your-{rung}");
            let exercise = variants.iter().find(|v| v.name == variant);
            assert!(
                exercise.is_some_and(|v| v.role == Role::Exercise && v.reference == Some(rung.as_str())),
                "{name}: exercises/{rung} needs the variant {variant}, an exercise compared with {rung}"
            );
        }
        for v in variants.iter().filter(|v| v.role == Role::Exercise) {
            let rung = v.name.trim_start_matches("your-");
            assert!(exercises.iter().any(|e| e == rung), "{name}: {} has no file under exercises/", v.name);
        }
        for v in variants.iter().filter(|v| v.role == Role::Reference) {
            assert!(solutions.iter().any(|s| s == v.name), "{name}: {} has no file under solutions/", v.name);
        }
    }
}

/// Whether git says `file` differs from the last commit: None where git cannot say (no git, no
/// repository: a tarball).
fn edited_since_commit(file: &Path) -> Option<bool> {
    let status = Command::new("git")
        .args(["diff", "--quiet", "HEAD", "--"])
        .arg(file)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    match status.code() {
        Some(0) => Some(false),
        Some(1) => Some(true),
        _ => None,
    }
}

/// The scaffold under `exercises/` is what `cargo lab reset` restores from `exercises/shipped/`
/// and what `cargo lab status` calls "as shipped". A scaffold committed without its shipped copy
/// fails here on every clean clone (CI). A file edited since the last commit is someone's work in
/// progress (a learner's exercise): it is not compared, only named.
#[test]
fn every_committed_scaffold_is_its_shipped_copy() {
    let mut scaffolds = 0;
    for lab in perflab_labs::all() {
        let exercises = Path::new(env!("CARGO_MANIFEST_DIR")).join(lab.name()).join("exercises");
        for rung in rungs_in(&exercises) {
            let file = exercises.join(format!("{}.rs", rung.replace('-', "_")));
            scaffolds += 1;
            let shipped =
                exercises.join("shipped").join(format!("{}.txt", file.file_name().unwrap().to_string_lossy()));
            let copy = std::fs::read(&shipped).unwrap_or_else(|_| {
                panic!("{} has no shipped copy: cp {} {}", file.display(), file.display(), shipped.display())
            });
            if std::fs::read(&file).unwrap() == copy {
                continue;
            }
            match edited_since_commit(&file) {
                Some(false) => panic!(
                    "{} as committed differs from its shipped copy (after changing a scaffold: cp {} {})",
                    file.display(),
                    file.display(),
                    shipped.display()
                ),
                Some(true) => {
                    eprintln!("note: {} is edited (yours): not compared with its shipped copy", file.display())
                }
                None => eprintln!(
                    "note: {} differs from its shipped copy, and git cannot say whether it is yours",
                    file.display()
                ),
            }
        }
    }
    let exercises =
        perflab_labs::all().iter().flat_map(|lab| lab.variants()).filter(|v| v.role == Role::Exercise).count();
    assert_eq!(scaffolds, exercises, "one scaffold file per exercise variant");
}
