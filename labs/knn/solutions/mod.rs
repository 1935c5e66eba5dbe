//! Reference solutions, one file per rung. Learners: try the matching file under
//! `exercises/` first; these are here to compare against.

pub mod best;
pub mod blocked;
pub mod parallel;
pub mod select;
pub mod simd;
