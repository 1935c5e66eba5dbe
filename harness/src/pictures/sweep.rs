//! A size sweep read back: each variant's speed over sizes whose working set crosses the caches,
//! the sizes where each cache level fills, and the cliffs named in words.

use perflab_labs::Lab;
use perflab_labs::caches::{self, Cache};
use serde::Serialize;

use super::charts::{Axis, LineChart, Mark, Series, Unit};
use crate::report::FootprintPart;
use crate::saved::SavedRun;

/// A fall to below this share of the speed at the previous size is a cliff (single runs of one
/// binary differ by up to 20% on these machines: see `compare::MACHINE_BAND`).
pub const CLIFF: f64 = 0.75;

/// The swept counts of an automatic sweep: where the lab's footprint is half and twice each data
/// cache level, four times the last level (memory), and the sweep's smallest.
pub fn auto_counts(lab: &dyn Lab, caches: &[Cache]) -> Vec<usize> {
    let sweep = lab.sweep();
    let bytes = |count: usize| lab.footprint(&sweep.at(count)).ok();
    let levels = levels(caches);
    let mut targets: Vec<u64> = levels.iter().flat_map(|c| [c.size_bytes / 2, c.size_bytes * 2]).collect();
    match levels.last() {
        Some(last) => targets.push(last.size_bytes * 4),
        None => targets.extend([16 << 10, 256 << 10, 4 << 20, 64 << 20]),
    }
    let mut counts = vec![sweep.from];
    for target in targets {
        // The smallest count whose footprint reaches the target (footprints grow with the count).
        let (mut low, mut high) = (sweep.from, sweep.to);
        if bytes(high).is_none_or(|b| b < target) {
            continue;
        }
        while low < high {
            let middle = low + (high - low) / 2;
            if bytes(middle).is_some_and(|b| b >= target) { high = middle } else { low = middle + 1 }
        }
        counts.push(low);
    }
    counts.sort_unstable();
    counts.dedup();
    counts
}

/// The data (or unified) cache of each level, first level first.
fn levels(list: &[Cache]) -> Vec<Cache> {
    (1..=4).filter_map(|level| caches::data_cache(list, level)).cloned().collect()
}

/// One variant's speed at one size.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub size: String,
    pub bytes: u64,
    /// The bytes of each input and output (the lab's footprint model).
    pub parts: Vec<FootprintPart>,
    pub median_s: f64,
    /// Fraction of the peak where the lab counts FLOP, else work per second.
    pub speed: f64,
    pub gflops: Option<f64>,
    /// Work per second in the lab's unit (`unit`), and its inverse: the time of one unit of work.
    pub throughput: f64,
    pub unit: String,
    pub seconds_per_unit: f64,
}

/// One variant across the sweep.
#[derive(Clone, Debug, Serialize)]
pub struct Curve {
    pub variant: String,
    pub role: String,
    pub steps: Vec<Step>,
}

/// Where a variant's speed falls by more than [`CLIFF`] allows, and the caches that filled there.
#[derive(Clone, Debug, Serialize)]
pub struct Cliff {
    pub variant: String,
    pub from: Step,
    pub to: Step,
    /// The levels whose size lies between the two working sets: `L2 (1 MiB)`.
    pub filled: Vec<String>,
    pub sentence: String,
}

/// The sweep of `lab` in `run`: one curve per variant that was timed, sizes in order.
pub fn curves(run: &SavedRun, lab: &str) -> (Vec<Curve>, bool) {
    let records: Vec<_> = run.records.iter().filter(|r| r.lab == lab).collect();
    let counts_flop =
        records.iter().flat_map(|r| &r.variants).any(|v| v.speed.as_ref().is_some_and(|s| s.gflops.is_some()));
    let several = records.iter().any(|r| r.threads != records[0].threads);
    let mut curves: Vec<Curve> = Vec::new();
    for record in records {
        for v in &record.variants {
            let name = if several { format!("{} ({} thr)", v.name, record.threads) } else { v.name.clone() };
            let (Some(timing), Some(speed)) = (&v.timing, &v.speed) else { continue };
            let value = if counts_flop { speed.fraction_of_peak.unwrap_or(0.0) } else { speed.throughput_value() };
            let step = Step {
                size: record.size.clone(),
                bytes: record.footprint_bytes.unwrap_or(0),
                parts: record.footprint_parts.clone(),
                median_s: timing.median_s,
                speed: value,
                gflops: speed.gflops,
                throughput: speed.throughput_value(),
                unit: speed.throughput.as_ref().map_or(String::new(), |t| t.unit.clone()),
                seconds_per_unit: 1.0 / speed.throughput_value(),
            };
            match curves.iter_mut().find(|c| c.variant == name) {
                Some(curve) => curve.steps.push(step),
                None => curves.push(Curve { variant: name, role: v.role.clone(), steps: vec![step] }),
            }
        }
    }
    for curve in &mut curves {
        curve.steps.sort_by_key(|s| s.bytes);
    }
    (curves, counts_flop)
}

