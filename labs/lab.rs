//! What every lab provides: its variants, its sizes, and prepared inputs ([`Case`]) on which a
//! variant runs and is checked. The harness, the benches and the tests see labs only through
//! these two traits, so a new lab plugs into all of them at once (see [`crate::all`]).

use std::any::Any;
use std::fmt;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::problem::{Prepared, Problem};
use crate::sizes::Label;

/// The part a variant plays in a lab's report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The obvious, correct implementation every speedup is measured against.
    Baseline,
    /// A learner's file under `exercises/`: compiles and passes from the start, waiting to be improved.
    Exercise,
    /// A complete solution under `solutions/`: what the rung can achieve.
    Reference,
    /// A real library, for scale.
    Library,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Baseline => "baseline",
            Role::Exercise => "exercise",
            Role::Reference => "reference",
            Role::Library => "library",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of a lab's variant table. `K` is the lab's kernel type; the harness sees
/// `Variant<()>` (from [`Variant::describe`]): everything but the kernel.
#[derive(Clone, Copy, Debug)]
pub struct Variant<K = ()> {
    /// Name used on the command line, in reports and in bench ids.
    pub name: &'static str,
    pub role: Role,
    /// For an exercise: the reference solution of the same rung, which it is compared against.
    pub reference: Option<&'static str>,
    /// One line: what this rung changes.
    pub summary: &'static str,
    /// The kernel, or why it is not available in this build.
    pub kernel: Result<K, &'static str>,
    /// Whether it runs on every thread of the pool (rayon rungs, libraries) or on one: its
    /// fraction of peak is taken against the cores it can use, never against idle ones.
    pub parallel: bool,
    /// Whether most of its multiply-adds run in bf16 on this CPU (the k-NN flagship's filter,
    /// where the CPU has AVX-512 BF16): twice the f32 FMA rate per instruction, so its fraction
    /// of the f32 peak can pass 100% without any fault of the probe.
    pub bf16_products: bool,
}

impl<K> Variant<K> {
    /// The lab's baseline (there is one per lab).
    pub fn baseline(name: &'static str, summary: &'static str, kernel: K) -> Variant<K> {
        Variant::new(name, Role::Baseline, None, summary, Ok(kernel), false)
    }

    /// A reference solution under `solutions/`.
    pub fn reference(name: &'static str, summary: &'static str, kernel: K) -> Variant<K> {
        Variant::new(name, Role::Reference, None, summary, Ok(kernel), false)
    }

    /// The learner's file for rung `of`: by convention named `your-<of>`, and compared with `of`.
    pub fn exercise(name: &'static str, of: &'static str, kernel: K) -> Variant<K> {
        let summary = "your file under exercises/ (compiles and passes from the start)";
        Variant::new(name, Role::Exercise, Some(of), summary, Ok(kernel), false)
    }

    /// A real library, or why this build does not have it. Libraries use every thread they are given.
    pub fn library(name: &'static str, summary: &'static str, kernel: Result<K, &'static str>) -> Variant<K> {
        Variant::new(name, Role::Library, None, summary, kernel, true)
    }

    /// Every field but the marks set afterwards (`bf16_products`).
    fn new(
        name: &'static str,
        role: Role,
        reference: Option<&'static str>,
        summary: &'static str,
        kernel: Result<K, &'static str>,
        parallel: bool,
    ) -> Variant<K> {
        Variant { name, role, reference, summary, kernel, parallel, bf16_products: false }
    }

    /// The same variant, marked as running on every thread of the pool (a rayon rung).
    pub fn on_all_cores(self) -> Variant<K> {
        Variant { parallel: true, ..self }
    }

    /// The same variant, marked as multiplying in bf16 when `bf16` (see [`Variant::bf16_products`]).
    pub fn with_bf16_products(self, bf16: bool) -> Variant<K> {
        Variant { bf16_products: bf16, ..self }
    }

    /// Everything but the kernel: what the harness and the reports need.
    pub fn describe(&self) -> Variant {
        let kernel = self.kernel.as_ref().map(|_| ()).map_err(|why| *why);
        Variant::new(self.name, self.role, self.reference, self.summary, kernel, self.parallel)
            .with_bf16_products(self.bf16_products)
    }

