//! `scalesim diff`: two result folders compared per strategy, class, component and metric.
//!
//! Both sides are read from their `summary.json` ([`read_result`]); rows are matched by sweep
//! point, strategy, class, component and metric name, and each matched pair gets a
//! [`Verdict`]. The rule ([`RULE`]) is:
//!
//! - **unchanged**: the two values are identical (as they are for the same scenario, seed and
//!   replications on the same build: runs are deterministic);
//! - metrics that carry a 95 % CI half-width over the replications (latencies of strategies and
//!   classes, utilizations, component metrics): **changed** when the two intervals do not
//!   overlap, `|new - old| > ci_old + ci_new`, else **within noise**;
//! - metrics without a stored interval (counts, throughput, error rate, availability, cost, the
//!   SLO verdict, capacity), and every metric of a run with one replication: **changed** when
//!   `|new - old|` exceeds the relative tolerance (default 1 %) of the larger magnitude and,
//!   for fractions (error rate, availability, SLO violation time), also 0.0001 (0.01
//!   percentage points); else **within noise**.
//!
//! A change is **worse** or **better** when the metric has a direction (latency, errors and
//! cost: lower is better; completions, throughput, availability, the SLO verdict and capacity:
//! higher is better), else just **changed** (offered requests, utilization, component
//! metrics). [`Diff::gate`] lists the worse rows of the metrics a CI gate watches.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::summary::{Latency, SCHEMA_VERSION, StrategySummary, Summary};
use super::table::{Cell, Paint, Style, Table};

/// The rule, as written into the JSON and printed under the table.
pub const RULE: &str = "changed when the two 95 % CIs over the replications do not overlap \
    (|new - old| > ci_old + ci_new); for metrics without a CI, or with one replication, when \
    |new - old| > tolerance x the larger magnitude (and > 0.0001 for fractions)";

/// The metrics a gate watches unless told otherwise (`--fail-on`).
pub const DEFAULT_FAIL_ON: &str = "p99,error_rate,cost";

/// The file `diff` writes into the new result folder unless told otherwise.
pub const DIFF_FILE: &str = "diff.json";

/// Why two result folders could not be compared. Every variant but [`DiffError::Io`] is bad
/// input: fix the command line and run again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// The folder does not exist.
    #[error("{0}: no such folder")]
    NotFound(PathBuf),
    /// The folder holds no `summary.json`.
    #[error("{0}: not a scalesim result folder (no summary.json; `scalesim run` writes one)")]
    NotAResult(PathBuf),
    /// `summary.json` could not be parsed.
    #[error("{path}: not a scalesim summary: {source}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// `summary.json` has another layout version.
    #[error("{path}: summary schema {found}, this scalesim reads schema {SCHEMA_VERSION}")]
    Schema {
        /// The file.
        path: PathBuf,
        /// Its `schema` field.
        found: u32,
    },
    /// The two runs share no strategy, so nothing can be compared.
    #[error(
        "no strategy in common: the old result ({old_scenario}) has {old}, the new one \
         ({new_scenario}) has {new}"
    )]
    NoCommonStrategy {
        /// Old scenario name.
        old_scenario: String,
        /// Its strategies.
        old: String,
        /// New scenario name.
        new_scenario: String,
        /// Its strategies.
        new: String,
    },
    /// A `--fail-on` name matches no metric of the comparison.
    #[error("--fail-on: `{name}` names no metric of these results (metrics: {known})")]
    UnknownMetric {
        /// The name given.
        name: String,
        /// The metric names there are.
        known: String,
    },
    /// The tolerance is not a finite non-negative fraction.
    #[error("--tolerance: must be a percentage from 0 up, got {0}")]
    BadTolerance(String),
    /// Reading a file failed for another reason than its absence.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl DiffError {
    /// Whether the user can fix it by changing the command line (all but I/O failures).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, DiffError::Io { .. })
    }
}

