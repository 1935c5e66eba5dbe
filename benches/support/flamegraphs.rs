//! Flamegraphs of each criterion benchmark, through pprof.

use std::path::Path;

use criterion::profiler::Profiler;
use perflab_harness::profile;
use pprof::ProfilerGuard;

/// A criterion profiler that samples with pprof while criterion runs a benchmark in profiling
/// mode (`cargo bench --bench <lab> -- --profile-time 10`), then writes
/// `flamegraphs/<lab>/<variant>-<size>-<threads>.svg` (not only into `target/criterion/`).
#[derive(Default)]
pub struct Flamegraphs {
    running: Option<ProfilerGuard<'static>>,
    started: Option<std::time::Instant>,
}

impl Profiler for Flamegraphs {
    fn start_profiling(&mut self, _benchmark_id: &str, _benchmark_dir: &Path) {
        match profile::start() {
            Ok(guard) => {
                self.running = Some(guard);
                self.started = Some(std::time::Instant::now());
            }
            Err(err) => eprintln!("no flamegraph: {err:#}"),
        }
    }

    fn stop_profiling(&mut self, benchmark_id: &str, _benchmark_dir: &Path) {
        let (Some(guard), Some(started)) = (self.running.take(), self.started.take()) else { return };
        let path = svg_path(benchmark_id);
        match profile::finish(guard, &path, started.elapsed().as_secs_f64()) {
            Ok(p) => eprintln!("flamegraph: {} ({} samples in {:.1} s)", p.path.display(), p.samples, p.seconds),
            Err(err) => eprintln!("no flamegraph for {benchmark_id}: {err:#}"),
        }
    }
}

/// `matmul/1024x1024x1024/threads-2/best` → `flamegraphs/matmul/best-1024x1024x1024-threads-2.svg`
fn svg_path(benchmark_id: &str) -> std::path::PathBuf {
    let parts: Vec<&str> = benchmark_id.split('/').collect();
    match parts[..] {
        [lab, size, threads, variant] => {
            profile::flamegraph_dir().join(lab).join(format!("{variant}-{size}-{threads}.svg"))
        }
        _ => profile::flamegraph_dir().join(format!("{}.svg", benchmark_id.replace('/', "-"))),
    }
}
