//! Issue 15: `warmup = "auto"` (MSER-5 per replication) and `replications = "auto"` (add
//! replications until the 95 % half-width is within the precision), checked on an M/M/1
//! started empty against its closed form, on a ramp that never settles, and for determinism
//! across thread counts.

use std::path::Path;

use scalesim::model::System;
use scalesim::run::{self, RunOptions, auto, replication_seed, simulate};
use scalesim::scenario::{self, Loaded};

/// An M/M/1 started empty: exponential service of mean 1 s, Poisson arrivals at `rho` per
/// second; `extra` goes at the top level.
fn mm1(rho: f64, duration: &str, extra: &str) -> String {
    format!(
        r#"
name = "mm1"
duration = "{duration}"
{extra}
[workload]
type = "poisson"
rate = {rho}
[classes.job]
path = ["server"]
[stations.server]
workers = 1
service = {{ dist = "exponential", mean = "1s" }}
"#
    )
}

fn load(text: &str) -> Loaded {
    scenario::load_str(text, Path::new("auto.toml"), &[]).expect("the test scenario loads")
}

/// One group of `n` replications of `text` (seeded from `root`), run as `run` does with
/// `warmup = "auto"`: (the warm-up chosen from the pooled pilots, the truncated mean response
/// in ms over the replications, the untruncated one).
fn pooled(text: &str, root: u64, n: u32) -> (auto::Warmup, f64, f64) {
    let l = load(text);
    let sc = &l.base;
    let seeds: Vec<u64> = (0..n).map(|r| replication_seed(root, r)).collect();
    let pilots: Vec<auto::Pilot> = seeds.iter().map(|&s| run::pilot(sc, s)).collect();
    let w = auto::choose(&pilots);
    let mean = |f: &dyn Fn(u64) -> f64| seeds.iter().map(|&s| f(s)).sum::<f64>() / f64::from(n);
    let truncated = mean(&|s| run::simulate_warm(sc, s, false, &w).total.latency[0]);
    let whole = mean(&|s| simulate(sc, s, false).total.latency[0]);
    (w, truncated, whole)
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = xs.collect();
    v.iter().sum::<f64>() / v.len() as f64
}

/// MSER-5 on an M/M/1 started empty, over ten seeds of 30 replications each (the pilots
/// pooled), cuts more at rho 0.95 (relaxation time about 1/(1-sqrt(rho))^2 = 1560 s) than at
/// rho 0.5 (34 s); at 0.95 truncating raises the mean response (the empty start biases it
/// low) and the mean over the seeds comes nearer the closed form W = 1/(mu - lambda) than the
/// whole runs'. One seed's estimate is too noisy (about ±12 %) to judge against W alone.
#[test]
fn r15_mser5_on_mm1_started_empty_truncates_more_when_busier_and_nearer_the_closed_form() {
    let auto = "warmup = \"auto\"";
    let rows = |rho: f64| -> Vec<(f64, bool, f64, f64)> {
        (1..=10)
            .map(|seed| {
                let (w, t, u) = pooled(&mm1(rho, "8000s", auto), seed, 30);
                (w.pooled.warmup_ns as f64 / 1e9, w.pooled.too_short, t, u)
            })
            .collect()
    };
    let (low, high) = (rows(0.5), rows(0.95));
    let warm = |r: &[(f64, bool, f64, f64)]| mean(r.iter().map(|x| x.0));
    eprintln!(
        "mean warm-up: rho 0.5 {:.0} s, rho 0.95 {:.0} s",
        warm(&low),
        warm(&high)
    );
    eprintln!("rho 0.5: {low:?}\nrho 0.95: {high:?}");
    assert!(
        warm(&high) > 2.0 * warm(&low),
        "{} vs {}",
        warm(&high),
        warm(&low)
    );
    assert!(high.iter().filter(|x| x.0 > 0.0).count() >= 9, "{high:?}");
    assert!(high.iter().filter(|x| x.2 > x.3).count() >= 9, "{high:?}");
    assert!(low.iter().filter(|x| x.1).count() <= 1, "{low:?}");
    // Closed form in ms: 1 / (1 - rho) seconds.
    let w = 20_000.0;
    let err = |f: fn(&(f64, bool, f64, f64)) -> f64| mean(high.iter().map(f)) - w;
    let abs = |f: fn(&(f64, bool, f64, f64)) -> f64| mean(high.iter().map(|x| (f(x) - w).abs()));
    let (truncated, whole) = (err(|x| x.2), err(|x| x.3));
    eprintln!(
        "rho 0.95: error of the mean over seeds: truncated {truncated:.0} ms, whole {whole:.0} ms; \
         mean |error| per seed: truncated {:.0} ms, whole {:.0} ms",
        abs(|x| x.2),
        abs(|x| x.3)
    );
    assert!(truncated.abs() < whole.abs(), "{truncated} vs {whole}");
}

