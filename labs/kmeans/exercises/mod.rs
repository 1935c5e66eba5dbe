//! Your files. Each one compiles and passes validation from the start (it calls the naive
//! kernel); follow its numbered TODO steps, then run
//! `cargo lab bench kmeans --variant your-<rung> --variant <rung>` to see yours beside the reference.
//! Reference solutions are in `../solutions/`: peek only when stuck.

pub mod blocked;
pub mod hamerly;
pub mod parallel;
pub mod simd;
