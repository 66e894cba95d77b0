//! Key popularity: which key a request asks for. One law and one sampler for the simulator and
//! the real drivers, so a Zipf(0.99) over 20,000 products means the same draws on both sides.
//!
//! Keys are popularity ranks: key 0 is the most popular. Draws come from the caller's
//! [`Rng`] (the `workload.keys` stream in the simulator, a per-user stream in the real closed
//! loop), and each law uses a fixed number of draws per key whatever its outcome, except Zipf,
//! whose rejection sampler uses as many as it needs.

use rand_distr::{Distribution, Zipf};

use crate::engine::Rng;

/// Popularity of request keys.
#[allow(missing_docs)] // fields are described on each variant
#[derive(Debug, Clone)]
pub enum KeyDist {
    /// No keys (0).
    None,
    /// Uniform over `0..n`.
    Uniform { n: u64 },
    /// Zipf(alpha) over `0..n`: key 0 is the most popular. Build it with [`KeyDist::zipf`],
    /// which makes the sampler.
    Zipf {
        n: u64,
        alpha: f64,
        sampler: Zipf<f64>,
    },
    /// A fraction `hot_fraction` (in (0, 1]) of the keys, the first ones, receives `hot_share`
    /// (in [0, 1]) of the requests, uniformly; the other keys share the rest uniformly.
    Hotspot {
        n: u64,
        hot_fraction: f64,
        hot_share: f64,
    },
    /// The inner distribution's key `k` becomes `(k * mul + add) mod n`, a bijection of
    /// `0..n` (`mul` is coprime with `n`): popularity no longer follows key order, as when
    /// users sorted by name are not popular in name order. Build it with
    /// [`KeyDist::scattered`].
    Scattered {
        inner: Box<KeyDist>,
        n: u64,
        mul: u64,
        add: u64,
    },
}

impl KeyDist {
    /// Zipf over `n` keys with exponent `alpha` (`None` for invalid parameters).
    pub fn zipf(n: u64, alpha: f64) -> Option<KeyDist> {
        Zipf::new(n as f64, alpha)
            .ok()
            .map(|sampler| KeyDist::Zipf { n, alpha, sampler })
    }

    /// `inner` with its keys scattered over `0..n` ([`KeyDist::Scattered`]).
    pub fn scattered(inner: KeyDist, n: u64) -> KeyDist {
        // The golden-ratio multiplier, made odd and then coprime with n.
        let mut mul = (0x9E37_79B9_7F4A_7C15u64 % n.max(1)) | 1;
        while n > 1 && gcd(mul, n) != 1 {
            mul += 2;
        }
        KeyDist::Scattered {
            inner: Box::new(inner),
            n,
            mul: mul % n.max(1),
            add: crate::engine::mix64(n) % n.max(1),
        }
    }

    /// The size of the key space (0 without keys).
    pub fn space(&self) -> u64 {
        match *self {
            KeyDist::None => 0,
            KeyDist::Uniform { n }
            | KeyDist::Zipf { n, .. }
            | KeyDist::Hotspot { n, .. }
            | KeyDist::Scattered { n, .. } => n,
        }
    }

    /// Whether the parameters make sense, and if not, why: no keys (`n` = 0), a negative or
    /// infinite Zipf exponent, a hot fraction outside (0, 1] or a hot share outside [0, 1].
    /// [`KeyDist::sample`] assumes they do.
    pub fn check(&self) -> Result<(), String> {
        let n = match *self {
            KeyDist::None => return Ok(()),
            KeyDist::Scattered { ref inner, .. } => return inner.check(),
            KeyDist::Uniform { n } | KeyDist::Zipf { n, .. } | KeyDist::Hotspot { n, .. } => n,
        };
        if n == 0 {
            return Err("n must be at least 1".into());
        }
        match *self {
            KeyDist::Zipf { alpha, .. } if !(alpha.is_finite() && alpha >= 0.0) => {
                Err(format!("zipf alpha must be finite and >= 0, not {alpha}"))
            }
            KeyDist::Hotspot { hot_fraction, .. }
                if !(hot_fraction > 0.0 && hot_fraction <= 1.0) =>
            {
                Err(format!(
                    "hot_fraction must be in (0, 1], not {hot_fraction}"
                ))
            }
            KeyDist::Hotspot { hot_share, .. } if !(0.0..=1.0).contains(&hot_share) => {
                Err(format!("hot_share must be in [0, 1], not {hot_share}"))
            }
            _ => Ok(()),
        }
    }

