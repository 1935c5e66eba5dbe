//! `cargo lab tune matmul`: searches the GEMM's cache block sizes around the analytical model's
//! choice on this machine, and keeps the best for this CPU in `labs/gemm/tuned-blocks.json`.
//!
//! Two stages. Screening: every candidate (depths from half to eight times the model's kc; for
//! each, B blocks from half to four times what the model gives for that depth) is validated
//! against the oracle, then timed briefly at each size. Final: the fastest few, the model's
//! choice and the sizes in use now run in interleaved rounds, so that a drift of the machine's
//! speed touches them all alike; the winner is the best geometric mean of the per-size medians.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use perflab_labs::caches;
use perflab_labs::gemm::blocking::{self, BlockSizes, TunedEntry, TunedFile};
use perflab_labs::matmul::solutions::best;
use perflab_labs::matmul::{Shape, check, random_matrix};
use perflab_labs::simd::{self, SimdLevel};

use super::TuneArgs;
use crate::limits::Limits;
use crate::measure::{Stats, progress_bar};

/// How many candidates of the screening go on to the final rounds (beside the model's choice and
/// the sizes in use).
const FINALISTS: usize = 5;
/// Interleaved rounds of the final.
const ROUNDS: usize = 9;

pub fn tune(args: &TuneArgs) -> anyhow::Result<ExitCode> {
    if args.lab != "matmul" {
        let lab = super::find_lab(&args.lab)?;
        anyhow::bail!(
            "only matmul has block sizes to tune: the {} flagship reuses the GEMM's micro-kernel and its depth \
             block kc (gemm/blocking.rs), so `cargo lab tune matmul` tunes it too",
            lab.name()
        );
    }
    let level = match &args.level {
        Some(name) => {
            let level =
                SimdLevel::parse(name).with_context(|| format!("--level {name}: one of scalar, avx2, avx512"))?;
            anyhow::ensure!(level <= simd::detected(), "--level {name}: this CPU has at most {}", simd::detected());
            level
        }
        None => simd::simd_level(),
    };
    let sizes = parse_sizes(&args.sizes)?;
    let threads = usize::from(args.threads);
    super::check_thread_count(threads)?;
    let path = match &args.file {
        Some(path) => path.clone(),
        None => crate::paths::workspace()
            .context(
                "tune keeps its result in labs/gemm/tuned-blocks.json: run it inside the workspace, or give --file",
            )?
            .join(blocking::TUNED_PATH),
    };
    // Read (and refused if it does not parse) now rather than after a minute of timing.
    let kept =
        blocking::parse_tuned(&std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?)
            .map_err(|why| anyhow::anyhow!("{} {why}", path.display()))?;
    let (mr, nr) = blocking::tile(level);
    let hierarchy = caches::hierarchy().unwrap_or_default();
    let model = blocking::model(mr, nr, &hierarchy, None);
    let start = match &model {
        Ok(m) => m.sizes,
        Err(why) => {
            eprintln!("note: {why}: searching around the fallback sizes instead of the model's");
            blocking::FALLBACK.rounded(mr, nr)
        }
    };
    let in_use = blocking::sizes(level);
    let candidates = candidates(mr, nr, &hierarchy, start, *sizes.iter().max().expect("at least one size"));
    let peak = Limits::cached().map(|l| l.core_peak_gflops * threads as f64);

    println!("tuning the matmul flagship's block sizes at {level}, {}x{} tile, {threads} thread(s)", mr, nr);
    println!("the model's choice: {}", start.describe());
    println!("in use now:         {} ({})", in_use.describe(), blocking::blocking(level).sources().join(", "));
    println!("{} candidates at n = {}; nothing else should run", candidates.len(), list(&sizes));

    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().context("starting the thread pool")?;
    let inputs: Vec<Inputs> = sizes.iter().map(|&n| Inputs::new(n, args.seed)).collect();
    let results = pool.install(|| screen(level, &candidates, &inputs, args.seconds))?;

    let mut finalists: Vec<BlockSizes> = ranked(&results).into_iter().take(FINALISTS).collect();
    for extra in [start, in_use] {
        if !finalists.contains(&extra) {
            finalists.push(extra);
        }
    }
    println!("\nfinal: {} candidates in {ROUNDS} interleaved rounds", finalists.len());
    let finals = pool.install(|| final_rounds(level, &finalists, &inputs));
    print_table(&finals, &sizes, start, in_use, peak);

    let winner = finals.iter().max_by(|a, b| a.score().total_cmp(&b.score())).expect("finalists");
    let model_result = finals.iter().find(|r| r.sizes == start);
    let gain = model_result.map(|m| winner.score() / m.score());
    match gain {
        Some(gain) => println!(
            "\nbest: {} at {:.1} GFLOP/s (geometric mean over the sizes), {:+.1}% over the model's choice",
            winner.sizes.describe(),
            winner.score(),
            (gain - 1.0) * 100.0
        ),
        None => println!("\nbest: {} at {:.1} GFLOP/s", winner.sizes.describe(), winner.score()),
    }
    if args.dry_run {
        println!("--dry-run: {} left as it is", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let entry = TunedEntry {
        cpu: blocking::cpu_key(),
        cpu_name: perflab_labs::cpu::model_name(),
        level: level.as_str().into(),
        sizes: winner.sizes,
        model: model.as_ref().ok().map(|m| m.sizes),
        gflops: round1(winner.score()),
        model_gflops: model_result.map(|m| round1(m.score())),
        sizes_timed: sizes.clone(),
        threads,
        recorded: today(),
        command: std::iter::once("cargo lab".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" "),
    };
    save(&path, kept, entry)?;
    let effect = if args.file.is_some() {
        format!("the build reads {} instead", blocking::TUNED_PATH)
    } else {
        "the next `cargo lab` rebuilds with it; `cargo lab machine` shows the table".into()
    };
    println!(
        "kept for this CPU ({}) in {}: {effect}; PERFLAB_GEMM_KC / _NC / _MC override it for one run",
        blocking::cpu_key(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `1024,2048` into sizes, each a square n of at least 64.
fn parse_sizes(text: &str) -> anyhow::Result<Vec<usize>> {
    let mut sizes = Vec::new();
    for part in text.split(',') {
        let n: usize = part.trim().parse().ok().filter(|&n| (64..=8192).contains(&n)).with_context(|| {
            format!("--sizes {text}: '{part}' is not a square size n between 64 and 8192 (e.g. 1024,2048)")
        })?;
        sizes.push(n);
    }
    sizes.sort_unstable();
    sizes.dedup();
    Ok(sizes)
}

/// The depths from half to eight times `start.kc` (none deeper than the largest matrix), and for
/// each the model's B block for that depth from half to four times as wide; the A panel is the
/// model's for that depth and block. `start` itself is always among them.
fn candidates(mr: usize, nr: usize, caches: &[caches::Cache], start: BlockSizes, largest: usize) -> Vec<BlockSizes> {
    let mut out = vec![start];
    for factor in [0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0] {
        let kc = (((start.kc as f64 * factor) as usize).div_ceil(8) * 8).clamp(8, largest.next_multiple_of(8));
        let modelled = blocking::model(mr, nr, caches, Some(kc)).map(|m| m.sizes).unwrap_or(BlockSizes { kc, ..start });
        for width in [0.5, 1.0, 2.0, 4.0] {
            let nc = (modelled.nc as f64 * width) as usize;
            let candidate = BlockSizes { kc, nc, mc: modelled.mc }.rounded(mr, nr);
            if !out.contains(&candidate) {
                out.push(candidate);
            }
        }
    }
    out
}

/// One size's operands.
struct Inputs {
    shape: Shape,
    a: Vec<f32>,
    b: Vec<f32>,
}

impl Inputs {
    fn new(n: usize, seed: u64) -> Inputs {
        Inputs { shape: Shape::square(n), a: random_matrix(n, n, seed), b: random_matrix(n, n, seed + 1) }
    }

    /// One call's time in seconds.
    fn time(&self, level: SimdLevel, sizes: BlockSizes, c: &mut [f32]) -> f64 {
        let start = Instant::now();
        best::matmul_blocked(level, sizes, self.shape, &self.a, &self.b, c);
        start.elapsed().as_secs_f64()
    }
}

/// One candidate's GFLOP/s per size (every call's).
struct Timed {
    sizes: BlockSizes,
    gflops: Vec<Vec<f64>>,
}

impl Timed {
    /// The geometric mean over the sizes of the median GFLOP/s.
    fn score(&self) -> f64 {
        let logs: f64 = self.gflops.iter().map(|g| Stats::of(g.clone()).median.ln()).sum();
        (logs / self.gflops.len() as f64).exp()
    }
}

/// Validates every candidate on the first size, then times it for `seconds` per size.
fn screen(level: SimdLevel, candidates: &[BlockSizes], inputs: &[Inputs], seconds: f64) -> anyhow::Result<Vec<Timed>> {
    let bar = progress_bar(candidates.len() as u64, "screening");
    let mut out = Vec::new();
    for &sizes in candidates {
        let mut gflops = Vec::new();
        for (i, input) in inputs.iter().enumerate() {
            let mut c = vec![f32::NAN; input.shape.m * input.shape.n];
            input.time(level, sizes, &mut c); // warm-up, and the result to check
            if i == 0 {
                check::check(input.shape, &input.a, &input.b, &c, 7).map_err(|mismatch| {
                    anyhow::anyhow!("the flagship is wrong with {} on {}:\n{mismatch}", sizes.describe(), input.shape)
                })?;
            }
            let (mut samples, started) = (Vec::new(), Instant::now());
            while samples.len() < 3 || (started.elapsed().as_secs_f64() < seconds && samples.len() < 50) {
                samples.push(input.shape.flops() / input.time(level, sizes, &mut c) / 1e9);
            }
            gflops.push(samples);
        }
        out.push(Timed { sizes, gflops });
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(out)
}

/// The candidates, fastest first.
fn ranked(results: &[Timed]) -> Vec<BlockSizes> {
    let mut order: Vec<&Timed> = results.iter().collect();
    order.sort_by(|a, b| b.score().total_cmp(&a.score()));
    order.into_iter().map(|t| t.sizes).collect()
}

/// Every finalist once per size per round, in rounds, so that a slow spell of the machine
/// falls on all of them.
fn final_rounds(level: SimdLevel, finalists: &[BlockSizes], inputs: &[Inputs]) -> Vec<Timed> {
    let mut out: Vec<Timed> =
        finalists.iter().map(|&sizes| Timed { sizes, gflops: vec![Vec::new(); inputs.len()] }).collect();
    let mut outputs: Vec<Vec<f32>> = inputs.iter().map(|i| vec![0.0; i.shape.m * i.shape.n]).collect();
    let bar = progress_bar(ROUNDS as u64, "final rounds");
    for _ in 0..ROUNDS {
        for timed in out.iter_mut() {
            for (i, input) in inputs.iter().enumerate() {
                let seconds = input.time(level, timed.sizes, &mut outputs[i]);
                timed.gflops[i].push(input.shape.flops() / seconds / 1e9);
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    out
}

fn print_table(finals: &[Timed], sizes: &[usize], model: BlockSizes, in_use: BlockSizes, peak: Option<f64>) {
    let mut header = format!("{:>6} {:>6} {:>7}", "kc", "nc", "mc");
    for n in sizes {
        header += &format!(" {:>22}", format!("n = {n} GFLOP/s"));
    }
    header += &format!(" {:>9}", "vs model");
    println!("{header}");
    let model_score = finals.iter().find(|t| t.sizes == model).map(Timed::score);
    let mut order: Vec<&Timed> = finals.iter().collect();
    order.sort_by(|a, b| b.score().total_cmp(&a.score()));
    for t in order {
        let mut line = format!("{:>6} {:>6} {:>7}", t.sizes.kc, t.sizes.nc, t.sizes.mc);
        for g in &t.gflops {
            let stats = Stats::of(g.clone());
            let (median, spread) = (stats.median, stats.spread() * 100.0);
            let of_peak = peak.map_or(String::new(), |p| format!(" {:>3.0}%", median / p * 100.0));
            line += &format!(" {:>22}", format!("{median:.1} ±{spread:.1}%{of_peak}"));
        }
        line += &format!(" {:>9}", model_score.map_or("".into(), |m| format!("{:.3}x", t.score() / m)));
        let mut marks = Vec::new();
        if t.sizes == model {
            marks.push("the model's");
        }
        if t.sizes == in_use {
            marks.push("in use");
        }
        if !marks.is_empty() {
            line += &format!("  ← {}", marks.join(", "));
        }
        println!("{line}");
    }
    println!("(median of {ROUNDS} interleaved rounds; ± the interquartile range; % of the measured FMA peak)");
}

/// Replaces this CPU's entry for the level in `file` (or adds it), keeping every other CPU's,
/// and writes it to `path`.
fn save(path: &std::path::Path, mut file: TunedFile, entry: TunedEntry) -> anyhow::Result<()> {
    file.entries.retain(|e| !(e.cpu == entry.cpu && e.level == entry.level));
    file.entries.push(entry);
    file.entries.sort_by(|a, b| (&a.cpu, &a.level).cmp(&(&b.cpu, &b.level)));
    let json = serde_json::to_string_pretty(&file)? + "\n";
    std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn list(sizes: &[usize]) -> String {
    sizes.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")
}

/// Today's date (UTC), `2026-12-06`.
fn today() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string().chars().take(10).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_sorted_or_say_what_is_expected() {
        assert_eq!(parse_sizes("2048,1024,1024").unwrap(), vec![1024, 2048]);
        for bad in ["", "10", "1024,x", "99999"] {
            let err = parse_sizes(bad).unwrap_err().to_string();
            assert!(err.contains("between 64 and 8192"), "{bad}: {err}");
        }
    }

    #[test]
    fn candidates_surround_the_start_and_stay_whole_slivers() {
        let caches = vec![
            caches::Cache {
                level: 1,
                kind: "Data".into(),
                size_bytes: 32 << 10,
                line_bytes: Some(64),
                ways: Some(8),
                shared_by: Some(1),
            },
            caches::Cache {
                level: 2,
                kind: "Unified".into(),
                size_bytes: 1 << 20,
                line_bytes: Some(64),
                ways: Some(8),
                shared_by: Some(1),
            },
        ];
        let start = blocking::model(12, 32, &caches, None).unwrap().sizes;
        let all = candidates(12, 32, &caches, start, 2048);
        assert_eq!(all[0], start);
        assert!(all.iter().any(|c| c.kc < start.kc) && all.iter().any(|c| c.kc >= 8 * start.kc));
        assert!(all.iter().all(|c| c.nc % 32 == 0 && c.mc % 12 == 0 && c.kc <= 2048));
        for (i, candidate) in all.iter().enumerate() {
            assert!(!all[i + 1..].contains(candidate), "{candidate:?} twice");
        }
        // A small matrix caps the depth.
        assert!(candidates(12, 32, &caches, start, 256).iter().all(|c| c.kc <= 256));
    }
}
