//! Did a variant get faster between two runs on one machine? A verdict from the per-round samples
//! of both runs, not from two medians: the samples are resampled (a bootstrap) to give an interval
//! for the ratio of the two runs' median times, and the verdict asks where that interval lies
//! against a noise band.
//!
//! The rounds of one run are not independent draws: what differs between two allocations of the
//! same input (where its pages fall in the caches) is fixed for a whole run, and moved
//! `loop-order` at n = 256 by 1.3x between two runs of one binary. So each run is timed in epochs,
//! each on a fresh copy of the input (`measure::measure`), and the bootstrap resamples epochs
//! first, then rounds within each: two runs differ significantly only where they differ by more
//! than their epochs differ among themselves.
//!
//! Between two runs the machine itself may change speed (another process, a clock, the page
//! placement of a new process). A variant that did not change and ran in the same rounds (the
//! lab's baseline) measures that: dividing each round's time by the anchor's time of the same round
//! cancels it, and the report shows both the raw and the corrected change.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// Changes smaller than this (5%) are not told apart from what differs between two processes of
/// the same binary on one machine (page placement, a clock that settles differently): two runs of
/// unchanged code on the 2-core VMs this was built on moved by up to 3-4% after the correction.
/// `--noise-band` sets another.
pub const DEFAULT_NOISE_BAND: f64 = 0.05;
/// Bootstrap resamples: the interval's ends move by well under 1% between seeds at this count.
const RESAMPLES: usize = 2000;
/// The interval's coverage: 95%, the 2.5th to the 97.5th percentile of the resampled ratios.
const TAIL: f64 = 0.025;

/// What happened to a variant between a saved run and this one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Its time went down by more than the noise band, raw and corrected alike.
    Faster,
    /// Its time went up by more than the noise band, raw and corrected alike.
    Slower,
    /// The interval lies inside the noise band.
    Unchanged,
    /// An interval straddles an edge of the band, or raw and corrected disagree: more rounds
    /// (`--seconds`) may decide it.
    Inconclusive,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::Unchanged => "unchanged",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// One variant's samples in one run: its seconds per round, the epochs they fall in (equal
/// consecutive parts), and, where the run had one, the anchor's seconds-like measure of the same
/// rounds (the reciprocal of the FMA probe: how slow the machine ran).
#[derive(Clone, Copy, Debug)]
pub struct Samples<'a> {
    pub variant: &'a [f64],
    pub epochs: usize,
    pub anchor: Option<&'a [f64]>,
}

/// The change from `before` to `now` (a ratio of times: below 1 is faster).
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    /// Median time now over median time before.
    pub raw_ratio: f64,
    /// Its 95% bootstrap interval.
    pub raw_interval: (f64, f64),
    /// The same after dividing each round by its anchor (None without an anchor in both runs).
    pub corrected_ratio: Option<f64>,
    pub corrected_interval: Option<(f64, f64)>,
    /// The asked band: unchanged means an interval inside it.
    pub noise_band: f64,
    /// The band faster and slower must clear: the asked one, or wider where one run's own epochs
    /// differed by more (see [`change`]).
    pub significance_band: f64,
    pub verdict: Verdict,
}

impl Change {
    /// `1.12x faster (significant)`, for a table.
    pub fn describe(&self) -> String {
        let ratio = self.corrected_ratio.unwrap_or(self.raw_ratio);
        let size = if ratio <= 1.0 { format!("{:.2}x faster", 1.0 / ratio) } else { format!("{:.2}x slower", ratio) };
        match self.verdict {
            Verdict::Faster | Verdict::Slower => format!("{size} (significant)"),
            Verdict::Unchanged => format!("unchanged ({size}, within ±{:.0}%)", self.noise_band * 100.0),
            Verdict::Inconclusive if self.significance_band > self.noise_band => format!(
                "inconclusive ({size}; one run's own epochs differed by {:.0}%: rerun when the machine is quieter)",
                self.significance_band * 100.0
            ),
            Verdict::Inconclusive => format!("inconclusive ({size}; more rounds may tell)"),
        }
    }
}

