//! Drawing a chart specification on any plotters backend.
//!
//! Layout (see `legend.rs`): the title across the top, the plot on the left, and the legend in
//! its own column on the right, as wide as its longest label needs, so it never hides data
//! and never cuts a name. Each strategy keeps its colour, dash pattern, marker shape and line
//! width in every chart (by its position in the report), and lines are drawn in that order,
//! the first widest, so strategies whose curves coincide stay visible one on top of the
//! other. Markers sit on every point of short lines and on a few points of long ones,
//! staggered per strategy. SLO thresholds are dashed dark-red reference lines with their
//! label; the warm-up is a grey band.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::data::{BarChart, Body, Chart, Line, LineChart, Threshold};
use super::legend::{self, Layout};

/// The result of drawing on backend `DB`.
pub(super) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Lines with at most this many points get a marker on every point; longer ones about
/// [`SPARSE_MARKERS`] markers.
const MARKER_LIMIT: usize = 40;
const SPARSE_MARKERS: usize = 10;
const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(40, 40, 40);
const GRID: RGBColor = RGBColor(215, 215, 215);
const GRID_LIGHT: RGBColor = RGBColor(238, 238, 238);
const SLO_INK: RGBColor = RGBColor(170, 30, 30);

/// Dash patterns `(dash, gap)` in pixels by strategy position; `None` is solid.
const PATTERNS: [Option<(u32, u32)>; 5] = [
    None,
    Some((14, 6)),
    Some((3, 5)),
    Some((9, 4)),
    Some((22, 8)),
];

/// Marker shapes by strategy position.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Marker {
    Circle,
    Triangle,
    Square,
    Diamond,
    Cross,
}

const MARKERS: [Marker; 5] = [
    Marker::Circle,
    Marker::Triangle,
    Marker::Square,
    Marker::Diamond,
    Marker::Cross,
];

/// How a strategy's line looks: colour, dash pattern, marker and width.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Look {
    color: RGBColor,
    pattern: Option<(u32, u32)>,
    marker: Marker,
    width: u32,
}

impl Look {
    /// The look of strategy `style`; the first strategies are drawn widest, so a later line
    /// drawn on top of an identical one leaves its edges visible.
    fn of(line: &Line) -> Self {
        let i = line.style;
        let wide = 5u32.saturating_sub(i.min(3) as u32);
        Self {
            color: rgb(line.color),
            pattern: PATTERNS[i % PATTERNS.len()],
            marker: MARKERS[(i / PATTERNS.len() + i) % MARKERS.len()],
            width: if line.thin { (wide / 2).max(1) } else { wide },
        }
    }
}

/// Draws `chart` filling `root`, laid out by `layout`.
pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart,
    layout: &Layout,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let title = TextStyle::from((FONT, 26, FontStyle::Bold).into_font()).color(&INK);
    let body = root.margin(14, 0, 0, 0).titled(&chart.title, title)?;
    let width = body.dim_in_pixel().0;
    let (plot, legend) = body.split_horizontally(width.saturating_sub(layout.legend_width));
    let entries: Vec<Sample> = match &chart.body {
        Body::Lines(c) => {
            draw_lines(&plot, c)?;
            let labelled = c.lines.iter().filter(|l| l.label.is_some());
            labelled.map(|l| Sample::Line(Look::of(l))).collect()
        }
        Body::Bars(b) => {
            draw_bars(&plot, b, &layout.groups)?;
            b.series
                .iter()
                .map(|s| Sample::Swatch(rgb(s.color)))
                .collect()
        }
    };
    draw_legend(&legend, &entries, layout)?;
    root.present()
}

fn rgb((r, g, b): (u8, u8, u8)) -> RGBColor {
    RGBColor(r, g, b)
}

