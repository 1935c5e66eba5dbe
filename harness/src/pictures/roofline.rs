//! The roofline: each variant as a point, its arithmetic intensity (FLOP per byte that must move
//! from memory) against the GFLOP/s it reached, under the machine's measured roofs: the FMA peak
//! (one core, and all cores) and the memory bandwidth (one thread, and all threads) times the
//! intensity. The roof that is lower at a variant's intensity bounds it.
//!
//! The bytes are each lab's footprint model (`Lab::footprint`: its inputs and outputs, each moved
//! once): the least any variant must move, so the intensity is the algorithm's, the same for every
//! rung at one size. A rung far below its roof at a high intensity is not short of bandwidth; it
//! moves far more than that least amount (no cache reuse), or does not use the FMA units.

use serde::Serialize;

use super::charts::{Axis, Guide, LineChart, Series, Unit};
use crate::limits::Limits;
use crate::saved::SavedRecord;

/// Which roof is lower at a variant's intensity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Roof {
    /// The FMA peak of the cores it uses.
    Compute,
    /// The memory bandwidth of its threads, times its intensity.
    Memory,
}

/// One variant on the roofline.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    pub lab: String,
    pub size: String,
    pub variant: String,
    pub role: String,
    /// FLOP per byte of the lab's footprint model.
    pub intensity: f64,
    pub gflops: f64,
    /// The cores it can use (the roofs it is under).
    pub cores: usize,
    pub roof: Roof,
    /// The bounding roof's GFLOP/s at this intensity.
    pub roof_gflops: f64,
    /// `gflops / roof_gflops`.
    pub fraction_of_roof: f64,
    /// Where the memory roof understates: the data fits the last-level cache, so calls after the
    /// first may read it from there, faster than memory.
    pub note: Option<String>,
}

impl Point {
    /// "compute-bound: 78% of the 2-core peak (232 GFLOP/s)".
    pub fn describe(&self) -> String {
        let whose = if self.cores == 1 { "one core's".to_string() } else { format!("{} cores'", self.cores) };
        let threads = if self.cores == 1 { "one thread's".to_string() } else { format!("{} threads'", self.cores) };
        let roof = match self.roof {
            Roof::Compute => format!("compute-bound: under {whose} FMA peak"),
            Roof::Memory => format!("memory-bound: under {threads} bandwidth × {:.1} FLOP/B", self.intensity),
        };
        let mut line =
            format!("{roof} ({:.0} GFLOP/s), at {:.0}% of it", self.roof_gflops, self.fraction_of_roof * 100.0);
        if let Some(note) = &self.note {
            line = format!("{line}; {note}");
        }
        line
    }
}

/// The roofs of `cores` cores: (peak GFLOP/s, bandwidth GB/s).
fn roofs(limits: &Limits, core_peak: f64, cores: usize) -> (f64, f64) {
    let bandwidth = if cores > 1 { limits.bandwidth.all_threads_gbs } else { limits.bandwidth.one_thread_gbs };
    (core_peak * cores as f64, bandwidth)
}

/// Every timed variant of `record` that counts FLOP, on `limits`' roofs. The peak is the larger of
/// the run's best probe and the machine's kept one (the roof is what the machine can do).
pub fn place(record: &SavedRecord, limits: &Limits) -> Vec<Point> {
    let Some(bytes) = record.footprint_bytes.filter(|&b| b > 0) else { return Vec::new() };
    let core_peak = record.core_peak_gflops.max(limits.core_peak_gflops);
    let last_level = perflab_labs::caches::last_level(&limits.caches);
    let mut points = Vec::new();
    for variant in &record.variants {
        let (Some(timing), Some(gflops)) = (&variant.timing, variant.speed.as_ref().and_then(|s| s.gflops)) else {
            continue;
        };
        let flop = gflops * 1e9 * timing.median_s;
        let intensity = flop / bytes as f64;
        let (peak, bandwidth) = roofs(limits, core_peak, variant.cores.max(1));
        let memory_roof = bandwidth * intensity;
        let (roof, roof_gflops) = if memory_roof < peak { (Roof::Memory, memory_roof) } else { (Roof::Compute, peak) };
        points.push(Point {
            lab: record.lab.clone(),
            size: record.size.clone(),
            variant: variant.name.clone(),
            role: variant.role.clone(),
            intensity,
            gflops,
            cores: variant.cores.max(1),
            roof,
            roof_gflops,
            fraction_of_roof: gflops / roof_gflops,
            note: last_level.filter(|c| roof == Roof::Memory && bytes <= c.size_bytes).map(|c| {
                format!(
                    "its data ({}) fits L{} ({}): calls after the first may read it from there, above this roof",
                    perflab_labs::caches::bytes(bytes),
                    c.level,
                    perflab_labs::caches::bytes(c.size_bytes)
                )
            }),
        });
    }
    points
}

