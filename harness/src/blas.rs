//! Which kernel a library's BLAS loaded, and whether it is this CPU's strongest. OpenBLAS picks
//! its kernel at load time from the CPU it recognises; an OpenBLAS older than the CPU falls back
//! to an older kernel (faiss-cpu 1.15 bundles OpenBLAS 0.3.15, which runs its `Prescott` kernel on
//! an Intel Xeon of 2023), and a library timed on a crippled kernel is no anchor. The nearest core
//! type can be forced with `OPENBLAS_CORETYPE` before the library loads.

/// The widest vector instructions an OpenBLAS core type's kernels use, as perflab names SIMD
/// levels (`avx512f`, `avx2+fma`, `avx`, `sse`), or None for a name this table does not know.
pub fn kernel_level(core: &str) -> Option<&'static str> {
    let core = core.to_ascii_lowercase();
    let level = match core.as_str() {
        "skylakex" | "cooperlake" | "sapphirerapids" => "avx512f",
        "haswell" | "zen" | "skylake" => "avx2+fma",
        "sandybridge" | "bulldozer" | "piledriver" | "steamroller" | "excavator" => "avx",
        "prescott" | "core2" | "penryn" | "dunnington" | "nehalem" | "atom" | "barcelona" | "opteron"
        | "opteron_sse3" | "bobcat" | "katmai" | "coppermine" | "northwood" | "banias" | "generic" => "sse",
        _ => return None,
    };
    Some(level)
}

/// The core type to force on a CPU whose widest level is `cpu_level`: the oldest core type that
/// uses all of it (what OpenBLAS itself picks for such CPUs), or None below AVX.
pub fn nearest_core(cpu_level: &str) -> Option<&'static str> {
    match cpu_level {
        "avx512f" => Some("SkylakeX"),
        "avx2+fma" => Some("Haswell"),
        "avx" => Some("Sandybridge"),
        _ => None,
    }
}

fn rank(level: &str) -> u8 {
    match level {
        "avx512f" => 3,
        "avx2+fma" => 2,
        "avx" => 1,
        _ => 0,
    }
}

/// A note where `library`'s BLAS kernel `core` uses narrower vectors than this CPU has
/// (`cpu_level`), naming the core type that would not; None where it is the strongest this table
/// knows of.
/// `in_process`: the library is linked into perflab (forced with `OPENBLAS_CORETYPE` when perflab
/// starts) rather than loaded by a Python anchor (forced with `PERFLAB_LIBRARY_CORETYPE`, which the
/// anchor hands to the library's own OpenBLAS alone as it loads).
pub fn fallback_note(library: &str, blas: &str, core: &str, cpu_level: &str, in_process: bool) -> Option<String> {
    let used = kernel_level(core)?;
    let nearest = nearest_core(cpu_level)?;
    let how = match in_process {
        true => format!("`OPENBLAS_CORETYPE={nearest} cargo lab-openblas ...`"),
        false => format!("`PERFLAB_LIBRARY_CORETYPE={nearest} cargo lab ...` (numpy's OpenBLAS keeps its own choice)"),
    };
    (rank(used) < rank(cpu_level)).then(|| {
        format!(
            "{library}: its {blas} runs the {core} kernel ({used}) on this {cpu_level} CPU, not its widest, so its time \
             may understate the library; time it with the {nearest} kernel forced: {how}"
        )
    })
}

/// The fallback notes of a row's library information (`library.blas_kernels`: a list of
/// `{"library", "version", "kernel"}`, as the Python anchor and the linked OpenBLAS report them).
pub fn notes(variant: &str, library: &serde_json::Value, cpu_level: &str) -> Vec<String> {
    let Some(kernels) = library.get("blas_kernels").and_then(|k| k.as_array()) else { return Vec::new() };
    let in_process = library.get("in_process").is_some_and(|v| v == true);
    kernels
        .iter()
        .filter_map(|k| {
            let text = |key: &str| k.get(key).and_then(|v| v.as_str()).unwrap_or("?").to_string();
            let blas = format!("{} {}", text("library"), text("version"));
            fallback_note(variant, &blas, &text("kernel"), cpu_level, in_process)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_kernel_than_the_cpu_is_named_with_the_core_type_to_force() {
        let note = fallback_note("faiss", "openblas 0.3.15", "Prescott", "avx512f", false).unwrap();
        assert!(note.contains("Prescott kernel (sse) on this avx512f CPU"), "{note}");
        assert!(note.contains("`PERFLAB_LIBRARY_CORETYPE=SkylakeX cargo lab ...`"), "{note}");
        let linked = fallback_note("openblas", "OpenBLAS 0.3.21", "Prescott", "avx2+fma", true).unwrap();
        assert!(linked.contains("`OPENBLAS_CORETYPE=Haswell cargo lab-openblas ...`"), "{linked}");
        let zen = fallback_note("faiss", "openblas 0.3.15", "Zen", "avx512f", false).unwrap();
        assert!(zen.contains("(avx2+fma)"), "{zen}");
        assert_eq!(fallback_note("numpy", "openblas 0.3.31", "SkylakeX", "avx512f", false), None);
        assert_eq!(fallback_note("numpy", "openblas 0.3.31", "Haswell", "avx2+fma", false), None);
        assert_eq!(
            fallback_note("x", "openblas", "SomeFutureCore", "avx512f", true),
            None,
            "an unknown name is not judged"
        );
    }

    #[test]
    fn notes_read_the_kernels_a_row_reported() {
        let library = serde_json::json!({ "blas_kernels": [
            { "library": "openblas", "version": "0.3.15", "kernel": "Prescott" },
            { "library": "openblas", "version": "0.3.31", "kernel": "SkylakeX" },
        ] });
        let notes = notes("faiss", &library, "avx512f");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].starts_with("faiss: its openblas 0.3.15 runs the Prescott kernel"), "{}", notes[0]);
    }
}
