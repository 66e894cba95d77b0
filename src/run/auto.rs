//! `warmup = "auto"` and `replications = "auto"`: the run picks its own warm-up (one per
//! strategy and sweep point) and its own number of replications.
//!
//! # Warm-up
//!
//! Each replication first runs with no warm-up (a pilot). Its latency series is the mean
//! latency of the successful completions per slot of 1/512 to 1/1024 of the horizon
//! ([`RepStats::latency_slots`]). The series of the pilots of one strategy (at one sweep
//! point) are pooled slot by slot (the latencies of all pilots' completions in the slot over
//! their count), MSER-5 ([`mser5`]) picks the truncation point of the pooled series, and every
//! replication of the strategy runs again from its own seed with that warm-up. The pilots are
//! every replication with a fixed count; with `replications = "auto"`, the first 10 (or
//! `max_replications` if fewer), whether or not the rounds reach them: the same seeds, so the
//! same trajectories as the replications they stand for.
//!
//! Why one warm-up per strategy from the pooled series rather than one per replication from
//! its own: MSER-5 on a single replication of a busy queue confuses the random excursions of
//! the queue (at utilization 0.95, busy periods of thousands of seconds) with the initial
//! transient, and it preferentially deletes a high early excursion. That choice depends on the
//! data it truncates, which biases the result: on an M/M/1 at rho 0.95 started empty (20
//! replications of 100,000 s, W = 20 s), per-replication MSER-5 chose from 0 to 39,000 s and
//! gave a mean response of 18.57 s ± 0.95 against 20.08 s ± 1.68 without truncation: further
//! from the closed form than not truncating. Pooling averages the excursions out (they are
//! independent across replications) while the transient, the same in every replication, stays;
//! this is Welch's procedure of averaging replications before choosing the warm-up (Law,
//! *Simulation Modeling and Analysis*, 5th ed., §9.5.1), with MSER-5 choosing instead of the
//! eye. Each pilot's own MSER-5 choice is still reported, as a diagnostic of the spread. Pooled
//! over 30 replications of 8,000 s (ten seeds, `tests/it/auto.rs`), the warm-up averages 69 s
//! at rho 0.5 and 1,069 s at rho 0.95, and at 0.95 the mean over the seeds is 15 ms from
//! W = 20 s truncated against 561 ms below it untruncated.
//!
//! The simulation is deterministic and the warm-up only moves the recorder's window (the
//! model's trajectory does not depend on it; a test checks every shipped scenario), so the
//! second run is the pilot's trajectory measured from the truncation point: every figure
//! (percentiles, components, costs) is exactly what a fixed warm-up of that length gives. This
//! costs a second run of every replication; a one-pass scheme would need every figure
//! (histograms, component areas, cache and pool counters) kept per slot, far more memory and
//! code for an optional feature.
//!
//! Why latency by completion time: it is the figure the results are about, every scenario
//! has it, and by completion time it has no censoring at the end (by arrival time the last
//! slots would lack the slow requests still in flight, a downward drift MSER would read as a
//! transient). Failures are left out (a timeout's latency is its deadline, not a response);
//! slots without completions are skipped rather than filled in. The slots are finer than the
//! plot buckets and independent of `bucket`, so MSER-5's batches of 5 still leave a fine
//! choice of truncation points.
//!
//! # Replications
//!
//! The replications of every strategy and sweep point run in rounds. After each round, for
//! every strategy at every point and every figure of `precision_metrics`, the Student-t 95 %
//! half-width over the replications so far is compared with `precision` times the mean. The
//! run stops when every one is within, or at `max_replications`. Otherwise the next count is
//! the smallest `n` for which the current spread would meet the target, `t(n-1) · s / sqrt(n)
//! <= precision · mean` (Law, *Simulation Modeling and Analysis*, 5th ed., §9.4.1, the
//! sequential procedure), but at most twice the current count (a spread estimated from three
//! replications is itself rough) and at most the maximum.
//!
//! One count holds for the whole run, not one per strategy: the comparison with the first
//! strategy pairs replication `i` of both (common random numbers), which needs equal counts,
//! and a sweep's curves should compare like with like. The strategy or point with the widest
//! interval decides; the summary says which, and whether the target was met. The decisions
//! depend only on the results of the replications, which depend only on their seeds, so the
//! count (and everything else) is the same for any `--jobs`.

