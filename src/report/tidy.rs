//! Tidy long-form CSV: one row per number, so pandas and R read it without reshaping.
//!
//! `summary.csv` has the columns
//! `scenario,point_parameter,point_value,strategy,class,component,metric,value,ci95`.
//! Which columns are filled tells what a row is about:
//!
//! | row | class | component | metric examples |
//! |---|---|---|---|
//! | strategy | – | – | `throughput_rps`, `latency_ms.p99`, `errors.timeout`, `cost.per_hour`, `slo.passed` |
//! | SLO check | – | – | `slo.latency_ms.p99.value`, `.threshold`, `.passed` (1 or 0) |
//! | paired difference vs the first strategy | – | – | `vs_baseline.latency_ms.p99` |
//! | request class | class | – | `requests`, `throughput_rps`, `latency_ms.p50` |
//! | component | – | component | `utilization`, `mean_queue`, pattern metrics (`hit_ratio`, ...) |
//! | capacity search | – | – | `capacity.max_load_scale`, `capacity.max_load` |
//! | cost growth over a load sweep | – | – | `cost_growth.cost_per_million_from`, `…_to`, `cost_growth.ratio`, `cost_growth.passed` (1/0) |
//!
//! Rows of the base run leave `point_parameter` and `point_value` empty; each sweep point
//! repeats all strategy rows with them filled. `ci95` (a Student-t 95 % half-width) is filled
//! for latencies and paired differences only, and empty for a real run (one run has no
//! confidence interval). Numbers keep full precision (shortest exact
//! decimal form); non-finite values are written `NaN`, `inf`, `-inf`.
//!
//! `timeseries.csv` has the columns `strategy,replication,t_s,metric,value`, one row per
//! [`SeriesRow`].

use super::summary::{
    ClassSummary, ComponentSummary, Latency, SeriesRow, StrategySummary, Summary,
};

/// Header of `summary.csv`.
pub const SUMMARY_HEADER: [&str; 9] = [
    "scenario",
    "point_parameter",
    "point_value",
    "strategy",
    "class",
    "component",
    "metric",
    "value",
    "ci95",
];

/// Header of `timeseries.csv`.
pub const TIMESERIES_HEADER: [&str; 5] = ["strategy", "replication", "t_s", "metric", "value"];

/// `summary.csv` for `summary` (see the [module docs](self) for the layout).
pub fn summary_csv(summary: &Summary) -> String {
    let mut rows = Rows {
        scenario: &summary.scenario,
        point: None,
        out: Vec::new(),
    };
    for strategy in &summary.strategies {
        rows.strategy(strategy);
    }
    for point in &summary.points {
        rows.point = Some((&point.parameter, number(point.value)));
        for strategy in &point.strategies {
            rows.strategy(strategy);
        }
    }
    for load in &summary.loads {
        rows.point = Some(("load", load.name.clone()));
        for strategy in &load.strategies {
            rows.strategy(strategy);
        }
    }
    rows.point = None;
    for capacity in &summary.capacity {
        let at = At {
            strategy: &capacity.strategy,
            ..At::default()
        };
        rows.push(
            &at,
            "capacity.max_load_scale",
            capacity.max_load_scale,
            None,
        );
        rows.push(&at, "capacity.max_load", capacity.max_load, None);
    }
    for g in &summary.cost_growth {
        let at = At {
            strategy: &g.strategy,
            ..At::default()
        };
        rows.push(
            &at,
            "cost_growth.cost_per_million_from",
            g.cost_per_million_from,
            None,
        );
        rows.push(
            &at,
            "cost_growth.cost_per_million_to",
            g.cost_per_million_to,
            None,
        );
        if let Some(r) = g.ratio {
            rows.push(&at, "cost_growth.ratio", r, None);
        }
        rows.push(
            &at,
            "cost_growth.passed",
            f64::from(u8::from(g.passed)),
            None,
        );
    }
    write_csv(&SUMMARY_HEADER, rows.out)
}

/// Header of `objectives.csv`.
pub const OBJECTIVES_HEADER: [&str; 9] = [
    "table",
    "name",
    "load",
    "strategy",
    "component",
    "metric",
    "value",
    "ci95",
    "threshold",
];

