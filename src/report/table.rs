//! The terminal comparison table: one row per strategy, the numbers an architect decides on.
//!
//! ```text
//! Scenario shop · sim · seed 42 · 3 replications × 600 s after 60 s warm-up · hash 3f2a9c01d4e5
//! ┌───────────────┬────────┬───────────┬───────────┬───────┬────────┬────────────┬──────────┐
//! │ Strategy      │ Done/s │    p50 ms │    p99 ms │ Err % │ Cost/h │ Cost/M req │ SLO      │
//! ├───────────────┼────────┼───────────┼───────────┼───────┼────────┼────────────┼──────────┤
//! │ single-db     │  399.2 │ 11.2 ±0.3 │ 45.0 ±1.3 │  0.20 │   2.80 │       0.98 │ FAIL 1/2 │
//! │ read-replicas │  400.0 │  7.5 ±0.2 │ 30.0 ±0.9 │  0.00 │   4.20 │       1.47 │ PASS     │
//! └───────────────┴────────┴───────────┴───────────┴───────┴────────┴────────────┴──────────┘
//!   ✗ single-db: p99 <= 40ms (measured 45.0 ms)
//!   Done/s: completed requests per second. SLO FAIL n/m: n of the m SLO checks missed,
//!   judged on the means over the replications. Latencies: mean ±95 % CI half-width over the
//!   replications.
//!   Utilization % (busy share of each station's workers, time-averaged):
//! ┌───────────────┬──────┬──────┬────────────┐
//! │ Strategy      │  app │   db │ Bottleneck │
//! ├───────────────┼──────┼──────┼────────────┤
//! │ single-db     │ 60.1 │ 97.0 │ db         │
//! │ read-replicas │ 60.1 │ 41.2 │ app        │
//! └───────────────┴──────┴──────┴────────────┘
//!   Paired differences vs single-db (this − baseline, 95 % CI; * = CI excludes 0; rows that
//!   are exactly 0 left out):
//!     read-replicas: p99 latency -15.0 ±1.5 ms *
//! ```
//!
//! Each column shares one precision (set by its largest value) so decimal points line up.
//! Latencies carry their 95 % CI half-width (`±0` when the replications agree exactly; none
//! with one replication). An `Offered/s` column (arrivals per second) appears beside the
//! completed rate when the two differ anywhere. Failed SLO checks are listed under the table
//! with the measured value, then what the columns count, the stations' utilization with the
//! bottleneck, and the paired differences against the baseline (rows that are exactly zero left
//! out), in their units. With sessions, a table of shoppers (sessions, conversion rate, orders,
//! orders and revenue lost); with sagas, a table of their outcomes. A sweep adds
//! one compact table: a row per point, a column per strategy, p99 and verdict in each cell.
//! Then the capacity results with the headroom (how far the load can grow before the first SLO
//! fails: the highest passing load scale minus one). Cells are padded before colouring, so ANSI codes (only when
//! `color` is true) never break the alignment. The table stays within [`MAX_WIDTH`] columns
//! by wrapping long strategy names onto more lines; names are never cut.

use std::fmt::Write;

use super::format::{
    column_decimals, decimals, fixed, metric_value, money, percent, plain, with_ci_fixed,
};
use super::summary::{Capacity, CostGrowth, StrategySummary, Summary};

/// Target terminal width in columns.
pub const MAX_WIDTH: usize = 100;

