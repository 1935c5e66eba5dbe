//! The learner's mirror: every file under `exercises/` has a reference solution of the same rung
//! under `solutions/` (a file or a folder), and a variant `your-<rung>` in the lab's table that is
//! compared with the variant `<rung>`. That every scaffold passes from the start is checked with
//! every other variant in `every_lab.rs`.

use std::path::Path;

use perflab_labs::Role;

/// Rust module names (`loop_order`) are variant names with dashes (`loop-order`).
fn rungs_in(dir: &Path) -> Vec<String> {
    let mut rungs: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter_map(|path| {
            let stem = path.file_stem()?.to_str()?.to_string();
            let module = path.is_dir() || path.extension().is_some_and(|e| e == "rs");
            (module && stem != "mod").then(|| stem.replace('_', "-"))
        })
        .collect();
    rungs.sort();
    rungs
}

#[test]
fn every_exercise_has_a_solution_of_the_same_rung_and_a_variant_that_compares_them() {
    for lab in perflab_labs::all() {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join(lab.name());
        let exercises = rungs_in(&folder.join("exercises"));
        let solutions = rungs_in(&folder.join("solutions"));
        let variants = lab.variants();
        assert!(!exercises.is_empty(), "{}: no exercises", lab.name());
        for rung in &exercises {
            assert!(solutions.contains(rung), "{}: exercises/{rung} has no solutions/{rung}", lab.name());
            let name = format!("your-{rung}");
            let exercise = variants.iter().find(|v| v.name == name);
            assert!(
                exercise.is_some_and(|v| v.role == Role::Exercise && v.reference == Some(rung.as_str())),
                "{}: exercises/{rung} needs the variant {name}, an exercise compared with {rung}",
                lab.name()
            );
        }
        for v in variants.iter().filter(|v| v.role == Role::Exercise) {
            let rung = v.name.trim_start_matches("your-");
            assert!(exercises.iter().any(|e| e == rung), "{}: {} has no file under exercises/", lab.name(), v.name);
        }
        for v in variants.iter().filter(|v| v.role == Role::Reference) {
            assert!(solutions.iter().any(|s| s == v.name), "{}: {} has no file under solutions/", lab.name(), v.name);
        }
    }
}
