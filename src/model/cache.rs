//! Cache state for the simulator's cache tiers (an L1 per app pod, a shared L2, CDN edges):
//! a key in, a decision out. Pure, like [`super::balance`]: no engine types, so the theory
//! tests and the benchmark drive it directly.
//!
//! Keys are `u64` in `0..key_space`, known when the cache is built, so per-key state lives in
//! flat arrays sized then: key → slot (or absent), and the slots hold version, size and expiry.
//! A lookup or an insert allocates nothing. The eviction order is a separate structure per
//! policy, told of every hit, insertion and removal:
//!
//! | policy | order | per request |
//! |---|---|---|
//! | `lru` | list; a hit moves to the front, the back is evicted | O(1) |
//! | `fifo` | list in insertion order; hits change nothing | O(1) |
//! | `random` | a uniformly random resident is evicted (the cache's own [`Rng`]) | O(1) |
//! | `clock` | CLOCK, second chance: a hit sets a bit; the hand clears set bits and evicts the first clear one | O(1) amortized |
//! | `lfu_perfect` | counts over every request, resident or not; a key enters a full cache only if its count beats the least resident count | O(log n) |
//! | `lfu_in_cache` | counts only while resident (from 1 at insertion, forgotten at eviction) | O(log n) |
//! | `s3fifo` | S3-FIFO (Yang et al., SOSP 2023): small FIFO, main FIFO, ghost FIFO (the rules: `cache/s3fifo.rs`) | O(1) amortized |
//!
//! LFU breaks ties between equal counts by evicting the least recently accessed entry.
//! CLOCK is run as FIFO-reinsertion (the same order as a hand over a circle): a new entry's
//! bit is clear.
//!
//! Limits: `capacity` entries and, optionally, `bytes` bytes; an insert evicts until both hold
//! (a value larger than `bytes` is not cached). TTLs ([`Ttl`]) are checked lazily: an expired
//! entry found by a lookup is removed and counted as an expiration and a miss; one never looked
//! up again leaves by eviction. Each entry carries the version of the value the caller cached,
//! returned on a hit, so the simulator can tell a stale read.
//!
//! ```
//! use scalesim::model::cache::{Cache, CacheSpec, Lookup, Policy};
//!
//! let spec = CacheSpec { capacity: 2, bytes: None, policy: Policy::Lru, ttl: None };
//! let mut cache = Cache::new(&spec, 100, 7).unwrap();
//! assert_eq!(cache.lookup(5, 0), Lookup::Miss);
//! cache.insert(5, 1, 100, 0);
//! assert_eq!(cache.lookup(5, 10), Lookup::Hit { version: 1 });
//! ```

mod heap;
mod list;
mod order;
mod s3fifo;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod theory;

use crate::engine::Rng;
use order::Order;

/// The largest key space: keys are stored as `u32` below the list sentinels.
pub const MAX_KEY_SPACE: u64 = u32::MAX as u64 - 1;

/// A key without a slot.
const ABSENT: u32 = u32::MAX;

/// An eviction policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Least recently used.
    Lru,
    /// First in, first out: hits do not change the order.
    Fifo,
    /// A uniformly random resident entry.
    Random,
    /// Least frequently used, counting every request (resident or not); admission only for a
    /// count above the least resident one.
    LfuPerfect,
    /// Least frequently used, counting only while resident.
    LfuInCache,
    /// CLOCK (second chance).
    Clock,
    /// S3-FIFO (Yang et al., SOSP 2023).
    S3Fifo,
}

/// The policy name one edit (a transposition included) away from `name`: short names like
/// `lur` are typos of `lru`, which similarity by common prefix would not find.
fn close(name: &str) -> Option<String> {
    Policy::NAMES
        .iter()
        .map(|n| (strsim::damerau_levenshtein(name, n), *n))
        .filter(|(d, _)| *d <= 1)
        .min()
        .map(|(_, n)| n.to_string())
}

impl Policy {
    /// Every policy, in the order of [`Policy::NAMES`].
    pub const ALL: [Policy; 7] = [
        Policy::Lru,
        Policy::Fifo,
        Policy::Random,
        Policy::LfuPerfect,
        Policy::LfuInCache,
        Policy::Clock,
        Policy::S3Fifo,
    ];