/// The change of one variant between two runs, with `noise_band` (a fraction) as the smallest
/// change that counts, widened to the spread between the epochs of either run (max/min − 1 of
/// their medians): epochs of one run differ only by allocation and the machine's state, and a
/// change no larger than that cannot be told from them. Where the anchor itself moved (the
/// machine ran faster or slower as a whole), the corrected change decides; otherwise a change is
/// significant only when the raw and the corrected intervals both say so, so that the correction's
/// own noise cannot create one.
/// None when either run has no samples.
pub fn change(before: Samples, now: Samples, noise_band: f64, seed: u64) -> Option<Change> {
    if before.variant.is_empty() || now.variant.is_empty() {
        return None;
    }
    let bands = (noise_band, noise_band.max(epoch_spread(before)).max(epoch_spread(now)));
    let raw_ratio = median(now.variant) / median(before.variant);
    let raw_interval = bootstrap_interval((before.variant, before.epochs), (now.variant, now.epochs), seed);
    let corrected = normalised(before).zip(normalised(now));
    let corrected_ratio = corrected.as_ref().map(|(b, n)| median(n) / median(b));
    let corrected_interval =
        corrected.as_ref().map(|(b, n)| bootstrap_interval((b, before.epochs), (n, now.epochs), seed ^ 1));
    let raw = judge(raw_interval, bands);
    let verdict = match (corrected_interval.map(|i| judge(i, bands)), anchor_moved(before, now, bands, seed)) {
        (None, _) => raw,
        // The machine itself ran at another speed: only the corrected change speaks of the code.
        (Some(corrected), true) => corrected,
        (Some(corrected), false) => combine(raw, corrected),
    };
    let significance_band = bands.1;
    Some(Change {
        raw_ratio,
        raw_interval,
        corrected_ratio,
        corrected_interval,
        noise_band,
        significance_band,
        verdict,
    })
}

/// Whether the anchor itself (the machine's speed) changed significantly between the runs.
fn anchor_moved(before: Samples, now: Samples, bands: (f64, f64), seed: u64) -> bool {
    let (Some(b), Some(n)) = (before.anchor, now.anchor) else { return false };
    let interval = bootstrap_interval((b, before.epochs), (n, now.epochs), seed ^ 2);
    matches!(judge(interval, (bands.0, bands.0)), Verdict::Faster | Verdict::Slower)
}

/// Faster or slower when both agree; unchanged when either finds the change inside the band and
/// the other does not contradict it with a significant one; else inconclusive.
fn combine(raw: Verdict, corrected: Verdict) -> Verdict {
    use Verdict::*;
    match (raw, corrected) {
        (a, b) if a == b => a,
        (Unchanged, Inconclusive) | (Inconclusive, Unchanged) => Unchanged,
        _ => Inconclusive,
    }
}

/// Each round's time over the anchor's time in the same round, where the anchor ran in every round.
fn normalised(samples: Samples) -> Option<Vec<f64>> {
    let anchor = samples.anchor?;
    (anchor.len() == samples.variant.len() && !anchor.is_empty())
        .then(|| samples.variant.iter().zip(anchor).map(|(v, a)| v / a).collect())
}

/// Slower or faster beyond the significance band; unchanged inside the asked band.
fn judge((low, high): (f64, f64), (asked, significance): (f64, f64)) -> Verdict {
    if low > 1.0 + significance {
        Verdict::Slower
    } else if high < 1.0 - significance {
        Verdict::Faster
    } else if low >= 1.0 - asked && high <= 1.0 + asked {
        Verdict::Unchanged
    } else {
        Verdict::Inconclusive
    }
}

/// The 95% percentile interval of median(now*) / median(before*), where each resample draws a
/// run's epochs with replacement and then the rounds within each drawn epoch.
fn bootstrap_interval(before: (&[f64], usize), now: (&[f64], usize), seed: u64) -> (f64, f64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (before, now) = (epochs(before.0, before.1), epochs(now.0, now.1));
    let mut resample = |parts: &[&[f64]], scratch: &mut Vec<f64>| {
        scratch.clear();
        for _ in 0..parts.len() {
            let part = parts[rng.random_range(0..parts.len())];
            scratch.extend((0..part.len()).map(|_| part[rng.random_range(0..part.len())]));
        }
        median(scratch)
    };
    let (mut scratch, mut ratios) = (Vec::new(), Vec::with_capacity(RESAMPLES));
    for _ in 0..RESAMPLES {
        let b = resample(&before, &mut scratch);
        let n = resample(&now, &mut scratch);
        ratios.push(n / b);
    }
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((ratios.len() - 1) as f64 * q).round() as usize];
    (at(TAIL), at(1.0 - TAIL))
}

/// max/min − 1 of the epochs' medians (0 for one epoch).
fn epoch_spread(samples: Samples) -> f64 {
    let medians: Vec<f64> = epochs(samples.variant, samples.epochs).iter().map(|e| median(e)).collect();
    let (low, high) = medians.iter().fold((f64::INFINITY, 0.0f64), |(l, h), &m| (l.min(m), h.max(m)));
    if medians.len() < 2 { 0.0 } else { high / low - 1.0 }
}