    /// Why this build cannot run the variant, if it cannot.
    pub fn unavailable(&self) -> Option<&'static str> {
        self.kernel.as_ref().err().copied()
    }
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
    /// Also reported: a count of the lab's own items per call (queries, points), with its rate's
    /// name (`queries/s`), when that reads more naturally than the unit above.
    pub items: Option<(f64, &'static str)>,
}

/// A variant that runs in a process of its own, timed in the same rounds as the lab's own and
/// validated by the same oracle (its inputs go out through [`Case::inputs`], its output comes back
/// through [`Case::check_output`]). Today the Python anchors: the libraries a learner would reach
/// for instead of a kernel; the form is general (a role, a reference, a runner), so that a
/// learner's own Python can be a variant of a lab like any other.
#[derive(Clone, Copy, Debug)]
pub struct OutOfProcess {
    /// Name on the command line and in reports (`numpy`).
    pub name: &'static str,
    /// One line: what is called (`numpy.matmul(A, B, out=C), float32`).
    pub summary: &'static str,
    pub role: Role,
    /// What its ratio is taken against: None for the lab's flagship.
    pub reference: Option<&'static str>,
    /// Whether it may use every thread of the run (a library does).
    pub parallel: bool,
    pub runner: Runner,
    /// A rung whose lesson is its slowness (pure-Python loops, a huge temporary): left out of the
    /// quick run (`cargo lab`), which names it; `cargo lab bench` times it.
    pub slow: bool,
}

/// How an out-of-process variant is started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runner {
    /// A library call in the harness's Python anchor (`harness/python/anchor.py`), which
    /// implements it under the variant's name.
    PythonAnchor,
    /// A Python file of the lab's (`labs/<lab>/python/<file>`, or the learner's under
    /// `exercises/`), defining the lab's function (`assign(x, c)` for k-means: the driver's
    /// `FILES` in `harness/python/anchor.py` gives each lab's), run by the same driver as the
    /// anchors.
    PythonFile(PythonFile),
}

/// A Python file that is a variant of a lab: a rung of the Python ladder, or the learner's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PythonFile {
    /// Where it lives, relative to the workspace (`labs/kmeans/python/loops.py`).
    pub path: &'static str,
    /// Its text, built into the binary for a rung of the ladder (so that it runs from any
    /// directory); None for the learner's file, read from the workspace at every run so that an
    /// edit needs no rebuild.
    pub embedded: Option<&'static str>,
}

impl OutOfProcess {
    /// A library in the Python anchor, compared with the flagship, on every thread.
    pub const fn python_library(name: &'static str, summary: &'static str) -> OutOfProcess {
        OutOfProcess {
            name,
            summary,
            role: Role::Library,
            reference: None,
            parallel: true,
            runner: Runner::PythonAnchor,
            slow: false,
        }
    }

    /// A rung of the lab's Python ladder: a file under `labs/<lab>/python/`, embedded in the
    /// binary, compared with the flagship. `parallel` when its BLAS uses every thread.
    pub const fn python_rung(
        name: &'static str,
        summary: &'static str,
        path: &'static str,
        source: &'static str,
        parallel: bool,
    ) -> OutOfProcess {
        let file = PythonFile { path, embedded: Some(source) };
        OutOfProcess {
            name,
            summary,
            role: Role::Reference,
            reference: None,
            parallel,
            runner: Runner::PythonFile(file),
            slow: false,
        }
    }

    /// The same rung, marked as one whose lesson is its slowness (see [`OutOfProcess::slow`]).
    pub const fn slow(self) -> OutOfProcess {
        OutOfProcess { slow: true, ..self }
    }

    /// The learner's Python file for the Python rung `of`, read from the workspace at each run.
    pub const fn python_exercise(name: &'static str, of: &'static str, path: &'static str) -> OutOfProcess {
        let file = PythonFile { path, embedded: None };
        let summary = "your Python file (starts as the slow loop, works from the start)";
        OutOfProcess {
            name,
            summary,
            role: Role::Exercise,
            reference: Some(of),
            parallel: true,
            runner: Runner::PythonFile(file),
            slow: false,
        }
    }

