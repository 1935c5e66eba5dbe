//! Reference solutions, one file per rung.

pub mod hamerly;
pub mod lloyd;
