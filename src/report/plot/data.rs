//! From a [`Report`] to chart specifications: plain data, no drawing.
//!
//! Each strategy keeps one colour in every chart (its position in the report), so a reader
//! can follow it from chart to chart. Points with a non-finite coordinate are dropped here, so
//! the drawing code only ever sees finite numbers, and a chart whose lines are all empty is
//! not produced at all.

use std::collections::BTreeMap;

use crate::report::summary::{Cdf, Latency, Report, StrategySummary, SweepPoint};

/// Tableau 10, reordered so the first colours are the most distinct; readable on white.
pub(super) const PALETTE: [(u8, u8, u8); 10] = [
    (78, 121, 167),
    (242, 142, 43),
    (89, 161, 79),
    (225, 87, 89),
    (176, 122, 161),
    (118, 183, 178),
    (156, 117, 95),
    (255, 157, 167),
    (186, 176, 172),
    (237, 201, 72),
];

/// A chart ready to draw.
pub(super) struct Chart {
    /// File stem.
    pub(super) name: String,
    pub(super) title: String,
    /// A short line under the legend (e.g. how replications were combined).
    pub(super) note: Option<String>,
    pub(super) body: Body,
}

pub(super) enum Body {
    Lines(LineChart),
    Bars(BarChart),
}

/// Lines over a numeric x axis.
pub(super) struct LineChart {
    pub(super) x_label: String,
    pub(super) y_label: String,
    /// Logarithmic x axis (all x are then positive).
    pub(super) log_x: bool,
    /// Fixed y range, e.g. `0..1` for a CDF; otherwise from the data, including zero.
    pub(super) y_range: Option<(f64, f64)>,
    pub(super) lines: Vec<Line>,
}

pub(super) struct Line {
    pub(super) label: String,
    pub(super) color: (u8, u8, u8),
    pub(super) dashed: bool,
    /// Finite points, sorted by x.
    pub(super) points: Vec<(f64, f64)>,
}

impl Line {
    fn solid(label: &str, color: (u8, u8, u8), points: Vec<(f64, f64)>) -> Self {
        Self {
            label: label.to_string(),
            color,
            dashed: false,
            points,
        }
    }
}

impl Chart {
    fn lines(name: String, title: String, note: Option<String>, body: LineChart) -> Self {
        Self {
            name,
            title,
            note,
            body: Body::Lines(body),
        }
    }
}

/// Grouped bars (one group per strategy) with CI whiskers.
pub(super) struct BarChart {
    pub(super) y_label: String,
    pub(super) groups: Vec<String>,
    pub(super) series: Vec<BarSeries>,
}

pub(super) struct BarSeries {
    pub(super) label: String,
    pub(super) color: (u8, u8, u8),
    /// `(value, ci95)` per group; `None` when not finite.
    pub(super) values: Vec<Option<(f64, f64)>>,
}

/// Every chart the report has data for.
pub(super) fn charts(report: &Report) -> Vec<Chart> {
    let colors = Colors::new(report);
    let mut charts = Vec::new();
    if let Some(first) = report.summary.points.first() {
        let points = &report.summary.points;
        charts.push(latency_vs_load(points, &first.parameter, &colors));
        charts.push(cost_vs_load(points, &first.parameter, &colors));
    }
    charts.push(latency_cdf(report, &colors));
    charts.extend(timeseries(report, &colors));
    charts.push(latency_bars(&report.summary.strategies));
    charts.retain(has_data);
    charts
}

fn has_data(chart: &Chart) -> bool {
    match &chart.body {
        Body::Lines(c) => c.lines.iter().any(|l| !l.points.is_empty()),
        Body::Bars(b) => !b.groups.is_empty(),
    }
}

/// Strategy name → palette colour, in order of first appearance in the report.
struct Colors(Vec<String>);

impl Colors {
    fn new(report: &Report) -> Self {
        let summary = &report.summary;
        let names = summary.strategies.iter().map(|s| &s.name);
        let swept = summary
            .points
            .iter()
            .flat_map(|p| p.strategies.iter().map(|s| &s.name));
        let cdf = report.cdfs.iter().map(|c| &c.strategy);
        let series = report.timeseries.iter().map(|r| &r.strategy);
        let mut order: Vec<String> = Vec::new();
        for name in names.chain(swept).chain(cdf).chain(series) {
            if !order.contains(name) {
                order.push(name.clone());
            }
        }
        Self(order)
    }

