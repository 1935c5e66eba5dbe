//! Reference solutions, one file per rung.

pub mod best;
pub mod blocked;
pub mod parallel;
pub mod simd;
