//! Who asks for what in a real run: the simulator's workload generator, not a copy of it.
//!
//! Classes and keys are drawn by the simulator's [`Mix`] (its cumulative class weights and its
//! [`KeyDist`]), from [`Rng`] streams. [`mix`] builds a `Mix` from relative class weights, as a
//! hand-written plan gives them; [`poisson_arrivals`] is the simulator's [`ArrivalIter`] over a
//! constant-rate Poisson process, a seeded open-loop stream for
//! [`crate::real::plan::Load::Open`]; [`stream_rng`] derives the other random streams of a run
//! (the data set, each closed-loop user) from `(seed, stream number)`, so the same seed gives the
//! same requests whatever strategy is under test (common random numbers).

use std::time::Duration;

use super::plan::RealError;
use crate::engine::{Rng, mix64};
use crate::model::workload::{ArrivalIter, Arrivals, KeyDist, Mix, RateProfile, Stages};

/// The class and key mix of relative class `weights` (finite, >= 0, not all zero) and `keys`.
pub fn mix(weights: &[f64], keys: KeyDist) -> Result<Mix, RealError> {
    let total: f64 = weights.iter().sum();
    if weights.is_empty() || weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
        return Err(RealError::InvalidPlan(
            "class weights must be finite and >= 0".into(),
        ));
    }
    if total <= 0.0 {
        return Err(RealError::InvalidPlan(
            "class weights must not all be zero".into(),
        ));
    }
    let mut acc = 0.0;
    let mut cumulative: Vec<f64> = weights
        .iter()
        .map(|w| {
            acc += w / total;
            acc
        })
        .collect();
    *cumulative.last_mut().expect("non-empty") = 1.0;
    let mix = Mix { cumulative, keys };
    check_mix(&mix)?;
    Ok(mix)
}

/// Refuses a mix the simulator's draws would misread: cumulative class probabilities that are
/// empty, not finite, decreasing or not ending at 1, or invalid key parameters.
pub(crate) fn check_mix(mix: &Mix) -> Result<(), RealError> {
    let c = &mix.cumulative;
    let increasing = c.windows(2).all(|w| w[0] <= w[1]);
    if c.is_empty() || !increasing || c.iter().any(|x| !x.is_finite() || *x < 0.0) {
        return Err(RealError::InvalidPlan(format!(
            "class mix: cumulative probabilities must be finite and non-decreasing, not {c:?}"
        )));
    }
    if c.last() != Some(&1.0) {
        return Err(RealError::InvalidPlan(format!(
            "class mix: cumulative probabilities must end at 1, not {c:?}"
        )));
    }
    mix.keys
        .check()
        .map_err(|m| RealError::InvalidPlan(format!("key distribution: {m}")))
}

/// The random stream number `stream` of root seed `seed`.
pub fn stream_rng(seed: u64, stream: u64) -> Rng {
    Rng::seed_from(mix64(seed ^ mix64(stream.wrapping_add(0x5CA1_E51B))))
}

/// Poisson arrivals at `rate_per_s` until `horizon`, classes drawn from `weights`, keys from
/// `keys`: the simulator's arrivals for a constant-rate `poisson` workload seeded with `seed`.
pub fn poisson_arrivals(
    rate_per_s: f64,
    horizon: Duration,
    weights: &[f64],
    keys: &KeyDist,
    seed: u64,
) -> Result<ArrivalIter, RealError> {
    if !(rate_per_s.is_finite() && rate_per_s > 0.0) {
        return Err(RealError::InvalidPlan(
            "arrival rate must be positive".into(),
        ));
    }
    let process = Arrivals::Poisson(RateProfile::Stages(Stages {
        start: rate_per_s,
        points: Vec::new(),
    }));
    let end_ns = u64::try_from(horizon.as_nanos()).unwrap_or(u64::MAX);
    Ok(ArrivalIter::new(
        process,
        mix(weights, keys.clone())?,
        seed,
        end_ns,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_follows_weights_and_skips_zero_weights() {
        let m = mix(&[1.0, 0.0, 3.0], KeyDist::None).unwrap();
        let mut rng = stream_rng(1, 2);
        let mut c = [0usize; 3];
        for _ in 0..40_000 {
            c[usize::from(m.class(&mut rng))] += 1;
        }
        assert_eq!(c[1], 0);
        assert!((9_000..11_000).contains(&c[0]), "{c:?}");
    }

    #[test]
    fn bad_mixes_are_refused() {
        assert!(mix(&[0.0], KeyDist::None).is_err());
        assert!(mix(&[], KeyDist::None).is_err());
        assert!(mix(&[1.0, f64::NAN], KeyDist::None).is_err());
        assert!(mix(&[1.0], KeyDist::Uniform { n: 0 }).is_err());
        let hot = KeyDist::Hotspot {
            n: 10,
            hot_fraction: 0.5,
            hot_share: 1.5,
        };
        assert!(mix(&[1.0], hot).is_err());
        let unsorted = Mix {
            cumulative: vec![0.7, 0.5, 1.0],
            keys: KeyDist::None,
        };
        assert!(check_mix(&unsorted).is_err());
        let short = Mix {
            cumulative: vec![0.5, 0.9],
            keys: KeyDist::None,
        };
        assert!(check_mix(&short).is_err());
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
        assert!(a.iter().all(|x| x.key < 100 && x.class == 0));
        assert!(poisson_arrivals(0.0, Duration::from_secs(1), &[1.0], &keys, 3).is_err());
    }

    #[test]
    fn poisson_stream_draws_keys_from_the_shared_law() {
        let keys = KeyDist::zipf(1000, 1.0).unwrap();
        let a: Vec<_> = poisson_arrivals(1000.0, Duration::from_secs(20), &[1.0], &keys, 5)
            .unwrap()
            .collect();
        let zero = a.iter().filter(|x| x.key == 0).count() as f64 / a.len() as f64;
        // P(key 0) = 1 / H_1000 = 0.1336.
        assert!((zero - 0.1336).abs() < 0.015, "{zero}");
    }

    #[test]
    fn streams_differ_by_seed_and_stream() {
        let x = |s, t| stream_rng(s, t).next_u64();
        assert_ne!(x(1, 1), x(1, 2));
        assert_ne!(x(1, 1), x(2, 1));
        assert_eq!(x(5, 5), x(5, 5));
    }

    /// The data set and the users' draws come from these streams: they must not change, or a
    /// database loaded by an earlier version would no longer match its `scalesim_meta`.
    #[test]
    fn streams_are_those_of_the_reference() {
        let cases = [
            (
                1,
                1,
                [
                    13_497_496_911_592_769_316,
                    878_989_031_607_949_914,
                    2_203_802_805_288_110_321,
                ],
            ),
            (
                42,
                0x05E2_0003,
                [
                    1_085_780_868_885_844_505,
                    284_265_967_081_012_849,
                    16_344_259_082_423_216_293,
                ],
            ),
            (
                7,
                0x9120_D0C7,
                [
                    3_397_373_754_915_055_334,
                    510_622_488_695_905_472,
                    5_927_527_991_519_928_017,
                ],
            ),
        ];
        for (seed, stream, want) in cases {
            let mut r = stream_rng(seed, stream);
            assert_eq!([r.next_u64(), r.next_u64(), r.next_u64()], want);
        }
    }
}
