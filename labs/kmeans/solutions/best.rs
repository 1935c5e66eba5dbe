//! Rung 4, the flagship: matmul's packed micro-kernel with the centroids as the broadcast operand
//! and the points as the vector lanes, and a fused argmin epilogue.
//!
//! It is also the assignment inside Lloyd's iterations (lab `lloyd`), so it lives with what the
//! two labs share: read it in `labs/assignment/best.rs`.

pub use crate::assignment::best::{assign, assign_at};
