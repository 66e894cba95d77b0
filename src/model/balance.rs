//! Load-balancing policies: which ready instance of a service takes the next request.
//!
//! Pure and engine-free: a [`Balancer`] gets the ready instances, a way to read each one's
//! outstanding requests and weight, the request's key and user, and a random stream; it answers
//! with one instance. The theory checks and benchmarks call it directly.
//!
//! | policy | picks |
//! |---|---|
//! | `round_robin` | the next ready instance in turn |
//! | `random` | a uniformly random ready instance (Poisson splitting: N independent queues) |
//! | `least_outstanding` | the fewest requests in flight (join the shortest queue); ties go to the first after the round-robin cursor, so no instance is favoured |
//! | `p2c` | two distinct random instances, the one with fewer in flight (Mitzenmacher's power of two choices) |
//! | `weighted` | smooth weighted round robin (nginx's algorithm) by instance weight |
//! | `key_hash` | consistent hashing of the request key on a ring with virtual nodes; a key keeps its instance while that instance is ready |
//! | `sticky` | consistent hashing of the user id (sticky sessions); falls back to the key for open workloads, which have no users |

use crate::engine::Rng;

/// A load-balancing policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// In turn.
    RoundRobin,
    /// Uniformly at random.
    Random,
    /// Fewest outstanding requests (join the shortest queue).
    LeastOutstanding,
    /// Power of two random choices.
    PowerOfTwo,
    /// Smooth weighted round robin.
    Weighted,
    /// Consistent hashing of the request key.
    KeyHash,
    /// Consistent hashing of the user (sticky sessions).
    Sticky,
}

impl Policy {
    /// Names as written in scenario files, in the order of [`Policy::ALL`].
    pub const NAMES: [&'static str; 7] = [
        "round_robin",
        "random",
        "least_outstanding",
        "p2c",
        "weighted",
        "key_hash",
        "sticky",
    ];
    /// Every policy.
    pub const ALL: [Policy; 7] = [
        Policy::RoundRobin,
        Policy::Random,
        Policy::LeastOutstanding,
        Policy::PowerOfTwo,
        Policy::Weighted,
        Policy::KeyHash,
        Policy::Sticky,
    ];

    /// The policy named `name` in a scenario file.
    pub fn parse(name: &str) -> Option<Policy> {
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| Self::ALL[i])
    }

    /// Its name in scenario files.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Whether the policy reads request keys.
    pub fn needs_keys(self) -> bool {
        matches!(self, Policy::KeyHash | Policy::Sticky)
    }
}

/// Virtual nodes per instance on the consistent-hashing ring (per-instance load CV about
/// 1/sqrt(V)).
pub const VNODES: u32 = 100;

/// A balancer's state: the policy plus its cursor, weights and hash ring.
#[derive(Debug, Clone)]
pub struct Balancer {
    policy: Policy,
    cursor: usize,
    /// Smooth weighted round robin: current weight per instance slot.
    current: Vec<f64>,
    /// `(point, instance)` sorted by point; rebuilt when instance slots are added.
    ring: Vec<(u64, u32)>,
    ring_slots: u32,
}

/// What a balancer may read of an instance.
pub trait Instances {
    /// Requests in flight at instance `i` (in service or waiting).
    fn outstanding(&self, i: u32) -> u32;
    /// Relative weight of instance `i` (its speed, or a configured weight).
    fn weight(&self, i: u32) -> f64;
    /// Whether instance `i` takes new work.
    fn is_ready(&self, i: u32) -> bool;
    /// Number of instance slots (ready or not); instance ids are below it.
    fn slots(&self) -> u32;
}

impl Balancer {
    /// A balancer with `policy`.
    pub fn new(policy: Policy) -> Balancer {
        Balancer {
            policy,
            cursor: 0,
            current: Vec::new(),
            ring: Vec::new(),
            ring_slots: 0,
        }
    }

