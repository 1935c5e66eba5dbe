//! The HTML report (`--report DIR`): one self-contained file, inline SVG and CSS, no script and no
//! network, that opens offline. Every chart is also written beside it as an SVG file of its own.

use std::path::{Path, PathBuf};

use anyhow::Context;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::charts::{self, Bar, Bars, Shade, Unit};
use super::{roofline, scaling, sweep};
use crate::limits::Limits;
use crate::report::format_seconds;
use crate::saved::{SavedRecord, SavedRun, SavedVariant};
use perflab_labs::gemm::blocking::{Blocking, Source};

/// What goes into a report; every part is optional but the title.
#[derive(Default)]
pub struct Report {
    pub title: String,
    /// The command line that made it.
    pub command: String,
    /// The run: a table, the ladder as bars and the roofline per case.
    pub run: Option<SavedRun>,
    /// The run's `against` part (baseline changes, reference comparisons), when asked for.
    pub against: Option<serde_json::Value>,
    /// The same cases at several thread counts, fewest first: the scaling.
    pub by_threads: Vec<SavedRun>,
    /// A size sweep of one lab.
    pub sweep: Option<SweepPart>,
    /// `cargo lab compare`: the reference's name, why it was picked, and the verdicts.
    pub compare: Option<(String, String, Vec<serde_json::Value>)>,
}

pub struct SweepPart {
    pub lab: &'static dyn perflab_labs::Lab,
    pub curves: Vec<sweep::Curve>,
    pub cliffs: Vec<sweep::Cliff>,
    /// Each curve's best size and where it ends, in words.
    pub summaries: Vec<String>,
    pub counts_flop: bool,
}

/// Writes `dir/<page>.html` (`quick`, `bench-matmul`, `sweep-matmul`: one page per command, so that
/// several commands can share a folder), each chart as `dir/<page>-<chart>.svg` (so that a page
/// rewrites only its own charts), and `dir/index.html`,
/// which lists every page of the folder; the page's path.
pub fn write(dir: &Path, page_name: &str, report: &Report) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the report folder {}", dir.display()))?;
    let mut figures = Figures { dir: dir.to_path_buf(), page: slug(page_name) };
    let page = page(report, &mut figures)?;
    let path = dir.join(format!("{}.html", slug(page_name)));
    std::fs::write(&path, page.into_string()).with_context(|| format!("cannot write {}", path.display()))?;
    write_index(dir)?;
    Ok(path)
}

/// `dir/index.html`: a link to every report page in `dir`, newest first, with its title.
fn write_index(dir: &Path) -> anyhow::Result<()> {
    let mut pages: Vec<(std::time::SystemTime, String, String)> = Vec::new();
    for entry in std::fs::read_dir(dir)?.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.ends_with(".html") || name == "index.html" {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let title = text.split_once("<title>").and_then(|(_, rest)| rest.split_once("</title>")).map(|(t, _)| t);
        let modified = entry.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
        pages.push((modified, name, title.unwrap_or("a report").to_string()));
    }
    pages.sort_by_key(|page| std::cmp::Reverse(page.0));
    let when = |t: std::time::SystemTime| humantime::format_rfc3339_seconds(t).to_string();
    let index = html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "perflab reports" } style { (PreEscaped(STYLE)) } }
            body {
                h1 { "perflab reports in this folder" }
                ul { @for (modified, name, title) in &pages {
                    // The title was escaped when its page was written: keep it as it is.
                    li { a href=(name) { (PreEscaped(title)) } " (" (when(*modified)) ")" }
                } }
            }
        }
    };
    let path = dir.join("index.html");
    std::fs::write(&path, index.into_string()).with_context(|| format!("cannot write {}", path.display()))
}

/// The report's folder, where each chart is also saved as an SVG file, and its page's name.
struct Figures {
    dir: PathBuf,
    page: String,
}

impl Figures {
    /// The chart inline (with its file's name under it), saved as `<page>-<name>.svg` (`name` made
    /// a file name: letters, digits and dashes).
    fn figure(&mut self, name: &str, svg: String, caption: &str) -> anyhow::Result<Markup> {
        let chart = slug(name);
        // `bench-kmeans` and `kmeans-n-1000-t1-time` make `bench-kmeans-n-1000-t1-time`: the lab once.
        let page_end = self.page.rsplit('-').next().unwrap_or_default();
        let chart = chart.strip_prefix(page_end).and_then(|rest| rest.strip_prefix('-')).unwrap_or(&chart);
        let file = format!("{}-{chart}.svg", self.page);
        std::fs::write(self.dir.join(&file), &svg).with_context(|| format!("cannot write {file}"))?;
        // The SVG backend writes an XML declaration-free <svg> element: safe to inline.
        Ok(html! { figure { (PreEscaped(svg)) figcaption { (caption) " (" a href=(file) { (file) } ")" } } })
    }
}

