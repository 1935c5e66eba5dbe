//! Your file, and `exercises.toml`: its goal and hints. `hamerly.rs` compiles and passes
//! validation from the start (it calls plain Lloyd), so you improve it step by step.
//!
//! The loop: edit it one numbered TODO step at a time; `cargo lab check lloyd your-hamerly`
//! validates it (against plain Lloyd's exact bits, on the lab's edge, larger and random sizes) and
//! then times it against its goal; `cargo lab hint lloyd your-hamerly` reveals the next hint;
//! `cargo lab watch lloyd your-hamerly` checks again on every save; `cargo lab reset lloyd
//! your-hamerly` restores the scaffold (your file is backed up first). Reference solutions are in
//! `../solutions/`: peek only when stuck.

pub mod hamerly;
