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
            // `shipped/` holds the scaffolds as shipped (what `cargo lab reset` restores), not a rung.
            (module && stem != "mod" && stem != "shipped").then(|| stem.replace('_', "-"))
        })
        .collect();
    rungs.sort();
    rungs
}

#[test]
fn every_exercise_has_a_solution_of_the_same_rung_and_a_variant_that_compares_them() {
    let mut folders: Vec<&str> = perflab_labs::all().iter().map(|lab| lab.folder()).collect();
    folders.dedup();
    for name in folders {
        // A folder may hold several labs (kmeans: the assignment and the Lloyd case).
        let labs: Vec<_> = perflab_labs::all().into_iter().filter(|lab| lab.folder() == name).collect();
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
        let exercises = rungs_in(&folder.join("exercises"));
        let solutions = rungs_in(&folder.join("solutions"));
        let variants: Vec<_> = labs.iter().flat_map(|lab| lab.variants()).collect();
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
