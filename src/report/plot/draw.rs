//! Drawing a chart specification on any plotters backend.
//!
//! Layout (1000×600): the title across the top, the plot on the left, and the legend in its
//! own column on the right, so it never hides data however many lines there are. Lines with
//! few points get markers, so a single time point or a two-point sweep stays visible.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::data::{BarChart, BarSeries, Body, Chart, Line, LineChart};

/// The result of drawing on backend `DB`.
pub(super) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Width of the legend column, pixels.
const LEGEND_WIDTH: u32 = 220;
/// Characters of a legend label that fit in the legend column.
const LEGEND_CHARS: usize = 22;
/// Lines with at most this many points also get a marker per point.
const MARKER_LIMIT: usize = 40;
const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(40, 40, 40);
const GRID: RGBColor = RGBColor(215, 215, 215);
const GRID_LIGHT: RGBColor = RGBColor(238, 238, 238);

/// Draws `chart` filling `root`.
pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let title = TextStyle::from((FONT, 26, FontStyle::Bold).into_font()).color(&INK);
    let body = root.margin(14, 0, 0, 0).titled(&chart.title, title)?;
    let width = body.dim_in_pixel().0;
    let (plot, legend) = body.split_horizontally(width.saturating_sub(LEGEND_WIDTH));
    let entries: Vec<Entry<'_>> = match &chart.body {
        Body::Lines(c) => {
            draw_lines(&plot, c)?;
            c.lines
                .iter()
                .map(|l| Entry::line(l, c.lines.iter().any(has_markers)))
                .collect()
        }
        Body::Bars(b) => {
            draw_bars(&plot, b)?;
            b.series.iter().map(Entry::swatch).collect()
        }
    };
    draw_legend(&legend, &entries, chart.note.as_deref())?;
    root.present()
}

fn has_markers(line: &Line) -> bool {
    line.points.len() <= MARKER_LIMIT
}

fn rgb((r, g, b): (u8, u8, u8)) -> RGBColor {
    RGBColor(r, g, b)
}

fn draw_lines<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &LineChart) -> DrawResult<DB> {
    let xs = c.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
    let x = if c.log_x {
        Axis::log(xs)
    } else {
        Axis::exact(xs)
    };
    let ys = c.lines.iter().flat_map(|l| l.points.iter().map(|p| p.1));
    let y = match c.y_range {
        Some((lo, hi)) => Axis::fixed(lo, hi),
        None => Axis::from_zero(ys),
    };
    let (x_fmt, y_fmt) = (|v: &f64| x.label(*v), |v: &f64| y.label(*v));
    let frame = Frame {
        x: &x,
        y: &y,
        x_label: &c.x_label,
        y_label: &c.y_label,
        x_fmt: &x_fmt,
        y_fmt: &y_fmt,
    };
    let mut chart = frame.draw(area)?;
    for line in &c.lines {
        let points: Vec<(f64, f64)> = line
            .points
            .iter()
            .map(|&(px, py)| (x.coord(px), py))
            .collect();
        draw_line(&mut chart, line, points)?;
    }
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
            .x_label_area_size(56)
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
    line: &Line,
    points: Vec<(f64, f64)>,
) -> DrawResult<DB> {
    let color = rgb(line.color);
    let style = color.stroke_width(3);
    if line.dashed {
        chart.draw_series(DashedLineSeries::new(points.clone(), 10, 6, style))?;
    } else {
        chart.draw_series(LineSeries::new(points.clone(), style))?;
    }
    if has_markers(line) {
        let marker = |p: (f64, f64)| Circle::new(p, 4, color.filled());
        chart.draw_series(points.into_iter().map(marker))?;
    }
    Ok(())
}

