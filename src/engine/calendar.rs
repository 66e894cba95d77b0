//! The event calendar: a 4-ary min-heap keyed by `(time, insertion sequence)`.
//!
//! The heap keeps its keys and its events in two arrays: sifting compares keys only, so the
//! four children of a node cost one or two cache lines of keys rather than twice that.

use std::collections::BTreeMap;

use super::SimTime;

/// An event: which component it is for, what kind it is (the component's own code) and one
/// payload word (usually a request slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Index of the component the event is addressed to.
    pub target: u32,
    /// Component-defined event kind.
    pub kind: u32,
    /// Component-defined payload (request slot, worker, generation, ...).
    pub data: u64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// `time << 64 | seq`: one integer comparison orders by time, then insertion.
    key: u128,
    event: Event,
}

/// Children per node: a 4-ary heap is shallower than a binary one and its children share a
/// cache line or two, which makes `pop` (the engine's hottest operation) cheaper.
const ARITY: usize = 4;

/// Far events are grouped in buckets of `2^FAR_SHIFT` ns (about 16.8 ms).
const FAR_SHIFT: u32 = 24;
/// The far store is used only once the heap holds this many events.
const FAR_THRESHOLD: usize = 64;

/// Drained far-bucket lists kept for reuse at most.
const MAX_SPARE: usize = 256;

/// Pending events, popped in `(time, insertion sequence)` order: ties are FIFO.
///
/// Two tiers. Near events live in a 4-ary min-heap with hole-based sifting (each level moves
/// one entry, no swaps). When the heap is large (thousands of users thinking), events in a
/// later time bucket than any drained so far go to a far store of per-bucket lists instead, so
/// the heap stays small and cache-resident. Before popping, the earliest far bucket is merged
/// into the heap whenever it could hold an event not later than the heap's top; the heap's key
/// `(time, seq)` then restores the exact order. The result is identical to a single heap.
#[derive(Debug, Default)]
pub struct Calendar {
    /// Heap keys (`time << 64 | seq`), in heap order.
    keys: Vec<u128>,
    /// The event of each heap key, at the same index.
    events: Vec<Event>,
    far: BTreeMap<u64, Vec<Entry>>,
    /// Drained far buckets, kept for reuse: a bucket's list is allocated once, not per bucket.
    spare: Vec<Vec<Entry>>,
    horizon: u64,
    far_len: usize,
    seq: u64,
}

impl Calendar {
    /// An empty calendar.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `event` at time `at` (nanoseconds).
    #[inline]
    pub fn push(&mut self, at: u64, event: Event) {
        let key = ((at as u128) << 64) | self.seq as u128;
        self.seq += 1;
        let bucket = at >> FAR_SHIFT;
        if bucket > self.horizon && self.keys.len() >= FAR_THRESHOLD {
            let spare = &mut self.spare;
            self.far
                .entry(bucket)
                .or_insert_with(|| spare.pop().unwrap_or_default())
                .push(Entry { key, event });
            self.far_len += 1;
            return;
        }
        self.heap_push(key, event);
    }

    #[inline]
    fn heap_push(&mut self, key: u128, event: Event) {
        let mut i = self.keys.len();
        self.keys.push(key);
        self.events.push(event);
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if self.keys[parent] <= key {
                break;
            }
            self.keys[i] = self.keys[parent];
            self.events[i] = self.events[parent];
            i = parent;
        }
        self.keys[i] = key;
        self.events[i] = event;
    }

    /// Moves the earliest far bucket into the heap while it could precede the heap's top.
    #[inline]
    fn refill(&mut self) {
        while let Some((&bucket, _)) = self.far.first_key_value() {
            let top_bucket = self
                .keys
                .first()
                .map_or(u64::MAX, |k| (k >> 64) as u64 >> FAR_SHIFT);
            if bucket > top_bucket {
                return;
            }
            let (_, mut list) = self.far.pop_first().expect("non-empty");
            self.far_len -= list.len();
            self.horizon = self.horizon.max(bucket);
            for e in list.drain(..) {
                self.heap_push(e.key, e.event);
            }
            if self.spare.len() < MAX_SPARE {
                self.spare.push(list);
            }
        }
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, Event)> {
        if self.far_len > 0 {
            self.refill();
        }
        let last_key = self.keys.pop()?;
        let last_event = self.events.pop().expect("one event per key");
        let (key, event) = match self.keys.first() {
            None => (last_key, last_event),
            Some(&key) => {
                let event = self.events[0];
                self.sift_down(last_key, last_event);
                (key, event)
            }
        };
        Some((SimTime((key >> 64) as u64), event))
    }

    /// Places `(key, event)` starting from the root hole.
    #[inline]
    fn sift_down(&mut self, key: u128, event: Event) {
        let n = self.keys.len();
        let mut i = 0;
        loop {
            let first = i * ARITY + 1;
            if first >= n {
                break;
            }
            let end = (first + ARITY).min(n);
            let mut best = first;
            let mut best_key = self.keys[first];
            for c in first + 1..end {
                if self.keys[c] < best_key {
                    best = c;
                    best_key = self.keys[c];
                }
            }
            if best_key >= key {
                break;
            }
            self.keys[i] = best_key;
            self.events[i] = self.events[best];
            i = best;
        }
        self.keys[i] = key;
        self.events[i] = event;
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.keys.len() + self.far_len
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Rng;
    use std::collections::BTreeMap;

    fn ev(data: u64) -> Event {
        Event {
            target: 0,
            kind: 0,
            data,
        }
    }

    /// The calendar against a BTreeMap oracle keyed by (time, seq), over random operations:
    /// dense ties (times below 50 ns) and a wide spread that fills the far tier.
    #[test]
    fn matches_btreemap_oracle() {
        for (seed, spread, p_push) in [(12345, 50, 0.6), (7, 1 << 34, 0.7), (9, 1 << 30, 0.55)] {
            oracle_run(seed, spread, p_push);
        }
    }

    fn oracle_run(seed: u64, spread: u64, p_push: f64) {
        let mut rng = Rng::seed_from(seed);
        let mut cal = Calendar::new();
        let mut oracle = BTreeMap::new();
        let mut seq = 0u64;
        let mut now = 0u64;
        for i in 0..60_000u64 {
            if rng.next_f64() < p_push {
                let t = now + rng.next_u64() % spread;
                cal.push(t, ev(i));
                oracle.insert((t, seq), i);
                seq += 1;
            } else {
                let got = cal.pop().map(|(t, e)| (t.0, e.data));
                let want = oracle.pop_first().map(|((t, _), d)| (t, d));
                assert_eq!(got, want);
                now = got.map_or(now, |g| g.0);
            }
            assert_eq!(cal.len(), oracle.len());
        }
        while let Some((t, e)) = cal.pop() {
            assert_eq!(
                Some((t.0, e.data)),
                oracle.pop_first().map(|((t, _), d)| (t, d))
            );
        }
        assert!(oracle.is_empty());
    }
}
