//! The event calendar: a 4-ary min-heap keyed by `(time, insertion sequence)`.

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

/// Pending events, popped in `(time, insertion sequence)` order: ties are FIFO.
///
/// A 4-ary min-heap over [`Entry`] with hole-based sifting (each level moves one entry, no
/// swaps).
#[derive(Debug, Default)]
pub struct Calendar {
    heap: Vec<Entry>,
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
        let mut i = self.heap.len();
        self.heap.push(Entry { key, event });
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if self.heap[parent].key <= key {
                break;
            }
            self.heap[i] = self.heap[parent];
            i = parent;
        }
        self.heap[i] = Entry { key, event };
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, Event)> {
        let last = self.heap.pop()?;
        let top = match self.heap.first() {
            None => last,
            Some(&top) => {
                self.sift_down(last);
                top
            }
        };
        Some((SimTime((top.key >> 64) as u64), top.event))
    }

    /// Places `item` starting from the root hole.
    #[inline]
    fn sift_down(&mut self, item: Entry) {
        let n = self.heap.len();
        let mut i = 0;
        loop {
            let first = i * ARITY + 1;
            if first >= n {
                break;
            }
            let end = (first + ARITY).min(n);
            let mut best = first;
            for c in first + 1..end {
                if self.heap[c].key < self.heap[best].key {
                    best = c;
                }
            }
            if self.heap[best].key >= item.key {
                break;
            }
            self.heap[i] = self.heap[best];
            i = best;
        }
        self.heap[i] = item;
    }

    /// The time of the earliest event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.first().map(|e| SimTime((e.key >> 64) as u64))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Rng;
    use std::collections::BTreeMap;

    fn ev(data: u64) -> Event {
        Event { target: 0, kind: 0, data }
    }

    /// The calendar against a BTreeMap oracle keyed by (time, seq), over random operations.
    #[test]
    fn matches_btreemap_oracle() {
        let mut rng = Rng::seed_from(12345);
        let mut cal = Calendar::new();
        let mut oracle = BTreeMap::new();
        let mut seq = 0u64;
        for i in 0..20_000u64 {
            if rng.next_f64() < 0.6 {
                let t = rng.next_u64() % 50;
                cal.push(t, ev(i));
                oracle.insert((t, seq), i);
                seq += 1;
            } else {
                let got = cal.pop().map(|(t, e)| (t.0, e.data));
                let want = oracle.pop_first().map(|((t, _), d)| (t, d));
                assert_eq!(got, want);
            }
        }
        while let Some((t, e)) = cal.pop() {
            assert_eq!(Some((t.0, e.data)), oracle.pop_first().map(|((t, _), d)| (t, d)));
        }
        assert!(oracle.is_empty());
    }
}
