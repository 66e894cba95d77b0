//! The recommender's configuration: upstream's flag defaults (`config/config.go`) and
//! aggregation constants (`model/aggregations_config.go`), validated once.

/// Milliseconds, signed, from an arbitrary epoch (read as Unix time; see the module docs on
/// how the decaying histograms round their reference time).
pub type Millis = i64;

/// One second in [`Millis`].
pub const SECOND: Millis = 1_000;
/// One hour in [`Millis`].
pub const HOUR: Millis = 3_600 * SECOND;
/// One day in [`Millis`].
pub const DAY: Millis = 24 * HOUR;
/// One mebibyte in bytes (`--pod-recommendation-min-memory-mb` counts these).
pub const MIB: f64 = 1024.0 * 1024.0;

/// Upstream's `minSampleWeight`: the weight of every CPU sample before decay.
pub(super) const MIN_SAMPLE_WEIGHT: f64 = 0.1;
/// Upstream's `epsilon` (`0.001 * minSampleWeight`): histogram weights below it count as empty.
pub const HISTOGRAM_EPSILON: f64 = 0.001 * MIN_SAMPLE_WEIGHT;
/// Upstream's `DefaultHistogramBucketSizeGrowth` + 1: each bucket is 5 % wider than the last.
pub const BUCKET_RATIO: f64 = 1.0 + 0.05;
/// Longest accepted duration (half-lives, intervals): ten years.
const MAX_DURATION: Millis = 3_650 * DAY;
/// Most buckets a histogram may have (the defaults have 176).
const MAX_BUCKETS: f64 = 1e6;

/// How a histogram cuts its value range into buckets (upstream's `HistogramOptions`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Buckets {
    /// `NewLinearHistogramOptions`: `ceil(max_value / bucket_size) + 1` buckets of equal size.
    Linear {
        /// Start of the last bucket is at or above this; larger values land in the last bucket.
        max_value: f64,
        /// Width of every bucket.
        bucket_size: f64,
        /// Weights below this count as zero.
        epsilon: f64,
    },
    /// `NewExponentialHistogramOptions`: bucket `n` starts at
    /// `first_bucket_size * (ratio^n - 1) / (ratio - 1)`.
    Exponential {
        /// Start of the last bucket is at or above this; larger values land in the last bucket.
        max_value: f64,
        /// Width of bucket 0 (which starts at 0).
        first_bucket_size: f64,
        /// Each bucket is this many times wider than the previous one (> 1).
        ratio: f64,
        /// Weights below this count as zero.
        epsilon: f64,
    },
}

impl Buckets {
    /// Upstream's CPU histogram, in cores: 0.01 core first bucket, up to 1000 cores, 5 % growth.
    pub const CPU: Buckets = Buckets::Exponential {
        max_value: 1000.0,
        first_bucket_size: 0.01,
        ratio: BUCKET_RATIO,
        epsilon: HISTOGRAM_EPSILON,
    };
    /// Upstream's memory histogram, in bytes: 10 MB (1e7) first bucket, up to 1 TB (1e12).
    pub const MEMORY: Buckets = Buckets::Exponential {
        max_value: 1e12,
        first_bucket_size: 1e7,
        ratio: BUCKET_RATIO,
        epsilon: HISTOGRAM_EPSILON,
    };

    /// Checks upstream's rules (all sizes and epsilon > 0, ratio > 1) plus finiteness and a
    /// bound on the bucket count; `field` names the config field in the error.
    pub(super) fn validate(&self, field: &str) -> Result<(), String> {
        let positive = |vs: &[f64]| vs.iter().all(|v| v.is_finite() && *v > 0.0);
        let ok = match *self {
            Buckets::Linear {
                max_value,
                bucket_size,
                epsilon,
            } => positive(&[max_value, bucket_size, epsilon]),
            Buckets::Exponential {
                max_value,
                first_bucket_size,
                ratio,
                epsilon,
            } => {
                positive(&[max_value, first_bucket_size, epsilon])
                    && ratio.is_finite()
                    && ratio > 1.0
            }
        };
        if !ok {
            return Err(format!(
                "{field}: sizes and epsilon must be finite and > 0, ratio > 1"
            ));
        }
        match self.count_f64() {
            n if n <= MAX_BUCKETS => Ok(()),
            n => Err(format!(
                "{field}: {n} buckets, at most {MAX_BUCKETS} allowed"
            )),
        }
    }

    /// The number of buckets as upstream computes it, before the conversion to an integer.
    pub(super) fn count_f64(&self) -> f64 {
        match *self {
            Buckets::Linear {
                max_value,
                bucket_size,
                ..
            } => (max_value / bucket_size).ceil() + 1.0,
            Buckets::Exponential {
                max_value,
                first_bucket_size,
                ratio,
                ..
            } => log(ratio, max_value * (ratio - 1.0) / first_bucket_size + 1.0).ceil() + 1.0,
        }
    }
}

/// Upstream's `log(base, x)`: `ln(x) / ln(base)`.
pub(super) fn log(base: f64, x: f64) -> f64 {
    x.ln() / base.ln()
}

