//! Running scenarios: replications and sweep points in parallel, then statistics, SLOs and cost.
//!
//! Every (sweep point, strategy, replication) is an independent task with its own seed, derived
//! from the root seed and the replication index only, so all strategies of one replication see
//! the same arrivals (common random numbers). Tasks run on a rayon pool and their results are
//! collected in task order, so the output is bit-identical for any number of threads. Each task
//! reduces its replication to compact [`RepMetrics`] at once, so memory does not grow with the
//! number of requests or of tasks' histograms.

mod aggregate;
mod capacity;
pub mod dry_run;
mod metrics;
mod shard;
pub mod validate;

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::engine::stream_seed;
use crate::model::System;
use crate::report::summary::{Report, SweepPoint};
use crate::scenario::{Loaded, Scenario, Sweep};

pub use aggregate::{apply_slo_and_cost, summarize_strategy, summary_for};
pub use capacity::capacity_search;
pub use metrics::{Metrics, RepMetrics};
pub use shard::{Shard, merge_reports};

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Worker threads (0: all cores).
    pub jobs: usize,
    /// Override of the scenario's replications.
    pub replications: Option<u32>,
    /// Override of the scenario's seed.
    pub seed: Option<u64>,
    /// Report progress on stderr: a bar on a terminal, else a line every few seconds
    /// ([`PROGRESS_EVERY`]), so a log or CI shows that a long run is alive.
    pub progress: bool,
    /// Run only this shard of the sweep points.
    pub shard: Option<Shard>,
}

/// The seed of replication `r` of a run seeded with `root`.
pub fn replication_seed(root: u64, r: u32) -> u64 {
    stream_seed(root, &format!("replication/{r}"))
}

/// Simulates one replication of `scenario` and reduces it to metrics.
pub fn simulate(scenario: &Scenario, seed: u64, keep_detail: bool) -> RepMetrics {
    let stats = System::new(&scenario.system, seed).run();
    RepMetrics::from_stats(&stats, &scenario.percentiles, keep_detail)
}

struct Task<'a> {
    point: Option<usize>,
    strategy: usize,
    rep: u32,
    scenario: &'a Scenario,
}