/// A ramp in overload never settles (the queue, and the latency, grow from the start to the
/// end): it is flagged too short, and the run says so. (A load that stays low for most of the
/// run and overloads only at its end is not flagged: MSER looks for a transient at the start,
/// and the long flat part keeps its statistic lowest there.)
#[test]
fn r15_a_ramp_is_flagged_too_short_to_reach_steady_state() {
    let text = mm1(0.5, "4000s", "warmup = \"auto\"").replace(
        "type = \"poisson\"\nrate = 0.5",
        "type = \"ramp\"\nfrom = 1.05\nto = 1.5\nover = \"4000s\"",
    );
    for root in 0..5 {
        let (w, _, _) = pooled(&text, root, 3);
        assert!(w.pooled.too_short, "seed {root}: not flagged: {w:?}");
    }
    let rep = run::run(
        &load(&text),
        &RunOptions {
            jobs: 1,
            replications: Some(2),
            ..Default::default()
        },
    );
    let w = rep.summary.strategies[0]
        .auto_warmup
        .as_ref()
        .expect("the summary reports the warm-up");
    assert!(
        w.too_short && w.pilots == 2 && w.alone_s.len() == 2,
        "{w:?}"
    );
    let warnings = rep.summary.run_warnings();
    assert!(
        warnings
            .iter()
            .any(|x| x.contains("too short to reach steady state")),
        "{warnings:?}"
    );
    let json = serde_json::to_string(&rep.summary).expect("serializes");
    assert!(
        json.contains("\"auto_warmup\"") && json.contains("alone_s"),
        "{json}"
    );
}

/// The warm-up only moves the recorder's window: a run with a warm-up has the same trajectory
/// (every bucket's arrivals, completions, errors, gauges) as the pilot without one, in every
/// shipped scenario, so the second run of `warmup = "auto"` measures the pilot's trajectory.
#[test]
fn r15_the_warmup_does_not_change_the_trajectory() {
    for file in crate::common::all_sims() {
        let l = crate::common::load_short(&file, "40s", "0s", &[]);
        for s in &l.strategies {
            let mut sys = s.scenario.system.clone();
            let a = System::new(&sys, 3).run();
            sys.warmup = 17_300_000_000;
            let b = System::new(&sys, 3).run();
            let key = |r: &scalesim::observe::RepStats| -> Vec<(u64, u64, u64, Vec<u64>)> {
                r.buckets
                    .iter()
                    .map(|x| {
                        let g = x.gauges.iter().map(|v| v.to_bits()).collect();
                        (x.arrivals, x.completed, x.errors, g)
                    })
                    .collect()
            };
            assert!(
                key(&a) == key(&b) && a.latency_slots == b.latency_slots,
                "{} / {}: the warm-up changed the trajectory",
                file.display(),
                s.name
            );
        }
    }
}

fn auto_reps(rho: f64, warmup: &str, jobs: usize) -> scalesim::report::summary::Summary {
    let text = mm1(
        rho,
        "20000s",
        &format!("warmup = {warmup}\nreplications = \"auto\"\nmax_replications = 30"),
    );
    run::run(
        &load(&text),
        &RunOptions {
            jobs,
            ..Default::default()
        },
    )
    .summary
}

/// `replications = "auto"` stops earlier when the p99 varies less between replications, says
/// whether it met the target, and gives the same count and results with one thread or two
/// (with `warmup = "auto"` too).
#[test]
fn r15_auto_replications_stop_earlier_at_low_variance_and_are_deterministic() {
    let low = auto_reps(0.3, "\"1000s\"", 2);
    let high = auto_reps(0.95, "\"1000s\"", 2);
    let a = |s: &scalesim::report::summary::Summary| {
        s.auto_replications
            .clone()
            .expect("the summary reports the rule")
    };
    eprintln!(
        "replications: rho 0.3 {} ({:?}), rho 0.95 {} ({:?})",
        low.replications,
        a(&low),
        high.replications,
        a(&high)
    );
    assert!(low.replications < high.replications);
    assert!(a(&low).met && low.replications >= 3);
    let s = &low.strategies[0];
    assert!(s.latency_ms_ci95.p99 <= 0.05 * s.latency_ms.p99);
    let both = auto_reps(0.8, "\"auto\"", 2);
    assert!(both.strategies[0].auto_warmup.is_some());
    assert_eq!(auto_reps(0.8, "\"auto\"", 1), both);
}