/// The recommender's settings. [`Default`] is upstream's: the recommender's flag defaults and
/// the aggregation constants, listed on each field.
#[derive(Clone, Debug, PartialEq)]
pub struct VpaConfig {
    /// `--target-cpu-percentile`, 0.9.
    pub target_cpu_percentile: f64,
    /// `--recommendation-lower-bound-cpu-percentile`, 0.5.
    pub lower_bound_cpu_percentile: f64,
    /// `--recommendation-upper-bound-cpu-percentile`, 0.95.
    pub upper_bound_cpu_percentile: f64,
    /// `--target-memory-percentile`, 0.9.
    pub target_memory_percentile: f64,
    /// `--recommendation-lower-bound-memory-percentile`, 0.5.
    pub lower_bound_memory_percentile: f64,
    /// `--recommendation-upper-bound-memory-percentile`, 0.95.
    pub upper_bound_memory_percentile: f64,
    /// `--recommendation-margin-fraction`, 0.15: added on top of every percentile.
    pub safety_margin_fraction: f64,
    /// `--pod-recommendation-min-cpu-millicores`, 25.
    pub pod_min_cpu_millicores: f64,
    /// `--pod-recommendation-min-memory-mb`, 250 (mebibytes: upstream multiplies by 1024²).
    pub pod_min_memory_mb: f64,
    /// `--confidence-interval-cpu`, 24 h: the history length that counts as confidence 1.
    pub confidence_interval_cpu: Millis,
    /// `--confidence-interval-memory`, 24 h.
    pub confidence_interval_memory: Millis,
    /// `--cpu-histogram-decay-half-life`, 24 h.
    pub cpu_half_life: Millis,
    /// `--memory-histogram-decay-half-life`, 24 h.
    pub memory_half_life: Millis,
    /// `--memory-aggregation-interval`, 24 h: one memory peak per container per interval.
    pub memory_aggregation_interval: Millis,
    /// `--oom-bump-up-ratio`, 1.2: an OOM counts as a peak of this times the memory used.
    pub oom_bump_up_ratio: f64,
    /// `--oom-min-bump-up-bytes`, 100 MiB (104 857 600; upstream's comment says "100MB").
    pub oom_min_bump_up_bytes: f64,
    /// CPU histogram buckets, in cores: [`Buckets::CPU`].
    pub cpu_buckets: Buckets,
    /// Memory histogram buckets, in bytes: [`Buckets::MEMORY`].
    pub memory_buckets: Buckets,
    /// `false` (upstream since VPA 1.4.0, commit `ca812b36`): every CPU sample weighs 0.1.
    /// `true` restores the original design, weight `max(request in cores, 0.1)`, so raising the
    /// request makes older history count less. Upstream's feeder never filled the request in
    /// before that commit either, so `false` is what clusters actually ran.
    pub cpu_weight_by_request: bool,
}

impl Default for VpaConfig {
    fn default() -> Self {
        VpaConfig {
            target_cpu_percentile: 0.9,
            lower_bound_cpu_percentile: 0.5,
            upper_bound_cpu_percentile: 0.95,
            target_memory_percentile: 0.9,
            lower_bound_memory_percentile: 0.5,
            upper_bound_memory_percentile: 0.95,
            safety_margin_fraction: 0.15,
            pod_min_cpu_millicores: 25.0,
            pod_min_memory_mb: 250.0,
            confidence_interval_cpu: DAY,
            confidence_interval_memory: DAY,
            cpu_half_life: DAY,
            memory_half_life: DAY,
            memory_aggregation_interval: DAY,
            oom_bump_up_ratio: 1.2,
            oom_min_bump_up_bytes: 100.0 * MIB,
            cpu_buckets: Buckets::CPU,
            memory_buckets: Buckets::MEMORY,
            cpu_weight_by_request: false,
        }
    }
}

impl VpaConfig {
    /// Checks every field; the error names the first bad one. Upstream accepts any flag value;
    /// here percentiles must lie in `[0, 1]`, amounts be finite and non-negative, the OOM ratio
    /// at least 1, and durations in `(0, 10 years]`.
    pub fn validate(&self) -> Result<(), String> {
        let percentiles = [
            ("target_cpu_percentile", self.target_cpu_percentile),
            (
                "lower_bound_cpu_percentile",
                self.lower_bound_cpu_percentile,
            ),
            (
                "upper_bound_cpu_percentile",
                self.upper_bound_cpu_percentile,
            ),
            ("target_memory_percentile", self.target_memory_percentile),
            (
                "lower_bound_memory_percentile",
                self.lower_bound_memory_percentile,
            ),
            (
                "upper_bound_memory_percentile",
                self.upper_bound_memory_percentile,
            ),
        ];
        for (field, p) in percentiles {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{field}: {p} is not in [0, 1]"));
            }
        }
        let amounts = [
            ("safety_margin_fraction", self.safety_margin_fraction),
            ("pod_min_cpu_millicores", self.pod_min_cpu_millicores),
            ("pod_min_memory_mb", self.pod_min_memory_mb),
            ("oom_min_bump_up_bytes", self.oom_min_bump_up_bytes),
        ];
        for (field, v) in amounts {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{field}: {v} is not a finite amount >= 0"));
            }
        }
        if !(self.oom_bump_up_ratio.is_finite() && self.oom_bump_up_ratio >= 1.0) {
            return Err(format!(
                "oom_bump_up_ratio: {} is not finite and >= 1",
                self.oom_bump_up_ratio
            ));
        }
        self.validate_durations()?;
        self.cpu_buckets.validate("cpu_buckets")?;
        self.memory_buckets.validate("memory_buckets")
    }

    fn validate_durations(&self) -> Result<(), String> {
        let durations = [
            ("confidence_interval_cpu", self.confidence_interval_cpu),
            (
                "confidence_interval_memory",
                self.confidence_interval_memory,
            ),
            ("cpu_half_life", self.cpu_half_life),
            ("memory_half_life", self.memory_half_life),
            (
                "memory_aggregation_interval",
                self.memory_aggregation_interval,
            ),
        ];
        for (field, d) in durations {
            if !(1..=MAX_DURATION).contains(&d) {
                return Err(format!("{field}: {d} ms is not in (0, {MAX_DURATION}] ms"));
            }
        }
        Ok(())
    }
}
