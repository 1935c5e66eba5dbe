//! This machine's run beside a reference machine's (`cargo lab compare`, `--reference`): per
//! variant both times, both fractions of the limit that binds it there and here (the FMA peak, or
//! the memory bandwidth where the machine's balance says the variant is memory-bound), and whether
//! the gap is *the machine* (as far from this machine's limits as the reference is from its own)
//! or *the code* (markedly further from the limits here), with what the difference between the two
//! machines suggests. Then the ladder as shapes: each rung's speedup over the one below.

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_BORDERS_ONLY};
use perflab_labs::caches::{self, Cache};
use serde::Serialize;

use crate::change;
use crate::limits::Limits;
use crate::report::format_seconds;
use crate::saved::{SavedRecord, SavedRun, SavedVariant};

/// A variant counts as *the code* when its fraction of its limit here is below (1 − this) times
/// the reference's. Single runs of identical code on these 2-core VMs differ by up to 20%
/// (alternating runs of one binary, issue 17's measurements); a smaller gap across machines
/// is not evidence of anything.
pub const MACHINE_BAND: f64 = 0.20;

/// Which limit bounds a variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    /// Arithmetic: its fraction is of the FMA peak of the cores it uses.
    Compute,
    /// Memory: it does fewer FLOP per byte of its inputs and outputs than the machine's balance,
    /// and its fraction is of the memory bandwidth.
    Memory,
    /// Work that is not counted in FLOP (Lloyd's iterations): only relative speed is compared,
    /// per core-peak.
    Relative,
}

/// One side of a comparison: a variant's time and how far it is from its limit.
#[derive(Clone, Debug, Serialize)]
pub struct Side {
    /// Seconds per call: the 20th percentile of its rounds ([`change::QUANTILE`]), as baselines
    /// take it, so that rounds another process interrupted on either machine do not count.
    pub time_s: f64,
    pub bound: Bound,
    /// Of the peak or of the bandwidth (None for `Relative`).
    pub fraction: Option<f64>,
    /// Work per second per unit of the limit, for the ratio of the two sides.
    #[serde(skip)]
    efficiency: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct VariantComparison {
    pub lab: String,
    pub size: String,
    pub variant: String,
    pub role: String,
    pub here: Side,
    pub there: Side,
    /// Here's efficiency over there's: 1 is "as far from the limits here as there".
    pub relative: f64,
    /// `the machine` (within the band either way), `the code` (markedly further from the limits
    /// here) or `closer here` (markedly closer to them here than the reference was to its own).
    pub verdict: &'static str,
    /// What the difference between the machines suggests (for `the code`).
    pub suggests: Vec<String>,
}

/// The two machines' limits, and the SIMD level each run's kernels ran at.
pub struct Machines<'a> {
    pub here: &'a Limits,
    pub there: &'a Limits,
    pub here_level: &'a str,
    pub there_level: &'a str,
}

/// Every variant timed in both runs, record by record (same lab and size).
pub fn compare(here: &SavedRun, there: &SavedRun, machines: &Machines) -> Vec<VariantComparison> {
    let mut out = Vec::new();
    for record in &here.records {
        let Some(theirs) = there.records.iter().find(|r| r.lab == record.lab && r.size == record.size) else {
            continue;
        };
        for variant in &record.variants {
            let Some(their_variant) = theirs.variant(&variant.name) else { continue };
            let (Some(h), Some(t)) =
                (side(record, variant, machines.here), side(theirs, their_variant, machines.there))
            else {
                continue;
            };
            out.push(judge(record, variant, h, t, machines));
        }
    }
    out
}

