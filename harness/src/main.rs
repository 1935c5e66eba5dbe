//! `perflab`: run it as `cargo lab` (see `cargo lab --help`).

use std::process::ExitCode;

use clap::Parser;
use perflab_harness::cli::{self, Cli};

fn main() -> ExitCode {
    match cli::run(Cli::parse()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
