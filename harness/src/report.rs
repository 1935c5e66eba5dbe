//! Turning outcomes into records (JSON) and tables (terminal).

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_BORDERS_ONLY};
use perflab_labs::{Case, Lab, Role, Variant};
use serde::Serialize;

use crate::machine::Machine;
use crate::measure::Outcome;

/// Above this interquartile spread, a measurement is flagged as noisy.
pub const NOISY_SPREAD: f64 = 0.10;

/// The whole JSON document of one `perflab` invocation.
#[derive(Debug, Serialize)]
pub struct Document {
    pub perflab_version: &'static str,
    pub machine: Machine,
    pub records: Vec<Record>,
}

/// One lab at one size.
#[derive(Debug, Serialize)]
pub struct Record {
    pub lab: &'static str,
    /// What a limited variant ran on a slice of ("rows"), for the notes.
    #[serde(skip)]
    pub slice_unit: &'static str,
    pub size: String,
    pub params: serde_json::Map<String, serde_json::Value>,
    pub threads: usize,
    pub cpu: String,
    pub simd_level: String,
    /// The physical cores the threads can occupy (see `Machine::cores`).
    pub cores: usize,
    /// One core's FMA peak, and all `cores` cores' (GFLOP/s): a variant's `fraction_of_peak`
    /// divides by the peak of the cores it can use (its `cores`).
    pub core_peak_gflops: f64,
    pub fma_peak_gflops: f64,
    pub variants: Vec<VariantRecord>,
}

/// One variant's result.
#[derive(Debug, Serialize)]
pub struct VariantRecord {
    pub name: &'static str,
    pub role: &'static str,
    /// What `ratio_vs_reference` compares against.
    pub reference: Option<&'static str>,
    /// The cores it can use: 1 for a serial variant, the run's cores for a parallel one.
    pub cores: usize,
    pub status: Status,
    /// Whether the output matched the oracle (null when the variant could not run).
    pub correct: Option<bool>,
    /// A library whose answer the oracle rejected: a finding about it, not an error of the run.
    pub rejected_library_answer: bool,
    /// How it was validated, or what was wrong, or why it is unavailable.
    pub detail: String,
    /// What the lab counted beside time (distance computations a bound skipped, say).
    pub counted: Option<String>,
    /// For a Python anchor: library versions, BLAS (from threadpoolctl) and threads.
    pub library: Option<serde_json::Value>,
    /// Fraction of the input it ran on (below 1: a slow variant, its time scaled up).
    pub fraction_run: Option<f64>,
    pub median_s: Option<f64>,
    pub p25_s: Option<f64>,
    pub p75_s: Option<f64>,
    pub min_s: Option<f64>,
    pub samples: Option<usize>,
    /// (p75 − p25) / median.
    pub spread: Option<f64>,
    pub throughput: Option<Throughput>,
    /// The lab's items per second (queries/s), for labs that count them.
    pub items: Option<Throughput>,
    /// GFLOP/s, for labs whose work is floating-point operations.
    pub gflops: Option<f64>,
    /// GFLOP/s over the FMA peak of `cores` cores.
    pub fraction_of_peak: Option<f64>,
    pub speedup_vs_naive: Option<f64>,
    pub ratio_vs_reference: Option<f64>,
    /// Heap allocations of one call (after a warm-up call), counted with dhat.
    pub allocs_per_call: Option<u64>,
    pub alloc_bytes_per_call: Option<u64>,
    /// The most heap bytes live at once during that call.
    pub peak_heap_bytes: Option<u64>,
}

/// What became of a variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Validated, then timed.
    Measured,
    /// Did not match the oracle (or panicked): never timed.
    Failed,
    /// Not in this build (a library that was not linked).
    Unavailable,
}

#[derive(Debug, Serialize)]
pub struct Throughput {
    pub value: f64,
    pub unit: &'static str,
}

/// One row of a report: a variant (or a Python anchor), and what became of it.
#[derive(Clone, Debug)]
pub struct Row {
    pub variant: Variant,
    /// None: it did not run (unavailable).
    pub outcome: Option<Outcome>,
    /// Why it could not run, when that is not in the variant itself (a Python anchor).
    pub unavailable: Option<String>,
    /// For a Python anchor: the library versions, BLAS and threads it reported.
    pub library: Option<serde_json::Value>,
}

