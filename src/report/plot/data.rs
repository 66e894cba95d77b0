//! From a [`Report`] to chart specifications: plain data, no drawing.
//!
//! Each strategy keeps one colour in every chart (its position in the report), so a reader
//! can follow it from chart to chart. Points with a non-finite coordinate are dropped here, so
//! the drawing code only ever sees finite numbers, and a chart whose lines are all empty is
//! not produced at all.

use std::collections::BTreeMap;

use crate::report::format::plain;
use crate::report::labels;
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
    /// Groups of strategies whose series in this chart are identical (drawn on top of each
    /// other), each group in strategy order.
    pub(super) identical: Vec<Vec<String>>,
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
    /// SLO thresholds drawn as reference lines.
    pub(super) thresholds: Vec<Threshold>,
    /// The warm-up, `(from, to)` in x units, shaded.
    pub(super) warmup: Option<(f64, f64)>,
    /// Markers only, no lines between them (points that are not a series, e.g. each
    /// strategy at each load).
    pub(super) scatter: bool,
    /// Both axes on one range from zero, with the line y = x drawn (predicted against
    /// measured: a marker on the line is an exact prediction).
    pub(super) diagonal: bool,
}

/// A reference line: horizontal at a y value, or vertical at an x value.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Threshold {
    pub(super) value: f64,
    pub(super) label: String,
    pub(super) vertical: bool,
}

pub(super) struct Line {
    /// The strategy the line belongs to.
    pub(super) strategy: String,
    /// Legend label; `None` keeps the line out of the legend (a strategy's second line).
    pub(super) label: Option<String>,
    pub(super) color: (u8, u8, u8),
    /// The strategy's position, which picks its dash pattern, marker and width.
    pub(super) style: usize,
    /// Drawn thin (a secondary statistic, e.g. p50 under p99).
    pub(super) thin: bool,
    /// Finite points, sorted by x.
    pub(super) points: Vec<(f64, f64)>,
}

impl Chart {
    fn lines(name: String, title: String, note: Option<String>, body: LineChart) -> Self {
        let identical = identical_groups(&body.lines);
        Self {
            name,
            title,
            note,
            identical,
            body: Body::Lines(body),
        }
    }
}

impl LineChart {
    fn new(x_label: &str, y_label: &str, lines: Vec<Line>) -> Self {
        Self {
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            log_x: false,
            y_range: None,
            lines,
            thresholds: Vec::new(),
            warmup: None,
            scatter: false,
            diagonal: false,
        }
    }
}

/// A strategy's lines: its name and each line's points.
type StrategyLines<'a> = (&'a str, Vec<&'a [(f64, f64)]>);

/// Strategies whose lines are all equal (and not empty), grouped, in strategy order.
fn identical_groups(lines: &[Line]) -> Vec<Vec<String>> {
    let mut by_strategy: Vec<StrategyLines<'_>> = Vec::new();
    for line in lines {
        match by_strategy.iter_mut().find(|(s, _)| *s == line.strategy) {
            Some((_, pts)) => pts.push(&line.points),
            None => by_strategy.push((&line.strategy, vec![&line.points])),
        }
    }
    by_strategy.retain(|(_, pts)| pts.iter().any(|p| !p.is_empty()));
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut taken = vec![false; by_strategy.len()];
    for i in 0..by_strategy.len() {
        if taken[i] {
            continue;
        }
        let mut group = vec![by_strategy[i].0.to_string()];
        for j in i + 1..by_strategy.len() {
            if !taken[j] && by_strategy[j].1 == by_strategy[i].1 {
                taken[j] = true;
                group.push(by_strategy[j].0.to_string());
            }
        }
        if group.len() > 1 {
            groups.push(group);
        }
    }
    groups
}

/// Grouped bars (one group per strategy) with CI whiskers.
pub(super) struct BarChart {
    pub(super) y_label: String,
    pub(super) groups: Vec<String>,
    pub(super) series: Vec<BarSeries>,
    /// SLO thresholds drawn as horizontal lines.
    pub(super) thresholds: Vec<Threshold>,
}

pub(super) struct BarSeries {
    pub(super) label: String,
    pub(super) color: (u8, u8, u8),
    /// `(value, ci95)` per group; `None` when not finite.
    pub(super) values: Vec<Option<(f64, f64)>>,
}