/// The roofline chart of `points` (a series per variant), under the roofs of one core and of all
/// `limits`' cores.
pub fn chart(title: &str, points: &[Point], limits: &Limits, core_peak: f64) -> LineChart {
    let low = points.iter().map(|p| p.intensity).fold(f64::INFINITY, f64::min).min(0.1);
    let high = points.iter().map(|p| p.intensity).fold(0.0, f64::max).max(limits.balance(true) * 4.0) * 2.0;
    let cores = limits.fingerprint.cores.max(1);
    let mut guides = Vec::new();
    for c in if cores > 1 { vec![1, cores] } else { vec![1] } {
        let (peak, bandwidth) = roofs(limits, core_peak, c);
        let ridge = peak / bandwidth;
        let who = if c == 1 { "1 core".to_string() } else { format!("{c} cores") };
        guides.push(Guide {
            label: format!("{who}: {bandwidth:.0} GB/s, {peak:.0} GFLOP/s"),
            points: vec![(low, bandwidth * low), (ridge, peak), (high, peak)],
        });
    }
    // A series per variant, told apart by marker and legend (at one size every rung has the same
    // intensity: labels beside the points would overlap).
    let mut series: Vec<Series> = Vec::new();
    for p in points {
        match series.iter_mut().find(|s| s.name == p.variant) {
            Some(s) => s.points.push((p.intensity, p.gflops)),
            None => series.push(Series {
                name: p.variant.clone(),
                points: vec![(p.intensity, p.gflops)],
                joined: false,
                point_labels: Vec::new(),
            }),
        }
    }
    LineChart {
        title: title.to_string(),
        x: Axis {
            label: "arithmetic intensity (FLOP per byte of inputs and outputs)".into(),
            log: true,
            unit: Unit::Plain,
        },
        y: Axis { label: "GFLOP/s".into(), log: true, unit: Unit::Plain },
        series,
        guides,
        marks: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{Bandwidth, Fingerprint};

    fn limits() -> Limits {
        let fingerprint = Fingerprint {
            id: "test".into(),
            cpu: "test".into(),
            vendor: "test".into(),
            family: None,
            model: None,
            simd_level: "avx2".into(),
            cores: 2,
        };
        let bandwidth =
            Bandwidth { one_thread_gbs: 10.0, all_threads_gbs: 15.0, threads: 2, array_bytes: 0, passes: 1 };
        Limits {
            schema: 1,
            fingerprint,
            core_peak_gflops: 100.0,
            peak_raised: None,
            bandwidth,
            caches: Vec::new(),
            caches_unknown: None,
            measured_at: String::new(),
        }
    }

    /// A record of one variant doing `flop` in one second over 1 MB, on `cores` cores.
    fn record(flop: f64, cores: usize) -> SavedRecord {
        let value = serde_json::json!({
            "lab": "matmul", "size": "x", "threads": cores, "cores": cores, "core_peak_gflops": 100.0,
            "footprint_bytes": 1_000_000, "probe_gflops": [],
            "variants": [{ "name": "v", "role": "reference", "reference": null, "cores": cores,
                "timing": { "median_s": 1.0, "spread": 0.0, "samples_s": [], "epochs": 1 },
                "speed": { "gflops": flop / 1e9, "fraction_of_peak": null } }],
        });
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_low_intensity_is_under_the_bandwidth_roof_and_a_high_one_under_the_peak() {
        // 2 FLOP/byte at 10 GB/s: the memory roof is 20 GFLOP/s, below one core's 100.
        let low = &place(&record(2e6, 1), &limits())[0];
        assert_eq!(low.roof, Roof::Memory);
        assert!((low.intensity - 2.0).abs() < 1e-9 && (low.roof_gflops - 20.0).abs() < 1e-9, "{low:?}");
        // 1000 FLOP/byte on 2 cores: the roof is 2 × 100 GFLOP/s.
        let high = &place(&record(1e9, 2), &limits())[0];
        assert_eq!(high.roof, Roof::Compute);
        assert!((high.roof_gflops - 200.0).abs() < 1e-9 && (high.fraction_of_roof - 0.005).abs() < 1e-9, "{high:?}");
        assert!(
            high.describe().starts_with("compute-bound: under 2 cores' FMA peak (200 GFLOP/s)"),
            "{}",
            high.describe()
        );
    }
}
