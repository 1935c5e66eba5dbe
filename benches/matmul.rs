//! `cargo bench --bench matmul`: every matmul variant under criterion (see `support/criterion.rs`).

mod support;

fn main() {
    support::criterion::main(&perflab_labs::matmul::Matmul);
}
