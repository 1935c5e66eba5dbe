//! The pictures end to end: `cargo lab sweep`, `--threads` with several counts, and `--report`;
//! then the report opened in a real browser (headless Chromium, where one is installed; CI
//! installs it and sets `PERFLAB_REQUIRE_CHROMIUM`): it loads without console errors, every chart
//! is an SVG with data in it, and a screenshot is not blank.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use predicates::prelude::*;

fn perflab() -> Command {
    Command::cargo_bin("perflab").unwrap()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A sweep of two sizes at one and two threads: the JSON has one curve per variant and thread
/// count, the report one chart for the sweep, one for its roofline and one per size's scaling.
fn sweep_report(dir: &Path) -> PathBuf {
    let json = dir.join("sweep.json");
    perflab()
        .args(["sweep", "matmul", "--sizes", "24,48", "--variant", "naive", "--variant", "best", "--threads", "1,2"])
        .args(["--seconds", "0.05", "--json"])
        .arg(&json)
        .arg("--report")
        .arg(dir.join("sweep"))
        .assert()
        .success()
        .stdout(predicate::str::contains("thread scaling of matmul 48x48x48"))
        .stdout(predicate::str::contains("n working set"));
    let document = read_json(&json);
    let curves = document["sweep"]["curves"].as_array().unwrap();
    let names: Vec<&str> = curves.iter().map(|c| c["variant"].as_str().unwrap()).collect();
    assert_eq!(names, ["naive (1 thr)", "best (1 thr)", "naive (2 thr)", "best (2 thr)"]);
    assert!(curves.iter().all(|c| c["steps"].as_array().unwrap().len() == 2), "{curves:?}");
    assert_eq!(document["records"].as_array().unwrap().len(), 4, "two sizes at two thread counts");
    dir.join("sweep/sweep-matmul.html")
}

/// A bench of every lab's first quick size at one thread, with a report: a table, the ladder's bars
/// and a roofline per case.
fn bench_report(dir: &Path) -> PathBuf {
    perflab()
        .args(["bench", "kmeans", "--size", "n=3000,d=16,k=20", "--threads", "1", "--seconds", "0.05"])
        .arg("--report")
        .arg(dir.join("bench"))
        .assert()
        .success()
        .stdout(predicate::str::contains("report written to"));
    let html = dir.join("bench/bench-kmeans.html");
    let text = std::fs::read_to_string(&html).unwrap();
    for part in
        ["The machine", "GEMM block kc", "kmeans n=3000", "Roofline", "bound", "time per call", "fraction of peak"]
    {
        assert!(text.contains(part), "the report lacks '{part}'");
    }
    html
}

/// A bench of one of the sweep's sizes at the same thread counts, into the sweep's folder: a page
/// of its own, whose scaling chart is of the same case as one of the sweep's.
fn scaling_report_beside_the_sweep(dir: &Path) -> PathBuf {
    perflab()
        .args(["bench", "matmul", "--size", "48", "--variant", "naive", "--variant", "best", "--threads", "1,2"])
        .args(["--seconds", "0.05", "--report"])
        .arg(dir.join("sweep"))
        .assert()
        .success();
    dir.join("sweep/bench-matmul.html")
}

/// The inline SVG of each figure of `text` and the file its caption links to.
fn figures(text: &str) -> Vec<(&str, &str)> {
    text.split("<figure>")
        .skip(1)
        .map(|figure| {
            let svg = &figure[..figure.find("</svg>").expect("a chart is an SVG") + "</svg>".len()];
            let link = figure.split("href=\"").nth(1).expect("a caption links to its file");
            (svg, &link[..link.find('"').unwrap()])
        })
        .collect()
}

#[test]
fn sweep_and_bench_write_reports_whose_charts_are_svg_with_data() {
    let dir = tempfile::tempdir().unwrap();
    let (sweep, bench) = (sweep_report(dir.path()), bench_report(dir.path()));
    let beside = scaling_report_beside_the_sweep(dir.path());
    // Two pages in one folder keep their own charts: each linked file is the page's own figure.
    for html in [&sweep, &beside] {
        let text = std::fs::read_to_string(html).unwrap();
        let page = html.file_stem().unwrap().to_str().unwrap();
        for (svg, file) in figures(&text) {
            assert!(file.starts_with(&format!("{page}-")), "{page}: a chart file of another page's name: {file}");
            let saved = std::fs::read_to_string(html.with_file_name(file)).unwrap();
            assert!(
                saved.trim_end() == svg,
                "{page}: {file} holds another chart ({} bytes, the page's {})",
                saved.len(),
                svg.len()
            );
        }
    }
    for html in [sweep, bench] {
        let text = std::fs::read_to_string(&html).unwrap();
        // Nothing fetched: no script, and no address but the SVG namespace's (a name, never loaded).
        let addresses = text.replace("http://www.w3.org/", "");
        assert!(!text.contains("<script") && !addresses.contains("http://") && !addresses.contains("https://"));
        // Every link resolves (a chart's SVG file beside it, or a flamegraph): a browser loading the
        // page or following a link finds nothing missing. There is nothing with `src=` to load.
        assert!(!text.contains(" src="), "the report loads no resource");
        for link in text.split("href=\"").skip(1).map(|rest| &rest[..rest.find('"').unwrap()]) {
            let target = match link.strip_prefix("file://") {
                Some(absolute) => PathBuf::from(absolute),
                None => html.parent().unwrap().join(link),
            };
            assert!(target.exists(), "{}: the link {link} leads nowhere", html.display());
        }
        let charts = text.matches("<figure>").count();
        assert!(charts >= 2, "{}: {charts} charts", html.display());
        assert_eq!(text.matches("<svg").count(), charts, "every figure is an inline SVG");
        let page = html.file_stem().unwrap().to_str().unwrap().to_string();
        let files = std::fs::read_dir(html.parent().unwrap()).unwrap().filter(|e| {
            let name = e.as_ref().unwrap().file_name().to_string_lossy().to_string();
            name.starts_with(&format!("{page}-")) && name.ends_with(".svg")
        });
        assert_eq!(files.count(), charts, "every chart also as an SVG file");
        let index = std::fs::read_to_string(html.with_file_name("index.html")).unwrap();
        let page = html.file_name().unwrap().to_str().unwrap();
        assert!(index.contains(&format!("href=\"{page}\"")), "the folder's index links to {page}: {index}");
    }
}

/// Chromium, where one is installed: `PERFLAB_CHROMIUM`, else `chromium` or `chromium-browser` on
/// the path; None is a skip unless `PERFLAB_REQUIRE_CHROMIUM` is set.
fn chromium() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match std::env::var_os("PERFLAB_CHROMIUM") {
        Some(path) => vec![path.into()],
        None => ["chromium", "chromium-browser", "google-chrome"].iter().map(PathBuf::from).collect(),
    };
    let found =
        candidates.into_iter().find(|c| Process::new(c).arg("--version").output().is_ok_and(|o| o.status.success()));
    if found.is_none() && std::env::var_os("PERFLAB_REQUIRE_CHROMIUM").is_some() {
        panic!(
            "PERFLAB_REQUIRE_CHROMIUM is set but no Chromium was found (PERFLAB_CHROMIUM, chromium, chromium-browser)"
        );
    }
    found
}