fn draw_lines<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &LineChart) -> DrawResult<DB> {
    let (vertical, horizontal): (Vec<&Threshold>, Vec<&Threshold>) =
        c.thresholds.iter().partition(|t| t.vertical);
    let data_x = c.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
    let xs = data_x.chain(vertical.iter().map(|t| t.value));
    let data_y = c.lines.iter().flat_map(|l| l.points.iter().map(|p| p.1));
    let (x, y) = if c.diagonal {
        // One range for both: logarithmic (and the same decades) with `log_x`.
        // Log axes get a fifth of a decade's room, so no marker sits on an axis.
        let both = if c.log_x {
            Axis::log(xs.chain(data_y).flat_map(|v| [v / 1.6, v * 1.6]))
        } else {
            Axis::from_zero(xs.chain(data_y))
        };
        (both.clone(), both)
    } else {
        let x = if c.log_x {
            Axis::log(xs)
        } else {
            Axis::exact(xs)
        };
        let y = match c.y_range {
            Some((lo, hi)) => Axis::fixed(lo, hi),
            None => Axis::from_zero(data_y.chain(horizontal.iter().map(|t| t.value))),
        };
        (x, y)
    };
    let (x_fmt, y_fmt) = (|v: &f64| x.label(*v), |v: &f64| y.label(*v));
    let frame = Frame {
        x: &x,
        y: &y,
        x_label: &c.x_label,
        y_label: &c.y_label,
        x_fmt: &x_fmt,
        y_fmt: &y_fmt,
        x_label_area: 56,
    };
    let mut chart = frame.draw(area)?;
    if let Some(band) = c.warmup {
        draw_warmup(&mut chart, band, (&x, &y))?;
    }
    if c.diagonal {
        let ends = [(x.lo, x.lo), (x.hi, x.hi)];
        chart.draw_series(DashedLineSeries::new(
            ends,
            8,
            6,
            INK.mix(0.45).stroke_width(2),
        ))?;
    }
    let coords = |line: &Line| -> Vec<(f64, f64)> {
        line.points
            .iter()
            .map(|&(px, py)| (x.coord(px), y.coord(py)))
            .collect()
    };
    for line in c.lines.iter().filter(|_| !c.scatter) {
        draw_line(&mut chart, Look::of(line), coords(line))?;
    }
    let styles = c.lines.iter().map(|l| l.style + 1).max().unwrap_or(1);
    for line in c.lines.iter().filter(|l| !l.thin) {
        let points = marker_points(&coords(line), line.style, styles);
        draw_markers(&mut chart, Look::of(line), points)?;
    }
    for t in horizontal {
        draw_threshold(&mut chart, t, t.value, (&x, &y))?;
    }
    for t in vertical {
        draw_threshold(&mut chart, t, x.coord(t.value), (&x, &y))?;
    }
    Ok(())
}

/// The points that get a marker: all of a short line; about [`SPARSE_MARKERS`] of a long one,
/// shifted by the strategy's share of a step so coinciding lines show each marker.
fn marker_points(points: &[(f64, f64)], style: usize, styles: usize) -> Vec<(f64, f64)> {
    if points.len() <= MARKER_LIMIT {
        return points.to_vec();
    }
    let step = points.len() / SPARSE_MARKERS;
    let offset = step * (style % styles) / styles;
    points.iter().skip(offset).step_by(step).copied().collect()
}

/// A grey band over the warm-up, labelled at its top.
fn draw_warmup<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Coords>,
    (from, to): (f64, f64),
    (x, y): (&Axis, &Axis),
) -> DrawResult<DB> {
    let (from, to) = (x.coord(from).max(x.lo), x.coord(to).min(x.hi));
    if to <= from {
        return Ok(());
    }
    let band = Rectangle::new([(from, y.lo), (to, y.hi)], INK.mix(0.08).filled());
    chart.draw_series(std::iter::once(band))?;
    let grey = INK.mix(0.7);
    let style = TextStyle::from((FONT, 13).into_font())
        .color(&grey)
        .pos(Pos::new(HPos::Left, VPos::Top));
    let label = EmptyElement::at((from, y.hi)) + Text::new("warm-up", (5, 5), style);
    chart.draw_series(std::iter::once(label))?;
    Ok(())
}

