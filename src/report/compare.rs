//! Prediction against measurement: a real run's figures beside the simulator's for the same
//! scenario (`scalesim real FILE --compare`).
//!
//! [`compare`] pairs the two summaries by load (the base point is `base`, then every
//! `[[loads]]` entry) and strategy, and for each pair puts four figures side by side:
//! throughput, p50, p99 and the error rate. The relative error is
//! `(predicted - measured) / measured`. Two figures carry a target ([`TOLERANCE`], 20 %):
//! p50, and throughput, which is only a test of the model near saturation (below it both
//! equal the offered load). The rest is reported without a verdict. A connection pool (a
//! component of kind `pool`) that both sides report under one name adds its
//! [`POOL_METRICS`] as `NAME.METRIC` rows (`app_pool.connect_refused`), shown apart in the
//! tables ("Pools").
//!
//! The same rows in four forms: `summary.json` (`comparison`), `comparison.csv` (tidy: one
//! row per figure, [`csv`]), the terminal table ([`terminal`]) and the HTML section that opens
//! the real run's report ([`html`]); the charts `predicted_vs_measured_*` draw each figure
//! against the line y = x.

use std::fmt::Write;

use super::format::figure;
use super::html::escape;
use super::summary::{Compared, Comparison, StrategySummary, Summary};
use super::table::{Cell, Paint, Style, Table};

/// The relative error within which p50 and throughput count as predicted.
pub const TOLERANCE: f64 = 0.2;

/// The figures compared, in report order.
pub const METRICS: [&str; 4] = [
    "throughput_rps",
    "latency_ms.p50",
    "latency_ms.p99",
    "error_rate",
];

/// The figures of a pool compared, when both sides have it: what failed and what waited.
pub const POOL_METRICS: [&str; 6] = [
    "acquires",
    "connect_refused",
    "acquire_timeouts",
    "acquire_wait_ms_mean",
    "acquire_wait_ms_p99",
    "open_max",
];

/// `(component, metric, value)` of every pool figure of a strategy's summary.
fn pool_values(s: &StrategySummary) -> impl Iterator<Item = (&str, &str, f64)> {
    s.components
        .iter()
        .filter(|c| c.kind == "pool")
        .flat_map(|c| {
            POOL_METRICS
                .iter()
                .filter_map(move |m| c.metrics.get(*m).map(|v| (c.name.as_str(), *m, *v)))
        })
}

/// `metric` of a strategy's summary.
pub fn value(s: &StrategySummary, metric: &str) -> f64 {
    match metric {
        "throughput_rps" => s.throughput_rps,
        "latency_ms.p50" => s.latency_ms.p50,
        "latency_ms.p99" => s.latency_ms.p99,
        "error_rate" => s.error_rate,
        _ => f64::NAN,
    }
}

fn has_target(metric: &str) -> bool {
    matches!(metric, "throughput_rps" | "latency_ms.p50")
}

/// Every load of a summary: `("base", strategies)` then each named load.
fn points(s: &Summary) -> impl Iterator<Item = (&str, &[StrategySummary])> {
    std::iter::once(("base", s.strategies.as_slice())).chain(
        s.loads
            .iter()
            .map(|l| (l.name.as_str(), l.strategies.as_slice())),
    )
}

/// The simulator's `sim` against the real run's `real`: one row per figure of every strategy
/// at every load both have (paired by name; what only one side has is left out).
pub fn compare(sim: &Summary, real: &Summary, params: &str) -> Comparison {
    let mut rows = Vec::new();
    for (load, measured) in points(real) {
        let Some((_, predicted)) = points(sim).find(|(l, _)| *l == load) else {
            continue;
        };
        for m in measured {
            let Some(p) = predicted.iter().find(|p| p.name == m.name) else {
                continue;
            };
            let pools = pool_values(m).filter_map(|(c, k, measured)| {
                let predicted = pool_values(p).find(|(pc, pk, _)| *pc == c && *pk == k)?.2;
                Some((format!("{c}.{k}"), predicted, measured))
            });
            let figures: Vec<(String, f64, f64)> = METRICS
                .iter()
                .map(|k| ((*k).to_owned(), value(p, k), value(m, k)))
                .chain(pools)
                .collect();
            for (metric, predicted, measured) in figures {
                let metric = metric.as_str();
                let relative_error =
                    (measured != 0.0 && measured.is_finite() && predicted.is_finite())
                        .then(|| (predicted - measured) / measured);
                let within_target = has_target(metric)
                    .then(|| relative_error.is_some_and(|e| e.abs() <= TOLERANCE));
                rows.push(Compared {
                    load: load.to_string(),
                    strategy: m.name.clone(),
                    metric: metric.to_string(),
                    predicted,
                    measured,
                    relative_error,
                    within_target,
                });
            }
        }
    }
    Comparison {
        sim_replications: sim.replications,
        params: params.to_string(),
        tolerance: TOLERANCE,
        rows,
    }
}

