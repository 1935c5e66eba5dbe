//! The drawings, as SVG text (plotters' SVG backend): a line chart (sweeps, scaling, the roofline)
//! and horizontal bars (a ladder). Readable in black and white: every series has its own marker
//! shape and every guide is dashed, so nothing depends on colour alone. Text is left to the
//! viewer's sans-serif font; no font file is read.
//!
//! Logarithmic axes are drawn on the logarithms of the values (one coordinate type for every
//! chart), with tick labels written back in the values' units.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// How an axis's values are written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unit {
    /// 32 KiB, 4 MiB.
    Bytes,
    /// Seconds: 12 µs, 3.1 ms.
    Seconds,
    /// A fraction written as a percentage: 0.5 → 50%.
    Percent,
    /// A number with at most three significant digits: 120, 3.5, 0.25.
    Plain,
    /// A whole number (threads): ticks only at whole values.
    Count,
}

#[derive(Clone, Debug)]
pub struct Axis {
    /// With its unit: "GFLOP/s", "working set (bytes)".
    pub label: String,
    pub log: bool,
    pub unit: Unit,
}

/// A series of points, one marker shape per series.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Joined by a line (a sweep), or markers only (a roofline).
    pub joined: bool,
    /// Text beside each point (or none).
    pub point_labels: Vec<String>,
}

/// A dashed reference line: a roof, the ideal speedup.
#[derive(Clone, Debug)]
pub struct Guide {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A vertical dashed line with its label at the top: where a cache level fills.
#[derive(Clone, Debug)]
pub struct Mark {
    pub x: f64,
    pub label: String,
}

#[derive(Clone, Debug)]
pub struct LineChart {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
    pub guides: Vec<Guide>,
    pub marks: Vec<Mark>,
}

/// One bar of a bar chart.
#[derive(Clone, Debug)]
pub struct Bar {
    pub name: String,
    pub value: f64,
    pub shade: Shade,
}

/// A bar's fill, by what the variant is: told apart in grey levels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shade {
    /// Perflab's own Rust rungs.
    Rust,
    /// A library anchor.
    Library,
    /// A Python rung or the learner's Python.
    Python,
}

#[derive(Clone, Debug)]
pub struct Bars {
    pub title: String,
    pub axis: Axis,
    pub bars: Vec<Bar>,
}

const WIDTH: u32 = 860;
const HEIGHT: u32 = 440;
const FONT: &str = "sans-serif";
/// Room right of a line chart's plot for its legend.
const LEGEND_WIDTH: i32 = 170;
/// Dark, far-apart colours; the marker shapes carry the distinction in black and white.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 0, 0),
    RGBColor(0, 90, 181),
    RGBColor(220, 50, 32),
    RGBColor(0, 128, 64),
    RGBColor(120, 60, 160),
    RGBColor(150, 100, 0),
];

/// The chart as an SVG document.
pub fn line_chart(chart: &LineChart) -> String {
    let mut svg = String::new();
    draw_lines(chart, &mut svg).expect("drawing into a string cannot fail");
    svg
}

