//! `perflab`: run it as `cargo lab` (see `cargo lab --help`).

use std::process::ExitCode;

use clap::Parser;
use perflab_harness::alloc::Switch;
use perflab_harness::cli::{self, Cli};

/// The system allocator, switched to dhat's only while the allocation pass counts one call.
#[global_allocator]
static ALLOCATOR: Switch = Switch;

fn main() -> ExitCode {
    end_quietly_when_stdout_closes();
    match cli::run(Cli::parse()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// `cargo lab machine | head` closes the pipe before perflab has printed everything: end then, as
/// any Unix tool does, instead of panicking inside `println!`. (Rust ignores SIGPIPE, and restoring
/// it would also end the harness whenever a Python anchor's pipe closes, which it reports instead.)
fn end_quietly_when_stdout_closes() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload.downcast_ref::<String>().map(String::as_str).or(payload.downcast_ref::<&str>().copied());
        let message = message.unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            // 128 + SIGPIPE, what a shell reports for a tool the signal ended.
            std::process::exit(141);
        }
        default_hook(info)
    }));
}
