//! Exact behaviour on hand-made sequences (each policy's eviction order, bytes, TTLs,
//! versions, invalidation, bad specs), and the fast structures against a plain oracle written
//! straight from each policy's definition.

use proptest::prelude::*;

use super::*;

/// A cache of `capacity` entries over keys `0..100`, no byte limit, no TTL.
fn cache(policy: Policy, capacity: u64) -> Cache {
    let spec = CacheSpec {
        capacity,
        bytes: None,
        policy,
        ttl: None,
    };
    Cache::new(&spec, 100, 1).unwrap()
}

/// A request at time 0: a lookup, then on a miss an insert (version = key, 1 byte).
fn access(c: &mut Cache, key: u64) -> bool {
    let hit = matches!(c.lookup(key, 0), Lookup::Hit { .. });
    if !hit {
        c.insert(key, key, 1, 0);
    }
    hit
}

fn access_all(c: &mut Cache, keys: &[u64]) {
    for &k in keys {
        access(c, k);
    }
}

/// The resident keys, in key order.
fn resident(c: &Cache) -> Vec<u64> {
    (0..100).filter(|&k| c.contains(k)).collect()
}

#[test]
fn lru_evicts_the_least_recently_used() {
    let mut c = cache(Policy::Lru, 3);
    access_all(&mut c, &[1, 2, 3, 1, 4]);
    assert_eq!(resident(&c), [1, 3, 4]);
    access_all(&mut c, &[3, 5]);
    assert_eq!(resident(&c), [3, 4, 5]);
    let s = c.stats();
    assert_eq!((s.hits, s.misses, s.evictions, s.entries), (2, 5, 2, 3));
}

#[test]
fn fifo_ignores_hits() {
    let mut c = cache(Policy::Fifo, 3);
    access_all(&mut c, &[1, 2, 3, 1, 1, 4]);
    assert_eq!(resident(&c), [2, 3, 4]);
    access_all(&mut c, &[2, 5]);
    assert_eq!(resident(&c), [3, 4, 5]);
}

#[test]
fn clock_gives_a_second_chance() {
    let mut c = cache(Policy::Clock, 3);
    // 1 was hit: the hand clears its bit and passes on to 2.
    access_all(&mut c, &[1, 2, 3, 1, 4]);
    assert_eq!(resident(&c), [1, 3, 4]);
    // Order now 3, 1, 4 (oldest first), no bit set: 3 goes.
    access(&mut c, 5);
    assert_eq!(resident(&c), [1, 4, 5]);
    // Every bit set: the hand goes round once, clearing them, and evicts the oldest, 1.
    access_all(&mut c, &[1, 4, 5, 6]);
    assert_eq!(resident(&c), [4, 5, 6]);
    // A new entry's bit is clear: 6 was hit once since, 4 and 5 lost theirs.
    access_all(&mut c, &[6, 7]);
    assert_eq!(resident(&c), [5, 6, 7]);
}

#[test]
fn random_evicts_each_resident_with_equal_probability() {
    let mut c = cache(Policy::Random, 4);
    access_all(&mut c, &[0, 1, 2, 3]);
    let mut evicted = [0u32; 4];
    let trials = 40_000;
    for _ in 0..trials {
        access(&mut c, 9);
        let gone = (0..4).find(|&k| !c.contains(k)).unwrap();
        evicted[gone as usize] += 1;
        c.invalidate(9);
        access(&mut c, gone);
    }
    // Each count is Binomial(40000, 1/4): sd 87; allow 5 sd.
    for n in evicted {
        assert!(
            (n as f64 - trials as f64 / 4.0).abs() < 435.0,
            "{evicted:?}"
        );
    }
}

#[test]
fn random_is_deterministic_per_seed() {
    let run = |seed| {
        let spec = CacheSpec {
            capacity: 10,
            bytes: None,
            policy: Policy::Random,
            ttl: None,
        };
        let mut c = Cache::new(&spec, 100, seed).unwrap();
        for i in 0..1000u64 {
            access(&mut c, (i * 7919) % 37);
        }
        (c.stats(), resident(&c))
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1).1, run(2).1);
}