/// Reads the summary of a result folder written by `scalesim run` (or `real`, or `merge`).
pub fn read_result(dir: &Path) -> Result<Summary, DiffError> {
    if !dir.is_dir() {
        return Err(DiffError::NotFound(dir.to_path_buf()));
    }
    let path = dir.join("summary.json");
    let text = std::fs::read(&path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => DiffError::NotAResult(dir.to_path_buf()),
        _ => DiffError::Io {
            path: path.clone(),
            source,
        },
    })?;
    let v: serde_json::Value =
        serde_json::from_slice(&text).map_err(|source| DiffError::Malformed {
            path: path.clone(),
            source,
        })?;
    match v.get("schema").and_then(serde_json::Value::as_u64) {
        Some(found) if found != u64::from(SCHEMA_VERSION) => Err(DiffError::Schema {
            path,
            found: u32::try_from(found).unwrap_or(u32::MAX),
        }),
        _ => serde_json::from_value(v).map_err(|source| DiffError::Malformed { path, source }),
    }
}

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Latency, errors, cost.
    LowerIsBetter,
    /// Completions, throughput, availability, SLO verdict, capacity.
    HigherIsBetter,
    /// Offered load, utilization, component metrics: a change is just a change.
    Neutral,
}

/// How a row was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Both 95 % intervals known: changed when they do not overlap.
    Ci,
    /// No interval: changed beyond the relative tolerance.
    Tolerance,
}

/// The verdict on one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Identical values.
    Unchanged,
    /// Different, but not beyond noise.
    WithinNoise,
    /// Beyond noise, in the good direction.
    Better,
    /// Beyond noise, in the bad direction.
    Worse,
    /// Beyond noise, for a metric without a direction.
    Changed,
}

impl Verdict {
    /// Whether the change is beyond noise.
    pub fn is_change(self) -> bool {
        matches!(self, Verdict::Better | Verdict::Worse | Verdict::Changed)
    }

    fn label(self) -> &'static str {
        match self {
            Verdict::Unchanged => "unchanged",
            Verdict::WithinNoise => "within noise",
            Verdict::Better => "better",
            Verdict::Worse => "WORSE",
            Verdict::Changed => "changed",
        }
    }
}

/// One compared number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffRow {
    /// The swept parameter, for rows of a sweep point.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point_parameter: Option<String>,
    /// Its value at that point.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point_value: Option<f64>,
    /// Strategy name.
    pub strategy: String,
    /// Request class, empty for strategy and component rows.
    pub class: String,
    /// Component, empty for strategy and class rows.
    pub component: String,
    /// Metric key as in `summary.csv`, e.g. `latency_ms.p99`, `error_rate`, `cost.per_hour`.
    pub metric: String,
    /// Old value.
    pub old: f64,
    /// Old 95 % half-width, when stored.
    pub old_ci95: Option<f64>,
    /// New value.
    pub new: f64,
    /// New 95 % half-width, when stored.
    pub new_ci95: Option<f64>,
    /// `new - old`.
    pub change: f64,
    /// `change / |old|` in percent, when `old` is not 0.
    pub change_pct: Option<f64>,
    /// Which way is better.
    pub direction: Direction,
    /// How it was judged.
    pub rule: Rule,
    /// The verdict.
    pub verdict: Verdict,
}

/// The facts of one side of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// The result folder.
    pub dir: PathBuf,
    /// Scenario name.
    pub scenario: String,
    /// Scenario hash.
    pub scenario_hash: String,
    /// Root seed.
    pub seed: u64,
    /// Replications.
    pub replications: u32,
    /// `sim` or `real`.
    pub mode: String,
}

impl Side {
    fn of(dir: &Path, s: &Summary) -> Self {
        Self {
            dir: dir.to_path_buf(),
            scenario: s.scenario.clone(),
            scenario_hash: s.scenario_hash.clone(),
            seed: s.seed,
            replications: s.replications,
            mode: s.mode.clone(),
        }
    }
}

/// How to judge.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffOptions {
    /// Relative tolerance for metrics without an interval (0.01 is 1 %).
    pub tolerance: f64,
    /// Metric names the gate watches (see [`matches_metric`]).
    pub fail_on: Vec<String>,
}

impl Default for DiffOptions {
    fn default() -> Self {
        Self {
            tolerance: 0.01,
            fail_on: parse_list(DEFAULT_FAIL_ON),
        }
    }
}

/// A comma-separated list, trimmed, empty items dropped.
pub fn parse_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses a `--tolerance` percentage (`1`, `2.5`, `1%`) into a fraction.
pub fn parse_tolerance(text: &str) -> Result<f64, DiffError> {
    let pct: f64 = text
        .trim()
        .trim_end_matches('%')
        .trim()
        .parse()
        .map_err(|_| DiffError::BadTolerance(text.to_string()))?;
    if pct.is_finite() && pct >= 0.0 {
        Ok(pct / 100.0)
    } else {
        Err(DiffError::BadTolerance(text.to_string()))
    }
}