    /// Picks one of `ready` (ids of ready instances, ascending; not empty) for a request with
    /// `key` from `user` (`u32::MAX` for none), drawing from `rng` when the policy is random.
    #[inline]
    pub fn pick(
        &mut self,
        ready: &[u32],
        inst: &impl Instances,
        key: u64,
        user: u32,
        rng: &mut Rng,
    ) -> u32 {
        debug_assert!(!ready.is_empty());
        if ready.len() == 1 {
            return ready[0];
        }
        match self.policy {
            Policy::RoundRobin => {
                self.cursor = (self.cursor + 1) % ready.len();
                ready[self.cursor]
            }
            Policy::Random => ready[rng.below(ready.len() as u64) as usize],
            Policy::LeastOutstanding => self.least(ready, inst),
            Policy::PowerOfTwo => two_choices(ready, inst, rng),
            Policy::Weighted => self.smooth_weighted(ready, inst),
            Policy::KeyHash => self.on_ring(inst, hash64(key)),
            Policy::Sticky if user != u32::MAX => {
                self.on_ring(inst, hash64(u64::from(user) ^ USER))
            }
            Policy::Sticky => self.on_ring(inst, hash64(key)),
        }
    }

    fn least(&mut self, ready: &[u32], inst: &impl Instances) -> u32 {
        let n = ready.len();
        self.cursor = (self.cursor + 1) % n;
        let (head, tail) = ready.split_at(self.cursor);
        let mut best = tail[0];
        let mut best_load = inst.outstanding(best);
        // The first minimum from the cursor wins; an idle instance is a minimum, so the scan
        // stops there (the same pick, without reading the rest of a large fleet).
        for part in [&tail[1..], head] {
            for &i in part {
                if best_load == 0 {
                    return best;
                }
                let load = inst.outstanding(i);
                if load < best_load {
                    (best, best_load) = (i, load);
                }
            }
        }
        best
    }

    /// nginx's smooth weighted round robin: add each weight to its current value, pick the
    /// largest, subtract the total from it. Over a cycle each instance gets its weight's share,
    /// interleaved rather than in bursts.
    fn smooth_weighted(&mut self, ready: &[u32], inst: &impl Instances) -> u32 {
        let slots = inst.slots() as usize;
        if self.current.len() < slots {
            self.current.resize(slots, 0.0);
        }
        let (mut best, mut best_w, mut total) = (ready[0], f64::NEG_INFINITY, 0.0);
        for &i in ready {
            let w = inst.weight(i);
            total += w;
            let c = &mut self.current[i as usize];
            *c += w;
            if *c > best_w {
                (best, best_w) = (i, *c);
            }
        }
        self.current[best as usize] -= total;
        best
    }

    /// The first ready instance clockwise from `point` on the ring.
    fn on_ring(&mut self, inst: &impl Instances, point: u64) -> u32 {
        if self.ring_slots != inst.slots() {
            self.ring = ring(inst.slots(), VNODES);
            self.ring_slots = inst.slots();
        }
        let start = self.ring.partition_point(|(p, _)| *p < point);
        let n = self.ring.len();
        (0..n)
            .map(|k| self.ring[(start + k) % n].1)
            .find(|&i| inst.is_ready(i))
            .expect("a ready instance is on the ring")
    }
}

/// Salt that keeps user ids and keys on different ring positions.
const USER: u64 = 0x5553_4552_5f49_4400;

fn two_choices(ready: &[u32], inst: &impl Instances, rng: &mut Rng) -> u32 {
    let n = ready.len() as u64;
    let a = rng.below(n);
    let b = (a + 1 + rng.below(n - 1)) % n;
    let (a, b) = (ready[a as usize], ready[b as usize]);
    if inst.outstanding(b) < inst.outstanding(a) {
        b
    } else {
        a
    }
}

/// The consistent-hashing ring of `slots` instances with `vnodes` points each.
pub fn ring(slots: u32, vnodes: u32) -> Vec<(u64, u32)> {
    let mut r: Vec<(u64, u32)> = (0..slots)
        .flat_map(|i| (0..vnodes).map(move |v| (hash64((u64::from(i) << 32) | u64::from(v)), i)))
        .collect();
    r.sort_unstable();
    r
}