/// `objectives.csv`, when the summary has a study: one row per number.
/// - `objective` rows: per objective and strategy, the figure judged (`value`, `ci95`,
///   `threshold`) and `passed` (1 or 0);
/// - `breakdown` rows: per load, strategy and component, `residence_ms` and `cost_per_hour`;
/// - `checklist` rows: per item (`name` is `section: item`), `covered` (1 or 0).
pub fn objectives_csv(summary: &Summary) -> Option<String> {
    let study = summary.study.as_ref()?;
    let mut records = Vec::new();
    let mut row = |cells: [&str; 6], value: f64, ci: Option<f64>, threshold: Option<f64>| {
        let mut r: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
        r.push(number(value));
        r.push(ci.map(number).unwrap_or_default());
        r.push(threshold.map(number).unwrap_or_default());
        records.push(r);
    };
    for o in &study.objectives {
        let load = o.load.as_deref().unwrap_or("");
        for v in &o.verdicts {
            let at = ["objective", &o.name, load, &v.strategy, ""];
            let [a, b, c, d, e] = at;
            row(
                [a, b, c, d, e, &o.metric],
                v.value,
                Some(v.ci95),
                Some(o.threshold),
            );
            row([a, b, c, d, e, "passed"], flag(v.passed), None, None);
        }
    }
    for b in &study.breakdown {
        for c in &b.components {
            for (m, x) in [
                ("residence_ms", c.residence_ms),
                ("cost_per_hour", c.cost_per_hour),
            ] {
                row(
                    ["breakdown", "", &b.load, &b.strategy, &c.name, m],
                    x,
                    None,
                    None,
                );
            }
        }
    }
    for c in &study.checklist {
        let name = format!("{}: {}", c.section, c.item);
        row(
            ["checklist", &name, "", "", "", "covered"],
            flag(c.covered),
            None,
            None,
        );
    }
    Some(write_csv(&OBJECTIVES_HEADER, records))
}

/// `timeseries.csv` for `rows`, in the given order.
pub fn timeseries_csv(rows: &[SeriesRow]) -> String {
    let records = rows.iter().map(|r| {
        let (replication, t, value) = (r.replication.to_string(), number(r.t_s), number(r.value));
        vec![r.strategy.clone(), replication, t, r.metric.clone(), value]
    });
    write_csv(&TIMESERIES_HEADER, records.collect())
}

/// Writes a header and records with the csv crate (which quotes fields as needed).
fn write_csv(header: &[&str], records: Vec<Vec<String>>) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing equal-length string records into memory cannot fail.
    writer.write_record(header).expect("CSV into memory");
    for record in records {
        writer.write_record(&record).expect("CSV into memory");
    }
    let bytes = writer.into_inner().expect("CSV into memory");
    String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8")
}

/// Full-precision number: the shortest decimal that parses back to the same `f64`.
fn number(x: f64) -> String {
    match x {
        _ if x.is_nan() => "NaN".to_string(),
        f64::INFINITY => "inf".to_string(),
        f64::NEG_INFINITY => "-inf".to_string(),
        _ => x.to_string(),
    }
}

/// Which strategy, class and component a row is about.
#[derive(Default)]
struct At<'a> {
    strategy: &'a str,
    class: &'a str,
    component: &'a str,
}

/// Accumulates summary rows for the current sweep point.
struct Rows<'a> {
    scenario: &'a str,
    /// The sweep parameter and its value, or `load` and the load's name.
    point: Option<(&'a str, String)>,
    out: Vec<Vec<String>>,
}

