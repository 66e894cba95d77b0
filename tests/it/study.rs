//! Studies (named loads, objectives, checklist) against independent results: an M/M/1 queue
//! judged at two loads agrees with its closed form and the verdicts follow; the latency
//! breakdown of a tandem of two M/M/1 stations gives each its own closed-form residence
//! (Little's law); the command line wins over a load's overrides; the study reaches
//! `summary.json`, `objectives.csv`, `summary.csv` and the HTML page in order; bad input is
//! named by file, line and field.

use std::path::Path;

use scalesim::report;
use scalesim::report::summary::{StudySummary, Summary};
use scalesim::run::{self, RunOptions, study};
use scalesim::scenario::{self, Loaded};
use scalesim::stats::theory as th;

/// An open tandem `a` then `b`, exponential service 1 ms (`a`) and 2 ms (`b`), one server
/// each; the base point at 100 requests/s, loads `light` (100/s) and `heavy` (400/s).
const TANDEM: &str = r#"
name = "tandem"
duration = "400s"
warmup = "20s"
seed = 5
replications = 4

[params]
rate = 100

[workload]
type = "poisson"
rate = "$rate"

[classes.req]
path = ["a", "b"]

[stations.a]
workers = 1
service = { dist = "exponential", mean = "1ms" }

[stations.b]
workers = 1
service = { dist = "exponential", mean = "2ms" }

[slo]
mean = "5ms"

[prices]
instance_hour = { a = 1.0, b = 2.0 }

[[strategies]]
name = "as is"

[[strategies]]
name = "b twice as fast"
set = { "stations.b.service" = { dist = "exponential", mean = "1ms" } }

[[loads]]
name = "light"
set = { rate = 100 }

[[loads]]
name = "heavy"
description = "four times the traffic"
set = { rate = 400 }

[[objectives]]
name = "fast"
goal = "mean under 5 ms when heavy"
kind = "metric"
load = "heavy"
metric = "mean"
max = 5

[[objectives]]
name = "slo"
goal = "every SLO when light"
kind = "slo"
load = "light"

[[checklist]]
section = "Load testing"
item = "Heavy traffic tested"
evidence = ["objective:fast", "heavy:b.utilization"]

[[checklist]]
section = "Load testing"
item = "Chaos tested"
note = "no failures in this scenario"
"#;

fn load(text: &str, sets: &[&str]) -> Loaded {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    scenario::load_str(text, Path::new("tandem.toml"), &sets).expect("the study loads")
}

fn run(loaded: &Loaded, jobs: usize) -> report::summary::Report {
    run::run(
        loaded,
        &RunOptions {
            jobs,
            ..RunOptions::default()
        },
    )
}

fn study_of(s: &Summary) -> &StudySummary {
    s.study.as_ref().expect("a study")
}

/// The mean response of an M/M/1 in tandem with another: each station's sojourn `1/(mu - λ)`.
fn tandem_mean_ms(rate: f64, a_ms: f64, b_ms: f64) -> (f64, f64) {
    let w = |mean_ms: f64| th::mm1_mean_response(rate, 1e3 / mean_ms) * 1e3;
    (w(a_ms), w(b_ms))
}

#[test]
fn objectives_follow_the_closed_form_at_each_load() {
    let report = run(&load(TANDEM, &[]), 0);
    let s = &report.summary;
    assert_eq!(s.loads.len(), 2);
    assert_eq!(s.loads[1].name, "heavy");
    // Heavy: λ = 400/s; a at ρ 0.4 (1.667 ms), b at ρ 0.8 (10 ms): mean 11.67 ms, fails 5 ms.
    // With b twice as fast: 1.667 + 1.667 = 3.33 ms, passes.
    let study = study_of(s);
    let fast = &study.objectives[0];
    assert_eq!((fast.op.as_str(), fast.threshold), ("<=", 5.0));
    for (v, (b_ms, passes)) in fast.verdicts.iter().zip([(2.0, false), (1.0, true)]) {
        let (a, b) = tandem_mean_ms(400.0, 1.0, b_ms);
        let err = (v.value - (a + b)).abs();
        assert!(
            err <= (3.0 * v.ci95).max(0.05 * (a + b)),
            "{}: mean {} ± {} against M/M/1 tandem {}",
            v.strategy,
            v.value,
            v.ci95,
            a + b
        );
        assert!(
            v.ci95 > 0.0,
            "{}: four replications give an interval",
            v.strategy
        );
        assert_eq!(v.passed, passes, "{}: {v:?}", v.strategy);
        assert!(
            v.confident,
            "{}: far from the threshold, the interval is clear of it",
            v.strategy
        );
    }
    // Light: both meet the 5 ms SLO (1.11 + 2.5 ms and 1.11 + 1.11 ms).
    assert!(study.objectives[1].verdicts.iter().all(|v| v.passed));
}

