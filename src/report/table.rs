//! The terminal comparison table: one row per strategy, the numbers an architect decides on.
//!
//! ```text
//! Scenario shop · sim · seed 42 · 3 replications × 600 s · hash 3f2a9c01d4e5
//! ┌───────────────┬───────┬───────────┬───────────┬───────┬────────┬────────────┬──────────┐
//! │ Strategy      │ Req/s │    p50 ms │    p99 ms │ Err % │ Cost/h │ Cost/M req │ SLO      │
//! ├───────────────┼───────┼───────────┼───────────┼───────┼────────┼────────────┼──────────┤
//! │ single-db     │ 400.0 │ 11.2 ±0.3 │ 45.0 ±1.3 │  0.20 │   2.80 │       0.98 │ FAIL 1/2 │
//! │ read-replicas │ 400.0 │  7.5 ±0.2 │ 30.0 ±0.9 │  0.20 │   4.20 │       1.47 │ PASS     │
//! │ cache-aside   │ 400.0 │  4.4 ±0.1 │ 17.5 ±0.5 │  0.20 │   3.60 │       1.26 │ PASS     │
//! └───────────────┴───────┴───────────┴───────────┴───────┴────────┴────────────┴──────────┘
//!   ✗ single-db: p99 <= 40ms (measured 45.0 ms)
//!   Paired differences vs single-db (this − baseline, 95 % CI; * = CI excludes 0):
//!     read-replicas: latency_ms.p99 -15.0 ±1.5 *
//! ```
//!
//! Each column shares one precision (set by its largest value) so decimal points line up.
//! Latencies carry their 95 % CI half-width; failed SLO checks are listed under the table with
//! the measured value, then paired differences against the baseline, then one block per sweep
//! point and the capacity results. Cells are padded before colouring, so ANSI codes (only when
//! `color` is true) never break the alignment. The table stays within [`MAX_WIDTH`] columns by
//! shortening long strategy names.

use std::fmt::Write;

use super::format::{
    column_decimals, fixed, metric_value, money, percent, plain, with_ci, with_ci_fixed,
};
use super::summary::{Capacity, CostGrowth, StrategySummary, Summary};

/// Target terminal width in columns.
pub const MAX_WIDTH: usize = 100;

/// Renders the whole summary: run facts, the base comparison, sweep points, capacity.
pub fn render_table(summary: &Summary, color: bool) -> String {
    let paint = Paint(color);
    let mut out = heading(summary, paint);
    out += &strategies_block(&summary.strategies, paint);
    for point in &summary.points {
        let title = format!("Sweep point {} = {}", point.parameter, plain(point.value));
        let _ = writeln!(out, "\n{}", paint.bold(&title));
        out += &strategies_block(&point.strategies, paint);
    }
    if !summary.capacity.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            paint.bold("Capacity (highest load meeting every SLO)")
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
    out
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
    let facts = format!(
        "{} · seed {} · {} replications × {} s · hash {hash}",
        s.mode,
        s.seed,
        s.replications,
        plain(s.horizon_s)
    );
    format!(
        "{} · {facts}\n",
        paint.bold(&format!("Scenario {}", s.scenario))
    )
}

/// The table for one set of strategies, then failed SLO checks and paired differences.
fn strategies_block(strategies: &[StrategySummary], paint: Paint) -> String {
    if strategies.is_empty() {
        return "(no strategies)\n".to_string();
    }
    let mut out = comparison_table(strategies).render(paint);
    out += &slo_failures(strategies, paint);
    out += &paired_diffs(strategies);
    out
}

