//! `cargo bench --bench iai_lloyd`: instruction counts of every lloyd variant under callgrind
//! (see `support/callgrind.rs`; `cargo lab callgrind lloyd` runs it and checks the counts).

mod support;

support::callgrind::iai!(perflab_labs::lloyd::Lloyd);
