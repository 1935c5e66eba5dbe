//! `cargo bench --bench lloyd`: the k-means lab's Lloyd case (plain Lloyd and the bounds) under
//! criterion (see `support/criterion.rs`).

mod support;

fn main() {
    support::criterion::main(&perflab_labs::lloyd::Lloyd);
}
