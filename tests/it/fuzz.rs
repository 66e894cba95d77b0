//! Fuzzing the scenario loader (proptest as the driver): bad input must never panic or hang,
//! and every error must render as a message.
//!
//! Inputs: arbitrary bytes; a soup of scenario-format tokens; each shipped scenario mutated by
//! a few random edits (delete, duplicate or swap lines, replace a number or a string, insert a
//! line from a dictionary of tricky entries or random characters, truncate); and random
//! `--set` strings over the shipped scenarios. Whatever loads is also run for one simulated
//! second (when its load is small enough to be quick) and its report rendered, and must give
//! finite, physically possible numbers. Panics fail the proptest case, which proptest shrinks
//! to a minimal input.

use std::path::{Path, PathBuf};

use scalesim::model::workload::{Arrivals, Load};
use scalesim::report;
use scalesim::run::{self, RunOptions};
use scalesim::scenario::{self, Loaded, Scenario, ScenarioError};

use crate::common::{self, assert_finite};

/// The shipped scenarios, read once: (path, text).
fn sims() -> &'static [(PathBuf, String)] {
    static SIMS: std::sync::OnceLock<Vec<(PathBuf, String)>> = std::sync::OnceLock::new();
    SIMS.get_or_init(|| common::all_sims().into_iter().map(|p| {
        let t = std::fs::read_to_string(&p).expect("readable");
        (p, t)
    }).collect())
}

// ---------------------------------------------------------------------------------------------
// Checks

fn check_error(e: &ScenarioError) {
    let msg = e.to_string();
    assert!(!msg.is_empty() && !e.message.is_empty(), "empty error message: {e:?}");
    assert!(msg.starts_with(&e.file.display().to_string()), "the message does not start with the file: {msg}");
    if let Some((line, col)) = e.position {
        assert!(line >= 1 && col >= 1, "position {line}:{col} in {msg}");
    }
}

/// Every scenario of a loaded file: the strategies and every sweep point.
fn scenarios(l: &Loaded) -> impl Iterator<Item = &Scenario> {
    l.strategies.iter().map(|s| &s.scenario).chain(l.sweep.iter().flat_map(|s| s.points.iter().flatten()))
}

/// Whether one second of `sc` is quick: a bounded arrival rate, or few users who think.
fn quick(sc: &Scenario) -> bool {
    let sys = &sc.system;
    let load_ok = match &sys.load {
        Load::Open(Arrivals::Constant { rate }) => *rate <= 20_000.0,
        Load::Open(Arrivals::Poisson(p)) => p.max() <= 20_000.0,
        Load::Open(Arrivals::Mmpp { rates, .. }) => rates[0].max(rates[1]) <= 20_000.0,
        Load::Open(Arrivals::Replay(ts)) => ts.len() <= 100_000,
        Load::Closed(u) => u.target.max() <= 500.0 && u.think.mean() >= 1e-3,
    };
    load_ok && sys.classes.iter().all(|c| c.path.len() <= 20)
}

/// Runs `text` for one simulated second, one replication, and renders the report.
fn run_briefly(text: &str, path: &Path, sets: &[String]) {
    let mut all = sets.to_vec();
    all.extend(["duration=1s", "warmup=0s", "bucket=100ms"].map(String::from));
    let Ok(l) = scenario::load_str(text, path, &all) else { return };
    if l.sweep.as_ref().is_some_and(|s| s.points.len() > 30) || !scenarios(&l).all(quick) {
        return;
    }
    let what = format!("one second of\n{text}\nwith {all:?}");
    let huge_prices = scenarios(&l).any(|sc| sc.prices.worker_hour.iter().chain([&sc.prices.per_million_requests, &sc.prices.fixed_per_hour]).any(|p| *p > 1e12));
    let rep = common::within(30, &what, move || run::run(&l, &RunOptions { replications: Some(1), jobs: 1, ..RunOptions::default() }));
    let mut summary = rep.summary.clone();
    if huge_prices {
        // Prices near f64::MAX overflow the cost to infinity; that is arithmetic, not a bug.
        for s in summary.strategies.iter_mut().chain(summary.points.iter_mut().flat_map(|p| &mut p.strategies)) {
            s.cost = Default::default();
        }
    }
    assert_finite(&summary);
    for s in rep.summary.strategies.iter().chain(rep.summary.points.iter().flat_map(|p| &p.strategies)) {
        assert!(s.requests >= s.completed + s.failed, "`{}` finished more than arrived", s.name);
        assert!(s.latency_ms.max <= 1000.0 * 1.01, "`{}`: a latency of {} ms in a one-second run", s.name, s.latency_ms.max);
        for c in &s.components {
            assert!((0.0..=1.0 + 1e-9).contains(&c.utilization), "`{}`: {} utilization {}", s.name, c.name, c.utilization);
        }
    }
    let _ = report::render_table(&rep.summary, false);
    let _ = report::summary_csv(&rep.summary);
    let _ = report::timeseries_csv(&rep.timeseries);
    report::summary_json(&rep.summary).expect("the summary serializes");
}

