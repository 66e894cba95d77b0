//! Report writers: table, CSV, JSON, plots, HTML and the atomic directory writer, on a
//! realistic synthetic report and on degenerate ones (one strategy, zeros, NaN/inf, a single
//! time point, flat values, hostile names).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use scalesim::report::summary::*;
use scalesim::report::{self, Formats, Manifest, ReportError, RunFacts};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

// ---------------------------------------------------------------------------------------------
// Fixtures

fn latency(scale: f64) -> Latency {
    let mut extra = BTreeMap::new();
    extra.insert("p99.99".to_string(), 9.0 * scale);
    Latency {
        mean: 1.2 * scale,
        p50: scale,
        p90: 2.0 * scale,
        p95: 2.6 * scale,
        p99: 4.0 * scale,
        p999: 6.5 * scale,
        max: 11.0 * scale,
        extra,
    }
}

fn strategy(name: &str, base_ms: f64, load: f64, cost: f64) -> StrategySummary {
    let scale = base_ms * (1.0 + load * load / 4.0);
    let p99 = 4.0 * scale;
    let check = |name: &str, metric: &str, threshold: f64, value: f64, passed| SloCheck {
        name: name.into(),
        metric: metric.into(),
        threshold,
        value,
        passed,
    };
    let checks = vec![
        check("p99 <= 40ms", "latency_ms.p99", 40.0, p99, p99 <= 40.0),
        check("error rate <= 1%", "error_rate", 0.01, 0.002 * load, true),
    ];
    let mut errors = BTreeMap::new();
    errors.insert("timeout".to_string(), 12.0 * load);
    errors.insert("rejected".to_string(), 3.0);
    StrategySummary {
        name: name.into(),
        requests: 240_000.0 * load,
        completed: 239_500.0 * load,
        failed: 500.0 * load,
        errors,
        error_rate: 0.002 * load,
        availability: 1.0 - 0.002 * load,
        downtime_min_per_year: 0.002 * load * 525_960.0,
        slo_violation_time_ratio: 0.0,
        availability_analytic: None,
        throughput_rps: 400.0 * load,
        latency_ms: latency(scale),
        latency_ms_ci95: latency(scale * 0.03),
        classes: ["browse", "checkout"]
            .iter()
            .enumerate()
            .map(|(i, c)| ClassSummary {
                name: c.to_string(),
                requests: 1000.0 / (i + 1) as f64,
                completed: 990.0 / (i + 1) as f64,
                failed: 10.0,
                throughput_rps: 300.0 / (i + 1) as f64,
                latency_ms: latency(scale * (1.0 + i as f64)),
                latency_ms_ci95: latency(scale * 0.05),
            })
            .collect(),
        components: vec![
            component("lb", 0.21 * load, 0.0, &[]),
            component("app", 0.55 * load, 0.4 * load, &[("instances", 4.0)]),
            component("db-primary", 0.45 * load, 1.2, &[("lag_ms", 3.5)]),
            component(
                "cache",
                0.1,
                0.0,
                &[("hit_ratio", 0.87), ("stale_reads", 12.0)],
            ),
        ],
        slo: SloResult {
            passed: checks.iter().all(|c| c.passed),
            checks,
        },
        cost: Cost {
            per_hour: cost * (1.0 + load),
            per_million_requests: cost * 0.7,
        },
        vs_baseline: Vec::new(),
        auto_warmup: None,
        servers: None,
    }
}

fn component(
    name: &str,
    utilization: f64,
    mean_queue: f64,
    metrics: &[(&str, f64)],
) -> ComponentSummary {
    ComponentSummary {
        name: name.into(),
        utilization,
        mean_queue,
        metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        ..ComponentSummary::default()
    }
}

const NAMES: [(&str, f64, f64); 3] = [
    ("single-db", 9.0, 1.4),
    ("read-replicas", 6.0, 2.1),
    ("cache-aside", 3.5, 1.8),
];

