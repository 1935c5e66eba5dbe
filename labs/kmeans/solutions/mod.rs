//! Reference solutions, one file per rung.

pub mod parallel;
pub mod simd;