impl Row {
    /// A variant of the lab's own table.
    pub fn of(variant: Variant, outcome: Option<Outcome>) -> Row {
        Row { variant, outcome, unavailable: None, library: None }
    }
}

/// Builds the record of one lab at one size, from the variants selected and what became of them
/// (None: unavailable in this build). Non-exercises are compared with the lab's flagship.
pub fn record(lab: &dyn Lab, case: &dyn Case, machine: &Machine, variants: &[Row]) -> Record {
    let flagship = lab.flagship();
    let work = case.work();
    let stats_of = |name: &str| {
        variants.iter().find(|row| row.variant.name == name).and_then(|row| match &row.outcome {
            Some(Outcome::Measured { stats, .. }) => Some(stats),
            _ => None,
        })
    };
    let naive =
        variants.iter().find(|row| row.variant.role == Role::Baseline).and_then(|row| stats_of(row.variant.name));
    let rows = variants
        .iter()
        .map(|Row { variant: info, outcome, unavailable, library }| {
            let reference = info.reference.or((info.name != flagship).then_some(flagship));
            let mut row = VariantRecord {
                name: info.name,
                role: info.role.as_str(),
                reference,
                cores: if info.parallel { machine.cores } else { 1 },
                status: Status::Unavailable,
                correct: None,
                rejected_library_answer: false,
                counted: None,
                detail: unavailable.clone().or(info.unavailable().map(str::to_string)).unwrap_or("not run".into()),
                library: library.clone(),
                fraction_run: None,
                median_s: None,
                p25_s: None,
                p75_s: None,
                min_s: None,
                samples: None,
                spread: None,
                throughput: None,
                items: None,
                gflops: None,
                fraction_of_peak: None,
                speedup_vs_naive: None,
                ratio_vs_reference: None,
                allocs_per_call: None,
                alloc_bytes_per_call: None,
                peak_heap_bytes: None,
            };
            match outcome {
                None => {}
                Some(Outcome::Failed { error, fraction, finding }) => {
                    row.status = Status::Failed;
                    row.correct = Some(false);
                    row.rejected_library_answer = *finding;
                    row.detail = error.clone();
                    row.fraction_run = Some(*fraction);
                }
                Some(Outcome::Measured { validation, counted, fraction, stats, allocs }) => {
                    row.counted = counted.clone();
                    let per_second = work.per_call / stats.median;
                    let rate = per_second / work.scale;
                    row.status = Status::Measured;
                    row.correct = Some(true);
                    row.detail = validation.clone();
                    row.fraction_run = Some(*fraction);
                    row.median_s = Some(stats.median);
                    row.p25_s = Some(stats.p25);
                    row.p75_s = Some(stats.p75);
                    row.min_s = Some(stats.min);
                    row.samples = Some(stats.samples);
                    row.spread = Some(stats.spread());
                    row.throughput = Some(Throughput { value: rate, unit: work.name });
                    row.items = work.items.map(|(count, unit)| Throughput { value: count / stats.median, unit });
                    if work.is_flops {
                        let gflops = per_second / 1e9;
                        row.gflops = Some(gflops);
                        row.fraction_of_peak = Some(gflops / machine.peak_for(info.parallel));
                    }
                    // Round by round: both ran in every round, so what slowed the machine in one
                    // round slowed both (`Stats::ratio_to`).
                    row.speedup_vs_naive = naive.map(|theirs| stats.ratio_to(theirs));
                    row.ratio_vs_reference = reference.and_then(stats_of).map(|theirs| stats.ratio_to(theirs));
                    row.allocs_per_call = allocs.map(|a| a.blocks);
                    row.alloc_bytes_per_call = allocs.map(|a| a.bytes);
                    row.peak_heap_bytes = allocs.map(|a| a.peak_bytes);
                }
            }
            row
        })
        .collect();
    Record {
        lab: lab.name(),
        slice_unit: lab.slice_unit(),
        size: case.label(),
        params: case.params().into_iter().map(|(name, value)| (name.to_string(), value.into())).collect(),
        threads: machine.threads,
        cpu: machine.cpu.clone(),
        simd_level: machine.simd_level.clone(),
        cores: machine.cores,
        core_peak_gflops: machine.core_peak_gflops,
        fma_peak_gflops: machine.fma_peak_gflops,
        variants: rows,
    }
}