#[test]
fn lfu_in_cache_evicts_the_least_count_and_forgets_it() {
    let mut c = cache(Policy::LfuInCache, 3);
    // Counts 1: 3, 2: 2, 3: 1.
    access_all(&mut c, &[1, 2, 3, 1, 1, 2, 4]);
    assert_eq!(resident(&c), [1, 2, 4]);
    // Ties (all at 1) go to the least recently accessed.
    let mut c = cache(Policy::LfuInCache, 3);
    access_all(&mut c, &[1, 2, 3, 4]);
    assert_eq!(resident(&c), [2, 3, 4]);
    access_all(&mut c, &[2, 5]);
    assert_eq!(resident(&c), [2, 4, 5]);
    // Counts restart at 1 after an eviction: 1 had 3, comes back with 1 and is evicted first.
    let mut c = cache(Policy::LfuInCache, 2);
    access_all(&mut c, &[1, 1, 1, 2, 2, 2, 2, 3, 1]);
    assert_eq!(resident(&c), [1, 2]);
    access(&mut c, 4);
    assert_eq!(resident(&c), [2, 4]);
}

#[test]
fn perfect_lfu_admits_only_a_count_above_the_least_resident() {
    let mut c = cache(Policy::LfuPerfect, 2);
    access_all(&mut c, &[1, 2, 3]);
    // 3 has count 1, not above the residents' 1: refused.
    assert_eq!((resident(&c), c.stats().rejections), (vec![1, 2], 1));
    // Now 2 > 1: enters, evicting the least recently accessed of the two at 1.
    access(&mut c, 3);
    assert_eq!(resident(&c), [2, 3]);
    // 1 kept its count while out: 2 > 2's 1.
    access(&mut c, 1);
    assert_eq!(resident(&c), [1, 3]);
    // Hits count too: 3 reaches 3, so 2 (count 2) cannot displace 1 (count 2) or 3.
    access_all(&mut c, &[3, 2]);
    assert_eq!((resident(&c), c.stats().rejections), (vec![1, 3], 2));
}

#[test]
fn s3fifo_filters_one_hit_wonders_into_the_ghost() {
    // 10 entries: S's share is 1, M's 9, G holds 9 keys.
    let mut c = cache(Policy::S3Fifo, 10);
    access_all(&mut c, &(0..10).collect::<Vec<_>>());
    // S is full of new entries: its tail, 0, goes to G.
    access(&mut c, 10);
    assert_eq!(resident(&c), (1..=10).collect::<Vec<_>>());
    // 1 is hit twice: at the tail of S it moves to M, and 2, never hit, goes instead.
    access_all(&mut c, &[1, 1, 11]);
    assert!(c.contains(1) && !c.contains(2) && c.contains(11));
    // A ghost (0) comes back: 3 leaves S, and 0 goes to M.
    access(&mut c, 0);
    assert!(c.contains(0) && !c.contains(3));
    // Hit once is not enough to move to M: 4 is evicted from S.
    access_all(&mut c, &[4, 12]);
    assert!(!c.contains(4));
    // 0 and 1 stay in M while S's new entries come and go.
    access_all(&mut c, &[13, 14, 15, 16, 17, 18]);
    assert!(c.contains(0) && c.contains(1) && !c.contains(5));
}

#[test]
fn s3fifo_main_queue_is_a_clock() {
    // 2 entries: S's share 1, M's 1, G holds 1 key.
    let mut c = cache(Policy::S3Fifo, 2);
    access_all(&mut c, &[1, 2, 3]); // 1 to G; S = [2, 3]
    access(&mut c, 1); // ghost: 2 leaves S (into G), 1 goes to M
    assert_eq!(resident(&c), [1, 3]);
    access_all(&mut c, &[1, 4]); // 1 hit in M; 3 leaves S, G = {3}
    access(&mut c, 2); // 2 not a ghost any more: S; 4 leaves for G = {4}
    assert_eq!(resident(&c), [1, 2]);
    access(&mut c, 4); // ghost again: 2 leaves S; M = [1 (hit), 4]
    assert_eq!(resident(&c), [1, 4]);
    // S is empty, so M evicts: 1 was hit and goes round once; 4 goes.
    access(&mut c, 5);
    assert_eq!(resident(&c), [1, 5]);
}

