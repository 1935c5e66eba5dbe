//! The learner's exercises: which exist (every `Role::Exercise` variant of every lab), where their
//! files are, their goals and hints (one manifest per lab,
//! `labs/<lab>/exercises/exercises.toml`), the shipped scaffold each one can be reset to
//! (`labs/<lab>/exercises/shipped/<file>.txt`), and which hints have been revealed
//! (`.perflab/hints.json` in the workspace).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use perflab_labs::{Lab, OutOfProcess, Role};
use serde::Deserialize;

use crate::paths;

/// One exercise, resolved against the registry and its manifest.
#[derive(Clone)]
pub struct Exercise {
    pub lab: &'static dyn Lab,
    /// Index into the lab's variants; for a Python exercise, past them, into its out-of-process
    /// variants (as `cargo lab bench` numbers them).
    pub variant: usize,
    /// `your-simd`.
    pub name: &'static str,
    /// The reference solution of the same rung (`simd`).
    pub reference: &'static str,
    /// `labs/matmul/exercises/simd.rs`, relative to the workspace.
    pub file: PathBuf,
    pub goal: Goal,
    pub hints: Vec<String>,
    /// Where the last hint points for the answer, when it is not `solutions/<file>` (relative to
    /// the workspace).
    pub solution: Option<String>,
}

impl fmt::Debug for Exercise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id())
    }
}

impl Exercise {
    /// `matmul your-simd`, as the commands take it.
    pub fn id(&self) -> String {
        format!("{} {}", self.lab.name(), self.name)
    }

    /// The learner's Python file, for an exercise in Python (None: a Rust exercise).
    pub fn python(&self) -> Option<&'static OutOfProcess> {
        self.variant.checked_sub(self.lab.variants().len()).map(|i| &self.lab.out_of_process()[i])
    }

    /// The index of the lab's baseline and of this exercise's reference in [`Lab::every_variant`]
    /// (for a Python exercise, whose reference is a Python rung: past the lab's own, as for
    /// [`Exercise::variant`]).
    pub fn baseline_and_reference(&self) -> (usize, usize) {
        let every = self.lab.every_variant();
        let baseline = every.iter().position(|v| v.role == Role::Baseline).expect("every lab has a baseline");
        let reference = every.iter().position(|v| v.name == self.reference).expect("the rung's reference exists");
        (baseline, reference)
    }

    /// Whether a run at `size` (any spelling the lab accepts) with `threads` threads is where the
    /// goal is judged.
    pub fn at_goal(&self, size: &str, threads: usize) -> bool {
        let label = |size: &str| self.lab.label(size).ok();
        label(size).is_some_and(|here| Some(here) == label(&self.goal.size)) && threads == self.goal.threads.resolve()
    }

    /// The shipped scaffold, what `cargo lab reset` restores: `exercises/shipped/<file>.txt`.
    pub fn shipped(&self) -> PathBuf {
        let name = self.file.file_name().expect("a file").to_string_lossy();
        self.file.with_file_name("shipped").join(format!("{name}.txt"))
    }

    /// Whether the file in `workspace` is still the shipped scaffold (None: one of them is missing).
    pub fn is_as_shipped(&self, workspace: &Path) -> Option<bool> {
        let now = std::fs::read(workspace.join(&self.file)).ok()?;
        let shipped = std::fs::read(workspace.join(self.shipped())).ok()?;
        Some(now == shipped)
    }
}

/// When an exercise is good enough: its speed against its reference's, in one run.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    /// At least this many times the reference's speed (the reference's median time over yours).
    pub ratio: f64,
    /// The size the goal is measured at, in the lab's syntax.
    pub size: String,
    pub threads: Threads,
}

impl Goal {
    /// `≥ 0.80x simd at 1024 with 1 thread`
    pub fn describe(&self, reference: &str) -> String {
        format!("≥ {:.2}x {reference} at {} with {}", self.ratio, self.size, self.threads)
    }

    /// `≥ 0.80x simd, 1 thread`: for tables, where the size has a column of its own.
    pub fn short(&self, reference: &str) -> String {
        format!("≥ {:.2}x {reference}, {}", self.ratio, self.threads)
    }
}

/// How many threads a goal is measured with.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Threads {
    Count(u16),
    /// `"all"`: every core.
    All(AllCores),
}

/// The word `all` in a manifest.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum AllCores {
    All,
}

impl Threads {
    /// The thread count on this machine.
    pub fn resolve(self) -> usize {
        match self {
            Threads::Count(n) => usize::from(n),
            Threads::All(_) => perflab_labs::threads::resolve(None),
        }
    }
}