fn draw_bars<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, b: &BarChart) -> DrawResult<DB> {
    let n = b.groups.len();
    let values = || b.series.iter().flat_map(|s| s.values.iter().flatten());
    let y = Axis::from_zero(values().map(|(v, ci)| v + ci).chain(values().map(|p| p.0)));
    let x = Axis::categories(n);
    let fits = (area.dim_in_pixel().0 as usize / n.max(1) / 9).max(4);
    let x_fmt = |v: &f64| group_label(&b.groups, *v, fits);
    let y_fmt = |v: &f64| y.label(*v);
    let frame = Frame {
        x: &x,
        y: &y,
        x_label: "",
        y_label: &b.y_label,
        x_fmt: &x_fmt,
        y_fmt: &y_fmt,
    };
    let mut chart = frame.draw(area)?;
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

/// The name of the group at tick `v`, shortened to `fits` characters.
fn group_label(groups: &[String], v: f64, fits: usize) -> String {
    let i = v.round();
    if i < 0.0 || (i as usize) >= groups.len() {
        return String::new();
    }
    shorten(&groups[i as usize], fits)
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
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

/// One legend row.
struct Entry<'a> {
    label: &'a str,
    color: (u8, u8, u8),
    sample: Sample,
}

impl<'a> Entry<'a> {
    fn swatch(series: &'a BarSeries) -> Self {
        Self {
            label: &series.label,
            color: series.color,
            sample: Sample::Swatch,
        }
    }

    fn line(line: &'a Line, marker: bool) -> Self {
        Self {
            label: &line.label,
            color: line.color,
            sample: Sample::Line {
                dashed: line.dashed,
                marker,
            },
        }
    }
}

/// What a legend row shows next to its label.
enum Sample {
    /// A line sample, as drawn in the chart.
    Line { dashed: bool, marker: bool },
    /// A filled square, for bars.
    Swatch,
}

/// The legend column: a sample and a label per entry, then the note (wrapped); rows that do
/// not fit are summarised as `+ n more`.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry<'_>],
    note: Option<&str>,
) -> DrawResult<DB> {
    const ROW: i32 = 24;
    let height = area.dim_in_pixel().1 as i32;
    let fit = ((height - 100) / ROW).max(1) as usize;
    let text = TextStyle::from((FONT, 14).into_font())
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let mut y = 24;
    for (i, entry) in entries.iter().enumerate() {
        if i + 1 == fit && entries.len() > fit {
            area.draw(&Text::new(
                format!("+ {} more", entries.len() - i),
                (8, y),
                text.clone(),
            ))?;
            y += ROW;
            break;
        }
        draw_sample(area, entry, y)?;
        area.draw(&Text::new(
            shorten(entry.label, LEGEND_CHARS),
            (44, y),
            text.clone(),
        ))?;
        y += ROW;
    }
    let grey = INK.mix(0.75);
    let small = TextStyle::from((FONT, 12).into_font())
        .color(&grey)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for line in wrap(note.unwrap_or(""), LEGEND_CHARS + 6) {
        area.draw(&Text::new(line, (8, y + 8), small.clone()))?;
        y += 16;
    }
    Ok(())
}

/// Splits `text` into lines of at most `width` characters at spaces (longer words are kept).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The sample of a legend row.
fn draw_sample<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entry: &Entry<'_>,
    y: i32,
) -> DrawResult<DB> {
    let color = rgb(entry.color);
    let (dashed, marker) = match entry.sample {
        Sample::Swatch => {
            return area.draw(&Rectangle::new([(12, y - 8), (28, y + 8)], color.filled()));
        }
        Sample::Line { dashed, marker } => (dashed, marker),
    };
    let segments: &[(i32, i32)] = if dashed {
        &[(4, 13), (17, 26), (30, 38)]
    } else {
        &[(4, 38)]
    };
    for &(a, b) in segments {
        area.draw(&PathElement::new(
            vec![(a, y), (b, y)],
            color.stroke_width(3),
        ))?;
    }
    if marker {
        area.draw(&Circle::new((21, y), 4, color.filled()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces() {
        assert_eq!(
            wrap("whiskers: 95 % CI over replications", 20),
            ["whiskers: 95 % CI", "over replications"]
        );
        assert!(wrap("", 10).is_empty());
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(group_label(&["a".into()], 3.0, 5), "");
    }
}