/// Runs every strategy (and sweep point) of `loaded` and builds the report.
pub fn run(loaded: &Loaded, opts: &RunOptions) -> Report {
    let seed = opts.seed.unwrap_or(loaded.base.seed);
    let reps = opts.replications.unwrap_or(loaded.base.replications).max(1);
    let tasks = tasks(loaded, reps, opts.shard);
    let bar = progress_bar(
        opts.progress && std::io::stderr().is_terminal(),
        tasks.len(),
    );
    let lines = opts.progress && bar.is_none();
    let done = AtomicUsize::new(0);
    let finished = AtomicBool::new(false);
    let run_all = || -> Vec<RepMetrics> {
        tasks
            .par_iter()
            .map(|t| {
                let m = simulate(t.scenario, replication_seed(seed, t.rep), t.point.is_none());
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if let Some(b) = &bar {
                    b.set_position(n as u64);
                }
                m
            })
            .collect()
    };
    let results = std::thread::scope(|scope| {
        if lines {
            scope.spawn(|| progress_lines(&done, tasks.len(), &finished));
        }
        let results = with_pool(opts.jobs, run_all);
        finished.store(true, Ordering::Relaxed);
        results
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    assemble(loaded, &tasks, results, seed, reps, opts.shard)
}

fn tasks(loaded: &Loaded, reps: u32, shard: Option<Shard>) -> Vec<Task<'_>> {
    let mut out = Vec::new();
    if shard.is_none_or(|s| s.index == 0) {
        for (j, s) in loaded.strategies.iter().enumerate() {
            out.extend((0..reps).map(|rep| Task {
                point: None,
                strategy: j,
                rep,
                scenario: &s.scenario,
            }));
        }
    }
    if let Some(sw) = &loaded.sweep {
        for (i, row) in owned_points(sw, shard) {
            for (j, sc) in row.iter().enumerate() {
                out.extend((0..reps).map(|rep| Task {
                    point: Some(i),
                    strategy: j,
                    rep,
                    scenario: sc,
                }));
            }
        }
    }
    out
}

fn assemble(
    loaded: &Loaded,
    tasks: &[Task<'_>],
    results: Vec<RepMetrics>,
    seed: u64,
    reps: u32,
    shard: Option<Shard>,
) -> Report {
    let group = |point: Option<usize>, j: usize| -> Vec<&RepMetrics> {
        tasks
            .iter()
            .zip(&results)
            .filter(|(t, _)| t.point == point && t.strategy == j)
            .map(|(_, m)| m)
            .collect()
    };
    let names: Vec<&str> = loaded.strategies.iter().map(|s| s.name.as_str()).collect();
    let base: Vec<Vec<&RepMetrics>> = (0..names.len()).map(|j| group(None, j)).collect();
    let mut report = summary_for(loaded, &names, &base, seed, reps);
    if shard.is_some_and(|s| s.index > 0) {
        // The base point belongs to shard 0; the other shards carry sweep points only.
        report.summary.strategies.clear();
        report.timeseries.clear();
        report.cdfs.clear();
    }
    if let Some(sw) = &loaded.sweep {
        for (i, row) in owned_points(sw, shard) {
            let per: Vec<Vec<&RepMetrics>> = (0..row.len()).map(|j| group(Some(i), j)).collect();
            let strategies = names
                .iter()
                .zip(row)
                .zip(&per)
                .map(|((n, sc), reps)| {
                    summarize_strategy(n, sc, reps, per.first().map(|b| (names[0], b.as_slice())))
                })
                .collect();
            report.summary.points.push(SweepPoint {
                parameter: sw.param.clone(),
                value: sw.values[i],
                strategies,
            });
        }
        if let Some(limit) = loaded.base.slo.max_cost_growth {
            report.summary.cost_growth = aggregate::cost_growth(&report.summary.points, limit);
        }
    }
    report
}

/// The sweep points (index, strategies) that `shard` runs: all of them without a shard.
fn owned_points(sw: &Sweep, shard: Option<Shard>) -> impl Iterator<Item = (usize, &Vec<Scenario>)> {
    let n = sw.points.len();
    sw.points
        .iter()
        .enumerate()
        .filter(move |(i, _)| shard.is_none_or(|s| s.range(n).contains(i)))
}

/// Runs `f` on a rayon pool of `jobs` threads (0: rayon's default).
pub fn with_pool<T: Send>(jobs: usize, f: impl FnOnce() -> T + Send) -> T {
    match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(pool) => pool.install(f),
        Err(_) => f(),
    }
}

/// How often [`progress_lines`] reports.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Writes `progress: d/n replications, t s` on stderr every [`PROGRESS_EVERY`] until
/// `finished` (for stderr that is not a terminal, where a bar would be noise).
fn progress_lines(done: &AtomicUsize, n: usize, finished: &AtomicBool) {
    let start = Instant::now();
    let mut next = PROGRESS_EVERY;
    while !finished.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        if start.elapsed() >= next && !finished.load(Ordering::Relaxed) {
            let d = done.load(Ordering::Relaxed);
            let t = start.elapsed().as_secs();
            eprintln!("progress: {d}/{n} replications done, {t} s elapsed");
            next += PROGRESS_EVERY;
        }
    }
}

fn progress_bar(show: bool, n: usize) -> Option<indicatif::ProgressBar> {
    if !show {
        return None;
    }
    let bar = indicatif::ProgressBar::new(n as u64);
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} {pos}/{len} replications [{elapsed}] {wide_bar}",
    );
    if let Ok(s) = style {
        bar.set_style(s);
    }
    Some(bar)
}
