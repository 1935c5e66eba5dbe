//! The terminal table of one record: one list of columns, each a header and how a measured
//! variant's cell reads, and the notes under the table.

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_BORDERS_ONLY};
use perflab_labs::Role;

use super::{NOISY_SPREAD, Record, Status, VariantRecord, format_bytes, format_ratio, format_seconds, indent};

/// A column of the table: its header for this record (None: not shown for it) and the cell of
/// a measured variant.
struct Column {
    header: fn(&Record) -> Option<String>,
    cell: fn(&VariantRecord) -> String,
}

/// Every column after the variant's name and role, in order. A variant that was not measured
/// gets "-" in each and its status in the last.
const COLUMNS: &[Column] = &[
    Column { header: |_| Some("median".into()), cell: |v| timing(v, |t| format_seconds(t.median_s)) },
    Column { header: |_| Some("spread".into()), cell: |v| timing(v, |t| format!("±{:.0}%", 50.0 * t.spread)) },
    Column {
        header: |r| r.variants.iter().find_map(|v| v.speed.as_ref()?.items.as_ref().map(|t| t.unit.to_string())),
        cell: |v| speed(v, |s| s.items.as_ref().map_or("-".into(), |t| format_rate(t.value))),
    },
    Column {
        header: |r| {
            Some(
                r.variants
                    .iter()
                    .find_map(|v| v.speed.as_ref().map(|s| s.throughput.unit))
                    .unwrap_or("throughput")
                    .into(),
            )
        },
        cell: |v| speed(v, |s| format!("{:.2}", s.throughput.value)),
    },
    Column {
        header: |r| has_peak(r).then(|| "of peak".into()),
        // Above 100% the peak probe itself was slowed down: say so, never hide it. A variant
        // that multiplies in bf16 is marked ᵇ instead (the f32 peak is not its limit).
        cell: |v| {
            let mark = |f: f64| match (v.bf16_products, f > 1.0) {
                (true, _) => "ᵇ",
                (false, true) => "!",
                (false, false) => "",
            };
            speed(v, |s| s.fraction_of_peak.map_or("".into(), |f| format!("{:.0}%{}", 100.0 * f, mark(f))))
        },
    },
    Column {
        header: |_| Some("vs naive".into()),
        cell: |v| speed(v, |s| s.speedup_vs_naive.map_or("-".into(), |x| format!("{}x", format_ratio(x)))),
    },
    Column {
        header: |_| Some("vs ref".into()),
        cell: |v| match (v.speed.as_ref().and_then(|s| s.ratio_vs_reference), v.reference) {
            (Some(r), Some(of)) => format!("{}x {of}", format_ratio(r)),
            _ => "-".into(),
        },
    },
    Column {
        header: |_| Some("allocs".into()),
        cell: |v| match v.python_memory.and_then(|p| p.numpy_buffers) {
            Some(buffers) => format!("{buffers}ᵖ"),
            None => memory(v, |m| m.allocs_per_call.to_string()),
        },
    },
    Column {
        header: |_| Some("bytes".into()),
        cell: |v| match v.python_memory.and_then(|p| p.numpy_bytes) {
            Some(bytes) => format!("{}ᵖ", format_bytes(bytes)),
            None => memory(v, |m| format_bytes(m.alloc_bytes_per_call)),
        },
    },
    Column {
        header: |_| Some("peak".into()),
        cell: |v| match v.python_memory {
            Some(python) => format!("{}ᵖ", format_bytes(python.peak_bytes)),
            None => memory(v, |m| format_bytes(m.peak_heap_bytes)),
        },
    },
    Column {
        header: |_| Some("check".into()),
        cell: |v| if v.timing.as_ref().is_some_and(|t| t.fraction_run < 1.0) { "ok*".into() } else { "ok".into() },
    },
];

fn timing(v: &VariantRecord, cell: impl Fn(&super::Timing) -> String) -> String {
    v.timing.as_ref().map_or("-".into(), cell)
}

fn speed(v: &VariantRecord, cell: impl Fn(&super::Speed) -> String) -> String {
    v.speed.as_ref().map_or("-".into(), cell)
}

/// "-": a Python anchor, in another process; "?": no counting allocator.
fn memory(v: &VariantRecord, cell: impl Fn(&super::Memory) -> String) -> String {
    v.memory.as_ref().map_or_else(|| if v.library.is_some() { "-".into() } else { "?".into() }, cell)
}

fn has_peak(record: &Record) -> bool {
    record.variants.iter().any(|v| v.speed.as_ref().is_some_and(|s| s.fraction_of_peak.is_some()))
}

