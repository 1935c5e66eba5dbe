//! Turning outcomes into records (JSON, typed parts) and tables (terminal: `table.rs`).

mod table;

pub(crate) use table::library_notes;
pub use table::render;

use perflab_labs::{Case, Lab, Role, Variant, WorkUnit};
use serde::Serialize;

use crate::machine::Machine;
use crate::measure::{Outcome, Stats};

/// Above this interquartile spread, a measurement is flagged as noisy.
pub const NOISY_SPREAD: f64 = 0.10;

/// The version of the JSON document's layout: bumped whenever a field moves, is renamed or
/// changes meaning, so that a reader (a comparison, a picture) can tell which layout it holds.
/// 2: each variant's results in typed parts (`verdict`, `timing`, `speed`, `memory`).
/// 3: `timing.samples_s` (every round's seconds, in order) and `timing.epochs`,
/// `record.footprint_bytes`, `record.probe_gflops` (each round's FMA probe), and
/// `machine.limits` (bandwidth, caches, fingerprint).
pub const SCHEMA: u32 = 3;

/// The whole JSON document of one `perflab` invocation.
#[derive(Debug, Serialize)]
pub struct Document {
    pub schema: u32,
    pub perflab_version: &'static str,
    pub machine: Machine,
    pub records: Vec<Record>,
}

impl Document {
    pub fn new(machine: Machine, records: Vec<Record>) -> Document {
        Document { schema: SCHEMA, perflab_version: env!("CARGO_PKG_VERSION"), machine, records }
    }
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
    /// The physical cores the threads can occupy (see `Machine::cores`).
    pub cores: usize,
    /// One core's FMA peak, and all `cores` cores' (GFLOP/s): a variant's `fraction_of_peak`
    /// divides by the peak of the cores it can use (its `cores`).
    pub core_peak_gflops: f64,
    pub fma_peak_gflops: f64,
    /// Bytes of the inputs and outputs of one call: the least a call moves from memory once
    /// they no longer fit the caches (for the roofline's arithmetic intensity).
    pub footprint_bytes: Option<u64>,
    /// The same bytes per input and output, named (`A`, `B`, `C`): which one stops fitting a cache.
    pub footprint_parts: Vec<FootprintPart>,
    /// The FMA probe of each kept round (GFLOP/s of one core), in the order of the variants'
    /// `samples_s`: how fast the machine ran in each round, to correct a baseline comparison.
    pub probe_gflops: Vec<f64>,
    /// On two cores or more, each kept round's probe on every thread at once, over `cores` × one
    /// core's peak: about 1 where the cores were free (see `Machine::probe_cores_together`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cores_together: Vec<f64>,
    pub variants: Vec<VariantRecord>,
}

/// One input or output of a call, and its bytes.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct FootprintPart {
    pub name: String,
    pub bytes: u64,
}

/// One variant's result, in parts: what it is, whether it was right, and (when it was timed) its
/// time, its speed and its memory.
#[derive(Debug, Serialize)]
pub struct VariantRecord {
    pub name: &'static str,
    #[serde(serialize_with = "role_name")]
    pub role: Role,
    /// What `speed.ratio_vs_reference` compares against.
    pub reference: Option<&'static str>,
    /// The cores it can use: 1 for a serial variant, the run's cores for a parallel one.
    pub cores: usize,
    /// Most of its multiply-adds ran in bf16 (twice the f32 rate per instruction): its fraction
    /// of the f32 FMA peak may pass 100%.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bf16_products: bool,
    pub verdict: Verdict,
    /// None unless measured.
    pub timing: Option<Timing>,
    pub speed: Option<Speed>,
    /// None unless measured in this process (a Python variant's is `python_memory`).
    pub memory: Option<Memory>,
    /// A Python variant's memory of one call, by tracemalloc (absent for the others).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python_memory: Option<crate::anchors::PythonMemory>,
    /// What the lab counted beside time (distance computations a bound skipped, say).
    pub counted: Option<String>,
    /// For a Python anchor: library versions, BLAS (from threadpoolctl) and threads.
    pub library: Option<serde_json::Value>,
}