/// Recomputes every fraction of peak against `core_peak` (one core's best probe of the whole
/// run) times the cores each variant uses.
pub fn rescale_to_peak(records: &mut [Record], core_peak: f64) {
    for record in records {
        record.core_peak_gflops = core_peak;
        record.fma_peak_gflops = core_peak * record.cores as f64;
        for v in &mut record.variants {
            v.fraction_of_peak = v.gflops.map(|g| g / (core_peak * v.cores as f64));
        }
    }
}

/// A rate in a readable precision: 6,410 or 12.4 or 0.831.
fn format_rate(value: f64) -> String {
    if value >= 1000.0 {
        let whole = format!("{value:.0}");
        let digits: Vec<char> = whole.chars().collect();
        let mut out = String::new();
        for (i, c) in digits.iter().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(*c);
        }
        out
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
    }
}

/// The terminal table of one record, with notes below it (failures, limits, noise).
pub fn render(record: &Record) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    let unit = record.variants.iter().find_map(|v| v.throughput.as_ref().map(|t| t.unit)).unwrap_or("throughput");
    let has_peak = record.variants.iter().any(|v| v.fraction_of_peak.is_some());
    let items = record.variants.iter().find_map(|v| v.items.as_ref().map(|t| t.unit));
    let mut header = vec!["variant", "role", "median", "spread"];
    header.extend(items);
    header.push(unit);
    if has_peak {
        header.push("of peak");
    }
    header.extend(["vs naive", "vs ref", "allocs", "bytes", "peak", "check"]);
    let numeric_columns = header.len() - 2; // all but variant and role
    table.set_header(header);

    let mut notes = Vec::new();
    for v in &record.variants {
        let mut cells = vec![Cell::new(v.name), Cell::new(v.role)];
        let numbers: Vec<String> = match v.status {
            Status::Measured => {
                let mut n = vec![
                    format_seconds(v.median_s.unwrap_or_default()),
                    format!("±{:.0}%", 50.0 * v.spread.unwrap_or_default()),
                ];
                if items.is_some() {
                    n.push(v.items.as_ref().map_or("-".into(), |t| format_rate(t.value)));
                }
                n.push(format!("{:.2}", v.throughput.as_ref().map_or(0.0, |t| t.value)));
                if has_peak {
                    // Above 100% the peak probe itself was slowed down: say so, never hide it.
                    let flag = |f: f64| if f > 1.0 { "!" } else { "" };
                    n.push(v.fraction_of_peak.map_or("".into(), |f| format!("{:.0}%{}", 100.0 * f, flag(f))));
                }
                n.push(v.speedup_vs_naive.map_or("-".into(), |s| format!("{}x", format_ratio(s))));
                n.push(match (v.ratio_vs_reference, v.reference) {
                    (Some(r), Some(of)) => format!("{}x {of}", format_ratio(r)),
                    _ => "-".into(),
                });
                // "-": a Python anchor, in another process; "?": no counting allocator.
                let none = if v.library.is_some() { "-" } else { "?" };
                n.push(v.allocs_per_call.map_or(none.into(), |b| b.to_string()));
                n.push(v.alloc_bytes_per_call.map_or(none.into(), format_bytes));
                n.push(v.peak_heap_bytes.map_or(none.into(), format_bytes));
                n.push(if v.fraction_run.is_some_and(|f| f < 1.0) { "ok*".into() } else { "ok".into() });
                n
            }
            status => {
                let mut n = vec!["-".to_string(); numeric_columns - 1];
                n.push(if status == Status::Failed { "FAILED".into() } else { "n/a".into() });
                n
            }
        };
        cells.extend(numbers.into_iter().map(|n| Cell::new(n).set_alignment(CellAlignment::Right)));
        table.add_row(cells);

        match v.status {
            Status::Failed if v.rejected_library_answer => notes.push(format!(
                "{}'s answer does not meet the oracle on this input, so it was not timed (a fact about the \
                 library, not an error of this run; the exit code ignores it):\n{}",
                v.name,
                indent(&v.detail)
            )),
            Status::Failed => {
                notes.push(format!("{} FAILED validation and was not timed:\n{}", v.name, indent(&v.detail)))
            }
            Status::Unavailable => notes.push(format!("{}: {}", v.name, v.detail)),
            Status::Measured => notes.extend(v.counted.as_ref().map(|counted| format!("{}: {counted}", v.name))),
        }
        if let Some(library) = v.library.as_ref().and_then(|l| l.as_object()) {
            let parts: Vec<String> = library
                .iter()
                .map(|(k, x)| format!("{k} {}", x.as_str().map_or_else(|| x.to_string(), str::to_string)))
                .collect();
            let mut note = format!("{} (Python, its own process, same rounds): {}", v.name, parts.join(", "));
            if let (Some(trip), Some(sample)) = (library.get("round_trip_ms"), library.get("sample_ms")) {
                note += &format!(
                    "; each sample's process round-trip ({trip} ms) is left out: Python times the calls ({sample} ms a sample)"
                );
            }
            notes.push(note);
        }
        if let Some(f) = v.fraction_run.filter(|f| *f < 1.0) {
            notes.push(format!(
                "* {} ran on {:.1}% of the {} to bound its run time; its time is scaled up to the full problem \
                 (its allocations are those of that smaller call)",
                v.name,
                100.0 * f,
                record.slice_unit
            ));
        }
    }
    if record.variants.iter().any(|v| v.fraction_of_peak.is_some_and(|f| f > 1.0)) {
        notes.push(format!(
            "! above 100% of peak: the FMA-peak probe ({:.0} GFLOP/s per core, the best of every probe in this \
             run) was slowed down by other load on the machine, so those fractions are overstated; rerun on a \
             quieter machine",
            record.core_peak_gflops
        ));
    }
    if !record.variants.iter().any(|v| v.role == Role::Baseline.as_str()) {
        notes.push(
            "vs naive is '-': the baseline was not in this run (add `--variant naive`, or use `cargo lab check` for \
             an exercise)"
                .to_string(),
        );
    }
    let noisy: Vec<_> =
        record.variants.iter().filter(|v| v.spread.is_some_and(|s| s > NOISY_SPREAD)).map(|v| v.name).collect();
    if !noisy.is_empty() {
        notes.push(format!(
            "warning: wide spread (interquartile range > {:.0}% of the median) for {}: the machine was busy; \
             rerun, give more --seconds, and trust ratios from one run over absolute times",
            100.0 * NOISY_SPREAD,
            noisy.join(", ")
        ));
    }
    let peak = if has_peak && record.cores > 1 {
        format!(
            " | of peak: of one core's {:.0} GFLOP/s for serial variants, of {} cores' {:.0} for parallel ones \
             (the best FMA probe so far)",
            record.core_peak_gflops, record.cores, record.fma_peak_gflops
        )
    } else if has_peak {
        format!(" | of peak: of {:.0} GFLOP/s, the best FMA probe so far", record.core_peak_gflops)
    } else {
        String::new()
    };
    let mut out = format!("{} {} | threads {}{peak}\n{table}\n", record.lab, record.size, record.threads);
    out.push_str(
        "vs naive: speedup over the baseline; vs ref: speedup over the named reference (below 1: slower)\n\
         allocs, bytes, peak: heap allocations of one call, bytes allocated, most bytes live at once (dhat)\n",
    );
    for note in notes {
        out.push_str(&note);
        out.push('\n');
    }
    out
}