    fn of(&self, name: &str) -> (u8, u8, u8) {
        let i = self.0.iter().position(|n| n == name).unwrap_or(0);
        PALETTE[i % PALETTE.len()]
    }

    fn names(&self) -> &[String] {
        &self.0
    }
}

/// Most points a line keeps; beyond this the chart cannot show more detail, and the SVG
/// inlined in the HTML page would only grow.
const MAX_POINTS: usize = 1500;

/// The finite points, sorted by x, thinned to at most about [`MAX_POINTS`] (evenly, keeping
/// the last point).
fn finite(points: impl IntoIterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let mut points: Vec<_> = points
        .into_iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let step = points.len().div_ceil(MAX_POINTS).max(1);
    if step > 1 {
        let last = points[points.len() - 1];
        points = points.into_iter().step_by(step).collect();
        if points.last() != Some(&last) {
            points.push(last);
        }
    }
    points
}

/// `(point value, metric)` for one strategy across the sweep.
fn along_sweep(
    points: &[SweepPoint],
    name: &str,
    metric: fn(&StrategySummary) -> f64,
) -> Vec<(f64, f64)> {
    let at = |p: &SweepPoint| {
        p.strategies
            .iter()
            .find(|s| s.name == name)
            .map(|s| (p.value, metric(s)))
    };
    finite(points.iter().filter_map(at))
}

fn sweep_names(points: &[SweepPoint], colors: &Colors) -> Vec<String> {
    let present = |n: &String| {
        points
            .iter()
            .any(|p| p.strategies.iter().any(|s| &s.name == n))
    };
    colors
        .names()
        .iter()
        .filter(|n| present(n))
        .cloned()
        .collect()
}

fn latency_vs_load(points: &[SweepPoint], parameter: &str, colors: &Colors) -> Chart {
    let mut lines = Vec::new();
    for name in sweep_names(points, colors) {
        let color = colors.of(&name);
        let p50 = along_sweep(points, &name, |s| s.latency_ms.p50);
        lines.push(Line::solid(&format!("{name} p50"), color, p50));
        let p99 = along_sweep(points, &name, |s| s.latency_ms.p99);
        lines.push(Line {
            dashed: true,
            ..Line::solid(&format!("{name} p99"), color, p99)
        });
    }
    let body = sweep_body(parameter, "Latency (ms)", lines);
    let note = Some("solid: p50, dashed: p99".into());
    Chart::lines(
        "latency_vs_load".into(),
        format!("Latency vs {parameter}"),
        note,
        body,
    )
}

fn cost_vs_load(points: &[SweepPoint], parameter: &str, colors: &Colors) -> Chart {
    let line = |name: String| {
        let cost = along_sweep(points, &name, |s| s.cost.per_hour);
        Line::solid(&name, colors.of(&name), cost)
    };
    let lines = sweep_names(points, colors).into_iter().map(line).collect();
    let body = sweep_body(parameter, "Cost per hour", lines);
    Chart::lines(
        "cost_vs_load".into(),
        format!("Cost vs {parameter}"),
        None,
        body,
    )
}

/// Lines over the swept parameter, y from zero.
fn sweep_body(parameter: &str, y_label: &str, lines: Vec<Line>) -> LineChart {
    let (x_label, y_label) = (parameter.to_string(), y_label.to_string());
    LineChart {
        x_label,
        y_label,
        log_x: false,
        y_range: None,
        lines,
    }
}

/// The CDF, with a log x axis when latencies span more than a factor of 20.
fn latency_cdf(report: &Report, colors: &Colors) -> Chart {
    let log_x = spans_decades(
        report
            .cdfs
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.0)),
    );
    let line = |c: &Cdf| {
        let points = finite(c.points.iter().copied().filter(|p| !log_x || p.0 > 0.0));
        Line::solid(&c.strategy, colors.of(&c.strategy), points)
    };
    let x_label = if log_x {
        "Latency (ms, log scale)"
    } else {
        "Latency (ms)"
    };
    let body = LineChart {
        x_label: x_label.into(),
        y_label: "Fraction of requests ≤ latency".into(),
        log_x,
        y_range: Some((0.0, 1.0)),
        lines: report.cdfs.iter().map(line).collect(),
    };
    let title = "Latency distribution (CDF)".to_string();
    Chart::lines("latency_cdf".into(), title, None, body)
}