    /// The Python file it runs, if it is one.
    pub fn file(&self) -> Option<PythonFile> {
        match self.runner {
            Runner::PythonFile(file) => Some(file),
            Runner::PythonAnchor => None,
        }
    }

    /// The variant as the harness and the reports see it (its kernel is another process).
    pub fn describe(&self) -> Variant {
        let OutOfProcess { name, summary, role, reference, parallel, .. } = *self;
        Variant::new(name, role, reference, summary, Ok(()), parallel)
    }
}

/// An input array of a case, as handed to an anchor outside this process.
#[derive(Clone, Copy, Debug)]
pub struct NamedArray<'a> {
    /// File stem and argument name (`a` is written to `a.npy`).
    pub name: &'static str,
    /// Row-major shape.
    pub shape: [usize; 2],
    pub data: &'a [f32],
    /// Whether its rows are the rows a slow variant is limited to the first of (see
    /// [`Case::limit`]): the points of k-means, the queries of k-NN, the rows of A.
    pub sliced: bool,
}

/// One array a variant outside this process returned, read back as f64 (exact for f32 values
/// and for integers below 2⁵³). A scalar is a 1 × 1 array, a vector an n × 1 one.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// What it is (`labels`, `inertia`; `out` for a library anchor's one array).
    pub name: String,
    pub shape: [usize; 2],
    pub data: Vec<f64>,
}

impl Output {
    /// The output called `name` among `outputs`, or what is missing.
    pub fn find<'a>(outputs: &'a [Output], name: &str) -> Result<&'a Output, String> {
        outputs.iter().find(|o| o.name == name).ok_or_else(|| {
            let given: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
            format!("no output '{name}' was returned (returned: {})", given.join(", "))
        })
    }

    /// The output called `name`, of shape `shape`, or what is wrong with it.
    pub fn expect<'a>(outputs: &'a [Output], name: &str, shape: [usize; 2]) -> Result<&'a Output, String> {
        let output = Output::find(outputs, name)?;
        // Nothing is nothing: an empty list comes back as 0 × 1 whatever its shape was meant to be.
        let both_empty = output.data.is_empty() && shape[0] * shape[1] == 0;
        match output.shape == shape || both_empty {
            true => Ok(output),
            false => Err(format!("{name} has shape {:?}, expected {shape:?}", output.shape)),
        }
    }

    /// The values as f32: a library anchor's output, which was f32 before it was written as f64.
    pub fn to_f32(&self) -> Vec<f32> {
        self.data.iter().map(|&x| x as f32).collect()
    }

    /// The values as indices below `below` (labels, neighbour ids), or the first that is not one.
    pub fn indices(&self, below: usize, of_what: &str) -> Result<Vec<u32>, String> {
        self.data
            .iter()
            .map(|&x| match x.fract() == 0.0 && x >= 0.0 && x < below as f64 && below <= u32::MAX as usize {
                true => Ok(x as u32),
                false => {
                    Err(format!("{} holds {x}, which is not the index of one of the {below} {of_what}", self.name))
                }
            })
            .collect()
    }
}

/// What a lab is, as data: everything about it that is not code. Each lab returns one from
/// [`Lab::info`]; the harness, the benches and the tests read it.
#[derive(Debug)]
pub struct LabInfo {
    /// Short name used on the command line and in bench names (`matmul`); also its folder,
    /// `labs/<name>/`.
    pub name: &'static str,
    /// One line for `cargo lab list`.
    pub about: &'static str,
    /// How `--size` is written for this lab, for help and error messages.
    pub size_syntax: &'static str,
    /// What a slow variant runs on a slice of, in the report's notes ("rows", "queries").
    pub slice_unit: &'static str,
    /// Sizes of the quick default run (`cargo lab`).
    pub quick_sizes: &'static [&'static str],
    /// Sizes of `cargo lab bench <lab>` when no `--size` is given.
    pub default_sizes: &'static [&'static str],
    /// Sizes of `cargo bench --bench <lab>` (criterion).
    pub bench_sizes: &'static [&'static str],
    /// Sizes where bugs live (empty, tiny, primes, one off every block size): every variant is
    /// checked on each of them by `cargo test`.
    pub edge_sizes: &'static [&'static str],
    /// Sizes on which the reference solutions must allocate nothing per call (serial and
    /// parallel paths, edges included).
    pub allocation_sizes: &'static [&'static str],
    /// The flagship reference solution: what variants other than exercises are compared to.
    pub flagship: &'static str,
    /// The data sets the lab can generate, the default first (`--data`). A lab that has several
    /// accepts `data=<name>` as one more key of its size syntax; none means one.
    pub data_sets: &'static [&'static str],
    /// Its variants that run in a process of their own (the Python anchors: they run only where a
    /// Python with their packages is found).
    pub out_of_process: &'static [OutOfProcess],
    /// The sizes of its instruction-count benchmarks (`cargo lab callgrind`), the first for every
    /// variant: see [`callgrind_cases`].
    pub callgrind_sizes: &'static [CallgrindSize],
    /// How `cargo lab sweep` grows the problem, so that its working set crosses each cache level.
    pub sweep: Sweep,
}

