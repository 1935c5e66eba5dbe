//! The shared drivers behind every lab's benches: each `benches/<lab>.rs` and
//! `benches/iai_<lab>.rs` is a few lines over these, so the benches of every lab validate, time
//! and count the same way (through the lab's `Case`, as the harness does).

// Each bench binary uses the half of this module that matches its kind.
#![allow(dead_code)]

pub mod callgrind;
pub mod criterion;
pub mod flamegraphs;
