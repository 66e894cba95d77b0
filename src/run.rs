//! Running scenarios: replications and sweep points in parallel, then statistics, SLOs and cost.
//!
//! Every (sweep point, strategy, replication) is an independent task with its own seed, derived
//! from the root seed and the replication index only, so all strategies of one replication see
//! the same arrivals (common random numbers). Tasks run on a rayon pool and their results are
//! collected in task order, so the output is bit-identical for any number of threads. Each task
//! reduces its replication to compact [`RepMetrics`] at once, so memory does not grow with the
//! number of requests or of tasks' histograms.
//!
//! `warmup = "auto"` adds a pilot run of each replication before it, and `replications =
//! "auto"` runs the replications in rounds until they are precise enough ([`auto`]); both keep
//! the results independent of the number of threads.

mod aggregate;
pub mod auto;
mod capacity;
pub mod dry_run;
mod metrics;
mod shard;
pub mod study;
pub mod validate;

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::engine::stream_seed;
use crate::model::System;
use crate::report::summary::{LoadPoint, Report, SweepPoint};
use crate::scenario::{Loaded, Scenario, Sweep};

pub use aggregate::{apply_slo_and_cost, cost_items, summarize_strategy, summary_for};
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

/// Simulates one replication of `scenario` and reduces it to metrics (with the scenario's
/// warm-up: 0 for `warmup = "auto"`, see [`simulate_warm`]).
pub fn simulate(scenario: &Scenario, seed: u64, keep_detail: bool) -> RepMetrics {
    let stats = System::new(&scenario.system, seed).run();
    RepMetrics::from_stats(&stats, &scenario.percentiles, keep_detail)
}

/// [`simulate`] with the warm-up `warmup = "auto"` chose for the scenario ([`auto::choose`]).
pub fn simulate_warm(
    scenario: &Scenario,
    seed: u64,
    keep_detail: bool,
    warmup: &auto::Warmup,
) -> RepMetrics {
    let mut system = scenario.system.clone();
    system.warmup = warmup.pooled.warmup_ns;
    let stats = System::new(&system, seed).run();
    let mut m = RepMetrics::from_stats(&stats, &scenario.percentiles, keep_detail);
    m.auto_warmup = Some(warmup.clone());
    m
}

/// The pilot run of one replication of a `warmup = "auto"` scenario: no warm-up, and only
/// its latency series kept.
pub fn pilot(scenario: &Scenario, seed: u64) -> auto::Pilot {
    auto::Pilot::of(&System::new(&scenario.system, seed).run())
}

/// Where a group runs: the base point, a sweep point or a named load.
#[derive(Debug, Clone, Copy, PartialEq)]
enum At {
    Base,
    Point(usize),
    Load(usize),
}

/// A strategy at the base point, a sweep point or a load: the replications of one figure.
struct Group<'a> {
    at: At,
    strategy: usize,
    scenario: &'a Scenario,
}

/// Replication `rep` of group `group`.
struct Task {
    group: usize,
    rep: u32,
}

/// Runs every strategy (and sweep point) of `loaded` and builds the report.
///
/// With `replications = "auto"` (and no `--replications`), the replications run in rounds
/// until the stopping rule of [`auto`] is met; every round's tasks are collected in task
/// order, so the count and the results are the same for any number of threads.
pub fn run(loaded: &Loaded, opts: &RunOptions) -> Report {
    let seed = opts.seed.unwrap_or(loaded.base.seed);
    let rule = loaded
        .base
        .auto_replications
        .as_ref()
        .filter(|_| opts.replications.is_none());
    let mut reps = opts.replications.unwrap_or(loaded.base.replications).max(1);
    let groups = groups(loaded, opts.shard);
    let progress = Progress::new(opts.progress);
    let mut results: Vec<Vec<RepMetrics>> = groups.iter().map(|_| Vec::new()).collect();
    // With a fixed count, a group that runs the same simulation as an earlier one takes its
    // results instead of running them again.
    let twins = if rule.is_none() {
        twins(&groups)
    } else {
        vec![None; groups.len()]
    };
    progress.run(|| {
        // With `replications = "auto"`, more pilots than the first round: three pooled series
        // are too few to average a busy queue's excursions out.
        let pilots = rule.map_or(reps, |r| reps.max(r.max.min(AUTO_PILOTS)));
        let warmups = warmups(&groups, seed, pilots, opts.jobs, &progress);
        let mut have = 0;
        loop {
            let round: Vec<Task> = (0..groups.len())
                .filter(|&g| twins[g].is_none())
                .flat_map(|group| (have..reps).map(move |rep| Task { group, rep }))
                .collect();
            progress.add(round.len());
            let out: Vec<RepMetrics> = with_pool(opts.jobs, || {
                round
                    .par_iter()
                    .map(|t| {
                        let g = &groups[t.group];
                        let (sc, detail) = (g.scenario, g.at == At::Base);
                        let seed = replication_seed(seed, t.rep);
                        let m = match &warmups[t.group] {
                            Some(w) => simulate_warm(sc, seed, detail, w),
                            None => simulate(sc, seed, detail),
                        };
                        progress.done_one();
                        m
                    })
                    .collect()
            });
            for (t, m) in round.iter().zip(out) {
                results[t.group].push(m);
            }
            for (g, twin) in twins.iter().enumerate() {
                if let Some(a) = *twin {
                    let detail = groups[g].at == At::Base;
                    let copies: Vec<RepMetrics> = results[a][have as usize..]
                        .iter()
                        .map(|m| m.with_detail(detail))
                        .collect();
                    results[g].extend(copies);
                }
            }
            have = reps;
            match rule.and_then(|r| auto::next_count(r, &results)) {
                Some(n) => reps = n,
                None => break,
            }
        }
    });
    let mut report = assemble(loaded, &groups, &results, seed, reps, opts.shard);
    if let Some(r) = rule {
        let labels: Vec<String> = groups.iter().map(|g| label(loaded, g)).collect();
        report.summary.auto_replications = Some(auto::replications_summary(r, &results, &labels));
    }
    report
}

