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
use crate::report::summary::Capacity;
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

/// Runs the search for every strategy of `loaded`.
pub fn capacity_search(
    loaded: &Loaded,
    spec: &CapacitySpec,
    seed: u64,
    reps: u32,
) -> Vec<Capacity> {
    loaded
        .strategies
        .par_iter()
        .map(|s| {
            let scale = search(&s.scenario, &s.name, spec, seed, reps);
            Capacity {
                strategy: s.name.clone(),
                max_load_scale: scale,
                max_load: s.scenario.system.load.intensity() * scale,
            }
        })
        .collect()
}

fn search(sc: &Scenario, name: &str, spec: &CapacitySpec, seed: u64, reps: u32) -> f64 {
    let ok = |k: f64| {
        let mut probe = sc.scaled(k);
        if let Some(d) = spec.duration {
            // Never longer than the scenario's own horizon (a `--set duration=...` wins).
            probe.system.duration = probe.system.duration.min(d);
        }
        passes(&probe, name, seed, reps)
    };
    if ok(spec.to) {
        return spec.to;
    }
    if !ok(spec.from) {
        return 0.0;
    }
    let (mut lo, mut hi) = (spec.from, spec.to);
    while (hi - lo) / lo > spec.tolerance {
        let mid = (lo * hi).sqrt();
        if ok(mid) { lo = mid } else { hi = mid }
    }
    lo
}