/// Renders the whole summary: run facts, the base comparison, sweep points, capacity.
pub fn render_table(summary: &Summary, color: bool) -> String {
    let paint = Paint(color);
    let mut out = heading(summary, paint);
    out += &super::compare::terminal(summary, paint);
    out += &super::study::terminal(summary, paint);
    if !summary.loads.is_empty() {
        let _ = writeln!(out, "\n{}", paint.bold("Base point"));
    }
    out += &strategies_block(summary, paint);
    if let Some(first) = summary.points.first() {
        let title = format!(
            "Sweep over {}: p99 ms and SLO verdict of each strategy at each point",
            first.parameter
        );
        let _ = writeln!(out, "\n{}", paint.bold(&title));
        out += &sweep_table(summary).render(paint);
        let failed = summary
            .points
            .iter()
            .flat_map(|p| &p.strategies)
            .any(|s| !s.slo.passed);
        if failed {
            out +=
                "  Every point counts for --fail-on-slo; summary.json has each point's checks.\n";
        }
    }
    if !summary.capacity.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            paint.bold("Capacity: headroom, how far the load can grow before the first SLO fails")
        );
        out += &capacity_table(&summary.capacity).render(paint);
    }
    if let Some(g) = summary.cost_growth.first() {
        let title = format!(
            "Cost growth ({} from {} to {}: cost per million requests, last / first, at most {})",
            g.parameter,
            plain(g.from),
            plain(g.to),
            plain(g.limit)
        );
        let _ = writeln!(out, "\n{}", paint.bold(&title));
        out += &growth_table(&summary.cost_growth).render(paint);
    }
    out + &super::study::checklist_line(summary)
}

fn growth_table(rows: &[CostGrowth]) -> Table {
    let mut table = Table::new(&[
        "Strategy",
        "Cost/M first",
        "Cost/M last",
        "Ratio",
        "p99 ms first",
        "p99 ms last",
        "SLO everywhere",
        "Verdict",
    ]);
    for g in rows {
        let verdict = Cell {
            text: if g.passed { "PASS" } else { "FAIL" }.into(),
            style: if g.passed { Style::Good } else { Style::Bad },
        };
        table.rows.push(vec![
            Cell::plain(&g.strategy),
            Cell::plain(&format!("{:.3}", g.cost_per_million_from)),
            Cell::plain(&format!("{:.3}", g.cost_per_million_to)),
            Cell::plain(&g.ratio.map_or("–".to_string(), |r| format!("{r:.2}"))),
            Cell::plain(&format!("{:.1}", g.p99_ms_from)),
            Cell::plain(&format!("{:.1}", g.p99_ms_to)),
            Cell::plain(if g.slo_everywhere { "yes" } else { "no" }),
            verdict,
        ]);
    }
    table
}

fn heading(s: &Summary, paint: Paint) -> String {
    let hash: String = s.scenario_hash.chars().take(12).collect();
    let auto_max = s
        .strategies
        .iter()
        .filter_map(|x| x.auto_warmup.as_ref().map(|w| w.warmup_s))
        .reduce(f64::max);
    let warmup = match auto_max {
        Some(max) if s.strategies.len() > 1 => format!(
            " after MSER-5 warm-up (mean {} s, max {} s)",
            plain(round(s.warmup_s)),
            plain(round(max))
        ),
        Some(max) => format!(" after MSER-5 warm-up of {} s", plain(round(max))),
        None if s.warmup_s > 0.0 => format!(" after {} s warm-up", plain(s.warmup_s)),
        None => String::new(),
    };
    let auto = match &s.auto_replications {
        Some(a) if a.met => format!(" (auto: ±{} % met)", plain(round(a.precision * 100.0))),
        Some(a) => format!(
            " (auto: max, ±{} % not met)",
            plain(round(a.precision * 100.0))
        ),
        None => String::new(),
    };
    let facts = format!(
        "{} · seed {} · {} replication{}{auto} × {} s{warmup} · hash {hash}",
        s.mode,
        s.seed,
        s.replications,
        if s.replications == 1 { "" } else { "s" },
        plain(if auto_max.is_some() {
            round(s.horizon_s)
        } else {
            s.horizon_s
        })
    );
    format!(
        "{} · {facts}\n",
        paint.bold(&format!("Scenario {}", s.scenario))
    )
}

