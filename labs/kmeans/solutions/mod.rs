//! Reference solutions, one file per rung.

pub mod best;
pub mod blocked;
pub mod hamerly;
pub mod lloyd;
pub mod parallel;
pub mod simd;