/// Whether the `--fail-on` name `name` covers `metric`: the key itself, its last part (`p99`
/// for `latency_ms.p99`) or its first part (`cost` for `cost.per_hour`, `slo` for
/// `slo.passed`).
pub fn matches_metric(name: &str, metric: &str) -> bool {
    metric == name
        || metric
            .strip_suffix(name)
            .is_some_and(|head| head.ends_with('.'))
        || metric
            .strip_prefix(name)
            .is_some_and(|tail| tail.starts_with('.'))
}

/// The comparison of two results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    /// The old result.
    pub old: Side,
    /// The new result.
    pub new: Side,
    /// The rule applied, in words.
    pub rule: String,
    /// Relative tolerance used for metrics without an interval.
    pub tolerance: f64,
    /// Metric names the gate watches.
    pub fail_on: Vec<String>,
    /// Strategies only the old result has.
    pub only_old: Vec<String>,
    /// Strategies only the new result has.
    pub only_new: Vec<String>,
    /// Every compared number, in the new result's order.
    pub rows: Vec<DiffRow>,
    /// The rows that fail the gate: worse beyond noise in a watched metric.
    pub failed: Vec<DiffRow>,
}

impl Diff {
    /// The worse rows among the metrics the gate watches.
    pub fn gate(&self) -> &[DiffRow] {
        &self.failed
    }

    /// Rows with a change beyond noise.
    pub fn changed(&self) -> impl Iterator<Item = &DiffRow> {
        self.rows.iter().filter(|r| r.verdict.is_change())
    }
}

/// Compares `old` (read from `old_dir`) with `new` (from `new_dir`).
pub fn diff(
    old_dir: &Path,
    old: &Summary,
    new_dir: &Path,
    new: &Summary,
    opts: &DiffOptions,
) -> Result<Diff, DiffError> {
    let names =
        |s: &Summary| -> Vec<String> { s.strategies.iter().map(|x| x.name.clone()).collect() };
    let (old_names, new_names) = (names(old), names(new));
    let common = new_names.iter().filter(|n| old_names.contains(n)).count();
    if common == 0 {
        return Err(DiffError::NoCommonStrategy {
            old_scenario: old.scenario.clone(),
            old: old_names.join(", "),
            new_scenario: new.scenario.clone(),
            new: new_names.join(", "),
        });
    }
    let olds = flatten(old);
    let rows: Vec<DiffRow> = flatten(new)
        .into_iter()
        .filter_map(|n| {
            let o = olds.iter().find(|o| o.key == n.key)?;
            Some(judge(o, &n, opts.tolerance))
        })
        .collect();
    check_fail_on(&opts.fail_on, &rows)?;
    let failed = rows
        .iter()
        .filter(|r| r.verdict == Verdict::Worse && watched(&opts.fail_on, &r.metric))
        .cloned()
        .collect();
    Ok(Diff {
        old: Side::of(old_dir, old),
        new: Side::of(new_dir, new),
        rule: RULE.to_string(),
        tolerance: opts.tolerance,
        fail_on: opts.fail_on.clone(),
        only_old: old_names
            .iter()
            .filter(|n| !new_names.contains(n))
            .cloned()
            .collect(),
        only_new: new_names
            .iter()
            .filter(|n| !old_names.contains(n))
            .cloned()
            .collect(),
        rows,
        failed,
    })
}

fn watched(fail_on: &[String], metric: &str) -> bool {
    fail_on.iter().any(|n| matches_metric(n, metric))
}

fn check_fail_on(fail_on: &[String], rows: &[DiffRow]) -> Result<(), DiffError> {
    let Some(name) = fail_on
        .iter()
        .find(|n| !rows.iter().any(|r| matches_metric(n, &r.metric)))
    else {
        return Ok(());
    };
    let mut known: Vec<&str> = rows.iter().map(|r| r.metric.as_str()).collect();
    known.sort_unstable();
    known.dedup();
    Err(DiffError::UnknownMetric {
        name: name.clone(),
        known: known.join(", "),
    })
}

