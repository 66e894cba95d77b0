//! Probability distributions of durations (service times, think times, network delays).
//!
//! A [`Dist`] is validated on construction by the scenario loader (positive scales, finite
//! parameters), samples in seconds as `f64`, and converts to integer nanoseconds once per draw.

use rand_distr::{Distribution, Exp1, Gamma, LogNormal, StandardNormal, Weibull};

use crate::engine::Rng;
use crate::engine::SimTime;

/// A distribution of non-negative durations, parameters in seconds.
#[allow(missing_docs)] // fields are described on each variant
#[derive(Debug, Clone)]
pub enum Dist {
    /// Always `value`.
    Constant(f64),
    /// Uniform on `[lo, hi]`.
    Uniform { lo: f64, hi: f64 },
    /// Exponential with this mean.
    Exponential { mean: f64 },
    /// Normal(mean, sd) truncated to `[min, max]` by rejection (clamped after 64 rejections).
    Normal {
        mean: f64,
        sd: f64,
        min: f64,
        max: f64,
    },
    /// exp(Normal(mu, sigma)), in seconds.
    LogNormal(LogNormal<f64>, f64, f64),
    /// Gamma with shape k and scale theta.
    Gamma(Gamma<f64>, f64, f64),
    /// Weibull with scale lambda and shape k.
    Weibull(Weibull<f64>, f64, f64),
    /// Pareto with scale `xm` (minimum) and shape `alpha`.
    Pareto { xm: f64, alpha: f64 },
    /// Empirical: sorted samples, drawn uniformly (bootstrap), or a histogram when `weights` is
    /// non-empty (bin `i` spans `values[i]..values[i+1]`, drawn uniformly inside).
    Empirical {
        values: Vec<f64>,
        cumulative: Vec<f64>,
    },
    /// A mixture: component `i` with probability `cumulative[i] - cumulative[i-1]`.
    Mixture {
        parts: Vec<Dist>,
        cumulative: Vec<f64>,
    },
}

impl Dist {
    /// Lognormal from `mu`, `sigma` of the underlying normal (seconds).
    pub fn lognormal(mu: f64, sigma: f64) -> Option<Dist> {
        LogNormal::new(mu, sigma)
            .ok()
            .map(|d| Dist::LogNormal(d, mu, sigma))
    }

    /// Lognormal from its median and 99th percentile (seconds), `p99 > median > 0`.
    pub fn lognormal_median_p99(median: f64, p99: f64) -> Option<Dist> {
        const Z99: f64 = 2.326_347_874_040_840_8;
        if !(median > 0.0 && p99 > median) {
            return None;
        }
        Dist::lognormal(median.ln(), (p99 / median).ln() / Z99)
    }

    /// Gamma from shape and scale.
    pub fn gamma(shape: f64, scale: f64) -> Option<Dist> {
        Gamma::new(shape, scale)
            .ok()
            .map(|d| Dist::Gamma(d, shape, scale))
    }

    /// Weibull from scale and shape.
    pub fn weibull(scale: f64, shape: f64) -> Option<Dist> {
        Weibull::new(scale, shape)
            .ok()
            .map(|d| Dist::Weibull(d, scale, shape))
    }

    /// Draws one value in seconds.
    pub fn sample_secs(&self, rng: &mut Rng) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Dist::Uniform { lo, hi } => lo + (hi - lo) * rng.next_f64(),
            Dist::Normal { mean, sd, min, max } => truncated_normal(rng, *mean, *sd, *min, *max),
            Dist::LogNormal(d, ..) => d.sample(rng),
            Dist::Gamma(d, ..) => d.sample(rng),
            Dist::Weibull(d, ..) => d.sample(rng),
            Dist::Pareto { xm, alpha } => xm / rng.next_open01().powf(1.0 / alpha),
            Dist::Empirical { values, cumulative } => empirical(rng, values, cumulative),
            Dist::Mixture { parts, cumulative } => parts[pick(rng, cumulative)].sample_secs(rng),
        }
    }

    /// Draws one duration in nanoseconds.
    #[inline]
    pub fn sample_ns(&self, rng: &mut Rng) -> u64 {
        if let Dist::Exponential { mean } = self {
            let e: f64 = Exp1.sample(rng);
            return (e * (mean * 1e9)) as u64;
        }
        crate::engine::SimTime::from_secs_f64(self.sample_secs(rng)).0
    }

    /// The mean in seconds (exact where a closed form exists; for truncated normals the
    /// untruncated mean).
    pub fn mean(&self) -> f64 {
        self.moment(1)
    }

    /// The raw moment `E[X^k]` for k = 1 or 2 (seconds^k), used by queueing formulas.
    pub fn moment(&self, k: i32) -> f64 {
        let kf = f64::from(k);
        match self {
            Dist::Constant(v) => v.powi(k),
            Dist::Exponential { mean } => {
                if k == 1 {
                    *mean
                } else {
                    2.0 * mean * mean
                }
            }
            Dist::Uniform { lo, hi } => {
                (hi.powi(k + 1) - lo.powi(k + 1)) / ((kf + 1.0) * (hi - lo).max(f64::MIN_POSITIVE))
            }
            Dist::Normal { mean, sd, .. } => {
                if k == 1 {
                    *mean
                } else {
                    mean * mean + sd * sd
                }
            }
            Dist::LogNormal(_, mu, s) => (kf * mu + kf * kf * s * s / 2.0).exp(),
            Dist::Gamma(_, shape, scale) => {
                if k == 1 {
                    shape * scale
                } else {
                    shape * (shape + 1.0) * scale * scale
                }
            }
            Dist::Weibull(_, scale, shape) => scale.powi(k) * gamma_fn(1.0 + kf / shape),
            Dist::Pareto { xm, alpha } => {
                if *alpha > kf {
                    alpha * xm.powi(k) / (alpha - kf)
                } else {
                    f64::INFINITY
                }
            }
            Dist::Empirical { values, cumulative } => empirical_moment(values, cumulative, k),
            Dist::Mixture { parts, cumulative } => mixture_moment(parts, cumulative, k),
        }
    }

    /// Duration of a constant distribution, for zero-variance fast paths.
    pub fn as_constant(&self) -> Option<SimTime> {
        match self {
            Dist::Constant(v) => Some(SimTime::from_secs_f64(*v)),
            _ => None,
        }
    }
}

