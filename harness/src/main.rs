//! `perflab`: run it as `cargo lab` (see `cargo lab --help`).

use std::process::ExitCode;

use clap::Parser;
use perflab_harness::alloc::Switch;
use perflab_harness::cli::{self, Cli};

/// The system allocator, switched to dhat's only while the allocation pass counts one call.
#[global_allocator]
static ALLOCATOR: Switch = Switch;

fn main() -> ExitCode {
    match cli::run(Cli::parse()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
