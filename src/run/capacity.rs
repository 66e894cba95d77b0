//! Capacity search: the highest load scale at which a strategy still meets its SLOs.
//!
//! For each strategy, bisection on the load scale `k` (arrival rates, or users, multiplied by
//! `k`) between the `[capacity]` bounds, until the bracket is narrower than the tolerance
//! (relative). Each probe runs the scenario's replications with the same seeds, so the search is
//! deterministic; SLO verdicts use the means over replications. A probe runs the scenario's
//! horizon, or `[capacity] duration` when given and shorter (a cheaper search where the
//! steady state comes early). With `warmup = "auto"`, each probe picks its own warm-up from
//! pilot runs, as a run does.

use rayon::prelude::*;

use super::{auto, pilot, replication_seed, simulate, simulate_warm, summarize_strategy};
use crate::report::summary::{Capacity, StrategySummary, Summary};
use crate::scenario::{CapacitySpec, Loaded, Scenario};

fn passes(sc: &Scenario, name: &str, seed: u64, reps: u32) -> bool {
    let warmup = sc.auto_warmup.then(|| {
        let pilots: Vec<_> = (0..reps)
            .into_par_iter()
            .map(|r| pilot(sc, replication_seed(seed, r)))
            .collect();
        auto::choose(&pilots)
    });
    let results: Vec<_> = (0..reps)
        .into_par_iter()
        .map(|r| match &warmup {
            Some(w) => simulate_warm(sc, replication_seed(seed, r), false, w),
            None => simulate(sc, replication_seed(seed, r), false),
        })
        .collect();
    let refs: Vec<_> = results.iter().collect();
    summarize_strategy(name, sc, &refs, None).slo.passed
}

/// Runs the search for every strategy of `loaded`. `done` is the run's own summary, when the
/// search follows it with the same seed and replications: a probe that is the very simulation
/// of a point the run judged (its base point, or a sweep point that scales the load) takes
/// that verdict instead of running again. The answer does not depend on `done` (a sharded
/// run's first shard, which holds only some points, finds what the whole run finds).
pub fn capacity_search(
    loaded: &Loaded,
    spec: &CapacitySpec,
    seed: u64,
    reps: u32,
    done: Option<&Summary>,
) -> Vec<Capacity> {
    loaded
        .strategies
        .par_iter()
        .enumerate()
        .map(|(j, s)| {
            let grid = grid(loaded, done, j, spec);
            let scale = search(&s.scenario, &s.name, spec, seed, reps, &grid);
            Capacity {
                strategy: s.name.clone(),
                max_load_scale: scale,
                max_load: s.scenario.system.load.intensity() * scale,
            }
        })
        .collect()
}

/// The probe at load scale `k`: the scenario scaled, over the search's horizon.
fn probe(sc: &Scenario, spec: &CapacitySpec, k: f64) -> Scenario {
    let mut probe = sc.scaled(k);
    if let Some(d) = spec.duration {
        // Never longer than the scenario's own horizon (a `--set duration=...` wins).
        probe.system.duration = probe.system.duration.min(d);
    }
    probe
}

/// What makes two scenarios the same simulation with the same verdict: the system (seeds are
/// the search's, which are the run's) and what the verdict reads.
fn identity(sc: &Scenario) -> String {
    format!("{:?} {:?} {:?}", sc.system, sc.percentiles, sc.slo)
}