#[test]
fn s3fifo_promotion_that_overfills_main_evicts_from_main() {
    let mut c = cache(Policy::S3Fifo, 2);
    access_all(&mut c, &[1, 2, 1, 1, 2, 2]);
    // Both in S with frequency 2: 1 moves to M, then 2 overfills M (share 1), and M's tail,
    // 1, whose frequency was cleared, is evicted; S is now empty, 3 goes in.
    access(&mut c, 3);
    assert_eq!(resident(&c), [2, 3]);
    assert_eq!(c.stats().evictions, 1);
}

#[test]
fn byte_limit_evicts_until_both_limits_hold() {
    let spec = CacheSpec {
        capacity: 10,
        bytes: Some(100),
        policy: Policy::Lru,
        ttl: None,
    };
    let mut c = Cache::new(&spec, 100, 1).unwrap();
    c.insert(1, 0, 40, 0);
    c.insert(2, 0, 40, 0);
    c.insert(3, 0, 30, 0);
    assert_eq!((resident(&c), c.stats().bytes), (vec![2, 3], 70));
    c.insert(4, 0, 100, 0);
    assert_eq!((resident(&c), c.stats().bytes), (vec![4], 100));
    c.insert(5, 0, 101, 0);
    assert_eq!((resident(&c), c.stats().rejections), (vec![4], 1));
    c.insert(6, 0, 10, 0);
    assert_eq!(resident(&c), [6]);
    // A resident written larger is updated in place and evicts by the order: here 6, older.
    c.insert(7, 0, 50, 0);
    c.insert(7, 1, 60, 0);
    assert_eq!((resident(&c), c.stats().bytes), (vec![6, 7], 70));
    c.insert(7, 2, 95, 0);
    assert_eq!((resident(&c), c.stats().bytes), (vec![7], 95));
    let s = c.stats();
    assert_eq!((s.evictions, s.entries), (5, 1));
}

#[test]
fn s3fifo_shares_hold_in_bytes() {
    // 100 entries and 100 bytes: S's shares are 10 entries and 10 bytes.
    let spec = CacheSpec {
        capacity: 100,
        bytes: Some(100),
        policy: Policy::S3Fifo,
        ttl: None,
    };
    let mut c = Cache::new(&spec, 100, 1).unwrap();
    let put = |c: &mut Cache, key, size| c.insert(key, 0, size, 0);
    put(&mut c, 1, 30);
    c.lookup(1, 0);
    c.lookup(1, 0);
    put(&mut c, 2, 60);
    // 110 bytes: S's tail 1 (hit twice) moves to M, 2 is evicted.
    put(&mut c, 3, 20);
    assert_eq!(resident(&c), [1, 3]);
    // S holds one entry (under its entry share) but 20 bytes (over its byte share): the
    // eviction is from S, so 3 goes and 1, in M, stays.
    put(&mut c, 4, 60);
    assert_eq!((resident(&c), c.stats().bytes), (vec![1, 4], 90));
}

#[test]
fn invalidation_removes_an_entry() {
    let mut c = cache(Policy::Lru, 3);
    access_all(&mut c, &[1, 2]);
    assert!(c.invalidate(1));
    assert!(!c.invalidate(1) && !c.invalidate(50) && !c.invalidate(1 << 40));
    assert_eq!(c.lookup(1, 0), Lookup::Miss);
    let s = c.stats();
    assert_eq!((s.invalidations, s.entries, s.evictions), (1, 1, 0));
    // The freed slot is reused: three more fit without eviction.
    access_all(&mut c, &[3, 4]);
    assert_eq!((resident(&c), c.stats().evictions), (vec![2, 3, 4], 0));
}

#[test]
fn hit_returns_the_stored_version() {
    let mut c = cache(Policy::S3Fifo, 3);
    c.insert(7, 3, 1, 0);
    assert_eq!(c.lookup(7, 1), Lookup::Hit { version: 3 });
    c.insert(7, 4, 1, 2);
    assert_eq!(c.lookup(7, 3), Lookup::Hit { version: 4 });
    assert_eq!(c.stats().entries, 1);
}

