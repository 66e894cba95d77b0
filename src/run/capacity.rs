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
/// that verdict instead of running again.
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
            let known = done.map(|d| known(loaded, d, j, spec)).unwrap_or_default();
            let scale = search(&s.scenario, &s.name, spec, seed, reps, &known);
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

/// Verdicts the run already holds for strategy `j`, as `(scale, passed)`: each of its points
/// (base and sweep) that is exactly the probe at some scale. Not with `warmup = "auto"`, whose
/// pilots the run may have counted differently.
fn known(loaded: &Loaded, done: &Summary, j: usize, spec: &CapacitySpec) -> Vec<(f64, bool)> {
    let sc = &loaded.strategies[j].scenario;
    let intensity = sc.system.load.intensity();
    if sc.auto_warmup || intensity <= 0.0 {
        return Vec::new();
    }
    let name = &loaded.strategies[j].name;
    fn ours<'a>(all: &'a [StrategySummary], name: &str) -> Option<&'a StrategySummary> {
        all.iter().find(|s| s.name == name)
    }
    let mut points: Vec<(&Scenario, Option<&StrategySummary>)> =
        vec![(sc, ours(&done.strategies, name))];
    if let Some(sw) = &loaded.sweep {
        for (value, row) in sw.values.iter().zip(&sw.points) {
            let summary = done.points.iter().find(|p| p.value == *value);
            points.push((&row[j], summary.and_then(|p| ours(&p.strategies, name))));
        }
    }
    let mut out = Vec::new();
    for (point, summary) in points {
        let Some(summary) = summary else { continue };
        let k = point.system.load.intensity() / intensity;
        // The run judged `point` over its own horizon: it is the probe only if the search's
        // horizon is the same (the identity includes it).
        if k.is_finite() && identity(&probe(sc, spec, k)) == identity(point) {
            out.push((k, summary.slo.passed));
        }
    }
    out
}

fn search(
    sc: &Scenario,
    name: &str,
    spec: &CapacitySpec,
    seed: u64,
    reps: u32,
    known: &[(f64, bool)],
) -> f64 {
    let ok = |k: f64| match known.iter().find(|p| p.0 == k) {
        Some(&(_, passed)) => passed,
        None => passes(&probe(sc, spec, k), name, seed, reps),
    };
    if ok(spec.to) {
        return spec.to;
    }
    if !ok(spec.from) {
        return 0.0;
    }
    let (mut lo, mut hi) = (spec.from, spec.to);
    // Known verdicts inside the bracket narrow it as probes there would have: the lowest
    // failure becomes the top, the highest pass below it the bottom.
    if let Some(f) = known
        .iter()
        .filter(|p| !p.1 && lo < p.0 && p.0 < hi)
        .map(|p| p.0)
        .min_by(f64::total_cmp)
    {
        hi = f;
    }
    if let Some(p) = known
        .iter()
        .filter(|p| p.1 && lo < p.0 && p.0 < hi)
        .map(|p| p.0)
        .max_by(f64::total_cmp)
    {
        lo = p;
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
    fn the_runs_verdicts_are_the_probes_own_and_narrow_the_search() {
        let loaded = load_str(TEXT, Path::new("capacity-reuse.toml"), &[]).expect("loads");
        let spec = loaded.capacity.expect("a capacity search");
        let opts = RunOptions {
            jobs: 1,
            ..RunOptions::default()
        };
        let report = run(&loaded, &opts);
        let sc = &loaded.strategies[0].scenario;
        let known = known(&loaded, &report.summary, 0, &spec);
        let scales: Vec<f64> = known.iter().map(|p| p.0).collect();
        assert_eq!(
            scales,
            [1.0, 1.0, 2.0, 3.0, 5.0],
            "the base point and each sweep point"
        );
        for &(k, passed) in &known {
            let fresh = passes(&probe(sc, &spec, k), "base", loaded.base.seed, 2);
            assert_eq!(passed, fresh, "the run's verdict at {k}x is the probe's");
        }
        assert!(
            known.iter().any(|p| p.1) && known.iter().any(|p| !p.1),
            "{known:?}"
        );

        let seed = loaded.base.seed;
        let with =
            capacity_search(&loaded, &spec, seed, 2, Some(&report.summary))[0].max_load_scale;
        let without = capacity_search(&loaded, &spec, seed, 2, None)[0].max_load_scale;
        // Both bracket the same threshold to within the tolerance.
        let ratio = with / without;
        assert!(
            (1.0 / (1.0 + spec.tolerance)..=1.0 + spec.tolerance).contains(&ratio),
            "with the run's verdicts {with}, without {without}"
        );
        // The answer passes and lies below the lowest known failure.
        let lowest_fail = known
            .iter()
            .filter(|p| !p.1)
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
        assert!(known(&loaded, &report.summary, 0, &spec).is_empty());
    }
}