/// `x` to 0.1 (a chosen warm-up is any number of nanoseconds).
fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The base comparison, then failed SLO checks, what the columns count, utilization and
/// paired differences.
fn strategies_block(summary: &Summary, paint: Paint) -> String {
    let strategies = &summary.strategies;
    if strategies.is_empty() {
        return "(no strategies)\n".to_string();
    }
    let mut out = comparison_table(summary).render(paint);
    out += &slo_failures(strategies, paint);
    out += &legend(summary);
    if let Some(t) = utilization_table(strategies) {
        out += "  Utilization % (busy share of each station's workers, time-averaged):\n";
        out += &t.render(paint);
    }
    if let Some(t) = shoppers_table(strategies) {
        out += "  Shoppers (sessions): orders and the expected orders and revenue lost to slow or failed pages:\n";
        out += &t.render(paint);
    }
    if let Some(t) = sagas_table(strategies) {
        out += "  Sagas: how each ended (per measured window):\n";
        out += &t.render(paint);
    }
    out += &paired_diffs(strategies);
    out
}

/// A component's metric, in a strategy.
fn component_metric(
    s: &StrategySummary,
    kind: &str,
    name: Option<&str>,
    metric: &str,
) -> Option<f64> {
    s.components
        .iter()
        .find(|c| c.kind == kind && name.is_none_or(|n| c.name == n))
        .and_then(|c| c.metrics.get(metric).copied())
}

/// With sessions: per strategy, sessions, conversion rate, orders, orders and revenue lost.
fn shoppers_table(strategies: &[StrategySummary]) -> Option<Table> {
    strategies
        .iter()
        .any(|s| component_metric(s, "sessions", None, "sessions").is_some())
        .then(|| {
            let mut t = Table::new(&[
                "Strategy",
                "Sessions",
                "Conversion %",
                "Orders",
                "Orders lost",
                "Revenue lost",
            ]);
            for s in strategies {
                let m = |k: &str| component_metric(s, "sessions", None, k).unwrap_or(0.0);
                t.rows.push(vec![
                    Cell::plain(&s.name),
                    Cell::plain(&format!("{:.0}", m("sessions"))),
                    Cell::plain(&format!("{:.2}", m("conversion_rate") * 100.0)),
                    Cell::plain(&format!("{:.0}", m("conversions"))),
                    Cell::plain(&format!("{:.0}", m("conversions_lost"))),
                    Cell::plain(&format!("{:.0}", m("revenue_lost"))),
                ]);
            }
            t
        })
}

/// With sagas: per strategy and saga, its outcomes and p99.
fn sagas_table(strategies: &[StrategySummary]) -> Option<Table> {
    let mut names: Vec<&str> = Vec::new();
    for s in strategies {
        for c in s.components.iter().filter(|c| c.kind == "saga") {
            if !names.contains(&c.name.as_str()) {
                names.push(&c.name);
            }
        }
    }
    if names.is_empty() {
        return None;
    }
    let mut t = Table::new(&[
        "Strategy",
        "Saga",
        "Completed",
        "Compensated",
        "Inconsistent",
        "p99 ms",
    ]);
    for s in strategies {
        for n in &names {
            let m = |k: &str| component_metric(s, "saga", Some(n), k).unwrap_or(0.0);
            t.rows.push(vec![
                Cell::plain(&s.name),
                Cell::plain(n),
                Cell::plain(&format!("{:.0}", m("sagas_completed"))),
                Cell::plain(&format!("{:.0}", m("sagas_compensated"))),
                Cell::plain(&format!("{:.1}", m("sagas_inconsistent"))),
                Cell::plain(&format!("{:.0}", m("saga_ms_p99"))),
            ]);
        }
    }
    Some(t)
}

/// Offered arrivals per second: requests that arrived after the warm-up over the horizon.
/// With `warmup = "auto"`, over the strategy's own measured horizon (its warm-up differs from
/// the mean in the summary's).
fn offered_rps(s: &StrategySummary, summary: &Summary) -> f64 {
    let horizon_s = match &s.auto_warmup {
        Some(w) => summary.horizon_s + summary.warmup_s - w.warmup_s,
        None => summary.horizon_s,
    };
    if horizon_s > 0.0 {
        s.requests / horizon_s
    } else {
        0.0
    }
}

/// Whether the offered rate differs from the completed rate anywhere (beyond 0.5 %).
fn offered_differs(summary: &Summary) -> bool {
    summary.strategies.iter().any(|s| {
        let offered = offered_rps(s, summary);
        (offered - s.throughput_rps).abs() > 0.005 * offered.max(s.throughput_rps)
    })
}

