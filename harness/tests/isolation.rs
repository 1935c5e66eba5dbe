//! A learner's kernel that loops forever or writes out of bounds does not take the harness with
//! it: the check runs in a child process (`perflab_harness::isolate`), and the parent names the
//! step (exercise, SIMD level, threads, size) where the child hung or crashed.
//!
//! This test is its own parent: run plainly, it starts itself again with `PERFLAB_TEST_CHILD`
//! set, and that child checks `kmeans your-simd` with a broken kernel swapped in.

use std::process::Command;
use std::time::{Duration, Instant};

use perflab_harness::checker;
use perflab_harness::exercises::{self, Exercise};
use perflab_harness::isolate::{self, Stopped};
use perflab_labs::Lab;
use perflab_labs::kmeans::{Answer, Inputs, Kernel, naive};
use perflab_labs::lab::Swapped;

const CHILD: &str = "PERFLAB_TEST_CHILD";

/// Loops forever on points of an odd number of coordinates (so some sizes pass first).
fn hangs_on_odd_d(inputs: &Inputs, answer: &mut Answer) {
    if inputs.shape.d % 2 == 1 {
        loop {
            std::hint::spin_loop();
        }
    }
    naive::assign(inputs, answer);
}

/// Writes far past the end of its labels on points of an odd number of coordinates.
fn writes_out_of_bounds_on_odd_d(inputs: &Inputs, answer: &mut Answer) {
    naive::assign(inputs, answer);
    if inputs.shape.d % 2 == 1 {
        let far = answer.labels.as_mut_ptr().wrapping_add(1 << 40);
        // SAFETY: none: this is the learner's mistake the test is about (the write faults).
        unsafe { std::ptr::write_volatile(far, 7) };
    }
}

fn exercise(kernel: Kernel) -> Exercise {
    let kmeans = perflab_labs::find("kmeans").unwrap();
    let lab: &'static dyn Lab = Box::leak(Box::new(Swapped::new(kmeans, "your-simd", kernel)));
    let workspace = exercises::workspace().expect("the tests run inside the workspace");
    exercises::load(&workspace, &[lab]).unwrap().into_iter().find(|e| e.name == "your-simd").unwrap()
}

fn child(which: &str) {
    let kernel: Kernel = match which {
        "hang" => hangs_on_odd_d,
        "crash" => writes_out_of_bounds_on_odd_d,
        _ => panic!("unknown child {which}"),
    };
    let outcome = checker::check_correctness(&exercise(kernel), 42, |_| {});
    // Reaching this line means the broken kernel never ran on an odd d: the parent fails then.
    println!("the child finished: {}", if outcome.is_ok() { "correct" } else { "a failure" });
}

fn watched(which: &str, deadline: Duration) -> (Result<std::process::ExitStatus, Stopped>, Duration) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.env(CHILD, which);
    if which == "no-such-child" {
        command.stderr(std::process::Stdio::null()); // its panic message is expected
    }
    let start = Instant::now();
    let outcome = isolate::watch(command, deadline).expect("the child starts");
    (outcome, start.elapsed())
}

fn main() {
    if let Ok(which) = std::env::var(CHILD) {
        return child(&which);
    }
    let mut failures = Vec::new();
    let mut test = |name: &str, result: Result<(), String>| match result {
        Ok(()) => println!("test {name} ... ok"),
        Err(why) => {
            println!("test {name} ... FAILED\n{why}");
            failures.push(name.to_string());
        }
    };

    let deadline = Duration::from_secs(2);
    let (outcome, took) = watched("hang", deadline);
    test(
        "a kernel that loops forever is stopped at the deadline, and the step is named",
        match outcome {
            Err(stopped @ Stopped::Deadline { .. }) => {
                let message = stopped.to_string();
                let Stopped::Deadline { step, allowed } = &stopped else { unreachable!() };
                let named = step.starts_with("kmeans your-simd at ") && step.contains("thread(s), n=");
                if named
                    && *allowed == deadline
                    && took < deadline + Duration::from_secs(5)
                    && message.contains("did not finish within 2 s")
                {
                    Ok(())
                } else {
                    Err(format!("stopped after {took:?}: {message}"))
                }
            }
            other => Err(format!("expected a deadline, got {other:?} after {took:?}")),
        },
    );

    let (outcome, _) = watched("crash", Duration::from_secs(60));
    test(
        "a kernel that writes out of bounds is reported with its signal, variant, level, threads and size",
        match outcome {
            Err(stopped @ Stopped::Signal { .. }) => {
                let message = stopped.to_string();
                let Stopped::Signal { step: Some(step), .. } = &stopped else { unreachable!("{message}") };
                let d = step.split("d=").nth(1).and_then(|s| s.split(',').next()).and_then(|s| s.parse::<usize>().ok());
                if message.contains("crashed in kmeans your-simd at ")
                    && message.contains("thread(s), n=")
                    && d.is_some_and(|d| d % 2 == 1)
                {
                    Ok(())
                } else {
                    Err(format!("the report names the wrong step: {message}"))
                }
            }
            other => Err(format!("expected a crash, got {other:?}")),
        },
    );

    let (outcome, _) = watched("no-such-child", Duration::from_secs(60));
    test(
        "a child that ends on its own (here: a panic, exit code 101) is not reported as stopped",
        match outcome {
            Ok(status) if status.code() == Some(101) => Ok(()),
            other => Err(format!("expected exit code 101, got {other:?}")),
        },
    );

    println!("\n{} passed, {} failed", 3 - failures.len(), failures.len());
    if !failures.is_empty() {
        std::process::exit(1);
    }
}