use super::metrics::{LATENCY_KEYS, RepMetrics};
use crate::observe::RepStats;
use crate::report::summary::{AutoReplicationsSummary, AutoWarmupSummary};
use crate::scenario::AutoReplications;
use crate::stats::ci::{t_interval, t_quantile};
use crate::stats::mser::mser5;

const LEVEL: f64 = 0.95;

/// A pilot replication's latency series (see [`RepStats::latency_slots`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Pilot {
    slots: Vec<(f64, u64)>,
    slot_ns: u64,
    end_ns: u64,
}

impl Pilot {
    /// The series of `stats`, a replication run with no warm-up.
    pub fn of(stats: &RepStats) -> Pilot {
        Pilot {
            slots: stats.latency_slots.clone(),
            slot_ns: stats.slot_ns,
            end_ns: stats.end_ns,
        }
    }
}

/// A warm-up MSER-5 chose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChosenWarmup {
    /// Deleted from the start, ns.
    pub warmup_ns: u64,
    /// The series had not settled by half the run.
    pub too_short: bool,
}

/// The warm-up of a strategy: from its pooled pilots, and each pilot's own choice.
#[derive(Debug, Clone, PartialEq)]
pub struct Warmup {
    /// What every replication deletes.
    pub pooled: ChosenWarmup,
    /// What MSER-5 on each pilot alone would delete (a diagnostic).
    pub alone: Vec<ChosenWarmup>,
}

/// MSER-5 on the series of `pilots` pooled slot by slot, and on each alone.
pub fn choose(pilots: &[Pilot]) -> Warmup {
    let Some(first) = pilots.first() else {
        return Warmup {
            pooled: ChosenWarmup {
                warmup_ns: 0,
                too_short: false,
            },
            alone: Vec::new(),
        };
    };
    let mut pooled = vec![(0.0, 0); first.slots.len()];
    for p in pilots {
        for (acc, (sum, n)) in pooled.iter_mut().zip(&p.slots) {
            acc.0 += sum;
            acc.1 += n;
        }
    }
    let at = |slots: &[(f64, u64)]| truncate(slots, first.slot_ns, first.end_ns);
    Warmup {
        pooled: at(&pooled),
        alone: pilots.iter().map(|p| at(&p.slots)).collect(),
    }
}

/// MSER-5 on the mean latency of the slots that have completions.
fn truncate(slots: &[(f64, u64)], slot_ns: u64, end_ns: u64) -> ChosenWarmup {
    let (starts, means): (Vec<u64>, Vec<f64>) = slots
        .iter()
        .enumerate()
        .filter(|(_, (_, n))| *n > 0)
        .map(|(i, (sum, n))| (i as u64 * slot_ns, sum / *n as f64))
        .unzip();
    let t = mser5(&means);
    let warmup_ns = if t.index == 0 {
        0
    } else {
        starts[t.index].min(end_ns.saturating_sub(1))
    };
    ChosenWarmup {
        warmup_ns,
        too_short: t.too_short,
    }
}

/// What `summary.json` says about a strategy's warm-up.
pub fn warmup_summary(w: &Warmup) -> AutoWarmupSummary {
    let secs = |c: &ChosenWarmup| c.warmup_ns as f64 / 1e9;
    AutoWarmupSummary {
        warmup_s: secs(&w.pooled),
        too_short: w.pooled.too_short,
        pilots: w.alone.len() as u32,
        alone_s: w.alone.iter().map(secs).collect(),
        alone_too_short: w.alone.iter().filter(|c| c.too_short).count() as u32,
    }
}

/// How far one group (a strategy at a point) is from the target: the widest relative
/// half-width over the figures, which figure, and the replications that figure needs.
struct Gap {
    relative: f64,
    metric: usize,
    needed: u32,
}

fn gap(rule: &AutoReplications, reps: &[RepMetrics]) -> Gap {
    let n = reps.len() as u32;
    let mut worst = Gap {
        relative: 0.0,
        metric: 0,
        needed: n,
    };
    for name in &rule.metrics {
        let k = LATENCY_KEYS.iter().position(|x| x == name).unwrap_or(4);
        let xs: Vec<f64> = reps.iter().map(|r| r.total.latency[k]).collect();
        let i = t_interval(&xs, LEVEL);
        let relative = relative(i.half_width, i.mean);
        if relative > rule.precision {
            let sd = i.half_width * f64::from(n).sqrt()
                / t_quantile(0.5 + LEVEL / 2.0, f64::from(n - 1));
            worst.needed = worst
                .needed
                .max(needed(n, sd, i.mean.abs() * rule.precision, rule.max));
        }
        if relative > worst.relative || (relative.is_nan() && !worst.relative.is_nan()) {
            (worst.relative, worst.metric) = (relative, k);
        }
    }
    worst
}