/// Every chart the report has data for, and one line of text for each chart left out
/// because it says nothing (every line flat: all zeros, or a constant such as a fixed fleet).
pub(super) fn charts(report: &Report) -> (Vec<Chart>, Vec<String>) {
    let colors = Colors::new(report);
    let slo = Slo::of(&report.summary);
    let (mut charts, mut folded) = (Vec::new(), Vec::new());
    if let Some(c) = &report.summary.comparison {
        charts.extend(predicted_vs_measured(c, &colors));
    }
    if let Some(first) = report.summary.points.first() {
        let points = &report.summary.points;
        let x_label = labels::parameter_label(&report.scenario_text, &first.parameter);
        let latency = latency_vs_load(points, &x_label, &colors, &slo);
        keep_unless_flat(&mut charts, &mut folded, "p99 and p50", latency);
        let cost = cost_vs_load(points, &x_label, &colors);
        keep_unless_flat(&mut charts, &mut folded, "cost per hour", cost);
    }
    charts.push(latency_cdf(report, &colors, &slo));
    let warmup = report.summary.warmup_s;
    for (metric, mut chart) in timeseries(report, &colors, &slo) {
        if let Body::Lines(c) = &mut chart.body
            && warmup > 0.0
        {
            c.warmup = Some((0.0, warmup));
        }
        keep_unless_flat(&mut charts, &mut folded, &metric, chart);
    }
    charts.push(latency_bars(&report.summary.strategies, &slo));
    if let Some(study) = &report.summary.study {
        let summary = &report.summary;
        if let Some(first) = summary.points.first() {
            let x_label = labels::parameter_label(&report.scenario_text, &first.parameter);
            let cost = cost_per_million_vs_load(&summary.points, &x_label, &colors);
            keep_unless_flat(&mut charts, &mut folded, "cost per million requests", cost);
        }
        charts.push(cost_vs_p99(summary, &colors, &slo));
        if let Some(bars) = latency_breakdown(summary, study) {
            charts.push(bars);
        }
    }
    charts.retain(has_data);
    (charts, folded)
}

/// Adds `chart` to `charts`, or, when every line is flat, a line about it (`what` names
/// what it plots) to `folded`.
fn keep_unless_flat(charts: &mut Vec<Chart>, folded: &mut Vec<String>, what: &str, chart: Chart) {
    match flat_summary(&chart) {
        Some(text) => folded.push(format!("{} ({what}): {text}", chart.title)),
        None => charts.push(chart),
    }
}

fn has_data(chart: &Chart) -> bool {
    match &chart.body {
        Body::Lines(c) => c.lines.iter().any(|l| !l.points.is_empty()),
        Body::Bars(b) => !b.groups.is_empty(),
    }
}

/// When every line of a line chart with data is flat, what the chart would have shown:
/// `constant 12 in every strategy`, or the constant of each strategy.
fn flat_summary(chart: &Chart) -> Option<String> {
    let Body::Lines(c) = &chart.body else {
        return None;
    };
    let mut levels: Vec<(&str, f64)> = Vec::new();
    for line in c.lines.iter().filter(|l| !l.points.is_empty()) {
        levels.push((&line.strategy, flat_level(&line.points)?));
    }
    let (_, first) = *levels.first()?;
    if levels.iter().all(|(_, v)| *v == first) {
        let what = if first == 0.0 {
            "0 throughout".to_string()
        } else {
            format!("constant {}", plain(first))
        };
        return Some(format!("{what} in every strategy"));
    }
    let each: Vec<String> = levels
        .iter()
        .map(|(s, v)| format!("{s} {}", plain(*v)))
        .collect();
    Some(format!("constant in each strategy: {}", each.join(", ")))
}

/// The value of a flat series (every y equal to within a part in 10⁹), else `None`.
fn flat_level(points: &[(f64, f64)]) -> Option<f64> {
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| {
            (l.min(p.1), h.max(p.1))
        });
    let flat = hi - lo <= 1e-9 * hi.abs().max(lo.abs()).max(1.0);
    flat.then_some(if lo == 0.0 { 0.0 } else { lo })
}

/// The scenario's SLO thresholds, from the checks of the first strategy that has any (every
/// strategy is judged against the same `[slo]`).
struct Slo(Vec<(String, f64)>);

