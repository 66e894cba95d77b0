//! Kubernetes' Vertical Pod Autoscaler recommender: what CPU and memory request a container
//! should have, from its usage history.
//!
//! Pure and engine-free: timestamped usage samples in, a [`Recommendation`] (lower bound,
//! target and upper bound, in millicores and bytes) out. Time is [`Millis`], read as Unix
//! milliseconds. A simulator keeps one [`Aggregate`] per workload, one [`ContainerTracker`]
//! per instance, feeds both from its pods' measured usage, and asks for a recommendation
//! whenever it likes (upstream recomputes every minute). [`ContainerState`] bundles one tracker
//! with its own aggregate for the single-instance case.
//!
//! Ported from `kubernetes/autoscaler`, folder `vertical-pod-autoscaler/pkg/recommender`, at
//! commit `55c37cd5eb550756c5ccc5a89e9068d77797e575` (2026-08-22).
//!
//! # Design
//!
//! | file | upstream | what |
//! |---|---|---|
//! | `config` | `config/config.go`, `model/aggregations_config.go` | [`VpaConfig`] and its defaults, [`Buckets`] |
//! | `histogram` | `util/histogram*.go`, `util/decaying_histogram.go` | bucket schemes, percentiles, exponential decay |
//! | `container` | `model/container.go` | [`ContainerTracker`]: sample filter, one memory peak per interval, OOM |
//! | `aggregate` | `model/aggregate_container_state.go`, `logic/recommender.go` | [`Aggregate`]: the histograms, [`Aggregate::recommend`] |
//! | `estimator` | `logic/estimator.go`, `model/types.go` | percentile, margin, confidence, minimum; amount rounding |
//!
//! ```text
//!  CPU sample (t, millicores) ─► tracker: drop if t <= last ─► aggregate: CPU histogram
//!                                      (cores, weight 0.1 × 2^(t/half-life)), first/last/count
//!  memory sample (t, bytes) ──► tracker: peak of the 24 h window [end - 24 h, end) ─►
//!                                      aggregate: memory histogram (bytes, weight 2^(end/half-life)),
//!                                      a larger peak in the same window replaces the old one
//!  recommend: percentile (bucket's upper edge) ─► + 15 % ─► bounds × confidence factor ─► ≥ min
//! ```
//!
//! # Constants and defaults (all upstream's)
//!
//! - Percentiles: target 0.9, lower bound 0.5, upper bound 0.95, for CPU and for memory.
//! - Safety margin 0.15, added as `base + trunc(base × 0.15)` to every bound.
//! - Minimums per pod: 25 millicores (`25 × 0.001` cores) and 250 MiB (`250 × 1024²` bytes),
//!   split evenly across a pod's containers (one here).
//! - Confidence: `min(history span / interval, CPU samples / interval in minutes)`, interval
//!   24 h for both resources. Upper bound × `(1 + 1/confidence)`, lower bound ×
//!   `(1 + 0.001/confidence)^-2`; no history gives upper 1e14 and lower the minimum.
//! - Histograms: exponential buckets growing 5 %; CPU from 0.01 core up to 1000 cores, memory
//!   from 1e7 bytes up to 1e12 (176 buckets each); epsilon 1e-4 (`0.001 × minSampleWeight`).
//!   A percentile returns the *start of the next bucket*, so it over-estimates by < 5 %.
//! - Decay: half-life 24 h for both histograms; the reference time moves (rounded to a
//!   half-life, counted from Go's zero time) once a sample is 100 half-lives past it.
//! - CPU sample weight 0.1 (`minSampleWeight`); memory peaks weigh 1.0.
//! - Memory aggregation interval 24 h; OOM bump: ×1.2, at least +100 MiB (104 857 600 bytes).
//! - Amounts are integers (`int64` millicores and bytes) clamped to `[0, 1e14]`, every
//!   float-to-amount conversion truncates, as upstream's `resourceAmountFromFloat`.
//!
//! # Simplifications
//!
//! - One container per pod, so the pod minimums go to that container. The rest of upstream's
//!   machinery around the recommender is out: checkpoints, history from Prometheus, label
//!   aggregation keys and histogram merging (feeding every instance into one [`Aggregate`]
//!   stands in for merging per-pod ones), garbage collection of aggregates idle for 8
//!   intervals, controlled resources, container policies (min/max allowed, capping), the
//!   post-processors (integer CPU, rounding flags) and quality metrics.
//! - `recommend` takes no time argument: upstream's recommendation depends only on the
//!   histograms and the CPU samples' span and count, never on the wall clock.
//! - CPU weight: upstream weighs every CPU sample 0.1 (the request weighting was removed in
//!   VPA 1.4.0; its feeder had not filled in requests before either).
//!   [`VpaConfig::cpu_weight_by_request`] brings back `max(request cores, 0.1)`.
//! - OOM kills are modelled ([`ContainerTracker::record_oom`]), as upstream's `RecordOOM`.
//! - Floats: logarithms and `exp2` come from Rust's libm, which may differ from Go's by one
//!   unit in the last place; this can move a value lying exactly on a bucket edge. Integer
//!   powers repeat Go's squaring order exactly.
//! - Invalid configurations are rejected ([`VpaConfig::validate`]) where upstream takes any
//!   flag value; negative samples are dropped as upstream does.
//!
//! # Example
//!
//! ```
//! use scalesim::model::vpa::*;
//!
//! let mut state = ContainerState::new(&VpaConfig::default()).unwrap();
//! for minute in 0..(2 * 24 * 60) {
//!     let t = minute * 60 * SECOND;
//!     state.add_cpu_sample(t, 400, 1000); // 0.4 core used of 1 requested
//!     state.add_memory_sample(t, 300 << 20); // 300 MiB
//! }
//! let r = state.recommend();
//! // 0.4 core lies in the bucket [0.3851, 0.4143) cores: the target is its upper edge,
//! // 414 millicores, plus 15 % (62).
//! assert_eq!(r.cpu.target, 476);
//! assert!(r.cpu.lower <= r.cpu.target && r.cpu.target <= r.cpu.upper);
//! assert!(r.memory.target >= 300 << 20);
//! ```

mod aggregate;
mod config;
mod container;
mod estimator;
mod histogram;

#[cfg(test)]
mod tests;

pub use aggregate::{Aggregate, Recommendation};
pub use config::{
    BUCKET_RATIO, Buckets, DAY, HISTOGRAM_EPSILON, HOUR, MIB, Millis, SECOND, VpaConfig,
};
pub use container::{ContainerState, ContainerTracker};
pub use estimator::{Bounds, MAX_RESOURCE_AMOUNT};
