//! Confidence intervals over replications.
//!
//! # Design
//!
//! A replication is one independent run; each yields one number per metric (a mean latency,
//! a p99, a throughput). Across replications those numbers are treated as i.i.d. and roughly
//! normal, so the interval for their mean is Student's:
//!
//! `mean ± t_{(1+level)/2, n-1} · s / sqrt(n)`
//!
//! (any statistics text, e.g. Law, *Simulation Modeling and Analysis*, 5th ed., §9.4.1).
//! [`paired_diff`] applies the same interval to the differences `a_i - b_i` of two strategies
//! run on common random numbers (replication `i` of both sees the same seed), which cancels
//! the shared noise and gives much narrower intervals than comparing two separate intervals
//! (Law §10.2.1, the paired-t confidence interval).
//!
//! [`sample_sd`] uses the corrected two-pass algorithm (Chan, Golub and LeVeque, "Algorithms
//! for computing the sample variance", *The American Statistician* 37(3), 1983), which stays
//! accurate when the mean is large compared with the spread. [`Welford`] is the streaming
//! equivalent (Welford, *Technometrics* 4(3), 1962) and merges two partial accumulators
//! exactly with the pairwise update of Chan, Golub and LeVeque (1979), so per-thread
//! accumulators can be combined.
//!
//! Degenerate inputs never panic: an empty sample has mean NaN; fewer than two values have
//! standard deviation NaN and an interval half-width of 0; a level outside `[0, 1]` gives a
//! NaN half-width.

use serde::{Deserialize, Serialize};

pub use super::dist::{normal_quantile, t_quantile};

/// Arithmetic mean; NaN for an empty slice.
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample standard deviation (divisor `n - 1`); NaN for fewer than two values.
pub fn sample_sd(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    if xs.len() < 2 {
        return f64::NAN;
    }
    let m = mean(xs);
    let (sum_sq, sum) = xs.iter().fold((0.0, 0.0), |(sq, s), &x| {
        (sq + (x - m) * (x - m), s + (x - m))
    });
    // The second term corrects the rounding error in `m` (Chan, Golub and LeVeque 1983).
    ((sum_sq - sum * sum / n) / (n - 1.0)).max(0.0).sqrt()
}

/// A confidence interval `mean ± half_width` over `n` observations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Sample mean (NaN when `n == 0`).
    pub mean: f64,
    /// Half-width of the interval (0 when `n < 2`).
    pub half_width: f64,
    /// Number of observations.
    pub n: usize,
}

impl Interval {
    /// Lower end, `mean - half_width`.
    pub fn lower(&self) -> f64 {
        self.mean - self.half_width
    }

    /// Upper end, `mean + half_width`.
    pub fn upper(&self) -> f64 {
        self.mean + self.half_width
    }

    /// Whether `x` lies in the closed interval.
    pub fn contains(&self, x: f64) -> bool {
        self.lower() <= x && x <= self.upper()
    }
}

/// Student-t confidence interval for the mean of `xs` at confidence `level` (e.g. 0.95).
pub fn t_interval(xs: &[f64], level: f64) -> Interval {
    interval_from(mean(xs), sample_sd(xs), xs.len(), level)
}

/// The interval from summary statistics; shared by [`t_interval`] and [`Welford::interval`].
fn interval_from(mean: f64, sd: f64, n: usize, level: f64) -> Interval {
    let half_width = if !(0.0..=1.0).contains(&level) {
        f64::NAN
    } else if n < 2 {
        0.0
    } else {
        t_quantile(0.5 * (1.0 + level), (n - 1) as f64) * sd / (n as f64).sqrt()
    };
    Interval {
        mean,
        half_width,
        n,
    }
}

/// Paired-t interval for the mean of `a_i - b_i` (common-random-number comparison).
///
/// Slices of different lengths are a caller error: the result then has NaN mean and
/// half-width and `n == 0`.
pub fn paired_diff(a: &[f64], b: &[f64], level: f64) -> Interval {
    if a.len() != b.len() {
        return Interval {
            mean: f64::NAN,
            half_width: f64::NAN,
            n: 0,
        };
    }
    let diffs: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    t_interval(&diffs, level)
}