/// Every cliff of every curve: consecutive falls merged, so "from 86% to 31% between n = 256 and
/// n = 1024" is one cliff.
pub fn cliffs(curves: &[Curve], caches: &[Cache], axis: &str, lab: &dyn Lab, counts_flop: bool) -> Vec<Cliff> {
    let mut found = Vec::new();
    for curve in curves {
        let steps = &curve.steps;
        let mut i = 0;
        while i + 1 < steps.len() {
            if steps[i + 1].speed >= CLIFF * steps[i].speed || steps[i].speed <= 0.0 {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            while j + 1 < steps.len() && steps[j + 1].speed < CLIFF * steps[j].speed {
                j += 1;
            }
            found.push(cliff(curve, &steps[i], &steps[j], caches, axis, lab, counts_flop));
            i = j;
        }
    }
    found
}

fn cliff(curve: &Curve, from: &Step, to: &Step, caches: &[Cache], axis: &str, lab: &dyn Lab, flop: bool) -> Cliff {
    let speed = |s: &Step| describe_speed(s, flop);
    let at = |s: &Step| swept_value(lab, &s.size, axis);
    let mut filled = Vec::new();
    let mut reasons = Vec::new();
    for level in levels(caches) {
        let crossed = |before: u64, after: u64| before <= level.size_bytes && level.size_bytes < after;
        let name = format!("L{} ({})", level.level, caches::bytes(level.size_bytes));
        // An input or output that stops fitting says more than the whole working set does.
        let parts: Vec<String> = to
            .parts
            .iter()
            .filter(|p| crossed(from.parts.iter().find(|q| q.name == p.name).map_or(0, |q| q.bytes), p.bytes))
            .map(|p| format!("{} ({})", p.name, caches::bytes(p.bytes)))
            .collect();
        if !parts.is_empty() {
            let verb = if parts.len() == 1 { "fits" } else { "fit" };
            reasons.push(format!("{} no longer {verb} {name} at {axis} = {}", listed(&parts), at(to)));
        } else if crossed(from.bytes, to.bytes) {
            reasons.push(format!(
                "the working set ({}) no longer fits {name} at {axis} = {}",
                caches::bytes(to.bytes),
                at(to)
            ));
        } else {
            continue;
        }
        filled.push(name);
    }
    let reason = match reasons.is_empty() {
        true => "no cache level fills between them (a block size or the work's shape changed, or noise: run it again)"
            .to_string(),
        false => reasons.join("; "),
    };
    let sentence = format!(
        "{} falls from {} to {} between {axis} = {} and {axis} = {}: {reason}",
        curve.variant,
        speed(from),
        speed(to),
        at(from),
        at(to)
    );
    Cliff { variant: curve.variant.clone(), from: from.clone(), to: to.clone(), filled, sentence }
}

/// Each curve in a sentence: its best size, and where it ends if lower, with the caches it left
/// on the way ("simd: at most 67% of peak, at n = 1183 (16 MiB); 51% at n = 3345 (128 MiB), past
/// L3 (32 MiB)").
pub fn summaries(curves: &[Curve], caches: &[Cache], axis: &str, lab: &dyn Lab, counts_flop: bool) -> Vec<String> {
    let speed = |s: &Step| describe_speed(s, counts_flop);
    let at = |s: &Step| format!("{axis} = {} ({})", swept_value(lab, &s.size, axis), caches::bytes(s.bytes));
    curves
        .iter()
        .filter_map(|c| {
            let best = c.steps.iter().max_by(|a, b| a.speed.total_cmp(&b.speed))?;
            let last = c.steps.last()?;
            let mut line = format!("{}: at most {}, at {}", c.variant, speed(best), at(best));
            if last.bytes > best.bytes && last.speed < 0.9 * best.speed {
                let left: Vec<String> = levels(caches)
                    .iter()
                    .filter(|l| best.bytes <= l.size_bytes && l.size_bytes < last.bytes)
                    .map(|l| format!("L{} ({})", l.level, caches::bytes(l.size_bytes)))
                    .collect();
                line += &format!("; {} at {}", speed(last), at(last));
                if !left.is_empty() {
                    line += &format!(", past {}", left.join(" and "));
                }
            }
            Some(line)
        })
        .collect()
}

/// `a`, `a and b`, `a, b and c`.
fn listed(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// "67% of peak", or work per second where the lab counts no FLOP.
fn describe_speed(step: &Step, counts_flop: bool) -> String {
    match counts_flop {
        true => format!("{} of peak", percent(step.speed)),
        false => format!("{} per second", super::charts::format_value(step.speed, super::charts::Unit::Plain)),
    }
}

/// A fraction as a percentage, with one decimal below 10%.
fn percent(fraction: f64) -> String {
    match fraction * 100.0 {
        p if p < 10.0 => format!("{p:.1}%"),
        p => format!("{p:.0}%"),
    }
}

/// The swept count in a size label: `n` of `n=4096,d=32` or of a matmul's `1024x1024x1024`.
pub fn swept_value(lab: &dyn Lab, label: &str, axis: &str) -> String {
    let keyed = label.split(',').find_map(|part| part.strip_prefix(&format!("{axis}=")));
    match keyed {
        Some(value) => value.to_string(),
        None if lab.sweep().size == "{}" => label.split('x').next_back().unwrap_or(label).to_string(),
        None => label.to_string(),
    }
}

/// The compact terminal table: a row per size (the swept count and the working set), a column per
/// variant, and a line where each cache level fills.
pub fn table(curves: &[Curve], caches: &[Cache], lab: &dyn Lab, counts_flop: bool) -> String {
    let axis = lab.sweep().axis;
    let mut sizes: Vec<(String, u64)> =
        curves.iter().flat_map(|c| c.steps.iter().map(|s| (s.size.clone(), s.bytes))).collect();
    sizes.sort_by_key(|s| s.1);
    sizes.dedup();
    let mut out = format!("{:>10} {:>10}", axis, "working set");
    for c in curves {
        out += &format!(" {:>14}", c.variant);
    }
    out += "\n";
    let levels = levels(caches);
    let mut shown = 0;
    for (size, bytes) in &sizes {
        for level in levels.iter().skip(shown).take_while(|l| l.size_bytes < *bytes) {
            out += &format!(
                "{:-^1$}\n",
                format!(" L{} {} fills ", level.level, caches::bytes(level.size_bytes)),
                22 + 15 * curves.len()
            );
            shown += 1;
        }
        out += &format!("{:>10} {:>10}", swept_value(lab, size, axis), caches::bytes(*bytes));
        for c in curves {
            let cell = match c.steps.iter().find(|s| &s.size == size) {
                Some(s) if counts_flop => format!("{:.1} ({})", s.gflops.unwrap_or(0.0), percent(s.speed)),
                Some(s) => crate::report::format_seconds(s.median_s),
                None => "-".into(),
            };
            out += &format!(" {cell:>14}");
        }
        out += "\n";
    }
    let what =
        if counts_flop { "GFLOP/s (fraction of the peak of the cores each variant uses)" } else { "time per call" };
    out + &format!("cells: {what}; the working set is the lab's inputs and outputs\n")
}

/// The sweep as a chart: speed against working set, cache levels marked.
pub fn chart(title: &str, curves: &[Curve], caches: &[Cache], counts_flop: bool) -> LineChart {
    let series = curves
        .iter()
        .map(|c| Series {
            name: c.variant.clone(),
            points: c.steps.iter().map(|s| (s.bytes as f64, s.speed)).collect(),
            joined: true,
            point_labels: Vec::new(),
        })
        .collect();
    let marks = levels(caches)
        .iter()
        .map(|c| Mark { x: c.size_bytes as f64, label: format!("L{} {}", c.level, caches::bytes(c.size_bytes)) })
        .collect();
    let y = if counts_flop {
        Axis { label: "fraction of peak (%)".into(), log: false, unit: Unit::Percent }
    } else {
        Axis { label: "work per second".into(), log: true, unit: Unit::Plain }
    };
    LineChart {
        title: title.to_string(),
        x: Axis { label: "working set: inputs and outputs (bytes)".into(), log: true, unit: Unit::Bytes },
        y,
        series,
        guides: Vec::new(),
        marks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use perflab_labs::matmul::Matmul;

    fn cache(level: u32, size_bytes: u64) -> Cache {
        let kind = if level == 1 { "Data" } else { "Unified" }.to_string();
        Cache { level, kind, size_bytes, line_bytes: Some(64), ways: Some(8), shared_by: Some(1) }
    }

    fn zen4() -> Vec<Cache> {
        vec![cache(1, 32 << 10), cache(2, 1 << 20), cache(3, 32 << 20)]
    }

    fn step(n: usize, speed: f64) -> Step {
        let bytes = 12 * (n * n) as u64;
        let gflops = speed * 100.0;
        let (throughput, unit, seconds_per_unit) = (gflops, "GFLOP/s".to_string(), 1.0 / gflops);
        let part = |name: &str| FootprintPart { name: name.to_string(), bytes: bytes / 3 };
        Step {
            size: format!("{n}x{n}x{n}"),
            bytes,
            parts: vec![part("A"), part("B"), part("C")],
            median_s: 1.0,
            speed,
            gflops: Some(gflops),
            throughput,
            unit,
            seconds_per_unit,
        }
    }

    #[test]
    fn auto_sizes_straddle_every_cache_level_and_reach_memory() {
        let counts = auto_counts(&Matmul, &zen4());
        let bytes: Vec<u64> = counts.iter().map(|&n| Matmul.footprint(&n.to_string()).unwrap()).collect();
        assert_eq!(counts[0], Matmul.sweep().from);
        for level in zen4() {
            assert!(bytes.iter().any(|&b| b <= level.size_bytes / 2 + 64 * 1024 && b < level.size_bytes), "{counts:?}");
            assert!(bytes.iter().any(|&b| b >= 2 * level.size_bytes), "nothing past twice {level:?}: {counts:?}");
        }
        assert!(*bytes.last().unwrap() >= 4 * (32 << 20), "the last size streams from memory: {counts:?}");
        assert!(counts.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_fall_across_a_cache_level_is_one_cliff_that_names_it() {
        let curve = Curve {
            variant: "simd".into(),
            role: "reference".into(),
            steps: vec![step(128, 0.86), step(256, 0.80), step(512, 0.55), step(1024, 0.31), step(2048, 0.30)],
        };
        let steady =
            Curve { variant: "best".into(), role: "reference".into(), steps: vec![step(128, 0.8), step(1024, 0.7)] };
        let found = cliffs(&[curve, steady], &zen4(), "n", &Matmul, true);
        assert_eq!(found.len(), 1, "{found:?}");
        let cliff = &found[0];
        assert_eq!((cliff.from.size.as_str(), cliff.to.size.as_str()), ("256x256x256", "1024x1024x1024"));
        assert_eq!(cliff.filled, ["L2 (1 MiB)"]);
        assert!(
            cliff.sentence.starts_with("simd falls from 80% of peak to 31% of peak between n = 256 and n = 1024")
                && cliff.sentence.contains("A (4 MiB), B (4 MiB) and C (4 MiB) no longer fit L2 (1 MiB) at n = 1024")
                && !cliff.sentence.contains("working set"),
            "{}",
            cliff.sentence
        );
    }

    #[test]
    fn a_fall_where_no_cache_fills_says_so() {
        let curve =
            Curve { variant: "x".into(), role: "reference".into(), steps: vec![step(300, 0.9), step(400, 0.3)] };
        let found = cliffs(&[curve], &zen4(), "n", &Matmul, true);
        assert!(found[0].filled.is_empty() && found[0].sentence.contains("no cache level fills"), "{found:?}");
    }
}