/// Whether a variant ran, and whether its answer matched the oracle.
#[derive(Debug, Serialize)]
pub struct Verdict {
    pub status: Status,
    /// Whether the output matched the oracle (null when the variant could not run).
    pub correct: Option<bool>,
    /// A library whose answer the oracle rejected: a finding about it, not an error of the run.
    pub rejected_library_answer: bool,
    /// How it was validated, or what was wrong, or why it is unavailable.
    pub detail: String,
}

/// The time of one call, from the interleaved rounds.
#[derive(Debug, Serialize)]
pub struct Timing {
    /// Fraction of the input it ran on (below 1: a slow variant, its time scaled up).
    pub fraction_run: f64,
    pub median_s: f64,
    pub p25_s: f64,
    pub p75_s: f64,
    pub min_s: f64,
    pub samples: usize,
    /// (p75 − p25) / median.
    pub spread: f64,
    /// Every round's seconds per call, in the order taken: round i of two variants of one record
    /// ran together (what baselines compare, round by round).
    pub samples_s: Vec<f64>,
    /// The epochs `samples_s` falls in, in equal consecutive parts: each on a fresh copy of the
    /// input (see `measure::measure`).
    pub epochs: usize,
}

/// What the time means: work per second, against the peak, against other variants.
#[derive(Debug, Serialize)]
pub struct Speed {
    pub throughput: Throughput,
    /// The lab's items per second (queries/s), for labs that count them.
    pub items: Option<Throughput>,
    /// GFLOP/s, for labs whose work is floating-point operations.
    pub gflops: Option<f64>,
    /// GFLOP/s over the FMA peak of `cores` cores.
    pub fraction_of_peak: Option<f64>,
    /// Round by round, the baseline's time over this one's (None without the baseline).
    pub speedup_vs_naive: Option<f64>,
    /// Round by round, the reference's time over this one's (above 1: faster).
    pub ratio_vs_reference: Option<f64>,
}