pub(crate) fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

pub(crate) fn format_seconds(s: f64) -> String {
    match s {
        s if s >= 1.0 => format!("{s:.2} s"),
        s if s >= 1e-3 => format!("{:.2} ms", s * 1e3),
        s => format!("{:.1} µs", s * 1e6),
    }
}

/// Compact byte counts: 0, 512, 12K, 1.5M.
pub(crate) fn format_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1}M", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.0}K", b as f64 / 1024.0),
        b => b.to_string(),
    }
}

pub(crate) fn format_ratio(r: f64) -> String {
    if r >= 10.0 { format!("{r:.0}") } else { format!("{r:.2}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Stats;
    use perflab_labs::matmul::Matmul;

    fn machine(peak: f64) -> Machine {
        Machine {
            cpu: "test".into(),
            simd_level: "scalar".into(),
            cpu_simd_level: "scalar".into(),
            threads: 1,
            cores: 1,
            core_peak_gflops: peak,
            fma_peak_gflops: peak,
            peak_probes: 1,
        }
    }

    fn measured(seconds: f64) -> Option<Outcome> {
        let stats = Stats::of(vec![seconds; 5]);
        Some(Outcome::Measured { validation: "ok".into(), counted: None, fraction: 1.0, stats, allocs: None })
    }

    #[test]
    fn a_fraction_above_the_peak_is_flagged_and_explained() {
        let case = Matmul.prepare("100", 1).unwrap(); // 2 MFLOP per call
        let best = Matmul.variants().into_iter().find(|v| v.name == "best").unwrap();
        let rows = [Row::of(best, measured(1e-3))]; // 2 GFLOP/s
        let honest = render(&record(&Matmul, &*case, &machine(4.0), &rows));
        assert!(honest.contains("50%") && !honest.contains("slowed down"), "{honest}");
        let disturbed = render(&record(&Matmul, &*case, &machine(1.0), &rows));
        assert!(disturbed.contains("200%!") && disturbed.contains("slowed down by other load"), "{disturbed}");
    }

    #[test]
    fn serial_variants_are_compared_with_one_core_and_parallel_ones_with_all() {
        let case = Matmul.prepare("100", 1).unwrap(); // 2 MFLOP per call
        let table = Matmul.variants();
        let named = |name: &str| *table.iter().find(|v| v.name == name).unwrap();
        let rows = [Row::of(named("simd"), measured(1e-3)), Row::of(named("best"), measured(1e-3))]; // 2 GFLOP/s
        let two_cores = Machine { threads: 2, cores: 2, fma_peak_gflops: 8.0, ..machine(4.0) };
        let record = record(&Matmul, &*case, &two_cores, &rows);
        let fraction = |i: usize| record.variants[i].fraction_of_peak.unwrap();
        assert_eq!((record.variants[0].cores, record.variants[1].cores), (1, 2));
        assert!((fraction(0) - 0.5).abs() < 1e-9, "simd: 2 of one core's 4 GFLOP/s");
        assert!((fraction(1) - 0.25).abs() < 1e-9, "best: 2 of two cores' 8 GFLOP/s");
        let table = render(&record);
        assert!(table.contains("of one core's 4 GFLOP/s for serial variants, of 2 cores' 8"), "{table}");
        let mut records = [record];
        rescale_to_peak(&mut records, 2.0);
        assert!((records[0].variants[0].fraction_of_peak.unwrap() - 1.0).abs() < 1e-9);
        assert!((records[0].variants[1].fraction_of_peak.unwrap() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn a_run_without_the_baseline_says_why_vs_naive_is_empty() {
        let case = Matmul.prepare("100", 1).unwrap();
        let table = Matmul.variants();
        let best = *table.iter().find(|v| v.name == "best").unwrap();
        let without = render(&record(&Matmul, &*case, &machine(4.0), &[Row::of(best, measured(1e-3))]));
        assert!(without.contains("the baseline was not in this run"), "{without}");
        let naive = table[0];
        let rows = [Row::of(naive, measured(1e-2)), Row::of(best, measured(1e-3))];
        let with = render(&record(&Matmul, &*case, &machine(4.0), &rows));
        assert!(!with.contains("the baseline was not in this run") && with.contains("10x"), "{with}");
    }

    #[test]
    fn statuses_serialise_as_the_documented_words() {
        let words: Vec<_> = [Status::Measured, Status::Failed, Status::Unavailable]
            .iter()
            .map(|s| serde_json::to_string(s).unwrap())
            .collect();
        assert_eq!(words, ["\"measured\"", "\"failed\"", "\"unavailable\""]);
    }
}
