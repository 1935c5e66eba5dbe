//! The cache block sizes of the GEMM loop nest, chosen at run time: from the environment if asked,
//! else from what `cargo lab tune matmul` kept for this CPU, else from the analytical model BLIS
//! uses (Low, Igual, Smith and Quintana-Ortí, "Analytical modeling is enough for high-performance
//! BLIS", ACM TOMS 2016) applied to the cache hierarchy the OS reports.
//!
//! The loop nest (`matmul/solutions/best/`) keeps one operand per cache level:
//!
//! | size | what it sizes | lives in | model |
//! |---|---|---|---|
//! | `kc` | the depth of every block | L1 | the A sliver (MR × kc) stays while B slivers stream past |
//! | `nc` | the columns of a packed B block (kc × nc) | L2 | it stays while A slivers stream past |
//! | `mc` | the rows of a packed A panel (mc × kc) | L3 | it stays while B blocks stream past |
//!
//! Our micro-kernel is vectorised along a row of C (NR lanes of B, MR broadcasts of A), where
//! BLIS's is vectorised along a column (it stores C column-major). The nest is BLIS's applied to
//! Cᵀ = Bᵀ·Aᵀ, so BLIS's MC (its L2 block) is our `nc` and its NC (its L3 block) our `mc`.
//!
//! The model for one level with W ways, S sets and lines of L bytes (one way is left for the
//! data passing through, C's tile or the next sliver):
//! - `kc`: the streaming B sliver (kc × NR) may take `ways_b = ⌊(W₁ − 1) / (1 + MR/NR)⌋` ways of
//!   L1, the resident A sliver (kc × MR) what is left, in proportion: `kc = ways_b · S₁ · L / (NR · 4)`.
//! - `nc`: the A sliver streaming through L2 takes `⌈MR · kc · 4 / (S₂ · L)⌉` ways, the B block
//!   the rest but one: `nc = ways · S₂ · L / (kc · 4)`, whole slivers of NR.
//! - `mc`: likewise in L3 with the B block streaming, divided among the cores that share it (each
//!   thread packs its own panel): `mc = ways · S₃ · L / (kc · 4 · sharers)`, whole slivers of MR.
//!
//! The model assumes each block must stay resident for the next level's loop to run at full
//! speed; a CPU whose prefetchers stream well from L2 may prefer larger blocks (fewer passes over
//! C). That is what `cargo lab tune matmul` measures, and the table says which one is in use.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::caches::{self, Cache};
use crate::cpu;
use crate::simd::SimdLevel;

use super::kernel::{AVX2_MR, AVX2_NR, AVX512_MR, AVX512_NR, PORTABLE_MR, PORTABLE_NR};

/// The three cache block sizes of the loop nest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockSizes {
    /// Depth of every block (the A sliver, MR × kc, stays in L1).
    pub kc: usize,
    /// Columns of a packed B block (kc × nc, stays in L2).
    pub nc: usize,
    /// Rows of a packed A panel (mc × kc, stays in L3).
    pub mc: usize,
}

impl BlockSizes {
    /// `kc = 384, nc = 1216, mc = 22932`.
    pub fn describe(&self) -> String {
        format!("kc = {}, nc = {}, mc = {}", self.kc, self.nc, self.mc)
    }

    /// Sizes a loop nest can run with: every size at least one step, `nc` and `mc` whole slivers.
    pub fn rounded(self, mr: usize, nr: usize) -> BlockSizes {
        BlockSizes { kc: self.kc.max(1), nc: (self.nc / nr).max(1) * nr, mc: (self.mc / mr).max(1) * mr }
    }
}

/// Used where the OS reports no usable cache hierarchy: sizes that suit a 32 KiB L1, a 1 MiB L2
/// and a shared L3 of several MiB, the common shape of the CPUs perflab was measured on.
pub const FALLBACK: BlockSizes = BlockSizes { kc: 256, nc: 1024, mc: 4096 };

/// Where a block size came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A `PERFLAB_GEMM_*` environment variable.
    Environment,
    /// `cargo lab tune matmul` on this CPU (`labs/gemm/tuned-blocks.json`).
    Tuned,
    /// The analytical model from the cache hierarchy.
    Model,
    /// The OS reported no usable cache hierarchy.
    Fallback,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Environment => "environment",
            Source::Tuned => "tuned",
            Source::Model => "model",
            Source::Fallback => "fallback",
        }
    }
}

/// One block size in use, where it came from and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub name: String,
    pub value: usize,
    pub source: Source,
    /// What the model gave, for comparison (absent where the caches are unknown).
    pub model: Option<usize>,
    pub reason: String,
    /// The model's arithmetic for this size (absent where the caches are unknown).
    pub model_reason: Option<String>,
}