/// An SLO threshold: a dashed line across the plot at `at` (y, or x when vertical), labelled.
fn draw_threshold<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Coords>,
    t: &Threshold,
    at: f64,
    (x, y): (&Axis, &Axis),
) -> DrawResult<DB> {
    let style = SLO_INK.stroke_width(2);
    let (ends, anchor, offset, pos) = if t.vertical {
        let pos = Pos::new(HPos::Left, VPos::Bottom);
        ([(at, y.lo), (at, y.hi)], (at, y.lo), (6, -12), pos)
    } else {
        let pos = Pos::new(HPos::Right, VPos::Bottom);
        ([(x.lo, at), (x.hi, at)], (x.hi, at), (-6, -4), pos)
    };
    chart.draw_series(DashedLineSeries::new(ends, 10, 6, style))?;
    let text = TextStyle::from((FONT, 14).into_font())
        .color(&SLO_INK)
        .pos(pos);
    let label = EmptyElement::at(anchor) + Text::new(t.label.clone(), offset, text);
    chart.draw_series(std::iter::once(label))?;
    Ok(())
}

/// Axes, labels and grid shared by every chart.
struct Frame<'a> {
    x: &'a Axis,
    y: &'a Axis,
    x_label: &'a str,
    y_label: &'a str,
    x_fmt: &'a dyn Fn(&f64) -> String,
    y_fmt: &'a dyn Fn(&f64) -> String,
    /// Height of the area under the plot, pixels.
    x_label_area: u32,
}

impl Frame<'_> {
    /// Builds the chart on `area` and draws its axes and grid (no vertical grid lines for
    /// categories).
    fn draw<'b, DB: DrawingBackend>(
        &self,
        area: &'b DrawingArea<DB, Shift>,
    ) -> Result<ChartContext<'b, DB, Coords>, DrawingAreaErrorKind<DB::ErrorType>> {
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(self.x_label_area)
            .y_label_area_size(84)
            .build_cartesian_2d(self.x.clone(), self.y.clone())?;
        let mut mesh = chart.configure_mesh();
        if self.x.categorical {
            mesh.disable_x_mesh();
        }
        mesh.x_desc(self.x_label)
            .y_desc(self.y_label)
            .x_label_formatter(self.x_fmt)
            .y_label_formatter(self.y_fmt)
            .label_style((FONT, 16).into_font().color(&INK))
            .axis_desc_style((FONT, 18).into_font().color(&INK))
            .bold_line_style(GRID)
            .light_line_style(GRID_LIGHT)
            .axis_style(INK.mix(0.6))
            .draw()?;
        Ok(chart)
    }
}

/// The coordinates of every chart: f64 on both axes, with our own ticks.
type Coords = Cartesian2d<Axis, Axis>;

fn draw_line<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Coords>,
    look: Look,
    points: Vec<(f64, f64)>,
) -> DrawResult<DB> {
    let style = look.color.stroke_width(look.width);
    match look.pattern {
        Some((dash, gap)) => {
            chart.draw_series(DashedLineSeries::new(points, dash, gap, style))?;
        }
        None => {
            chart.draw_series(LineSeries::new(points, style))?;
        }
    }
    Ok(())
}

/// The marker of `look` at each of `points` (data coordinates).
fn draw_markers<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Coords>,
    look: Look,
    points: Vec<(f64, f64)>,
) -> DrawResult<DB> {
    let (fill, stroke) = (look.color.filled(), look.color.stroke_width(3));
    let at = points.into_iter().map(EmptyElement::at);
    match look.marker {
        Marker::Circle => chart.draw_series(at.map(|e| e + Circle::new((0, 0), 5, fill)))?,
        Marker::Triangle => {
            chart.draw_series(at.map(|e| e + TriangleMarker::new((0, 0), 7, fill)))?
        }
        Marker::Square => {
            chart.draw_series(at.map(|e| e + Rectangle::new([(-5, -5), (5, 5)], fill)))?
        }
        Marker::Diamond => {
            let diamond = || Polygon::new(vec![(0, -7), (7, 0), (0, 7), (-7, 0)], fill);
            chart.draw_series(at.map(|e| e + diamond()))?
        }
        Marker::Cross => chart.draw_series(at.map(|e| e + Cross::new((0, 0), 5, stroke)))?,
    };
    Ok(())
}

fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    b: &BarChart,
    names: &[Vec<String>],
) -> DrawResult<DB> {
    let n = b.groups.len();
    let values = || b.series.iter().flat_map(|s| s.values.iter().flatten());
    let tops = values().map(|(v, ci)| v + ci).chain(values().map(|p| p.0));
    let y = Axis::from_zero(tops.chain(b.thresholds.iter().map(|t| t.value)));
    let x = Axis::categories(n);
    let y_fmt = |v: &f64| y.label(*v);
    let rows = names.iter().map(Vec::len).max().unwrap_or(1) as u32;
    let frame = Frame {
        x: &x,
        y: &y,
        x_label: "",
        y_label: &b.y_label,
        x_fmt: &|_| String::new(),
        y_fmt: &y_fmt,
        x_label_area: 16 + rows * legend::LABEL_LINE as u32,
    };
    let mut chart = frame.draw(area)?;
    draw_group_names(&mut chart, names, y.lo)?;
    let width = 0.7 / b.series.len().max(1) as f64;
    for (k, series) in b.series.iter().enumerate() {
        for (g, value) in series.values.iter().enumerate() {
            let left = g as f64 - 0.35 + k as f64 * width;
            let right = left + width * 0.9;
            match *value {
                Some((value, ci)) => {
                    let bar = Bar {
                        left,
                        right,
                        value,
                        ci,
                        floor: y.lo,
                        ceiling: y.hi,
                    };
                    draw_bar(&mut chart, &bar, rgb(series.color))?;
                }
                None => draw_above(&mut chart, ((left + right) / 2.0, y.lo), "n/a".into())?,
            }
        }
    }
    for t in &b.thresholds {
        draw_threshold(&mut chart, t, t.value, (&x, &y))?;
    }
    Ok(())
}

/// Each category's name under its slot, on as many lines as it was wrapped to.
fn draw_group_names<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Coords>,
    names: &[Vec<String>],
    floor: f64,
) -> DrawResult<DB> {
    let style = TextStyle::from((FONT, legend::LABEL_FONT).into_font())
        .color(&INK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for (g, lines) in names.iter().enumerate() {
        for (k, line) in lines.iter().enumerate() {
            let dy = 10 + k as i32 * legend::LABEL_LINE;
            let text = Text::new(line.clone(), (0, dy), style.clone());
            chart.draw_series(std::iter::once(EmptyElement::at((g as f64, floor)) + text))?;
        }
    }
    Ok(())
}

/// A small label centred just above `at` (data coordinates).
fn draw_above<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Coords>,
    at: (f64, f64),
    text: String,
) -> DrawResult<DB> {
    let style = TextStyle::from((FONT, 14).into_font())
        .color(&INK)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    chart.draw_series(std::iter::once(
        EmptyElement::at(at) + Text::new(text, (0, -5), style),
    ))?;
    Ok(())
}

/// One bar in data coordinates, with its whisker and the visible y range.
struct Bar {
    left: f64,
    right: f64,
    value: f64,
    ci: f64,
    floor: f64,
    ceiling: f64,
}

/// A bar, its CI whisker (clamped to the visible range) and its value above.
fn draw_bar<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Coords>,
    bar: &Bar,
    color: RGBColor,
) -> DrawResult<DB> {
    let base = 0f64.clamp(bar.floor, bar.ceiling);
    let rect = Rectangle::new([(bar.left, base), (bar.right, bar.value)], color.filled());
    chart.draw_series(std::iter::once(rect))?;
    let mid = (bar.left + bar.right) / 2.0;
    let cap = (bar.right - bar.left) / 4.0;
    let (low, high) = (
        (bar.value - bar.ci).max(bar.floor),
        (bar.value + bar.ci).min(bar.ceiling),
    );
    let ink = INK.stroke_width(2);
    if bar.ci > 0.0 {
        let whisker = [
            vec![(mid, low), (mid, high)],
            vec![(mid - cap, low), (mid + cap, low)],
            vec![(mid - cap, high), (mid + cap, high)],
        ];
        chart.draw_series(whisker.into_iter().map(|p| PathElement::new(p, ink)))?;
    }
    draw_above(chart, (mid, high), value_label(bar.value))
}

