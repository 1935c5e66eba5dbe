//! Pictures of a run: the ladder as bars, size sweeps with the caches marked, thread scaling and
//! the roofline, drawn as SVG (charts.rs) from runs read back (`saved`) and the machine's limits,
//! and gathered into one self-contained HTML report (html.rs, `--report DIR`).

pub mod charts;
pub mod html;
pub mod roofline;
pub mod scaling;
pub mod sweep;