/// For each group, an earlier group that runs the very same simulations (the base point and
/// a sweep point at the base value, for the same strategy), if any. Replications are a pure
/// function of (system, seed), so its results are this group's. Only the base point keeps
/// detail, so a twin is always a base group and its copies drop the detail.
fn twins(groups: &[Group<'_>]) -> Vec<Option<usize>> {
    let key = |g: &Group<'_>| {
        let sc = g.scenario;
        (!sc.auto_warmup).then(|| format!("{:?} {:?}", sc.system, sc.percentiles))
    };
    let bases: Vec<(usize, Option<String>)> = (0..groups.len())
        .filter(|&a| groups[a].at == At::Base)
        .map(|a| (a, key(&groups[a])))
        .collect();
    groups
        .iter()
        .map(|g| {
            if !matches!(g.at, At::Point(_)) {
                return None;
            }
            let mine = key(g)?;
            bases
                .iter()
                .find(|(a, k)| groups[*a].strategy == g.strategy && k.as_ref() == Some(&mine))
                .map(|(a, _)| *a)
        })
        .collect()
}

/// Pilot replications of `warmup = "auto"` with `replications = "auto"` (or `max_replications`
/// if fewer); with a fixed count, every replication is a pilot.
const AUTO_PILOTS: u32 = 10;

/// For each group of a `warmup = "auto"` scenario, the warm-up MSER-5 picks from the pooled
/// series of `reps` pilot replications (run in parallel, collected in task order).
fn warmups(
    groups: &[Group<'_>],
    seed: u64,
    reps: u32,
    jobs: usize,
    progress: &Progress,
) -> Vec<Option<auto::Warmup>> {
    let pilots: Vec<Task> = (0..groups.len())
        .filter(|&g| groups[g].scenario.auto_warmup)
        .flat_map(|group| (0..reps).map(move |rep| Task { group, rep }))
        .collect();
    progress.add(pilots.len());
    let series: Vec<auto::Pilot> = with_pool(jobs, || {
        pilots
            .par_iter()
            .map(|t| {
                let p = pilot(groups[t.group].scenario, replication_seed(seed, t.rep));
                progress.done_one();
                p
            })
            .collect()
    });
    (0..groups.len())
        .map(|g| {
            let mine: Vec<auto::Pilot> = pilots
                .iter()
                .zip(&series)
                .filter(|(t, _)| t.group == g)
                .map(|(_, p)| p.clone())
                .collect();
            (!mine.is_empty()).then(|| auto::choose(&mine))
        })
        .collect()
}

/// The strategy's name, and the sweep point's value if any.
fn label(loaded: &Loaded, g: &Group<'_>) -> String {
    let name = &loaded.strategies[g.strategy].name;
    match (g.at, &loaded.sweep) {
        (At::Point(i), Some(sw)) => format!("{name} at {} = {}", sw.param, sw.values[i]),
        (At::Load(l), _) => format!("{name} at load {}", loaded.loads[l].name),
        _ => name.clone(),
    }
}

fn groups(loaded: &Loaded, shard: Option<Shard>) -> Vec<Group<'_>> {
    let mut out = Vec::new();
    let first = shard.is_none_or(|s| s.index == 0);
    if first {
        for (j, s) in loaded.strategies.iter().enumerate() {
            out.push(Group {
                at: At::Base,
                strategy: j,
                scenario: &s.scenario,
            });
        }
    }
    if let Some(sw) = &loaded.sweep {
        for (i, row) in owned_points(sw, shard) {
            for (j, sc) in row.iter().enumerate() {
                out.push(Group {
                    at: At::Point(i),
                    strategy: j,
                    scenario: sc,
                });
            }
        }
    }
    // Named loads belong to the first shard, as the base point does.
    if first {
        for (l, load) in loaded.loads.iter().enumerate() {
            for (j, sc) in load.points.iter().enumerate() {
                out.push(Group {
                    at: At::Load(l),
                    strategy: j,
                    scenario: sc,
                });
            }
        }
    }
    out
}

