//! perflab kernels: one folder per lab, one file per variant.
//!
//! Each lab (`matmul`, ...) has a naive baseline, the reference solutions of the optimisation
//! ladder under `solutions/`, the learner's scaffolding under `exercises/`, an oracle, and an
//! adapter (`lab.rs`) that implements [`Lab`]. [`all`] is the registry: the harness, the benches
//! and the tests iterate it, so a new lab is one folder plus one line there.
//!
//! Shared by every lab: [`simd`] (the vector trait and the one place that picks the instruction
//! set), [`gemm`] (packing, micro-kernels and block sizes for GEMM-shaped flagships), [`cpu`]
//! (CPU name and identity, FMA-peak probe), [`caches`] (the cache hierarchy the OS reports) and
//! [`threads`] (the one thread-pool builder).

pub mod assignment;
pub mod caches;
pub mod cpu;
pub mod distance;
pub mod gemm;
pub mod input_error;
pub mod kmeans;
pub mod knn;
pub mod lab;
pub mod lloyd;
pub mod matmul;
pub mod problem;
pub mod simd;
pub mod sizes;
pub mod threads;

pub use lab::{
    Case, Lab, LibraryKernel, NamedArray, OutOfProcess, Output, PythonFile, Role, Runner, Variant, WorkUnit,
};

/// Every lab, in the order reports show them: the registry.
pub fn all() -> Vec<&'static dyn Lab> {
    vec![&matmul::Matmul, &knn::Knn, &kmeans::Kmeans, &lloyd::Lloyd]
}

/// A lab by name, or an error that lists the known ones.
pub fn find(name: &str) -> Result<&'static dyn Lab, String> {
    all().into_iter().find(|lab| lab.name() == name).ok_or_else(|| {
        let known: Vec<_> = all().iter().map(|lab| lab.name()).collect();
        format!("unknown lab '{name}'; known labs: {}", known.join(", "))
    })
}