#[test]
fn the_breakdown_gives_each_station_its_own_sojourn_by_littles_law() {
    let report = run(&load(TANDEM, &[]), 0);
    let study = study_of(&report.summary);
    let heavy: Vec<_> = study
        .breakdown
        .iter()
        .filter(|b| b.load == "heavy")
        .collect();
    assert_eq!(heavy.len(), 2, "one breakdown per strategy at each load");
    for (b, b_ms) in heavy.iter().zip([2.0, 1.0]) {
        let (wa, wb) = tandem_mean_ms(400.0, 1.0, b_ms);
        let at = |name: &str| {
            b.components
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("{}: no {name} in {b:?}", b.strategy))
        };
        for (name, w) in [("a", wa), ("b", wb)] {
            let got = at(name).residence_ms;
            assert!(
                (got - w).abs() <= 0.06 * w,
                "{}: residence at {name} {got} ms against 1/(mu - λ) = {w} ms",
                b.strategy
            );
        }
        // Nothing but the two stations: their residences add up to the mean response.
        let held: f64 = b.components.iter().map(|c| c.residence_ms).sum();
        assert!((held - b.mean_ms).abs() <= 0.02 * b.mean_ms, "{b:?}");
        // The bill: a at 1/h and b at 2/h, whatever the load.
        assert_eq!(at("a").cost_per_hour, 1.0);
        assert_eq!(at("b").cost_per_hour, 2.0);
    }
}

#[test]
fn the_checklist_cites_its_evidence_and_says_what_is_not_covered() {
    let report = run(&load(TANDEM, &[]), 0);
    let list = &study_of(&report.summary).checklist;
    assert_eq!(list.len(), 2);
    assert!(list[0].covered);
    assert!(list[0].evidence[0].starts_with("objective fast: as is FAIL, b twice as fast PASS"));
    assert!(
        list[0].evidence[1].starts_with("b.utilization at heavy: as is 79."),
        "{:?}",
        list[0]
    );
    assert!(!list[1].covered);
    assert_eq!(list[1].note, "no failures in this scenario");
}

#[test]
fn the_command_line_wins_over_a_loads_overrides_and_results_do_not_depend_on_threads() {
    // `--set rate=50` holds at every load, the heavy one included.
    let loaded = load(TANDEM, &["rate=50"]);
    for l in &loaded.loads {
        for p in &l.points {
            assert_eq!(p.system.load.intensity(), 50.0, "load {}", l.name);
        }
    }
    let loaded = load(TANDEM, &["duration=60s"]);
    let (one, two) = (run(&loaded, 1), run(&loaded, 2));
    assert_eq!(one.summary, two.summary);
}

#[test]
fn the_study_reaches_every_output_in_order() {
    let loaded = load(TANDEM, &["duration=60s"]);
    let report = run(&loaded, 0);
    let s = &report.summary;
    let json = report::summary_json(s).expect("serializes");
    let back: Summary = serde_json::from_str(&json).expect("parses back");
    assert_eq!(back.study, s.study);
    assert_eq!(back.loads, s.loads);
    let csv = report::tidy::objectives_csv(s).expect("a study has objectives.csv");
    assert!(csv.starts_with("table,name,load,strategy,component,metric,value,ci95,threshold\n"));
    assert!(csv.contains("\nobjective,fast,heavy,as is,,mean,"));
    assert!(csv.contains("\nobjective,fast,heavy,b twice as fast,,passed,1,,\n"));
    assert!(csv.contains("\nbreakdown,,heavy,as is,b,residence_ms,"));
    assert!(csv.contains("\nchecklist,Load testing: Chaos tested,,,,covered,0,,\n"));
    let summary_csv = report::summary_csv(s);
    assert!(summary_csv.contains("\ntandem,load,heavy,as is,,,latency_ms.p99,"));
    let page = report::html(&report, &[]);
    let at = |what: &str| {
        page.find(what)
            .unwrap_or_else(|| panic!("no {what} in the page"))
    };
    assert!(at("<h2>Objectives</h2>") < at("<h2>Loads</h2>"));
    assert!(at("<h2>Loads</h2>") < at("<h2>Comparison</h2>"));
    assert!(at("<h2>Comparison</h2>") < at("<h2>Checklist</h2>"));
    let table = report::render_table(s, false);
    let objectives = table
        .find("Objectives: PASS or FAIL")
        .expect("verdicts in the terminal");
    assert!(objectives < table.find("Base point").expect("then the base point"));
    assert!(table.contains("Checklist: 1 of 2 items have evidence"));
}

#[test]
fn a_study_without_loads_or_objectives_writes_nothing_new() {
    let text = TANDEM.split("[[loads]]").next().expect("head");
    let report = run(&load(text, &["duration=30s"]), 0);
    assert!(report.summary.loads.is_empty() && report.summary.study.is_none());
    assert!(report::tidy::objectives_csv(&report.summary).is_none());
    let json = report::summary_json(&report.summary).expect("serializes");
    assert!(!json.contains("\"study\"") && !json.contains("\"loads\""));
    let loaded = load(text, &[]);
    assert!(!study::wanted(&loaded));
}

