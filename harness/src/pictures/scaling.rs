//! Thread scaling: the same cases run once per thread count (each in a fresh process), read back
//! as one speedup per variant and count, with the parallel efficiency (speedup over threads).

use serde::Serialize;

use super::charts::{Axis, Guide, LineChart, Series, Unit};
use crate::saved::SavedRun;

/// One variant of one case across thread counts.
#[derive(Clone, Debug, Serialize)]
pub struct Scaling {
    pub lab: String,
    pub size: String,
    pub variant: String,
    /// (threads, median seconds per call), fewest threads first.
    pub times: Vec<(usize, f64)>,
}

impl Scaling {
    /// Speedup over the fewest threads, per count.
    pub fn speedups(&self) -> Vec<(usize, f64)> {
        let Some(&(_, first)) = self.times.first() else { return Vec::new() };
        self.times.iter().map(|&(t, s)| (t, first / s)).collect()
    }

    /// Speedup at the most threads over (their count over the fewest's): 1 is perfect.
    pub fn efficiency(&self) -> Option<f64> {
        let (&(t0, s0), &(t1, s1)) = (self.times.first()?, self.times.last()?);
        (t1 > t0).then(|| (s0 / s1) / (t1 as f64 / t0 as f64))
    }
}

/// Every variant timed at more than one thread count in `runs` (one run per count), in the order
/// of the first run. Serial variants are left out (their cores stay 1: they do not take threads).
pub fn scalings(runs: &[SavedRun]) -> Vec<Scaling> {
    let mut out: Vec<Scaling> = Vec::new();
    for run in runs {
        for record in &run.records {
            for v in &record.variants {
                let Some(timing) = &v.timing else { continue };
                let parallel = v.cores > 1 || record.threads == 1;
                let key = |s: &&mut Scaling| s.lab == record.lab && s.size == record.size && s.variant == v.name;
                match out.iter_mut().find(|s| key(s)) {
                    Some(s) if parallel => s.times.push((record.threads, timing.median_s)),
                    Some(_) => {}
                    None => out.push(Scaling {
                        lab: record.lab.clone(),
                        size: record.size.clone(),
                        variant: v.name.clone(),
                        times: vec![(record.threads, timing.median_s)],
                    }),
                }
            }
        }
    }
    for s in &mut out {
        s.times.sort_by_key(|t| t.0);
        s.times.dedup_by_key(|t| t.0);
    }
    out.retain(|s| s.times.len() > 1);
    out
}

/// The terminal table of one case: a row per variant, its speedup at each count and efficiency.
pub fn table(scalings: &[&Scaling]) -> String {
    let Some(first) = scalings.first() else { return String::new() };
    let counts: Vec<usize> = first.times.iter().map(|t| t.0).collect();
    let mut out =
        format!("thread scaling of {} {} (speedup over {} thread(s)):\n{:>16}", first.lab, first.size, counts[0], "");
    for t in &counts {
        out += &format!(" {:>8}", format!("{t} thr"));
    }
    out += &format!(" {:>11}\n", "efficiency");
    for s in scalings {
        out += &format!("{:>16}", s.variant);
        for t in &counts {
            let cell = s.speedups().iter().find(|x| x.0 == *t).map_or("-".into(), |x| format!("{:.2}x", x.1));
            out += &format!(" {cell:>8}");
        }
        out += &format!(" {:>11}\n", s.efficiency().map_or("-".into(), |e| format!("{:.0}%", e * 100.0)));
    }
    out + "efficiency: the speedup at the most threads over the ideal (their count over the fewest's)\n"
}

/// Speedup against threads, with the ideal line.
pub fn chart(title: &str, scalings: &[&Scaling]) -> LineChart {
    let most = scalings.iter().flat_map(|s| s.times.iter().map(|t| t.0)).max().unwrap_or(1);
    let fewest = scalings.iter().flat_map(|s| s.times.iter().map(|t| t.0)).min().unwrap_or(1);
    let series = scalings
        .iter()
        .map(|s| Series {
            name: s.variant.clone(),
            points: s.speedups().iter().map(|&(t, x)| (t as f64, x)).collect(),
            joined: true,
            point_labels: Vec::new(),
        })
        .collect();
    let ideal =
        Guide { label: "ideal".into(), points: vec![(fewest as f64, 1.0), (most as f64, most as f64 / fewest as f64)] };
    LineChart {
        title: title.to_string(),
        x: Axis { label: "threads".into(), log: false, unit: Unit::Count },
        y: Axis { label: format!("speedup over {fewest} thread(s)"), log: false, unit: Unit::Plain },
        series,
        guides: vec![ideal],
        marks: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run on `threads` threads of a serial and a parallel variant taking these seconds.
    fn run(threads: usize, serial_s: f64, parallel_s: f64) -> SavedRun {
        let variant = |name: &str, cores: usize, s: f64| {
            serde_json::json!({ "name": name, "role": "reference", "reference": null, "cores": cores,
                "timing": { "median_s": s, "spread": 0.0, "samples_s": [], "epochs": 1 },
                "speed": { "gflops": null, "fraction_of_peak": null } })
        };
        let value = serde_json::json!({
            "schema": crate::report::SCHEMA,
            "machine": { "cpu": "test", "simd_level": "avx2", "threads": threads, "core_peak_gflops": 1.0, "limits": null },
            "records": [{ "lab": "matmul", "size": "64", "threads": threads, "cores": threads, "core_peak_gflops": 1.0,
                "footprint_bytes": null, "probe_gflops": [],
                "variants": [variant("simd", 1, serial_s), variant("best", threads, parallel_s)] }],
        });
        SavedRun::from_value(value, "test").unwrap()
    }

    #[test]
    fn parallel_variants_get_speedup_and_efficiency_and_serial_ones_are_left_out() {
        let all = scalings(&[run(1, 1.0, 4.0), run(2, 1.0, 2.5), run(4, 1.1, 1.25)]);
        assert_eq!(all.len(), 1, "{all:?}");
        let best = &all[0];
        assert_eq!(best.variant, "best");
        assert_eq!(best.speedups(), [(1, 1.0), (2, 1.6), (4, 3.2)]);
        assert!((best.efficiency().unwrap() - 0.8).abs() < 1e-12);
        let table = table(&[best]);
        assert!(table.contains("1.60x") && table.contains("3.20x") && table.contains("80%"), "{table}");
    }
}