fn slug(name: &str) -> String {
    let s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em;color:#111}\
h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:1px solid #999;margin-top:2em}h3{font-size:1.05em}\
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{border:1px solid #bbb;padding:.2em .5em;text-align:right}\
td:first-child,th:first-child,table.left td{text-align:left}tr.failed td{background:#f3f3f3;font-style:italic}\
figure{margin:1em 0}figure svg{max-width:100%;height:auto}figcaption{font-size:.85em;color:#444}\
.note{font-size:.9em;color:#333}pre{font-size:.8em;background:#f6f6f6;padding:.5em;overflow-x:auto}";

fn page(report: &Report, figures: &mut Figures) -> anyhow::Result<Markup> {
    // The machine as the run saw it, else as the first run of the scaling did.
    let machines = || report.run.iter().chain(report.by_threads.first()).map(|r| &r.machine);
    let limits = machines().find_map(|m| m.limits.clone());
    let blocks = machines().find_map(|m| m.gemm_blocks.clone());
    let mut sections = Vec::new();
    if let Some(part) = &report.sweep {
        sections.push(sweep_section(part, limits.as_ref(), report.run.as_ref(), figures)?);
    }
    if !report.by_threads.is_empty() {
        sections.push(scaling_section(&report.by_threads, figures)?);
    }
    if let Some(run) = &report.run
        && report.sweep.is_none()
    {
        for record in &run.records {
            sections.push(record_section(record, limits.as_ref(), figures)?);
        }
    }
    if let Some((name, why, comparisons)) = &report.compare {
        sections.push(compare_section(name, why, comparisons));
    }
    if let Some(against) = &report.against {
        sections.push(against_section(against));
    }
    sections.push(flamegraphs_section(report));
    Ok(html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (report.title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (report.title) }
                p.note { "Written by " code { (report.command) } " (perflab " (env!("CARGO_PKG_VERSION")) ")." }
                @if let Some(limits) = &limits { (machine(limits, blocks.as_ref())) }
                @for section in &sections { (section) }
            }
        }
    })
}

fn machine(limits: &Limits, blocks: Option<&Blocking>) -> Markup {
    let f = &limits.fingerprint;
    html! {
        h2 { "The machine" }
        table.left {
            tr { th { "CPU" } td { (f.cpu) " (" (f.vendor) ", family " (f.family.map_or("?".into(), |n| n.to_string()))
                ", model " (f.model.map_or("?".into(), |n| n.to_string())) ")" } }
            tr { th { "widest SIMD, cores" } td { (f.simd_level) ", " (f.cores) } }
            tr { th { "f32 FMA peak" } td { (format!("{:.1} GFLOP/s per core", limits.core_peak_gflops)) } }
            tr { th { "memory bandwidth (triad)" } td { (format!("{:.1} GB/s one thread, {:.1} GB/s {} threads",
                limits.bandwidth.one_thread_gbs, limits.bandwidth.all_threads_gbs, limits.bandwidth.threads)) } }
            tr { th { "balance" } td { (format!("{:.1} FLOP/byte one core, {:.1} all cores: below it a kernel is bound by memory",
                limits.balance(false), limits.balance(true))) } }
            @for cache in &limits.caches { tr { th { "cache" } td { (cache.describe()) } } }
            @if let Some(blocks) = blocks {
                @for choice in &blocks.choices {
                    tr { th { "GEMM block " (choice.name) } td { (blocks.sizes.size(&choice.name))
                        " (" (blocks.level) ", "
                        (choice.source.as_str()) (choice.model.filter(|_| choice.source != Source::Model)
                            .map_or(String::new(), |m| format!("; the model's {m}"))) "): " (choice.reason) } }
                }
            }
        }
    }
}

fn shade(v: &SavedVariant) -> Shade {
    match (v.role.as_str(), v.library.is_some()) {
        ("library", _) => Shade::Library,
        (_, true) => Shade::Python,
        _ => Shade::Rust,
    }
}

fn record_section(record: &SavedRecord, limits: Option<&Limits>, figures: &mut Figures) -> anyhow::Result<Markup> {
    let title = format!("{} {}, {} thread(s)", record.lab, record.size, record.threads);
    let stem = format!("{}-{}-t{}", record.lab, record.size, record.threads);
    let timed: Vec<&SavedVariant> = record.variants.iter().filter(|v| v.timing.is_some()).collect();
    let mut charts = Vec::new();
    if !timed.is_empty() {
        let bars = |value: &dyn Fn(&SavedVariant) -> Option<f64>| {
            timed
                .iter()
                .filter_map(|v| value(v).map(|x| Bar { name: v.name.clone(), value: x, shade: shade(v) }))
                .collect()
        };
        let time = Bars {
            title: format!("{title}: time per call (log scale; dark: Rust, grey: library, white: Python)"),
            axis: charts::Axis { label: "seconds per call (median)".into(), log: true, unit: Unit::Seconds },
            bars: bars(&|v| v.timing.as_ref().map(|t| t.median_s)),
        };
        charts.push(figures.figure(&format!("{stem} time"), charts::bar_chart(&time), "the ladder: time per call")?);
        let peak: Vec<Bar> = bars(&|v| v.speed.as_ref().and_then(|s| s.fraction_of_peak));
        if !peak.is_empty() {
            let fraction = Bars {
                title: format!("{title}: fraction of the FMA peak of the cores each variant uses"),
                axis: charts::Axis { label: "fraction of peak".into(), log: false, unit: Unit::Percent },
                bars: peak,
            };
            charts.push(figures.figure(
                &format!("{stem} peak"),
                charts::bar_chart(&fraction),
                "the ladder: fraction of peak",
            )?);
        }
    }
    let points = limits.map(|l| roofline::place(record, l)).unwrap_or_default();
    let roof = match limits.filter(|_| !points.is_empty()) {
        Some(l) => {
            let chart = roofline::chart(
                &format!("{title}: roofline"),
                &points,
                l,
                record.core_peak_gflops.max(l.core_peak_gflops),
            );
            Some(figures.figure(
                &format!("{stem} roofline"),
                charts::line_chart(&chart),
                "the roofline: each variant under the roof that bounds it",
            )?)
        }
        None => None,
    };
    Ok(html! {
        h2 { (title) }
        (variants_table(record))
        @for chart in &charts { (chart) }
        @if let Some(roof) = roof {
            h3 { "Roofline" }
            p.note { "Arithmetic intensity is the lab's FLOP per byte of its inputs and outputs, each moved once \
                (its footprint model: the least any variant must move). The dashed roofs are the measured FMA peak \
                and memory bandwidth, for one core and for all cores; serial variants are under the first, parallel ones the second." }
            (roof)
            table {
                tr { th { "variant" } th { "FLOP/byte" } th { "GFLOP/s" } th { "bound by" } }
                @for p in &points { tr { td { (p.variant) } td { (format!("{:.1}", p.intensity)) } td { (format!("{:.1}", p.gflops)) } td { (p.describe()) } } }
            }
        }
    })
}

fn variants_table(record: &SavedRecord) -> Markup {
    html! {
        table {
            tr { th { "variant" } th { "role" } th { "time (median)" } th { "spread" } th { "throughput" }
                 th { "GFLOP/s" } th { "of peak" } th { "vs naive" } th { "vs reference" } }
            @for v in &record.variants {
                @match (&v.timing, &v.speed) {
                    (Some(t), Some(s)) => tr {
                        td { (v.name) } td { (v.role) }
                        td { (format_seconds(t.median_s)) @if t.fraction_run < 1.0 { " (slice, scaled)" } }
                        td { (format!("±{:.1}%", t.spread * 50.0)) }
                        td { @if let Some(tp) = &s.throughput { (charts::format_value(tp.value, Unit::Plain)) " " (tp.unit) } }
                        td { @if let Some(g) = s.gflops { (format!("{g:.1}")) } }
                        td { @if let Some(f) = s.fraction_of_peak { (format!("{:.0}%", f * 100.0)) } }
                        td { @if let Some(x) = s.speedup_vs_naive { (format!("{x:.2}x")) } }
                        td { @if let Some(x) = s.ratio_vs_reference { (format!("{x:.2}x ")) (v.reference.clone().unwrap_or_default()) } }
                    },
                    _ => tr.failed {
                        td { (v.name) } td { (v.role) }
                        td colspan="7" { (v.verdict.as_ref().map_or("not run".to_string(), |d| format!("{}: {}", d.status, d.detail))) }
                    },
                }
            }
        }
        @let notes = notes(record);
        @if !notes.is_empty() { ul.note { @for note in &notes { li { (note) } } } }
    }
}

/// The notes under a case's table: slices, how each library ran, what a run counted.
fn notes(record: &SavedRecord) -> Vec<String> {
    let mut notes = Vec::new();
    for v in &record.variants {
        if let Some(t) = v.timing.as_ref().filter(|t| t.fraction_run < 1.0) {
            notes.push(format!(
                "{} ran on {:.1}% of the input to bound its run time; its time is scaled up to the whole",
                v.name,
                t.fraction_run * 100.0
            ));
        }
        if let Some(library) = v.library.as_ref().and_then(|l| l.as_object()) {
            let (note, warning) = crate::report::library_notes(&v.name, library);
            notes.push(note);
            notes.extend(warning.map(|w| format!("Not at its strongest: {w}")));
        }
        if let Some(verdict) = v.verdict.as_ref().filter(|d| d.rejected_library_answer) {
            notes.push(format!(
                "{}: its answer was rejected by the oracle (a finding about it): {}",
                v.name, verdict.detail
            ));
        }
    }
    notes
}

fn sweep_section(
    part: &SweepPart,
    limits: Option<&Limits>,
    run: Option<&SavedRun>,
    figures: &mut Figures,
) -> anyhow::Result<Markup> {
    let caches = limits.map(|l| l.caches.clone()).unwrap_or_default();
    let lab = part.lab.name();
    let title = format!("{lab} size sweep");
    let chart = sweep::chart(
        &format!("{title}: speed against working set, caches marked"),
        &part.curves,
        &caches,
        part.counts_flop,
    );
    let figure = figures.figure(
        &format!("{lab}-sweep"),
        charts::line_chart(&chart),
        "each variant across sizes; dashed: where each cache level fills",
    )?;
    let points: Vec<roofline::Point> = match (run, limits) {
        (Some(run), Some(l)) => run.records.iter().flat_map(|r| roofline::place(r, l)).collect(),
        _ => Vec::new(),
    };
    let roof = match limits.filter(|_| !points.is_empty()) {
        Some(l) => {
            let peak = run.map_or(l.core_peak_gflops, |r| r.machine.core_peak_gflops.max(l.core_peak_gflops));
            let chart = roofline::chart(&format!("{title}: roofline (every size)"), &points, l, peak);
            Some(figures.figure(
                &format!("{lab}-sweep-roofline"),
                charts::line_chart(&chart),
                "every variant at every size under its roof",
            )?)
        }
        None => None,
    };
    Ok(html! {
        h2 { (title) }
        @if part.cliffs.is_empty() { p { "No cliff: no variant lost more than " (format!("{:.0}%", (1.0 - sweep::CLIFF) * 100.0)) " of its speed from one size to the next." } }
        @else { ul { @for c in &part.cliffs { li { "Cliff: " (c.sentence) } } } }
        ul { @for line in &part.summaries { li { (line) } } }
        (figure)
        pre { (sweep::table(&part.curves, &caches, part.lab, part.counts_flop)) }
        @if let Some(roof) = roof { h3 { "Roofline" } (roof) }
    })
}

fn scaling_section(runs: &[SavedRun], figures: &mut Figures) -> anyhow::Result<Markup> {
    let all = scaling::scalings(runs);
    let mut cases: Vec<(String, String)> = all.iter().map(|s| (s.lab.clone(), s.size.clone())).collect();
    cases.dedup();
    let mut parts = Vec::new();
    for (lab, size) in cases {
        let mine: Vec<&scaling::Scaling> = all.iter().filter(|s| s.lab == lab && s.size == size).collect();
        let title = format!("{lab} {size}: thread scaling");
        let chart = scaling::chart(&title, &mine);
        let figure = figures.figure(
            &format!("{lab}-{size}-scaling"),
            charts::line_chart(&chart),
            "speedup over the fewest threads; dashed: ideal",
        )?;
        parts.push(html! { h3 { (title) } (figure) pre { (scaling::table(&mine)) } });
    }
    Ok(html! {
        h2 { "Thread scaling" }
        p.note { "Each thread count ran in a fresh process of its own; serial variants are left out." }
        @for part in &parts { (part) }
    })
}

fn compare_section(name: &str, why: &str, comparisons: &[serde_json::Value]) -> Markup {
    html! {
        h2 { "Against reference " (name) }
        p.note { (why) ". 'the machine': as far from this machine's limits as the reference is from its own; \
            'the code': markedly further from them here; 'closer here': markedly closer to them here. Times are the 20th percentile of each run's rounds." }
        (comparison_table(comparisons))
    }
}

/// A number of a JSON value, or "-".
fn number(v: &serde_json::Value, pointer: &str, show: impl Fn(f64) -> String) -> String {
    v.pointer(pointer).and_then(serde_json::Value::as_f64).map_or("-".into(), show)
}

/// A string (or any value, as JSON) of a JSON object.
fn text(v: &serde_json::Value, key: &str) -> String {
    v.get(key).map_or(String::new(), |x| x.as_str().map_or(x.to_string(), str::to_string))
}

/// Comparisons (`compare::VariantComparison` as JSON) as a table.
fn comparison_table(comparisons: &[serde_json::Value]) -> Markup {
    let percent = |f: f64| format!("{:.0}%", f * 100.0);
    let side = |c: &serde_json::Value, which: &str| {
        format!(
            "{}, {} of {}",
            number(c, &format!("/{which}/time_s"), format_seconds),
            number(c, &format!("/{which}/fraction"), percent),
            text(&c[which], "bound")
        )
    };
    html! {
        table {
            tr { th { "case" } th { "variant" } th { "here" } th { "there" } th { "relative" } th { "verdict" } th { "what differs" } }
            @for c in comparisons {
                tr {
                    td { (text(c, "lab")) " " (text(c, "size")) } td { (text(c, "variant")) }
                    td { (side(c, "here")) } td { (side(c, "there")) }
                    td { (number(c, "/relative", |r| format!("{r:.2}"))) } td { (text(c, "verdict")) }
                    td style="text-align:left" {
                        (c["suggests"].as_array().map(|a| a.iter().filter_map(|s| s.as_str()).collect::<Vec<_>>().join("; ")).unwrap_or_default())
                    }
                }
            }
        }
    }
}

fn against_section(against: &serde_json::Value) -> Markup {
    let changes = against.pointer("/baseline/changes").and_then(|c| c.as_array()).cloned().unwrap_or_default();
    let reference = against.get("reference");
    html! {
        @if let Some(baseline) = against.get("baseline") {
            h2 { "Against baseline " (text(baseline, "name")) }
            table {
                tr { th { "case" } th { "variant" } th { "before" } th { "now" } th { "time now / before (corrected)" } th { "verdict" } }
                @for c in &changes {
                    tr {
                        td { (text(c, "lab")) " " (text(c, "size")) ", " (text(c, "threads")) " thr" } td { (text(c, "variant")) }
                        td { (number(c, "/before_s", format_seconds)) }
                        td { (number(c, "/now_s", format_seconds)) }
                        td { (number(c, "/change/raw_ratio", |r| format!("{r:.3}"))) " (" (number(c, "/change/corrected_ratio", |r| format!("{r:.3}"))) ")" }
                        td { (text(&c["change"], "verdict")) }
                    }
                }
            }
        }
        @if let Some(reference) = reference {
            (compare_section(&text(reference, "name"), &text(reference, "why"),
                reference["comparisons"].as_array().map_or(&[][..], Vec::as_slice)))
        }
    }
}

/// Links to the flamegraphs of the labs in the report, where `cargo lab profile` wrote some.
fn flamegraphs_section(report: &Report) -> Markup {
    let mut labs: Vec<String> =
        report.run.iter().chain(&report.by_threads).flat_map(|r| r.records.iter().map(|x| x.lab.clone())).collect();
    if let Some(part) = &report.sweep {
        labs.push(part.lab.name().to_string());
    }
    labs.sort();
    labs.dedup();
    let folder = crate::paths::out_dir().join("flamegraphs");
    let mut found: Vec<PathBuf> = Vec::new();
    for lab in &labs {
        if let Ok(entries) = std::fs::read_dir(folder.join(lab)) {
            let mut svgs: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "svg"))
                .collect();
            svgs.sort();
            found.extend(svgs);
        }
    }
    let url = |p: &Path| format!("file://{}", std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()).display());
    html! {
        h2 { "Flamegraphs" }
        @if found.is_empty() {
            p.note { "None yet for these labs: " code { "cargo lab profile <lab> <variant>" } " writes them under " (folder.display()) "." }
        } @else {
            ul { @for p in &found { li { a href=(url(p)) { (p.strip_prefix(&folder).unwrap_or(p).display()) } } } }
        }
    }
}