/// Whether the positive finite values span a factor of 20 or more.
fn spans_decades(values: impl Iterator<Item = f64>) -> bool {
    let positive = values.filter(|x| x.is_finite() && *x > 0.0);
    let (lo, hi) = positive.fold((f64::INFINITY, 0.0_f64), |(l, h), x| (l.min(x), h.max(x)));
    hi > 0.0 && hi / lo >= 20.0
}

/// Known time-series metrics first, in this order; others follow alphabetically.
const SERIES_ORDER: [&str; 9] = [
    "throughput_rps",
    "p99_ms",
    "errors",
    "instances",
    "ready",
    "spread",
    "queue",
    "busy",
    "lag_ms",
];

/// Per strategy, per time (keyed by the bits of `t_s`, for exact grouping): `(t_s, sum, n)`.
type Sums<'a> = BTreeMap<&'a str, BTreeMap<u64, (f64, f64, u32)>>;

/// One chart per metric; each line is the mean over replications at each time.
fn timeseries(report: &Report, colors: &Colors) -> Vec<Chart> {
    let mut acc: BTreeMap<&str, Sums<'_>> = BTreeMap::new();
    for row in report
        .timeseries
        .iter()
        .filter(|r| r.t_s.is_finite() && r.value.is_finite())
    {
        let by_t = acc
            .entry(&row.metric)
            .or_default()
            .entry(&row.strategy)
            .or_default();
        let cell = by_t.entry(row.t_s.to_bits()).or_insert((row.t_s, 0.0, 0));
        cell.1 += row.value;
        cell.2 += 1;
    }
    let mut metrics: Vec<&str> = acc.keys().copied().collect();
    metrics.sort_by_key(|m| {
        (
            SERIES_ORDER
                .iter()
                .position(|k| *k == m.split('.').next().unwrap_or(m))
                .unwrap_or(usize::MAX),
            *m,
        )
    });
    let replications = count_replications(report);
    metrics
        .into_iter()
        .map(|metric| series_chart(metric, &acc[metric], colors, replications))
        .collect()
}

