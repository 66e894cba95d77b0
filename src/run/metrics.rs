//! One replication reduced to numbers.

use hdrhistogram::Histogram;

use super::auto::Warmup;
use crate::observe::{ClassStats, ComponentStats, ErrorKind, RepStats, Unit, latency_stats};

/// Counts and latency statistics of one class (or all) in one replication.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    /// Measured arrivals.
    pub arrived: u64,
    /// Successful completions.
    pub completed: u64,
    /// Failures by [`ErrorKind`] index.
    pub failed: [u64; ErrorKind::COUNT],
    /// Completions per second of the measured window.
    pub throughput: f64,
    /// Latency in ms: mean, p50, p90, p95, p99, p99.9, max.
    pub latency: [f64; 7],
    /// Extra percentiles in ms, in the scenario's order.
    pub extra: Vec<f64>,
}

/// Keys of [`Metrics::latency`], as in `summary.json`.
pub(crate) const LATENCY_KEYS: [&str; 7] = ["mean", "p50", "p90", "p95", "p99", "p999", "max"];

impl Metrics {
    fn from_class(c: &ClassStats, window_s: f64, extra: &[f64]) -> Metrics {
        let latency = latency_stats(&c.latency, c.latency_sum, Unit::Nanos, extra);
        Metrics {
            arrived: c.arrived,
            completed: c.completed,
            failed: c.failed,
            throughput: c.completed as f64 / window_s,
            latency: latency.fixed,
            extra: latency.extra,
        }
    }

    /// Total failures.
    pub fn failed_total(&self) -> u64 {
        self.failed.iter().sum()
    }

    /// Failed / (completed + failed).
    pub fn error_rate(&self) -> f64 {
        let n = self.completed + self.failed_total();
        if n == 0 {
            0.0
        } else {
            self.failed_total() as f64 / n as f64
        }
    }
}

/// One replication: totals, classes, components, and (for the base point) time series and the
/// latency histogram.
#[derive(Debug, Clone)]
pub struct RepMetrics {
    /// All classes.
    pub total: Metrics,
    /// Per class.
    pub classes: Vec<Metrics>,
    /// Per component.
    pub components: Vec<ComponentStats>,
    /// Measured requests still in flight at the end.
    pub in_flight: u64,
    /// Time-average number of measured requests in the system.
    pub mean_in_system: f64,
    /// Events processed.
    pub events: u64,
    /// Measured window, seconds.
    pub window_s: f64,
    /// `(t_s, metric, value)` rows.
    pub series: Vec<(f64, String, f64)>,
    /// Latency histogram of all classes (kept only with detail).
    pub histogram: Option<Histogram<u64>>,
    /// Per measured time bucket: p99 latency (ms, 0 without completions) and error ratio.
    pub buckets: Vec<(f64, f64)>,
    /// The warm-up `warmup = "auto"` chose for this replication's strategy.
    pub auto_warmup: Option<Warmup>,
}

impl RepMetrics {
    /// Reduces `stats`; `detail` keeps the time series and histogram.
    pub fn from_stats(stats: &RepStats, extra: &[f64], detail: bool) -> RepMetrics {
        let window_s = stats.window_ns as f64 / 1e9;
        RepMetrics {
            total: Metrics::from_class(&stats.total, window_s, extra),
            classes: stats
                .classes
                .iter()
                .map(|c| Metrics::from_class(c, window_s, extra))
                .collect(),
            components: stats.components.clone(),
            in_flight: stats.in_flight,
            mean_in_system: stats.mean_in_system,
            events: stats.events,
            window_s,
            series: if detail { series(stats) } else { Vec::new() },
            histogram: detail.then(|| stats.total.latency.clone()),
            buckets: measured_buckets(stats),
            auto_warmup: None,
        }
    }

    /// A copy that keeps the time series and histogram only with `detail`: what
    /// [`RepMetrics::from_stats`] gives with that flag for the same replication.
    pub fn with_detail(&self, detail: bool) -> RepMetrics {
        let mut m = self.clone();
        if !detail {
            m.series = Vec::new();
            m.histogram = None;
        }
        m
    }

    /// The share of measured time buckets that violate the SLO: p99 above `p99_ms` or an
    /// error ratio above `max_error_rate` (any error when neither is set).
    pub fn violation_time_ratio(&self, p99_ms: Option<f64>, max_error_rate: Option<f64>) -> f64 {
        if self.buckets.is_empty() {
            return 0.0;
        }
        let bad = self
            .buckets
            .iter()
            .filter(|(p99, err)| match (p99_ms, max_error_rate) {
                (None, None) => *err > 0.0,
                (p, e) => p.is_some_and(|p| *p99 > p) || e.is_some_and(|e| *err > e),
            })
            .count();
        bad as f64 / self.buckets.len() as f64
    }
}

fn measured_buckets(stats: &RepStats) -> Vec<(f64, f64)> {
    let warmup = stats.end_ns.saturating_sub(stats.window_ns);
    stats
        .buckets
        .iter()
        .enumerate()
        .filter(|(i, _)| *i as u64 * stats.bucket_ns >= warmup)
        .map(|(_, b)| {
            let p99 = b
                .latency
                .as_ref()
                .map_or(0.0, |h| h.value_at_quantile(0.99) as f64 / 1e6);
            let done = b.completed + b.errors;
            (
                p99,
                if done == 0 {
                    0.0
                } else {
                    b.errors as f64 / done as f64
                },
            )
        })
        .collect()
}

fn series(stats: &RepStats) -> Vec<(f64, String, f64)> {
    let mut rows = Vec::new();
    for (i, b) in stats.buckets.iter().enumerate() {
        let start = i as u64 * stats.bucket_ns;
        let t = start as f64 / 1e9;
        let width = (stats.end_ns.saturating_sub(start)).clamp(1, stats.bucket_ns) as f64 / 1e9;
        rows.push((t, "throughput_rps".to_string(), b.completed as f64 / width));
        rows.push((t, "errors".to_string(), b.errors as f64 / width));
        if let Some(h) = &b.latency {
            rows.push((
                t,
                "p99_ms".to_string(),
                h.value_at_quantile(0.99) as f64 / 1e6,
            ));
        }
        for (name, v) in stats.gauge_names.iter().zip(&b.gauges) {
            rows.push((t, name.clone(), *v));
        }
    }
    rows
}