/// Heap use of one call after a warm-up call, counted with dhat.
#[derive(Debug, Serialize)]
pub struct Memory {
    pub allocs_per_call: u64,
    pub alloc_bytes_per_call: u64,
    /// The most heap bytes live at once during that call.
    pub peak_heap_bytes: u64,
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

fn role_name<S: serde::Serializer>(role: &Role, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(role.as_str())
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
pub fn record(lab: &dyn Lab, case: &dyn Case, machine: &Machine, rows: &[Row]) -> Record {
    let flagship = lab.flagship();
    let stats_of = |name: &str| {
        rows.iter().find(|row| row.variant.name == name).and_then(|row| match &row.outcome {
            Some(Outcome::Measured { stats, .. }) => Some(stats),
            _ => None,
        })
    };
    let naive = rows.iter().find(|row| row.variant.role == Role::Baseline).and_then(|row| stats_of(row.variant.name));
    let work = case.work();
    let variants = rows
        .iter()
        .map(|row| {
            let info = &row.variant;
            let reference = info.reference.or((info.name != flagship).then_some(flagship));
            let compared = Compared { naive, reference: reference.and_then(stats_of) };
            variant_record(row, reference, &work, machine, compared)
        })
        .collect();
    Record {
        lab: lab.name(),
        slice_unit: lab.slice_unit(),
        size: case.label(),
        params: case.params().into_iter().map(|(name, value)| (name.to_string(), value.into())).collect(),
        threads: machine.threads,
        cores: machine.cores,
        core_peak_gflops: machine.core_peak_gflops,
        fma_peak_gflops: machine.fma_peak_gflops,
        footprint_bytes: lab.footprint(&case.label()).ok(),
        footprint_parts: lab
            .footprint_parts(&case.label())
            .unwrap_or_default()
            .into_iter()
            .map(|(name, bytes)| FootprintPart { name: name.to_string(), bytes })
            .collect(),
        probe_gflops: machine.round_probes.clone(),
        cores_together: machine.round_together.clone(),
        variants,
    }
}

/// The samples a variant's speed is compared with: the baseline's and its reference's.
#[derive(Clone, Copy)]
struct Compared<'s> {
    naive: Option<&'s Stats>,
    reference: Option<&'s Stats>,
}

fn variant_record(
    row: &Row,
    reference: Option<&'static str>,
    work: &WorkUnit,
    machine: &Machine,
    compared: Compared,
) -> VariantRecord {
    let info = &row.variant;
    let cores = if info.parallel { machine.cores } else { 1 };
    let mut record = VariantRecord {
        name: info.name,
        role: info.role,
        reference,
        cores,
        bf16_products: info.bf16_products,
        verdict: Verdict {
            status: Status::Unavailable,
            correct: None,
            rejected_library_answer: false,
            detail: String::new(),
        },
        timing: None,
        speed: None,
        memory: None,
        python_memory: None,
        counted: None,
        library: row.library.clone(),
    };
    match &row.outcome {
        None => {
            let why = row.unavailable.clone().or(info.unavailable().map(str::to_string));
            record.verdict.detail = why.unwrap_or("not run".into());
        }
        Some(Outcome::Failed { error, fraction: _, finding }) => {
            record.verdict = Verdict {
                status: Status::Failed,
                correct: Some(false),
                rejected_library_answer: *finding,
                detail: error.clone(),
            };
        }
        Some(Outcome::Measured { validation, counted, fraction, stats, allocs, python_memory }) => {
            record.verdict = Verdict {
                status: Status::Measured,
                correct: Some(true),
                rejected_library_answer: false,
                detail: validation.clone(),
            };
            record.counted = counted.clone();
            record.timing = Some(Timing {
                fraction_run: *fraction,
                median_s: stats.median,
                p25_s: stats.p25,
                p75_s: stats.p75,
                min_s: stats.min,
                samples: stats.samples,
                spread: stats.spread(),
                samples_s: stats.in_order.clone(),
                epochs: stats.epochs,
            });
            record.speed = Some(speed(stats, work, machine.peak_for(info.parallel), compared));
            record.python_memory = *python_memory;
            record.memory = allocs.map(|a| Memory {
                allocs_per_call: a.blocks,
                alloc_bytes_per_call: a.bytes,
                peak_heap_bytes: a.peak_bytes,
            });
        }
    }
    record
}

/// Work per second of `stats`' median, its fraction of `peak`, and its ratios to the baseline and
/// the reference, round by round: both ran in every round, so what slowed the machine in one
/// round slowed both (`Stats::ratio_to`).
fn speed(stats: &Stats, work: &WorkUnit, peak: f64, compared: Compared) -> Speed {
    let per_second = work.per_call / stats.median;
    let gflops = work.is_flops.then_some(per_second / 1e9);
    Speed {
        throughput: Throughput { value: per_second / work.scale, unit: work.name },
        items: work.items.map(|(count, unit)| Throughput { value: count / stats.median, unit }),
        gflops,
        fraction_of_peak: gflops.map(|g| g / peak),
        speedup_vs_naive: compared.naive.map(|theirs| stats.ratio_to(theirs)),
        ratio_vs_reference: compared.reference.map(|theirs| stats.ratio_to(theirs)),
    }
}

/// Recomputes every fraction of peak against `core_peak` (one core's best probe of the whole
/// run) times the cores each variant uses. Some: the lowest peak a record had before, where that
/// was below `core_peak` by more than the tables' rounding (their "of peak" printed against it).
pub fn rescale_to_peak(records: &mut [Record], core_peak: f64) -> Option<f64> {
    let lowest = records.iter().map(|r| r.core_peak_gflops).fold(f64::INFINITY, f64::min);
    for record in records.iter_mut() {
        record.core_peak_gflops = core_peak;
        record.fma_peak_gflops = core_peak * record.cores as f64;
        for v in &mut record.variants {
            if let Some(speed) = &mut v.speed {
                speed.fraction_of_peak = speed.gflops.map(|g| g / (core_peak * v.cores as f64));
            }
        }
    }
    (lowest < core_peak * 0.995).then_some(lowest)
}

/// A record in one line: its case, then each variant's speed (a sweep's progress).
pub fn one_line(record: &Record) -> String {
    let cells: Vec<String> = record
        .variants
        .iter()
        .map(|v| match (&v.speed, v.verdict.status) {
            (Some(Speed { gflops: Some(g), fraction_of_peak: Some(f), .. }), _) => {
                format!("{} {g:.1} GFLOP/s ({:.0}%)", v.name, f * 100.0)
            }
            (Some(speed), _) => format!("{} {:.3e} {}", v.name, speed.throughput.value, speed.throughput.unit),
            (None, Status::Failed) => format!("{} FAILED", v.name),
            (None, _) => format!("{} -", v.name),
        })
        .collect();
    format!("{} {} ({} thread(s)): {}", record.lab, record.size, record.threads, cells.join(", "))
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

/// A ratio with the digits that matter: `1956`, `1.05`, `0.00051` (never `0.00`).
pub(crate) fn format_ratio(r: f64) -> String {
    if r >= 10.0 || r == 0.0 || !r.is_finite() {
        format!("{r:.0}")
    } else if r >= 0.1 {
        format!("{r:.2}")
    } else {
        // Two significant digits.
        let digits = (1.0 - r.log10().floor()) as usize;
        format!("{r:.digits$}")
    }
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
            limits: None,
            gemm_blocks: None,
            round_probes: Vec::new(),
            round_together: Vec::new(),
        }
    }

