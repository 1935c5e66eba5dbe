//! `cargo bench --bench iai_knn`: instruction counts of every knn variant under callgrind
//! (see `support/callgrind.rs`; `cargo lab callgrind knn` runs it and checks the counts).

mod support;

support::callgrind::iai!(perflab_labs::knn::Knn);