impl fmt::Display for Threads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threads::Count(1) => write!(f, "1 thread"),
            Threads::Count(n) => write!(f, "{n} threads"),
            Threads::All(_) => write!(f, "every core"),
        }
    }
}

/// One entry of a manifest, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    lab: String,
    name: String,
    file: String,
    goal: Goal,
    hints: Vec<String>,
    /// Where the answer is, when it is not the rung's file under `solutions/`.
    #[serde(default)]
    solution: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    exercise: Vec<Entry>,
}

/// `labs/<lab>/exercises/exercises.toml`, relative to the workspace.
pub fn manifest_path(lab: &str) -> PathBuf {
    Path::new("labs").join(lab).join("exercises").join("exercises.toml")
}

/// The workspace the learner's files are in, or a clear error.
pub fn workspace() -> anyhow::Result<PathBuf> {
    paths::workspace().context(
        "this command reads the exercises' files: run it inside the perflab workspace (where `cargo lab` works)",
    )
}

/// The workspace, and every exercise of every lab in the registry.
pub fn load_all() -> anyhow::Result<(PathBuf, Vec<Exercise>)> {
    let workspace = workspace()?;
    let all = load(&workspace, &perflab_labs::all())?;
    Ok((workspace, all))
}

/// Every exercise of `labs`, in registry and ladder order, from each lab's manifest under
/// `workspace`. Fails, naming the file, when a manifest is missing or malformed, lacks an
/// exercise, or lists one the lab does not have (or another lab's).
pub fn load(workspace: &Path, labs: &[&'static dyn Lab]) -> anyhow::Result<Vec<Exercise>> {
    let mut exercises = Vec::new();
    for &lab in labs {
        let path = manifest_path(lab.name());
        let text = std::fs::read_to_string(workspace.join(&path))
            .with_context(|| format!("reading the exercise manifest {}", path.display()))?;
        let manifest: Manifest = toml::from_str(&text).with_context(|| format!("{} is malformed", path.display()))?;
        let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
        for entry in manifest.exercise {
            if entry.lab != lab.name() {
                bail!("{} lists an exercise of lab {}: each lab's manifest holds its own", path.display(), entry.lab);
            }
            if let Some(twice) = entries.insert(entry.name.clone(), entry) {
                bail!("{} lists the exercise {} twice", path.display(), twice.name);
            }
        }
        for (variant, v) in lab.every_variant().iter().enumerate().filter(|(_, v)| v.role == Role::Exercise) {
            let entry = entries.remove(v.name).with_context(|| {
                format!("{} has no [[exercise]] for lab {} exercise {}", path.display(), lab.name(), v.name)
            })?;
            exercises.push(resolve(lab, variant, entry, &path)?);
        }
        if let Some(name) = entries.into_keys().next() {
            bail!("{} lists lab {} exercise {name}, which the lab does not have", path.display(), lab.name());
        }
    }
    Ok(exercises)
}

fn resolve(lab: &'static dyn Lab, variant: usize, entry: Entry, manifest: &Path) -> anyhow::Result<Exercise> {
    let info = lab.every_variant()[variant];
    let reference = info.reference.expect("an exercise names its rung");
    let where_ = format!("{} ({} {})", manifest.display(), lab.name(), info.name);
    if entry.hints.is_empty() || entry.hints.iter().any(|h| h.trim().is_empty()) {
        bail!("{where_}: every exercise needs hints, none of them empty");
    }
    if !(entry.goal.ratio > 0.0 && entry.goal.ratio.is_finite()) {
        bail!("{where_}: the goal's ratio must be a positive number");
    }
    if entry.goal.threads == Threads::Count(0) {
        bail!("{where_}: the goal's threads must be at least 1, or \"all\"");
    }
    lab.footprint(&entry.goal.size).map_err(|e| anyhow::anyhow!("{where_}: the goal's size: {e}"))?;
    let extension = if variant < lab.variants().len() { ".rs" } else { ".py" };
    if entry.file.contains('/') || !entry.file.ends_with(extension) {
        bail!("{where_}: file must be a {extension} file in the manifest's folder, not '{}'", entry.file);
    }
    let file = manifest.with_file_name(&entry.file);
    if let Some(python) = lab.out_of_process().get(variant.wrapping_sub(lab.variants().len()))
        && python.file().is_none_or(|f| Path::new(f.path) != file)
    {
        bail!("{where_}: the file is {}, but the lab runs {:?}", file.display(), python.file().map(|f| f.path));
    }
    let (goal, hints, solution) = (entry.goal, entry.hints, entry.solution);
    Ok(Exercise { lab, variant, name: info.name, reference, file, goal, hints, solution })
}

/// The exercises named on a command line: none (all of them), a lab (all of its), a lab and an
/// exercise, or an exercise alone when only one lab has it. An exercise may be written as its
/// variant (`your-simd`) or its rung (`simd`).
pub fn select(all: &[Exercise], words: &[String]) -> anyhow::Result<Vec<Exercise>> {
    let labs: Vec<&str> = {
        let mut labs: Vec<&str> = all.iter().map(|e| e.lab.name()).collect();
        labs.dedup();
        labs
    };
    let named = |e: &Exercise, word: &str| e.name == word || e.reference == word;
    match words {
        [] => Ok(all.to_vec()),
        [lab] if labs.contains(&lab.as_str()) => Ok(all.iter().filter(|e| e.lab.name() == lab).cloned().collect()),
        [word] => {
            let matches: Vec<Exercise> = all.iter().filter(|e| named(e, word)).cloned().collect();
            match matches.len() {
                1 => Ok(matches),
                0 => bail!("no lab or exercise is called '{word}'; {}", listing(all)),
                _ => {
                    let which: Vec<String> = matches.iter().map(|e| e.id()).collect();
                    bail!("'{word}' is an exercise of several labs; name the lab: {}", which.join(", "))
                }
            }
        }
        [lab, word] => {
            if !labs.contains(&lab.as_str()) {
                bail!("unknown lab '{lab}'; labs with exercises: {}", labs.join(", "));
            }
            let found: Vec<Exercise> = all.iter().filter(|e| e.lab.name() == lab && named(e, word)).cloned().collect();
            if found.is_empty() {
                let theirs: Vec<&str> = all.iter().filter(|e| e.lab.name() == lab).map(|e| e.name).collect();
                let elsewhere: Vec<String> = all.iter().filter(|e| named(e, word)).map(|e| e.id()).collect();
                let hint = match elsewhere.is_empty() {
                    true => String::new(),
                    false => format!(" (did you mean {}?)", elsewhere.join(" or ")),
                };
                bail!("lab {lab} has no exercise '{word}'{hint}; its exercises: {}", theirs.join(", "));
            }
            Ok(found)
        }
        _ => bail!("expected [<lab>] [<exercise>], got {} words; {}", words.len(), listing(all)),
    }
}

/// Exactly one exercise named on a command line.
pub fn select_one(all: &[Exercise], words: &[String]) -> anyhow::Result<Exercise> {
    let mut chosen = select(all, words)?;
    if chosen.len() != 1 {
        bail!("name one exercise, e.g. `matmul your-simd`; {}", listing(all));
    }
    Ok(chosen.remove(0))
}

fn listing(all: &[Exercise]) -> String {
    let ids: Vec<String> = all.iter().map(|e| e.id()).collect();
    format!("the exercises: {}", ids.join(", "))
}

/// Where the learner's state goes (revealed hints, backups of reset files): `PERFLAB_STATE_DIR`,
/// else `.perflab/` in the workspace.
pub fn state_dir(workspace: &Path) -> PathBuf {
    match std::env::var_os("PERFLAB_STATE_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => workspace.join(".perflab"),
    }
}

/// How many hints of each exercise have been revealed: `hints.json` in the [`state_dir`].
pub struct Revealed {
    path: PathBuf,
    counts: BTreeMap<String, usize>,
}

impl Revealed {
    pub fn load(state: &Path) -> Revealed {
        let path = state.join("hints.json");
        // A missing or garbled file means nothing revealed yet: it is a convenience, not data.
        let counts =
            std::fs::read(&path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default();
        Revealed { path, counts }
    }

    pub fn count(&self, exercise: &Exercise) -> usize {
        self.counts.get(&exercise.id()).copied().unwrap_or(0)
    }

    /// Records that hints up to `shown` (1-based) have been seen; never lowers the count.
    pub fn record(&mut self, exercise: &Exercise, shown: usize) -> anyhow::Result<()> {
        let count = self.counts.entry(exercise.id()).or_default();
        *count = (*count).max(shown);
        let dir = self.path.parent().expect("a folder");
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let text = serde_json::to_string_pretty(&self.counts)?;
        std::fs::write(&self.path, text).with_context(|| format!("writing {}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Exercise> {
        let workspace = paths::workspace().expect("tests run inside the workspace");
        load(&workspace, &perflab_labs::all()).unwrap()
    }

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn every_exercise_has_a_manifest_entry_with_hints_a_goal_and_a_shipped_scaffold() {
        let workspace = paths::workspace().unwrap();
        let all = all();
        let exercises: usize = perflab_labs::all()
            .iter()
            .map(|lab| lab.every_variant().iter().filter(|v| v.role == Role::Exercise).count())
            .sum();
        assert_eq!(all.len(), exercises, "one entry per exercise variant");
        for e in &all {
            assert!(workspace.join(&e.file).is_file(), "{e:?}: {} is missing", e.file.display());
            assert!(workspace.join(e.shipped()).is_file(), "{e:?}: {} is missing", e.shipped().display());
            assert!(!e.hints.is_empty(), "{e:?}: no hints");
        }
    }

    #[test]
    fn a_manifest_entry_for_an_exercise_the_lab_lacks_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join(manifest_path("matmul"));
        std::fs::create_dir_all(manifest.parent().unwrap()).unwrap();
        let workspace = paths::workspace().unwrap();
        let real = std::fs::read_to_string(workspace.join(manifest_path("matmul"))).unwrap();
        let extra = "\n[[exercise]]\nlab = \"matmul\"\nname = \"your-fft\"\nfile = \"fft.rs\"\n\
                     goal = { ratio = 1.0, size = \"64\", threads = 1 }\nhints = [\"h\"]\n";
        std::fs::write(&manifest, format!("{real}{extra}")).unwrap();
        let matmul = perflab_labs::find("matmul").unwrap();
        let err = load(dir.path(), &[matmul]).unwrap_err().to_string();
        assert!(err.contains("your-fft, which the lab does not have"), "{err}");
        std::fs::write(&manifest, real.replace("hints", "hint")).unwrap();
        let err = format!("{:#}", load(dir.path(), &[matmul]).unwrap_err());
        assert!(err.contains("malformed"), "{err}");
    }

    #[test]
    fn each_lab_loads_alone() {
        let workspace = paths::workspace().unwrap();
        for lab in perflab_labs::all() {
            let theirs = load(&workspace, &[lab]).unwrap_or_else(|e| panic!("{}: {e:#}", lab.name()));
            assert!(theirs.iter().all(|e| e.lab.name() == lab.name()));
        }
    }

    #[test]
    fn exercises_are_named_by_lab_and_variant_or_rung_and_ambiguity_is_explained() {
        let all = all();
        assert_eq!(select(&all, &[]).unwrap().len(), all.len());
        let ids = |text: &str| -> Vec<String> { select(&all, &words(text)).unwrap().iter().map(|e| e.id()).collect() };
        assert_eq!(ids("matmul your-simd"), ["matmul your-simd"]);
        assert_eq!(ids("matmul simd"), ["matmul your-simd"]);
        assert_eq!(ids("your-hamerly"), ["lloyd your-hamerly"]);
        assert!(ids("knn").iter().all(|id| id.starts_with("knn ")) && ids("knn").len() >= 3);
        let err = select(&all, &words("your-simd")).unwrap_err().to_string();
        assert!(err.contains("several labs") && err.contains("matmul your-simd"), "{err}");
        let err = select(&all, &words("matmul your-fft")).unwrap_err().to_string();
        assert!(err.contains("lab matmul has no exercise 'your-fft'"), "{err}");
        let err = select(&all, &words("kmeans hamerly")).unwrap_err().to_string();
        assert!(err.contains("did you mean lloyd your-hamerly?"), "{err}");
        let err = select(&all, &words("fft")).unwrap_err().to_string();
        assert!(err.contains("no lab or exercise is called 'fft'"), "{err}");
        assert!(select_one(&all, &words("knn")).is_err(), "a lab is not one exercise");
    }

    #[test]
    fn goal_threads_read_as_a_count_or_all() {
        let goal: Goal = toml::from_str("ratio = 0.8\nsize = \"1024\"\nthreads = 1").unwrap();
        assert_eq!(goal.threads, Threads::Count(1));
        let goal: Goal = toml::from_str("ratio = 0.8\nsize = \"1024\"\nthreads = \"all\"").unwrap();
        assert_eq!(goal.threads, Threads::All(AllCores::All));
        assert!(toml::from_str::<Goal>("ratio = 0.8\nsize = \"1024\"\nthreads = \"many\"").is_err());
        assert_eq!(goal.describe("parallel"), "≥ 0.80x parallel at 1024 with every core");
    }
}
