//! The sleep before a retry, as in the AWS Architecture Blog's "Exponential Backoff And
//! Jitter" (2015): with `t(n) = min(cap, base * 2^n)` for retry `n` (1 for the first retry),
//!
//! | scheme | sleep |
//! |---|---|
//! | `none` | 0 (retry at once) |
//! | `constant` | `base` |
//! | `exponential` | `t(n)` |
//! | `full` | `U(0, t(n))` |
//! | `equal` | `t(n)/2 + U(0, t(n)/2)` |
//! | `decorrelated` | `min(cap, U(base, 3 * previous))`, the previous sleep starting at `base` |
//!
//! The attempt counter is incremented before the sleep is computed, as in the study's
//! simulator: the first retry sleeps `t(1) = 2 * base` (times a jitter).

use crate::engine::Rng;

/// A backoff scheme. Times in ns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backoff {
    /// Retry at once.
    None,
    /// Always `base`.
    Constant {
        /// Sleep, ns.
        base: u64,
    },
    /// `min(cap, base * 2^n)`.
    Exponential {
        /// Base, ns.
        base: u64,
        /// Cap, ns.
        cap: u64,
    },
    /// `U(0, min(cap, base * 2^n))`.
    Full {
        /// Base, ns.
        base: u64,
        /// Cap, ns.
        cap: u64,
    },
    /// `t/2 + U(0, t/2)` with `t = min(cap, base * 2^n)`.
    Equal {
        /// Base, ns.
        base: u64,
        /// Cap, ns.
        cap: u64,
    },
    /// `min(cap, U(base, 3 * previous))`, the first previous being `base`.
    Decorrelated {
        /// Base, ns.
        base: u64,
        /// Cap, ns.
        cap: u64,
    },
}

impl Backoff {
    /// Scheme names as the scenario spells them.
    pub const NAMES: [&'static str; 6] = [
        "none",
        "constant",
        "exponential",
        "full",
        "equal",
        "decorrelated",
    ];

    /// The scheme `name` with `base` and `cap` (ns); `None` for an unknown name.
    pub fn parse(name: &str, base: u64, cap: u64) -> Option<Backoff> {
        Some(match name {
            "none" => Backoff::None,
            "constant" => Backoff::Constant { base },
            "exponential" => Backoff::Exponential { base, cap },
            "full" => Backoff::Full { base, cap },
            "equal" => Backoff::Equal { base, cap },
            "decorrelated" => Backoff::Decorrelated { base, cap },
            _ => return None,
        })
    }