/// The error loading `text` as `bad.toml`.
fn refused(text: &str) -> String {
    scenario::load_str(text, Path::new("bad.toml"), &[])
        .expect_err("refused")
        .to_string()
}

#[test]
fn bad_studies_are_named_by_file_line_and_field() {
    let cases: [(&str, &str, &[&str]); 8] = [
        (
            "load = \"heavy\"\nmetric = \"mean\"",
            "load = \"haevy\"\nmetric = \"mean\"",
            &[
                "bad.toml:",
                "objectives.0.load",
                "names no load `haevy`",
                "did you mean `heavy`",
            ],
        ),
        (
            "kind = \"metric\"\nload = \"heavy\"",
            "kind = \"metirc\"\nload = \"heavy\"",
            &[
                "objectives.0.kind",
                "unknown objective kind `metirc`",
                "did you mean `metric`",
            ],
        ),
        (
            "metric = \"mean\"\nmax = 5",
            "metric = \"mean\"\nmax = 5\nmin = 1",
            &["objectives.0.max", "exactly one of `max` and `min`"],
        ),
        (
            "metric = \"mean\"\nmax = 5",
            "metric = \"p98\"\nmax = 5",
            &[
                "objectives.0.metric",
                "unknown metric `p98`",
                "did you mean `p99`",
            ],
        ),
        (
            "kind = \"slo\"\nload = \"light\"",
            "kind = \"slo\"\nload = \"light\"\nmultiple = 10",
            &[
                "objectives.1.multiple",
                "a `slo` objective has no `multiple`",
            ],
        ),
        (
            "kind = \"slo\"\nload = \"light\"",
            "kind = \"capacity\"\nmultiple = 10",
            &["objectives.1.kind", "needs a [capacity] search"],
        ),
        (
            "evidence = [\"objective:fast\"",
            "evidence = [\"objective:fats\"",
            &[
                "checklist.0.evidence.0",
                "names no objective `fats`",
                "did you mean `fast`",
            ],
        ),
        (
            "name = \"light\"",
            "name = \"heavy\"",
            &["loads.1.name", "duplicate load name `heavy`"],
        ),
    ];
    for (from, to, want) in cases {
        assert!(TANDEM.contains(from), "the test's text has {from:?}");
        let e = refused(&TANDEM.replacen(from, to, 1));
        for w in want {
            assert!(e.contains(w), "{to:?}: {e}\n(wanted {w:?})");
        }
        // A line number: `bad.toml:LINE:COL:`.
        assert!(
            e.starts_with("bad.toml:")
                && e.split(':')
                    .nth(1)
                    .is_some_and(|l| l.parse::<u32>().is_ok()),
            "{e}"
        );
    }
    // An override of a load naming nothing the file has.
    let e = refused(&TANDEM.replacen("set = { rate = 400 }", "set = { rat = 400 }", 1));
    assert!(
        e.contains("loads.1.set.rat") && e.contains("did you mean `rate`"),
        "{e}"
    );
}

/// Work done for messages is not the requests' time: a consumer group's service and the
/// provider only it calls stay out of the breakdown, which then adds up to the mean response.
#[test]
fn the_breakdown_leaves_out_what_only_consumers_visit() {
    let text = r#"
name = "background"
duration = "200s"
warmup = "20s"
seed = 3
[workload]
type = "poisson"
rate = 100
[classes.order]
path = ["a", { publish = "orders" }]
[stations.a]
workers = 1
service = { dist = "exponential", mean = "2ms" }
[topics.orders]
partitions = 4
[services.workers]
instances = 4
service = "1ms"
[services.provider]
workers = 64
service = { dist = "exponential", mean = "50ms" }
[consumers.charges]
topic = "orders"
service = "workers"
path = ["provider"]
[[loads]]
name = "normal"
[[objectives]]
name = "fast"
kind = "metric"
load = "normal"
metric = "p99"
max = 100
"#;
    let report = run(&load(text, &[]), 0);
    let b = &study_of(&report.summary).breakdown[0];
    let names: Vec<&str> = b.components.iter().map(|c| c.name.as_str()).collect();
    assert!(names.contains(&"a"), "{names:?}");
    assert!(
        !names.contains(&"provider") && !names.contains(&"workers"),
        "{names:?}"
    );
    let held: f64 = b.components.iter().map(|c| c.residence_ms).sum();
    assert!(
        held <= b.mean_ms * 1.01,
        "{held} ms held against a mean of {} ms",
        b.mean_ms
    );
    // `a` is an M/M/1 at ρ 0.2: 2.5 ms.
    let a = b
        .components
        .iter()
        .find(|c| c.name == "a")
        .expect("a")
        .residence_ms;
    assert!((a - 2.5).abs() < 0.15, "{a}");
}
