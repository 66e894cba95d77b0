//! Shard routers: which of N shards holds a key, and how many keys move when N grows.
//!
//! Pure and engine-free, like [`super::balance`]: a key (`u64` in `0..key_space`) in, a shard
//! index (`0..N`) out, with no allocation per call. Theory tests and benchmarks call the
//! routers directly; the simulator holds one [`Router`].
//!
//! | name | router | per call | N → N+1 moves |
//! |---|---|---|---|
//! | `range` | [`LetterRange`]: keys are users sorted by surname; a shard owns a letter range ("A-H"), weighted by the 1990 US Census surname shares | binary search over ≤ 26 blocks | whatever the new ranges say |
//! | `hash` | [`HashMod`]: `mix64(key) mod N` | one multiply-xorshift and a division | N/(N+1) |
//! | `consistent` | [`Ring`]: V virtual nodes per shard on a hash ring (Karger et al. 1997) | binary search over N·V points | 1/(N+1), all to the new shard |
//! | `bounded` | [`Bounded`]: the ring with loads capped at ceil((1+ε)m/n) (Mirrokni, Thorup, Zadimoghaddam, SODA 2018) | the ring, then a walk past full shards | stateful: loads are counted |
//! | `jump` | [`Jump`]: jump consistent hash (Lamping and Veach 2014) | about ln N LCG steps | 1/(N+1), all to the new shard |
//!
//! Every router but `bounded` is a function of the key: [`Router::route`] and
//! [`Router::owner`] agree. `bounded` counts items per shard: [`Router::route`] places one (the
//! load grows) and [`Router::release`] ends one, so routing each request and releasing it when
//! it completes bounds requests in flight; routing each key once bounds keys assigned.
//!
//! [`moved`] routes the same keys through an old and a new router and counts the keys per
//! (old shard, new shard) pair: the cost of resharding.

mod hash;
mod letters;
mod ring;

#[cfg(test)]
mod tests;

pub use hash::{HashMod, Jump, jump};
pub use letters::{FIRST_LETTER_SHARES, GUIDE_RANGES, LetterRange};
pub use ring::{Bounded, Ring};

/// A shard router of any kind, as the simulator uses it.
#[derive(Debug, Clone)]
pub enum Router {
    /// Ranges of first letters.
    Range(LetterRange),
    /// Hash modulo N.
    Hash(HashMod),
    /// Consistent hashing with virtual nodes.
    Consistent(Ring),
    /// Consistent hashing with bounded loads.
    Bounded(Bounded),
    /// Jump consistent hash.
    Jump(Jump),
}

/// What a router is built from; each kind reads the fields it needs, see [`Router::build`].
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Number of shards (for `range`, it must equal the number of ranges).
    pub shards: usize,
    /// Keys are `0..key_space` (`range` only).
    pub key_space: u64,
    /// Letter ranges, one per shard, e.g. `["A-H", "I-P", "Q-Z"]` (`range` only).
    pub ranges: Vec<String>,
    /// Virtual nodes per shard (`consistent`, `bounded`).
    pub vnodes: u32,
    /// Load slack ε > 0 (`bounded`): no shard exceeds ceil((1+ε)m/n).
    pub eps: f64,
    /// Seed of the ring's point hashes (`consistent`, `bounded`).
    pub seed: u64,
}

impl Default for Spec {
    /// The guide's three letter ranges over a million keys, 100 virtual nodes, ε = 0.25
    /// (HAProxy's `hash-balance-factor 125`), seed 0.
    fn default() -> Spec {
        Spec {
            shards: 3,
            key_space: 1_000_000,
            ranges: GUIDE_RANGES.iter().map(|r| r.to_string()).collect(),
            vnodes: 100,
            eps: 0.25,
            seed: 0,
        }
    }
}