    /// The scheme's name.
    pub fn name(&self) -> &'static str {
        match self {
            Backoff::None => "none",
            Backoff::Constant { .. } => "constant",
            Backoff::Exponential { .. } => "exponential",
            Backoff::Full { .. } => "full",
            Backoff::Equal { .. } => "equal",
            Backoff::Decorrelated { .. } => "decorrelated",
        }
    }

    /// The largest sleep the scheme can choose, ns.
    pub fn max_sleep(&self) -> u64 {
        match *self {
            Backoff::None => 0,
            Backoff::Constant { base } => base,
            Backoff::Exponential { cap, .. }
            | Backoff::Full { cap, .. }
            | Backoff::Equal { cap, .. }
            | Backoff::Decorrelated { cap, .. } => cap,
        }
    }

    /// The sleep before retry `n` (1 for the first retry), given the previous sleep (0 before
    /// the first retry), ns. Draws from `rng` only for the jittered schemes.
    pub fn sleep(&self, n: u32, previous: u64, rng: &mut Rng) -> u64 {
        let exp = |base: u64, cap: u64| -> f64 {
            // 2^n overflows nothing in f64; the cap bounds the result.
            (base as f64 * 2f64.powi(n.min(1000) as i32)).min(cap as f64)
        };
        match *self {
            Backoff::None => 0,
            Backoff::Constant { base } => base,
            Backoff::Exponential { base, cap } => exp(base, cap) as u64,
            Backoff::Full { base, cap } => (rng.next_f64() * exp(base, cap)) as u64,
            Backoff::Equal { base, cap } => {
                let half = exp(base, cap) / 2.0;
                (half + rng.next_f64() * half) as u64
            }
            Backoff::Decorrelated { base, cap } => {
                let prev = if previous == 0 { base } else { previous };
                let hi = 3.0 * prev as f64;
                let lo = base as f64;
                ((lo + rng.next_f64() * (hi - lo).max(0.0)).min(cap as f64)) as u64
            }
        }
    }

    /// Mean sleep before retry `n` for the non-decorrelated schemes (decorrelated depends on
    /// the history; its mean is returned for a previous sleep of `base`).
    pub fn mean_sleep(&self, n: u32) -> f64 {
        let exp = |base: u64, cap: u64| (base as f64 * 2f64.powi(n as i32)).min(cap as f64);
        match *self {
            Backoff::None => 0.0,
            Backoff::Constant { base } => base as f64,
            Backoff::Exponential { base, cap } => exp(base, cap),
            Backoff::Full { base, cap } => exp(base, cap) / 2.0,
            Backoff::Equal { base, cap } => 0.75 * exp(base, cap),
            Backoff::Decorrelated { base, cap } => (2.0 * base as f64).min(cap as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    /// Kolmogorov-Smirnov statistic of `xs` against the CDF `f`.
    fn ks(mut xs: Vec<f64>, f: impl Fn(f64) -> f64) -> f64 {
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        xs.iter()
            .enumerate()
            .map(|(i, &x)| {
                let c = f(x);
                (c - i as f64 / n).abs().max((c - (i + 1) as f64 / n).abs())
            })
            .fold(0.0, f64::max)
    }

    /// The KS critical value at the 0.1 % level for `n` samples.
    fn ks_critical(n: usize) -> f64 {
        1.95 / (n as f64).sqrt()
    }

    fn draws(b: Backoff, n: u32, prev: u64, k: usize) -> Vec<f64> {
        let mut rng = Rng::seed_from(7);
        (0..k).map(|_| b.sleep(n, prev, &mut rng) as f64).collect()
    }

    #[test]
    fn deterministic_schemes_follow_the_formulas() {
        let mut rng = Rng::seed_from(1);
        let e = Backoff::Exponential {
            base: 5 * MS,
            cap: 2000 * MS,
        };
        let got: Vec<u64> = (1..=10).map(|n| e.sleep(n, 0, &mut rng) / MS).collect();
        assert_eq!(got, [10, 20, 40, 80, 160, 320, 640, 1280, 2000, 2000]);
        assert_eq!(Backoff::Constant { base: 3 }.sleep(9, 0, &mut rng), 3);
        assert_eq!(Backoff::None.sleep(9, 0, &mut rng), 0);
    }

    #[test]
    fn full_jitter_is_uniform_below_the_exponential() {
        let b = Backoff::Full {
            base: 5 * MS,
            cap: 2000 * MS,
        };
        let t = 40.0 * MS as f64; // n = 3
        let d = ks(draws(b, 3, 0, 20_000), |x| (x / t).clamp(0.0, 1.0));
        assert!(d < ks_critical(20_000), "KS {d}");
        // And a wrong hypothesis is rejected: uniform on (0, 2t).
        let wrong = ks(draws(b, 3, 0, 20_000), |x| (x / (2.0 * t)).clamp(0.0, 1.0));
        assert!(wrong > ks_critical(20_000), "KS {wrong}");
    }

    #[test]
    fn equal_jitter_is_uniform_on_the_upper_half() {
        let b = Backoff::Equal {
            base: 5 * MS,
            cap: 2000 * MS,
        };
        let t = 2000.0 * MS as f64; // capped: n = 12
        let d = ks(draws(b, 12, 0, 20_000), |x| {
            ((x - t / 2.0) / (t / 2.0)).clamp(0.0, 1.0)
        });
        assert!(d < ks_critical(20_000), "KS {d}");
    }

    #[test]
    fn decorrelated_jitter_is_uniform_from_base_to_three_times_the_last_sleep() {
        let (base, cap) = (5 * MS, 2000 * MS);
        let b = Backoff::Decorrelated { base, cap };
        let prev = 30 * MS;
        let (lo, hi) = (base as f64, 3.0 * prev as f64);
        let d = ks(draws(b, 4, prev, 20_000), |x| {
            ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
        });
        assert!(d < ks_critical(20_000), "KS {d}");
        // The first retry starts from base; a long history is capped.
        assert!(
            draws(b, 1, 0, 1000)
                .iter()
                .all(|&x| x >= lo && x <= 15.0 * MS as f64)
        );
        assert!(draws(b, 9, cap, 1000).iter().all(|&x| x <= cap as f64));
    }

    #[test]
    fn means_match_the_draws() {
        for b in [
            Backoff::Full {
                base: MS,
                cap: 100 * MS,
            },
            Backoff::Equal {
                base: MS,
                cap: 100 * MS,
            },
        ] {
            let xs = draws(b, 4, 0, 50_000);
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            assert!((mean / b.mean_sleep(4) - 1.0).abs() < 0.01, "{b:?}: {mean}");
        }
    }

    #[test]
    fn names_round_trip() {
        for n in Backoff::NAMES {
            assert_eq!(Backoff::parse(n, 1, 2).unwrap().name(), n);
        }
        assert!(Backoff::parse("fibonacci", 1, 2).is_none());
    }
}
