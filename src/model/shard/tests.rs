//! Checks against theory computed here (harmonic numbers, Beta moments, binomial and
//! Chinese-remainder move shares), the census data file, a reference implementation's test
//! vectors, and plain oracles for the ring and the bounded walk.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::engine::{Rng, mix64};

/// The census shares as the data file states them, parsed here independently of the table.
fn csv_shares() -> Vec<(char, f64)> {
    include_str!("../../../data/first-letters.csv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("letter"))
        .map(|l| {
            let (c, s) = l.split_once(',').expect("letter,share");
            (
                c.chars().next().expect("a letter"),
                s.parse().expect("a share"),
            )
        })
        .collect()
}

/// The data's share of the letters in `lo..=hi`, normalised by the data's total.
fn data_share(lo: char, hi: char) -> f64 {
    let data = csv_shares();
    let total: f64 = data.iter().map(|d| d.1).sum();
    data.iter()
        .filter(|d| (lo..=hi).contains(&d.0))
        .map(|d| d.1)
        .sum::<f64>()
        / total
}

/// Keys per shard when every key of `0..keys` is routed.
fn counts(r: &Router, keys: u64) -> Vec<u64> {
    let mut c = vec![0; r.shards()];
    for k in 0..keys {
        c[r.owner(k)] += 1;
    }
    c
}

/// A binomial proportion's standard error.
fn binomial_se(p: f64, n: u64) -> f64 {
    (p * (1.0 - p) / n as f64).sqrt()
}

/// Mean and standard error of the mean of `xs`.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

fn spec(shards: usize) -> Spec {
    Spec {
        shards,
        ..Spec::default()
    }
}

fn build(name: &str, spec: &Spec) -> Router {
    Router::build(name, spec).expect("a valid spec")
}

// ---------------------------------------------------------------------------------------------
// Range by first letter

#[test]
fn the_table_is_the_data_file() {
    let data = csv_shares();
    assert_eq!(data.len(), 26);
    for (i, (c, s)) in data.iter().enumerate() {
        assert_eq!(*c, char::from(b'A' + i as u8));
        assert_eq!(*s, FIRST_LETTER_SHARES[i], "letter {c}");
    }
    let total: f64 = data.iter().map(|d| d.1).sum();
    assert!(
        (total - 1.0).abs() < 26.0 * 0.5e-6,
        "shares rounded to 6 places sum to 1"
    );
}

#[test]
fn range_shards_get_their_letters_census_share() {
    let keys = 1_000_003;
    let splits: [&[(char, char)]; 3] = [
        &[('A', 'H'), ('I', 'P'), ('Q', 'Z')],
        &[('S', 'Z'), ('A', 'C'), ('D', 'M'), ('N', 'R')],
        &[('A', 'Z')],
    ];
    for split in splits {
        let ranges: Vec<String> = split.iter().map(|(a, b)| format!("{a}-{b}")).collect();
        let spec = Spec {
            shards: ranges.len(),
            key_space: keys,
            ranges,
            ..Spec::default()
        };
        let r = build("range", &spec);
        let Router::Range(lr) = &r else {
            unreachable!()
        };
        let got = counts(&r, keys);
        assert_eq!(got, lr.keys_per_shard());
        for (shard, (lo, hi)) in split.iter().enumerate() {
            let want = data_share(*lo, *hi) * keys as f64;
            let diff = (got[shard] as f64 - want).abs();
            assert!(
                diff <= 1.0 + 1e-6,
                "{lo}-{hi}: {} keys, want {want}",
                got[shard]
            );
        }
    }
}

#[test]
fn the_guides_ranges_are_uneven() {
    // The answer to "how uneven are A-H / I-P / Q-Z": each range's share of users.
    let shares = [('A', 'H'), ('I', 'P'), ('Q', 'Z')].map(|(a, b)| data_share(a, b));
    let max_over_mean = shares.iter().cloned().fold(0.0, f64::max) * 3.0;
    eprintln!(
        "A-H {:.4}, I-P {:.4}, Q-Z {:.4}; max/mean {max_over_mean:.3}",
        shares[0], shares[1], shares[2]
    );
    let r = LetterRange::new(&GUIDE_RANGES, 10_000_000).expect("valid");
    let loads = r.keys_per_shard();
    for (shard, share) in shares.iter().enumerate() {
        assert!((loads[shard] as f64 / 1e7 - share).abs() <= 1e-7);
    }
    // A-H is the busiest: more than an equal split by 25%.
    assert!(loads[0] > loads[1] && loads[0] > loads[2]);
    assert!(max_over_mean > 1.25, "{max_over_mean}");
}

#[test]
fn range_routing_is_monotone_and_clamps_past_the_key_space() {
    let r = LetterRange::new(&["a-h", " I - P ", "Q-Z"], 1000).expect("valid");
    let mut last = 0;
    for k in 0..1000 {
        let s = r.route(k);
        assert!(s >= last, "letters are in key order");
        last = s;
    }
    assert_eq!(r.route(5000), 2);
    assert_eq!(r.route(u64::MAX), 2);
    assert_eq!(r.route(0), 0);
}

#[test]
fn bad_letter_ranges_are_named() {
    let err = |ranges: &[&str]| LetterRange::new(ranges, 100).expect_err("invalid");
    let e = err(&["A-J", "I-P", "Q-Z"]);
    assert!(
        e.contains("ranges[1]") && e.contains("overlaps") && e.contains("letter I"),
        "{e}"
    );
    let e = err(&["A-H", "I-P", "T-Z"]);
    assert!(e.contains("letters Q, R, S are not covered"), "{e}");
    let e = err(&["A-M"]);
    assert!(e.contains("N, O, P, Q, R, S, T, U, V, W, X, Y, Z"), "{e}");
    assert!(err(&[]).contains("0 shards"));
    assert!(err(&["H-A", "I-Z"]).contains("backwards"));
    assert!(err(&["A-", "B-Z"]).contains("not a letter range"));
    assert!(err(&["A-H", "I-P", "Q-Z9"]).contains("ranges[2]"));
    assert!(err(&["AB", "C-Z"]).contains("not a letter range"));
    assert!(
        LetterRange::new(&["A-Z"], 0)
            .expect_err("no keys")
            .contains("key_space")
    );
    let s = Spec {
        shards: 4,
        ..Spec::default()
    };
    let e = Router::build("range", &s).expect_err("4 shards, 3 ranges");
    assert!(
        e.contains("shards is 4") && e.contains("3 letter ranges"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// Hash mod N and jump

#[test]
fn mod_n_moves_n_over_n_plus_1() {
    // h mod N == h mod (N+1) iff h mod N(N+1) < N (Chinese remainders): probability 1/(N+1).
    let keys = 200_000;
    for n in [3usize, 10, 16] {
        let m = moved(
            &mut build("hash", &spec(n)),
            &mut build("hash", &spec(n + 1)),
            0..keys,
        );
        let want = n as f64 / (n + 1) as f64;
        eprintln!(
            "mod {n}->{}: moved {:.4}, want {want:.4}",
            n + 1,
            m.fraction()
        );
        let tol = 5.0 * binomial_se(want, keys);
        assert!(
            (m.fraction() - want).abs() < tol,
            "N={n}: {} vs {want}",
            m.fraction()
        );
    }
}

#[test]
fn hash_mod_n_is_even() {
    let (n, keys) = (7usize, 140_000u64);
    for c in counts(&build("hash", &spec(n)), keys) {
        let p = 1.0 / n as f64;
        assert!((c as f64 / keys as f64 - p).abs() < 5.0 * binomial_se(p, keys));
    }
}

#[test]
fn jump_matches_reference_vectors() {
    // (key, buckets, bucket) from the Go port's tests (lithammer/go-jump-consistent-hash).
    for (key, n, want) in [
        (1u64, 1i64, 0i64),
        (42, 57, 43),
        (0xDEAD10CC, 1, 0),
        (0xDEAD10CC, 666, 361),
        (256, 1024, 520),
    ] {
        assert_eq!(jump(key, n), want, "key {key}, {n} buckets");
    }
}

/// The paper's loop as printed: integer jump targets, the draw divided as doubles.
fn jump_as_printed(mut key: u64, n: i64) -> i64 {
    let (mut b, mut j) = (-1i64, 0i64);
    while j < n {
        b = j;
        key = key.wrapping_mul(2862933555777941757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1i64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b
}

proptest! {
    #[test]
    fn jump_is_the_papers_loop(key in any::<u64>(), n in 1i64..100_000) {
        prop_assert_eq!(jump(key, n), jump_as_printed(key, n));
    }
}

#[test]
fn jump_moves_only_to_new_buckets() {
    let keys = 120_000;
    let cases = [(10usize, 12usize), (1, 2), (3, 4), (10, 11), (50, 51)];
    for (a, b) in cases {
        let m = moved(
            &mut build("jump", &spec(a)),
            &mut build("jump", &spec(b)),
            0..keys,
        );
        let want = (b - a) as f64 / b as f64;
        eprintln!("jump {a}->{b}: moved {:.4}, want {want:.4}", m.fraction());
        let tol = 5.0 * binomial_se(want, keys);
        assert!(
            (m.fraction() - want).abs() < tol,
            "{a}->{b}: {} vs {want}",
            m.fraction()
        );
        let into_new: u64 = (a..b).map(|s| m.moved_into(s)).sum();
        assert_eq!(
            into_new, m.moved,
            "{a}->{b}: every moved key goes to a new bucket"
        );
    }
}

#[test]
fn jump_is_even() {
    let (n, keys) = (12usize, 120_000u64);
    for c in counts(&build("jump", &spec(n)), keys) {
        let p = 1.0 / n as f64;
        assert!((c as f64 / keys as f64 - p).abs() < 5.0 * binomial_se(p, keys));
    }
}

// ---------------------------------------------------------------------------------------------
// Consistent hashing

#[test]
fn one_point_per_node_max_share_is_harmonic() {
    // With N uniform points the largest of the N arcs has mean H_N / N (spacings of the
    // circle), so max share over mean share averages H_N: 2.93 at 10 nodes, 5.19 at 100.
    for (n, rings) in [(10usize, 3000u64), (100, 600)] {
        let h_n: f64 = (1..=n).map(|i| 1.0 / i as f64).sum();
        let ratios: Vec<f64> = (0..rings)
            .map(|seed| {
                let r = Ring::new(n, 1, seed).expect("valid");
                r.arc_shares().into_iter().fold(0.0, f64::max) * n as f64
            })
            .collect();
        let (mean, se) = mean_se(&ratios);
        eprintln!("N={n}: mean max/mean share {mean:.4} (se {se:.4}), H_N {h_n:.4}");
        assert!(
            (mean - h_n).abs() < 4.0 * se,
            "N={n}: {mean} vs H_N {h_n} (se {se})"
        );
    }
}

#[test]
fn virtual_node_share_cv_is_beta() {
    // A node's share is a sum of V of the NV spacings: Beta(V, (N-1)V), whose coefficient of
    // variation is sqrt((N-1)/(NV+1)). Per ring, the mean of (N*share - 1)^2 estimates CV^2.
    for (n, v, rings) in [
        (10usize, 1u32, 800u64),
        (10, 10, 400),
        (5, 100, 300),
        (40, 20, 100),
    ] {
        let want = (n as f64 - 1.0) / (n as f64 * f64::from(v) + 1.0);
        let per_ring: Vec<f64> = (0..rings)
            .map(|seed| {
                let s = Ring::new(n, v, seed).expect("valid").arc_shares();
                s.iter().map(|x| (x * n as f64 - 1.0).powi(2)).sum::<f64>() / n as f64
            })
            .collect();
        let (cv2, se) = mean_se(&per_ring);
        eprintln!(
            "N={n} V={v}: CV {:.4} (CV^2 se {se:.5}), Beta {:.4}",
            cv2.sqrt(),
            want.sqrt()
        );
        assert!(
            (cv2 - want).abs() < 4.0 * se,
            "N={n} V={v}: CV^2 {cv2} vs {want} (se {se})"
        );
    }
}

#[test]
fn consistent_moves_one_over_n_plus_1_to_the_new_shard() {
    let (n, v, keys, seeds) = (10usize, 400u32, 40_000u64, 16u64);
    let s = |shards, seed| Spec {
        shards,
        vnodes: v,
        seed,
        ..Spec::default()
    };
    let mut fractions = Vec::new();
    for seed in 0..seeds {
        let (mut old, mut new) = (
            build("consistent", &s(n, seed)),
            build("consistent", &s(n + 1, seed)),
        );
        let m = moved(&mut old, &mut new, 0..keys);
        assert_eq!(
            m.moved_into(n),
            m.moved,
            "every moved key goes to the new shard"
        );
        // Exactly the keys in the new shard's arcs move.
        let Router::Consistent(ring) = &new else {
            unreachable!()
        };
        let arc = ring.arc_shares()[n];
        assert!((m.fraction() - arc).abs() < 5.0 * binomial_se(arc, keys));
        fractions.push(m.fraction());
    }
    // That share is Beta(V, NV): mean 1/(N+1), CV sqrt(N/((N+1)V+1)); averaged over the seeds.
    let mean = 1.0 / (n + 1) as f64;
    let sd = mean * (n as f64 / ((n + 1) as f64 * f64::from(v) + 1.0)).sqrt();
    let sd = (sd * sd + binomial_se(mean, keys).powi(2)).sqrt() / (seeds as f64).sqrt();
    let avg = fractions.iter().sum::<f64>() / seeds as f64;
    eprintln!(
        "consistent {n}->{}: moved {avg:.4} (sd {sd:.4}), 1/(N+1) {mean:.4}",
        n + 1
    );
    assert!((avg - mean).abs() < 5.0 * sd, "{avg} vs {mean}");
}

/// The ring as a plain ordered map: the first point at or after the hash, else the first.
fn oracle_ring(shards: u32, vnodes: u32, seed: u64) -> BTreeMap<u64, u32> {
    let mut map = BTreeMap::new();
    for s in 0..shards {
        for v in 0..vnodes {
            let p = mix64(seed ^ mix64((u64::from(s) << 32) | u64::from(v)));
            map.entry(p).or_insert(s);
        }
    }
    map
}

fn oracle_owner(map: &BTreeMap<u64, u32>, key: u64) -> u32 {
    let h = mix64(key);
    *map.range(h..)
        .chain(map.iter())
        .next()
        .expect("not empty")
        .1
}

#[test]
fn a_ring_larger_than_its_slice_table_matches_the_map() {
    // 2^17 points share 2^16 slices: lookups search inside slices of several points.
    let (shards, vnodes) = (1024u32, 128u32);
    let ring = Ring::new(shards as usize, vnodes, 5).expect("valid");
    let map = oracle_ring(shards, vnodes, 5);
    let mut rng = Rng::seed_from(9);
    for _ in 0..20_000 {
        let k = rng.next_u64();
        assert_eq!(ring.route(k), oracle_owner(&map, k) as usize);
    }
    for k in [0, u64::MAX] {
        assert_eq!(ring.route(k), oracle_owner(&map, k) as usize);
    }
}

// ---------------------------------------------------------------------------------------------
// Bounded loads

/// A plain bounded walk: clockwise from the key's hash through the oracle map (twice round),
/// to the first shard below ceil((1+eps)m/n) computed here.
fn oracle_place(map: &BTreeMap<u64, u32>, load: &mut [u64], eps: f64, key: u64) -> usize {
    let n = load.len() as f64;
    let m: u64 = load.iter().sum::<u64>() + 1;
    let cap = ((1.0 + eps) * m as f64 / n).ceil() as u64;
    let h = mix64(key);
    let s = map
        .range(h..)
        .chain(map.iter())
        .map(|(_, s)| *s as usize)
        .find(|s| load[*s] < cap)
        .expect("a shard below capacity");
    load[s] += 1;
    s
}

proptest! {
    #[test]
    fn ring_matches_an_ordered_map(
        shards in 1u32..40, vnodes in 1u32..40, seed in any::<u64>(),
        keys in prop::collection::vec(any::<u64>(), 1..200),
    ) {
        let ring = Ring::new(shards as usize, vnodes, seed).expect("valid");
        let map = oracle_ring(shards, vnodes, seed);
        for k in keys {
            prop_assert_eq!(ring.route(k), oracle_owner(&map, k) as usize);
        }
    }

    #[test]
    fn bounded_never_exceeds_capacity_and_places_every_key(
        shards in 1usize..30, vnodes in 1u32..30, seed in any::<u64>(), eps in 0.01f64..2.0,
        keys in prop::collection::vec(any::<u64>(), 1..600),
    ) {
        let mut b = Bounded::new(Ring::new(shards, vnodes, seed).expect("valid"), eps).expect("valid");
        let map = oracle_ring(shards as u32, vnodes, seed);
        let mut oracle = vec![0u64; shards];
        for (i, &k) in keys.iter().enumerate() {
            let s = b.place(k);
            prop_assert_eq!(s, oracle_place(&map, &mut oracle, eps, k));
            let m = i as u64 + 1;
            prop_assert_eq!(b.total(), m);
            let cap = ((1.0 + eps) * m as f64 / shards as f64).ceil() as u64;
            let max = *b.loads().iter().max().expect("shards");
            prop_assert!(max <= cap, "max {} > ceil((1+eps)m/n) {}", max, cap);
        }
    }

    #[test]
    fn bounded_in_flight_is_capped_at_each_placement(
        shards in 1usize..20, seed in any::<u64>(), eps in 0.01f64..1.0,
        ops in prop::collection::vec((any::<u64>(), 0u8..3), 1..600),
    ) {
        // Requests arrive (key) and, one time in three, the oldest in flight completes.
        let mut b = Bounded::new(Ring::new(shards, 8, seed).expect("valid"), eps).expect("valid");
        let mut in_flight = std::collections::VecDeque::new();
        for (k, op) in ops {
            if op == 0 {
                if let Some(s) = in_flight.pop_front() {
                    prop_assert!(b.release(s));
                }
                continue;
            }
            let s = b.place(k);
            in_flight.push_back(s);
            let cap = ((1.0 + eps) * b.total() as f64 / shards as f64).ceil() as u64;
            prop_assert!(b.loads()[s] <= cap);
            prop_assert_eq!(b.total(), in_flight.len() as u64);
        }
    }
}

#[test]
fn bounded_with_room_keeps_the_ring_owner() {
    // With a huge slack no shard is ever full, so every key stays with its ring owner.
    let mut b = Bounded::new(Ring::new(8, 50, 3).expect("valid"), 1e9).expect("valid");
    for k in 0..10_000 {
        assert_eq!(b.place(k), b.owner(k));
    }
}

#[test]
fn bounded_evens_out_a_zipf_stream() {
    // Hot keys all hash to one shard; the cap spreads them. The ring alone puts far more than
    // (1 + eps) of the mean on the hottest key's shard.
    let dist = crate::model::workload::KeyDist::zipf(10_000, 0.99).expect("valid");
    let mut rng = Rng::seed_from(1);
    let keys: Vec<u64> = (0..20_000).map(|_| dist.sample(&mut rng)).collect();
    let ring = Ring::new(10, 100, 0).expect("valid");
    let mut plain = [0u64; 10];
    keys.iter().for_each(|k| plain[ring.route(*k)] += 1);
    let mut b = Bounded::new(ring, 0.1).expect("valid");
    keys.iter().for_each(|k| {
        b.place(*k);
    });
    let cap = b.capacity(keys.len() as u64);
    assert!(*plain.iter().max().expect("shards") > cap, "{plain:?}");
    assert!(b.loads().iter().all(|l| *l <= cap), "{:?}", b.loads());
    assert!(!b.release(10) && !b.release(usize::MAX), "no such shard");
}

// ---------------------------------------------------------------------------------------------
// Names and bad input

#[test]
fn every_name_builds_and_routes_in_range() {
    for name in Router::NAMES {
        let mut r = build(name, &Spec::default());
        assert_eq!(r.shards(), 3, "{name}");
        for k in 0..1000 {
            let s = r.route(k);
            assert!(s < 3, "{name}");
            if name != "bounded" {
                assert_eq!(s, r.owner(k), "{name} is a function of the key");
                assert!(!r.release(s));
            }
        }
    }
}

#[test]
fn typos_get_the_nearest_name() {
    let err = |n: &str| Router::build(n, &Spec::default()).expect_err("unknown");
    assert!(err("consistant").contains("did you mean `consistent`?"));
    assert!(err("jmp").contains("did you mean `jump`?"));
    assert!(err("bounded_load").contains("did you mean `bounded`?"));
    assert!(!err("xyzzy").contains("did you mean"), "{}", err("xyzzy"));
}

#[test]
fn bad_numbers_are_named() {
    for name in ["hash", "consistent", "bounded", "jump"] {
        let e = Router::build(name, &spec(0)).expect_err("0 shards");
        assert!(e.contains("shards must be at least 1"), "{name}: {e}");
    }
    for name in ["consistent", "bounded"] {
        let s = Spec {
            vnodes: 0,
            ..Spec::default()
        };
        assert!(
            Router::build(name, &s)
                .expect_err("V = 0")
                .contains("vnodes")
        );
    }
    for eps in [0.0, -0.5, f64::NAN, f64::INFINITY] {
        let s = Spec {
            eps,
            ..Spec::default()
        };
        let e = Router::build("bounded", &s).expect_err("bad eps");
        assert!(e.contains("eps must be finite and > 0"), "{e}");
    }
}

#[test]
fn moves_add_up() {
    let m = moved(
        &mut build("jump", &spec(3)),
        &mut build("hash", &spec(5)),
        0..10_000,
    );
    assert_eq!(m.pairs.len(), 3);
    assert_eq!(m.pairs.iter().flatten().sum::<u64>(), m.keys);
    let stayed: u64 = (0..3).map(|s| m.pairs[s][s]).sum();
    assert_eq!(m.keys - stayed, m.moved);
    let none = moved(
        &mut build("jump", &spec(3)),
        &mut build("jump", &spec(3)),
        0..0,
    );
    assert_eq!(none.fraction(), 0.0);
}
