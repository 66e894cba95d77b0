//! The shipped scenarios in `sims/`: every file loads, and every strategy, sweep point and
//! capacity search runs on a short horizon and gives sane numbers; and the command line turns
//! one of them into a complete results folder.
//!
//! "Sane" means: every strategy completed requests; no number in the summary is NaN or
//! infinite; each replication conserves requests (nothing finished twice, classes add up, and
//! the in-flight count stays within what the system can hold); and the summary is exactly the
//! replication it summarizes. The files are discovered at run time, so a new scenario is
//! tested as soon as it is added.

use std::path::Path;
use std::process::Command;

use scalesim::model::workload::Load;
use scalesim::report::summary::{StrategySummary, Summary};
use scalesim::run::{self, RunOptions, replication_seed};
use scalesim::scenario::Loaded;

use crate::common::{self, Scratch, assert_conserved, assert_finite, load_short};

const DURATION: &str = "2m";
const WARMUP: &str = "10s";

/// One replication per strategy and point: the horizon, not the statistics, is under test.
fn opts() -> RunOptions {
    RunOptions {
        replications: Some(1),
        ..RunOptions::default()
    }
}

fn assert_strategy_sane(s: &StrategySummary, what: &str) {
    assert!(
        s.completed > 0.0,
        "{what}: strategy `{}` completed nothing",
        s.name
    );
    assert!(
        s.requests >= s.completed + s.failed,
        "{what}: `{}` finished more than arrived",
        s.name
    );
    assert!(
        (0.0..=1.0).contains(&s.error_rate),
        "{what}: `{}` error rate {}",
        s.name,
        s.error_rate
    );
    assert!(
        s.latency_ms.p50 <= s.latency_ms.p99 && s.latency_ms.p99 <= s.latency_ms.max * 1.001,
        "{what}: `{}` percentiles out of order",
        s.name
    );
}

/// The most requests the system can hold at once: users for a closed workload; for an open one,
/// a generous bound (a twentieth of the arrivals, at least 100) that only a leak would exceed.
fn in_flight_bound(loaded: &Loaded, j: usize, arrived: u64) -> u64 {
    match &loaded.strategies[j].scenario.system.load {
        Load::Closed(u) => u.target.max().ceil() as u64,
        Load::Open(_) => (arrived / 20).max(100),
    }
}

/// Replays replication 0 of every strategy at the base point and checks conservation and
/// that the summary reports exactly that replication.
fn check_base_point(loaded: &Loaded, summary: &Summary, what: &str) {
    assert_eq!(
        summary.strategies.len(),
        loaded.strategies.len(),
        "{what}: one summary per strategy"
    );
    for (j, (st, s)) in loaded
        .strategies
        .iter()
        .zip(&summary.strategies)
        .enumerate()
    {
        let what = format!("{what}, strategy `{}`", st.name);
        assert_eq!(s.name, st.name, "{what}: strategies out of order");
        let m = run::simulate(&st.scenario, replication_seed(summary.seed, 0), false);
        assert_conserved(&m, &what);
        let bound = in_flight_bound(loaded, j, m.total.arrived);
        assert!(
            m.in_flight <= bound,
            "{what}: {} in flight, at most {bound} expected",
            m.in_flight
        );
        assert_eq!(
            s.requests, m.total.arrived as f64,
            "{what}: summary requests"
        );
        assert_eq!(
            s.completed, m.total.completed as f64,
            "{what}: summary completed"
        );
        assert_eq!(
            s.failed,
            m.total.failed_total() as f64,
            "{what}: summary failed"
        );
    }
}

fn check_sim(path: &Path) {
    let what = path
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .to_string();
    let loaded = load_short(path, DURATION, WARMUP, &[]);
    assert!(!loaded.strategies.is_empty(), "{what}: no strategies");
    let report = run::run(&loaded, &opts());
    let summary = &report.summary;
    assert_eq!(summary.schema, 1);
    assert_eq!(summary.replications, 1);
    assert!(
        (summary.horizon_s - 110.0).abs() < 1e-9,
        "{what}: horizon {}",
        summary.horizon_s
    );
    assert_finite(summary);
    for s in &summary.strategies {
        assert_strategy_sane(s, &what);
    }
    check_base_point(&loaded, summary, &what);
    assert!(!report.timeseries.is_empty(), "{what}: no time series");
    assert!(
        report.cdfs.iter().all(|c| !c.points.is_empty()),
        "{what}: an empty latency CDF"
    );
    match &loaded.sweep {
        Some(sw) => {
            assert_eq!(
                summary.points.len(),
                sw.values.len(),
                "{what}: one result per sweep point"
            );
            for (p, v) in summary.points.iter().zip(&sw.values) {
                assert_eq!(
                    (p.parameter.as_str(), p.value),
                    (sw.param.as_str(), *v),
                    "{what}: sweep point order"
                );
                assert_eq!(p.strategies.len(), loaded.strategies.len());
                p.strategies.iter().for_each(|s| {
                    assert_strategy_sane(s, &format!("{what} at {} = {v}", sw.param))
                });
            }
        }
        None => assert!(summary.points.is_empty(), "{what}: points without a sweep"),
    }
}

/// Every shipped scenario, every strategy and every sweep point, on a two-minute horizon.
#[test]
fn every_sim_runs_on_a_short_horizon() {
    for path in common::all_sims() {
        check_sim(&path);
    }
}