    /// Policy names as scenarios spell them.
    pub const NAMES: [&'static str; 7] = [
        "lru",
        "fifo",
        "random",
        "lfu_perfect",
        "lfu_in_cache",
        "clock",
        "s3fifo",
    ];

    /// The policy called `name`; for an unknown name, an error naming the nearest policy.
    pub fn parse(name: &str) -> Result<Policy, String> {
        match Self::NAMES.iter().position(|n| *n == name) {
            Some(i) => Ok(Self::ALL[i]),
            None => Err(
                match close(name).or_else(|| crate::scenario::nearest(name, Self::NAMES)) {
                    Some(s) => format!("unknown cache policy `{name}` (did you mean `{s}`?)"),
                    None => format!(
                        "unknown cache policy `{name}` (one of {})",
                        Self::NAMES.join(", ")
                    ),
                },
            ),
        }
    }

    /// Its name in scenario files.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// When a TTL starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TtlMode {
    /// At insertion only: hits do not extend an entry's life.
    FromInsert,
    /// At insertion and again at every hit.
    RestartOnHit,
}

/// A time to live.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ttl {
    /// The mean time to live, ns (at least 1).
    pub ns: u64,
    /// Each TTL is drawn uniformly from `ns * [1 - jitter, 1 + jitter]`; in `[0, 1)`, 0 for
    /// none. The mean stays `ns`.
    pub jitter: f64,
    /// When the TTL starts.
    pub mode: TtlMode,
}

impl Ttl {
    /// One TTL, ns.
    fn draw(&self, rng: &mut Rng) -> u64 {
        if self.jitter == 0.0 {
            return self.ns;
        }
        let factor = 1.0 + self.jitter * (2.0 * rng.next_f64() - 1.0);
        ((self.ns as f64 * factor).round() as u64).max(1)
    }
}

/// What a cache is.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheSpec {
    /// The most entries it holds (at least 1; a capacity at or above the key space never
    /// evicts for the count).
    pub capacity: u64,
    /// The most bytes it holds, if limited (at least 1).
    pub bytes: Option<u64>,
    /// The eviction policy.
    pub policy: Policy,
    /// The time to live of entries, if they expire.
    pub ttl: Option<Ttl>,
}

impl CacheSpec {
    /// Whether the spec makes sense, and if not, which field is wrong and why.
    pub fn check(&self) -> Result<(), String> {
        if self.capacity == 0 {
            return Err("capacity must be at least 1 entry".into());
        }
        if self.bytes == Some(0) {
            return Err("bytes must be at least 1 when set".into());
        }
        if let Some(t) = self.ttl {
            if t.ns == 0 {
                return Err("ttl must be at least 1 ns".into());
            }
            if !(0.0..1.0).contains(&t.jitter) {
                return Err(format!("ttl jitter must be in [0, 1), not {}", t.jitter));
            }
        }
        Ok(())
    }
}

/// The answer to a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lookup {
    /// Resident and fresh: the version the caller stored.
    Hit {
        /// The version stored with the value.
        version: u64,
    },
    /// Not resident.
    Miss,
    /// Resident but expired: now removed, counted as an expiration and a miss; the caller
    /// fetches and inserts as on a miss.
    Expired,
}

/// Counters since construction (or the last [`Cache::reset_stats`]), and the current content.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CacheStats {
    /// Lookups that found a fresh entry.
    pub hits: u64,
    /// Lookups that did not (expired entries included).
    pub misses: u64,
    /// Entries evicted to make room.
    pub evictions: u64,
    /// Expired entries found by lookups.
    pub expirations: u64,
    /// Entries removed by [`Cache::invalidate`].
    pub invalidations: u64,
    /// Inserts not cached: a value larger than the byte limit, or a key perfect LFU did not
    /// admit.
    pub rejections: u64,
    /// Resident entries now.
    pub entries: u64,
    /// Resident bytes now.
    pub bytes: u64,
}

impl CacheStats {
    /// hits / (hits + misses), 0 before any lookup.
    pub fn hit_ratio(&self) -> f64 {
        let n = self.hits + self.misses;
        if n == 0 {
            0.0
        } else {
            self.hits as f64 / n as f64
        }
    }
}

/// A resident entry.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    key: u32,
    version: u64,
    /// The first time (ns) at which it is expired; `u64::MAX` for never.
    expires: u64,
    size: u64,
}

