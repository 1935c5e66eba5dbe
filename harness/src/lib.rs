//! The perflab harness: validates every variant against an oracle, then times it, then reports.
//!
//! Generic over labs: a lab implements [`lab::Lab`] (its variants and how to parse a size) and
//! [`lab::Case`] (one prepared input: run a variant on it, validate the result, say how much
//! work a call is). Everything else (calibration, interleaved timing, statistics, tables,
//! JSON) is written once, here.

pub mod alloc;
pub mod callgrind;
pub mod cli;
pub mod lab;
pub mod labs;
pub mod machine;
pub mod measure;
pub mod profile;
pub mod report;

/// The workspace root (where `benches/`, `flamegraphs/` and `Cargo.lock` live).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("harness/ lives in the workspace").to_path_buf()
}