/// Where a number sits: sweep point, strategy, class, component, metric.
#[derive(Debug, Clone, PartialEq)]
struct Key {
    point: Option<(String, f64)>,
    strategy: String,
    class: String,
    component: String,
    metric: String,
}

/// One number of one result, with its interval and direction.
#[derive(Debug, Clone)]
struct Value {
    key: Key,
    value: f64,
    ci95: Option<f64>,
    direction: Direction,
}

/// Every compared number of a summary, in its order.
fn flatten(s: &Summary) -> Vec<Value> {
    let mut out = Vec::new();
    for st in &s.strategies {
        strategy_values(None, st, &mut out);
    }
    for p in &s.points {
        for st in &p.strategies {
            strategy_values(Some((p.parameter.clone(), p.value)), st, &mut out);
        }
    }
    for c in &s.capacity {
        let key = key(None, &c.strategy, "", "", "capacity.max_load_scale");
        out.push(plain(key, c.max_load_scale, Direction::HigherIsBetter));
    }
    out
}

fn key(
    point: Option<(String, f64)>,
    strategy: &str,
    class: &str,
    component: &str,
    metric: &str,
) -> Key {
    Key {
        point,
        strategy: strategy.to_string(),
        class: class.to_string(),
        component: component.to_string(),
        metric: metric.to_string(),
    }
}

fn plain(key: Key, value: f64, direction: Direction) -> Value {
    Value {
        key,
        value,
        ci95: None,
        direction,
    }
}

fn strategy_values(point: Option<(String, f64)>, s: &StrategySummary, out: &mut Vec<Value>) {
    use Direction::{HigherIsBetter as Up, LowerIsBetter as Down, Neutral};
    let k = |metric: &str| key(point.clone(), &s.name, "", "", metric);
    let totals = [
        ("requests", s.requests, Neutral),
        ("completed", s.completed, Up),
        ("failed", s.failed, Down),
        ("error_rate", s.error_rate, Down),
        ("availability", s.availability, Up),
        ("slo_violation_time_ratio", s.slo_violation_time_ratio, Down),
        ("throughput_rps", s.throughput_rps, Up),
    ];
    out.extend(totals.iter().map(|(m, v, d)| plain(k(m), *v, *d)));
    latency_values(&k(""), &s.latency_ms, &s.latency_ms_ci95, out);
    for (kind, v) in &s.errors {
        out.push(plain(k(&format!("errors.{kind}")), *v, Down));
    }
    out.push(plain(k("cost.per_hour"), s.cost.per_hour, Down));
    out.push(plain(
        k("cost.per_million_requests"),
        s.cost.per_million_requests,
        Down,
    ));
    out.push(plain(
        k("slo.passed"),
        f64::from(u8::from(s.slo.passed)),
        Up,
    ));
    for c in &s.classes {
        let k = |metric: &str| key(point.clone(), &s.name, &c.name, "", metric);
        out.push(plain(k("requests"), c.requests, Neutral));
        out.push(plain(k("completed"), c.completed, Up));
        out.push(plain(k("failed"), c.failed, Down));
        out.push(plain(k("throughput_rps"), c.throughput_rps, Up));
        latency_values(&k(""), &c.latency_ms, &c.latency_ms_ci95, out);
    }
    for c in &s.components {
        let k = |metric: &str| key(point.clone(), &s.name, "", &c.name, metric);
        out.push(Value {
            ci95: Some(c.utilization_ci95),
            ..plain(k("utilization"), c.utilization, Neutral)
        });
        out.push(plain(k("mean_queue"), c.mean_queue, Down));
        for (m, v) in &c.metrics {
            out.push(Value {
                ci95: c.metrics_ci95.get(m).copied(),
                ..plain(k(m), *v, Neutral)
            });
        }
    }
}

/// `latency_ms.*` rows under `base` (whose metric is replaced).
fn latency_values(base: &Key, l: &Latency, ci: &Latency, out: &mut Vec<Value>) {
    let fixed = [
        ("mean", l.mean, ci.mean),
        ("p50", l.p50, ci.p50),
        ("p90", l.p90, ci.p90),
        ("p95", l.p95, ci.p95),
        ("p99", l.p99, ci.p99),
        ("p999", l.p999, ci.p999),
        ("max", l.max, ci.max),
    ];
    let extra = l
        .extra
        .iter()
        .map(|(k, v)| (k.as_str(), *v, ci.extra.get(k).copied().unwrap_or(0.0)));
    for (name, v, h) in fixed.into_iter().chain(extra) {
        out.push(Value {
            key: Key {
                metric: format!("latency_ms.{name}"),
                ..base.clone()
            },
            value: v,
            ci95: Some(h).filter(|h| !h.is_nan()),
            direction: Direction::LowerIsBetter,
        });
    }
}