fn strategies(load: f64) -> Vec<StrategySummary> {
    let mut all: Vec<_> = NAMES
        .iter()
        .map(|(n, ms, cost)| strategy(n, *ms, load, *cost))
        .collect();
    let (base_name, base_p99) = (all[0].name.clone(), all[0].latency_ms.p99);
    for s in all.iter_mut().skip(1) {
        let diff = s.latency_ms.p99 - base_p99;
        s.vs_baseline.push(PairedDiff {
            metric: "latency_ms.p99".into(),
            baseline: base_name.clone(),
            mean: diff,
            ci95: 1.5,
        });
    }
    all
}

fn summary() -> Summary {
    Summary {
        schema: SCHEMA_VERSION,
        scenario: "shop".into(),
        scenario_hash: "3f2a9c01d4e5b6a7".into(),
        seed: 42,
        replications: 3,
        mode: "sim".into(),
        horizon_s: 600.0,
        warmup_s: 0.0,
        strategies: strategies(1.0),
        points: [0.5, 1.0, 1.5, 2.0, 2.5]
            .iter()
            .map(|&v| SweepPoint {
                parameter: "load_scale".into(),
                value: v,
                strategies: strategies(v),
            })
            .collect(),
        capacity: NAMES
            .iter()
            .enumerate()
            .map(|(i, (n, _, _))| Capacity {
                strategy: n.to_string(),
                max_load_scale: 1.5 + i as f64 * 0.5,
                max_load: 600.0 + i as f64 * 200.0,
            })
            .collect(),
        cost_growth: vec![],
        auto_replications: None,
        loads: vec![],
        study: None,
        comparison: None,
    }
}

fn series() -> Vec<SeriesRow> {
    let mut rows = Vec::new();
    for (i, (name, ms, _)) in NAMES.iter().enumerate() {
        for replication in 0..3 {
            for step in 0..=60 {
                let t = step as f64 * 10.0;
                let wave = ((t / 60.0) + replication as f64).sin();
                let mut push = |metric: &str, value: f64| {
                    rows.push(SeriesRow {
                        strategy: name.to_string(),
                        replication,
                        t_s: t,
                        metric: metric.into(),
                        value,
                    })
                };
                push("throughput_rps", 400.0 + 20.0 * wave - 10.0 * i as f64);
                push("p99_ms", ms * 4.0 + 3.0 * wave);
                push("queue", (2.0 + wave).max(0.0) * (3 - i) as f64);
                push("instances", (2 + (step / 15) as usize + i) as f64);
            }
        }
    }
    rows
}

fn cdfs() -> Vec<Cdf> {
    NAMES
        .iter()
        .map(|(name, ms, _)| Cdf {
            strategy: name.to_string(),
            points: (1..=200)
                .map(|k| {
                    let q = k as f64 / 200.0;
                    let z = (q.min(0.9995) / (1.0 - q.min(0.9995))).ln();
                    (ms * (0.6 * z).exp(), q)
                })
                .collect(),
        })
        .collect()
}

fn full_report() -> Report {
    Report {
        summary: summary(),
        timeseries: series(),
        cdfs: cdfs(),
        description:
            "An online shop: browse and checkout traffic against an app tier and Postgres.".into(),
        scenario_text: "name = \"shop\"\n[workload]\nrate_rps = 400 # <b>not bold</b>\n".into(),
    }
}

fn manifest() -> Manifest {
    Manifest {
        scenario: "shop".into(),
        scenario_hash: "3f2a9c01d4e5b6a7".into(),
        seed: 42,
        version: "0.1.0".into(),
        mode: "sim".into(),
        run: RunFacts {
            git_revision: None,
            command_line: vec!["scalesim".into(), "run".into(), "sims/shop.toml".into()],
            wall_time_s: 1.5,
        },
    }
}

/// One strategy, every number zero, nothing else.
fn zero_report() -> Report {
    let mut r = full_report();
    r.summary.strategies = vec![StrategySummary {
        name: "only".into(),
        ..Default::default()
    }];
    r.summary.points.clear();
    r.summary.capacity.clear();
    r.timeseries.clear();
    r.cdfs = vec![Cdf {
        strategy: "only".into(),
        points: vec![],
    }];
    r.description.clear();
    r.scenario_text.clear();
    r
}