/// A variant's time and fraction of the limit that binds it on `limits`' machine.
fn side(record: &SavedRecord, variant: &SavedVariant, limits: &Limits) -> Option<Side> {
    let time_s = time_of(variant)?;
    let parallel = variant.cores > 1;
    let peak = record.core_peak_gflops.max(limits.core_peak_gflops) * variant.cores as f64;
    // The record's GFLOP/s is at the median; at the quantile it is higher by median / quantile.
    let at_median = variant.timing.as_ref()?.median_s;
    let gflops = variant.speed.as_ref().and_then(|s| s.gflops).map(|g| g * at_median / time_s);
    let Some(gflops) = gflops else {
        return Some(Side { time_s, bound: Bound::Relative, fraction: None, efficiency: 1.0 / (time_s * peak) });
    };
    let intensity = record.footprint_bytes.map(|bytes| gflops * 1e9 * time_s / bytes as f64);
    if let Some(bytes) = record.footprint_bytes.filter(|_| intensity.is_some_and(|i| i < limits.balance(parallel))) {
        let bandwidth = if parallel { limits.bandwidth.all_threads_gbs } else { limits.bandwidth.one_thread_gbs };
        let fraction = bytes as f64 / time_s / 1e9 / bandwidth;
        return Some(Side { time_s, bound: Bound::Memory, fraction: Some(fraction), efficiency: fraction });
    }
    let fraction = gflops / peak;
    Some(Side { time_s, bound: Bound::Compute, fraction: Some(fraction), efficiency: fraction })
}

/// A variant's seconds per call: the [`change::QUANTILE`] of its rounds (the median where the
/// rounds were not kept).
fn time_of(variant: &SavedVariant) -> Option<f64> {
    let timing = variant.timing.as_ref()?;
    Some(if timing.samples_s.is_empty() { timing.median_s } else { change::low(&timing.samples_s) })
}

fn judge(record: &SavedRecord, variant: &SavedVariant, here: Side, there: Side, m: &Machines) -> VariantComparison {
    let relative = here.efficiency / there.efficiency;
    let is_code = relative < 1.0 - MACHINE_BAND;
    let closer_here = relative > 1.0 / (1.0 - MACHINE_BAND);
    let suggests = if is_code { suggestions(record, variant, &here, &there, m) } else { Vec::new() };
    VariantComparison {
        lab: record.lab.clone(),
        size: record.size.clone(),
        variant: variant.name.clone(),
        role: variant.role.clone(),
        here,
        there,
        relative,
        verdict: match (is_code, closer_here) {
            (true, _) => "the code",
            (_, true) => "closer here",
            _ => "the machine",
        },
        suggests,
    }
}

/// What differs between the machines that could put this variant further from its limits here.
fn suggestions(record: &SavedRecord, variant: &SavedVariant, here: &Side, there: &Side, m: &Machines) -> Vec<String> {
    let mut said = Vec::new();
    if m.here_level != m.there_level {
        said.push(format!(
            "the SIMD level the explicit-SIMD kernels ran at: {} here, {} there (a different vector width, and \
             AVX2 has 16 vector registers where AVX-512 has 32: a register tile sized for one spills or idles on \
             the other; a rung without explicit SIMD runs the same compiled code on both)",
            m.here_level, m.there_level
        ));
    }
    if here.bound != there.bound {
        said.push(format!(
            "bound by {} here and by {} there: this machine's balance of compute to bandwidth differs",
            word(here.bound),
            word(there.bound)
        ));
    }
    if let Some(bytes) = record.footprint_bytes {
        for level in [2, 3] {
            let (ours, theirs) = (data_cache(m.here, level), data_cache(m.there, level));
            if let (Some(ours), Some(theirs)) = (ours, theirs)
                && bytes <= theirs.size_bytes
                && bytes > ours.size_bytes
            {
                said.push(format!(
                    "a cache size: its data ({}) fits the reference's L{level} ({}) but not this machine's ({})",
                    caches::bytes(bytes),
                    caches::bytes(theirs.size_bytes),
                    caches::bytes(ours.size_bytes)
                ));
            }
        }
        let (l2_here, l2_there) = (data_cache(m.here, 2), data_cache(m.there, 2));
        if let (Some(a), Some(b)) = (l2_here, l2_there)
            && a.size_bytes != b.size_bytes
            && said.iter().all(|s| !s.starts_with("a cache size"))
        {
            said.push(format!(
                "block sizes tuned for the reference's L2 ({}) rather than this machine's ({})",
                caches::bytes(b.size_bytes),
                caches::bytes(a.size_bytes)
            ));
        }
    }
    if variant.cores > 1 && m.here.fingerprint.cores != m.there.fingerprint.cores {
        said.push(format!(
            "the thread count: {} cores here, {} there (a split that balances on one count may not on the other)",
            m.here.fingerprint.cores, m.there.fingerprint.cores
        ));
    }
    if said.is_empty() {
        said.push(format!(
            "no difference in the machines' limits explains it: profile it (`cargo lab profile {} {}`) and look \
             for a choice that suits the reference's CPU",
            record.lab, variant.name
        ));
    }
    said
}