#[test]
fn keys_outside_the_key_space_are_never_cached() {
    let mut c = cache(Policy::LfuPerfect, 3);
    c.insert(100, 1, 1, 0);
    assert_eq!(c.lookup(100, 0), Lookup::Miss);
    assert!(!c.contains(100) && !c.contains(u64::MAX));
    assert_eq!(c.stats().entries, 0);
}

fn ttl_cache(ns: u64, jitter: f64, mode: TtlMode, seed: u64) -> Cache {
    let spec = CacheSpec {
        capacity: u64::MAX,
        bytes: None,
        policy: Policy::Lru,
        ttl: Some(Ttl { ns, jitter, mode }),
    };
    Cache::new(&spec, 10_000, seed).unwrap()
}

#[test]
fn from_insert_ttl_is_not_extended_by_hits() {
    let mut c = ttl_cache(100, 0.0, TtlMode::FromInsert, 1);
    c.insert(1, 5, 1, 0);
    assert_eq!(c.lookup(1, 50), Lookup::Hit { version: 5 });
    assert_eq!(c.lookup(1, 99), Lookup::Hit { version: 5 });
    assert_eq!(c.lookup(1, 100), Lookup::Expired);
    assert_eq!(c.lookup(1, 101), Lookup::Miss);
    let s = c.stats();
    assert_eq!((s.hits, s.misses, s.expirations, s.entries), (2, 2, 1, 0));
}

#[test]
fn restart_on_hit_ttl_restarts_at_every_hit() {
    let mut c = ttl_cache(100, 0.0, TtlMode::RestartOnHit, 1);
    c.insert(1, 5, 1, 0);
    for t in [60, 150, 249] {
        assert_eq!(c.lookup(1, t), Lookup::Hit { version: 5 }, "{t}");
    }
    assert_eq!(c.lookup(1, 349), Lookup::Expired);
}

#[test]
fn ttl_jitter_is_uniform_around_the_mean() {
    let keys = 4000;
    // TTLs uniform in [500, 1500]: every entry alive at 499, none at 1500, half at 1000.
    let alive_at = |t: u64| {
        let mut c = ttl_cache(1000, 0.5, TtlMode::FromInsert, 3);
        (0..keys).for_each(|k| c.insert(k, 0, 1, 0));
        (0..keys)
            .filter(|&k| c.lookup(k, t) != Lookup::Expired)
            .count()
    };
    assert_eq!((alive_at(499), alive_at(1500)), (4000, 0));
    let half = alive_at(1000) as f64 / keys as f64;
    assert!((half - 0.5).abs() < 0.025, "{half}"); // sd 0.008
    let quarter = alive_at(1250) as f64 / keys as f64;
    assert!((quarter - 0.25).abs() < 0.025, "{quarter}");
}

#[test]
fn reset_stats_keeps_the_content() {
    let mut c = cache(Policy::Fifo, 3);
    access_all(&mut c, &[1, 2, 1]);
    c.reset_stats();
    let s = c.stats();
    assert_eq!((s.hits, s.misses, s.entries, s.bytes), (0, 0, 2, 2));
    assert_eq!(CacheStats::default().hit_ratio(), 0.0);
}

#[test]
fn bad_specs_are_rejected_naming_the_field() {
    let good = CacheSpec {
        capacity: 10,
        bytes: Some(1000),
        policy: Policy::Lru,
        ttl: Some(Ttl {
            ns: 1,
            jitter: 0.0,
            mode: TtlMode::FromInsert,
        }),
    };
    assert_eq!(good.check(), Ok(()));
    let with_ttl = |ns, jitter| CacheSpec {
        ttl: Some(Ttl {
            ns,
            jitter,
            mode: TtlMode::RestartOnHit,
        }),
        ..good.clone()
    };
    let cases = [
        (
            CacheSpec {
                capacity: 0,
                ..good.clone()
            },
            "capacity",
        ),
        (
            CacheSpec {
                bytes: Some(0),
                ..good.clone()
            },
            "bytes",
        ),
        (with_ttl(0, 0.0), "ttl"),
        (with_ttl(10, 1.0), "jitter"),
        (with_ttl(10, -0.1), "jitter"),
        (with_ttl(10, f64::NAN), "jitter"),
    ];
    for (spec, field) in cases {
        let err = Cache::new(&spec, 10, 1).unwrap_err();
        assert!(err.contains(field), "{err}");
    }
    assert!(Cache::new(&good, 0, 1).unwrap_err().contains("key space"));
    assert!(
        Cache::new(&good, MAX_KEY_SPACE + 1, 1)
            .unwrap_err()
            .contains("key space")
    );
}