fn count_replications(report: &Report) -> usize {
    let mut seen: Vec<u32> = report.timeseries.iter().map(|r| r.replication).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

fn series_chart(
    metric: &str,
    by_strategy: &Sums<'_>,
    colors: &Colors,
    replications: usize,
) -> Chart {
    let present = colors
        .names()
        .iter()
        .filter(|n| by_strategy.contains_key(n.as_str()));
    let line = |name: &String| {
        let means = by_strategy[name.as_str()]
            .values()
            .map(|(t, sum, n)| (*t, sum / f64::from(*n)));
        Line::solid(name, colors.of(name), finite(means))
    };
    let (title, y_label) = metric_labels(metric);
    let lines = present.map(line).collect();
    let body = LineChart {
        x_label: "Time (s)".into(),
        y_label,
        log_x: false,
        y_range: None,
        lines,
    };
    let note = (replications > 1).then(|| format!("mean of {replications} replications"));
    let name = format!("timeseries_{}", file_stem(metric));
    Chart::lines(name, format!("{title} over time"), note, body)
}

/// Labels of a component gauge, `KIND.COMPONENT` (`instances.app`).
fn component_labels(metric: &str) -> Option<(String, String)> {
    let (kind, c) = metric.split_once('.')?;
    let (title, label) = match kind {
        "busy" => (format!("Busy workers at {c}"), "Busy workers"),
        "queue" => (format!("Queue at {c}"), "Requests waiting"),
        "instances" => (
            format!("Instances of {c}"),
            "Instances (starting, ready, draining)",
        ),
        "ready" => (format!("Ready instances of {c}"), "Ready instances"),
        "spread" => (
            format!("Load spread across the instances of {c}"),
            "Max / mean instance utilization",
        ),
        "hit_ratio" => (format!("Hit ratio of cache {c}"), "Hits / lookups"),
        "queue_depth" => (
            format!("Write-behind queue {c}"),
            "Writes waiting for the store",
        ),
        "queue_age_ms" => (
            format!("Oldest write waiting in {c}"),
            "Age of the oldest queued write (ms)",
        ),
        "lag_ms" => (format!("Replication lag of {c}"), "Replication lag (ms)"),
        _ => return None,
    };
    Some((title, label.to_string()))
}

/// `(title, y axis label)` for a time-series metric name.
fn metric_labels(metric: &str) -> (String, String) {
    let known = match metric {
        "throughput_rps" => Some(("Throughput", "Throughput (req/s)")),
        "errors" => Some(("Errors", "Errors")),
        "queue" => Some(("Queue length", "Requests waiting")),
        "instances" => Some(("Instances", "Instances")),
        "lag_ms" => Some(("Replication lag", "Replication lag (ms)")),
        _ => None,
    };
    if let Some((title, label)) = known {
        return (title.into(), label.into());
    }
    if let Some(labels) = component_labels(metric) {
        return labels;
    }
    match metric.split_once('_') {
        Some((p, "ms")) if p.starts_with('p') => {
            (format!("{p} latency"), format!("{p} latency (ms)"))
        }
        Some((stem, "ms")) => (stem.to_string(), format!("{stem} (ms)")),
        Some((stem, "rps")) => (stem.to_string(), format!("{stem} (req/s)")),
        _ => (metric.to_string(), metric.to_string()),
    }
}

/// Keeps ASCII letters, digits, `-` and `_`; anything else becomes `_`.
fn file_stem(metric: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    metric
        .chars()
        .map(|c| if safe(c) { c } else { '_' })
        .collect()
}

fn latency_bars(strategies: &[StrategySummary]) -> Chart {
    let series = |label: &str, color, stat: fn(&Latency) -> f64| {
        let pair = |s: &StrategySummary| bar_value(stat(&s.latency_ms), stat(&s.latency_ms_ci95));
        BarSeries {
            label: label.into(),
            color,
            values: strategies.iter().map(pair).collect(),
        }
    };
    let series = vec![
        series("mean", PALETTE[0], |l| l.mean),
        series("p99", PALETTE[1], |l| l.p99),
    ];
    let groups = strategies.iter().map(|s| s.name.clone()).collect();
    let body = BarChart {
        y_label: "Latency (ms)".into(),
        groups,
        series,
    };
    Chart {
        name: "latency_bars".into(),
        title: "Latency by strategy".into(),
        note: Some("whiskers: 95 % CI over replications".into()),
        body: Body::Bars(body),
    }
}

/// `(value, ci)` for a bar: none when the value is not finite; a non-finite CI counts as 0.
fn bar_value(value: f64, ci: f64) -> Option<(f64, f64)> {
    let ci = if ci.is_finite() { ci.abs() } else { 0.0 };
    value.is_finite().then_some((value, ci))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_gauges_get_their_own_labels() {
        assert_eq!(metric_labels("instances.app").0, "Instances of app");
        assert_eq!(
            metric_labels("spread.db").1,
            "Max / mean instance utilization"
        );
    }

    #[test]
    fn metric_labels_know_units() {
        assert_eq!(metric_labels("p99_ms").1, "p99 latency (ms)");
        assert_eq!(metric_labels("lag_ms").1, "Replication lag (ms)");
        assert_eq!(metric_labels("db_rps").1, "db (req/s)");
        assert_eq!(metric_labels("weird").0, "weird");
        assert_eq!(file_stem("a b/c"), "a_b_c");
    }

    #[test]
    fn long_lines_are_thinned_keeping_the_ends() {
        let pts = finite((0..10_000).map(|i| (f64::from(i), 1.0)));
        assert!(pts.len() <= MAX_POINTS + 1);
        assert_eq!(pts.first(), Some(&(0.0, 1.0)));
        assert_eq!(pts.last(), Some(&(9999.0, 1.0)));
    }

    #[test]
    fn finite_drops_nan_and_sorts() {
        let pts = finite([
            (2.0, 1.0),
            (f64::NAN, 1.0),
            (1.0, f64::INFINITY),
            (0.0, 3.0),
        ]);
        assert_eq!(pts, vec![(0.0, 3.0), (2.0, 1.0)]);
    }
}