impl Slo {
    fn of(summary: &crate::report::summary::Summary) -> Self {
        let checks = summary
            .strategies
            .iter()
            .chain(summary.points.iter().flat_map(|p| &p.strategies))
            .map(|s| &s.slo.checks)
            .find(|c| !c.is_empty());
        let pairs = checks.into_iter().flatten();
        Self(pairs.map(|c| (c.metric.clone(), c.threshold)).collect())
    }

    /// The latency thresholds, `(statistic, ms)`, e.g. `("p99", 100.0)`.
    fn latency(&self) -> Vec<(&str, f64)> {
        let mut out = Vec::new();
        for (m, v) in &self.0 {
            if let Some(s) = m.strip_prefix("latency_ms.")
                && v.is_finite()
            {
                out.push((s, *v));
            }
        }
        out
    }

    /// Horizontal lines for the latency statistics in `stats`.
    fn latency_lines(&self, stats: &[&str]) -> Vec<Threshold> {
        let line = |(stat, ms): (&str, f64)| Threshold {
            value: ms,
            label: format!("SLO {stat} ≤ {} ms", plain(ms)),
            vertical: false,
        };
        self.latency()
            .into_iter()
            .filter(|(s, _)| stats.contains(s))
            .map(line)
            .collect()
    }

    /// The minimum throughput, as a horizontal line.
    fn throughput_line(&self) -> Vec<Threshold> {
        let line = |(_, v): &(String, f64)| Threshold {
            value: *v,
            label: format!("SLO throughput ≥ {} requests/s", plain(*v)),
            vertical: false,
        };
        let min = self
            .0
            .iter()
            .filter(|(m, v)| m == "throughput_rps" && v.is_finite());
        min.map(line).collect()
    }
}