#[test]
fn policy_names_parse_and_typos_get_a_suggestion() {
    for (n, p) in Policy::NAMES.iter().zip(Policy::ALL) {
        assert_eq!(Policy::parse(n), Ok(p));
        assert_eq!(p.name(), *n);
    }
    for (typo, near) in [
        ("clok", "clock"),
        ("ramdom", "random"),
        ("s3-fifo", "s3fifo"),
        ("lfu_perfet", "lfu_perfect"),
    ] {
        let err = Policy::parse(typo).unwrap_err();
        assert!(err.contains(&format!("did you mean `{near}`")), "{err}");
    }
    let err = Policy::parse("zzz").unwrap_err();
    assert!(
        !err.contains("did you mean") && err.contains("s3fifo"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// The oracle: each policy written plainly over vectors, oldest first, scanned linearly.

/// One policy's state, naively.
#[derive(Debug)]
struct Naive {
    policy: Policy,
    cap: usize,
    /// LRU, FIFO, CLOCK, LFU: every resident; S3-FIFO: M. `(key, bit or frequency or count,
    /// last access)`.
    main: Vec<(u64, u64, u64)>,
    /// S3-FIFO's S.
    small: Vec<(u64, u64, u64)>,
    /// S3-FIFO's G.
    ghost: Vec<u64>,
    /// Perfect LFU's counts.
    counts: Vec<u64>,
    now: u64,
}

impl Naive {
    fn new(policy: Policy, cap: usize) -> Naive {
        Naive {
            policy,
            cap,
            main: Vec::new(),
            small: Vec::new(),
            ghost: Vec::new(),
            counts: vec![0; 100],
            now: 0,
        }
    }

    fn len(&self) -> usize {
        self.main.len() + self.small.len()
    }

    fn find(&mut self, key: u64) -> Option<&mut (u64, u64, u64)> {
        self.main
            .iter_mut()
            .chain(self.small.iter_mut())
            .find(|e| e.0 == key)
    }

    /// A lookup and, on a miss, an insert: whether it hit.
    fn access(&mut self, key: u64) -> bool {
        // Lookups and inserts each take a stamp, as in the cache.
        self.now += 1;
        self.counts[key as usize] += 1;
        let (policy, now, count) = (self.policy, self.now, self.counts[key as usize]);
        if let Some(e) = self.find(key) {
            match policy {
                Policy::Clock => e.1 = 1,
                Policy::S3Fifo => e.1 = (e.1 + 1).min(3),
                Policy::LfuInCache => (e.1, e.2) = (e.1 + 1, now),
                Policy::LfuPerfect => (e.1, e.2) = (count, now),
                _ => {}
            }
            if policy == Policy::Lru {
                let i = self.main.iter().position(|e| e.0 == key).unwrap();
                let e = self.main.remove(i);
                self.main.push(e);
            }
            return true;
        }
        self.now += 1;
        self.insert(key);
        false
    }

    fn insert(&mut self, key: u64) {
        let full = self.len() >= self.cap;
        if self.policy == Policy::LfuPerfect && full {
            let least = self.main.iter().map(|e| e.1).min().unwrap();
            if self.counts[key as usize] <= least {
                return;
            }
        }
        let ghost = self.ghost.iter().position(|&g| g == key);
        if let Some(i) = ghost {
            self.ghost.remove(i);
        }
        while self.len() >= self.cap {
            self.evict();
        }
        let entry = match self.policy {
            Policy::LfuPerfect => (key, self.counts[key as usize], self.now),
            Policy::LfuInCache => (key, 1, self.now),
            _ => (key, 0, self.now),
        };
        if self.policy == Policy::S3Fifo && ghost.is_none() {
            self.small.push(entry);
        } else {
            self.main.push(entry);
        }
    }

    fn evict(&mut self) {
        match self.policy {
            Policy::Lru | Policy::Fifo => {
                self.main.remove(0);
            }
            Policy::Clock => loop {
                let mut e = self.main.remove(0);
                if e.1 == 0 {
                    break;
                }
                e.1 = 0;
                self.main.push(e);
            },
            Policy::LfuInCache | Policy::LfuPerfect => {
                let (i, _) = self
                    .main
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, e)| (e.1, e.2))
                    .unwrap();
                self.main.remove(i);
            }
            Policy::S3Fifo => self.evict_s3(),
            Policy::Random => unreachable!("no oracle for RANDOM"),
        }
    }

    fn evict_s3(&mut self) {
        let small_share = self.cap.div_ceil(10);
        let main_share = self.cap - small_share;
        if self.small.is_empty() || (self.small.len() < small_share && !self.main.is_empty()) {
            return self.evict_s3_main();
        }
        while !self.small.is_empty() {
            let (k, f, t) = self.small.remove(0);
            if f > 1 {
                self.main.push((k, 0, t));
                if self.main.len() > main_share {
                    self.evict_s3_main();
                }
            } else {
                if main_share > 0 {
                    if self.ghost.len() >= main_share {
                        self.ghost.remove(0);
                    }
                    self.ghost.push(k);
                }
                return;
            }
        }
    }

    fn evict_s3_main(&mut self) {
        loop {
            let (k, f, t) = self.main.remove(0);
            if f == 0 {
                return;
            }
            self.main.push((k, f - 1, t));
        }
    }

    fn invalidate(&mut self, key: u64) -> bool {
        let before = self.len();
        self.main.retain(|e| e.0 != key);
        self.small.retain(|e| e.0 != key);
        before != self.len()
    }

    fn resident(&self) -> Vec<u64> {
        let mut keys: Vec<u64> = self.main.iter().chain(&self.small).map(|e| e.0).collect();
        keys.sort_unstable();
        keys
    }
}

const ORACLE_POLICIES: [Policy; 6] = [
    Policy::Lru,
    Policy::Fifo,
    Policy::Clock,
    Policy::LfuInCache,
    Policy::LfuPerfect,
    Policy::S3Fifo,
];

proptest! {
    /// Every policy but RANDOM (whose draws an oracle cannot share) agrees with its plain
    /// model on every answer and on the resident set after every step, over random sequences
    /// of requests and invalidations on 16 keys.
    #[test]
    fn policies_match_their_plain_model(
        p in 0..ORACLE_POLICIES.len(),
        cap in prop::sample::select(vec![1u64, 2, 3, 4, 5, 11, 12]),
        ops in prop::collection::vec((0u64..16, 0u8..10), 1..300),
    ) {
        let policy = ORACLE_POLICIES[p];
        let mut fast = cache(policy, cap);
        let mut naive = Naive::new(policy, cap as usize);
        for (key, op) in ops {
            if op == 0 {
                prop_assert_eq!(fast.invalidate(key), naive.invalidate(key));
            } else {
                prop_assert_eq!(access(&mut fast, key), naive.access(key));
            }
            prop_assert_eq!(resident(&fast), naive.resident());
        }
    }
}

#[test]
fn peek_sees_an_expired_entry_without_counting_or_removing_it() {
    let spec = CacheSpec {
        capacity: 4,
        bytes: None,
        policy: Policy::Lru,
        ttl: Some(Ttl {
            ns: 100,
            jitter: 0.0,
            mode: TtlMode::FromInsert,
        }),
    };
    let mut c = Cache::new(&spec, 10, 1).unwrap();
    assert_eq!(c.peek(3), None);
    c.insert(3, 7, 1, 50);
    assert_eq!(c.peek(3), Some((7, 150)));
    let before = c.stats();
    // Past its expiry: peek still sees it, and counts nothing.
    assert_eq!(c.peek(3), Some((7, 150)));
    assert_eq!(c.stats(), before);
    assert_eq!(c.lookup(3, 200), Lookup::Expired);
    assert_eq!(c.peek(3), None);
}

#[test]
fn a_transposed_policy_name_suggests_the_policy() {
    let e = Policy::parse("lur").unwrap_err();
    assert!(e.contains("`lru`"), "{e}");
    let e = Policy::parse("s3-fifo").unwrap_err();
    assert!(e.contains("`s3fifo`"), "{e}");
}