/// A lab's size sweep: one count grows (the others held), and the lab's footprint model says
/// how many bytes each value moves, so the harness can place sizes around each cache level.
#[derive(Debug)]
pub struct Sweep {
    /// A size in the lab's syntax with `{}` where the swept count goes (`n={},d=32,k=256`).
    pub size: &'static str,
    /// The swept count's name, as the tables and plots say it (`n`).
    pub axis: &'static str,
    /// The smallest and the largest value the sweep may use.
    pub from: usize,
    pub to: usize,
}

impl Sweep {
    /// The size with `count` in its place.
    pub fn at(&self, count: usize) -> String {
        self.size.replacen("{}", &count.to_string(), 1)
    }
}

/// One size of a lab's instruction-count benchmarks: small, since valgrind runs code about 50
/// times slower than the CPU.
#[derive(Debug)]
pub struct CallgrindSize {
    /// Its name in benchmark ids (`small`, as in `best_small`).
    pub name: &'static str,
    pub size: &'static str,
    /// The variants counted at this size: None for every one; a list for a size that only tells
    /// a few rungs apart (far-from-origin data for the rungs that re-rank).
    pub only: Option<&'static [&'static str]>,
}

/// One instruction-count benchmark: a variant of a lab at one of its callgrind sizes.
#[derive(Clone, Copy)]
pub struct CallgrindCase {
    pub lab: &'static dyn Lab,
    pub variant: &'static str,
    /// The variant's role: a reference solution's count is recorded and checked.
    pub role: Role,
    pub size: &'static CallgrindSize,
}

impl CallgrindCase {
    /// The benchmark's id, the key of its recorded count: `<variant>_<size name>`, dashes as
    /// underscores (`your_simd_small`).
    pub fn id(&self) -> String {
        format!("{}_{}", self.variant.replace('-', "_"), self.size.name)
    }
}

impl fmt::Debug for CallgrindCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} at {}", self.lab.name(), self.variant, self.size.size)
    }
}

/// Every instruction-count benchmark of `lab`, in a fixed order (size by size, variants in ladder
/// order): each variant this build has at each size that counts it. The bench binary and
/// `cargo lab callgrind` both read this list, so a new rung is benchmarked, and its count asked
/// for, without editing a bench file.
pub fn callgrind_cases(lab: &'static dyn Lab) -> Vec<CallgrindCase> {
    let variants = lab.variants();
    let mut cases = Vec::new();
    for size in lab.info().callgrind_sizes {
        let counted = |v: &&Variant| v.kernel.is_ok() && size.only.is_none_or(|only| only.contains(&v.name));
        cases.extend(variants.iter().filter(counted).map(|v| CallgrindCase {
            lab,
            variant: v.name,
            role: v.role,
            size,
        }));
    }
    cases
}