/// What the columns count, in a sentence each, wrapped to the table's width.
fn legend(summary: &Summary) -> String {
    let mut text = String::from("Done/s: completed requests per second");
    if offered_differs(summary) {
        text += "; Offered/s: requests arriving per second";
    }
    text += ".";
    if summary.strategies.iter().any(|s| !s.slo.checks.is_empty()) {
        text += " SLO FAIL n/m: n of the m SLO checks missed, judged on the means over the";
        text += " replications.";
    }
    if summary.replications > 1 {
        text += " Latencies: mean ±95 % CI half-width over the replications.";
    }
    wrap(&text, MAX_WIDTH - 2)
        .iter()
        .map(|l| format!("  {l}\n"))
        .collect()
}

fn comparison_table(summary: &Summary) -> Table {
    let strategies = &summary.strategies;
    let offered = offered_differs(summary);
    let mut header = vec!["Strategy", "Done/s"];
    if offered {
        header.push("Offered/s");
    }
    header.extend(["p50 ms", "p99 ms", "Err %", "Cost/h", "Cost/M req", "SLO"]);
    let mut table = Table::new(&header);
    let d = |f: &dyn Fn(&StrategySummary) -> f64| column_decimals(strategies.iter().map(f));
    let (rps, p50, p99) = (
        d(&|s| s.throughput_rps),
        d(&|s| s.latency_ms.p50),
        d(&|s| s.latency_ms.p99),
    );
    let offered_d = d(&|s| offered_rps(s, summary));
    let reps = summary.replications;
    for s in strategies {
        let (l, ci) = (&s.latency_ms, &s.latency_ms_ci95);
        let mut row = vec![
            Cell::plain(&s.name),
            Cell::plain(&fixed(s.throughput_rps, rps)),
        ];
        if offered {
            let o = offered_rps(s, summary);
            row.push(Cell::plain(&fixed(o, offered_d)));
        }
        row.extend([
            Cell::plain(&latency(l.p50, ci.p50, p50, reps)),
            Cell::plain(&latency(l.p99, ci.p99, p99, reps)),
            Cell::plain(&percent(s.error_rate)),
            Cell::plain(&money(s.cost.per_hour)),
            Cell::plain(&money(s.cost.per_million_requests)),
            verdict(s),
        ]);
        table.rows.push(row);
    }
    table
}

/// A latency with its half-width: `±0` when the replications agree exactly, the half-width
/// with one significant digit when it would round to zero, nothing with one replication.
fn latency(value: f64, ci: f64, d: usize, reps: u32) -> String {
    if reps <= 1 {
        return fixed(value, d);
    }
    half_width(value, ci, d)
}

/// `value ±ci` with `d` decimals; `±0` only for an exact zero: a half-width that would round
/// to zero gets one significant digit instead.
fn half_width(value: f64, ci: f64, d: usize) -> String {
    if !ci.is_finite() || !value.is_finite() {
        return fixed(value, d);
    }
    if ci == 0.0 {
        return format!("{} ±0", fixed(value, d));
    }
    if (ci * 10f64.powi(d as i32)).round() == 0.0 {
        let digits = (-ci.log10().floor()).max(0.0) as usize;
        return format!("{} ±{ci:.digits$}", fixed(value, d));
    }
    with_ci_fixed(value, ci, d)
}

/// The stations (services) of a strategy with their utilization, in summary order.
fn stations(s: &StrategySummary) -> impl Iterator<Item = (&str, f64)> {
    s.components
        .iter()
        .filter(|c| c.kind == "service" && c.utilization.is_finite())
        .map(|c| (c.name.as_str(), c.utilization))
}

