//! `cargo bench --bench kmeans`: every k-means variant under criterion (see `support/criterion.rs`).

mod support;

fn main() {
    support::criterion::main(&perflab_labs::kmeans::Kmeans);
}
