//! Did a variant get faster between two runs on one machine? A verdict from the per-round samples
//! of both runs, not from two medians: the samples are resampled (a bootstrap) to give an interval
//! for the ratio of the two runs' times, and the verdict asks where that interval lies against a
//! noise band.
//!
//! Which time: the 20th percentile of each run's rounds ([`QUANTILE`]). Another process can only
//! add time to a round (a sample that the scheduler interrupts waits out the other's time slice),
//! so on a busy machine the rounds split into undisturbed ones and ones 2-3x slower, and a median
//! flips between the two as the share of interrupted rounds crosses one half: two runs of
//! unchanged code beside a CPU hog read 2.9x apart by their medians. A low quantile moves only
//! when nearly every round is disturbed, the reasoning of the FMA probe's best-of.
//!
//! The rounds of one run are not independent draws either: what differs between two allocations
//! of the same input (where its pages fall in the caches) is fixed for a whole run, and moved
//! `loop-order` at n = 256 by 1.3x between two runs of one binary. So each run is timed in epochs,
//! each on a fresh copy of the input (`measure::measure`), and the bootstrap resamples epochs
//! first, then rounds within each; and a run whose own epochs differ by more than the noise band
//! widens the band a change must clear.
//!
//! Between two runs the machine itself may change speed (a clock, a thermal limit). The FMA probe,
//! run once per round, measures that: the corrected ratio divides by the probe's own change (its
//! time per FMA, by the same quantile), and the report shows both the raw and the corrected change.

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
    /// Time now over time before, each the [`QUANTILE`] of its run's rounds.
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

/// The quantile of a run's round times that comparisons use (see the module's docs).
pub const QUANTILE: f64 = 0.2;

/// The change of one variant between two runs, with `noise_band` (a fraction) as the smallest
/// change that counts, widened to the spread between the epochs of either run (max/min − 1 of
/// their [`QUANTILE`]s): epochs of one run differ only by allocation and the machine's state, and
/// a change no larger than that cannot be told from them. Where the anchor itself moved (the
/// machine ran faster or slower as a whole), the corrected change decides; otherwise a change is
/// significant only when the raw and the corrected intervals both say so, so that the correction's
/// own noise cannot create one. None when either run has no samples.
pub fn change(before: Samples, now: Samples, noise_band: f64, seed: u64) -> Option<Change> {
    if before.variant.is_empty() || now.variant.is_empty() {
        return None;
    }
    let bands = (noise_band, noise_band.max(epoch_spread(before)).max(epoch_spread(now)));
    let raw_ratio = low(now.variant) / low(before.variant);
    let anchors = before.anchor.zip(now.anchor).filter(|(b, n)| {
        b.len() == before.variant.len() && n.len() == now.variant.len() && !b.is_empty() && !n.is_empty()
    });
    let anchor_ratio = anchors.map(|(b, n)| low(n) / low(b));
    let intervals = bootstrap(before, now, anchors, seed);
    let raw = judge(intervals.raw, bands);
    let anchor_moved = intervals
        .anchor
        .is_some_and(|i| matches!(judge(i, (noise_band, noise_band)), Verdict::Faster | Verdict::Slower));
    let verdict = match (intervals.corrected.map(|i| judge(i, bands)), anchor_moved) {
        (None, _) => raw,
        // The machine itself ran at another speed: only the corrected change speaks of the code.
        (Some(corrected), true) => corrected,
        (Some(corrected), false) => combine(raw, corrected),
    };
    Some(Change {
        raw_ratio,
        raw_interval: intervals.raw,
        corrected_ratio: anchor_ratio.map(|a| raw_ratio / a),
        corrected_interval: intervals.corrected,
        noise_band,
        significance_band: bands.1,
        verdict,
    })
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

/// The 95% intervals of the raw ratio, the corrected ratio and the anchor's own ratio.
struct Intervals {
    raw: (f64, f64),
    corrected: Option<(f64, f64)>,
    anchor: Option<(f64, f64)>,
}

/// Resamples both runs `RESAMPLES` times (each: a run's epochs drawn with replacement, then the
/// rounds within each drawn epoch; a round keeps its anchor) and takes the 2.5th and 97.5th
/// percentiles of each ratio.
fn bootstrap(before: Samples, now: Samples, anchors: Option<(&[f64], &[f64])>, seed: u64) -> Intervals {
    let mut rng = StdRng::seed_from_u64(seed);
    let (parts_before, parts_now) =
        (epoch_ranges(before.variant.len(), before.epochs), epoch_ranges(now.variant.len(), now.epochs));
    let (mut b, mut n) = (Vec::new(), Vec::new());
    let (mut raw, mut corrected, mut anchor) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RESAMPLES {
        resample(&parts_before, &mut rng, &mut b);
        resample(&parts_now, &mut rng, &mut n);
        let r = low_at(now.variant, &n) / low_at(before.variant, &b);
        raw.push(r);
        if let Some((ab, an)) = anchors {
            let a = low_at(an, &n) / low_at(ab, &b);
            anchor.push(a);
            corrected.push(r / a);
        }
    }
    let corrected_interval = anchors.map(|_| percentile_interval(&mut corrected));
    let anchor_interval = anchors.map(|_| percentile_interval(&mut anchor));
    Intervals { raw: percentile_interval(&mut raw), corrected: corrected_interval, anchor: anchor_interval }
}

/// Indices of one resample: `parts.len()` epochs drawn with replacement, then as many rounds as
/// each drawn epoch has, drawn with replacement within it.
fn resample(parts: &[std::ops::Range<usize>], rng: &mut StdRng, out: &mut Vec<usize>) {
    out.clear();
    for _ in 0..parts.len() {
        let part = &parts[rng.random_range(0..parts.len())];
        out.extend((0..part.len()).map(|_| rng.random_range(part.clone())));
    }
}

fn percentile_interval(values: &mut [f64]) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    (at(TAIL), at(1.0 - TAIL))
}

