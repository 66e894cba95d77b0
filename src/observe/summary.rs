//! From a latency histogram to the numbers a report shows: one reduction for the simulator,
//! whose [`super::Recorder`] records nanoseconds, and the real drivers, which record
//! microseconds, so that a p99 means the same on both sides of a comparison.

use hdrhistogram::Histogram;

/// What one recorded histogram value stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Nanoseconds (the simulator).
    Nanos,
    /// Microseconds (the real drivers).
    Micros,
}

impl Unit {
    /// `value`, in this unit, in milliseconds.
    #[inline]
    pub fn to_ms(self, value: f64) -> f64 {
        let per_ms = match self {
            Unit::Nanos => 1e6,
            Unit::Micros => 1e3,
        };
        value / per_ms
    }
}

/// Latency statistics of one histogram, in milliseconds (all zeros when it is empty).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencyStats {
    /// Mean, p50, p90, p95, p99, p99.9 and max, in this order.
    pub fixed: [f64; 7],
    /// The extra percentiles asked for, in the order asked.
    pub extra: Vec<f64>,
}

/// The latency statistics of `h`, whose values are in `unit`. `sum` is the exact sum of the
/// recorded values, so the mean is exact rather than rounded to the histogram's buckets;
/// `extra` are percentiles in (0, 100], e.g. `99.99`.
pub fn latency_stats(h: &Histogram<u64>, sum: f64, unit: Unit, extra: &[f64]) -> LatencyStats {
    let ms = |v: u64| unit.to_ms(v as f64);
    let q = |p: f64| {
        if h.is_empty() {
            0.0
        } else {
            ms(h.value_at_quantile(p))
        }
    };
    let (mean, max) = if h.is_empty() {
        (0.0, 0.0)
    } else {
        (unit.to_ms(sum / h.len() as f64), ms(h.max()))
    };
    LatencyStats {
        fixed: [mean, q(0.5), q(0.9), q(0.95), q(0.99), q(0.999), max],
        extra: extra.iter().map(|p| q(p / 100.0)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::new_histogram;

    #[test]
    fn nanos_and_micros_give_the_same_milliseconds() {
        let (mut ns, mut us) = (
            new_histogram(3),
            Histogram::new_with_bounds(1, 1 << 40, 3).unwrap(),
        );
        let (mut sum_ns, mut sum_us) = (0.0, 0.0);
        for i in 1..=1000u64 {
            let micros = i * 100;
            ns.record(micros * 1000).unwrap();
            us.record(micros).unwrap();
            sum_ns += (micros * 1000) as f64;
            sum_us += micros as f64;
        }
        let a = latency_stats(&ns, sum_ns, Unit::Nanos, &[99.99]);
        let b = latency_stats(&us, sum_us, Unit::Micros, &[99.99]);
        for (x, y) in a
            .fixed
            .iter()
            .zip(&b.fixed)
            .chain(a.extra.iter().zip(&b.extra))
        {
            assert!((x - y).abs() <= x * 1e-3, "{a:?} vs {b:?}");
        }
        assert_eq!(a.fixed[0], 50.05, "the mean is the exact one");
        assert!((a.fixed[1] - 50.0).abs() < 0.05 && (a.fixed[6] - 100.0).abs() < 0.1);
    }

    #[test]
    fn empty_histograms_give_zeros() {
        let s = latency_stats(&new_histogram(3), 0.0, Unit::Nanos, &[99.0, 99.9]);
        assert_eq!(s.fixed, [0.0; 7]);
        assert_eq!(s.extra, [0.0, 0.0]);
    }
}