/// A bar value with three significant figures or so.
fn value_label(v: f64) -> String {
    let magnitude = if v == 0.0 {
        1.0
    } else {
        10f64.powf(v.abs().log10().floor() - 2.0)
    };
    super::axis::number(v, magnitude.max(0.001))
}

/// What a legend row shows left of its label.
enum Sample {
    /// A line as drawn in the chart, with its marker.
    Line(Look),
    /// A filled square, for bars.
    Swatch(RGBColor),
}

/// The legend column: a sample and the (wrapped) label per entry, then the note.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    samples: &[Sample],
    layout: &Layout,
) -> DrawResult<DB> {
    let text = TextStyle::from((FONT, legend::LABEL_FONT).into_font())
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let mut y = 24;
    for (sample, lines) in samples.iter().zip(&layout.entries) {
        draw_sample(area, sample, y)?;
        for line in lines {
            area.draw(&Text::new(line.clone(), (legend::LABEL_X, y), text.clone()))?;
            y += legend::LABEL_LINE;
        }
        y += legend::ENTRY_GAP;
    }
    let grey = INK.mix(0.75);
    let small = TextStyle::from((FONT, legend::NOTE_FONT).into_font())
        .color(&grey)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for line in &layout.note {
        area.draw(&Text::new(line.clone(), (8, y + 8), small.clone()))?;
        y += legend::NOTE_LINE;
    }
    Ok(())
}

/// The sample of a legend row, centred on `y`.
fn draw_sample<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sample: &Sample,
    y: i32,
) -> DrawResult<DB> {
    let look = match sample {
        Sample::Swatch(color) => {
            return area.draw(&Rectangle::new([(12, y - 8), (28, y + 8)], color.filled()));
        }
        Sample::Line(look) => *look,
    };
    let style = look.color.stroke_width(look.width);
    let ends = vec![(2, y), (42, y)];
    match look.pattern {
        Some((dash, gap)) => area.draw(&DashedPathElement::new(ends, dash, gap, style))?,
        None => area.draw(&PathElement::new(ends, style))?,
    }
    let fill = look.color.filled();
    let at = EmptyElement::at((22, y));
    match look.marker {
        Marker::Circle => area.draw(&(at + Circle::new((0, 0), 5, fill))),
        Marker::Triangle => area.draw(&(at + TriangleMarker::new((0, 0), 7, fill))),
        Marker::Square => area.draw(&(at + Rectangle::new([(-5, -5), (5, 5)], fill))),
        Marker::Diamond => {
            area.draw(&(at + Polygon::new(vec![(0, -7), (7, 0), (0, 7), (-7, 0)], fill)))
        }
        Marker::Cross => area.draw(&(at + Cross::new((0, 0), 5, look.color.stroke_width(3)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_get_distinct_looks_in_a_fixed_order() {
        let line = |style| Line {
            strategy: String::new(),
            label: None,
            color: (0, 0, 0),
            style,
            thin: false,
            points: vec![],
        };
        let looks: Vec<Look> = (0..10).map(|i| Look::of(&line(i))).collect();
        for (i, a) in looks.iter().enumerate() {
            for b in &looks[i + 1..] {
                assert!((a.pattern, a.marker) != (b.pattern, b.marker));
            }
        }
        assert!(looks[0].width > looks[1].width && looks[1].width > looks[2].width);
    }

    #[test]
    fn long_lines_get_staggered_sparse_markers() {
        let pts: Vec<(f64, f64)> = (0..100).map(|i| (f64::from(i), 0.0)).collect();
        let a = marker_points(&pts, 0, 2);
        let b = marker_points(&pts, 1, 2);
        assert_eq!(a.len(), 10);
        assert_ne!(a[0], b[0]);
        assert_eq!(marker_points(&pts[..5], 1, 2).len(), 5);
    }
}