/// The block sizes one SIMD level's kernel runs with, each with its reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocking {
    pub level: String,
    pub mr: usize,
    pub nr: usize,
    pub choices: Vec<Choice>,
    pub sizes: BlockSizes,
}

impl Blocking {
    /// Where the sizes came from, each source once, in the order of the sizes (`tuned, environment`).
    pub fn sources(&self) -> Vec<&'static str> {
        let mut sources: Vec<&'static str> = Vec::new();
        for choice in &self.choices {
            if !sources.contains(&choice.source.as_str()) {
                sources.push(choice.source.as_str());
            }
        }
        sources
    }

    /// A table in words: one line per size with its value, where it came from and why.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!("GEMM cache blocks at {} ({} × {} register tile):", self.level, self.mr, self.nr)];
        for choice in &self.choices {
            let value = self.sizes.size(&choice.name);
            lines.push(format!("  {} = {value:<6} {}: {}", choice.name, choice.source.as_str(), choice.reason));
            if let (Source::Tuned | Source::Environment, Some(model), Some(why)) =
                (choice.source, choice.model, &choice.model_reason)
            {
                lines.push(format!("  {:<11} the model's {}: {why}", "", model));
            }
        }
        lines
    }
}

/// The environment variables that override each size (checked by the harness before it runs).
pub const ENV_KC: &str = "PERFLAB_GEMM_KC";
pub const ENV_NC: &str = "PERFLAB_GEMM_NC";
pub const ENV_MC: &str = "PERFLAB_GEMM_MC";

/// The register tile of each level's kernel.
pub fn tile(level: SimdLevel) -> (usize, usize) {
    match level {
        SimdLevel::Avx512 => (AVX512_MR, AVX512_NR),
        SimdLevel::Avx2Fma => (AVX2_MR, AVX2_NR),
        SimdLevel::Scalar => (PORTABLE_MR, PORTABLE_NR),
    }
}

/// The sizes the loop nest runs with at `level` (worked out once per level per process).
pub fn sizes(level: SimdLevel) -> BlockSizes {
    blocking(level).sizes
}

/// The block sizes at `level`, each with its source and reason (worked out once per process).
pub fn blocking(level: SimdLevel) -> &'static Blocking {
    static LEVELS: [OnceLock<Blocking>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = SimdLevel::ALL.iter().position(|l| *l == level).expect("every level is in ALL");
    LEVELS[slot].get_or_init(|| {
        let caches = caches::hierarchy().unwrap_or_default();
        let overrides = env_overrides().unwrap_or_else(|error| {
            eprintln!("note: {error}: ignoring the PERFLAB_GEMM_* overrides");
            Overrides::default()
        });
        resolve(level, &caches, tuned_for(&cpu_key(), level), overrides)
    })
}

/// Block sizes asked for in the environment, any of the three.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    pub kc: Option<usize>,
    pub nc: Option<usize>,
    pub mc: Option<usize>,
}

/// Reads `PERFLAB_GEMM_KC`, `_NC` and `_MC`: each unset, or a positive whole number.
pub fn env_overrides() -> Result<Overrides, String> {
    let read = |name: &str| -> Result<Option<usize>, String> {
        match std::env::var(name) {
            Err(_) => Ok(None),
            Ok(text) => match text.trim().parse::<usize>() {
                Ok(value) if value > 0 => Ok(Some(value)),
                _ => Err(format!("{name}={text} is not a positive whole number of rows, columns or depth steps")),
            },
        }
    };
    Ok(Overrides { kc: read(ENV_KC)?, nc: read(ENV_NC)?, mc: read(ENV_MC)? })
}

