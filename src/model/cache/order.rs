//! The eviction order of each policy: which slot goes next. The cache's table (keys, versions,
//! sizes, expiry) is policy-free; an [`Order`] is told of every hit, insertion and removal, and
//! asked for victims.

use super::heap::Heap;
use super::list::List;
use super::s3fifo::S3Fifo;
use super::{Entry, Policy};
use crate::engine::Rng;

/// The per-policy structure.
#[derive(Debug, Clone)]
pub(super) enum Order {
    /// LRU: a list, hits move to the front, the back is evicted.
    Lru(List),
    /// FIFO: a list in insertion order, the back is evicted.
    Fifo(List),
    /// CLOCK as FIFO-reinsertion: a hit sets the entry's bit; at eviction the back entry with
    /// its bit set has it cleared and goes to the front, the first one without it is evicted.
    Clock { list: List, bit: Vec<bool> },
    /// RANDOM: the resident slots, dense, and each slot's index among them.
    Random {
        members: Vec<u32>,
        index: Vec<u32>,
        rng: Rng,
    },
    /// LFU: a min-heap by (count, last access); `per_key` holds the counts over all requests
    /// for perfect LFU and is empty for in-cache LFU, whose counts live in the heap.
    Lfu { heap: Heap, per_key: Vec<u64> },
    /// S3-FIFO.
    S3(Box<S3Fifo>),
}

impl Order {
    /// The structure of `policy` for `slots` entries (and `bytes` bytes) over `key_space` keys;
    /// RANDOM draws its victims from `rng`.
    pub(super) fn new(
        policy: Policy,
        slots: usize,
        key_space: usize,
        bytes: Option<u64>,
        rng: Rng,
    ) -> Order {
        match policy {
            Policy::Lru => Order::Lru(List::new(slots)),
            Policy::Fifo => Order::Fifo(List::new(slots)),
            Policy::Clock => Order::Clock {
                list: List::new(slots),
                bit: vec![false; slots],
            },
            Policy::Random => Order::Random {
                members: Vec::with_capacity(slots),
                index: vec![0; slots],
                rng,
            },
            Policy::LfuPerfect | Policy::LfuInCache => Order::Lfu {
                heap: Heap::new(slots),
                per_key: match policy {
                    Policy::LfuPerfect => vec![0; key_space],
                    _ => Vec::new(),
                },
            },
            Policy::S3Fifo => Order::S3(Box::new(S3Fifo::new(slots, key_space, bytes))),
        }
    }

    /// A request for `key`, resident or not (perfect LFU counts it).
    #[inline]
    pub(super) fn request(&mut self, key: u32) {
        if let Order::Lfu { per_key, .. } = self
            && let Some(c) = per_key.get_mut(key as usize)
        {
            *c = c.saturating_add(1);
        }
    }

    /// A hit on `slot`, holding `key`, at access `stamp`.
    #[inline]
    pub(super) fn hit(&mut self, slot: u32, key: u32, stamp: u64) {
        match self {
            Order::Lru(list) => list.move_to_front(slot),
            Order::Fifo(_) | Order::Random { .. } => {}
            Order::Clock { bit, .. } => bit[slot as usize] = true,
            Order::Lfu { heap, per_key } => {
                let count = match per_key.get(key as usize) {
                    Some(&c) => c,
                    None => heap.prio(slot).0.saturating_add(1),
                };
                heap.raise(slot, (count, stamp));
            }
            Order::S3(s3) => s3.hit(slot),
        }
    }

    /// Whether `key`, not resident, may enter; called once before room is made for it.
    /// `full`: whether something must be evicted first. Perfect LFU admits a key into a full
    /// cache only if its count beats the least resident count; S3-FIFO notes whether the key
    /// is a ghost (and forgets it) before the evictions can push it out of the ghost queue.
    pub(super) fn admit(&mut self, key: u32, full: bool) -> bool {
        match self {
            Order::Lfu { heap, per_key } if full && !per_key.is_empty() => match heap.min() {
                Some(m) => per_key[key as usize] > heap.prio(m).0,
                None => true,
            },
            Order::S3(s3) => {
                s3.admit(key);
                true
            }
            _ => true,
        }
    }

    /// Adds `slot`, now holding `key` of `size` bytes, at access `stamp`.
    #[inline]
    pub(super) fn push(&mut self, slot: u32, key: u32, size: u64, stamp: u64) {
        match self {
            Order::Lru(list) | Order::Fifo(list) => list.push_front(slot),
            Order::Clock { list, bit } => {
                bit[slot as usize] = false;
                list.push_front(slot);
            }
            Order::Random { members, index, .. } => {
                index[slot as usize] = members.len() as u32;
                members.push(slot);
            }
            Order::Lfu { heap, per_key } => {
                let count = per_key.get(key as usize).copied().unwrap_or(1);
                heap.push(slot, (count, stamp));
            }
            Order::S3(s3) => s3.push(slot, size),
        }
    }

    /// Removes `slot` of `size` bytes (invalidated or expired).
    pub(super) fn remove(&mut self, slot: u32, size: u64) {
        match self {
            Order::Lru(list) | Order::Fifo(list) | Order::Clock { list, .. } => list.remove(slot),
            Order::Random { members, index, .. } => {
                let i = index[slot as usize] as usize;
                members.swap_remove(i);
                if let Some(&moved) = members.get(i) {
                    index[moved as usize] = i as u32;
                }
            }
            Order::Lfu { heap, .. } => heap.remove(slot),
            Order::S3(s3) => s3.remove(slot, size),
        }
    }

    /// The size of the entry in `slot` changed from `old` to `new` bytes.
    pub(super) fn resize(&mut self, slot: u32, old: u64, new: u64) {
        if let Order::S3(s3) = self {
            s3.resize(slot, old, new);
        }
    }

    /// Chooses at least one victim of a non-empty cache, unlinks it and appends its slot to
    /// `out` (S3-FIFO may append two).
    pub(super) fn evict(&mut self, entries: &[Entry], out: &mut Vec<u32>) {
        let victim = match self {
            Order::Lru(list) | Order::Fifo(list) => list.pop_back(),
            Order::Clock { list, bit } => second_chance(list, bit),
            Order::Random { members, rng, .. } => {
                let slot = members[rng.below(members.len() as u64) as usize];
                self.remove(slot, 0);
                Some(slot)
            }
            Order::Lfu { heap, .. } => heap.min().inspect(|&m| heap.remove(m)),
            Order::S3(s3) => {
                s3.evict(entries, out);
                None
            }
        };
        out.extend(victim);
    }
}

/// CLOCK's hand: the back entries with their bit set lose it and go to the front; the first
/// one without it is unlinked and returned.
fn second_chance(list: &mut List, bit: &mut [bool]) -> Option<u32> {
    while let Some(t) = list.back() {
        if !std::mem::take(&mut bit[t as usize]) {
            list.remove(t);
            return Some(t);
        }
        list.move_to_front(t);
    }
    None
}