/// The state of one cache. Same spec, key space and seed: same decisions.
#[derive(Debug, Clone)]
pub struct Cache {
    /// key → slot + 1, 0 when not resident (see [`Cache::slot`]).
    slot_of: Vec<u32>,
    /// The slots used so far (up to `slots`), in use or free.
    entries: Vec<Entry>,
    /// Capacity in entries: `entries` grows to it as the cache fills.
    slots: u64,
    /// Free slots among `entries`.
    free: Vec<u32>,
    order: Order,
    /// Reused buffer for the victims of one eviction step.
    victims: Vec<u32>,
    ttl: Option<Ttl>,
    ttl_rng: Rng,
    byte_limit: u64,
    /// Counts lookups and inserts: LFU's access stamps.
    stamp: u64,
    stats: CacheStats,
}

impl Cache {
    /// A cache for keys `0..key_space` (1 to [`MAX_KEY_SPACE`]). `seed` drives RANDOM's victims
    /// and the TTL jitter (two separate streams). Allocates every structure here:
    /// `min(capacity, key_space)` slots of about 50 bytes, and per key 4 bytes (12 for perfect
    /// LFU's counts and S3-FIFO's ghost links).
    pub fn new(spec: &CacheSpec, key_space: u64, seed: u64) -> Result<Cache, String> {
        spec.check()?;
        if !(1..=MAX_KEY_SPACE).contains(&key_space) {
            return Err(format!(
                "key space must be between 1 and {MAX_KEY_SPACE}, not {key_space}"
            ));
        }
        let slots = spec.capacity.min(key_space) as usize;
        let keys = key_space as usize;
        Ok(Cache {
            // Zeroed memory (absent) comes from the allocator without a write: a pod's L1 over a
            // large key space costs only the pages its keys touch.
            slot_of: vec![0; keys],
            entries: Vec::new(),
            slots: slots as u64,
            free: Vec::new(),
            order: Order::new(
                spec.policy,
                slots,
                keys,
                spec.bytes,
                Rng::stream(seed, "cache.evict"),
            ),
            victims: Vec::with_capacity(4),
            ttl: spec.ttl,
            ttl_rng: Rng::stream(seed, "cache.ttl"),
            byte_limit: spec.bytes.unwrap_or(u64::MAX),
            stamp: 0,
            stats: CacheStats::default(),
        })
    }

    /// Looks `key` up at `now` (ns): a hit returns the stored version and, under
    /// [`TtlMode::RestartOnHit`], restarts the TTL. A key outside the key space misses.
    #[inline]
    pub fn lookup(&mut self, key: u64, now: u64) -> Lookup {
        self.stamp += 1;
        let Some(slot) = self.slot(key) else {
            self.stats.misses += 1;
            return Lookup::Miss;
        };
        let k = key as u32;
        self.order.request(k);
        if slot == ABSENT {
            self.stats.misses += 1;
            return Lookup::Miss;
        }
        if now >= self.entries[slot as usize].expires {
            self.detach(slot);
            self.stats.expirations += 1;
            self.stats.misses += 1;
            return Lookup::Expired;
        }
        if let Some(t) = self.ttl
            && t.mode == TtlMode::RestartOnHit
        {
            self.entries[slot as usize].expires = now.saturating_add(t.draw(&mut self.ttl_rng));
        }
        self.order.hit(slot, k, self.stamp);
        self.stats.hits += 1;
        Lookup::Hit {
            version: self.entries[slot as usize].version,
        }
    }