fn data_cache(limits: &Limits, level: u32) -> Option<Cache> {
    caches::data_cache(&limits.caches, level).cloned()
}

fn word(bound: Bound) -> &'static str {
    match bound {
        Bound::Compute => "compute",
        Bound::Memory => "memory",
        Bound::Relative => "its own work",
    }
}

/// Each distinct item once, in the order first seen (where equal items need not be adjacent).
fn first_of_each<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

fn fraction(side: &Side) -> String {
    match (side.bound, side.fraction) {
        (Bound::Compute, Some(f)) => format!("{:.0}% of peak", f * 100.0),
        (Bound::Memory, Some(f)) => format!("{:.0}% of bandwidth", f * 100.0),
        _ => "-".into(),
    }
}

/// The comparison as tables, one per case, with the verdicts in words and the ladder as shapes.
pub fn render(comparisons: &[VariantComparison], here: &SavedRun, there: &SavedRun, there_name: &str) -> String {
    let mut out = String::new();
    for (lab, size) in first_of_each(comparisons.iter().map(|c| (c.lab.as_str(), c.size.as_str()))) {
        let rows: Vec<&VariantComparison> = comparisons.iter().filter(|c| c.lab == lab && c.size == size).collect();
        out += &format!("{lab} {size}: here vs {there_name}\n{}\n", table(&rows));
        // Variants with the same differences are named together: the reasons once.
        let code: Vec<&&VariantComparison> = rows.iter().filter(|r| r.verdict == "the code").collect();
        for suggests in first_of_each(code.iter().map(|r| &r.suggests)) {
            let same: Vec<&&&VariantComparison> = code.iter().filter(|r| &r.suggests == suggests).collect();
            let names: Vec<String> =
                same.iter().map(|r| format!("{} is {:.1}x", r.variant, 1.0 / r.relative)).collect();
            let whose = if same.len() == 1 { "its" } else { "their" };
            out += &format!(
                "  {} further from {whose} limits here than there; what differs: {}\n",
                names.join(", "),
                suggests.join("; ")
            );
        }
        if let (Some(ours), Some(theirs)) = (
            here.records.iter().find(|r| r.lab == lab && r.size == size),
            there.records.iter().find(|r| r.lab == lab && r.size == size),
        ) {
            out += &ladder(ours, theirs);
        }
        out.push('\n');
    }
    out
}

fn table(rows: &[&VariantComparison]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    table.set_header(["variant", "here", "there", "here: of limit", "there: of limit", "here/there", "verdict"]);
    for row in rows {
        let cells = [
            row.variant.clone(),
            format_seconds(row.here.time_s),
            format_seconds(row.there.time_s),
            fraction(&row.here),
            fraction(&row.there),
            format!("{:.2}", row.relative),
            row.verdict.to_string(),
        ];
        table.add_row(cells.into_iter().enumerate().map(|(i, text)| {
            Cell::new(text).set_alignment(if (1..6).contains(&i) { CellAlignment::Right } else { CellAlignment::Left })
        }));
    }
    table
}