/// The terminal table of one record, with notes below it (failures, limits, noise).
pub fn render(record: &Record) -> String {
    let shown: Vec<(&Column, String)> = COLUMNS.iter().filter_map(|c| Some((c, (c.header)(record)?))).collect();
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    let mut header = vec!["variant".to_string(), "role".to_string()];
    header.extend(shown.iter().map(|(_, h)| h.clone()));
    table.set_header(header);
    for v in &record.variants {
        let numbers: Vec<String> = match v.verdict.status {
            Status::Measured => shown.iter().map(|(c, _)| (c.cell)(v)).collect(),
            status => {
                let mut n = vec!["-".to_string(); shown.len() - 1];
                n.push(if status == Status::Failed { "FAILED".into() } else { "n/a".into() });
                n
            }
        };
        let mut cells = vec![Cell::new(v.name), Cell::new(v.role.as_str())];
        cells.extend(numbers.into_iter().map(|n| Cell::new(n).set_alignment(CellAlignment::Right)));
        table.add_row(cells);
    }
    let mut out =
        format!("{} {} | threads {}{}\n{table}\n", record.lab, record.size, record.threads, peak_line(record));
    out.push_str(
        "vs naive: speedup over the baseline; vs ref: speedup over the named reference (below 1: slower)\n\
         allocs, bytes, peak: heap allocations of one call, bytes allocated, most bytes live at once (dhat);\n\
         with ᵖ, a Python row's: numpy buffers allocated in one call and their bytes (a counting allocator),\n\
         and the most bytes allocated at once, Python's objects included (tracemalloc)\n",
    );
    let notes = record.variants.iter().flat_map(|v| variant_notes(v, record));
    for note in unavailable_notes(record).into_iter().chain(notes).chain(record_notes(record)) {
        out.push_str(&note);
        out.push('\n');
    }
    out
}

/// What the fractions of peak divide by, for the title line.
fn peak_line(record: &Record) -> String {
    if !has_peak(record) {
        String::new()
    } else if record.cores > 1 {
        format!(
            " | of peak: of one core's {:.0} GFLOP/s for serial variants, of {} cores' {:.0} for parallel ones \
             (the best FMA probe so far)",
            record.core_peak_gflops, record.cores, record.fma_peak_gflops
        )
    } else {
        format!(" | of peak: of {:.0} GFLOP/s, the best FMA probe so far", record.core_peak_gflops)
    }
}

/// Why variants are missing, one line per reason with every variant it holds back (without a
/// Python, that is one line, not one per Python row).
fn unavailable_notes(record: &Record) -> Vec<String> {
    let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
    for v in record.variants.iter().filter(|v| v.verdict.status == Status::Unavailable) {
        match reasons.iter_mut().find(|(why, _)| *why == v.verdict.detail) {
            Some((_, names)) => names.push(v.name),
            None => reasons.push((&v.verdict.detail, vec![v.name])),
        }
    }
    reasons.into_iter().map(|(why, names)| format!("{}: {why}", names.join(", "))).collect()
}

/// The notes of one variant: why it failed, what it counted, its library, its slice.
fn variant_notes(v: &VariantRecord, record: &Record) -> Vec<String> {
    let mut notes = Vec::new();
    let detail = &v.verdict.detail;
    match v.verdict.status {
        Status::Failed if v.verdict.rejected_library_answer => notes.push(format!(
            "{}'s answer does not meet the oracle on this input, so it was not timed (a fact about the {}, not an \
             error of this run; the exit code ignores it):\n{}",
            v.name,
            if v.role == Role::Library { "library" } else { "rung on this input, which its file explains" },
            indent(detail)
        )),
        Status::Failed => notes.push(format!("{} FAILED validation and was not timed:\n{}", v.name, indent(detail))),
        Status::Unavailable => {} // in `unavailable_notes`, one line per reason
        Status::Measured => notes.extend(v.counted.as_ref().map(|counted| format!("{}: {counted}", v.name))),
    }
    if let Some(library) = v.library.as_ref().and_then(|l| l.as_object()) {
        let (note, warning) = library_notes(v.name, library);
        notes.push(note);
        notes.extend(warning.map(|w| format!("! {w}")));
    }
    if let Some(f) = v.timing.as_ref().map(|t| t.fraction_run).filter(|f| *f < 1.0) {
        notes.push(format!(
            "* {} ran on {:.1}% of the {} to bound its run time; its time is scaled up to the full problem \
             (its allocations are those of that smaller call)",
            v.name,
            100.0 * f,
            record.slice_unit
        ));
    }
    notes
}

