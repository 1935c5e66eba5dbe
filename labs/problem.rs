//! The part of a prepared input that is the same in every lab, written once: [`Prepared`] holds a
//! lab's [`Problem`] (its inputs, answer buffers and oracle) with the variant table's kernels, and
//! implements [`Case`] from it: row limits, one call of a variant, and validation on junk-filled
//! outputs. A lab writes only what is its own.

use crate::lab::{Case, NamedArray, Output, Role, Swap, Variant, WorkUnit};

/// What a lab's prepared input must say for itself; [`Prepared`] does the rest.
pub trait Problem: Send + 'static {
    /// The lab's kernel type (a `fn` pointer).
    type Kernel: Copy + Send + Sync + 'static;

    /// The size parameters, for the JSON record.
    fn params(&self) -> Vec<(&'static str, usize)>;
    /// The work of one call on the whole input.
    fn work(&self) -> WorkUnit;
    /// The rows (queries, points) a slow variant may be limited to a slice of: how many there
    /// are, and the fewest a slice keeps. None: never limited (a shorter Lloyd run would time
    /// only its expensive first iterations).
    fn rows(&self) -> Option<Rows>;
    /// Multiplies every input value by `factor`, then applies the lab's input contract (see
    /// [`Case::scale_inputs`]).
    fn scale_inputs(&mut self, factor: f32) -> Result<(), String>;
    /// One call of `kernel` on the first `rows` rows (all of them when not limited). Some: what
    /// the call counted beside its time (see [`Problem::describe_count`]).
    fn run(&mut self, kernel: Self::Kernel, rows: usize) -> Option<u64>;
    /// Junk in every output slot: a kernel that skips one, or returns early, cannot pass.
    fn fill_with_junk(&mut self);
    /// The oracle's verdict on the last call, which ran on the first `rows` rows.
    fn check(&mut self, rows: usize, seed: u64) -> Result<String, String>;

    /// Validates `kernel` on the first `rows` rows: junk, one call, the oracle. A lab whose check
    /// also compares with its baseline (Lloyd: the same bits as plain Lloyd) overrides this.
    fn validate(
        &mut self,
        kernel: Self::Kernel,
        rows: usize,
        baseline: Self::Kernel,
        seed: u64,
    ) -> Result<String, String> {
        let _ = baseline;
        self.fill_with_junk();
        self.run(kernel, rows);
        self.check(rows, seed)
    }
    /// A count from [`Problem::run`] in words, for the report's notes. None by default.
    fn describe_count(&self, count: u64) -> Option<String> {
        let _ = count;
        None
    }
    /// The rows a variant outside this process may be limited to a slice of (see
    /// [`Case::rows`]): the same as [`Problem::rows`] unless a lab says otherwise (Lloyd, whose
    /// own variants are never limited, lets a slow Python run take the first points).
    fn external_rows(&self) -> Option<Rows> {
        self.rows()
    }
    /// The inputs, for an anchor that runs outside this process (see [`Case::inputs`]).
    fn inputs(&self) -> Vec<NamedArray<'_>> {
        Vec::new()
    }
    /// Checks outputs computed outside this process on the first `rows` rows (see
    /// [`Case::check_output`]).
    fn check_output(&self, rows: usize, outputs: &[Output]) -> Result<String, String> {
        let _ = (rows, outputs);
        Err("this lab cannot check outputs computed elsewhere".into())
    }
}

/// The rows of an input a variant can be limited to a slice of.
#[derive(Clone, Copy, Debug)]
pub struct Rows {
    pub total: usize,
    /// The fewest a slice keeps (1, or k for k-means: a slice must still have k points).
    pub min: usize,
}

impl Rows {
    /// The rows a slice of about `fraction` of them keeps: rounded up, at least `min`, at most all.
    pub fn at(&self, fraction: f64) -> usize {
        ((self.total as f64 * fraction).ceil() as usize).clamp(self.min.min(self.total), self.total)
    }
}

/// A lab's [`Problem`] with its variant table: the [`Case`] every lab hands the harness.
pub struct Prepared<P: Problem> {
    problem: P,
    /// The size, as printed and recorded.
    label: String,
    kernels: Vec<Option<P::Kernel>>,
    baseline: usize,
    /// Rows each variant runs on: all of them unless the variant is limited.
    rows: Vec<usize>,
    /// What each variant's last call counted.
    counts: Vec<Option<u64>>,
    seed: u64,
}

impl<P: Problem> Prepared<P> {
    /// `problem` (of the size printed `label`) with the kernels of `table`, `swap` put in (see
    /// [`crate::lab::Swapped`]). `seed` also seeds randomised checks.
    pub fn new(
        problem: P,
        label: String,
        table: Vec<Variant<P::Kernel>>,
        swap: Option<Swap<'_>>,
        seed: u64,
    ) -> Result<Self, String> {
        let baseline = table.iter().position(|v| v.role == Role::Baseline).ok_or("a lab needs a baseline")?;
        let mut kernels: Vec<Option<P::Kernel>> = table.into_iter().map(|v| v.kernel.ok()).collect();
        if let Some(Swap { variant, kernel }) = swap {
            let kernel =
                kernel.downcast_ref::<P::Kernel>().ok_or("the swapped-in kernel is not of this lab's kernel type")?;
            *kernels.get_mut(variant).ok_or_else(|| format!("no variant {variant} to swap"))? = Some(*kernel);
        }
        let all = problem.rows().map_or(0, |rows| rows.total);
        let variants = kernels.len();
        Ok(Prepared {
            problem,
            label,
            kernels,
            baseline,
            rows: vec![all; variants],
            counts: vec![None; variants],
            seed,
        })
    }

    fn kernel(&self, variant: usize) -> P::Kernel {
        self.kernels[variant].expect("only available variants are run")
    }
}

impl<P: Problem> Case for Prepared<P> {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn params(&self) -> Vec<(&'static str, usize)> {
        self.problem.params()
    }

    fn work(&self) -> WorkUnit {
        self.problem.work()
    }

    fn limit(&mut self, variant: usize, fraction: f64) -> f64 {
        let Some(rows) = self.problem.rows() else { return 1.0 };
        self.rows[variant] = rows.at(fraction);
        if rows.total == 0 { 1.0 } else { self.rows[variant] as f64 / rows.total as f64 }
    }

    fn scale_inputs(&mut self, factor: f32) -> Result<(), String> {
        self.problem.scale_inputs(factor)
    }

    fn run(&mut self, variant: usize) {
        self.counts[variant] = self.problem.run(self.kernel(variant), self.rows[variant]);
    }

    fn validate(&mut self, variant: usize) -> Result<String, String> {
        let (kernel, baseline) = (self.kernel(variant), self.kernel(self.baseline));
        let seed = self.seed ^ variant as u64;
        self.problem.validate(kernel, self.rows[variant], baseline, seed)
    }

    fn counted(&self, variant: usize) -> Option<String> {
        self.problem.describe_count(self.counts[variant]?)
    }

    fn inputs(&self) -> Vec<NamedArray<'_>> {
        self.problem.inputs()
    }

    fn rows(&self) -> Option<Rows> {
        self.problem.external_rows()
    }

    fn check_output(&self, rows: usize, outputs: &[Output]) -> Result<String, String> {
        self.problem.check_output(rows, outputs)
    }
}