// ---------------------------------------------------------------------------------------------
// Regressions found by the fuzzer

fn mmc() -> (&'static Path, &'static str) {
    let (p, t) = sims().iter().find(|(p, _)| p.ends_with("mmc.toml")).expect("mmc.toml");
    (p, t)
}

fn expect_error(text: &str, sets: &[&str], wanted: &str) -> ScenarioError {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let e = scenario::load_str(text, mmc().0, &sets).expect_err("must be refused");
    check_error(&e);
    assert!(e.to_string().contains(wanted), "`{wanted}` not in: {e}");
    e
}

/// Regression: `--set`, a strategy's `set` or a sweep `param` naming an array element past
/// the end (`percentiles.5`) panicked in toml_edit's `Array::replace`.
#[test]
fn r_set_array_index_out_of_range() {
    let (_, text) = mmc();
    expect_error(text, &["percentiles.5=1"], "out of range");
    let strategy = format!("{text}\n[[strategies]]\nname = \"x\"\nset = {{ \"percentiles.3\" = 1 }}\n");
    expect_error(&strategy, &[], "out of range");
    expect_error(text, &["sweep.param=\"percentiles.1\""], "out of range");
    // An index inside the array still works.
    let l = scenario::load_str(text, mmc().0, &["percentiles.0=99.9".into()]).expect("in range");
    assert_eq!(l.base.percentiles, vec![99.9]);
}

/// `mmc.toml` with `from` replaced by `to`.
fn mmc_with(from: &str, to: &str) -> String {
    let (_, text) = mmc();
    assert!(text.contains(from), "`{from}` not in mmc.toml");
    text.replacen(from, to, 1)
}

const MMC_SERVICE: &str = r#"service = { dist = "exponential", mean = "$service_mean" }"#;

/// Regression: a truncated normal with `min` above `max` loaded, then panicked in
/// `f64::clamp` on the first service time that missed the empty range 64 times.
#[test]
fn r_normal_min_above_max() {
    let bad = mmc_with(MMC_SERVICE, r#"service = { dist = "normal", mean = "1s", sd = "1s", min = "10s", max = "1s" }"#);
    expect_error(&bad, &[], "max must be at least min");
    let point = mmc_with(MMC_SERVICE, r#"service = { dist = "normal", mean = "1s", sd = "1s", min = "1s", max = "1s" }"#);
    run_briefly(&point, mmc().0, &[]);
}

/// Regression: `phase = nan` made every diurnal rate NaN, so arrival thinning never accepted
/// a candidate and ran until the clock saturated (a hang); `mu = nan` gave NaN service times.
#[test]
fn r_non_finite_phase_and_mu() {
    let diurnal = mmc_with("type = \"poisson\"\nrate = \"$rate\"", "type = \"diurnal\"\nmean = 3\nperiod = \"1h\"\nphase = nan");
    expect_error(&diurnal, &[], "workload.phase");
    for mu in ["nan", "inf", "-inf"] {
        let ln = mmc_with(MMC_SERVICE, &format!("service = {{ dist = \"lognormal\", mu = {mu}, sigma = 1 }}"));
        expect_error(&ln, &[], "stations.server.service.mu");
    }
    let finite = mmc_with("type = \"poisson\"\nrate = \"$rate\"", "type = \"diurnal\"\nmean = 3\nperiod = \"1h\"\nphase = 1.5");
    run_briefly(&finite, mmc().0, &[]);
}

/// Regression: `[capacity] to = inf` was accepted, and the bisection between a finite and an
/// infinite scale never narrowed (nor could the probe at infinite load finish).
#[test]
fn r_capacity_infinite_bound() {
    expect_error(&mmc_with("to = 3.0", "to = inf"), &[], "capacity");
}

/// Regression: `steps = 4000000000` in a sweep allocated every point up front (tens of GB).
#[test]
fn r_sweep_with_billions_of_steps() {
    let huge = mmc_with("values = [2.0, 2.4, 2.8, 3.2, 3.6]", "from = 1\nto = 2\nsteps = 4000000000");
    common::within(10, "loading a huge sweep", move || expect_error(&huge, &[], "sweep.values"));
    let (_, text) = mmc();
    let fine = text.replacen("values = [2.0, 2.4, 2.8, 3.2, 3.6]", "from = 1\nto = 2\nsteps = 3", 1);
    let l = scenario::load_str(&fine, mmc().0, &[]).expect("a small stepped sweep loads");
    assert_eq!(l.sweep.expect("a sweep").values, vec![1.0, 1.5, 2.0]);
}

/// Regression: a class with an empty path, under closed-loop users without think time,
/// finished each request at the instant it was sent and sent the next at the same instant,
/// for ever (a hang). An empty path is now refused.
#[test]
fn r_empty_path() {
    let users = mmc_with("type = \"poisson\"\nrate = \"$rate\"", "type = \"users\"\nusers = 3");
    let empty = users.replacen(r#"path = ["server"]"#, "path = []", 1);
    expect_error(&empty, &[], "classes.job.path");
    run_briefly(&users, mmc().0, &[]);
}