/// Strategy name → its position in the report, which picks its colour and line style, in
/// order of first appearance.
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

    fn index(&self, name: &str) -> usize {
        self.0.iter().position(|n| n == name).unwrap_or(0)
    }

    fn names(&self) -> &[String] {
        &self.0
    }

    /// The line of strategy `name`, styled by its position, in the legend under its name.
    fn line(&self, name: &str, points: Vec<(f64, f64)>) -> Line {
        let i = self.index(name);
        Line {
            strategy: name.to_string(),
            label: Some(name.to_string()),
            color: PALETTE[i % PALETTE.len()],
            style: i,
            thin: false,
            points,
        }
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

fn latency_vs_load(points: &[SweepPoint], x_label: &str, colors: &Colors, slo: &Slo) -> Chart {
    let mut lines = Vec::new();
    for name in sweep_names(points, colors) {
        let p99 = along_sweep(points, &name, |s| s.latency_ms.p99);
        lines.push(colors.line(&name, p99));
        let p50 = along_sweep(points, &name, |s| s.latency_ms.p50);
        lines.push(Line {
            label: None,
            thin: true,
            ..colors.line(&name, p50)
        });
    }
    let mut body = LineChart::new(x_label, "Latency (ms)", lines);
    body.thresholds = slo.latency_lines(&["p50", "p99"]);
    let note = Some("thick: p99, thin: p50".into());
    let title = "p99 and p50 latency across the sweep".to_string();
    Chart::lines("latency_vs_load".into(), title, note, body)
}

fn cost_vs_load(points: &[SweepPoint], x_label: &str, colors: &Colors) -> Chart {
    let line = |name: String| {
        let cost = along_sweep(points, &name, |s| s.cost.per_hour);
        colors.line(&name, cost)
    };
    let lines = sweep_names(points, colors).into_iter().map(line).collect();
    let body = LineChart::new(x_label, "Cost (currency units per hour)", lines);
    let title = "Cost per hour across the sweep".to_string();
    Chart::lines("cost_vs_load".into(), title, None, body)
}

fn cost_per_million_vs_load(points: &[SweepPoint], x_label: &str, colors: &Colors) -> Chart {
    let line = |name: String| {
        let cost = along_sweep(points, &name, |s| s.cost.per_million_requests);
        colors.line(&name, cost)
    };
    let lines = sweep_names(points, colors).into_iter().map(line).collect();
    let body = LineChart::new(x_label, "Cost per million requests", lines);
    let title =
        "Cost per million requests across the sweep (flat: cost grows linearly)".to_string();
    Chart::lines("cost_per_million_vs_load".into(), title, None, body)
}

/// Every strategy at every load and sweep point: p99 against cost per hour, the frontier an
/// architect chooses from (lower left is better; cost per hour rather than per million
/// requests, which a trickle of traffic would blow up). Log x when p99s span decades.
fn cost_vs_p99(summary: &crate::report::summary::Summary, colors: &Colors, slo: &Slo) -> Chart {
    let all = summary
        .loads
        .iter()
        .flat_map(|l| &l.strategies)
        .chain(summary.points.iter().flat_map(|p| &p.strategies));
    let log_x = spans_decades(all.clone().map(|s| s.latency_ms.p99));
    let mut lines = Vec::new();
    for name in colors.names() {
        let points = all
            .clone()
            .filter(|s| &s.name == name)
            .map(|s| (s.latency_ms.p99, s.cost.per_hour))
            .filter(|p| !log_x || p.0 > 0.0);
        lines.push(colors.line(name, finite(points)));
    }
    let x_label = if log_x {
        "p99 latency (ms, log scale)"
    } else {
        "p99 latency (ms)"
    };
    let mut body = LineChart::new(x_label, "Cost per hour", lines);
    body.log_x = log_x;
    body.scatter = true;
    body.thresholds = slo.latency_lines(&["p99"]);
    for t in &mut body.thresholds {
        t.vertical = true;
    }
    let note = Some("one marker per load and sweep point".into());
    let title = "Cost against p99: every strategy at every load".to_string();
    Chart::lines("cost_vs_p99".into(), title, note, body)
}

/// A real run against the simulator's prediction: one chart per figure with a meaning at
/// every load (throughput, p50, p99), measured on x and predicted on y, one marker per
/// strategy and load, and the line y = x.
fn predicted_vs_measured(c: &crate::report::summary::Comparison, colors: &Colors) -> Vec<Chart> {
    let figures = [
        ("throughput_rps", "throughput", "Throughput", "req/s"),
        ("latency_ms.p50", "p50", "p50 latency", "ms"),
        ("latency_ms.p99", "p99", "p99 latency", "ms"),
    ];
    let mut charts = Vec::new();
    for (metric, stem, what, unit) in figures {
        let rows = c.rows.iter().filter(|r| r.metric == metric);
        let both = rows.clone().flat_map(|r| [r.measured, r.predicted]);
        // Latencies near and far from saturation differ by decades: log-log then, where
        // zeros cannot be drawn.
        let log = spans_decades(both);
        let mut lines = Vec::new();
        for name in colors.names() {
            let points = rows
                .clone()
                .filter(|r| &r.strategy == name)
                .map(|r| (r.measured, r.predicted))
                .filter(|p| !log || (p.0 > 0.0 && p.1 > 0.0));
            lines.push(colors.line(name, finite(points)));
        }
        let scale = if log { ", log scale" } else { "" };
        let mut body = LineChart::new(
            &format!("Measured {} ({unit}{scale})", what.to_lowercase()),
            &format!("Predicted {} ({unit}{scale})", what.to_lowercase()),
            lines,
        );
        body.log_x = log;
        body.scatter = true;
        body.diagonal = true;
        let note = Some("one marker per strategy and load; on the line = predicted exactly".into());
        let title = format!("{what}: predicted against measured");
        charts.push(Chart::lines(
            format!("predicted_vs_measured_{stem}"),
            title,
            note,
            body,
        ));
    }
    charts
}

/// Components drawn one by one in the latency breakdown; the rest share one bar.
const BREAKDOWN_BARS: usize = 4;

/// Where the mean response time goes, per strategy, at the load the first objective is
/// judged at (else the first load): one bar per component, the largest first.
fn latency_breakdown(
    summary: &crate::report::summary::Summary,
    study: &crate::report::summary::StudySummary,
) -> Option<Chart> {
    let load = study
        .objectives
        .iter()
        .find_map(|o| o.load.clone())
        .or_else(|| summary.loads.first().map(|l| l.name.clone()))?;
    let rows: Vec<_> = study.breakdown.iter().filter(|b| b.load == load).collect();
    let mut components: Vec<(String, f64)> = Vec::new();
    for b in &rows {
        for c in b.components.iter().filter(|c| c.residence_ms > 0.0) {
            match components.iter_mut().find(|(n, _)| *n == c.name) {
                Some((_, t)) => *t += c.residence_ms,
                None => components.push((c.name.clone(), c.residence_ms)),
            }
        }
    }
    components.sort_by(|a, b| b.1.total_cmp(&a.1));
    // The largest few, the rest as one bar: more bars per group only make the labels collide.
    let top: Vec<String> = components
        .iter()
        .take(BREAKDOWN_BARS)
        .map(|c| c.0.clone())
        .collect();
    let time = |b: &crate::report::summary::Breakdown, name: Option<&String>| -> f64 {
        let mine = b.components.iter().filter(|c| match name {
            Some(n) => &c.name == n,
            None => !top.contains(&c.name),
        });
        mine.map(|c| c.residence_ms).sum()
    };
    let mut names: Vec<Option<&String>> = top.iter().map(Some).collect();
    if components.len() > top.len() {
        names.push(None);
    }
    let series = names
        .iter()
        .enumerate()
        .map(|(i, name)| BarSeries {
            label: name.map_or("other components".to_string(), |n| n.clone()),
            color: PALETTE[i % PALETTE.len()],
            values: rows
                .iter()
                .map(|b| {
                    let v = time(b, *name);
                    v.is_finite().then_some((v, 0.0))
                })
                .collect(),
        })
        .collect();
    let bars = BarChart {
        y_label: "Mean time per request (ms)".into(),
        groups: rows.iter().map(|b| b.strategy.clone()).collect(),
        series,
        thresholds: Vec::new(),
    };
    Some(Chart {
        name: "latency_breakdown".into(),
        title: format!("Where the mean response time goes at load {load}"),
        note: Some(
            "Little's law per component: mean requests present over the request rate".into(),
        ),
        identical: Vec::new(),
        body: Body::Bars(bars),
    })
}

/// The CDF, with a log x axis when latencies span more than a factor of 20; latency SLOs as
/// vertical lines.
fn latency_cdf(report: &Report, colors: &Colors, slo: &Slo) -> Chart {
    let log_x = spans_decades(
        report
            .cdfs
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.0)),
    );
    let line = |c: &Cdf| {
        let points = finite(c.points.iter().copied().filter(|p| !log_x || p.0 > 0.0));
        colors.line(&c.strategy, points)
    };
    let x_label = if log_x {
        "Latency (ms, log scale)"
    } else {
        "Latency (ms)"
    };
    let lines = report.cdfs.iter().map(line).collect();
    let mut body = LineChart::new(x_label, "Fraction of requests ≤ latency", lines);
    body.log_x = log_x;
    body.y_range = Some((0.0, 1.0));
    let percentiles = ["p50", "p90", "p95", "p99", "p999"];
    body.thresholds = slo.latency_lines(&percentiles);
    for t in &mut body.thresholds {
        t.vertical = true;
    }
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