fn truncated_normal(rng: &mut Rng, mean: f64, sd: f64, min: f64, max: f64) -> f64 {
    for _ in 0..64 {
        let z: f64 = StandardNormal.sample(rng);
        let x = mean + sd * z;
        if x >= min && x <= max {
            return x;
        }
    }
    mean.clamp(min, max)
}

/// Index of the part chosen by a uniform draw against cumulative probabilities ending at 1.
#[inline]
pub(crate) fn pick(rng: &mut Rng, cumulative: &[f64]) -> usize {
    let u = rng.next_f64();
    cumulative
        .iter()
        .position(|&c| u < c)
        .unwrap_or(cumulative.len() - 1)
}

fn empirical(rng: &mut Rng, values: &[f64], cumulative: &[f64]) -> f64 {
    if cumulative.is_empty() {
        return values[rng.below(values.len() as u64) as usize];
    }
    let i = pick(rng, cumulative);
    values[i] + (values[i + 1] - values[i]) * rng.next_f64()
}

fn empirical_moment(values: &[f64], cumulative: &[f64], k: i32) -> f64 {
    if cumulative.is_empty() {
        return values.iter().map(|v| v.powi(k)).sum::<f64>() / values.len() as f64;
    }
    let mut prev = 0.0;
    let mut m = 0.0;
    for (i, c) in cumulative.iter().enumerate() {
        let (a, b) = (values[i], values[i + 1]);
        let part = Dist::Uniform { lo: a, hi: b }.moment(k);
        m += (c - prev) * if b > a { part } else { a.powi(k) };
        prev = *c;
    }
    m
}

fn mixture_moment(parts: &[Dist], cumulative: &[f64], k: i32) -> f64 {
    let mut prev = 0.0;
    parts
        .iter()
        .zip(cumulative)
        .map(|(d, c)| {
            let w = c - prev;
            prev = *c;
            w * d.moment(k)
        })
        .sum()
}

/// The gamma function by the Lanczos approximation (g = 7, n = 9), relative error ~1e-15.
pub fn gamma_fn(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma_fn(1.0 - x));
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let a = G
        .iter()
        .enumerate()
        .skip(1)
        .fold(G[0], |a, (i, g)| a + g / (x + i as f64));
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_mean(d: &Dist, n: usize) -> (f64, f64) {
        let mut rng = Rng::seed_from(99);
        let xs: Vec<f64> = (0..n).map(|_| d.sample_secs(&mut rng)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let m2 = xs.iter().map(|x| x * x).sum::<f64>() / n as f64;
        (m, m2)
    }

    /// Every distribution's sample mean and second moment agree with its closed form.
    #[test]
    fn sample_moments_match_closed_forms() {
        let dists = vec![
            Dist::Constant(0.25),
            Dist::Uniform { lo: 0.1, hi: 0.3 },
            Dist::Exponential { mean: 0.02 },
            Dist::lognormal_median_p99(0.01, 0.05).unwrap(),
            Dist::gamma(2.0, 0.5).unwrap(),
            Dist::weibull(1.0, 1.5).unwrap(),
            Dist::Pareto {
                xm: 1.0,
                alpha: 4.5,
            },
            Dist::Empirical {
                values: vec![0.0, 1.0, 3.0],
                cumulative: vec![0.5, 1.0],
            },
            Dist::Mixture {
                parts: vec![Dist::Constant(1.0), Dist::Exponential { mean: 3.0 }],
                cumulative: vec![0.25, 1.0],
            },
        ];
        for d in &dists {
            let (m, m2) = sample_mean(d, 400_000);
            assert!(
                (m / d.mean() - 1.0).abs() < 0.01,
                "{d:?}: mean {m} vs {}",
                d.mean()
            );
            assert!(
                (m2 / d.moment(2) - 1.0).abs() < 0.04,
                "{d:?}: m2 {m2} vs {}",
                d.moment(2)
            );
        }
    }

    #[test]
    fn lognormal_by_median_and_p99_hits_both() {
        let d = Dist::lognormal_median_p99(0.010, 0.080).unwrap();
        let mut rng = Rng::seed_from(5);
        let mut xs: Vec<f64> = (0..200_000).map(|_| d.sample_secs(&mut rng)).collect();
        xs.sort_by(f64::total_cmp);
        assert!((xs[100_000] / 0.010 - 1.0).abs() < 0.02);
        assert!((xs[198_000] / 0.080 - 1.0).abs() < 0.05);
    }

    #[test]
    fn gamma_function_known_values() {
        assert!((gamma_fn(5.0) - 24.0).abs() < 1e-10);
        assert!((gamma_fn(0.5) - std::f64::consts::PI.sqrt()).abs() < 1e-12);
    }
}
