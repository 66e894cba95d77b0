//! Every shipped scenario on a short horizon: simulated requests per second of wall time.
//!
//! ```text
//! cargo bench --bench scenarios              # all of them, about six minutes
//! cargo bench --bench scenarios -- caching   # those whose name contains `caching`
//! cargo bench --bench scenarios -- --test    # each once, a few seconds (scripts/test.sh)
//! ```
//!
//! One iteration is what `scalesim run FILE --replications 1 --jobs 1 --set duration=D --set
//! warmup=0s` does for the base point (every strategy, then the summary), without the sweep
//! points, the capacity search and the output files: the same library calls as the command
//! line (`scenario::load`, `run::run`). Throughput is counted in simulated requests (arrivals
//! over all strategies), so criterion reports simulated requests per second of wall time; a
//! slowdown in any pattern shows up in its scenario.
//!
//! The horizon D of each scenario is found once, by simulating: the first of 1 s, 2 s, 4 s, ...
//! (capped at the file's own duration) at which one iteration simulates at least [`TARGET`]
//! requests, then bisected down while a spike makes it more than twice that; so every iteration
//! costs a fraction of a second to a second or so whatever the scenario's load. It is printed
//! with the requests per iteration. The horizons are found for every file even when a filter
//! selects a few (criterion filters after they are registered): about half a minute. In test mode (`--test`, or no `--bench` as
//! under `cargo test`) the target is [`TEST_TARGET`]. The horizon cuts off what a file
//! schedules later (a spike at 10 minutes, a fault): the figures measure the engine and the
//! patterns on the first part of each scenario.
//!
//! Every file of `sims/` runs, `real-*.toml` included (`scalesim run` simulates them too, as
//! the prediction beside a real run); none is skipped, as every one runs in the simulator.
#![allow(missing_docs)]

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput};
use scalesim::run::{self, RunOptions};
use scalesim::scenario::{self, Loaded};

/// Simulated requests per iteration, at least (benchmark mode).
const TARGET: f64 = 300_000.0;
/// The same in test mode.
const TEST_TARGET: f64 = 20_000.0;

/// Every `sims/*.toml`, sorted.
fn sims() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sims");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// `path` over the first `seconds` simulated seconds, without warm-up, sweep or capacity
/// search.
fn short(path: &Path, seconds: u64) -> Loaded {
    let sets = [format!("duration={seconds}s"), "warmup=0s".to_string()];
    let mut loaded = scenario::load(path, &sets)
        .unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()));
    loaded.sweep = None;
    loaded.capacity = None;
    // The rate counts the base point's requests: a study's named loads would run unseen.
    loaded.loads.clear();
    loaded.objectives.clear();
    loaded.checklist.clear();
    loaded
}

fn opts() -> RunOptions {
    RunOptions {
        jobs: 1,
        replications: Some(1),
        ..RunOptions::default()
    }
}

/// One iteration: every strategy once; returns the simulated requests.
fn simulate(loaded: &Loaded) -> f64 {
    let report = run::run(loaded, &opts());
    report.summary.strategies.iter().map(|s| s.requests).sum()
}

/// The horizon (whole seconds, capped at the file's own duration) at which one iteration
/// simulates from `target` to twice as many requests when the load allows, with the scenario
/// loaded over it and its requests per iteration: doubling from 1 s until `target` is reached,
/// then halving the last step while a spike makes it overshoot.
fn horizon(path: &Path, target: f64) -> (u64, Loaded, f64) {
    let own = scenario::load(path, &[])
        .unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()))
        .base
        .system
        .duration
        .div_ceil(1_000_000_000);
    let probe = |seconds: u64| {
        let loaded = short(path, seconds);
        let requests = simulate(&loaded);
        (seconds, loaded, requests)
    };
    let (mut lo, mut hi) = (0, probe(1u64.min(own)));
    while hi.2 < target && hi.0 < own {
        lo = hi.0;
        hi = probe((hi.0 * 2).min(own));
    }
    while hi.2 > 2.0 * target && hi.0 - lo > 1 {
        let mid = probe(lo + (hi.0 - lo) / 2);
        if mid.2 >= target {
            hi = mid;
        } else {
            lo = mid.0;
        }
    }
    hi
}

fn test_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench")
}

fn main() {
    let target = if test_mode() { TEST_TARGET } else { TARGET };
    let mut c = Criterion::default()
        .without_plots()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_secs(1))
        .configure_from_args();
    let mut group = c.benchmark_group("scenarios");
    for path in sims() {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (seconds, loaded, requests) = horizon(&path, target);
        eprintln!("scenarios: {name}: {seconds} s simulated, {requests} requests per iteration");
        group.throughput(Throughput::Elements(requests as u64));
        group.bench_function(&name, |b| b.iter(|| simulate(&loaded)));
    }
    group.finish();
    c.final_summary();
}
