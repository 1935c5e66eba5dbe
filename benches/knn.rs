//! `cargo bench --bench knn`: every k-NN variant under criterion (see `support/criterion.rs`).

mod support;

fn main() {
    support::criterion::main(&perflab_labs::knn::Knn);
}
