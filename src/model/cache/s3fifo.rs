//! S3-FIFO (Yang, Zhang, Qiu, Yue and Vinayak, "FIFO queues are all you need for cache
//! eviction", SOSP 2023, Algorithm 1): a small FIFO `S` (10 % of the cache) that new keys enter,
//! a main FIFO `M` (the rest) run as a 2-bit CLOCK, and a ghost FIFO `G` of keys recently
//! evicted from `S` (as many keys as `M` may hold entries).
//!
//! - A hit raises the entry's frequency, capped at 3; nothing moves.
//! - An insert goes to `M` if the key is in `G` (and leaves `G`), else to `S`; frequency 0.
//!   `G` is checked before the evictions that make room (as libCacheSim's implementation,
//!   which checks it when the request misses), so they cannot push the key out of `G` first.
//! - To evict: from `S` if `S` holds at least its share (or `M` is empty), else from `M`.
//! - From `S`: the tail moves to `M` (its frequency cleared) if it was hit more than once,
//!   and if `M` then exceeds its share one entry is evicted from `M`; this repeats until a tail
//!   hit at most once is evicted, its key entering `G` (`G` drops its oldest key when full).
//!   One eviction from `S` can thus also evict one entry of `M`, as in the paper.
//! - From `M`: a tail with a positive frequency goes back to the head with its frequency less
//!   one, until a tail with frequency 0 is evicted.
//!
//! The shares hold in entries and, if the cache has a byte limit, in bytes: `S`'s share is
//! `ceil(10 %)` of each limit, `M`'s the rest.

use super::Entry;
use super::list::List;

/// The most a frequency counts (two bits).
const MAX_FREQ: u8 = 3;
/// An entry leaving `S` moves to `M` if its frequency exceeds this.
const PROMOTE_ABOVE: u8 = 1;

/// The three queues and the per-slot frequencies.
#[derive(Debug, Clone)]
pub(super) struct S3Fifo {
    small: List,
    main: List,
    ghost: List,
    freq: Vec<u8>,
    small_share: Share,
    main_share: Share,
    small_bytes: u64,
    main_bytes: u64,
    /// Whether the key being inserted was a ghost.
    ghost_hit: bool,
}

/// A queue's share of the cache.
#[derive(Debug, Clone, Copy)]
struct Share {
    entries: u64,
    bytes: u64,
}

impl S3Fifo {
    /// Queues for `slots` entries of at most `bytes` bytes in all, over keys `0..key_space`.
    pub(super) fn new(slots: usize, key_space: usize, bytes: Option<u64>) -> S3Fifo {
        let tenth = |x: u64| x.div_ceil(10);
        let (c, b) = (slots as u64, bytes.unwrap_or(u64::MAX));
        let small_share = Share {
            entries: tenth(c),
            bytes: bytes.map_or(u64::MAX, tenth),
        };
        let main_share = Share {
            entries: c - small_share.entries,
            bytes: bytes.map_or(u64::MAX, |_| b - small_share.bytes),
        };
        S3Fifo {
            small: List::new(slots),
            main: List::new(slots),
            ghost: List::new(key_space),
            freq: vec![0; slots],
            small_share,
            main_share,
            small_bytes: 0,
            main_bytes: 0,
            ghost_hit: false,
        }
    }

    /// A hit on `slot`.
    #[inline]
    pub(super) fn hit(&mut self, slot: u32) {
        let f = &mut self.freq[slot as usize];
        *f = (*f + 1).min(MAX_FREQ);
    }

    /// A key about to be inserted: whether it is in `G` (it leaves `G`). Checked before the
    /// evictions that make room, which could push it out of `G`, as the reference
    /// implementation checks the ghost when the request misses.
    pub(super) fn admit(&mut self, key: u32) {
        self.ghost_hit = self.ghost.contains(key);
        if self.ghost_hit {
            self.ghost.remove(key);
        }
    }

    /// Adds `slot` of `size` bytes, the key just admitted: to `M` if it was a ghost, else to `S`.
    pub(super) fn push(&mut self, slot: u32, size: u64) {
        self.freq[slot as usize] = 0;
        if std::mem::take(&mut self.ghost_hit) {
            self.main.push_front(slot);
            self.main_bytes += size;
        } else {
            self.small.push_front(slot);
            self.small_bytes += size;
        }
    }

    /// Removes `slot` of `size` bytes (invalidated or expired; its key does not become a ghost).
    pub(super) fn remove(&mut self, slot: u32, size: u64) {
        if self.small.contains(slot) {
            self.small.remove(slot);
            self.small_bytes -= size;
        } else {
            self.main.remove(slot);
            self.main_bytes -= size;
        }
    }

    /// The size of an entry changed from `old` to `new` bytes.
    pub(super) fn resize(&mut self, slot: u32, old: u64, new: u64) {
        let q = if self.small.contains(slot) {
            &mut self.small_bytes
        } else {
            &mut self.main_bytes
        };
        *q = *q - old + new;
    }

    /// Evicts one entry as the paper's `evict()` does (one from `S`, or one from `M`, or one
    /// from each), appending the victims' slots to `out`. `entries` gives keys and sizes.
    pub(super) fn evict(&mut self, entries: &[Entry], out: &mut Vec<u32>) {
        let small_full = u64::from(self.small.len()) >= self.small_share.entries
            || self.small_bytes >= self.small_share.bytes;
        if self.small.len() > 0 && (small_full || self.main.len() == 0) {
            self.evict_small(entries, out);
        } else {
            self.evict_main(entries, out);
        }
    }

    fn evict_small(&mut self, entries: &[Entry], out: &mut Vec<u32>) {
        while let Some(t) = self.small.pop_back() {
            let e = &entries[t as usize];
            self.small_bytes -= e.size;
            if self.freq[t as usize] > PROMOTE_ABOVE {
                self.freq[t as usize] = 0;
                self.main.push_front(t);
                self.main_bytes += e.size;
                if self.main_over() {
                    self.evict_main(entries, out);
                }
            } else {
                self.remember(e.key);
                out.push(t);
                return;
            }
        }
    }

    fn evict_main(&mut self, entries: &[Entry], out: &mut Vec<u32>) {
        while let Some(t) = self.main.back() {
            let f = &mut self.freq[t as usize];
            if *f > 0 {
                *f -= 1;
                self.main.move_to_front(t);
            } else {
                self.main.remove(t);
                self.main_bytes -= entries[t as usize].size;
                out.push(t);
                return;
            }
        }
    }

    /// Whether `M` holds more than its share.
    fn main_over(&self) -> bool {
        u64::from(self.main.len()) > self.main_share.entries
            || self.main_bytes > self.main_share.bytes
    }

    /// Puts `key` at the head of `G`, dropping `G`'s oldest key if `G` is full.
    fn remember(&mut self, key: u32) {
        if self.main_share.entries == 0 {
            return;
        }
        if u64::from(self.ghost.len()) >= self.main_share.entries {
            self.ghost.pop_back();
        }
        self.ghost.push_front(key);
    }
}