/// Works out every size: an override wins, then a tuned entry, then the model (or the fallback).
pub fn resolve(level: SimdLevel, caches: &[Cache], tuned: Option<TunedEntry>, overrides: Overrides) -> Blocking {
    let (mr, nr) = tile(level);
    let model = model(mr, nr, caches, None);
    let (base, base_source, base_reasons) = match (&tuned, &model) {
        (Some(entry), _) => {
            let gain = entry.gain_percent();
            let why = format!("`cargo lab tune matmul` kept it for this CPU on {} ({gain})", entry.recorded);
            (entry.sizes, Source::Tuned, [why.clone(), why.clone(), why])
        }
        (None, Ok(m)) => (m.sizes, Source::Model, m.reasons.clone()),
        (None, Err(why)) => {
            let reason = format!("{why}: a size that suits the CPUs perflab was measured on");
            (FALLBACK, Source::Fallback, [reason.clone(), reason.clone(), reason])
        }
    };
    let model_sizes = model.as_ref().ok().map(|m| m.sizes);
    let model_reasons: [Option<String>; 3] = match &model {
        Ok(m) => m.reasons.clone().map(Some),
        Err(_) => [None, None, None],
    };
    let mut choices = Vec::new();
    for (i, (name, asked)) in [("kc", overrides.kc), ("nc", overrides.nc), ("mc", overrides.mc)].into_iter().enumerate()
    {
        let (value, source, reason) = match asked {
            Some(value) => (value, Source::Environment, format!("PERFLAB_GEMM_{} is set", name.to_uppercase())),
            None => (base.size(name), base_source, base_reasons[i].clone()),
        };
        let (model, model_reason) = (model_sizes.map(|m| m.size(name)), model_reasons[i].clone());
        choices.push(Choice { name: name.into(), value, source, model, reason, model_reason });
    }
    let sizes = BlockSizes { kc: choices[0].value, nc: choices[1].value, mc: choices[2].value }.rounded(mr, nr);
    Blocking { level: level.as_str().into(), mr, nr, choices, sizes }
}

impl BlockSizes {
    /// The size called `name` (`kc`, `nc`, `mc`).
    pub fn size(&self, name: &str) -> usize {
        match name {
            "kc" => self.kc,
            "nc" => self.nc,
            _ => self.mc,
        }
    }
}

/// The model's sizes and the arithmetic behind each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Modelled {
    pub sizes: BlockSizes,
    pub reasons: [String; 3],
}

/// One cache's geometry, as the model needs it.
struct Geometry {
    name: String,
    ways: usize,
    sets: usize,
    line: usize,
    sharers: usize,
}

fn geometry(caches: &[Cache], level: u32) -> Result<Geometry, String> {
    let cache = caches::data_cache(caches, level).ok_or_else(|| format!("the OS reports no L{level} data cache"))?;
    let name = format!("L{level}");
    let (Some(ways), Some(line)) = (cache.ways, cache.line_bytes) else {
        return Err(format!("the OS does not say {name}'s associativity and line size"));
    };
    let (ways, line) = (ways as usize, line as usize);
    if ways < 2 || line == 0 || !(cache.size_bytes as usize).is_multiple_of(ways * line) {
        return Err(format!("{name} is {}: not a set-associative shape the model handles", cache.describe()));
    }
    let sets = cache.size_bytes as usize / (ways * line);
    Ok(Geometry { name, ways, sets, line, sharers: cache.shared_by.unwrap_or(1).max(1) })
}

const FLOAT: usize = std::mem::size_of::<f32>();

/// BLIS's analytical model for an MR × NR kernel on `caches`; with `kc` given, only `nc` and `mc`
/// are modelled (what `cargo lab tune` needs for each depth it tries).
pub fn model(mr: usize, nr: usize, caches: &[Cache], kc: Option<usize>) -> Result<Modelled, String> {
    let (l1, l2, l3) = (geometry(caches, 1)?, geometry(caches, 2)?, geometry(caches, 3).ok());
    let way = |g: &Geometry| g.sets * g.line;

    let b_ways = ((l1.ways - 1) as f64 / (1.0 + mr as f64 / nr as f64)).floor().max(1.0) as usize;
    let modelled_kc = b_ways * way(&l1) / (nr * FLOAT);
    let kc_reason = format!(
        "{}: the B sliver streams through {b_ways} of its {} ways ({b_ways} × {} B = kc × {nr} floats), \
         the A sliver (kc × {mr}) stays in the rest",
        l1.name,
        l1.ways,
        way(&l1)
    );
    let kc = kc.unwrap_or(modelled_kc).max(1);

    let a_ways = (mr * kc * FLOAT).div_ceil(way(&l2));
    let block_ways = l2.ways.saturating_sub(1 + a_ways).max(1);
    let nc = (block_ways * way(&l2) / (kc * FLOAT) / nr).max(1) * nr;
    let nc_reason = format!(
        "{}: the B block (kc × nc) keeps {block_ways} of its {} ways, one for the A sliver streaming past \
         ({a_ways} way{}) and one spare",
        l2.name,
        l2.ways,
        if a_ways == 1 { "" } else { "s" }
    );

    let (mc, mc_reason) = match l3 {
        Some(l3) => {
            let b_ways = (nc * kc * FLOAT).div_ceil(way(&l3));
            let panel_ways = l3.ways.saturating_sub(1 + b_ways).max(1);
            let mc = (panel_ways * way(&l3) / (kc * FLOAT * l3.sharers) / mr).max(1) * mr;
            let reason = format!(
                "{}: the A panel (mc × kc) keeps {panel_ways} of its {} ways beside the B block ({b_ways}), \
                 shared among the {} CPUs that share it",
                l3.name, l3.ways, l3.sharers
            );
            (mc, reason)
        }
        None => ((FALLBACK.mc / mr).max(1) * mr, "no L3 reported: a panel of the fallback's size".to_string()),
    };
    Ok(Modelled { sizes: BlockSizes { kc, nc, mc }, reasons: [kc_reason, nc_reason, mc_reason] })
}