/// Fractions get an absolute floor on top of the relative tolerance.
const FRACTION_FLOOR: f64 = 1e-4;

fn is_fraction(metric: &str) -> bool {
    matches!(
        metric,
        "error_rate" | "availability" | "slo_violation_time_ratio"
    )
}

fn judge(o: &Value, n: &Value, tolerance: f64) -> DiffRow {
    let change = n.value - o.value;
    let (rule, verdict) = verdict(o, n, tolerance);
    DiffRow {
        point_parameter: n.key.point.as_ref().map(|p| p.0.clone()),
        point_value: n.key.point.as_ref().map(|p| p.1),
        strategy: n.key.strategy.clone(),
        class: n.key.class.clone(),
        component: n.key.component.clone(),
        metric: n.key.metric.clone(),
        old: o.value,
        old_ci95: o.ci95,
        new: n.value,
        new_ci95: n.ci95,
        change,
        change_pct: (o.value != 0.0 && change.is_finite()).then(|| change / o.value.abs() * 100.0),
        direction: n.direction,
        rule,
        verdict,
    }
}

/// The rule that applies to a pair and its verdict (see the [module docs](self)).
fn verdict(o: &Value, n: &Value, tolerance: f64) -> (Rule, Verdict) {
    let change = n.value - o.value;
    let both_ci = o.ci95.zip(n.ci95).filter(|(a, b)| a + b > 0.0);
    let rule = if both_ci.is_some() {
        Rule::Ci
    } else {
        Rule::Tolerance
    };
    let floor = if is_fraction(&n.key.metric) {
        FRACTION_FLOOR
    } else {
        0.0
    };
    let beyond = match both_ci {
        _ if !(o.value.is_finite() && n.value.is_finite()) => true,
        Some((a, b)) => change.abs() > a + b,
        None => change.abs() > (tolerance * o.value.abs().max(n.value.abs())).max(floor),
    };
    let verdict = match (beyond, n.direction) {
        _ if same(o.value, n.value) => Verdict::Unchanged,
        (false, _) => Verdict::WithinNoise,
        (true, Direction::Neutral) => Verdict::Changed,
        _ if !change.is_finite() => Verdict::Changed,
        (true, Direction::LowerIsBetter) if change > 0.0 => Verdict::Worse,
        (true, Direction::HigherIsBetter) if change < 0.0 => Verdict::Worse,
        _ => Verdict::Better,
    };
    (rule, verdict)
}

/// Equal, counting two NaNs as equal (a metric undefined in both runs has not changed).
fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// The terminal report: the facts of both sides, a table of the changed rows (every row with
/// `all`), and the gate's verdict.
pub fn render(d: &Diff, all: bool, color: bool) -> String {
    let mut out = heading(d);
    let rows: Vec<&DiffRow> = d
        .rows
        .iter()
        .filter(|r| all || r.verdict.is_change())
        .collect();
    if rows.is_empty() {
        out += &format!(
            "  nothing changed beyond noise ({} numbers compared)\n",
            d.rows.len()
        );
    } else {
        out += &table(&rows).render(Paint(color));
    }
    out += &footer(d);
    out
}

fn heading(d: &Diff) -> String {
    let side = |s: &Side| {
        format!(
            "{} ({} · seed {} · {} replications · hash {})",
            s.dir.display(),
            s.scenario,
            s.seed,
            s.replications,
            s.scenario_hash
        )
    };
    let mut out = format!("Diff old {}\n  -> new {}\n", side(&d.old), side(&d.new));
    for (what, names) in [("old", &d.only_old), ("new", &d.only_new)] {
        if !names.is_empty() {
            out += &format!(
                "  only in the {what} result (not compared): {}\n",
                names.join(", ")
            );
        }
    }
    out
}

