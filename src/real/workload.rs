//! Who asks for what: key popularity, class mix and open-loop arrival streams.
//!
//! Keys are popularity ranks (0 is the most popular). [`KeyDist`] describes the popularity law
//! and [`KeySampler`] draws from it; [`ClassPicker`] draws a class from relative weights;
//! [`poisson_arrivals`] builds a seeded open-loop stream for [`crate::real::plan::Load::Open`].
//! Every random stream comes from [`stream_rng`]`(seed, stream)`, so the same seed gives the
//! same requests whatever strategy is under test (common random numbers).

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, RngExt, SeedableRng};
use rand_distr::{Distribution, Zipf};

use super::plan::{Arrival, RealError};
use crate::engine::mix64;

/// Popularity of keys.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyDist {
    /// Every key in `0..n` equally likely.
    Uniform {
        /// Number of keys.
        n: u64,
    },
    /// Key `k` (rank `k + 1`) has probability proportional to `1 / (k + 1)^alpha`.
    Zipf {
        /// Number of keys.
        n: u64,
        /// Exponent (0 is uniform; around 1 for web popularity).
        alpha: f64,
    },
    /// A hot set: the first `hot_fraction` of the keys receives `hot_share` of the requests,
    /// uniformly; the rest share the remainder uniformly.
    Hotspot {
        /// Number of keys.
        n: u64,
        /// Fraction of the keys that are hot, in (0, 1].
        hot_fraction: f64,
        /// Fraction of requests that go to the hot keys, in [0, 1].
        hot_share: f64,
    },
}

impl KeyDist {
    /// Number of keys.
    pub fn n(&self) -> u64 {
        match *self {
            KeyDist::Uniform { n } | KeyDist::Zipf { n, .. } | KeyDist::Hotspot { n, .. } => n,
        }
    }

    /// A sampler, or an error for invalid parameters.
    pub fn sampler(&self) -> Result<KeySampler, RealError> {
        let bad = |m: &str| Err(RealError::InvalidPlan(format!("key distribution: {m}")));
        if self.n() == 0 {
            return bad("n must be positive");
        }
        let inner = match *self {
            KeyDist::Uniform { n } => Inner::Uniform(n),
            KeyDist::Zipf { n, alpha } => {
                if !(alpha.is_finite() && alpha >= 0.0) {
                    return bad("zipf alpha must be finite and >= 0");
                }
                #[allow(clippy::cast_precision_loss)]
                let zipf = Zipf::new(n as f64, alpha)
                    .map_err(|e| RealError::InvalidPlan(format!("key distribution: {e}")))?;
                Inner::Zipf(zipf, n)
            }
            KeyDist::Hotspot {
                n,
                hot_fraction,
                hot_share,
            } => {
                if !(hot_fraction > 0.0 && hot_fraction <= 1.0) {
                    return bad("hot_fraction must be in (0, 1]");
                }
                if !(0.0..=1.0).contains(&hot_share) {
                    return bad("hot_share must be in [0, 1]");
                }
                Inner::Hotspot {
                    n,
                    hot: hot_count(n, hot_fraction),
                    share: hot_share,
                }
            }
        };
        Ok(KeySampler(inner))
    }
}

#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
fn hot_count(n: u64, fraction: f64) -> u64 {
    ((n as f64 * fraction).round() as u64).clamp(1, n)
}

/// Draws keys from a [`KeyDist`].
#[derive(Debug, Clone)]
pub struct KeySampler(Inner);

#[derive(Debug, Clone)]
enum Inner {
    Uniform(u64),
    Zipf(Zipf<f64>, u64),
    Hotspot { n: u64, hot: u64, share: f64 },
}

impl KeySampler {
    /// One key in `0..n`.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        match &self.0 {
            Inner::Uniform(n) => rng.random_range(0..*n),
            Inner::Zipf(z, n) => {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let rank = z.sample(rng) as u64;
                rank.saturating_sub(1).min(n - 1)
            }
            Inner::Hotspot { n, hot, share } => {
                if *hot == *n || rng.random::<f64>() < *share {
                    rng.random_range(0..*hot)
                } else {
                    rng.random_range(*hot..*n)
                }
            }
        }
    }
}

/// Draws a class index from relative weights.
#[derive(Debug, Clone)]
pub struct ClassPicker {
    cumulative: Vec<f64>,
}

impl ClassPicker {
    /// From non-negative weights with a positive sum.
    pub fn new(weights: &[f64]) -> Result<Self, RealError> {
        if weights.is_empty() || weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(RealError::InvalidPlan(
                "class weights must be finite and >= 0".into(),
            ));
        }
        let mut acc = 0.0;
        let cumulative: Vec<f64> = weights
            .iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        if acc <= 0.0 {
            return Err(RealError::InvalidPlan(
                "class weights must not all be zero".into(),
            ));
        }
        Ok(ClassPicker { cumulative })
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.cumulative.len()
    }

    /// Whether there are no classes (never true for a constructed picker).
    pub fn is_empty(&self) -> bool {
        self.cumulative.is_empty()
    }

    /// One class index.
    pub fn pick<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.random::<f64>() * total;
        let i = self
            .cumulative
            .partition_point(|c| *c <= x)
            .min(self.cumulative.len() - 1);
        u32::try_from(i).unwrap_or(u32::MAX)
    }
}

/// The random stream number `stream` of root seed `seed`.
pub fn stream_rng(seed: u64, stream: u64) -> SmallRng {
    SmallRng::seed_from_u64(mix64(seed ^ mix64(stream.wrapping_add(0x5CA1_E51B))))
}

