//! `cargo bench --bench iai_kmeans`: instruction counts of every kmeans variant under callgrind
//! (see `support/callgrind.rs`; `cargo lab callgrind kmeans` runs it and checks the counts).

mod support;

support::callgrind::iai!(perflab_labs::kmeans::Kmeans);
