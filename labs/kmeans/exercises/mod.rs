//! Your files, and `exercises.toml`: each one's goal and hints. `simd.rs`, `blocked.rs` and
//! `parallel.rs` are rungs of the assignment (Lloyd's Hamerly rung is in `labs/lloyd/exercises/`).
//! Each file compiles and passes validation from the start (it calls the naive kernel), so you
//! improve it step by step.
//!
//! The loop, for one exercise (`cargo lab list` names them: `your-<rung>`):
//!
//! 1. Edit its file here, one numbered TODO step at a time; each step ends with what to check.
//! 2. `cargo lab check kmeans your-<rung>`: validates it against the oracle on the lab's edge sizes,
//!    larger and random sizes, at every SIMD level this CPU has; then, if it is correct and no
//!    longer as shipped, times it beside the baseline and its reference and judges the goal in
//!    `exercises.toml`.
//! 3. Stuck? `cargo lab hint kmeans your-<rung>` reveals the next hint you have not seen, from a
//!    nudge to nearly the answer (`... N` shows hint N).
//! 4. `cargo lab status`: every exercise of every lab, as shipped or edited, correct or not, its
//!    speedup, its ratio to its reference, and whether its goal is met.
//! 5. `cargo lab reset kmeans your-<rung>`: back to the shipped scaffold (after confirmation; your
//!    file is backed up first).
//! 6. `cargo lab watch kmeans your-<rung>`: runs the check again every time you save the file.
//!
//! `cargo lab bench kmeans --variant your-<rung> --variant <rung>` shows yours beside the reference
//! at any size. Reference solutions are in `../solutions/`: peek only when stuck.

pub mod blocked;
pub mod parallel;
pub mod simd;