fn footer(d: &Diff) -> String {
    let count = |v: Verdict| d.rows.iter().filter(|r| r.verdict == v).count();
    let mut out = format!(
        "  {} worse, {} better, {} changed, {} within noise, {} unchanged. Change: new - old, in \
         % of old.\n  Rule: changed when the two 95 % CIs over the replications do not overlap; \
         without a CI (or\n  with one replication) when the change exceeds {}% of the larger value \
         (and 0.0001 for fractions).\n",
        count(Verdict::Worse),
        count(Verdict::Better),
        count(Verdict::Changed),
        count(Verdict::WithinNoise),
        count(Verdict::Unchanged),
        d.tolerance * 100.0
    );
    if d.failed.is_empty() {
        out += &format!("  gate ({}): passed\n", d.fail_on.join(","));
    } else {
        out += &format!(
            "  gate ({}): FAILED: {} watched number(s) worse beyond noise\n",
            d.fail_on.join(","),
            d.failed.len()
        );
    }
    out
}

fn table(rows: &[&DiffRow]) -> Table {
    let mut t = Table::new(&[
        "Strategy",
        "Class / component",
        "Metric",
        "Old",
        "New",
        "Change",
        "Verdict",
    ]);
    for r in rows {
        let strategy = match (&r.point_parameter, r.point_value) {
            (Some(p), Some(v)) => format!("{} @ {p}={v}", r.strategy),
            _ => r.strategy.clone(),
        };
        let place = if r.class.is_empty() {
            &r.component
        } else {
            &r.class
        };
        let style = match r.verdict {
            Verdict::Worse => Style::Bad,
            Verdict::Better => Style::Good,
            _ => Style::Plain,
        };
        t.rows.push(vec![
            Cell::plain(&strategy),
            Cell::plain(place),
            Cell::plain(&r.metric),
            Cell::plain(&value(r.old, r.old_ci95)),
            Cell::plain(&value(r.new, r.new_ci95)),
            Cell::plain(&change(r)),
            Cell {
                text: r.verdict.label().to_string(),
                style,
            },
        ]);
    }
    t
}

fn value(v: f64, ci: Option<f64>) -> String {
    let d = super::format::decimals(v);
    super::format::with_ci_fixed(v, ci.unwrap_or(0.0), d)
}

