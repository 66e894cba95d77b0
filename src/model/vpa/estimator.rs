//! Upstream's `model/types.go` amounts and `logic/estimator.go` estimators, as plain functions
//! on integer amounts (millicores, bytes) that `recommend` chains the way
//! `logic/recommender.go` wraps its estimators.

use super::config::Millis;
use super::histogram::{go_powi, ns};

/// Upstream's `MaxResourceAmount`, 1e14: every amount is clamped to `0..=1e14`.
pub const MAX_RESOURCE_AMOUNT: i64 = 100_000_000_000_000;

/// Upstream's `resourceAmountFromFloat`: clamp to `[0, 1e14]`, then truncate. NaN becomes 0
/// (Go on amd64 yields `MinInt64`, which the minimum-resource step then replaces; minimums are
/// never negative, so the final bounds agree).
pub(super) fn amount_from_float(x: f64) -> i64 {
    if x > MAX_RESOURCE_AMOUNT as f64 {
        MAX_RESOURCE_AMOUNT
    } else if x < 0.0 {
        0
    } else {
        x as i64
    }
}

/// `CPUAmountFromCores`: millicores from cores.
pub(super) fn cpu_from_cores(cores: f64) -> i64 {
    amount_from_float(cores * 1000.0)
}

/// `CoresFromCPUAmount`: cores from millicores.
pub(super) fn cores_from_cpu(millicores: i64) -> f64 {
    millicores as f64 / 1000.0
}

/// `ScaleResource`: the amount times `factor`, clamped and truncated.
pub(super) fn scale(amount: i64, factor: f64) -> i64 {
    amount_from_float(amount as f64 * factor)
}

/// `cpuMarginEstimator` / `memoryMarginEstimator`: `base + scale(base, fraction)`.
pub(super) fn with_margin(base: i64, fraction: f64) -> i64 {
    base + scale(base, fraction)
}

/// `cpuConfidenceMultiplier`: `scale(base, (1 + multiplier / confidence)^exponent)`, with Go's
/// `Pow` (no history: confidence 0 gives an infinite factor, or 0 for a negative exponent).
pub(super) fn with_confidence(base: i64, multiplier: f64, exponent: i64, confidence: f64) -> i64 {
    scale(base, go_powi(1.0 + multiplier / confidence, exponent))
}

/// `cpuMinResourceEstimator`: at least `min`.
pub(super) fn with_min(base: i64, min: i64) -> i64 {
    base.max(min)
}

/// The CPU samples' history, all the confidence heuristic reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct History {
    /// Start of the earliest CPU sample (`FirstSampleStart`), `None` before any.
    pub(super) first: Option<Millis>,
    /// Start of the latest CPU sample (`LastSampleStart`).
    pub(super) last: Option<Millis>,
    /// Number of CPU samples (`TotalSamplesCount`).
    pub(super) count: u64,
}

/// `getConfidence`: the smaller of the history's span and its sample count, both in units of
/// `interval` (one sample per minute over one interval gives 1).
pub(super) fn confidence(history: &History, interval: Millis) -> f64 {
    let span = match (history.first, history.last) {
        (Some(first), Some(last)) => last.saturating_sub(first),
        _ => 0,
    };
    let lifespan = ns(span) / ns(interval);
    let samples = history.count as f64 / minutes(interval);
    lifespan.min(samples)
}

/// Go's `Duration.Minutes()`: whole minutes plus the remainder's fraction.
fn minutes(d: Millis) -> f64 {
    let whole = d / 60_000;
    let rest_ns = (d % 60_000) as f64 * 1e6;
    whole as f64 + rest_ns / 60e9
}

/// `GetRecommendedPodResources`' minimums: the pod's minimum split evenly across its
/// `containers` (`minCPUMillicores * 0.001` cores and `minMemoryMb * 1024 * 1024` bytes, each
/// scaled by `1 / containers`). Returns (millicores, bytes).
pub(super) fn min_resources(
    min_cpu_millicores: f64,
    min_memory_mb: f64,
    containers: u32,
) -> (i64, i64) {
    let fraction = 1.0 / f64::from(containers.max(1));
    let cpu = scale(cpu_from_cores(min_cpu_millicores * 0.001), fraction);
    let memory = scale(amount_from_float(min_memory_mb * 1024.0 * 1024.0), fraction);
    (cpu, memory)
}

/// `recommender.go`'s upper-bound confidence multiplier: `(1 + 1/confidence)^1` (×2 after one
/// confidence interval of history, ×1.14 after a week with the 24 h default).
pub(super) const UPPER_MULTIPLIER: (f64, i64) = (1.0, 1);
/// `recommender.go`'s lower-bound confidence multiplier: `(1 + 0.001/confidence)^-2` (×0.6
/// after 5 min of history, ×0.95 after an hour).
pub(super) const LOWER_MULTIPLIER: (f64, i64) = (0.001, -2);

/// Lower bound, target and upper bound of one resource, in millicores or bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bounds {
    /// Recommended minimum: the lower percentile plus margin, shrunk while history is short.
    pub lower: i64,
    /// Recommended request: the target percentile plus margin.
    pub target: i64,
    /// Recommended maximum: the upper percentile plus margin, grown while history is short
    /// (1e14, the largest amount, when there are usage samples but no CPU history).
    pub upper: i64,
}

/// How `recommend` turns percentiles into [`Bounds`] for one resource.
pub(super) struct Chain {
    /// Lower, target and upper percentiles.
    pub(super) percentiles: [f64; 3],
    /// The safety margin fraction.
    pub(super) margin: f64,
    /// The history's confidence in this resource's interval.
    pub(super) confidence: f64,
    /// The minimum amount.
    pub(super) min: i64,
}

impl Chain {
    /// Upstream's estimator chain: percentile → margin → confidence multiplier (bounds only)
    /// → minimum. `percentile` maps a percentile to an amount.
    pub(super) fn bounds(&self, percentile: impl Fn(f64) -> i64) -> Bounds {
        let [lower, target, upper] = self
            .percentiles
            .map(|p| with_margin(percentile(p), self.margin));
        let (lm, le) = LOWER_MULTIPLIER;
        let (um, ue) = UPPER_MULTIPLIER;
        Bounds {
            lower: with_min(with_confidence(lower, lm, le, self.confidence), self.min),
            target: with_min(target, self.min),
            upper: with_min(with_confidence(upper, um, ue, self.confidence), self.min),
        }
    }
}