/// A lab: what it is ([`LabInfo`]), its variants, and how to build inputs for it.
///
/// Every method with behaviour is required, so that a wrapper such as [`Swapped`] cannot forget
/// to forward one; the provided methods only read [`Lab::info`].
pub trait Lab: Sync {
    /// What the lab is, as data.
    fn info(&self) -> &'static LabInfo;
    /// Every variant, in ladder order.
    fn variants(&self) -> Vec<Variant>;
    /// Parses `size` without building anything, and returns the bytes each of its inputs and
    /// outputs needs, named (`A`, `points`): the lab's model of the data a call moves.
    fn footprint_parts(&self, size: &str) -> Result<Vec<(&'static str, u64)>, String>;
    /// How `size` is printed ([`Case::label`]: `1024` is `1024x1024x1024`), so that two spellings
    /// of one size compare equal, without building the inputs.
    fn label(&self, size: &str) -> Result<String, String>;
    /// Builds the input for one size (random data from `seed`), with one variant's kernel
    /// replaced by `swap`'s (see [`Swapped`]), or says what is wrong with `size`.
    fn prepare_with(&self, size: &str, seed: u64, swap: Option<Swap<'_>>) -> Result<Box<dyn Case>, String>;
    /// `count` random sizes from `seed`, small enough to check in milliseconds, spread over the
    /// shapes the edge sizes do not enumerate (the exercise checker runs them after the edges).
    fn random_sizes(&self, seed: u64, count: usize) -> Vec<String>;
    /// Tells this lab's library anchors how many threads to use.
    ///
    /// # Safety
    /// May set environment variables (some libraries read their thread count from one): call it
    /// while the process has a single thread.
    unsafe fn set_library_threads(&self, threads: usize);
    /// The kernel each of its in-process library anchors loaded (the linked OpenBLAS's core type),
    /// for the report: a library on a kernel older than the CPU is no anchor.
    fn library_kernels(&self) -> Vec<LibraryKernel>;

    /// Parses `size` without building anything, and returns the bytes its inputs and outputs need
    /// (an error where they would not fit in 64 bits: no machine has that memory).
    fn footprint(&self, size: &str) -> Result<u64, String> {
        let parts = self.footprint_parts(size)?;
        parts
            .iter()
            .try_fold(0u64, |sum, part| sum.checked_add(part.1))
            .filter(|&sum| sum < u64::MAX)
            .ok_or_else(|| format!("{size}: its inputs and outputs would need more than 2^64 bytes"))
    }
    /// Builds the input for one size (random data from `seed`), or says what is wrong with `size`.
    fn prepare(&self, size: &str, seed: u64) -> Result<Box<dyn Case>, String> {
        self.prepare_with(size, seed, None)
    }
    fn name(&self) -> &'static str {
        self.info().name
    }
    fn about(&self) -> &'static str {
        self.info().about
    }
    fn size_syntax(&self) -> &'static str {
        self.info().size_syntax
    }
    fn slice_unit(&self) -> &'static str {
        self.info().slice_unit
    }
    fn quick_sizes(&self) -> &'static [&'static str] {
        self.info().quick_sizes
    }
    fn default_sizes(&self) -> &'static [&'static str] {
        self.info().default_sizes
    }
    fn bench_sizes(&self) -> &'static [&'static str] {
        self.info().bench_sizes
    }
    fn edge_sizes(&self) -> &'static [&'static str] {
        self.info().edge_sizes
    }
    fn allocation_sizes(&self) -> &'static [&'static str] {
        self.info().allocation_sizes
    }
    fn flagship(&self) -> &'static str {
        self.info().flagship
    }
    fn data_sets(&self) -> &'static [&'static str] {
        self.info().data_sets
    }
    fn out_of_process(&self) -> &'static [OutOfProcess] {
        self.info().out_of_process
    }
    fn sweep(&self) -> &'static Sweep {
        &self.info().sweep
    }
    /// Every variant as the reports see it: the lab's own ([`Lab::variants`]), then its
    /// out-of-process ones. The harness numbers variants by this list (`cargo lab bench`, the
    /// exercises).
    fn every_variant(&self) -> Vec<Variant> {
        self.variants().into_iter().chain(self.out_of_process().iter().map(OutOfProcess::describe)).collect()
    }
}