impl Rows<'_> {
    fn push(&mut self, at: &At<'_>, metric: &str, value: f64, ci95: Option<f64>) {
        let (parameter, point_value) = match &self.point {
            Some((p, v)) => (p.to_string(), v.clone()),
            None => (String::new(), String::new()),
        };
        self.out.push(vec![
            self.scenario.to_string(),
            parameter,
            point_value,
            at.strategy.to_string(),
            at.class.to_string(),
            at.component.to_string(),
            metric.to_string(),
            number(value),
            // A CI that does not exist (a single real run) is an empty cell, not "NaN".
            ci95.filter(|c| !c.is_nan()).map(number).unwrap_or_default(),
        ]);
    }

    /// Every row of one strategy: totals, latency, errors, cost, SLOs, diffs, classes,
    /// components.
    fn strategy(&mut self, s: &StrategySummary) {
        let at = At {
            strategy: &s.name,
            ..At::default()
        };
        let totals = [
            ("requests", s.requests),
            ("completed", s.completed),
            ("failed", s.failed),
            ("error_rate", s.error_rate),
            ("availability", s.availability),
            ("downtime_min_per_year", s.downtime_min_per_year),
            ("slo_violation_time_ratio", s.slo_violation_time_ratio),
            ("throughput_rps", s.throughput_rps),
        ];
        for (metric, value) in totals {
            self.push(&at, metric, value, None);
        }
        self.latency(&at, &s.latency_ms, &s.latency_ms_ci95);
        for (kind, value) in &s.errors {
            self.push(&at, &format!("errors.{kind}"), *value, None);
        }
        self.push(&at, "cost.per_hour", s.cost.per_hour, None);
        self.push(
            &at,
            "cost.per_million_requests",
            s.cost.per_million_requests,
            None,
        );
        self.slo(&at, s);
        for diff in &s.vs_baseline {
            self.push(
                &at,
                &format!("vs_baseline.{}", diff.metric),
                diff.mean,
                Some(diff.ci95),
            );
        }
        s.classes.iter().for_each(|c| self.class(&s.name, c));
        s.components.iter().for_each(|c| self.component(&s.name, c));
    }

    fn slo(&mut self, at: &At<'_>, s: &StrategySummary) {
        self.push(at, "slo.passed", flag(s.slo.passed), None);
        for check in &s.slo.checks {
            let key = format!("slo.{}", check.metric);
            self.push(at, &format!("{key}.value"), check.value, None);
            self.push(at, &format!("{key}.threshold"), check.threshold, None);
            self.push(at, &format!("{key}.passed"), flag(check.passed), None);
        }
    }

    fn class(&mut self, strategy: &str, c: &ClassSummary) {
        let at = At {
            strategy,
            class: &c.name,
            ..At::default()
        };
        let totals = [
            ("requests", c.requests),
            ("completed", c.completed),
            ("failed", c.failed),
            ("throughput_rps", c.throughput_rps),
        ];
        for (metric, value) in totals {
            self.push(&at, metric, value, None);
        }
        self.latency(&at, &c.latency_ms, &c.latency_ms_ci95);
    }

    fn component(&mut self, strategy: &str, c: &ComponentSummary) {
        let at = At {
            strategy,
            component: &c.name,
            ..At::default()
        };
        self.push(&at, "utilization", c.utilization, None);
        self.push(&at, "mean_queue", c.mean_queue, None);
        for (metric, value) in &c.metrics {
            self.push(&at, metric, *value, None);
        }
    }

    fn latency(&mut self, at: &At<'_>, value: &Latency, ci: &Latency) {
        for (key, v, c) in latency_pairs(value, ci) {
            self.push(at, &format!("latency_ms.{key}"), v, c);
        }
    }
}

/// The latency statistics as `(key, value, ci95)`: the fixed ones, then the extra percentiles
/// of `value` (with their CI when `ci` has the same key).
pub(crate) fn latency_pairs(value: &Latency, ci: &Latency) -> Vec<(String, f64, Option<f64>)> {
    let fixed = [
        ("mean", value.mean, ci.mean),
        ("p50", value.p50, ci.p50),
        ("p90", value.p90, ci.p90),
        ("p95", value.p95, ci.p95),
        ("p99", value.p99, ci.p99),
        ("p999", value.p999, ci.p999),
        ("max", value.max, ci.max),
    ];
    let fixed = fixed
        .into_iter()
        .map(|(k, v, c)| (k.to_string(), v, Some(c)));
    let extra = value
        .extra
        .iter()
        .map(|(k, v)| (k.clone(), *v, ci.extra.get(k).copied()));
    fixed.chain(extra).collect()
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}
