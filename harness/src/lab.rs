//! What the harness needs from a lab.

use perflab_labs::Role;

/// A lab: a kernel, its variants, and how to build inputs for it.
pub trait Lab: Sync {
    /// Short name used on the command line (`matmul`).
    fn name(&self) -> &'static str;
    /// One line for `perflab list`.
    fn about(&self) -> &'static str;
    /// How `--size` is written for this lab, for help and error messages.
    fn size_syntax(&self) -> &'static str;
    /// Sizes of the quick default run (`cargo lab`).
    fn quick_sizes(&self) -> &'static [&'static str];
    /// Sizes of `perflab bench <lab>` when no `--size` is given.
    fn default_sizes(&self) -> &'static [&'static str];
    /// The flagship reference solution: what variants other than exercises are compared to.
    fn flagship(&self) -> &'static str;
    /// Every variant, in ladder order.
    fn variants(&self) -> Vec<VariantInfo>;
    /// Checks that `size` is well formed for this lab, without building anything.
    fn check_size(&self, size: &str) -> Result<(), String>;
    /// Builds the input for one size (random data from `seed`), or says what is wrong with `size`.
    fn prepare(&self, size: &str, seed: u64) -> Result<Box<dyn Case>, String>;
}

/// A variant as the harness sees it.
#[derive(Clone, Debug)]
pub struct VariantInfo {
    pub name: &'static str,
    pub role: Role,
    /// For an exercise, the reference solution it is measured against.
    pub reference: Option<&'static str>,
    pub summary: &'static str,
    /// Why this variant cannot run in this build, if it cannot.
    pub unavailable: Option<&'static str>,
}

/// How a lab counts work, for throughput.
#[derive(Clone, Copy, Debug)]
pub struct WorkUnit {
    /// Units of work per call on the full input (e.g. floating-point operations).
    pub per_call: f64,
    /// Throughput unit once divided by seconds and `scale` (e.g. "GFLOP/s" with 1e9).
    pub name: &'static str,
    pub scale: f64,
    /// Whether the unit is floating-point operations, so it can be compared with the FMA peak.
    pub is_flops: bool,
}

/// One prepared input of a lab, on which every variant runs.
pub trait Case: Send {
    /// The size, as printed and recorded (`1024x1024x1024`).
    fn label(&self) -> String;
    /// The size parameters, for the JSON record.
    fn params(&self) -> serde_json::Value;
    /// The work of one call on the full input.
    fn work(&self) -> WorkUnit;
    /// Restricts `variant` to about `fraction` of the input (rows, queries, points...), for
    /// baselines too slow to run whole; returns the fraction actually used (1.0 = all of it).
    /// Time per call scales linearly with it; reports say when it is below 1.
    fn limit(&mut self, variant: usize, fraction: f64) -> f64;
    /// One call of `variant` (by index into [`Lab::variants`]): the thing that is timed.
    fn run(&mut self, variant: usize);
    /// Fills the output with junk, runs `variant` once on the very input that will be timed,
    /// and checks the result against the oracle. Ok: how it was checked; Err: what is wrong.
    fn validate(&mut self, variant: usize) -> Result<String, String>;
}
