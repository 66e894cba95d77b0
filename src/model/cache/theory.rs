//! Hit ratios under the independent reference model (IRM: every request asks for key `i` with
//! probability `p_i`, Zipf here), against results computed here from their formulas:
//!
//! - LRU: Che's approximation (Che, Tung and Wang, IEEE JSAC 2002): the characteristic time
//!   `T` solves `sum_i (1 - exp(-p_i T)) = C`, and `h = sum_i p_i (1 - exp(-p_i T))`.
//! - FIFO and RANDOM: Gelenbe (1973): both have the stationary law `P(S) ∝ prod_{i in S} p_i`
//!   over resident sets `S` of size `C`, so their exact hit ratio comes from enumerating the
//!   sets of a small case; for large `N`, the fixed point `h_i = p_i T / (1 + p_i T)` with
//!   `sum_i h_i = C` (Fricker, Robert and Roberts, ITC 2012; Martina, Garetto and Leonardi,
//!   INFOCOM 2014).
//! - Perfect LFU keeps the `C` most popular keys: `h = sum of the C largest p_i`.
//! - LFU ≥ LRU ≥ FIFO under the IRM (van den Berg and Gandolfi, 1992, for LRU ≥ FIFO).
//! - TTL caches of unbounded size under Poisson requests at rate `λ`: a key requested at rate
//!   `a = p_i λ` hits with probability `1 - exp(-a TTL)` if hits restart the TTL (the gap since
//!   the previous request is below the TTL) and `a TTL / (1 + a TTL)` if they do not (a renewal
//!   cycle is one miss and, on average, `a TTL` hits).
//! - S3-FIFO's hit ratio at least LRU's on Zipf(0.99), as the paper reports (Yang et al.,
//!   SOSP 2023, Fig. 5 on synthetic Zipf traces).
//!
//! Keys are drawn from the exact `p_i` by inverting the CDF (the laws are then those of the
//! formulas), except in the S3-FIFO test, which uses the simulator's [`KeyDist`].

use super::*;
use crate::model::workload::KeyDist;

/// Zipf(alpha) probabilities over `n` keys, key 0 the most popular.
fn zipf(n: usize, alpha: f64) -> Vec<f64> {
    let w: Vec<f64> = (1..=n).map(|i| (i as f64).powf(-alpha)).collect();
    let total: f64 = w.iter().sum();
    w.iter().map(|x| x / total).collect()
}

/// Draws keys from `p` by inverting its CDF.
struct Keys {
    cdf: Vec<f64>,
    rng: Rng,
}

impl Keys {
    fn new(p: &[f64], seed: u64) -> Keys {
        let cdf = p
            .iter()
            .scan(0.0, |acc, x| {
                *acc += x;
                Some(*acc)
            })
            .collect();
        Keys {
            cdf,
            rng: Rng::seed_from(seed),
        }
    }

    fn draw(&mut self) -> u64 {
        let u = self.rng.next_f64();
        (self.cdf.partition_point(|&c| c <= u) as u64).min(self.cdf.len() as u64 - 1)
    }
}

fn spec(policy: Policy, capacity: u64) -> CacheSpec {
    CacheSpec {
        capacity,
        bytes: None,
        policy,
        ttl: None,
    }
}

/// The hit ratio of `policy` with `capacity` entries over `keys`, after `warm` requests.
fn hit_ratio(policy: Policy, capacity: u64, keys: &[u64], warm: usize, n: u64) -> f64 {
    let mut c = Cache::new(&spec(policy, capacity), n, 11).unwrap();
    for (i, &k) in keys.iter().enumerate() {
        if i == warm {
            c.reset_stats();
        }
        if c.lookup(k, 0) == Lookup::Miss {
            c.insert(k, 0, 1, 0);
        }
    }
    c.stats().hit_ratio()
}

/// `count` keys drawn from `p`.
fn draws(p: &[f64], count: usize, seed: u64) -> Vec<u64> {
    let mut k = Keys::new(p, seed);
    (0..count).map(|_| k.draw()).collect()
}

