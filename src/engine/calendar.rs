//! The event calendar: a binary min-heap keyed by `(time, insertion sequence)`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

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
    key: u128,
    event: Event,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: reverse so the earliest (time, seq) pops first.
        other.key.cmp(&self.key)
    }
}

/// Pending events, popped in `(time, insertion sequence)` order: ties are FIFO.
#[derive(Debug, Default)]
pub struct Calendar {
    heap: BinaryHeap<Entry>,
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
        self.heap.push(Entry { key, event });
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, Event)> {
        self.heap.pop().map(|e| (SimTime((e.key >> 64) as u64), e.event))
    }

    /// The time of the earliest event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| SimTime((e.key >> 64) as u64))
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