    fn measured(seconds: f64) -> Option<Outcome> {
        let stats = Stats::of(vec![seconds; 5]);
        let python_memory = None;
        Some(Outcome::Measured {
            validation: "ok".into(),
            counted: None,
            fraction: 1.0,
            stats,
            allocs: None,
            python_memory,
        })
    }

    #[test]
    fn a_ratio_keeps_its_significant_digits() {
        let cases =
            [(1955.69, "1956"), (10.0, "10"), (1.0549, "1.05"), (0.1, "0.10"), (0.00051, "0.00051"), (0.0, "0")];
        for (ratio, text) in cases {
            assert_eq!(format_ratio(ratio), text, "{ratio}");
        }
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
        let fraction = |i: usize| record.variants[i].speed.as_ref().unwrap().fraction_of_peak.unwrap();
        assert_eq!((record.variants[0].cores, record.variants[1].cores), (1, 2));
        assert!((fraction(0) - 0.5).abs() < 1e-9, "simd: 2 of one core's 4 GFLOP/s");
        assert!((fraction(1) - 0.25).abs() < 1e-9, "best: 2 of two cores' 8 GFLOP/s");
        let table = render(&record);
        assert!(table.contains("of one core's 4 GFLOP/s for serial variants, of 2 cores' 8"), "{table}");
        let mut records = [record];
        assert_eq!(rescale_to_peak(&mut records, 2.0), None, "a lower peak: no table printed against less");
        assert!((records[0].variants[0].speed.as_ref().unwrap().fraction_of_peak.unwrap() - 1.0).abs() < 1e-9);
        assert!((records[0].variants[1].speed.as_ref().unwrap().fraction_of_peak.unwrap() - 0.5).abs() < 1e-9);
        // A peak that rose after the table printed is said, with the figure the table used.
        assert_eq!(rescale_to_peak(&mut records, 2.005), None, "within the tables' rounding");
        assert_eq!(rescale_to_peak(&mut records, 2.5), Some(2.005));
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
    fn a_variant_in_another_process_keeps_its_role_and_reference() {
        let case = Matmul.prepare("100", 1).unwrap();
        let simd = *Matmul.variants().iter().find(|v| v.name == "simd").unwrap();
        let python = perflab_labs::OutOfProcess {
            name: "your-numpy",
            summary: "a learner's numpy",
            role: Role::Exercise,
            reference: Some("simd"),
            parallel: false,
            runner: perflab_labs::Runner::PythonAnchor,
            slow: false,
        };
        let rows = [Row::of(simd, measured(1e-3)), Row::of(python.describe(), measured(2e-3))];
        let record = record(&Matmul, &*case, &machine(4.0), &rows);
        let theirs = &record.variants[1];
        assert_eq!((theirs.role, theirs.reference, theirs.cores), (Role::Exercise, Some("simd"), 1));
        let ratio = theirs.speed.as_ref().unwrap().ratio_vs_reference.unwrap();
        assert!((ratio - 0.5).abs() < 1e-9, "half the speed of simd: {ratio}");
        assert!(render(&record).contains("0.50x simd"), "{}", render(&record));
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