/// What `cargo lab tune matmul` kept for one CPU and SIMD level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TunedEntry {
    /// [`cpu_key`] of the CPU it was measured on.
    pub cpu: String,
    /// The CPU's model name, for a reader.
    pub cpu_name: String,
    /// The SIMD level (`avx512f`, `avx2+fma`, `scalar`).
    pub level: String,
    pub sizes: BlockSizes,
    /// The model's sizes on that CPU.
    pub model: Option<BlockSizes>,
    /// GFLOP/s of the kept sizes and of the model's, in the same interleaved rounds.
    pub gflops: f64,
    pub model_gflops: Option<f64>,
    /// The square sizes timed and the threads used.
    pub sizes_timed: Vec<usize>,
    pub threads: usize,
    /// The date (UTC) and the command.
    pub recorded: String,
    pub command: String,
}

impl TunedEntry {
    /// `+4.1% over the model` or `the model's sizes were not timed`.
    pub fn gain_percent(&self) -> String {
        match self.model_gflops {
            Some(model) if model > 0.0 => {
                format!("{:+.1}% over the model's sizes", (self.gflops / model - 1.0) * 100.0)
            }
            _ => "the model's sizes were not timed".into(),
        }
    }
}

/// The file of tuned sizes, shipped with the repository and rewritten by `cargo lab tune`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TunedFile {
    pub schema: u32,
    pub about: String,
    pub entries: Vec<TunedEntry>,
}

/// The version of [`TunedFile`]'s layout.
pub const TUNED_SCHEMA: u32 = 1;

/// Where the tuned sizes live, relative to the repository root.
pub const TUNED_PATH: &str = "labs/gemm/tuned-blocks.json";

/// The tuned sizes compiled into this build (a later `cargo lab` rebuilds after a tune).
pub fn tuned_file() -> Result<TunedFile, String> {
    parse_tuned(include_str!("tuned-blocks.json")).map_err(|why| format!("{TUNED_PATH} {why}"))
}

/// Parses a tuned-sizes file, refusing another schema. Err: what is wrong with it, to follow the
/// file's name.
pub fn parse_tuned(text: &str) -> Result<TunedFile, String> {
    let file: TunedFile =
        serde_json::from_str(text).map_err(|e| format!("does not parse as a tuned block sizes file: {e}"))?;
    if file.schema != TUNED_SCHEMA {
        return Err(format!("has schema {}, this build reads {TUNED_SCHEMA}", file.schema));
    }
    Ok(file)
}

/// This CPU's key in the tuned file: vendor, family and model (`amd-f25m17`).
pub fn cpu_key() -> String {
    let id = cpu::identity();
    let number = |n: Option<u32>| n.map_or("?".to_string(), |n| n.to_string());
    format!("{}-f{}m{}", id.vendor, number(id.family), number(id.model))
}