fn assemble(
    loaded: &Loaded,
    groups: &[Group<'_>],
    results: &[Vec<RepMetrics>],
    seed: u64,
    reps: u32,
    shard: Option<Shard>,
) -> Report {
    let group = |at: At, j: usize| -> Vec<&RepMetrics> {
        groups
            .iter()
            .zip(results)
            .find(|(g, _)| g.at == at && g.strategy == j)
            .map(|(_, r)| r.iter().collect())
            .unwrap_or_default()
    };
    let names: Vec<&str> = loaded.strategies.iter().map(|s| s.name.as_str()).collect();
    let base: Vec<Vec<&RepMetrics>> = (0..names.len()).map(|j| group(At::Base, j)).collect();
    let mut report = summary_for(loaded, &names, &base, seed, reps);
    if shard.is_some_and(|s| s.index > 0) {
        // The base point belongs to shard 0; the other shards carry sweep points only.
        report.summary.strategies.clear();
        report.timeseries.clear();
        report.cdfs.clear();
    }
    if let Some(sw) = &loaded.sweep {
        for (i, row) in owned_points(sw, shard) {
            let per: Vec<Vec<&RepMetrics>> =
                (0..row.len()).map(|j| group(At::Point(i), j)).collect();
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
    if shard.is_none_or(|s| s.index == 0) {
        let mut held = Vec::new();
        for (l, load) in loaded.loads.iter().enumerate() {
            let per: Vec<Vec<&RepMetrics>> =
                (0..names.len()).map(|j| group(At::Load(l), j)).collect();
            let strategies = names
                .iter()
                .zip(&load.points)
                .zip(&per)
                .map(|((n, sc), reps)| {
                    summarize_strategy(n, sc, reps, per.first().map(|b| (names[0], b.as_slice())))
                })
                .collect();
            report.summary.loads.push(LoadPoint {
                name: load.name.clone(),
                description: load.description.clone(),
                strategies,
            });
            held.extend(
                per.into_iter()
                    .enumerate()
                    .map(|(j, reps)| study::LoadReps {
                        load: l,
                        strategy: j,
                        reps,
                    }),
            );
        }
        if study::wanted(loaded) {
            report.summary.study = Some(study::judge(loaded, &report.summary, &held));
            study::finish(loaded, &mut report.summary);
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

/// How often [`Progress`] reports on a stderr that is not a terminal.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Progress on stderr: a bar on a terminal, else `progress: d/n replications done, t s
/// elapsed` every [`PROGRESS_EVERY`], so a log or CI shows that a long run is alive. The total
/// grows as rounds of `replications = "auto"` are added.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    done: AtomicUsize,
    total: AtomicUsize,
    finished: AtomicBool,
}

impl Progress {
    fn new(show: bool) -> Progress {
        let terminal = show && std::io::stderr().is_terminal();
        Progress {
            bar: progress_bar(terminal),
            lines: show && !terminal,
            done: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
            finished: AtomicBool::new(false),
        }
    }

    /// Runs `f`, reporting meanwhile.
    fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let out = std::thread::scope(|scope| {
            if self.lines {
                scope.spawn(|| self.report_lines());
            }
            let out = f();
            self.finished.store(true, Ordering::Relaxed);
            out
        });
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        out
    }

    /// `n` more replications to run.
    fn add(&self, n: usize) {
        let total = self.total.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(b) = &self.bar {
            b.set_length(total as u64);
        }
    }

    fn done_one(&self) {
        let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(b) = &self.bar {
            b.set_position(n as u64);
        }
    }

    fn report_lines(&self) {
        let start = Instant::now();
        let mut next = PROGRESS_EVERY;
        while !self.finished.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            if start.elapsed() >= next && !self.finished.load(Ordering::Relaxed) {
                let d = self.done.load(Ordering::Relaxed);
                let n = self.total.load(Ordering::Relaxed);
                let t = start.elapsed().as_secs();
                eprintln!("progress: {d}/{n} replications done, {t} s elapsed");
                next += PROGRESS_EVERY;
            }
        }
    }
}

fn progress_bar(show: bool) -> Option<indicatif::ProgressBar> {
    if !show {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} {pos}/{len} replications [{elapsed}] {wide_bar}",
    );
    if let Ok(s) = style {
        bar.set_style(s);
    }
    Some(bar)
}
