//! `cargo lab list`: the labs, their variants, and how to write a size.

use crate::exercises;

/// The listing, one block per lab. An exercise shows its file and goal (when run inside the
/// workspace, where the manifests are); a variant that runs on every thread says so.
pub fn list() -> String {
    let labs = perflab_labs::all();
    let goals = exercises::workspace().and_then(|w| exercises::load(&w, &labs)).unwrap_or_default();
    let mut out = String::new();
    for lab in labs {
        let sweep = lab.sweep();
        out += &format!(
            "{}: {}\n  sizes: {}\n  default sizes of `cargo lab bench`: {}; of the quick run (`cargo lab`): {}\n  sweep \
             (`cargo lab sweep`): sizes {}, {} from {} to {}\n  variants:\n",
            lab.name(),
            lab.about(),
            lab.size_syntax(),
            lab.default_sizes().join(", "),
            lab.quick_sizes().join(", "),
            sweep.size.replacen("{}", &sweep.axis.to_uppercase(), 1),
            sweep.axis,
            sweep.from,
            sweep.to
        );
        for v in lab.variants() {
            let status = v.unavailable().map(|why| format!(" [unavailable: {why}]")).unwrap_or_default();
            let cores = if v.parallel { " [all cores]" } else { "" };
            let summary = match goals.iter().find(|e| e.lab.name() == lab.name() && e.name == v.name) {
                Some(e) => format!("your file {}; goal {}", e.file.display(), e.goal.describe(e.reference)),
                None => v.summary.to_string(),
            };
            out += &format!("    {:<14} {:<9} {summary}{cores}{status}\n", v.name, v.role.as_str());
        }
        for variant in lab.out_of_process() {
            let process = match variant.runner {
                perflab_labs::Runner::PythonAnchor => "Python, its own process".to_string(),
                perflab_labs::Runner::PythonFile(file) => format!("Python, {}", file.path),
            };
            let summary = match goals.iter().find(|e| e.lab.name() == lab.name() && e.name == variant.name) {
                Some(e) => format!("your file {}; goal {}", e.file.display(), e.goal.describe(e.reference)),
                None => variant.summary.to_string(),
            };
            out += &format!("    {:<14} {:<9} {summary} [{process}]\n", variant.name, variant.role.as_str());
        }
    }
    out
}