/// The share of targeted figures within [`TOLERANCE`], as `(met, of)`.
pub fn targets_met(c: &Comparison) -> (usize, usize) {
    let targeted = c.rows.iter().filter_map(|r| r.within_target);
    let of = targeted.clone().count();
    (targeted.filter(|&w| w).count(), of)
}

/// `+12 %`, or `–` without a relative error.
fn signed(e: Option<f64>) -> String {
    match e {
        Some(e) if e.is_finite() => format!("{:+.0} %", e * 100.0),
        _ => "–".to_string(),
    }
}

fn cell_text(r: &Compared) -> String {
    format!(
        "{} / {} ({})",
        figure(&r.metric, r.predicted, 0.0),
        figure(&r.metric, r.measured, 0.0),
        signed(r.relative_error)
    )
}

fn cell_style(r: &Compared) -> Style {
    match r.within_target {
        None => Style::Plain,
        Some(true) => Style::Good,
        Some(false) => Style::Bad,
    }
}

/// The rows of the [`METRICS`] (`main`) or the others (pools), grouped by
/// `(load, strategy)`, in report order.
fn grouped(c: &Comparison, main: bool) -> Vec<(&str, &str, Vec<&Compared>)> {
    let mut out: Vec<(&str, &str, Vec<&Compared>)> = Vec::new();
    let rows = c
        .rows
        .iter()
        .filter(|r| METRICS.contains(&r.metric.as_str()) == main);
    for r in rows {
        match out.last_mut() {
            Some((l, s, v)) if *l == r.load && *s == r.strategy => v.push(r),
            _ => out.push((&r.load, &r.strategy, vec![r])),
        }
    }
    out
}

fn metric_title(metric: &str) -> &'static str {
    match metric {
        "throughput_rps" => "Throughput (req/s)",
        "latency_ms.p50" => "p50",
        "latency_ms.p99" => "p99",
        "error_rate" => "Errors",
        _ => "?",
    }
}

fn caption(c: &Comparison) -> String {
    let (met, of) = targets_met(c);
    format!(
        "predicted / measured (relative error); simulator: {} replications, parameters from {}; \
         p50 and throughput within ±{:.0} % in {met} of {of} cases",
        c.sim_replications,
        c.params,
        c.tolerance * 100.0
    )
}

/// The terminal table: one row per load and strategy.
pub(super) fn terminal(s: &Summary, paint: Paint) -> String {
    let Some(c) = &s.comparison else {
        return String::new();
    };
    let mut out = format!(
        "\n{}\n{}\n",
        paint.bold("Prediction against measurement"),
        caption(c)
    );
    let mut header = vec!["Load", "Strategy"];
    header.extend(METRICS.iter().map(|m| metric_title(m)));
    let mut t = Table::new(&header);
    for (load, strategy, rows) in grouped(c, true) {
        let mut row = vec![Cell::plain(load), Cell::plain(strategy)];
        for r in rows {
            row.push(Cell {
                text: cell_text(r),
                style: cell_style(r),
            });
        }
        t.rows.push(row);
    }
    out += &t.render(paint);
    let pools = grouped(c, false);
    if !pools.is_empty() {
        let mut t = Table::new(&["Load", "Strategy", "Pool figure", "Predicted / measured"]);
        for (load, strategy, rows) in pools {
            for r in rows {
                t.rows.push(vec![
                    Cell::plain(load),
                    Cell::plain(strategy),
                    Cell::plain(&r.metric),
                    Cell::plain(&cell_text(r)),
                ]);
            }
        }
        out += &format!("\n{}\n", paint.bold("Pools"));
        out += &t.render(paint);
    }
    out
}