/// NaN and infinities everywhere, a single time point, flat series, a one-point sweep,
/// CDF points at zero latency, and a hostile strategy name.
fn hostile_report() -> Report {
    let mut r = full_report();
    let name = "<script>alert(1)</script>, \"quoted\"";
    let mut s = strategy(name, 5.0, 1.0, 1.0);
    s.latency_ms.p99 = f64::NAN;
    s.latency_ms.mean = f64::INFINITY;
    s.latency_ms_ci95.p99 = f64::NAN;
    s.throughput_rps = f64::NEG_INFINITY;
    r.summary.strategies = vec![s.clone(), strategy("flat", 0.0, 0.0, 0.0)];
    r.summary.points = vec![SweepPoint {
        parameter: "users".into(),
        value: 100.0,
        strategies: vec![s],
    }];
    r.timeseries = vec![
        SeriesRow {
            strategy: name.into(),
            replication: 0,
            t_s: 0.0,
            metric: "queue".into(),
            value: 3.0,
        },
        SeriesRow {
            strategy: "flat".into(),
            replication: 0,
            t_s: 5.0,
            metric: "lag_ms".into(),
            value: 7.0,
        },
        SeriesRow {
            strategy: "flat".into(),
            replication: 0,
            t_s: 6.0,
            metric: "lag_ms".into(),
            value: 7.0,
        },
        SeriesRow {
            strategy: "flat".into(),
            replication: 0,
            t_s: f64::NAN,
            metric: "weird metric/x".into(),
            value: 1.0,
        },
        SeriesRow {
            strategy: "flat".into(),
            replication: 0,
            t_s: 1.0,
            metric: "errors".into(),
            value: f64::NAN,
        },
    ];
    r.cdfs = vec![
        Cdf {
            strategy: name.into(),
            points: vec![(0.0, 0.1), (f64::NAN, 0.5), (4.0, 1.0)],
        },
        Cdf {
            strategy: "flat".into(),
            points: vec![(2.0, 1.0)],
        },
    ];
    r.description = "<img src=x onerror=alert(1)>".into();
    r
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{name}"));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn leftover_temp(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return vec![];
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Terminal table

#[test]
fn table_lists_every_strategy_with_its_numbers() {
    let table = report::render_table(&summary(), false);
    for s in &summary().strategies {
        assert!(table.contains(&s.name), "{} missing:\n{table}", s.name);
    }
    // cache-aside at load 1: p99 = 4 * 3.5 * 1.25 = 17.5, CI 3 % of it.
    assert!(table.contains("17.5 ±0.5"), "{table}");
    assert!(table.contains("400.0"), "{table}");
    assert!(
        table.contains("PASS") && table.contains("FAIL 1/2"),
        "{table}"
    );
    assert!(
        table.contains("single-db: p99 <= 40ms (measured 45.0 ms)"),
        "{table}"
    );
    // A sweep is one compact table: a row per point, p99 and verdict per strategy.
    assert!(table.contains("Sweep over load_scale"), "{table}");
    assert!(table.contains("│ 2.5        │ 92.2 FAIL 1/2 │"), "{table}");
    assert!(table.contains("Capacity"), "{table}");
    assert!(!table.contains('\x1b'));
}

#[test]
fn table_fits_in_100_columns_and_colours_on_request() {
    let mut s = summary();
    s.strategies[0].name =
        "a-very-long-strategy-name-that-would-push-the-table-past-the-edge".into();
    let table = report::render_table(&s, false);
    for line in table.lines() {
        assert!(
            line.chars().count() <= 100 || !line.starts_with(['│', '┌', '├', '└']),
            "too wide: {line}"
        );
    }
    let coloured = report::render_table(&s, true);
    assert!(coloured.contains("\x1b[1;32mPASS"));
    assert!(coloured.contains("\x1b[1;31m"));
}

#[test]
fn table_survives_degenerate_summaries() {
    for r in [zero_report(), hostile_report()] {
        let table = report::render_table(&r.summary, false);
        let prefix: String = r.summary.strategies[0].name.chars().take(10).collect();
        assert!(table.contains(&prefix), "{table}");
    }
    let mut empty = summary();
    empty.strategies.clear();
    assert!(report::render_table(&empty, false).contains("no strategies"));
}

// ---------------------------------------------------------------------------------------------
// CSV and JSON

/// Rows `summary.csv` should have for one strategy, derived from the documented layout.
fn expected_rows(s: &StrategySummary) -> usize {
    let latency = |l: &Latency| 7 + l.extra.len();
    let strategy = 8
        + latency(&s.latency_ms)
        + s.errors.len()
        + 2
        + 1
        + 3 * s.slo.checks.len()
        + s.vs_baseline.len();
    let classes: usize = s.classes.iter().map(|c| 4 + latency(&c.latency_ms)).sum();
    let components: usize = s.components.iter().map(|c| 2 + c.metrics.len()).sum();
    strategy + classes + components
}

/// Parses CSV text into its records (header excluded).
fn records(text: &str) -> Result<Vec<csv::StringRecord>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    Ok(reader.records().collect::<std::result::Result<_, _>>()?)
}