/// One chart per metric, with the metric's name; each line is the mean over replications at
/// each time.
fn timeseries(report: &Report, colors: &Colors, slo: &Slo) -> Vec<(String, Chart)> {
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
    let chart = |metric: &str| series_chart(metric, &acc[metric], colors, replications, slo);
    metrics
        .into_iter()
        .map(|metric| (metric.to_string(), chart(metric)))
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
    slo: &Slo,
) -> Chart {
    let present = colors
        .names()
        .iter()
        .filter(|n| by_strategy.contains_key(n.as_str()));
    let line = |name: &String| {
        let means = by_strategy[name.as_str()]
            .values()
            .map(|(t, sum, n)| (*t, sum / f64::from(*n)));
        colors.line(name, finite(means))
    };
    let (title, y_label) = labels::series_labels(metric);
    let mut body = LineChart::new(
        "Time since start (s)",
        &y_label,
        present.map(line).collect(),
    );
    body.thresholds = match metric {
        "p99_ms" => slo.latency_lines(&["p99"]),
        "throughput_rps" => slo.throughput_line(),
        _ => Vec::new(),
    };
    let note = (replications > 1).then(|| format!("mean of {replications} replications"));
    let name = format!("timeseries_{}", file_stem(metric));
    Chart::lines(name, title, note, body)
}

/// Keeps ASCII letters, digits, `-` and `_`; anything else becomes `_`.
fn file_stem(metric: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    metric
        .chars()
        .map(|c| if safe(c) { c } else { '_' })
        .collect()
}