impl Router {
    /// Router names, as written in scenario files.
    pub const NAMES: [&'static str; 5] = ["range", "hash", "consistent", "bounded", "jump"];

    /// The router called `name` (one of [`Router::NAMES`]) built from `spec`; on a typo, the
    /// error suggests the nearest name.
    pub fn build(name: &str, spec: &Spec) -> Result<Router, String> {
        let ring = || Ring::new(spec.shards, spec.vnodes, spec.seed);
        match name {
            "range" => range(spec).map(Router::Range),
            "hash" => HashMod::new(spec.shards).map(Router::Hash),
            "consistent" => ring().map(Router::Consistent),
            "bounded" => Bounded::new(ring()?, spec.eps).map(Router::Bounded),
            "jump" => Jump::new(spec.shards).map(Router::Jump),
            other => Err(unknown(other)),
        }
    }

    /// The shard for `key`; `bounded` also counts it on that shard until [`Router::release`].
    #[inline]
    pub fn route(&mut self, key: u64) -> usize {
        match self {
            Router::Bounded(b) => b.place(key),
            _ => self.owner(key),
        }
    }

    /// Ends an item routed to `shard` (`bounded`; the others keep no count and return false).
    #[inline]
    pub fn release(&mut self, shard: usize) -> bool {
        match self {
            Router::Bounded(b) => b.release(shard),
            _ => false,
        }
    }

    /// The shard `key` hashes to, ignoring loads (for all but `bounded`, its shard).
    #[inline]
    pub fn owner(&self, key: u64) -> usize {
        match self {
            Router::Range(r) => r.route(key),
            Router::Hash(r) => r.route(key),
            Router::Consistent(r) => r.route(key),
            Router::Bounded(r) => r.owner(key),
            Router::Jump(r) => r.route(key),
        }
    }

    /// Number of shards.
    pub fn shards(&self) -> usize {
        match self {
            Router::Range(r) => r.shards(),
            Router::Hash(r) => r.shards(),
            Router::Consistent(r) => r.shards(),
            Router::Bounded(r) => r.shards(),
            Router::Jump(r) => r.shards(),
        }
    }
}

/// A `range` router from the spec, whose shard count must match its ranges.
fn range(spec: &Spec) -> Result<LetterRange, String> {
    if spec.shards != spec.ranges.len() {
        return Err(format!(
            "shards is {} but ranges lists {} letter ranges",
            spec.shards,
            spec.ranges.len()
        ));
    }
    let ranges: Vec<&str> = spec.ranges.iter().map(String::as_str).collect();
    LetterRange::new(&ranges, spec.key_space)
}

/// The error for an unknown router name, with the nearest known one if it is close.
fn unknown(name: &str) -> String {
    let mut msg = format!(
        "unknown shard router `{name}` (expected one of {})",
        Router::NAMES.join(", ")
    );
    if let Some(near) = crate::scenario::nearest(name, Router::NAMES) {
        msg.push_str(&format!("; did you mean `{near}`?"));
    }
    msg
}

/// Keys counted by (old shard, new shard) when the same keys go through two routers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moves {
    /// `pairs[old][new]`: keys on shard `old` before and `new` after.
    pub pairs: Vec<Vec<u64>>,
    /// Keys routed.
    pub keys: u64,
    /// Keys whose shard changed.
    pub moved: u64,
}

impl Moves {
    /// The share of keys whose shard changed (0 with no keys).
    pub fn fraction(&self) -> f64 {
        if self.keys == 0 {
            0.0
        } else {
            self.moved as f64 / self.keys as f64
        }
    }

    /// Keys that arrive on shard `new` from other shards.
    pub fn moved_into(&self, new: usize) -> u64 {
        self.pairs
            .iter()
            .enumerate()
            .filter(|(old, _)| *old != new)
            .map(|(_, row)| row.get(new).copied().unwrap_or(0))
            .sum()
    }
}

/// Routes every key of `keys` through `old` and `new` (in order; `bounded` routers place each
/// key, so they count keys assigned) and counts where each went.
pub fn moved(old: &mut Router, new: &mut Router, keys: impl IntoIterator<Item = u64>) -> Moves {
    let mut m = Moves {
        pairs: vec![vec![0; new.shards()]; old.shards()],
        keys: 0,
        moved: 0,
    };
    for key in keys {
        let (a, b) = (old.route(key), new.route(key));
        m.pairs[a][b] += 1;
        m.keys += 1;
        m.moved += u64::from(a != b);
    }
    m
}