    /// Caches `version` of `key`'s value, `size` bytes, at `now` (ns), evicting until the
    /// limits hold; the TTL starts now. A resident key is updated in place (version, size,
    /// TTL) without a change in the eviction order (if it grew, the evictions that follow may
    /// take it). Not cached: a key outside the key space, a value over the byte limit (a
    /// resident key's old value is dropped), a key perfect LFU does not admit (the last two
    /// counted as rejections).
    pub fn insert(&mut self, key: u64, version: u64, size: u64, now: u64) {
        self.stamp += 1;
        let Some(slot) = self.slot(key) else {
            return;
        };
        if slot != ABSENT {
            return self.update(slot, version, size, now);
        }
        let full = self.stats.entries >= self.slots
            || self.stats.bytes.saturating_add(size) > self.byte_limit;
        if size > self.byte_limit || !self.order.admit(key as u32, full) {
            self.stats.rejections += 1;
            return;
        }
        self.make_room(1, size);
        // A freed slot first, else the next never used (the order a full free list of all
        // slots, lowest on top, would give).
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None if (self.entries.len() as u64) < self.slots => {
                self.entries.push(Entry::default());
                self.entries.len() as u32 - 1
            }
            None => return, // unreachable: make_room left room
        };
        let expires = self.deadline(now);
        self.entries[slot as usize] = Entry {
            key: key as u32,
            version,
            expires,
            size,
        };
        self.slot_of[key as usize] = slot.wrapping_add(1);
        self.order.push(slot, key as u32, size, self.stamp);
        self.stats.entries += 1;
        self.stats.bytes += size;
    }

    /// Removes `key`; whether it was resident (expired or not).
    pub fn invalidate(&mut self, key: u64) -> bool {
        match self.slot(key) {
            Some(slot) if slot != ABSENT => {
                self.detach(slot);
                self.stats.invalidations += 1;
                true
            }
            _ => false,
        }
    }

    /// The version and expiry time (ns, `u64::MAX` for never) of `key`'s entry, expired or
    /// not, without counting or reordering anything: what early refresh and
    /// stale-while-revalidate read.
    #[inline]
    pub fn peek(&self, key: u64) -> Option<(u64, u64)> {
        let slot = self.slot(key).filter(|s| *s != ABSENT)?;
        let e = &self.entries[slot as usize];
        Some((e.version, e.expires))
    }

    /// Whether `key` is resident (expired or not), without counting or reordering anything.
    pub fn contains(&self, key: u64) -> bool {
        self.slot(key).is_some_and(|s| s != ABSENT)
    }

    /// The counters and the current content.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// Zeroes the counters (not the content), as at the end of a warm-up.
    pub fn reset_stats(&mut self) {
        self.stats = CacheStats {
            entries: self.stats.entries,
            bytes: self.stats.bytes,
            ..CacheStats::default()
        };
    }

    /// The slot of `key` (maybe [`ABSENT`]); `None` outside the key space.
    #[inline]
    fn slot(&self, key: u64) -> Option<u32> {
        usize::try_from(key)
            .ok()
            .and_then(|k| self.slot_of.get(k))
            .map(|s| s.wrapping_sub(1))
    }

    /// When an entry written at `now` expires.
    fn deadline(&mut self, now: u64) -> u64 {
        match self.ttl {
            None => u64::MAX,
            Some(t) => now.saturating_add(t.draw(&mut self.ttl_rng)),
        }
    }

    /// A resident key written again.
    fn update(&mut self, slot: u32, version: u64, size: u64, now: u64) {
        if size > self.byte_limit {
            self.detach(slot);
            self.stats.rejections += 1;
            return;
        }
        let expires = self.deadline(now);
        let e = &mut self.entries[slot as usize];
        let old = std::mem::replace(&mut e.size, size);
        (e.version, e.expires) = (version, expires);
        self.order.resize(slot, old, size);
        self.stats.bytes = self.stats.bytes - old + size;
        self.make_room(0, 0);
    }

    /// Evicts until `entries` more entries and `bytes` more bytes fit.
    fn make_room(&mut self, entries: u64, bytes: u64) {
        let slots = self.slots;
        let mut victims = std::mem::take(&mut self.victims);
        while self.stats.entries + entries > slots
            || self.stats.bytes.saturating_add(bytes) > self.byte_limit
        {
            victims.clear();
            self.order.evict(&self.entries, &mut victims);
            for &v in &victims {
                self.release(v);
                self.stats.evictions += 1;
            }
        }
        self.victims = victims;
    }

    /// Unlinks `slot` from the order and frees it.
    fn detach(&mut self, slot: u32) {
        self.order.remove(slot, self.entries[slot as usize].size);
        self.release(slot);
    }

    /// Frees `slot` (already out of the order).
    fn release(&mut self, slot: u32) {
        let e = self.entries[slot as usize];
        self.slot_of[e.key as usize] = 0;
        self.free.push(slot);
        self.stats.entries -= 1;
        self.stats.bytes -= e.size;
    }
}
