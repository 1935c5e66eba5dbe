//! The perflab harness: validates every variant against an oracle, then times it, then reports.
//!
//! Generic over labs: a lab (in `perflab-labs`) implements `Lab` and `Case`; everything else
//! here is written once. Read it top-down: `cli` (one file per command) → `measure` (calibrate,
//! validate, time, count allocations) → `report` (records, tables, JSON), with `machine` (CPU,
//! FMA peak), `limits` (bandwidth, caches, the machine's fingerprint), `alloc` (dhat), `profile` (pprof), `callgrind` (gungraun), `panics` and `paths` as
//! leaves.

pub mod alloc;
pub mod anchors;
pub mod baseline;
pub mod blas;
pub mod callgrind;
pub mod change;
pub mod checker;
pub mod cli;
pub mod compare;
pub mod exercises;
pub mod isolate;
pub mod limits;
pub mod machine;
pub mod measure;
pub mod panics;
pub mod paths;
pub mod pictures;
pub mod profile;
pub mod python_check;
pub mod reference;
pub mod report;
pub mod sampler;
pub mod saved;