/// A lab as its author writes it: what it is, how its sizes read, its variant table and its
/// [`Problem`]. [`Lab`] follows from this for every lab (one implementation, below), so a lab
/// writes none of the plumbing.
pub trait Define: Sync + 'static {
    /// A parsed size (the shape, and the data set where there are several).
    type Size: Label;
    type Problem: Problem;

    /// What the lab is, as data.
    const INFO: &'static LabInfo;
    /// Parses a size, with the lab's defaults for what it leaves out, or says what is expected.
    fn parse(size: &str) -> Result<Self::Size, String>;
    /// Bytes each input and output of a size takes, named as the lab's README names them.
    fn footprint_parts(size: &Self::Size) -> Vec<(&'static str, u64)>;
    /// The inputs of a size, random from `seed`, with their answer buffers and oracle.
    fn problem(size: Self::Size, seed: u64) -> Result<Self::Problem, String>;
    /// Every variant, in ladder order, with its kernel.
    fn variants() -> Vec<Variant<<Self::Problem as Problem>::Kernel>>;
    /// One random size small enough to check in milliseconds (see [`Lab::random_sizes`]).
    fn random_size(rng: &mut StdRng) -> String;
    /// Tells the lab's library anchors how many threads to use (none by default).
    ///
    /// # Safety
    /// As [`Lab::set_library_threads`].
    unsafe fn set_library_threads(threads: usize) {
        let _ = threads;
    }
    /// As [`Lab::library_kernels`] (none by default).
    fn library_kernels() -> Vec<LibraryKernel> {
        Vec::new()
    }
}

/// The kernel a library anchor of this process loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibraryKernel {
    /// The variant that calls it (`openblas`).
    pub variant: &'static str,
    /// The library and its version (`OpenBLAS 0.3.21`).
    pub library: String,
    pub version: String,
    /// The kernel it picked for this CPU, in the library's own words (`Cooperlake`).
    pub kernel: String,
    /// How the library describes its build (`NO_LAPACKE DYNAMIC_ARCH ...`).
    pub detail: String,
}

impl<L: Define> Lab for L {
    fn info(&self) -> &'static LabInfo {
        L::INFO
    }
    fn variants(&self) -> Vec<Variant> {
        L::variants().iter().map(Variant::describe).collect()
    }
    fn footprint_parts(&self, size: &str) -> Result<Vec<(&'static str, u64)>, String> {
        L::parse(size).map(|size| L::footprint_parts(&size))
    }
    fn label(&self, size: &str) -> Result<String, String> {
        L::parse(size).map(|size| size.label())
    }
    fn prepare_with(&self, size: &str, seed: u64, swap: Option<Swap<'_>>) -> Result<Box<dyn Case>, String> {
        let size = L::parse(size)?;
        let label = size.label();
        let problem = L::problem(size, seed)?;
        Ok(Box::new(Prepared::new(problem, label, L::variants(), swap, seed)?))
    }
    fn random_sizes(&self, seed: u64, count: usize) -> Vec<String> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..count).map(|_| L::random_size(&mut rng)).collect()
    }
    unsafe fn set_library_threads(&self, threads: usize) {
        // SAFETY: forwarded to the caller (a single thread).
        unsafe { L::set_library_threads(threads) }
    }
    fn library_kernels(&self) -> Vec<LibraryKernel> {
        L::library_kernels()
    }
}

/// Multiplies every value by `factor` (for [`Case::scale_inputs`]).
/// The bytes of the product of `counts` f32 values, saturating at `u64::MAX` (a size too large for
/// any memory must read as too large, not wrap round to a small number).
pub fn f32_bytes(counts: &[usize]) -> u64 {
    counts.iter().fold(size_of::<f32>() as u64, |bytes, &count| bytes.saturating_mul(count as u64))
}

pub fn scale(values: &mut [f32], factor: f32) {
    values.iter_mut().for_each(|x| *x *= factor);
}