/// The `x` in `[0, hi]` where the increasing `f` reaches `target`, by bisection.
fn solve(f: impl Fn(f64) -> f64, target: f64) -> f64 {
    let mut hi = 1.0;
    while f(hi) < target {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Che's approximation of LRU's hit ratio.
fn che(p: &[f64], c: usize) -> f64 {
    let occ = |t: f64, pi: f64| 1.0 - (-pi * t).exp();
    let t = solve(|t| p.iter().map(|&pi| occ(t, pi)).sum(), c as f64);
    p.iter().map(|&pi| pi * occ(t, pi)).sum()
}

/// The fixed-point approximation of FIFO's and RANDOM's hit ratio.
fn fifo_fixed_point(p: &[f64], c: usize) -> f64 {
    let occ = |t: f64, pi: f64| pi * t / (1.0 + pi * t);
    let t = solve(|t| p.iter().map(|&pi| occ(t, pi)).sum(), c as f64);
    p.iter().map(|&pi| pi * occ(t, pi)).sum()
}

/// Gelenbe's exact FIFO/RANDOM hit ratio: over every resident set `S` of size `c`, weight
/// `prod_{i in S} p_i`, hit ratio `sum_{i in S} p_i` (small `p.len()` only).
fn gelenbe_exact(p: &[f64], c: u32) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for set in 0u32..(1 << p.len()) {
        if set.count_ones() != c {
            continue;
        }
        let members = (0..p.len()).filter(|i| set & (1 << i) != 0);
        let weight: f64 = members.clone().map(|i| p[i]).product();
        num += weight * members.map(|i| p[i]).sum::<f64>();
        den += weight;
    }
    num / den
}

#[test]
fn lru_matches_che() {
    // 1000 keys, Zipf(0.8), 100 entries: 2 M requests after 100 k of warm-up, sd of the
    // estimate about 0.0004.
    let (n, c) = (1000, 100);
    let p = zipf(n, 0.8);
    let keys = draws(&p, 2_100_000, 1);
    let sim = hit_ratio(Policy::Lru, c as u64, &keys, 100_000, n as u64);
    let want = che(&p, c);
    assert!((sim - want).abs() < 0.002, "LRU {sim} vs Che {want}");
}

#[test]
fn fifo_and_random_match_gelenbe_exactly_on_a_small_case() {
    // 12 keys, Zipf(0.8), 4 entries: 495 resident sets. 600 k requests each (sd 0.0007).
    let p = zipf(12, 0.8);
    let keys = draws(&p, 610_000, 2);
    let want = gelenbe_exact(&p, 4);
    for policy in [Policy::Fifo, Policy::Random] {
        let sim = hit_ratio(policy, 4, &keys, 10_000, 12);
        assert!((sim - want).abs() < 0.003, "{policy:?} {sim} vs {want}");
    }
    // The exact value is not LRU's: the test can tell the policies apart.
    let lru = hit_ratio(Policy::Lru, 4, &keys, 10_000, 12);
    assert!(lru - want > 0.01, "LRU {lru} vs FIFO's {want}");
}

#[test]
fn fifo_and_random_match_the_fixed_point_for_large_n() {
    // 1000 keys, Zipf(0.8), 100 entries: 1 M requests each after 100 k (sd 0.0005).
    let (n, c) = (1000, 100);
    let p = zipf(n, 0.8);
    let keys = draws(&p, 1_100_000, 3);
    let want = fifo_fixed_point(&p, c);
    for policy in [Policy::Fifo, Policy::Random] {
        let sim = hit_ratio(policy, c as u64, &keys, 100_000, n as u64);
        assert!((sim - want).abs() < 0.003, "{policy:?} {sim} vs {want}");
    }
}

#[test]
fn perfect_lfu_keeps_the_most_popular_keys() {
    // 1000 keys, Zipf(0.8), 100 entries: 500 k requests after 100 k.
    let (n, c) = (1000, 100);
    let p = zipf(n, 0.8);
    let keys = draws(&p, 600_000, 4);
    let sim = hit_ratio(Policy::LfuPerfect, c as u64, &keys, 100_000, n as u64);
    let want: f64 = p[..c].iter().sum();
    assert!((sim - want).abs() < 0.003, "LFU {sim} vs top-C {want}");
}

#[test]
fn lfu_beats_lru_beats_fifo_under_irm() {
    // The same 300 k requests (after 50 k) for the three policies in each configuration. The
    // sizes are those where Che's LRU and the FIFO fixed point differ by 0.01 or more (at
    // alpha 0.6 and 10 entries they differ by 0.001, within the noise).
    let n = 1000;
    for alpha in [0.6, 0.9, 1.2] {
        let p = zipf(n, alpha);
        let keys = draws(&p, 350_000, 5);
        for c in [50, 300] {
            let h = |policy| hit_ratio(policy, c, &keys, 50_000, n as u64);
            let (lfu, lru, fifo) = (h(Policy::LfuPerfect), h(Policy::Lru), h(Policy::Fifo));
            assert!(
                lfu > lru && lru > fifo,
                "alpha {alpha} C {c}: {lfu} {lru} {fifo}"
            );
        }
    }
}

/// The hit ratio of an unbounded cache with `ttl` under Poisson requests at `rate` per ns over
/// `p`, after `warm` requests.
fn ttl_hit_ratio(p: &[f64], rate: f64, ttl: Ttl, requests: usize, warm: usize) -> f64 {
    let spec = CacheSpec {
        capacity: u64::MAX,
        bytes: None,
        policy: Policy::Fifo,
        ttl: Some(ttl),
    };
    let mut c = Cache::new(&spec, p.len() as u64, 5).unwrap();
    let mut keys = Keys::new(p, 6);
    let mut gaps = Rng::seed_from(7);
    let mut now = 0.0;
    for i in 0..requests {
        if i == warm {
            c.reset_stats();
        }
        now += -gaps.next_open01().ln() / rate;
        let (k, t) = (keys.draw(), now as u64);
        if !matches!(c.lookup(k, t), Lookup::Hit { .. }) {
            c.insert(k, 0, 1, t);
        }
    }
    c.stats().hit_ratio()
}

#[test]
fn ttl_caches_match_their_renewal_formulas() {
    // 200 keys, Zipf(0.8), 1 request per ms, TTL 50 ms; 400 k requests after 50 k.
    let p = zipf(200, 0.8);
    let (rate, ttl_ns) = (1e-6, 50e6);
    let ttl = |mode, jitter| Ttl {
        ns: ttl_ns as u64,
        jitter,
        mode,
    };
    let mean = |h: &dyn Fn(f64) -> f64| -> f64 { p.iter().map(|&pi| pi * h(pi * rate)).sum() };
    // E[exp(-a T)] for T uniform on ttl * [1 - j, 1 + j].
    let survive = |a: f64, j: f64| {
        if j == 0.0 {
            (-a * ttl_ns).exp()
        } else {
            let (lo, hi) = (ttl_ns * (1.0 - j), ttl_ns * (1.0 + j));
            ((-a * lo).exp() - (-a * hi).exp()) / (a * (hi - lo))
        }
    };
    for jitter in [0.0, 0.5] {
        let restart = mean(&|a| 1.0 - survive(a, jitter));
        let from_insert = mean(&|a| a * ttl_ns / (1.0 + a * ttl_ns));
        for (mode, want) in [
            (TtlMode::RestartOnHit, restart),
            (TtlMode::FromInsert, from_insert),
        ] {
            let sim = ttl_hit_ratio(&p, rate, ttl(mode, jitter), 450_000, 50_000);
            assert!(
                (sim - want).abs() < 0.003,
                "{mode:?} jitter {jitter}: {sim} vs {want}"
            );
        }
    }
}

#[test]
fn s3fifo_is_at_least_lru_on_zipf_099() {
    // 10,000 keys, Zipf(0.99), caches of 1 % and 10 % of the keys; 400 k requests after 100 k,
    // from the simulator's key sampler.
    let n = 10_000;
    let dist = KeyDist::zipf(n, 0.99).unwrap();
    let mut rng = Rng::seed_from(8);
    let keys: Vec<u64> = (0..500_000).map(|_| dist.sample(&mut rng)).collect();
    for c in [100, 1000] {
        let s3 = hit_ratio(Policy::S3Fifo, c, &keys, 100_000, n);
        let lru = hit_ratio(Policy::Lru, c, &keys, 100_000, n);
        assert!(s3 >= lru, "C {c}: S3-FIFO {s3} < LRU {lru}");
    }
}
