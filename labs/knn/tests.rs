//! The k-NN lab's own tests (every variant on every edge size runs in `tests/every_lab.rs`).