/// The bars as an SVG document, longest value first where the caller sorted them so.
pub fn bar_chart(bars: &Bars) -> String {
    let mut svg = String::new();
    draw_bars(bars, &mut svg).expect("drawing into a string cannot fail");
    svg
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
type Drawn = Result<(), Box<dyn std::error::Error>>;

fn draw_lines(chart: &LineChart, svg: &mut String) -> Drawn {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let all = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .chain(chart.guides.iter().flat_map(|g| g.points.iter().copied()));
    let (xs, ys): (Vec<f64>, Vec<f64>) = all.unzip();
    let marks = chart.marks.iter().map(|m| m.x);
    let x_range = span(xs.into_iter().chain(marks), &chart.x, false);
    let y_range = span(ys.into_iter(), &chart.y, true);
    let mut context = ChartBuilder::on(&root)
        .caption(&chart.title, (FONT, 17))
        .margin(12)
        .margin_right(LEGEND_WIDTH)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x_range.clone(), y_range.clone())?;
    let (x_axis, y_axis) = (chart.x.clone(), chart.y.clone());
    let x_format = move |v: &f64| tick(*v, &x_axis);
    let y_format = move |v: &f64| tick(*v, &y_axis);
    context
        .configure_mesh()
        .x_labels(labels(&x_range, &chart.x))
        .y_labels(labels(&y_range, &chart.y))
        .x_desc(&chart.x.label)
        .y_desc(&chart.y.label)
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .light_line_style(RGBColor(235, 235, 235))
        .label_style((FONT, 12))
        .draw()?;
    for mark in &chart.marks {
        let x = position(mark.x, &chart.x);
        let line = vec![(x, y_range.start), (x, y_range.end)];
        context.draw_series(DashedLineSeries::new(line, 3, 4, RGBColor(110, 110, 110).stroke_width(1)))?;
        let style = TextStyle::from((FONT, 11)).color(&RGBColor(70, 70, 70));
        context.draw_series(std::iter::once(Text::new(mark.label.clone(), (x, y_range.end), style)))?;
    }
    for guide in &chart.guides {
        draw_guide(&mut context, guide, chart)?;
    }
    for (i, series) in chart.series.iter().enumerate() {
        draw_series(&mut context, series, i, chart)?;
    }
    draw_legend(&root, &chart.series)?;
    root.present()?;
    Ok(())
}

fn draw_guide(context: &mut Chart, guide: &Guide, chart: &LineChart) -> Drawn {
    let points: Vec<(f64, f64)> =
        guide.points.iter().map(|&(x, y)| (position(x, &chart.x), position(y, &chart.y))).collect();
    context.draw_series(DashedLineSeries::new(points.clone(), 8, 5, BLACK.stroke_width(1)))?;
    if let Some(&(x, y)) = points.last() {
        let style = TextStyle::from((FONT, 11)).pos(Pos::new(HPos::Right, VPos::Bottom));
        context.draw_series(std::iter::once(Text::new(guide.label.clone(), (x, y), style)))?;
    }
    Ok(())
}

fn draw_series(context: &mut Chart, series: &Series, index: usize, chart: &LineChart) -> Drawn {
    let colour = PALETTE[index % PALETTE.len()];
    let points: Vec<(f64, f64)> =
        series.points.iter().map(|&(x, y)| (position(x, &chart.x), position(y, &chart.y))).collect();
    if series.joined && points.len() > 1 {
        context.draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?;
    }
    for &p in &points {
        draw_marker(context.plotting_area(), p, index, colour)?;
    }
    for (&(x, y), label) in points.iter().zip(&series.point_labels) {
        let style = TextStyle::from((FONT, 10)).color(&colour);
        context.draw_series(std::iter::once(Text::new(format!(" {label}"), (x, y), style)))?;
    }
    Ok(())
}

/// The legend, right of the plot: each named series' marker and name.
fn draw_legend(root: &DrawingArea<SVGBackend, Shift>, series: &[Series]) -> Drawn {
    let left = WIDTH as i32 - LEGEND_WIDTH + 12;
    for (i, s) in series.iter().enumerate().filter(|(_, s)| !s.name.is_empty()) {
        let y = 48 + 18 * i as i32;
        draw_marker(root, (left, y), i, PALETTE[i % PALETTE.len()])?;
        let style = TextStyle::from((FONT, 12)).pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(s.name.clone(), (left + 10, y), style))?;
    }
    Ok(())
}

/// One of five marker shapes (filled circle, triangle, cross, hollow circle, hollow square, by
/// `index`), in `colour`, at `at`.
fn draw_marker<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    at: CT::From,
    index: usize,
    colour: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    CT::From: Clone,
{
    let (filled, outline) = (colour.filled(), colour.stroke_width(2));
    match index % 5 {
        0 => area.draw(&(EmptyElement::at(at) + Circle::new((0, 0), 4, filled))),
        1 => area.draw(&(EmptyElement::at(at) + TriangleMarker::new((0, 0), 6, filled))),
        2 => area.draw(&(EmptyElement::at(at) + Cross::new((0, 0), 5, outline))),
        3 => area.draw(&(EmptyElement::at(at) + Circle::new((0, 0), 5, outline))),
        _ => area.draw(&(EmptyElement::at(at) + Rectangle::new([(-4, -4), (4, 4)], outline))),
    }
}