/// `values` cut into `count` consecutive parts of (nearly) equal length, none empty.
fn epochs(values: &[f64], count: usize) -> Vec<&[f64]> {
    let count = count.clamp(1, values.len());
    (0..count).map(|e| &values[values.len() * e / count..values.len() * (e + 1) / count]).collect()
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 { sorted[middle] } else { (sorted[middle - 1] + sorted[middle]) / 2.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` samples around `centre`, spread ±`jitter` (deterministic).
    fn around(centre: f64, jitter: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n).map(|_| centre * (1.0 + jitter * (rng.random::<f64>() * 2.0 - 1.0))).collect()
    }

    #[test]
    fn a_clear_slowdown_is_slower_and_a_clear_speedup_faster() {
        let before = around(1.0, 0.03, 30, 1);
        let slow = around(1.3, 0.03, 30, 2);
        fn s(v: &[f64]) -> Samples<'_> {
            Samples { variant: v, epochs: 1, anchor: None }
        }
        let up = change(s(&before), s(&slow), DEFAULT_NOISE_BAND, 0).unwrap();
        assert_eq!(up.verdict, Verdict::Slower, "{up:?}");
        assert!(up.describe().starts_with("1.30x slower (significant)") || up.describe().contains("slower"));
        let down = change(s(&slow), s(&before), DEFAULT_NOISE_BAND, 0).unwrap();
        assert_eq!(down.verdict, Verdict::Faster, "{down:?}");
    }

    #[test]
    fn the_same_distribution_is_unchanged_and_too_few_noisy_rounds_inconclusive() {
        fn s(v: &[f64]) -> Samples<'_> {
            Samples { variant: v, epochs: 1, anchor: None }
        }
        let (a, b) = (around(1.0, 0.02, 40, 3), around(1.0, 0.02, 40, 4));
        assert_eq!(change(s(&a), s(&b), DEFAULT_NOISE_BAND, 0).unwrap().verdict, Verdict::Unchanged);
        let (a, b) = (around(1.0, 0.5, 4, 5), around(1.0, 0.5, 4, 6));
        assert_eq!(change(s(&a), s(&b), DEFAULT_NOISE_BAND, 0).unwrap().verdict, Verdict::Inconclusive);
    }

    #[test]
    fn a_machine_that_slowed_down_as_a_whole_is_corrected_through_the_anchor() {
        // Everything in the second run is 40% slower (a clock, a neighbour): the variant did not
        // change, and the anchor, in the same rounds, says so.
        let (variant, anchor) = (around(1.0, 0.02, 30, 7), around(2.0, 0.02, 30, 8));
        let slowed = |v: &[f64]| v.iter().map(|x| x * 1.4).collect::<Vec<_>>();
        let (variant_now, anchor_now) = (slowed(&variant), slowed(&anchor));
        let before = Samples { variant: &variant, epochs: 1, anchor: Some(&anchor) };
        let now = Samples { variant: &variant_now, epochs: 1, anchor: Some(&anchor_now) };
        let c = change(before, now, DEFAULT_NOISE_BAND, 0).unwrap();
        assert!((c.raw_ratio - 1.4).abs() < 0.05, "{c:?}");
        assert!((c.corrected_ratio.unwrap() - 1.0).abs() < 1e-9, "{c:?}");
        assert_eq!(c.verdict, Verdict::Unchanged, "{c:?}");
        // Without the anchor, the same runs read slower.
        let raw = change(Samples { anchor: None, ..before }, Samples { anchor: None, ..now }, 0.05, 0).unwrap();
        assert_eq!(raw.verdict, Verdict::Slower);
    }

    #[test]
    fn epochs_that_disagree_make_a_shift_of_one_run_inconclusive_not_slower() {
        // Each run: four epochs, one of them (a bad allocation) 40% slower. The second run drew
        // two bad ones: pooled rounds would call it slower; its epochs say that is placement.
        let epoch = |centre: f64, seed| around(centre, 0.01, 8, seed);
        let before: Vec<f64> = [1.0, 1.0, 1.4, 1.0].iter().enumerate().flat_map(|(i, &c)| epoch(c, i as u64)).collect();
        let now: Vec<f64> =
            [1.4, 1.0, 1.4, 1.0].iter().enumerate().flat_map(|(i, &c)| epoch(c, 10 + i as u64)).collect();
        fn s(v: &[f64], epochs: usize) -> Samples<'_> {
            Samples { variant: v, epochs, anchor: None }
        }
        let pooled = change(s(&before, 1), s(&now, 1), DEFAULT_NOISE_BAND, 0).unwrap();
        assert_ne!(pooled.verdict, Verdict::Unchanged, "{pooled:?}");
        let by_epoch = change(s(&before, 4), s(&now, 4), DEFAULT_NOISE_BAND, 0).unwrap();
        assert_eq!(by_epoch.verdict, Verdict::Inconclusive, "{by_epoch:?}");
        assert_eq!(epochs(&before, 4).iter().map(|e| e.len()).collect::<Vec<_>>(), [8, 8, 8, 8]);
        assert_eq!(epochs(&[1.0, 2.0], 5).len(), 2);
    }

    #[test]
    fn no_samples_is_no_change() {
        let empty = Samples { variant: &[], epochs: 1, anchor: None };
        assert!(change(empty, Samples { variant: &[1.0], epochs: 1, anchor: None }, 0.05, 0).is_none());
    }
}