/// `ladder: naive → loop-order 37.1x here, 36.9x there → blocked ...`: each rung (the baseline
/// and the reference rungs, in ladder order) over the one below it.
fn ladder(here: &SavedRecord, there: &SavedRecord) -> String {
    let rungs: Vec<&str> = here
        .variants
        .iter()
        .filter(|v| (v.role == "baseline" || v.role == "reference") && v.timing.is_some())
        .map(|v| v.name.as_str())
        .filter(|name| there.variant(name).is_some_and(|v| v.timing.is_some()))
        .collect();
    if rungs.len() < 2 {
        return String::new();
    }
    let time = |record: &SavedRecord, name: &str| record.variant(name).and_then(time_of);
    let steps: Vec<String> = rungs
        .windows(2)
        .filter_map(|pair| {
            let step = |r: &SavedRecord| Some(time(r, pair[0])? / time(r, pair[1])?);
            Some(format!("{} {:.2}x here, {:.2}x there", pair[1], step(here)?, step(there)?))
        })
        .collect();
    format!("  ladder, each rung over the one below: {} → {}\n", rungs[0], steps.join(" → "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{Bandwidth, Fingerprint, LIMITS_SCHEMA};
    use perflab_labs::caches::Cache;

    fn limits(simd: &str, peak: f64, gbs: f64, l2: u64) -> Limits {
        let fingerprint = Fingerprint {
            id: format!("test-{simd}"),
            cpu: "test".into(),
            vendor: "test".into(),
            family: None,
            model: None,
            simd_level: simd.into(),
            cores: 2,
        };
        let cache = |level, size_bytes| Cache {
            level,
            kind: "Unified".into(),
            size_bytes,
            line_bytes: Some(64),
            ways: Some(8),
            shared_by: Some(1),
        };
        Limits {
            schema: LIMITS_SCHEMA,
            fingerprint,
            core_peak_gflops: peak,
            peak_raised: None,
            bandwidth: Bandwidth { one_thread_gbs: gbs, all_threads_gbs: gbs, threads: 2, array_bytes: 1, passes: 1 },
            caches: vec![cache(2, l2), cache(3, 32 << 20)],
            caches_unknown: None,
            measured_at: String::new(),
        }
    }

    /// A run of one matmul record: (variant, role, seconds, GFLOP/s) on a 12 MiB footprint.
    fn run(peak: f64, variants: &[(&str, &str, f64, f64)]) -> SavedRun {
        let variants: Vec<serde_json::Value> = variants
            .iter()
            .map(|(name, role, seconds, gflops)| {
                serde_json::json!({
                    "name": name, "role": role, "reference": null, "cores": 1,
                    "timing": { "median_s": seconds, "spread": 0.01, "samples_s": [seconds], "epochs": 1 },
                    "speed": { "gflops": gflops, "fraction_of_peak": gflops / peak }
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "schema": crate::report::SCHEMA,
            "machine": { "cpu": "test", "simd_level": "avx512f", "threads": 1, "core_peak_gflops": peak, "limits": null },
            "records": [{
                "lab": "matmul", "size": "1024x1024x1024", "threads": 1, "cores": 1, "core_peak_gflops": peak,
                "footprint_bytes": 12u64 << 20, "probe_gflops": [], "variants": variants
            }]
        }))
        .unwrap()
    }

    #[test]
    fn a_rung_as_far_from_its_peak_is_the_machine_and_one_much_further_is_the_code() {
        let (here_limits, there_limits) =
            (limits("avx2+fma", 100.0, 20.0, 1 << 20), limits("avx512f", 200.0, 20.0, 2 << 20));
        // There: naive 1 GFLOP/s, simd 150 (75% of 200). Here: naive 0.5 (same 0.5% of peak), simd 30 (30%).
        let there = run(200.0, &[("naive", "baseline", 2.0, 1.0), ("simd", "reference", 2.0 / 150.0, 150.0)]);
        let here = run(100.0, &[("naive", "baseline", 4.0, 0.5), ("simd", "reference", 4.0 / 60.0, 30.0)]);
        let machines =
            Machines { here: &here_limits, there: &there_limits, here_level: "avx2+fma", there_level: "avx512f" };
        let rows = compare(&here, &there, &machines);
        let naive = rows.iter().find(|r| r.variant == "naive").unwrap();
        assert_eq!((naive.verdict, naive.here.bound), ("the machine", Bound::Compute));
        // The other way round, simd is 2.5x closer to its limits here: not "the machine" either.
        let reversed = compare(
            &there,
            &here,
            &Machines { here: &there_limits, there: &here_limits, here_level: "avx512f", there_level: "avx2+fma" },
        );
        let simd_reversed = reversed.iter().find(|r| r.variant == "simd").unwrap();
        assert_eq!(simd_reversed.verdict, "closer here", "{simd_reversed:?}");
        let simd = rows.iter().find(|r| r.variant == "simd").unwrap();
        assert_eq!(simd.verdict, "the code");
        assert!((simd.relative - 0.4).abs() < 1e-9, "{simd:?}");
        let said = simd.suggests.join(" | ");
        assert!(said.contains("avx2+fma here, avx512f there") && said.contains("16"), "{said}");
        assert!(!said.contains("fits the reference's L2"), "12 MiB fits neither L2: {said}");
        assert!(said.contains("block sizes tuned for the reference's L2 (2 MiB)"), "{said}");
        let text = render(&rows, &here, &there, "test-avx512f");
        assert!(text.contains("simd is 2.5x further from its limits here than there"), "{text}");
        assert!(
            text.contains("ladder, each rung over the one below: naive → simd 60.00x here, 150.00x there"),
            "{text}"
        );
    }

    #[test]
    fn variants_with_the_same_differences_share_one_line_even_when_not_adjacent() {
        let here = run(100.0, &[]);
        let side = Side { time_s: 1.0, bound: Bound::Compute, fraction: Some(0.5), efficiency: 0.5 };
        let row = |variant: &str, reason: &str| VariantComparison {
            lab: "matmul".into(),
            size: if variant == "other" { "128".into() } else { "64".into() },
            variant: variant.into(),
            role: "reference".into(),
            here: side.clone(),
            there: side.clone(),
            relative: 0.5,
            verdict: "the code",
            suggests: vec![reason.into()],
        };
        // Equal reasons apart, and one case's rows apart (another case between them).
        let rows = [row("a", "reason A"), row("b", "reason B"), row("other", "reason B"), row("c", "reason A")];
        let text = render(&rows, &here, &here, "there");
        assert_eq!(text.matches("what differs: reason A").count(), 1, "{text}");
        assert_eq!(text.matches("what differs: reason B").count(), 2, "one per case: {text}");
        assert!(text.contains("a is 2.0x, c is 2.0x further from their limits"), "{text}");
        assert_eq!(text.matches("matmul 64: here vs there").count(), 1, "{text}");
    }

    #[test]
    fn a_variant_below_the_balance_is_judged_against_the_bandwidth() {
        let limits = limits("avx512f", 100.0, 20.0, 1 << 20);
        // 12 MiB moved and 0.01 GFLOP done in 1 ms: 0.8 FLOP/byte, below a balance of 5.
        let memory_bound = run(100.0, &[("copy", "reference", 1e-3, 10.0)]);
        let rows = compare(
            &memory_bound,
            &memory_bound,
            &Machines { here: &limits, there: &limits, here_level: "x", there_level: "x" },
        );
        assert_eq!(rows[0].here.bound, Bound::Memory);
        let fraction = rows[0].here.fraction.unwrap();
        assert!((fraction - (12u64 << 20) as f64 / 1e-3 / 20e9).abs() < 1e-9, "{fraction}");
        assert_eq!(rows[0].verdict, "the machine");
    }
}