    /// Draws a key.
    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        match self {
            KeyDist::None => 0,
            KeyDist::Uniform { n } => rng.below(*n),
            KeyDist::Zipf { sampler, n, .. } => (sampler.sample(rng) as u64).clamp(1, *n) - 1,
            KeyDist::Hotspot {
                n,
                hot_fraction,
                hot_share,
            } => {
                let hot = ((*n as f64 * hot_fraction).ceil() as u64).clamp(1, *n);
                if rng.next_f64() < *hot_share || hot == *n {
                    rng.below(hot)
                } else {
                    hot + rng.below(n - hot)
                }
            }
            KeyDist::Scattered { inner, n, mul, add } => {
                ((u128::from(inner.sample(rng)) * u128::from(*mul) + u128::from(*add))
                    % u128::from(*n)) as u64
            }
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How often each key of `0..n` is drawn in `draws` draws.
    fn counts(d: &KeyDist, n: usize, draws: usize) -> Vec<usize> {
        let mut rng = Rng::seed_from(7);
        let mut c = vec![0usize; n];
        for _ in 0..draws {
            c[d.sample(&mut rng) as usize] += 1;
        }
        c
    }

    #[test]
    fn scattering_is_a_bijection_that_keeps_the_popularity_profile() {
        for n in [1u64, 2, 10, 12, 1000, 1_000_003] {
            let KeyDist::Scattered { mul, .. } = KeyDist::scattered(KeyDist::Uniform { n }, n)
            else {
                panic!("a scattered distribution");
            };
            assert_eq!(gcd(mul.max(1), n), 1, "n {n}");
        }
        let n = 1000;
        let d = KeyDist::scattered(KeyDist::zipf(n, 1.0).unwrap(), n);
        let c = counts(&d, n as usize, 100_000);
        let mut sorted = c.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        // The hottest key still gets 1 / H_1000, but it is no longer key 0, and the counts,
        // sorted, keep Zipf's ratios (rank 1 twice rank 2).
        assert!((sorted[0] as f64 / 100_000.0 - 0.1336).abs() < 0.005);
        assert!(c[0] < sorted[0] / 2);
        let ratio = sorted[0] as f64 / sorted[1] as f64;
        assert!((ratio - 2.0).abs() < 0.15, "{ratio}");
    }

    #[test]
    fn uniform_covers_all_keys_evenly() {
        let c = counts(&KeyDist::Uniform { n: 10 }, 10, 100_000);
        assert!(c.iter().all(|&x| (9_000..11_000).contains(&x)), "{c:?}");
    }

    #[test]
    fn zipf_key_zero_is_most_popular() {
        let k = KeyDist::zipf(1000, 1.0).unwrap();
        let c = counts(&k, 1000, 100_000);
        // P(key 0) = 1 / H_1000 = 0.1336.
        assert!((c[0] as f64 / 100_000.0 - 0.1336).abs() < 0.005);
        assert!(c[0] > c[1] && c[1] > c[9]);
    }

    #[test]
    fn zipf_favours_low_ranks_in_the_right_ratio() {
        let c = counts(&KeyDist::zipf(100, 1.0).unwrap(), 100, 200_000);
        // p(rank 1) / p(rank 2) = 2 for alpha = 1.
        let ratio = c[0] as f64 / c[1] as f64;
        assert!((1.85..2.15).contains(&ratio), "{ratio}");
        assert!(c[0] > c[99] * 50);
    }

    #[test]
    fn hotspot_sends_its_share_to_the_hot_keys() {
        let k = KeyDist::Hotspot {
            n: 1000,
            hot_fraction: 0.1,
            hot_share: 0.8,
        };
        let hot: usize = counts(&k, 1000, 100_000)[..100].iter().sum();
        assert!((hot as f64 / 100_000.0 - 0.8).abs() < 0.01, "{hot}");
    }

    #[test]
    fn bad_parameters_are_reported() {
        let hotspot = |hot_fraction, hot_share| KeyDist::Hotspot {
            n: 10,
            hot_fraction,
            hot_share,
        };
        let zipf = |alpha| KeyDist::Zipf {
            n: 10,
            alpha,
            sampler: Zipf::new(10.0, 1.0).unwrap(),
        };
        for bad in [
            KeyDist::Uniform { n: 0 },
            hotspot(0.0, 0.5),
            hotspot(1.5, 0.5),
            hotspot(0.5, 1.5),
            hotspot(0.5, f64::NAN),
            zipf(-1.0),
            zipf(f64::NAN),
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
        assert!(KeyDist::zipf(0, 1.0).is_none() && KeyDist::zipf(10, -1.0).is_none());
        for good in [
            KeyDist::None,
            KeyDist::Uniform { n: 1 },
            hotspot(1.0, 0.0),
            KeyDist::zipf(10, 0.0).unwrap(),
        ] {
            assert_eq!(good.check(), Ok(()), "{good:?}");
        }
    }

    /// The simulator's draws must not change: these are the first keys of each law from the
    /// `workload.keys` stream of seed 7, and the stream's next word (draws consumed).
    #[test]
    fn draws_are_those_of_the_reference() {
        let hotspot = |n, hot_fraction, hot_share| KeyDist::Hotspot {
            n,
            hot_fraction,
            hot_share,
        };
        let cases = [
            (
                KeyDist::Uniform { n: 1000 },
                [783, 320, 616, 123, 134, 295, 482, 901, 613, 963, 504, 490],
                3_098_847_980_876_932_821,
            ),
            (
                KeyDist::zipf(1000, 0.99).unwrap(),
                [189, 51, 1, 18, 50, 21, 1, 22, 2, 83, 427, 45],
                16_517_281_177_696_108_271,
            ),
            (
                KeyDist::zipf(20_000, 1.2).unwrap(),
                [147, 20, 0, 6, 7, 0, 0, 0, 8, 1, 39, 905],
                11_060_590_237_437_980_069,
            ),
            (
                hotspot(1000, 0.1, 0.8),
                [32, 12, 29, 90, 96, 49, 15, 91, 63, 52, 25, 49],
                16_393_203_474_055_960_453,
            ),
            (
                hotspot(10, 1.0, 0.5),
                [3, 1, 2, 9, 9, 4, 1, 9, 6, 5, 2, 4],
                16_393_203_474_055_960_453,
            ),
            (KeyDist::None, [0; 12], 14_444_290_342_340_911_441),
        ];
        for (d, keys, next) in cases {
            let mut rng = Rng::stream(7, crate::model::workload::STREAM_KEYS);
            let got: Vec<u64> = (0..12).map(|_| d.sample(&mut rng)).collect();
            assert_eq!((got.as_slice(), rng.next_u64()), (&keys[..], next), "{d:?}");
        }
    }
}