#[test]
fn summary_csv_has_the_tidy_header_and_one_row_per_number() -> Result {
    let s = summary();
    let text = report::summary_csv(&s);
    let header =
        "scenario,point_parameter,point_value,strategy,class,component,metric,value,ci95\n";
    assert!(text.starts_with(header));
    let base: usize = s.strategies.iter().map(expected_rows).sum();
    let swept: usize = s
        .points
        .iter()
        .flat_map(|p| &p.strategies)
        .map(expected_rows)
        .sum();
    assert_eq!(records(&text)?.len(), base + swept + 2 * s.capacity.len());
    Ok(())
}

#[test]
fn summary_csv_rows_hold_the_right_values() -> Result {
    let s = summary();
    let rows = records(&report::summary_csv(&s))?;
    let base = |r: &&csv::StringRecord| r[1].is_empty() && r[4].is_empty();
    let p99 = rows
        .iter()
        .filter(base)
        .find(|r| &r[3] == "cache-aside" && &r[6] == "latency_ms.p99");
    let p99 = p99.expect("base p99 row");
    assert_eq!(p99[7].parse::<f64>()?, s.strategies[2].latency_ms.p99);
    assert_eq!(p99[8].parse::<f64>()?, s.strategies[2].latency_ms_ci95.p99);
    let swept = rows
        .iter()
        .find(|r| &r[1] == "load_scale" && &r[2] == "2.5");
    assert_eq!(&swept.expect("sweep rows")[0], "shop");
    let has = |class: &str, component: &str, metric: &str, value: Option<&str>| {
        let value_ok = |r: &csv::StringRecord| value.is_none_or(|v| &r[7] == v);
        rows.iter()
            .any(|r| &r[4] == class && &r[5] == component && &r[6] == metric && value_ok(r))
    };
    assert!(has("", "cache", "hit_ratio", Some("0.87")));
    assert!(has("checkout", "", "latency_ms.p50", None));
    assert!(has("", "", "slo.latency_ms.p99.passed", Some("0")));
    assert!(has("", "", "capacity.max_load", Some("1000")));
    assert!(has("", "", "vs_baseline.latency_ms.p99", Some("-27.5")));
    Ok(())
}

#[test]
fn csv_quotes_hostile_names_and_keeps_non_finite_values() -> Result {
    let r = hostile_report();
    let text = report::summary_csv(&r.summary);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let name = &r.summary.strategies[0].name;
    let mut seen_nan = false;
    for record in reader.records() {
        let record = record?;
        assert_eq!(record.len(), 9);
        if &record[3] == name.as_str()
            && &record[6] == "latency_ms.p99"
            && record[1].is_empty()
            && record[4].is_empty()
        {
            seen_nan = record[7].parse::<f64>()?.is_nan();
        }
    }
    assert!(seen_nan);
    let series = report::timeseries_csv(&r.timeseries);
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(series.as_bytes())
        .records()
        .collect::<std::result::Result<_, _>>()?;
    assert_eq!(rows.len(), r.timeseries.len());
    assert_eq!(&rows[0][0], name.as_str());
    Ok(())
}

