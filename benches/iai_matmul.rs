//! `cargo bench --bench iai_matmul`: instruction counts of every matmul variant under callgrind
//! (see `support/callgrind.rs`; `cargo lab callgrind matmul` runs it and checks the counts).

mod support;

support::callgrind::iai!(perflab_labs::matmul::Matmul);