/// The HTML section that opens a compared real run's report.
pub fn html(s: &Summary) -> String {
    let Some(c) = &s.comparison else {
        return String::new();
    };
    let mut out = format!(
        "<section>\n<h2>Prediction against measurement</h2>\n<p class=\"muted\">{}. Green: \
         within the target; red: outside it; no colour: no target (p99 and errors are \
         reported, not judged). The charts <em>predicted_vs_measured_*</em> below draw each \
         figure against y = x.</p>\n<table class=\"matrix\">\n<thead><tr><th>Load</th>\
         <th>Strategy</th>",
        escape(&caption(c))
    );
    for m in METRICS {
        let _ = write!(out, "<th>{}</th>", metric_title(m));
    }
    out += "</tr></thead>\n<tbody>\n";
    for (load, strategy, rows) in grouped(c, true) {
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td>",
            escape(load),
            escape(strategy)
        );
        for r in rows {
            let class = match r.within_target {
                None => "",
                Some(true) => " class=\"pass\"",
                Some(false) => " class=\"fail\"",
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(&cell_text(r)));
        }
        out += "</tr>\n";
    }
    out += "</tbody>\n</table>\n";
    let pools = grouped(c, false);
    if !pools.is_empty() {
        out += "<h3>Pools</h3>\n<table class=\"matrix\">\n<thead><tr><th>Load</th>\
                <th>Strategy</th><th>Figure</th><th>Predicted / measured</th></tr></thead>\n\
                <tbody>\n";
        for (load, strategy, rows) in pools {
            for r in rows {
                let _ = writeln!(
                    out,
                    "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(load),
                    escape(strategy),
                    escape(&r.metric),
                    escape(&cell_text(r))
                );
            }
        }
        out += "</tbody>\n</table>\n";
    }
    out += "</section>\n";
    out
}