/// One prepared input of a lab, on which every variant runs.
pub trait Case: Send {
    /// The size, as printed and recorded (`1024x1024x1024`).
    fn label(&self) -> String;
    /// The size parameters, for the JSON record.
    fn params(&self) -> Vec<(&'static str, usize)>;
    /// The work of one call on the full input.
    fn work(&self) -> WorkUnit;
    /// Restricts `variant` to about `fraction` of the input (rows, queries, points...), for
    /// baselines too slow to run whole; returns the fraction actually used (1.0 = all of it).
    /// Time per call scales linearly with it; reports say when it is below 1.
    fn limit(&mut self, variant: usize, fraction: f64) -> f64;
    /// Multiplies every input value by `factor`, then applies the lab's input contract (what
    /// its checked entry point refuses, as that entry point's message): how the tests feed
    /// every variant magnitudes from 1e-30 to 3e38.
    fn scale_inputs(&mut self, factor: f32) -> Result<(), String>;
    /// One call of `variant` (by index into [`Lab::variants`]): the thing that is timed.
    fn run(&mut self, variant: usize);
    /// Fills the output with junk, runs `variant` once on the very input that will be timed,
    /// and checks the result against the oracle. Ok: how it was checked; Err: what is wrong.
    fn validate(&mut self, variant: usize) -> Result<String, String>;
    /// What the last call of `variant` counted beside its time, for the report's notes (the
    /// distances a bounds-based variant skipped, say).
    fn counted(&self, variant: usize) -> Option<String>;
    /// The inputs, for a variant that runs outside this process, and the size parameters it
    /// needs ([`Case::params`]).
    fn inputs(&self) -> Vec<NamedArray<'_>>;
    /// The rows a variant outside this process can be limited to a slice of (as [`Case::limit`]
    /// does for the lab's own); None: never limited.
    fn rows(&self) -> Option<crate::problem::Rows>;
    /// Checks the outputs of a variant computed outside this process on the first `rows` rows
    /// (all of them, or a slice: see [`NamedArray::sliced`]) against the oracle, as
    /// [`Case::validate`] does for a variant.
    fn check_output(&self, rows: usize, outputs: &[Output]) -> Result<String, String>;
}

/// One variant's kernel replaced by another of the lab's kernel type (a `fn` pointer, as `Any`).
#[derive(Clone, Copy)]
pub struct Swap<'a> {
    /// Index into [`Lab::variants`].
    pub variant: usize,
    pub kernel: &'a (dyn Any + Send + Sync),
}

/// A lab whose variant `variant` runs another kernel: how the tests break an exercise on purpose
/// (a wrong edge, a skipped band) and check what the exercise checker says about it, without
/// editing the learner's file. Everything else is the lab's own.
pub struct Swapped {
    pub lab: &'static dyn Lab,
    pub variant: usize,
    pub kernel: Box<dyn Any + Send + Sync>,
}

impl Swapped {
    /// `lab` with the variant named `name` running `kernel` (of the lab's kernel type).
    pub fn new<K: Any + Send + Sync>(lab: &'static dyn Lab, name: &str, kernel: K) -> Swapped {
        let variant = lab.variants().iter().position(|v| v.name == name).expect("a variant of the lab");
        Swapped { lab, variant, kernel: Box::new(kernel) }
    }
}

impl Lab for Swapped {
    fn info(&self) -> &'static LabInfo {
        self.lab.info()
    }
    fn variants(&self) -> Vec<Variant> {
        self.lab.variants()
    }
    fn footprint_parts(&self, size: &str) -> Result<Vec<(&'static str, u64)>, String> {
        self.lab.footprint_parts(size)
    }
    fn label(&self, size: &str) -> Result<String, String> {
        self.lab.label(size)
    }
    fn prepare_with(&self, size: &str, seed: u64, swap: Option<Swap<'_>>) -> Result<Box<dyn Case>, String> {
        let own = Swap { variant: self.variant, kernel: &*self.kernel };
        self.lab.prepare_with(size, seed, swap.or(Some(own)))
    }
    fn random_sizes(&self, seed: u64, count: usize) -> Vec<String> {
        self.lab.random_sizes(seed, count)
    }
    unsafe fn set_library_threads(&self, threads: usize) {
        // SAFETY: forwarded to the caller (a single thread).
        unsafe { self.lab.set_library_threads(threads) }
    }
    fn library_kernels(&self) -> Vec<LibraryKernel> {
        self.lab.library_kernels()
    }
}

/// One of `choices`, uniformly (a helper for [`Define::random_size`]).
pub fn pick<'a>(rng: &mut StdRng, choices: &[&'a str]) -> &'a str {
    choices[rng.random_range(0..choices.len())]
}