/// A 64-bit finalizer (SplitMix64's): spreads keys and ids over the ring.
#[inline]
pub fn hash64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fleet {
        load: Vec<u32>,
        weight: Vec<f64>,
        ready: Vec<bool>,
    }

    impl Instances for Fleet {
        fn outstanding(&self, i: u32) -> u32 {
            self.load[i as usize]
        }
        fn weight(&self, i: u32) -> f64 {
            self.weight[i as usize]
        }
        fn is_ready(&self, i: u32) -> bool {
            self.ready[i as usize]
        }
        fn slots(&self) -> u32 {
            self.load.len() as u32
        }
    }

    fn fleet(n: usize) -> Fleet {
        Fleet {
            load: vec![0; n],
            weight: vec![1.0; n],
            ready: vec![true; n],
        }
    }

    fn ids(f: &Fleet) -> Vec<u32> {
        (0..f.slots()).filter(|i| f.is_ready(*i)).collect()
    }

    #[test]
    fn names_round_trip() {
        for (n, p) in Policy::NAMES.iter().zip(Policy::ALL) {
            assert_eq!(Policy::parse(n), Some(p));
            assert_eq!(p.name(), *n);
        }
        assert_eq!(Policy::parse("rr"), None);
    }

    #[test]
    fn round_robin_cycles_through_every_instance() {
        let f = fleet(4);
        let mut b = Balancer::new(Policy::RoundRobin);
        let mut rng = Rng::seed_from(1);
        let picks: Vec<u32> = (0..8)
            .map(|_| b.pick(&ids(&f), &f, 0, 0, &mut rng))
            .collect();
        assert_eq!(picks, [1, 2, 3, 0, 1, 2, 3, 0]);
    }

    #[test]
    fn least_outstanding_takes_the_emptiest_and_spreads_ties() {
        let mut f = fleet(4);
        f.load = vec![3, 1, 2, 1];
        let mut b = Balancer::new(Policy::LeastOutstanding);
        let mut rng = Rng::seed_from(1);
        let picks: Vec<u32> = (0..4)
            .map(|_| b.pick(&ids(&f), &f, 0, 0, &mut rng))
            .collect();
        assert!(picks.iter().all(|p| *p == 1 || *p == 3));
        assert!(picks.contains(&1) && picks.contains(&3));
    }

    #[test]
    fn p2c_never_picks_the_most_loaded_of_three() {
        let mut f = fleet(3);
        f.load = vec![0, 5, 9];
        let mut b = Balancer::new(Policy::PowerOfTwo);
        let mut rng = Rng::seed_from(3);
        for _ in 0..1000 {
            assert_ne!(b.pick(&ids(&f), &f, 0, 0, &mut rng), 2);
        }
    }

    #[test]
    fn smooth_weighted_matches_nginx_sequence() {
        // nginx's documented example: weights 5, 1, 1 give a a b a c a a per cycle.
        let mut f = fleet(3);
        f.weight = vec![5.0, 1.0, 1.0];
        let mut b = Balancer::new(Policy::Weighted);
        let mut rng = Rng::seed_from(1);
        let picks: Vec<u32> = (0..7)
            .map(|_| b.pick(&ids(&f), &f, 0, 0, &mut rng))
            .collect();
        assert_eq!(picks, [0, 0, 1, 0, 2, 0, 0]);
    }

    #[test]
    fn key_hash_is_stable_and_moves_only_the_keys_of_a_lost_instance() {
        let mut f = fleet(10);
        let mut b = Balancer::new(Policy::KeyHash);
        let mut rng = Rng::seed_from(1);
        let before: Vec<u32> = (0..10_000)
            .map(|k| b.pick(&ids(&f), &f, k, u32::MAX, &mut rng))
            .collect();
        f.ready[4] = false;
        let after: Vec<u32> = (0..10_000)
            .map(|k| b.pick(&ids(&f), &f, k, u32::MAX, &mut rng))
            .collect();
        for (x, y) in before.iter().zip(&after) {
            if *x != 4 {
                assert_eq!(x, y, "a key of a surviving instance moved");
            } else {
                assert_ne!(*y, 4);
            }
        }
    }

    #[test]
    fn ring_load_spread_shrinks_with_virtual_nodes() {
        // Per-instance share CV is about 1/sqrt(V): with V = 100 well under 0.2.
        let slots = 20u32;
        let r = ring(slots, VNODES);
        let mut share = vec![0u128; slots as usize];
        for (k, (p, i)) in r.iter().enumerate() {
            let prev = r[(k + r.len() - 1) % r.len()].0;
            share[*i as usize] += u128::from(p.wrapping_sub(prev));
        }
        let mean = share.iter().sum::<u128>() as f64 / f64::from(slots);
        let var = share
            .iter()
            .map(|s| (*s as f64 - mean).powi(2))
            .sum::<f64>()
            / f64::from(slots);
        let cv = var.sqrt() / mean;
        assert!(cv < 0.2, "cv {cv}");
        let single = ring(slots, 1);
        assert_eq!(single.len(), slots as usize);
    }
}