fn comparison_table(strategies: &[StrategySummary]) -> Table {
    let header = [
        "Strategy",
        "Req/s",
        "p50 ms",
        "p99 ms",
        "Err %",
        "Cost/h",
        "Cost/M req",
        "SLO",
    ];
    let mut table = Table::new(&header);
    let d = |f: fn(&StrategySummary) -> f64| column_decimals(strategies.iter().map(f));
    let (rps, p50, p99) = (
        d(|s| s.throughput_rps),
        d(|s| s.latency_ms.p50),
        d(|s| s.latency_ms.p99),
    );
    for s in strategies {
        let (l, ci) = (&s.latency_ms, &s.latency_ms_ci95);
        table.rows.push(vec![
            Cell::plain(&s.name),
            Cell::plain(&fixed(s.throughput_rps, rps)),
            Cell::plain(&with_ci_fixed(l.p50, ci.p50, p50)),
            Cell::plain(&with_ci_fixed(l.p99, ci.p99, p99)),
            Cell::plain(&percent(s.error_rate)),
            Cell::plain(&money(s.cost.per_hour)),
            Cell::plain(&money(s.cost.per_million_requests)),
            verdict(s),
        ]);
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

/// One line per paired difference; `*` marks a CI that excludes zero.
fn paired_diffs(strategies: &[StrategySummary]) -> String {
    let diffs: Vec<_> = strategies
        .iter()
        .flat_map(|s| s.vs_baseline.iter().map(move |d| (s, d)))
        .collect();
    let Some((_, first)) = diffs.first() else {
        return String::new();
    };
    let mut out = format!(
        "  Paired differences vs {} (this − baseline, 95 % CI; * = CI excludes 0):\n",
        first.baseline
    );
    for (s, d) in diffs {
        let star = if d.mean.abs() > d.ci95 { " *" } else { "" };
        let diff = with_ci(d.mean, d.ci95);
        let sign = if d.mean > 0.0 { "+" } else { "" };
        let _ = writeln!(out, "    {}: {} {sign}{diff}{star}", s.name, d.metric);
    }
    out
}

fn capacity_table(capacity: &[Capacity]) -> Table {
    let mut table = Table::new(&["Strategy", "Max load scale", "Max load (req/s or users)"]);
    let scale_d = column_decimals(capacity.iter().map(|c| c.max_load_scale));
    let load_d = column_decimals(capacity.iter().map(|c| c.max_load));
    for c in capacity {
        let scale = Cell::plain(&fixed(c.max_load_scale, scale_d));
        table.rows.push(vec![
            Cell::plain(&c.strategy),
            scale,
            Cell::plain(&fixed(c.max_load, load_d)),
        ]);
    }
    table
}

/// How a cell is coloured when colour is on.
#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Good,
    Bad,
}

struct Cell {
    text: String,
    style: Style,
}

impl Cell {
    fn plain(text: &str) -> Self {
        Self {
            text: text.to_string(),
            style: Style::Plain,
        }
    }
}

/// A box-drawn table; the first column (names) and the `SLO` column are left-aligned, the
/// numbers right-aligned.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    fn render(&self, paint: Paint) -> String {
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
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, w))| paint.cell(c, &pad(&c.text, *w, self.left(i))))
                .collect();
            out += &format!("│ {} │\n", cells.join(" │ "));
        }
        out + &rule(&widths, '└', '┴', '┘')
    }

    fn left(&self, column: usize) -> bool {
        column == 0 || self.header[column] == "SLO"
    }

    /// Column widths; the first column shrinks (down to 12) to keep the table in [`MAX_WIDTH`].
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
struct Paint(bool);

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn bold(self, text: &str) -> String {
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

    #[test]
    fn pad_aligns_and_shortens() {
        assert_eq!(pad("ab", 4, true), "ab  ");
        assert_eq!(pad("ab", 4, false), "  ab");
        assert_eq!(pad("abcdef", 4, true), "abc…");
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
            strategies: vec![s],
            points: vec![],
            capacity: vec![],
            cost_growth: vec![],
        };
        assert!(!render_table(&summary, false).contains('\x1b'));
        assert!(render_table(&summary, true).contains("\x1b[1m"));
    }
}
