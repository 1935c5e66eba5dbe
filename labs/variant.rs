//! What every lab's variant table has in common.

use std::fmt;

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

/// One entry of a lab's variant table.
#[derive(Clone, Copy, Debug)]
pub struct Variant<F> {
    /// Name used on the command line, in reports and in bench ids.
    pub name: &'static str,
    pub role: Role,
    /// For an exercise: the reference solution it is compared against.
    pub reference: Option<&'static str>,
    /// One line: what this rung changes.
    pub summary: &'static str,
    /// The kernel, or why it is not available in this build.
    pub kernel: Result<F, &'static str>,
}