/// Streaming mean and variance (Welford 1962), mergeable (Chan, Golub and LeVeque 1979).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Welford {
    count: u64,
    mean: f64,
    /// Sum of squared deviations from the current mean.
    m2: f64,
}

impl Welford {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one observation.
    pub fn push(&mut self, x: f64) {
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Mean of the observations; NaN when empty.
    pub fn mean(&self) -> f64 {
        if self.count == 0 { f64::NAN } else { self.mean }
    }

    /// Sample variance (divisor `n - 1`); NaN for fewer than two observations.
    pub fn variance(&self) -> f64 {
        if self.count < 2 {
            f64::NAN
        } else {
            self.m2 / (self.count - 1) as f64
        }
    }

    /// Sample standard deviation; NaN for fewer than two observations.
    pub fn sd(&self) -> f64 {
        self.variance().sqrt()
    }

    /// Folds `other` in, as if its observations had been pushed here.
    pub fn merge(&mut self, other: &Welford) {
        if other.count == 0 {
            return;
        }
        let n = self.count + other.count;
        let (na, nb) = (self.count as f64, other.count as f64);
        let delta = other.mean - self.mean;
        self.mean += delta * nb / n as f64;
        self.m2 += other.m2 + delta * delta * na * nb / n as f64;
        self.count = n;
    }

    /// Student-t interval for the mean at confidence `level`, as [`t_interval`].
    pub fn interval(&self, level: f64) -> Interval {
        let n = usize::try_from(self.count).unwrap_or(usize::MAX);
        interval_from(self.mean(), self.sd(), n, level)
    }
}

impl Extend<f64> for Welford {
    fn extend<I: IntoIterator<Item = f64>>(&mut self, iter: I) {
        iter.into_iter().for_each(|x| self.push(x));
    }
}

impl FromIterator<f64> for Welford {
    fn from_iter<I: IntoIterator<Item = f64>>(iter: I) -> Self {
        let mut w = Welford::new();
        w.extend(iter);
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    #[test]
    fn mean_and_sd_of_a_textbook_sample() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&xs), 5.0);
        assert!(close(sample_sd(&xs), (32.0f64 / 7.0).sqrt(), 1e-15));
    }

    #[test]
    fn sd_survives_a_large_offset() {
        // Variance of 4, 7, 13, 16 is 30 (sample); shifting by 1e9 must not change it.
        let xs = [4.0, 7.0, 13.0, 16.0].map(|x| x + 1e9);
        assert!(close(sample_sd(&xs), 30f64.sqrt(), 1e-9));
    }

    #[test]
    fn degenerate_samples() {
        assert!(mean(&[]).is_nan());
        assert!(sample_sd(&[]).is_nan() && sample_sd(&[3.0]).is_nan());
        assert_eq!(sample_sd(&[3.0, 3.0, 3.0]), 0.0);
        let iv = t_interval(&[], 0.95);
        assert!(iv.mean.is_nan() && iv.half_width == 0.0 && iv.n == 0);
        let one = t_interval(&[4.0], 0.95);
        assert_eq!(
            one,
            Interval {
                mean: 4.0,
                half_width: 0.0,
                n: 1
            }
        );
        assert!(t_interval(&[1.0, 2.0], 1.5).half_width.is_nan());
        assert!(t_interval(&[1.0, 2.0], -0.1).half_width.is_nan());
    }

    #[test]
    fn t_interval_of_one_to_ten() {
        let xs: Vec<f64> = (1..=10).map(f64::from).collect();
        let iv = t_interval(&xs, 0.95);
        // sd = sqrt(110/12); t(0.975, 9) = 2.262157162798205 (mpmath).
        let want = 2.262157162798205 * (110.0f64 / 12.0).sqrt() / 10f64.sqrt();
        assert_eq!(iv.mean, 5.5);
        assert!(close(iv.half_width, want, 1e-12), "{}", iv.half_width);
        assert!(iv.contains(5.5) && !iv.contains(8.0));
        assert!(close(iv.upper() - iv.lower(), 2.0 * want, 1e-12));
    }

    /// A tiny deterministic generator for the coverage test (SplitMix64 + Box-Muller).
    struct Gen(u64);

    impl Gen {
        fn uniform(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 + 0.5 / (1u64 << 53) as f64
        }

        fn normal(&mut self) -> f64 {
            let (u, v) = (self.uniform(), self.uniform());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        }
    }

    #[test]
    fn t_interval_covers_at_its_nominal_rate() {
        // 4000 intervals of 5 normal draws: coverage 95 % ± 3 binomial sd (±1.0 %).
        let mut g = Gen(7);
        let trials = 4000;
        let hits = (0..trials)
            .filter(|_| {
                let xs: Vec<f64> = (0..5).map(|_| 3.0 + 2.0 * g.normal()).collect();
                t_interval(&xs, 0.95).contains(3.0)
            })
            .count();
        let rate = hits as f64 / trials as f64;
        assert!((rate - 0.95).abs() < 0.0104, "coverage {rate}");
    }

    #[test]
    fn paired_diff_cancels_common_noise() {
        let base = [10.0, 12.5, 9.0, 30.0, 11.0];
        let shifted = base.map(|x| x + 2.0);
        let iv = paired_diff(&shifted, &base, 0.95);
        assert!(close(iv.mean, 2.0, 1e-15) && iv.half_width.abs() < 1e-12 && iv.n == 5);
        let bad = paired_diff(&[1.0, 2.0], &[1.0], 0.95);
        assert!(bad.mean.is_nan() && bad.half_width.is_nan() && bad.n == 0);
    }

    #[test]
    fn paired_diff_equals_t_interval_of_differences() {
        let a = [5.0, 7.0, 6.5, 8.0];
        let b = [4.0, 6.5, 6.0, 6.0];
        let diffs = [1.0, 0.5, 0.5, 2.0];
        assert_eq!(paired_diff(&a, &b, 0.9), t_interval(&diffs, 0.9));
    }

    #[test]
    fn welford_matches_two_pass() {
        let xs = [4.0, 7.0, 13.0, 16.0].map(|x| x + 1e9);
        let w: Welford = xs.iter().copied().collect();
        assert_eq!(w.count(), 4);
        assert!(close(w.mean(), mean(&xs), 1e-15));
        assert!(close(w.variance(), 30.0, 1e-9));
        assert_eq!(w.interval(0.95).n, 4);
        assert!(close(
            w.interval(0.95).half_width,
            t_interval(&xs, 0.95).half_width,
            1e-8
        ));
    }

    #[test]
    fn welford_degenerate() {
        let mut w = Welford::new();
        assert!(w.mean().is_nan() && w.variance().is_nan());
        w.push(2.0);
        assert_eq!(w.mean(), 2.0);
        assert!(w.variance().is_nan());
        assert_eq!(w.interval(0.95).half_width, 0.0);
        w.merge(&Welford::new());
        assert_eq!(w.count(), 1);
        let mut empty = Welford::new();
        empty.merge(&w);
        assert_eq!(empty, w);
    }

    proptest! {
        #[test]
        fn welford_merge_equals_sequential(
            xs in prop::collection::vec(-1e6f64..1e6, 0..60),
            split in 0usize..60,
        ) {
            let split = split.min(xs.len());
            let whole: Welford = xs.iter().copied().collect();
            let mut left: Welford = xs[..split].iter().copied().collect();
            let right: Welford = xs[split..].iter().copied().collect();
            left.merge(&right);
            prop_assert_eq!(left.count(), whole.count());
            if !xs.is_empty() {
                prop_assert!(close(left.mean(), whole.mean(), 1e-9));
            }
            if xs.len() >= 2 {
                let scale = whole.variance().max(1.0);
                prop_assert!((left.variance() - whole.variance()).abs() <= 1e-9 * scale);
                prop_assert!(close(whole.variance(), sample_sd(&xs).powi(2), 1e-9));
            }
        }

        #[test]
        fn interval_widens_with_level(xs in prop::collection::vec(-100f64..100.0, 2..30)) {
            let narrow = t_interval(&xs, 0.9).half_width;
            let wide = t_interval(&xs, 0.99).half_width;
            prop_assert!(narrow <= wide && narrow >= 0.0);
        }
    }
}