/// The busiest station, if any station was busy at all.
fn bottleneck(s: &StrategySummary) -> Option<(&str, f64)> {
    stations(s)
        .filter(|(_, u)| *u > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Strategies as rows, stations as columns: utilization in percent, then the bottleneck (the
/// busiest station).
fn utilization_table(strategies: &[StrategySummary]) -> Option<Table> {
    let mut names: Vec<&str> = Vec::new();
    for s in strategies {
        for (n, _) in stations(s) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    if !strategies.iter().any(|s| bottleneck(s).is_some()) {
        return None;
    }
    let mut header = vec!["Strategy"];
    header.extend(&names);
    header.push("Bottleneck");
    let mut table = Table::new(&header);
    for s in strategies {
        let mut row = vec![Cell::plain(&s.name)];
        for n in &names {
            let u = stations(s).find(|(m, _)| m == n).map(|(_, u)| u);
            row.push(Cell::plain(
                &u.map_or("–".to_string(), |u| format!("{:.1}", u * 100.0)),
            ));
        }
        row.push(Cell::plain(bottleneck(s).map_or("–", |(name, _)| name)));
        table.rows.push(row);
    }
    Some(table)
}

/// Sweep points as rows, strategies as columns: `p99 ms VERDICT` in each cell.
fn sweep_table(summary: &Summary) -> Table {
    let first = &summary.points[0];
    let mut header = vec![first.parameter.as_str()];
    header.extend(first.strategies.iter().map(|s| s.name.as_str()));
    let mut table = Table::new(&header);
    let d = column_decimals(
        summary
            .points
            .iter()
            .flat_map(|p| &p.strategies)
            .map(|s| s.latency_ms.p99),
    );
    for p in &summary.points {
        let mut row = vec![Cell::plain(&plain(p.value))];
        for s in &p.strategies {
            let v = verdict(s);
            row.push(Cell {
                text: format!("{} {}", fixed(s.latency_ms.p99, d), v.text),
                style: v.style,
            });
        }
        table.rows.push(row);
    }
    table
}

/// `PASS`, `FAIL n/m` (n failed of m checks), or `–` without SLOs.
fn verdict(s: &StrategySummary) -> Cell {
    let checks = &s.slo.checks;
    let failed = checks.iter().filter(|c| !c.passed).count();
    match (checks.is_empty(), s.slo.passed && failed == 0) {
        (true, _) => Cell::plain("–"),
        (false, true) => Cell {
            text: "PASS".into(),
            style: Style::Good,
        },
        (false, false) => Cell {
            text: format!("FAIL {failed}/{}", checks.len()),
            style: Style::Bad,
        },
    }
}

fn slo_failures(strategies: &[StrategySummary], paint: Paint) -> String {
    let mut out = String::new();
    for s in strategies {
        for c in s.slo.checks.iter().filter(|c| !c.passed) {
            let mark = paint.bad("✗");
            let measured = metric_value(&c.metric, c.value);
            let _ = writeln!(out, "  {mark} {}: {} (measured {measured})", s.name, c.name);
        }
    }
    out
}

/// A paired-difference metric in words, its unit, and the factor to that unit.
fn diff_metric(metric: &str) -> (&str, &str, f64) {
    match metric {
        "latency_ms.mean" => ("mean latency", " ms", 1.0),
        "latency_ms.p99" => ("p99 latency", " ms", 1.0),
        "throughput_rps" => ("completed requests", " req/s", 1.0),
        "error_rate" => ("error rate", " percentage points", 100.0),
        other => (other, "", 1.0),
    }
}

/// One line per paired difference, in its unit; `*` marks a CI that excludes zero. Rows that
/// are exactly zero (mean and half-width) say nothing and are left out.
fn paired_diffs(strategies: &[StrategySummary]) -> String {
    let diffs: Vec<_> = strategies
        .iter()
        .flat_map(|s| s.vs_baseline.iter().map(move |d| (s, d)))
        .filter(|(_, d)| d.mean != 0.0 || d.ci95 != 0.0)
        .collect();
    let Some((_, first)) = diffs.first() else {
        return String::new();
    };
    let title = format!(
        "Paired differences vs {} (this − baseline, 95 % CI; * = CI excludes 0; rows that are \
         exactly 0 left out):",
        first.baseline
    );
    let mut out: String = wrap(&title, MAX_WIDTH - 2)
        .iter()
        .map(|l| format!("  {l}\n"))
        .collect();
    for (s, d) in diffs {
        let (what, unit, k) = diff_metric(&d.metric);
        let star = if d.mean.abs() > d.ci95 { " *" } else { "" };
        let diff = half_width(d.mean * k, d.ci95 * k, decimals(d.mean * k));
        let sign = if d.mean > 0.0 { "+" } else { "" };
        let _ = writeln!(out, "    {}: {what} {sign}{diff}{unit}{star}", s.name);
    }
    out
}

fn capacity_table(capacity: &[Capacity]) -> Table {
    let mut table = Table::new(&[
        "Strategy",
        "Headroom",
        "Max load scale",
        "Max load (req/s or users)",
    ]);
    let scale_d = column_decimals(capacity.iter().map(|c| c.max_load_scale));
    let load_d = column_decimals(capacity.iter().map(|c| c.max_load));
    for c in capacity {
        let scale = Cell::plain(&fixed(c.max_load_scale, scale_d));
        let room = headroom(c.max_load_scale);
        let style = if c.max_load_scale >= 1.0 {
            Style::Good
        } else {
            Style::Bad
        };
        table.rows.push(vec![
            Cell::plain(&c.strategy),
            Cell { text: room, style },
            scale,
            Cell::plain(&fixed(c.max_load, load_d)),
        ]);
    }
    table
}

/// How far the load can grow from the scenario's own before the first SLO fails, from the
/// highest passing load scale: `+35 %`, or `none` when the scenario's own load already fails.
pub(crate) fn headroom(max_load_scale: f64) -> String {
    if !max_load_scale.is_finite() {
        return "–".to_string();
    }
    if max_load_scale < 1.0 {
        return "none".to_string();
    }
    let pct = (max_load_scale - 1.0) * 100.0;
    format!("+{} %", fixed(pct, if pct < 10.0 { 1 } else { 0 }))
}

/// How a cell is coloured when colour is on.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Style {
    Plain,
    Good,
    Bad,
}

pub(super) struct Cell {
    pub(super) text: String,
    pub(super) style: Style,
}

impl Cell {
    pub(super) fn plain(text: &str) -> Self {
        Self {
            text: text.to_string(),
            style: Style::Plain,
        }
    }
}

/// Text columns besides the first: left-aligned like it, unlike the numbers.
const LEFT_ALIGNED: [&str; 5] = [
    "SLO",
    "Bottleneck",
    "Class / component",
    "Metric",
    "Verdict",
];

/// A box-drawn table; the first column (names) and the text columns ([`LEFT_ALIGNED`]) are
/// left-aligned, the numbers right-aligned.
pub(super) struct Table {
    header: Vec<String>,
    pub(super) rows: Vec<Vec<Cell>>,
}

impl Table {
    pub(super) fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub(super) fn render(&self, paint: Paint) -> String {
        let widths = self.widths();
        let mut out = rule(&widths, '┌', '┬', '┐');
        let header: Vec<String> = self
            .header
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (h, w))| paint.bold(&pad(h, *w, self.left(i))))
            .collect();
        out += &format!("│ {} │\n", header.join(" │ "));
        out += &rule(&widths, '├', '┼', '┤');
        for row in &self.rows {
            // A long name wraps onto more lines; the other cells sit on its first line.
            for (k, line) in wrap(&row[0].text, widths[0]).iter().enumerate() {
                let cells: Vec<String> = row
                    .iter()
                    .zip(&widths)
                    .enumerate()
                    .map(|(i, (c, w))| {
                        let text = match (i, k) {
                            (0, _) => line.as_str(),
                            (_, 0) => c.text.as_str(),
                            _ => "",
                        };
                        paint.cell(c, &pad(text, *w, self.left(i)))
                    })
                    .collect();
                out += &format!("│ {} │\n", cells.join(" │ "));
            }
        }
        out + &rule(&widths, '└', '┴', '┘')
    }

    fn left(&self, column: usize) -> bool {
        column == 0 || LEFT_ALIGNED.contains(&self.header[column].as_str())
    }

    /// Column widths; the first column shrinks (down to 12, its names then wrap) to keep the
    /// table in [`MAX_WIDTH`].
    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(&cell.text));
            }
        }
        let total: usize = widths.iter().map(|w| w + 3).sum::<usize>() + 1;
        if total > MAX_WIDTH {
            widths[0] = widths[0].saturating_sub(total - MAX_WIDTH).max(12);
        }
        widths
    }
}