/// A seeded Poisson arrival stream (see [`poisson_arrivals`]).
#[derive(Debug, Clone)]
pub struct PoissonArrivals {
    rng: SmallRng,
    mean_gap_ns: f64,
    t_ns: f64,
    horizon_ns: f64,
    classes: ClassPicker,
    keys: KeySampler,
}

impl Iterator for PoissonArrivals {
    type Item = Arrival;

    fn next(&mut self) -> Option<Arrival> {
        let u: f64 = self.rng.random();
        self.t_ns += -(1.0 - u).ln() * self.mean_gap_ns;
        if self.t_ns >= self.horizon_ns {
            return None;
        }
        let class = self.classes.pick(&mut self.rng);
        let key = self.keys.sample(&mut self.rng);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(Arrival {
            at_ns: self.t_ns as u64,
            class,
            key,
        })
    }
}

/// Poisson arrivals at `rate_per_s` until `horizon`, classes drawn from `weights`, keys from
/// `keys`, reproducible from `seed`.
pub fn poisson_arrivals(
    rate_per_s: f64,
    horizon: Duration,
    weights: &[f64],
    keys: &KeyDist,
    seed: u64,
) -> Result<PoissonArrivals, RealError> {
    if !(rate_per_s.is_finite() && rate_per_s > 0.0) {
        return Err(RealError::InvalidPlan(
            "arrival rate must be positive".into(),
        ));
    }
    Ok(PoissonArrivals {
        rng: stream_rng(seed, 0xA771_7A15),
        mean_gap_ns: 1e9 / rate_per_s,
        t_ns: 0.0,
        horizon_ns: horizon.as_secs_f64() * 1e9,
        classes: ClassPicker::new(weights)?,
        keys: keys.sampler()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(d: KeyDist, draws: usize) -> Vec<usize> {
        let s = d.sampler().unwrap();
        let mut rng = stream_rng(7, 1);
        let mut c = vec![0usize; usize::try_from(d.n()).unwrap()];
        for _ in 0..draws {
            c[usize::try_from(s.sample(&mut rng)).unwrap()] += 1;
        }
        c
    }

    #[test]
    fn uniform_covers_all_keys_evenly() {
        let c = counts(KeyDist::Uniform { n: 10 }, 100_000);
        assert!(c.iter().all(|&x| (9_000..11_000).contains(&x)), "{c:?}");
    }

    #[test]
    fn zipf_favours_low_ranks_in_the_right_ratio() {
        let c = counts(KeyDist::Zipf { n: 100, alpha: 1.0 }, 200_000);
        // p(rank 1) / p(rank 2) = 2 for alpha = 1.
        let ratio = c[0] as f64 / c[1] as f64;
        assert!((1.85..2.15).contains(&ratio), "{ratio}");
        assert!(c[0] > c[99] * 50);
    }

    #[test]
    fn hotspot_sends_its_share_to_the_hot_keys() {
        let d = KeyDist::Hotspot {
            n: 1000,
            hot_fraction: 0.1,
            hot_share: 0.9,
        };
        let c = counts(d, 100_000);
        let hot: usize = c[..100].iter().sum();
        assert!((89_000..91_000).contains(&hot), "{hot}");
    }

    #[test]
    fn bad_distributions_are_refused() {
        assert!(KeyDist::Uniform { n: 0 }.sampler().is_err());
        assert!(KeyDist::Zipf { n: 10, alpha: -1.0 }.sampler().is_err());
        assert!(
            KeyDist::Zipf {
                n: 10,
                alpha: f64::NAN
            }
            .sampler()
            .is_err()
        );
        assert!(
            KeyDist::Hotspot {
                n: 10,
                hot_fraction: 0.0,
                hot_share: 0.5
            }
            .sampler()
            .is_err()
        );
        assert!(
            KeyDist::Hotspot {
                n: 10,
                hot_fraction: 0.5,
                hot_share: 1.5
            }
            .sampler()
            .is_err()
        );
    }

    #[test]
    fn class_picker_follows_weights_and_skips_zero_weights() {
        let p = ClassPicker::new(&[1.0, 0.0, 3.0]).unwrap();
        let mut rng = stream_rng(1, 2);
        let mut c = [0usize; 3];
        for _ in 0..40_000 {
            c[p.pick(&mut rng) as usize] += 1;
        }
        assert_eq!(c[1], 0);
        assert!((9_000..11_000).contains(&c[0]), "{c:?}");
        assert!(ClassPicker::new(&[0.0]).is_err() && ClassPicker::new(&[]).is_err());
    }

    #[test]
    fn poisson_stream_is_reproducible_ordered_and_has_the_right_rate() {
        let keys = KeyDist::Uniform { n: 100 };
        let a: Vec<_> = poisson_arrivals(1000.0, Duration::from_secs(10), &[1.0], &keys, 3)
            .unwrap()
            .collect();
        let b: Vec<_> = poisson_arrivals(1000.0, Duration::from_secs(10), &[1.0], &keys, 3)
            .unwrap()
            .collect();
        assert_eq!(a, b);
        assert!(a.windows(2).all(|w| w[0].at_ns <= w[1].at_ns));
        assert!((9_700..10_300).contains(&a.len()), "{}", a.len());
        assert!(a.last().unwrap().at_ns < 10_000_000_000);
    }

    #[test]
    fn streams_differ_by_seed_and_stream() {
        let x = |s, t| stream_rng(s, t).random::<u64>();
        assert_ne!(x(1, 1), x(1, 2));
        assert_ne!(x(1, 1), x(2, 1));
        assert_eq!(x(5, 5), x(5, 5));
    }
}