fn draw_bars(bars: &Bars, svg: &mut String) -> Drawn {
    let rows = bars.bars.len().max(1);
    let height = 70 + 26 * rows as u32;
    let root = SVGBackend::with_string(svg, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let values = bars.bars.iter().map(|b| b.value);
    let mut x_range = span(values, &bars.axis, true);
    if !bars.axis.log {
        x_range.start = 0.0;
    }
    let names: Vec<String> = bars.bars.iter().rev().map(|b| b.name.clone()).collect(); // bottom up
    let mut context = ChartBuilder::on(&root)
        .caption(&bars.title, (FONT, 16))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(120)
        .build_cartesian_2d(x_range.clone(), -0.5..rows as f64 - 0.5)?;
    let axis = bars.axis.clone();
    let x_format = move |v: &f64| tick(*v, &axis);
    let y_format = move |v: &f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 {
            names.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    context
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows)
        .x_labels(labels(&x_range, &bars.axis))
        .x_desc(&bars.axis.label)
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .light_line_style(RGBColor(235, 235, 235))
        .label_style((FONT, 12))
        .draw()?;
    for (i, bar) in bars.bars.iter().enumerate() {
        let y = (rows - 1 - i) as f64; // the first bar on top
        let end = position(bar.value, &bars.axis);
        let corners = [(x_range.start, y - 0.35), (end, y + 0.35)];
        let fill = match bar.shade {
            Shade::Rust => RGBColor(60, 60, 60).filled(),
            Shade::Library => RGBColor(170, 170, 170).filled(),
            Shade::Python => WHITE.filled(),
        };
        context.draw_series([Rectangle::new(corners, fill), Rectangle::new(corners, BLACK.stroke_width(1))])?;
        let style = TextStyle::from((FONT, 11)).pos(Pos::new(HPos::Left, VPos::Center));
        context.draw_series(std::iter::once(Text::new(
            format!(" {}", format_value(bar.value, bars.axis.unit)),
            (end, y),
            style,
        )))?;
    }
    root.present()?;
    Ok(())
}

/// Where `value` sits on `axis`: its logarithm on a log axis, to base 2 for bytes (ticks at
/// powers of two: 1 KiB, 32 KiB, 1 MiB), else to base 10.
fn position(value: f64, axis: &Axis) -> f64 {
    match (axis.log, axis.unit) {
        (false, _) => value,
        (true, Unit::Bytes) => value.max(f64::MIN_POSITIVE).log2(),
        (true, _) => value.max(f64::MIN_POSITIVE).log10(),
    }
}

/// The value at `position` on `axis` (the inverse of [`position`]).
fn value_at(position: f64, axis: &Axis) -> f64 {
    match (axis.log, axis.unit) {
        (false, _) => position,
        (true, Unit::Bytes) => 2f64.powf(position),
        (true, _) => 10f64.powf(position),
    }
}

/// How many tick labels an axis over `range` gets: one per decade (or per power of two) on a log
/// axis, so that the ticks fall on whole powers; ten on a linear one.
fn labels(range: &std::ops::Range<f64>, axis: &Axis) -> usize {
    match (axis.log, axis.unit) {
        (true, _) => ((range.end - range.start).round() as usize + 1).clamp(2, 12),
        (false, Unit::Count) => (range.end - range.start).ceil() as usize + 1,
        (false, _) => 10,
    }
}

/// The range of `values` on `axis`, with a margin; from 0 for a linear axis of positive values
/// when `from_zero`.
fn span(values: impl Iterator<Item = f64>, axis: &Axis, from_zero: bool) -> std::ops::Range<f64> {
    let positions: Vec<f64> =
        values.filter(|v| v.is_finite() && (!axis.log || *v > 0.0)).map(|v| position(v, axis)).collect();
    let (mut low, mut high) =
        positions.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &p| (l.min(p), h.max(p)));
    if !low.is_finite() {
        (low, high) = (0.0, 1.0);
    }
    if axis.log {
        // Whole decades, at least one.
        return low.floor()..high.ceil().max(low.floor() + 1.0);
    }
    if from_zero && low >= 0.0 {
        low = 0.0;
    }
    if axis.unit == Unit::Count {
        return low.floor()..high.ceil().max(low.floor() + 1.0);
    }
    let pad = ((high - low) * 0.08).max(if high == 0.0 { 1.0 } else { high.abs() * 0.05 });
    low..high + pad
}