/// The change in percent of the old value, or absolute when the old value is 0.
fn change(r: &DiffRow) -> String {
    let sign = if r.change > 0.0 { "+" } else { "" };
    match r.change_pct {
        Some(p) => format!("{sign}{p:.1}%"),
        None => format!("{sign}{}", super::format::num(r.change)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::{ClassSummary, Cost};

    fn summary(p99: f64, ci: f64, error_rate: f64) -> Summary {
        let class = ClassSummary {
            name: "browse".into(),
            latency_ms: Latency {
                p99,
                ..Latency::default()
            },
            latency_ms_ci95: Latency {
                p99: ci,
                ..Latency::default()
            },
            ..ClassSummary::default()
        };
        let s = StrategySummary {
            name: "a".into(),
            error_rate,
            latency_ms: class.latency_ms.clone(),
            latency_ms_ci95: class.latency_ms_ci95.clone(),
            classes: vec![class],
            cost: Cost {
                per_hour: 2.0,
                per_million_requests: 1.0,
            },
            ..StrategySummary::default()
        };
        Summary {
            schema: SCHEMA_VERSION,
            scenario: "x".into(),
            scenario_hash: "h".into(),
            seed: 1,
            replications: 3,
            mode: "sim".into(),
            horizon_s: 60.0,
            warmup_s: 0.0,
            strategies: vec![s],
            points: vec![],
            capacity: vec![],
            cost_growth: vec![],
            auto_replications: None,
            loads: Vec::new(),
            study: None,
            comparison: None,
        }
    }

    fn run(old: &Summary, new: &Summary) -> Diff {
        diff(
            Path::new("o"),
            old,
            Path::new("n"),
            new,
            &DiffOptions::default(),
        )
        .expect("comparable")
    }

    fn verdict(d: &Diff, class: &str, metric: &str) -> Verdict {
        d.rows
            .iter()
            .find(|r| r.class == class && r.metric == metric && r.component.is_empty())
            .map(|r| r.verdict)
            .expect("row present")
    }

    #[test]
    fn identical_results_change_nothing_and_pass() {
        let d = run(&summary(50.0, 2.0, 0.0), &summary(50.0, 2.0, 0.0));
        assert!(d.rows.iter().all(|r| r.verdict == Verdict::Unchanged));
        assert!(d.gate().is_empty());
        assert!(render(&d, false, false).contains("nothing changed"));
    }

    #[test]
    fn overlapping_intervals_are_noise_and_disjoint_ones_a_change() {
        // |53 - 50| = 3 <= 2 + 2: the intervals overlap.
        let d = run(&summary(50.0, 2.0, 0.0), &summary(53.0, 2.0, 0.0));
        assert_eq!(verdict(&d, "", "latency_ms.p99"), Verdict::WithinNoise);
        assert!(d.gate().is_empty());
        // 5 > 4: they do not; p99 is watched by default, so the gate fails (class row too).
        let d = run(&summary(50.0, 2.0, 0.0), &summary(55.0, 2.0, 0.0));
        assert_eq!(verdict(&d, "", "latency_ms.p99"), Verdict::Worse);
        assert_eq!(verdict(&d, "browse", "latency_ms.p99"), Verdict::Worse);
        assert_eq!(d.gate().len(), 2);
        let d = run(&summary(55.0, 2.0, 0.0), &summary(50.0, 2.0, 0.0));
        assert_eq!(verdict(&d, "", "latency_ms.p99"), Verdict::Better);
        assert!(d.gate().is_empty());
    }

    #[test]
    fn metrics_without_an_interval_use_the_tolerance_and_the_fraction_floor() {
        // 0.00005 absolute is under the 0.0001 floor for fractions.
        let d = run(&summary(50.0, 2.0, 0.0), &summary(50.0, 2.0, 0.00005));
        assert_eq!(verdict(&d, "", "error_rate"), Verdict::WithinNoise);
        let d = run(&summary(50.0, 2.0, 0.001), &summary(50.0, 2.0, 0.002));
        assert_eq!(verdict(&d, "", "error_rate"), Verdict::Worse);
        assert_eq!(d.gate()[0].rule, Rule::Tolerance);
    }

    #[test]
    fn one_replication_falls_back_to_the_tolerance() {
        let d = run(&summary(50.0, 0.0, 0.0), &summary(50.4, 0.0, 0.0));
        assert_eq!(verdict(&d, "", "latency_ms.p99"), Verdict::WithinNoise);
        let d = run(&summary(50.0, 0.0, 0.0), &summary(51.0, 0.0, 0.0));
        assert_eq!(verdict(&d, "", "latency_ms.p99"), Verdict::Worse);
    }

    #[test]
    fn fail_on_names_match_keys_heads_and_tails() {
        assert!(matches_metric("p99", "latency_ms.p99"));
        assert!(!matches_metric("p9", "latency_ms.p99"));
        assert!(matches_metric("cost", "cost.per_hour"));
        assert!(matches_metric("error_rate", "error_rate"));
        assert!(matches_metric("slo", "slo.passed"));
        assert!(!matches_metric("rate", "error_rate"));
        let opts = DiffOptions {
            fail_on: vec!["p98".into()],
            ..DiffOptions::default()
        };
        let s = summary(1.0, 0.0, 0.0);
        let e = diff(Path::new("o"), &s, Path::new("n"), &s, &opts).expect_err("unknown metric");
        assert!(e.to_string().contains("`p98`"), "{e}");
        assert!(e.is_bad_input());
    }

    #[test]
    fn no_common_strategy_is_an_error() {
        let mut other = summary(1.0, 0.0, 0.0);
        other.strategies[0].name = "b".into();
        let e = diff(
            Path::new("o"),
            &summary(1.0, 0.0, 0.0),
            Path::new("n"),
            &other,
            &DiffOptions::default(),
        )
        .expect_err("nothing in common");
        assert!(matches!(e, DiffError::NoCommonStrategy { .. }), "{e}");
    }

    #[test]
    fn tolerance_parses_percentages() {
        assert_eq!(parse_tolerance("1").ok(), Some(0.01));
        assert_eq!(parse_tolerance("2.5%").ok(), Some(0.025));
        assert!(parse_tolerance("-1").is_err());
        assert!(parse_tolerance("x").is_err());
        assert!(parse_tolerance("NaN").is_err());
    }
}
