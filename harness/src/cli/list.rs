//! `cargo lab list`: the labs, their variants, and how to write a size.

/// The listing, one block per lab.
pub fn list() -> String {
    let mut out = String::new();
    for lab in perflab_labs::all() {
        out += &format!("{}: {}\n  sizes: {}\n  variants:\n", lab.name(), lab.about(), lab.size_syntax());
        for v in lab.variants() {
            let status = v.unavailable().map(|why| format!(" [unavailable: {why}]")).unwrap_or_default();
            out += &format!("    {:<14} {:<9} {}{status}\n", v.name, v.role.as_str(), v.summary);
        }
        for anchor in lab.python_anchors() {
            out += &format!("    {:<14} {:<9} {} [Python anchor]\n", anchor.name, "library", anchor.summary);
        }
    }
    out
}