fn latency_bars(strategies: &[StrategySummary], slo: &Slo) -> Chart {
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
        thresholds: slo.latency_lines(&["mean", "p99"]),
    };
    Chart {
        name: "latency_bars".into(),
        title: "Mean and p99 latency by strategy".into(),
        note: Some("whiskers: 95 % CI over replications".into()),
        identical: Vec::new(),
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

    use crate::report::summary::{SeriesRow, SloCheck, Summary};

    fn report(rows: &[(&str, &str, f64, f64)]) -> Report {
        let summary: Summary = serde_json::from_str(
            r#"{"schema":1,"scenario":"s","scenario_hash":"h","seed":1,"replications":1,
                "mode":"sim","horizon_s":1.0,"strategies":[]}"#,
        )
        .unwrap();
        let row = |&(strategy, metric, t_s, value): &(&str, &str, f64, f64)| SeriesRow {
            strategy: strategy.into(),
            replication: 0,
            t_s,
            metric: metric.into(),
            value,
        };
        Report {
            summary,
            timeseries: rows.iter().map(row).collect(),
            cdfs: vec![],
            description: String::new(),
            scenario_text: String::new(),
        }
    }

    fn names(charts: &[Chart]) -> Vec<&str> {
        charts.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn constant_and_zero_series_are_folded_into_a_line_of_text() {
        let r = report(&[
            ("a", "instances.app", 0.0, 12.0),
            ("a", "instances.app", 30.0, 12.0),
            ("b", "instances.app", 0.0, 12.0),
            ("b", "instances.app", 30.0, 12.0),
            ("a", "errors", 0.0, 0.0),
            ("a", "errors", 30.0, 0.0),
            ("a", "busy.app", 0.0, 3.0),
            ("a", "busy.app", 30.0, 4.0),
            ("a", "ready.app", 0.0, 2.0),
            ("b", "ready.app", 0.0, 4.0),
        ]);
        let (charts, folded) = charts(&r);
        assert_eq!(names(&charts), ["timeseries_busy_app"]);
        assert_eq!(
            folded,
            [
                "Failed requests per second (errors): 0 throughout in every strategy",
                "App: instances (instances.app): constant 12 in every strategy",
                "App: ready instances (ready.app): constant in each strategy: a 2, b 4",
            ]
        );
    }

    #[test]
    fn identical_strategies_are_named_and_keep_distinct_styles() {
        let r = report(&[
            ("a", "busy.app", 0.0, 3.0),
            ("a", "busy.app", 30.0, 4.0),
            ("b", "busy.app", 0.0, 3.0),
            ("b", "busy.app", 30.0, 4.0),
            ("c", "busy.app", 0.0, 1.0),
            ("c", "busy.app", 30.0, 4.0),
        ]);
        let (charts, _) = charts(&r);
        assert_eq!(
            charts[0].identical,
            [vec!["a".to_string(), "b".to_string()]]
        );
        let Body::Lines(c) = &charts[0].body else {
            panic!("a line chart")
        };
        let styles: Vec<usize> = c.lines.iter().map(|l| l.style).collect();
        assert_eq!(styles, [0, 1, 2]);
    }

    #[test]
    fn time_series_get_the_warmup_and_their_slo_lines() {
        let mut r = report(&[
            ("a", "p99_ms", 0.0, 30.0),
            ("a", "p99_ms", 30.0, 50.0),
            ("a", "busy.app", 0.0, 1.0),
            ("a", "busy.app", 30.0, 2.0),
        ]);
        r.summary.warmup_s = 30.0;
        let mut s = StrategySummary::default();
        s.slo.checks = vec![SloCheck {
            name: "p99 <= 100ms".into(),
            metric: "latency_ms.p99".into(),
            threshold: 100.0,
            value: 50.0,
            passed: true,
        }];
        r.summary.strategies = vec![s];
        let (charts, _) = charts(&r);
        let lines = |name: &str| match &charts.iter().find(|c| c.name == name).unwrap().body {
            Body::Lines(c) => (c.thresholds.clone(), c.warmup),
            Body::Bars(_) => panic!("a line chart"),
        };
        let (p99, warmup) = lines("timeseries_p99_ms");
        assert_eq!(p99.len(), 1);
        assert_eq!(p99[0].value, 100.0);
        assert_eq!(warmup, Some((0.0, 30.0)));
        assert!(lines("timeseries_busy_app").0.is_empty());
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