/// Files with `[capacity]`: the search finishes with a scale inside the bounds (or 0 when even
/// the lowest fails), for every strategy, and some strategy meets its SLOs at the lowest load.
#[test]
fn capacity_searches_finish_within_their_bounds() {
    let mut searched = 0;
    for path in common::all_sims() {
        let loaded = load_short(&path, DURATION, WARMUP, &[]);
        let Some(spec) = loaded.capacity else {
            continue;
        };
        searched += 1;
        let caps = run::capacity_search(&loaded, &spec, loaded.base.seed, 1, None);
        let what = path.display();
        assert_eq!(caps.len(), loaded.strategies.len(), "{what}");
        for (c, st) in caps.iter().zip(&loaded.strategies) {
            assert_eq!(c.strategy, st.name);
            let k = c.max_load_scale;
            assert!(
                k == 0.0 || (spec.from..=spec.to).contains(&k),
                "{what}: `{}` scale {k} outside [{}, {}]",
                c.strategy,
                spec.from,
                spec.to
            );
            assert!(
                c.max_load.is_finite() && c.max_load >= 0.0,
                "{what}: `{}` max load {}",
                c.strategy,
                c.max_load
            );
            let expected = st.scenario.system.load.intensity() * k;
            assert!(
                (c.max_load - expected).abs() <= 1e-9 * expected.max(1.0),
                "{what}: max load is not intensity x scale"
            );
        }
        assert!(
            caps.iter().any(|c| c.max_load_scale > 0.0),
            "{what}: no strategy meets its SLOs even at the lowest load: {caps:?}"
        );
    }
    assert!(searched >= 1, "no shipped scenario has [capacity]");
}

/// `[capacity] duration` bounds each probe's horizon: a probe as long as the warm-up is
/// refused with the field named; a shorter horizon is kept, and never exceeds the scenario's.
#[test]
fn capacity_probes_take_their_own_horizon() {
    let path = common::sim("load-peak.toml");
    let text = std::fs::read_to_string(&path).expect("load-peak.toml");
    assert!(
        text.contains("duration = \"6m\""),
        "load-peak's probes run 6 minutes"
    );
    let e = scalesim::scenario::load_str(&text, &path, &["capacity.duration=2m".to_string()])
        .expect_err("a probe no longer than the 2 m warm-up is refused");
    assert!(e.to_string().contains("capacity.duration"), "{e}");
    let loaded = scalesim::scenario::load_str(&text, &path, &[]).expect("loads");
    assert_eq!(
        loaded.capacity.expect("a search").duration,
        Some(360_000_000_000)
    );
}

/// The binary, run as a user would, writes a complete results folder, and `--format json`
/// prints the same summary it writes.
#[test]
fn cli_run_writes_a_complete_results_folder() {
    let dir = Scratch::new("cli-mmc");
    let out = dir.join("out");
    let run = |out: &Path, extra: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_scalesim"))
            .args([
                "run",
                common::sim("mmc.toml").to_str().expect("utf-8 path"),
                "--set",
                "duration=20m",
                "--replications",
                "2",
                "--out",
            ])
            .arg(out)
            .args(extra)
            .output()
            .expect("the binary runs");
        assert!(
            o.status.success(),
            "exit {:?}: {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        o
    };
    let quiet = run(&out, &["--quiet"]);
    assert!(
        quiet.stdout.is_empty(),
        "--quiet printed {}",
        String::from_utf8_lossy(&quiet.stdout)
    );
    for f in [
        "summary.json",
        "summary.csv",
        "timeseries.csv",
        "manifest.json",
        "report.html",
    ] {
        let p = out.join(f);
        assert!(
            p.is_file() && std::fs::metadata(&p).expect("stat").len() > 0,
            "{f} missing or empty"
        );
    }
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("read"))
            .expect("summary.json is JSON");
    assert_eq!(written["schema"], 1);
    assert_eq!(written["replications"], 2);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("read"))
            .expect("manifest is JSON");
    assert_eq!(manifest["scenario"], "mmc");
    check_plots(&out.join("plots"));

    let printed = run(&dir.join("out2"), &["--format", "json"]);
    let printed: Summary =
        serde_json::from_slice(&printed.stdout).expect("--format json prints a summary");
    let written: Summary = serde_json::from_value(written).expect("summary.json is a Summary");
    assert_eq!(
        printed, written,
        "the printed summary differs from the written one"
    );
}

/// The charts a swept scenario must have, each as PNG and SVG, and no PNG without its SVG.
/// The cost against load is drawn unless it is flat in every strategy (a fixed fleet), and
/// then the report names it among the charts not drawn.
fn check_plots(dir: &Path) {
    let report = std::fs::read_to_string(dir.join("../report.html")).expect("report.html");
    let cost_folded = report.contains("Not drawn: flat in every strategy")
        && !dir.join("cost_vs_load.png").exists();
    for stem in [
        "latency_vs_load",
        "cost_vs_load",
        "latency_cdf",
        "latency_bars",
        "timeseries_throughput_rps",
    ] {
        if stem == "cost_vs_load" && cost_folded {
            continue;
        }
        for ext in ["png", "svg"] {
            let p = dir.join(format!("{stem}.{ext}"));
            assert!(p.is_file(), "{} missing", p.display());
        }
    }
    let png = std::fs::read(dir.join("latency_cdf.png")).expect("read png");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let svg = std::fs::read_to_string(dir.join("latency_cdf.svg")).expect("read svg");
    assert!(svg.contains("<svg"), "not an SVG");
    for e in std::fs::read_dir(dir).expect("plots/ exists") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "png") {
            assert!(
                p.with_extension("svg").is_file(),
                "{} has no SVG twin",
                p.display()
            );
        }
    }
}