#[test]
fn timeseries_csv_round_trips_every_row() -> Result {
    let rows = series();
    let text = report::timeseries_csv(&rows);
    assert!(text.starts_with("strategy,replication,t_s,metric,value\n"));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let parsed: Vec<SeriesRow> = reader
        .deserialize()
        .collect::<std::result::Result<_, _>>()?;
    assert_eq!(parsed, rows);
    Ok(())
}

#[test]
fn summary_json_round_trips() -> Result {
    let s = summary();
    let text = report::summary_json(&s)?;
    assert_eq!(serde_json::from_str::<Summary>(&text)?, s);
    assert_eq!(text.trim_end(), serde_json::to_string_pretty(&s)?);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Files

#[test]
fn write_all_produces_every_file_and_no_temp_files() -> Result {
    let out = scratch("all");
    let r = full_report();
    let written = report::write_all(&r, &out, &manifest(), &Formats::all())?;
    for name in [
        "summary.json",
        "summary.csv",
        "timeseries.csv",
        "manifest.json",
        "run.json",
        "report.html",
    ] {
        assert!(out.join(name).is_file(), "{name} missing");
        assert!(written.files.contains(&out.join(name)));
    }
    assert_eq!(written.files.last(), Some(&out.join("manifest.json")));
    let summary: Summary = serde_json::from_slice(&fs::read(out.join("summary.json"))?)?;
    assert_eq!(summary, r.summary);
    // What changes from run to run is kept out of manifest.json, in run.json.
    let m: Manifest = serde_json::from_slice(&fs::read(out.join("manifest.json"))?)?;
    let facts: RunFacts = serde_json::from_slice(&fs::read(out.join("run.json"))?)?;
    assert_eq!(
        Manifest {
            run: facts,
            ..m.clone()
        },
        manifest()
    );
    let text = fs::read_to_string(out.join("manifest.json"))?;
    for volatile in ["command_line", "wall_time_s", "git_revision"] {
        assert!(!text.contains(volatile), "{volatile} in manifest.json");
    }
    #[cfg(feature = "plot")]
    for plot in report::plots(&r) {
        assert!(
            out.join("plots")
                .join(format!("{}.png", plot.name))
                .is_file()
        );
        assert!(
            out.join("plots")
                .join(format!("{}.svg", plot.name))
                .is_file()
        );
    }
    assert!(leftover_temp(&out).is_empty(), "{:?}", leftover_temp(&out));
    // Writing again over an existing report works and still leaves nothing behind.
    report::write_all(&r, &out, &manifest(), &Formats::all())?;
    assert!(leftover_temp(&out).is_empty());
    Ok(())
}

#[test]
fn rewriting_a_directory_drops_charts_the_new_report_lacks() -> Result {
    let out = scratch("rewrite");
    report::write_all(&full_report(), &out, &manifest(), &Formats::all())?;
    let written = report::write_all(&zero_report(), &out, &manifest(), &Formats::all())?;
    let listing = fs::read_dir(out.join("plots")).into_iter().flatten();
    let mut left: Vec<_> = listing
        .map(|e| e.map(|e| e.path()))
        .collect::<std::result::Result<_, _>>()?;
    left.sort();
    let mut expected: Vec<_> = written
        .files
        .iter()
        .filter(|f| f.starts_with(out.join("plots")))
        .cloned()
        .collect();
    expected.sort();
    assert_eq!(left, expected);
    assert_eq!(left.len(), if cfg!(feature = "plot") { 2 } else { 0 });
    Ok(())
}

#[test]
fn write_all_honours_formats() -> Result {
    let out = scratch("formats");
    let written = report::write_all(&full_report(), &out, &manifest(), &Formats::none())?;
    assert_eq!(
        written.files,
        vec![out.join("run.json"), out.join("manifest.json")]
    );
    let mut names: Vec<_> = fs::read_dir(&out)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<std::result::Result<_, _>>()?;
    names.sort();
    assert_eq!(names, ["manifest.json", "run.json"]);
    assert!(Formats::parse("json,pdf").is_err());
    Ok(())
}

#[test]
fn write_all_into_a_regular_file_fails_and_writes_nothing() -> Result {
    let dir = scratch("blocked-file");
    fs::create_dir_all(&dir)?;
    let out = dir.join("out");
    fs::write(&out, "not a directory")?;
    let err = report::write_all(&full_report(), &out, &manifest(), &Formats::all()).unwrap_err();
    assert!(matches!(err, ReportError::Io { .. }), "{err:?}");
    assert_eq!(fs::read_to_string(&out)?, "not a directory");
    let entries: Vec<_> = fs::read_dir(&dir)?.collect();
    assert_eq!(entries.len(), 1, "something was written next to the file");
    Ok(())
}

#[test]
fn write_all_failing_midway_leaves_nothing_half_written() -> Result {
    // `plots` is a regular file, so the plot directory cannot be created: the failure comes
    // after every file was staged, and must leave neither staged nor partial files.
    let out = scratch("blocked-plots");
    fs::create_dir_all(&out)?;
    fs::write(out.join("plots"), "in the way")?;
    let err = report::write_all(&full_report(), &out, &manifest(), &Formats::all());
    if cfg!(feature = "plot") {
        assert!(err.is_err());
        assert!(!out.join("summary.json").exists());
        assert!(!out.join("manifest.json").exists());
    }
    assert!(leftover_temp(&out).is_empty(), "{:?}", leftover_temp(&out));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Plots

#[cfg(feature = "plot")]
fn check_plots(r: &Report, expected: &[&str]) {
    let plots = report::plots(r);
    let names: Vec<&str> = plots.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, expected);
    for p in &plots {
        assert!(p.png.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", p.name);
        assert!(p.png.len() > 5_000, "{} looks empty", p.name);
        assert!(
            p.svg.starts_with("<svg") && p.svg.trim_end().ends_with("</svg>"),
            "{}",
            p.name
        );
        assert!(
            p.svg.contains(&escape_for_test(&p.title)),
            "{} title",
            p.name
        );
        assert!(!p.svg.contains("NaN"), "{} has NaN coordinates", p.name);
    }
}

#[cfg(feature = "plot")]
fn escape_for_test(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(feature = "plot")]
#[test]
fn every_plot_renders_for_a_full_report() {
    let expected = [
        "latency_vs_load",
        "cost_vs_load",
        "latency_cdf",
        "timeseries_throughput_rps",
        "timeseries_p99_ms",
        "timeseries_instances",
        "timeseries_queue",
        "latency_bars",
    ];
    check_plots(&full_report(), &expected);
}

#[cfg(feature = "plot")]
#[test]
fn plots_survive_degenerate_reports() {
    check_plots(&zero_report(), &["latency_bars"]);
    // The one-point sweep, the single queue point and the flat lag say nothing: folded into
    // text, not drawn.
    check_plots(&hostile_report(), &["latency_cdf", "latency_bars"]);
    assert_eq!(report::plot::folded(&hostile_report()).len(), 4);
    let mut nothing = zero_report();
    nothing.summary.strategies.clear();
    nothing.cdfs.clear();
    assert!(report::plots(&nothing).is_empty());
}

/// The full report with `metric` flat at `value` for every strategy.
#[cfg(feature = "plot")]
fn with_flat(metric: &str, value: f64) -> Report {
    let mut r = full_report();
    for row in r.timeseries.iter_mut().filter(|x| x.metric == "instances") {
        row.metric = metric.into();
        row.value = value;
    }
    r
}

#[cfg(feature = "plot")]
fn svg_of(r: &Report, name: &str) -> String {
    let plots = report::plots(r);
    let plot = plots.iter().find(|p| p.name == name);
    plot.unwrap_or_else(|| panic!("no chart {name}"))
        .svg
        .clone()
}

#[cfg(feature = "plot")]
#[test]
fn r14_a_constant_gauge_is_not_plotted_but_named_in_one_line() {
    let r = with_flat("instances.app", 12.0);
    let names: Vec<String> = report::plots(&r).into_iter().map(|p| p.name).collect();
    assert!(
        !names.contains(&"timeseries_instances_app".to_string()),
        "{names:?}"
    );
    let line = "App: instances (instances.app): constant 12 in every strategy";
    assert_eq!(report::plot::folded(&r), [line]);
    let page = report::html(&r, &report::plots(&r));
    assert!(page.contains(line), "the HTML names the folded chart");
    let zeros = with_flat("errors", 0.0);
    assert_eq!(
        report::plot::folded(&zeros),
        ["Failed requests per second (errors): 0 throughout in every strategy"]
    );
}

#[cfg(feature = "plot")]
#[test]
fn r14_titles_and_axes_are_words_with_units() {
    let mut r = full_report();
    for row in r.timeseries.iter_mut().filter(|x| x.metric == "queue") {
        row.metric = "busy.app".into();
    }
    let svg = svg_of(&r, "timeseries_busy_app");
    assert!(svg.contains("App: busy workers"), "title in words");
    assert!(
        svg.contains("Busy workers (time average)"),
        "y axis with its unit"
    );
    assert!(svg.contains("Time since start (s)"));
    // A sweep's x axis carries the unit of the field its parameter sets.
    r.summary
        .points
        .iter_mut()
        .for_each(|p| p.parameter = "rate".into());
    r.scenario_text =
        "[params]\nrate = 400\n[workload]\ntype = \"poisson\"\nrate = \"$rate\"\n".into();
    assert!(svg_of(&r, "latency_vs_load").contains("rate (requests/s)"));
    assert!(report::html(&r, &[]).contains("Sweep over rate (requests/s)"));
}

#[cfg(feature = "plot")]
#[test]
fn r14_identical_strategies_are_noted_and_drawn_distinguishably() {
    let mut r = full_report();
    let copy: Vec<SeriesRow> = r
        .timeseries
        .iter()
        .filter(|x| x.strategy == "single-db")
        .map(|x| SeriesRow {
            strategy: "single-db copy".into(),
            ..x.clone()
        })
        .collect();
    r.timeseries.extend(copy);
    let plots = report::plots(&r);
    let p99 = plots
        .iter()
        .find(|p| p.name == "timeseries_p99_ms")
        .unwrap();
    assert_eq!(p99.identical, ["single-db = single-db copy"]);
    // The legend note says so too (wrapped, so word by word).
    assert!(p99.svg.contains("identical:") && p99.svg.contains("single-db copy"));
    let page = report::html(&r, &plots);
    assert!(page.contains("Identical series: single-db = single-db copy."));
    // Four strategies, four marker shapes: circles, triangles, squares, diamonds.
    assert!(p99.svg.contains("<circle"), "circles");
    let polygons = p99.svg.matches("<polygon").count();
    assert!(polygons >= 3, "triangles and diamonds: {polygons}");
    assert!(p99.svg.matches("<rect").count() >= 3, "squares");
}

#[cfg(feature = "plot")]
#[test]
fn r14_warmup_is_shaded_and_slo_thresholds_are_drawn() {
    let mut r = full_report();
    r.summary.warmup_s = 120.0;
    let p99 = svg_of(&r, "timeseries_p99_ms");
    assert!(p99.contains("warm-up"));
    assert!(p99.contains("SLO p99 ≤ 40 ms"));
    assert!(svg_of(&r, "latency_bars").contains("SLO p99 ≤ 40 ms"));
    assert!(svg_of(&r, "latency_vs_load").contains("SLO p99 ≤ 40 ms"));
    let throughput = svg_of(&r, "timeseries_throughput_rps");
    assert!(
        !throughput.contains("SLO"),
        "no latency line on the throughput chart"
    );
    assert!(throughput.contains("warm-up"));
}

#[cfg(feature = "plot")]
#[test]
fn r14_legends_never_cut_a_name() {
    let long =
        "three read replicas behind a lag-aware router, twenty pods, and a write-behind cache";
    let mut r = full_report();
    for row in r
        .timeseries
        .iter_mut()
        .filter(|x| x.strategy == "cache-aside")
    {
        row.strategy = long.into();
    }
    for s in &mut r.summary.strategies {
        if s.name == "cache-aside" {
            s.name = long.into();
        }
    }
    for name in ["timeseries_p99_ms", "latency_bars"] {
        let svg = svg_of(&r, name);
        assert!(!svg.contains('…'), "{name}: a name was cut");
        for word in long.split_whitespace() {
            assert!(svg.contains(word), "{name}: `{word}` missing");
        }
    }
}

#[cfg(not(feature = "plot"))]
#[test]
fn without_the_plot_feature_there_are_no_plots() {
    assert!(report::plots(&full_report()).is_empty());
    assert!(!report::html(&full_report(), &[]).contains("<svg"));
}

// ---------------------------------------------------------------------------------------------
// HTML

#[test]
fn html_is_self_contained() {
    let r = full_report();
    let plots = report::plots(&r);
    let page = report::html(&r, &plots);
    for banned in [
        "http://", "https://", "<script", "<link", " src=", "@import", "url(",
    ] {
        assert!(!page.contains(banned), "page contains {banned}");
    }
    for s in &r.summary.strategies {
        assert!(page.contains(&s.name));
    }
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("17.5<span class=\"ci\"> ±0.5</span>"));
    assert!(page.contains("badge pass") && page.contains("badge fail"));
    assert!(
        page.contains("&lt;b&gt;not bold&lt;/b&gt;"),
        "scenario text not escaped"
    );
    assert_eq!(page.matches("<svg").count(), plots.len());
    if cfg!(feature = "plot") {
        assert!(plots.len() >= 5);
    }
}

#[test]
fn html_escapes_hostile_names() {
    let r = hostile_report();
    let page = report::html(&r, &report::plots(&r));
    assert!(!page.contains("<script"), "raw script tag in page");
    assert!(!page.contains("<img"), "raw img tag in page");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let z = zero_report();
    assert!(report::html(&z, &report::plots(&z)).contains("only"));
}

/// Writes the full and hostile reports under `target/tmp/report-demo*` for a human to look at
/// (`cargo test --no-default-features --features plot --test it report::demo -- --ignored`).
#[test]
#[ignore]
fn demo() -> Result {
    let out = scratch("demo");
    report::write_all(&full_report(), &out, &manifest(), &Formats::all())?;
    println!("{}", report::render_table(&full_report().summary, true));
    report::write_all(
        &hostile_report(),
        &scratch("demo-hostile"),
        &manifest(),
        &Formats::all(),
    )?;
    report::write_all(
        &zero_report(),
        &scratch("demo-zero"),
        &manifest(),
        &Formats::all(),
    )?;
    println!("wrote {}", out.display());
    Ok(())
}

/// Every gauge any shipped scenario's strategies emit has a family in the labels table, so
/// its chart gets words and a unit, not its raw name.
#[test]
fn every_gauge_the_models_emit_has_words_and_a_unit() {
    let mut missing = std::collections::BTreeSet::new();
    for path in crate::common::all_sims() {
        let loaded = crate::common::load_short(&path, "2s", "0s", &[]);
        for s in &loaded.strategies {
            let stats = scalesim::model::System::new(&s.scenario.system, 1).run();
            for g in &stats.gauge_names {
                let (title, _) = report::labels::series_labels(g);
                if &title == g {
                    missing.insert(g.clone());
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "gauges without a labels row: {missing:?}"
    );
}