fn headless(chromium: &Path, profile: &Path) -> Process {
    let mut command = Process::new(chromium);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

#[test]
fn reports_render_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        eprintln!("skipped: no Chromium here (CI installs Debian's `chromium` and requires it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for html in [sweep_report(dir.path()), bench_report(dir.path())] {
        let url = format!("file://{}", html.display());
        // The page as the browser built it: every chart an SVG with drawn data, and no message
        // on the console (there is no script: a message is a resource that failed to load).
        let dump = headless(&chromium, &dir.path().join("profile")).arg("--dump-dom").arg(&url).output().unwrap();
        assert!(dump.status.success(), "chromium failed: {}", String::from_utf8_lossy(&dump.stderr));
        let dom = String::from_utf8_lossy(&dump.stdout);
        let console: Vec<&str> =
            std::str::from_utf8(&dump.stderr).unwrap_or("").lines().filter(|l| l.contains("CONSOLE")).collect();
        assert!(console.is_empty(), "console messages while loading {url}: {console:?}");
        let figures: Vec<&str> = dom.split("<figure>").skip(1).collect();
        assert!(figures.len() >= 2, "{url}: {} charts in the rendered page", figures.len());
        for figure in &figures {
            let svg = &figure[..figure.find("</svg>").expect("a chart is an SVG")];
            let marks = ["<circle", "<polyline", "<path", "<polygon", "<rect", "<line"]
                .iter()
                .map(|m| svg.matches(m).count())
                .sum::<usize>();
            assert!(svg.trim_start().starts_with("<svg") && marks > 10, "a chart with no data drawn in {url}");
        }
        // What a reader sees: a screenshot with enough ink in it.
        let shot = dir.path().join("shot.png");
        let status = headless(&chromium, &dir.path().join("profile"))
            .arg(format!("--screenshot={}", shot.display()))
            .arg("--window-size=1200,2400")
            .arg(&url)
            .output()
            .unwrap();
        assert!(status.status.success() && shot.exists(), "no screenshot of {url}");
        let ink = ink_fraction(&shot);
        assert!(ink > 0.02, "the screenshot of {url} is nearly blank: {:.2}% of its pixels are not white", ink * 100.0);
    }
}

/// The share of a PNG's pixels that are not (nearly) white.
fn ink_fraction(path: &Path) -> f64 {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let channels = info.color_type.samples();
    let frame = &pixels[..info.buffer_size()];
    let inked = frame.chunks(channels).filter(|p| p.iter().take(3).any(|&c| c < 200)).count();
    inked as f64 / (frame.len() / channels) as f64
}