fn rule(widths: &[usize], left: char, mid: char, right: char) -> String {
    let parts: Vec<String> = widths.iter().map(|w| "─".repeat(w + 2)).collect();
    format!("{left}{}{right}\n", parts.join(&mid.to_string()))
}

/// Display width, counting characters (names are expected to be mostly ASCII).
fn width(text: &str) -> usize {
    text.chars().count()
}

/// `text` in lines of at most `w` characters, broken at spaces (a longer word is split).
fn wrap(text: &str, w: usize) -> Vec<String> {
    let w = w.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > w {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.drain(..w).collect());
        }
        let word: String = word.into_iter().collect();
        if line.is_empty() {
            line = word;
        } else if width(&line) + 1 + width(&word) <= w {
            line = format!("{line} {word}");
        } else {
            lines.push(std::mem::replace(&mut line, word));
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Pads (or shortens with `…`) `text` to exactly `w` characters.
fn pad(text: &str, w: usize, left: bool) -> String {
    let n = width(text);
    if n > w {
        let cut: String = text.chars().take(w.saturating_sub(1)).collect();
        return format!("{cut}…");
    }
    let fill = " ".repeat(w - n);
    if left {
        format!("{text}{fill}")
    } else {
        format!("{fill}{text}")
    }
}

/// ANSI styling, or nothing when colour is off.
#[derive(Clone, Copy)]
pub(super) struct Paint(pub(super) bool);

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub(super) fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }

    fn bad(self, text: &str) -> String {
        self.wrap("1;31", text)
    }

    fn cell(self, cell: &Cell, padded: &str) -> String {
        match cell.style {
            Style::Plain => padded.to_string(),
            Style::Good => self.wrap("1;32", padded),
            Style::Bad => self.wrap("1;31", padded),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::{PairedDiff, SweepPoint};

    #[test]
    fn pad_aligns_and_shortens() {
        assert_eq!(pad("ab", 4, true), "ab  ");
        assert_eq!(pad("ab", 4, false), "  ab");
        assert_eq!(pad("abcdef", 4, true), "abc…");
    }

    #[test]
    fn long_names_wrap_and_are_never_cut() {
        assert_eq!(wrap("3 replicas, 2x pods", 12), ["3 replicas,", "2x pods"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        let long = "a strategy whose name is far longer than any terminal column would hold";
        let mut summary = one(long);
        summary.strategies[0].slo.checks.push(Default::default());
        let text = render_table(&summary, false);
        for word in long.split(' ') {
            assert!(text.contains(word), "`{word}` cut from:\n{text}");
        }
        assert!(!text.contains('…'), "{text}");
        assert!(
            text.lines().all(|l| l.chars().count() <= MAX_WIDTH),
            "{text}"
        );
    }

    #[test]
    fn headroom_is_the_growth_before_the_first_slo_fails() {
        assert_eq!(headroom(1.35), "+35 %");
        assert_eq!(headroom(1.0), "+0.0 %");
        assert_eq!(headroom(1.052), "+5.2 %");
        assert_eq!(headroom(0.8), "none");
        assert_eq!(headroom(0.0), "none");
        assert_eq!(headroom(f64::NAN), "–");
    }

    #[test]
    fn exact_zero_half_width_shows_and_heading_says_the_warmup() {
        let mut summary = one("a");
        summary.replications = 3;
        summary.warmup_s = 120.0;
        summary.horizon_s = 1800.0;
        summary.strategies[0].latency_ms.p99 = 68.0;
        let text = render_table(&summary, false);
        assert!(text.contains("68.0 ±0"), "{text}");
        assert!(
            text.contains("3 replications × 1800 s after 120 s warm-up"),
            "{text}"
        );
        assert_eq!(latency(13.0, 0.2, 0, 3), "13 ±0.2");
        assert_eq!(latency(13.0, 0.0, 0, 1), "13");
    }

    #[test]
    fn sessions_and_sagas_get_their_own_tables() {
        let mut summary = one("base");
        let component = |name: &str, kind: &str, metrics: &[(&str, f64)]| {
            crate::report::summary::ComponentSummary {
                name: name.into(),
                kind: kind.into(),
                metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                ..Default::default()
            }
        };
        let plain = render_table(&summary, false);
        assert!(
            !plain.contains("Shoppers") && !plain.contains("Sagas:"),
            "{plain}"
        );
        summary.strategies[0].components = vec![
            component(
                "sessions",
                "sessions",
                &[
                    ("sessions", 1000.0),
                    ("conversion_rate", 0.1234),
                    ("conversions", 123.0),
                    ("conversions_lost", 17.4),
                    ("revenue_lost", 1392.0),
                ],
            ),
            component(
                "order",
                "saga",
                &[
                    ("sagas_completed", 90.0),
                    ("sagas_compensated", 9.0),
                    ("sagas_inconsistent", 1.0),
                ],
            ),
        ];
        let text = render_table(&summary, false);
        assert!(
            text.contains("Shoppers") && text.contains("12.34") && text.contains("1392"),
            "{text}"
        );
        assert!(
            text.contains("Sagas:") && text.contains("Inconsistent") && text.contains("1.0"),
            "{text}"
        );
    }

    #[test]
    fn paired_differences_have_units_and_skip_zero_rows() {
        let mut summary = one("base");
        let mut other = summary.strategies[0].clone();
        other.name = "other".into();
        let diff = |metric: &str, mean: f64, ci95: f64| PairedDiff {
            metric: metric.into(),
            baseline: "base".into(),
            mean,
            ci95,
        };
        other.vs_baseline = vec![
            diff("latency_ms.p99", -15.0, 1.5),
            diff("error_rate", 0.0, 0.0),
        ];
        summary.strategies.push(other);
        let text = render_table(&summary, false);
        assert!(text.contains("p99 latency -15.0 ±1.5 ms *"), "{text}");
        assert!(!text.contains("error rate"), "{text}");
    }

    #[test]
    fn sweep_is_one_compact_table() {
        let mut summary = one("a");
        summary.points = [1.0, 2.0]
            .iter()
            .map(|&value| SweepPoint {
                parameter: "rate".into(),
                value,
                strategies: summary.strategies.clone(),
            })
            .collect();
        let text = render_table(&summary, false);
        assert!(text.contains("Sweep over rate"), "{text}");
        assert!(!text.contains("Sweep point"), "{text}");
        // One header line for the base table and one for the sweep.
        assert_eq!(text.matches('┌').count(), 2, "{text}");
    }

    fn one(name: &str) -> Summary {
        Summary {
            schema: 1,
            scenario: "x".into(),
            scenario_hash: "h".into(),
            seed: 1,
            replications: 1,
            mode: "sim".into(),
            horizon_s: 1.0,
            warmup_s: 0.0,
            strategies: vec![StrategySummary {
                name: name.into(),
                ..Default::default()
            }],
            points: vec![],
            capacity: vec![],
            cost_growth: vec![],
            auto_replications: None,
            loads: Vec::new(),
            study: None,
            comparison: None,
        }
    }

    #[test]
    fn colour_only_when_asked() {
        let s = StrategySummary {
            name: "a".into(),
            ..Default::default()
        };
        let summary = Summary {
            schema: 1,
            scenario: "x".into(),
            scenario_hash: "h".into(),
            seed: 1,
            replications: 1,
            mode: "sim".into(),
            horizon_s: 1.0,
            warmup_s: 0.0,
            strategies: vec![s],
            points: vec![],
            capacity: vec![],
            cost_growth: vec![],
            auto_replications: None,
            loads: Vec::new(),
            study: None,
            comparison: None,
        };
        assert!(!render_table(&summary, false).contains('\x1b'));
        assert!(render_table(&summary, true).contains("\x1b[1m"));
    }
}