/// max/min − 1 of the epochs' [`QUANTILE`]s (0 for one epoch).
fn epoch_spread(samples: Samples) -> f64 {
    let ranges = epoch_ranges(samples.variant.len(), samples.epochs);
    let lows: Vec<f64> = ranges.into_iter().map(|r| low(&samples.variant[r])).collect();
    let (least, most) = lows.iter().fold((f64::INFINITY, 0.0f64), |(l, h), &m| (l.min(m), h.max(m)));
    if lows.len() < 2 { 0.0 } else { most / least - 1.0 }
}

/// `len` samples cut into `count` consecutive parts of (nearly) equal length, none empty.
fn epoch_ranges(len: usize, count: usize) -> Vec<std::ops::Range<usize>> {
    let count = count.clamp(1, len.max(1));
    (0..count).map(|e| len * e / count..len * (e + 1) / count).collect()
}

/// The [`QUANTILE`] of `values`: the time a comparison uses.
pub fn low(values: &[f64]) -> f64 {
    quantile(values.to_vec(), QUANTILE)
}

/// The [`QUANTILE`] of `values` at `indices`.
fn low_at(values: &[f64], indices: &[usize]) -> f64 {
    quantile(indices.iter().map(|&i| values[i]).collect(), QUANTILE)
}

/// The `q` quantile, by linear interpolation between the nearest ranks.
fn quantile(mut values: Vec<f64>, q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let position = (values.len() - 1) as f64 * q;
    let (below, above) = (position.floor() as usize, position.ceil() as usize);
    values[below] + (values[above] - values[below]) * (position - below as f64)
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
        // The first run: four epochs, one of them (a bad allocation) 40% slower. The second drew
        // four bad ones: pooled rounds call it slower; the first run's own epochs say that 40% is
        // what placement alone does here.
        let epoch = |centre: f64, seed| around(centre, 0.01, 8, seed);
        let before: Vec<f64> = [1.0, 1.0, 1.4, 1.0].iter().enumerate().flat_map(|(i, &c)| epoch(c, i as u64)).collect();
        let now: Vec<f64> = [1.4; 4].iter().enumerate().flat_map(|(i, &c)| epoch(c, 10 + i as u64)).collect();
        fn s(v: &[f64], epochs: usize) -> Samples<'_> {
            Samples { variant: v, epochs, anchor: None }
        }
        let pooled = change(s(&before, 1), s(&now, 1), DEFAULT_NOISE_BAND, 0).unwrap();
        assert_eq!(pooled.verdict, Verdict::Slower, "{pooled:?}");
        let by_epoch = change(s(&before, 4), s(&now, 4), DEFAULT_NOISE_BAND, 0).unwrap();
        assert_eq!(by_epoch.verdict, Verdict::Inconclusive, "{by_epoch:?}");
        assert_eq!(epoch_ranges(32, 4).iter().map(|e| e.len()).collect::<Vec<_>>(), [8, 8, 8, 8]);
        assert_eq!(epoch_ranges(2, 5).len(), 2);
    }

    #[test]
    fn rounds_a_hog_interrupted_do_not_move_the_verdict_while_a_few_undisturbed_remain() {
        // Both runs: rounds of 1.0, and rounds a time slice of another process made 3x slower,
        // 20% of them in the first run and 65% in the second. The medians read 3x apart.
        let mixed = |slow: usize, seed| {
            let mut v = around(1.0, 0.01, 40, seed);
            v.iter_mut().take(slow).for_each(|x| *x *= 3.0);
            v
        };
        let (quiet, busy) = (mixed(8, 20), mixed(26, 21));
        assert!(median(&busy) / median(&quiet) > 2.5);
        let c = change(s(&quiet), s(&busy), DEFAULT_NOISE_BAND, 0).unwrap();
        assert!(matches!(c.verdict, Verdict::Unchanged | Verdict::Inconclusive), "{c:?}");
        assert!((c.raw_ratio - 1.0).abs() < 0.05, "{c:?}");
    }

    fn median(values: &[f64]) -> f64 {
        quantile(values.to_vec(), 0.5)
    }

    fn s(v: &[f64]) -> Samples<'_> {
        Samples { variant: v, epochs: 1, anchor: None }
    }

    #[test]
    fn no_samples_is_no_change() {
        let empty = Samples { variant: &[], epochs: 1, anchor: None };
        assert!(change(empty, Samples { variant: &[1.0], epochs: 1, anchor: None }, 0.05, 0).is_none());
    }
}