/// The tuned entry for `cpu` at `level`, if there is one.
pub fn tuned_for(cpu: &str, level: SimdLevel) -> Option<TunedEntry> {
    let file = tuned_file().map_err(|e| eprintln!("note: {e}: using the model's block sizes")).ok()?;
    file.entries.into_iter().find(|e| e.cpu == cpu && e.level == level.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(level: u32, kind: &str, kib: u64, ways: u64, shared_by: usize) -> Cache {
        Cache {
            level,
            kind: kind.into(),
            size_bytes: kib * 1024,
            line_bytes: Some(64),
            ways: Some(ways),
            shared_by: Some(shared_by),
        }
    }

    /// Zen 4 as this VM reports it: 32 KiB 8-way L1d, 1 MiB 8-way L2, 32 MiB 16-way L3 for 2 CPUs.
    fn zen4() -> Vec<Cache> {
        vec![
            cache(1, "Data", 32, 8, 1),
            cache(1, "Instruction", 32, 8, 1),
            cache(2, "Unified", 1024, 8, 1),
            cache(3, "Unified", 32 * 1024, 16, 2),
        ]
    }

    #[test]
    fn the_model_reproduces_the_papers_arithmetic_on_zen4() {
        // AVX-512's 12 × 32 tile: ⌊7 / (1 + 12/32)⌋ = 5 ways of 4 KiB for the B sliver, 128 B a step.
        let m = model(AVX512_MR, AVX512_NR, &zen4(), None).unwrap();
        assert_eq!(m.sizes.kc, 5 * 4096 / (32 * 4));
        // L2: the A sliver (12 × 160 × 4 B) takes one 128 KiB way; 6 of 8 left for B.
        assert_eq!(m.sizes.nc, 6 * 131072 / (160 * 4) / 32 * 32);
        assert!(m.sizes.mc.is_multiple_of(AVX512_MR) && m.sizes.mc > 1000, "{:?}", m.sizes);
        assert!(m.reasons[0].contains("5 of its 8 ways"), "{}", m.reasons[0]);
    }

    #[test]
    fn a_larger_or_more_associative_l1_gives_a_deeper_block() {
        let mut xeon = zen4();
        xeon[0] = cache(1, "Data", 48, 12, 1);
        let zen = model(AVX512_MR, AVX512_NR, &zen4(), None).unwrap().sizes;
        let intel = model(AVX512_MR, AVX512_NR, &xeon, None).unwrap().sizes;
        assert!(intel.kc > zen.kc, "{intel:?} vs {zen:?}");
        // A given depth fixes nc and mc: a deeper block means fewer columns in the same L2.
        let deep = model(AVX512_MR, AVX512_NR, &zen4(), Some(2 * zen.kc)).unwrap().sizes;
        assert_eq!(deep.kc, 2 * zen.kc);
        assert!(deep.nc < zen.nc && deep.mc < zen.mc, "{deep:?} vs {zen:?}");
    }

    #[test]
    fn unknown_caches_fall_back_and_say_why() {
        let blocking = resolve(SimdLevel::Avx2Fma, &[], None, Overrides::default());
        assert_eq!(blocking.sizes, FALLBACK.rounded(AVX2_MR, AVX2_NR));
        assert!(blocking.choices.iter().all(|c| c.source == Source::Fallback && c.reason.contains("no L1")));
        let mut no_ways = zen4();
        no_ways[0].ways = None;
        let err = model(AVX2_MR, AVX2_NR, &no_ways, None).unwrap_err();
        assert!(err.contains("associativity"), "{err}");
    }

    #[test]
    fn an_override_wins_over_a_tuned_entry_which_wins_over_the_model() {
        let entry = TunedEntry {
            cpu: "x".into(),
            cpu_name: "x".into(),
            level: SimdLevel::Avx512.as_str().into(),
            sizes: BlockSizes { kc: 1024, nc: 1216, mc: 4800 },
            model: None,
            gflops: 110.0,
            model_gflops: Some(100.0),
            sizes_timed: vec![1024],
            threads: 1,
            recorded: "2026-12-06".into(),
            command: "cargo lab tune matmul".into(),
        };
        let overrides = Overrides { kc: Some(100), ..Overrides::default() };
        let b = resolve(SimdLevel::Avx512, &zen4(), Some(entry), overrides);
        assert_eq!(b.sizes, BlockSizes { kc: 100, nc: 1216, mc: 4800 });
        assert_eq!(b.choices[0].source, Source::Environment);
        assert_eq!(b.choices[1].source, Source::Tuned);
        assert_eq!(b.sources(), ["environment", "tuned"]);
        assert!(b.choices[1].reason.contains("+10.0%"), "{}", b.choices[1].reason);
        assert!(b.choices[1].model_reason.as_ref().unwrap().contains("L2"));
        let table = b.describe().join("\n");
        assert!(table.contains("kc = 100") && table.contains("the model's 160: L1"), "{table}");
        assert_eq!(b.choices[0].model, Some(160));
    }

    #[test]
    fn sizes_round_to_whole_slivers() {
        let s = BlockSizes { kc: 0, nc: 100, mc: 5 }.rounded(12, 32);
        assert_eq!(s, BlockSizes { kc: 1, nc: 96, mc: 12 });
    }

    #[test]
    fn the_shipped_tuned_file_parses() {
        let file = tuned_file().unwrap();
        for entry in &file.entries {
            assert!(SimdLevel::parse(&entry.level).is_some(), "{}", entry.level);
            assert_eq!(entry.sizes, entry.sizes.rounded(tile_of(&entry.level).0, tile_of(&entry.level).1));
        }
        assert!(parse_tuned(r#"{"schema": 99, "about": "", "entries": []}"#).unwrap_err().contains("schema 99"));
    }

    fn tile_of(level: &str) -> (usize, usize) {
        tile(SimdLevel::parse(level).unwrap())
    }
}