/// Strategy `j`'s points (base and sweep) that are exactly its probe at some scale, as
/// `(scale, the run's verdict if `done` holds it)`, by scale. The run judged each point over
/// its own horizon: a point is a probe only if the search's horizon is the same (the identity
/// includes it). None with `warmup = "auto"`, whose pilots the run may have counted
/// differently.
fn grid(
    loaded: &Loaded,
    done: Option<&Summary>,
    j: usize,
    spec: &CapacitySpec,
) -> Vec<(f64, Option<bool>)> {
    let strategy = &loaded.strategies[j];
    let sc = &strategy.scenario;
    let intensity = sc.system.load.intensity();
    if sc.auto_warmup || intensity <= 0.0 {
        return Vec::new();
    }
    let verdict = |all: &[StrategySummary]| {
        all.iter()
            .find(|s| s.name == strategy.name)
            .map(|s| s.slo.passed)
    };
    let mut points = vec![(sc, done.and_then(|d| verdict(&d.strategies)))];
    if let Some(sw) = &loaded.sweep {
        for (value, row) in sw.values.iter().zip(&sw.points) {
            let point = done.and_then(|d| d.points.iter().find(|p| p.value == *value));
            points.push((&row[j], point.and_then(|p| verdict(&p.strategies))));
        }
    }
    let mut out: Vec<(f64, Option<bool>)> = Vec::new();
    for (point, passed) in points {
        let k = point.system.load.intensity() / intensity;
        if k.is_finite()
            && !out.iter().any(|p| p.0 == k)
            && identity(&probe(sc, spec, k)) == identity(point)
        {
            out.push((k, passed));
        }
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// Bisection on a geometric mid-point, after the bounds and the grid: the grid's scales
/// inside the bounds are tried from the lowest until one fails, which brackets the answer
/// between it and the last that passed (a grid point the run judged costs nothing).
fn search(
    sc: &Scenario,
    name: &str,
    spec: &CapacitySpec,
    seed: u64,
    reps: u32,
    grid: &[(f64, Option<bool>)],
) -> f64 {
    let ok = |k: f64| match grid.iter().find(|p| p.0 == k).and_then(|p| p.1) {
        Some(passed) => passed,
        None => passes(&probe(sc, spec, k), name, seed, reps),
    };
    if ok(spec.to) {
        return spec.to;
    }
    if !ok(spec.from) {
        return 0.0;
    }
    let (mut lo, mut hi) = (spec.from, spec.to);
    for &(k, _) in grid.iter().filter(|p| spec.from < p.0 && p.0 < spec.to) {
        if ok(k) {
            lo = k;
        } else {
            hi = k;
            break;
        }
    }
    while (hi - lo) / lo > spec.tolerance {
        let mid = (lo * hi).sqrt();
        if ok(mid) { lo = mid } else { hi = mid }
    }
    lo
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::run::{RunOptions, run};
    use crate::scenario::load_str;

    /// An M/M/1 queue (10 ms) whose arrival rate the sweep scales 1x, 2x, 3x and 5x, with a
    /// p99 SLO that fails somewhere between 60 and 100 requests/s.
    const TEXT: &str = r#"
name = "capacity-reuse"
duration = "2m"
warmup = "10s"
seed = 7
replications = 2
[params]
rate = 20
[workload]
type = "poisson"
rate = "$rate"
[classes.get]
path = ["db"]
[stations.db]
service = { dist = "exponential", mean = "10ms" }
[slo]
p99 = "150ms"
[sweep]
param = "rate"
values = [20, 40, 60, 100]
[capacity]
from = 1.0
to = 6.0
tolerance = 0.05
"#;

    #[test]
    fn the_runs_verdicts_are_the_probes_own_and_leave_the_answer_unchanged() {
        let loaded = load_str(TEXT, Path::new("capacity-reuse.toml"), &[]).expect("loads");
        let spec = loaded.capacity.expect("a capacity search");
        let opts = RunOptions {
            jobs: 1,
            ..RunOptions::default()
        };
        let report = run(&loaded, &opts);
        let sc = &loaded.strategies[0].scenario;
        let grid = grid(&loaded, Some(&report.summary), 0, &spec);
        let scales: Vec<f64> = grid.iter().map(|p| p.0).collect();
        assert_eq!(
            scales,
            [1.0, 2.0, 3.0, 5.0],
            "the base point and each sweep point"
        );
        for &(k, passed) in &grid {
            let fresh = passes(&probe(sc, &spec, k), "base", loaded.base.seed, 2);
            assert_eq!(
                passed,
                Some(fresh),
                "the run's verdict at {k}x is the probe's"
            );
        }
        assert!(
            grid.iter().any(|p| p.1 == Some(true)) && grid.iter().any(|p| p.1 == Some(false)),
            "{grid:?}"
        );
        // Without the run, the same grid with no verdicts: probes find them.
        let bare = super::grid(&loaded, None, 0, &spec);
        assert_eq!(bare.iter().map(|p| p.0).collect::<Vec<_>>(), scales);
        assert!(bare.iter().all(|p| p.1.is_none()));

        let seed = loaded.base.seed;
        let with =
            capacity_search(&loaded, &spec, seed, 2, Some(&report.summary))[0].max_load_scale;
        let without = capacity_search(&loaded, &spec, seed, 2, None)[0].max_load_scale;
        assert_eq!(
            with, without,
            "the run's verdicts save probes, never change the answer"
        );
        // The answer passes and lies below the lowest failing grid point.
        let lowest_fail = grid
            .iter()
            .filter(|p| p.1 == Some(false))
            .map(|p| p.0)
            .fold(f64::MAX, f64::min);
        assert!(with < lowest_fail, "{with} >= {lowest_fail}");
        assert!(passes(&probe(sc, &spec, with), "base", seed, 2));
    }

    /// A search over a shorter horizon than the run's cannot take the run's verdicts.
    #[test]
    fn a_shorter_search_horizon_takes_no_verdict_from_the_run() {
        let text = TEXT.replace("tolerance = 0.05", "tolerance = 0.05\nduration = \"1m\"");
        let loaded = load_str(&text, Path::new("capacity-reuse.toml"), &[]).expect("loads");
        let spec = loaded.capacity.expect("a capacity search");
        let report = run(
            &loaded,
            &RunOptions {
                jobs: 1,
                ..RunOptions::default()
            },
        );
        assert!(grid(&loaded, Some(&report.summary), 0, &spec).is_empty());
    }
}