/// A tick label: the value at `position` on `axis`, in its unit.
fn tick(position: f64, axis: &Axis) -> String {
    format_value(value_at(position, axis), axis.unit)
}

/// `value` in `unit`, short.
pub fn format_value(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Bytes => perflab_labs::caches::bytes(value.round().max(0.0) as u64),
        Unit::Seconds => crate::report::format_seconds(value),
        Unit::Percent => format!("{:.0}%", value * 100.0),
        Unit::Plain => plain(value),
        Unit::Count if (value - value.round()).abs() < 1e-9 => format!("{value:.0}"),
        Unit::Count => String::new(),
    }
}

/// Three significant digits at most, with K and M for large values.
fn plain(value: f64) -> String {
    let a = value.abs();
    match a {
        a if a >= 1e6 => format!("{}M", format!("{:.2}", value / 1e6).trim_end_matches('0').trim_end_matches('.')),
        a if a >= 1e4 => format!("{:.0}K", value / 1e3),
        a if a >= 100.0 => format!("{value:.0}"),
        a if a >= 10.0 => format!("{value:.1}").trim_end_matches(".0").to_string(),
        a if a >= 0.01 || a == 0.0 => format!("{value:.2}").trim_end_matches('0').trim_end_matches('.').to_string(),
        _ => format!("{value:.1e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(log: bool, unit: Unit) -> Axis {
        Axis { label: "x".into(), log, unit }
    }

    #[test]
    fn a_line_chart_has_a_path_per_joined_series_and_a_label_per_mark() {
        let chart = LineChart {
            title: "sweep".into(),
            x: axis(true, Unit::Bytes),
            y: axis(false, Unit::Percent),
            series: vec![Series {
                name: "simd".into(),
                points: vec![(1e4, 0.8), (1e6, 0.7), (1e8, 0.3)],
                joined: true,
                point_labels: vec![],
            }],
            guides: vec![Guide { label: "ideal".into(), points: vec![(1e4, 1.0), (1e8, 1.0)] }],
            marks: vec![Mark { x: 32768.0, label: "L1d 32 KiB".into() }],
        };
        let svg = line_chart(&chart);
        assert!(svg.starts_with("<svg") && svg.contains("L1d 32 KiB") && svg.contains("simd"), "{svg}");
        assert!(svg.contains("<polyline") || svg.contains("<path"), "no line drawn: {svg}");
    }

    #[test]
    fn bars_carry_their_values_in_the_axis_unit() {
        let bars = Bars {
            title: "time".into(),
            axis: axis(true, Unit::Seconds),
            bars: vec![
                Bar { name: "naive".into(), value: 2.0, shade: Shade::Rust },
                Bar { name: "numpy".into(), value: 2e-3, shade: Shade::Library },
            ],
        };
        let svg = bar_chart(&bars);
        assert!(svg.contains("2.00 s") && svg.contains("2.00 ms") && svg.contains("numpy"), "{svg}");
        assert!(svg.matches("<rect").count() >= 4, "two bars, filled and outlined: {svg}");
    }

    #[test]
    fn log_ticks_read_back_as_values() {
        assert_eq!(tick(3.0, &axis(true, Unit::Plain)), "1000");
        assert_eq!(tick(0.5, &axis(false, Unit::Percent)), "50%");
        assert_eq!(plain(0.25), "0.25");
        assert_eq!(plain(2_500_000.0), "2.5M");
    }
}