/// What a row's `library` says, in words (where it ran, versions, BLAS, threads, the process
/// round-trip a Python row leaves out), and the warning of a BLAS kernel narrower than the CPU
/// (`kernel_note`, from `crate::blas`), if any: the terminal's notes and the HTML report's.
pub(crate) fn library_notes(
    name: &str,
    library: &serde_json::Map<String, serde_json::Value>,
) -> (String, Option<String>) {
    let parts: Vec<String> = library
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "blas_kernels" | "in_process" | "kernel_note"))
        .map(|(k, x)| format!("{k} {}", x.as_str().map_or_else(|| x.to_string(), str::to_string)))
        .collect();
    let place =
        if library.contains_key("in_process") { "in this process" } else { "Python, its own process, same rounds" };
    let mut note = format!("{name} ({place}): {}", parts.join(", "));
    if let (Some(trip), Some(sample)) = (library.get("round_trip_ms"), library.get("sample_ms")) {
        note += &format!(
            "; each sample's process round-trip ({trip} ms) is left out: Python times the calls ({sample} ms a sample)"
        );
    }
    let warning = library.get("kernel_note").and_then(|n| n.as_str()).map(str::to_string);
    (note, warning)
}

/// A round whose probe on every thread at once ran below this fraction of `cores` × one core's
/// peak had a core held by something else (free cores measure 0.94-1.0 on the 2-core VMs
/// perflab is developed on; a core held by a neighbour, about 0.5).
const SHARED_BELOW: f64 = 0.85;

/// A note when a quarter of the rounds or more ran on shared cores (`cores_together`, one value
/// per round, each over `cores` cores' rate): fork-join variants wait for their slowest thread,
/// so their samples from those rounds are slow, and a median resists a few such rounds, not a
/// quarter of them.
fn shared_cores_note(cores: usize, cores_together: &[f64]) -> Option<String> {
    let shared: Vec<f64> = cores_together.iter().copied().filter(|&f| f < SHARED_BELOW).collect();
    if shared.is_empty() || shared.len() * 4 < cores_together.len() {
        return None;
    }
    let lowest = shared.iter().copied().fold(f64::INFINITY, f64::min);
    Some(format!(
        "~ shared cores: in {} of {} rounds the {cores} threads, probed together, ran multiply-adds at under {:.0}% of \
         {cores} free cores' rate (lowest {:.0}%): another VM or process held a core then. Parallel variants wait for \
         their slowest thread, so their samples from those rounds are slow, and with this many the medians on {cores} \
         threads may be too; rerun when the machine is quiet",
        shared.len(),
        cores_together.len(),
        SHARED_BELOW * 100.0,
        lowest * 100.0
    ))
}

/// The notes of the whole table: a peak exceeded, shared cores, no baseline, noisy samples.
fn record_notes(record: &Record) -> Vec<String> {
    let mut notes = Vec::new();
    let above_peak = |v: &VariantRecord| v.speed.as_ref().and_then(|s| s.fraction_of_peak).is_some_and(|f| f > 1.0);
    if record.variants.iter().any(|v| !v.bf16_products && above_peak(v)) {
        notes.push(format!(
            "! above 100% of peak: the FMA-peak probe ({:.0} GFLOP/s per core, the best of every probe in this \
             run) was slowed down by other load on the machine, so those fractions are overstated; rerun on a \
             quieter machine",
            record.core_peak_gflops
        ));
    }
    if let Some(v) = record.variants.iter().find(|v| v.bf16_products && v.speed.is_some()) {
        notes.push(format!(
            "ᵇ {} multiplies in bf16 (AVX-512 BF16: 32 multiply-adds per instruction, where f32 FMA does 16; chosen \
             where a probe finds them at least 1.5x as fast), so its fraction of the f32 FMA peak can pass 100%; its \
             answer is still exact, every candidate re-ranked in f32 (see labs/knn/README.md)",
            v.name
        ));
    }
    notes.extend(shared_cores_note(record.cores, &record.cores_together));
    if !record.variants.iter().any(|v| v.role == Role::Baseline) {
        notes.push(
            "vs naive is '-': the baseline was not in this run (add `--variant naive`, or use `cargo lab check` for \
             an exercise)"
                .to_string(),
        );
    }
    let noisy: Vec<_> = record
        .variants
        .iter()
        .filter(|v| v.timing.as_ref().is_some_and(|t| t.spread > NOISY_SPREAD))
        .map(|v| v.name)
        .collect();
    if !noisy.is_empty() {
        notes.push(format!(
            "warning: wide spread (interquartile range > {:.0}% of the median) for {}: the machine was busy; \
             rerun, give more --seconds, and trust ratios from one run over absolute times",
            100.0 * NOISY_SPREAD,
            noisy.join(", ")
        ));
    }
    notes
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_cores_are_noted_when_a_quarter_of_the_rounds_ran_on_them() {
        let free = [0.99, 1.0, 0.98, 0.97];
        assert_eq!(shared_cores_note(2, &free), None);
        assert_eq!(shared_cores_note(2, &[]), None, "a one-core run probes nothing together");
        assert_eq!(shared_cores_note(2, &[0.99, 1.0, 0.98, 0.97, 0.5]), None, "one round in five");
        let note = shared_cores_note(2, &[0.99, 0.51, 1.0, 0.62]).expect("two rounds in four");
        assert!(note.contains("in 2 of 4 rounds") && note.contains("lowest 51%"), "{note}");
    }
}