/// `comparison.csv`: `load, strategy, metric, predicted, measured, relative_error,
/// within_target` (empty where there is none).
pub fn csv(c: &Comparison) -> String {
    let mut out =
        String::from("load,strategy,metric,predicted,measured,relative_error,within_target\n");
    let quote = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    for r in &c.rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{}",
            quote(&r.load),
            quote(&r.strategy),
            r.metric,
            r.predicted,
            r.measured,
            r.relative_error.map(|e| e.to_string()).unwrap_or_default(),
            r.within_target
                .map(|w| u8::from(w).to_string())
                .unwrap_or_default()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::{Latency, LoadPoint};

    fn strategy(name: &str, rps: f64, p50: f64, p99: f64, errors: f64) -> StrategySummary {
        StrategySummary {
            name: name.into(),
            throughput_rps: rps,
            error_rate: errors,
            latency_ms: Latency {
                p50,
                p99,
                ..Latency::default()
            },
            ..StrategySummary::default()
        }
    }

    fn summary(mode: &str, base: Vec<StrategySummary>, loads: Vec<LoadPoint>) -> Summary {
        let mut s: Summary = serde_json::from_str(
            r#"{"schema":1,"scenario":"x","scenario_hash":"h","seed":1,"replications":3,
                "mode":"sim","horizon_s":60,"warmup_s":0,"strategies":[]}"#,
        )
        .unwrap();
        s.mode = mode.into();
        s.strategies = base;
        s.loads = loads;
        s
    }

    fn with_pool(mut s: StrategySummary, name: &str, refused: f64) -> StrategySummary {
        s.components.push(crate::report::summary::ComponentSummary {
            name: name.into(),
            kind: "pool".into(),
            metrics: [("connect_refused".to_owned(), refused)]
                .into_iter()
                .collect(),
            ..Default::default()
        });
        s
    }

    #[test]
    fn pools_both_sides_report_add_rows_apart_from_the_main_table() {
        let sim = summary(
            "sim",
            vec![with_pool(
                strategy("a", 100.0, 1.0, 2.0, 0.5),
                "app_pool",
                40.0,
            )],
            vec![],
        );
        let mut real = summary(
            "real",
            vec![with_pool(
                strategy("a", 100.0, 1.0, 2.0, 0.5),
                "app_pool",
                50.0,
            )],
            vec![],
        );
        let c = compare(&sim, &real, "p");
        let row = c
            .rows
            .iter()
            .find(|r| r.metric == "app_pool.connect_refused");
        let row = row.expect("a pool row");
        assert_eq!((row.predicted, row.measured), (40.0, 50.0));
        assert_eq!(row.within_target, None);
        assert_eq!(c.rows.len(), METRICS.len() + 1);
        real.comparison = Some(c);
        let text = terminal(&real, Paint(false));
        assert!(
            text.contains("Pools") && text.contains("app_pool.connect_refused"),
            "{text}"
        );
        assert!(html(&real).contains("<h3>Pools</h3>"));
        // A pool only one side has is left out.
        let other = summary(
            "real",
            vec![with_pool(strategy("a", 100.0, 1.0, 2.0, 0.5), "other", 1.0)],
            vec![],
        );
        assert_eq!(compare(&sim, &other, "p").rows.len(), METRICS.len());
    }

    #[test]
    fn pairs_loads_and_strategies_by_name_and_judges_p50_and_throughput() {
        let sim = summary(
            "sim",
            vec![
                strategy("a", 100.0, 1.1, 5.0, 0.0),
                strategy("b", 100.0, 2.0, 9.0, 0.01),
            ],
            vec![LoadPoint {
                name: "high".into(),
                description: String::new(),
                strategies: vec![strategy("a", 300.0, 1.5, 8.0, 0.0)],
            }],
        );
        // The real run lists b first and has a load the simulator lacks.
        let real = summary(
            "real",
            vec![
                strategy("b", 100.0, 1.0, 10.0, 0.0),
                strategy("a", 100.0, 1.0, 4.0, 0.0),
            ],
            vec![
                LoadPoint {
                    name: "high".into(),
                    description: String::new(),
                    strategies: vec![strategy("a", 400.0, 1.5, 8.0, 0.0)],
                },
                LoadPoint {
                    name: "other".into(),
                    description: String::new(),
                    strategies: vec![strategy("a", 1.0, 1.0, 1.0, 0.0)],
                },
            ],
        );
        let c = compare(&sim, &real, "the scenario's own values");
        assert_eq!(
            c.rows.len(),
            12,
            "b and a at base, a at high; 4 figures each"
        );
        let find = |load: &str, s: &str, m: &str| {
            c.rows
                .iter()
                .find(|r| r.load == load && r.strategy == s && r.metric == m)
                .unwrap()
        };
        let r = find("base", "b", "latency_ms.p50");
        assert_eq!((r.predicted, r.measured), (2.0, 1.0));
        assert_eq!(r.relative_error, Some(1.0));
        assert_eq!(r.within_target, Some(false));
        let r = find("base", "a", "latency_ms.p50");
        assert!((r.relative_error.unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(r.within_target, Some(true));
        // p99 has no target; an error rate measured as zero has no relative error.
        assert_eq!(find("base", "a", "latency_ms.p99").within_target, None);
        assert_eq!(find("base", "b", "error_rate").relative_error, None);
        // Throughput 300 predicted against 400 measured: 25 % under, outside the target.
        let r = find("high", "a", "throughput_rps");
        assert_eq!(r.relative_error, Some(-0.25));
        assert_eq!(r.within_target, Some(false));
        assert!(!c.rows.iter().any(|r| r.load == "other"));
        // Targets: p50 and throughput of 3 pairs = 6, met: a base (2), b throughput, a high p50.
        assert_eq!(targets_met(&c), (4, 6));
    }

    #[test]
    fn the_csv_and_tables_carry_every_row() {
        let sim = summary("sim", vec![strategy("a, b", 10.0, 2.0, 4.0, 0.0)], vec![]);
        let real = summary("real", vec![strategy("a, b", 10.0, 1.0, 4.0, 0.5)], vec![]);
        let mut real_c = real.clone();
        real_c.comparison = Some(compare(&sim, &real, "calibrated.toml"));
        let c = real_c.comparison.as_ref().unwrap();
        let text = csv(c);
        assert_eq!(text.lines().count(), 5);
        assert!(
            text.contains("base,\"a, b\",latency_ms.p50,2,1,1,0"),
            "{text}"
        );
        assert!(
            text.contains("base,\"a, b\",error_rate,0,0.5,-1,"),
            "{text}"
        );
        let t = terminal(&real_c, Paint(false));
        assert!(t.contains("2.00 ms / 1.00 ms (+100 %)"), "{t}");
        assert!(t.contains("±20 % in 1 of 2 cases"), "{t}");
        assert!(t.contains("1 of 2 cases"), "{t}");
        let h = html(&real_c);
        assert!(h.contains("class=\"fail\""), "{h}");
        assert!(h.contains("a, b"));
        assert!(terminal(&real, Paint(false)).is_empty());
    }
}