/// The half-width relative to the mean: 0 when both are 0 (replications that agree exactly),
/// infinite when only the mean is.
fn relative(half_width: f64, mean: f64) -> f64 {
    match (half_width, mean.abs()) {
        (0.0, _) => 0.0,
        (h, m) if m > 0.0 => h / m,
        _ => f64::INFINITY,
    }
}

/// The smallest count above `n` (and at most `max`) whose t half-width with spread `sd` is
/// within `target`.
fn needed(n: u32, sd: f64, target: f64, max: u32) -> u32 {
    (n + 1..=max)
        .find(|&i| {
            t_quantile(0.5 + LEVEL / 2.0, f64::from(i - 1)) * sd / f64::from(i).sqrt() <= target
        })
        .unwrap_or(max)
}

/// After a round: the next replication count, or `None` to stop.
pub fn next_count(rule: &AutoReplications, groups: &[Vec<RepMetrics>]) -> Option<u32> {
    let n = groups.first().map_or(0, |g| g.len() as u32);
    let needed = groups
        .iter()
        .map(|g| gap(rule, g).needed)
        .max()
        .unwrap_or(n);
    (n < rule.max && needed > n).then(|| needed.min(2 * n).min(rule.max))
}

/// What `summary.json` says about the stopping rule; `labels` name the groups.
pub fn replications_summary(
    rule: &AutoReplications,
    groups: &[Vec<RepMetrics>],
    labels: &[String],
) -> AutoReplicationsSummary {
    let mut worst = (0.0, String::new());
    for (g, label) in groups.iter().zip(labels) {
        let gap = gap(rule, g);
        if gap.relative > worst.0 || worst.1.is_empty() {
            worst = (
                gap.relative,
                format!("{label}, {}", LATENCY_KEYS[gap.metric]),
            );
        }
    }
    AutoReplicationsSummary {
        max: rule.max,
        precision: rule.precision,
        metrics: rule.metrics.clone(),
        met: worst.0 <= rule.precision,
        worst_relative_half_width: worst.0.is_finite().then_some(worst.0),
        worst_at: worst.1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_needed_shrinks_the_half_width_below_the_target() {
        // sd 10, mean 100, 5 %: t(n-1) · 10 / sqrt(n) <= 5 first at n = 18.
        assert_eq!(needed(3, 10.0, 5.0, 100), 18);
        assert_eq!(needed(3, 10.0, 5.0, 10), 10);
        assert_eq!(needed(3, 0.0, 5.0, 10), 4);
    }

    /// A pilot of 1000 slots of 1 s: `f(slot)` ms of latency over 10 completions, but none
    /// in every seventh slot.
    fn pilot(f: impl Fn(usize) -> f64) -> Pilot {
        let slots = (0..1000)
            .map(|i| {
                if i % 7 == 3 {
                    (0.0, 0)
                } else {
                    (10.0 * f(i) * 1e6, 10)
                }
            })
            .collect();
        Pilot {
            slots,
            slot_ns: 1_000_000_000,
            end_ns: 1_000_000_000_000,
        }
    }

    #[test]
    fn pooled_pilots_are_cut_where_the_transient_ends_and_empty_slots_are_skipped() {
        // The same transient (rising to 50 ms by slot 200) in three pilots, with different
        // wiggles after it.
        let pilots: Vec<Pilot> = (0..3)
            .map(|k| {
                pilot(move |i| {
                    let wiggle = ((i * (k + 3)) % 11) as f64 - 5.0;
                    50.0 * (i.min(200) as f64 / 200.0) + wiggle
                })
            })
            .collect();
        let w = choose(&pilots);
        assert!(!w.pooled.too_short && w.alone.len() == 3, "{w:?}");
        let cut = w.pooled.warmup_ns / 1_000_000_000;
        assert!((150..=260).contains(&cut), "{w:?}");
        let ramp = choose(&[pilot(|i| i as f64)]);
        assert!(ramp.pooled.too_short, "{ramp:?}");
        assert_eq!(choose(&[]).pooled.warmup_ns, 0);
    }

    #[test]
    fn relative_half_width_of_exact_agreement_is_zero() {
        assert_eq!(relative(0.0, 0.0), 0.0);
        assert_eq!(relative(1.0, 0.0), f64::INFINITY);
        assert_eq!(relative(1.0, -4.0), 0.25);
    }
}
