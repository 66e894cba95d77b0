//! An indexed binary min-heap over the slots `0..n`, for LFU: each slot in the heap has a
//! priority `(count, stamp)` and knows its position, so raising a priority, removing a slot
//! and popping the minimum are O(log n), and nothing allocates after construction.

/// The position of a slot that is not in the heap.
const OUT: u32 = u32::MAX;

/// A slot's priority: its request count, then the stamp of its last access (older first).
pub(super) type Prio = (u64, u64);

/// A min-heap of slots ordered by [`Prio`].
#[derive(Debug, Clone)]
pub(super) struct Heap {
    heap: Vec<u32>,
    pos: Vec<u32>,
    prio: Vec<Prio>,
}

impl Heap {
    /// An empty heap over the slots `0..n`.
    pub(super) fn new(n: usize) -> Heap {
        Heap {
            heap: Vec::with_capacity(n),
            pos: vec![OUT; n],
            prio: vec![(0, 0); n],
        }
    }

    /// The slot with the least priority.
    #[inline]
    pub(super) fn min(&self) -> Option<u32> {
        self.heap.first().copied()
    }

    /// The priority of slot `s` (its last one if it left the heap).
    #[inline]
    pub(super) fn prio(&self, s: u32) -> Prio {
        self.prio[s as usize]
    }

    /// Adds slot `s` (not in the heap) with priority `p`.
    pub(super) fn push(&mut self, s: u32, p: Prio) {
        debug_assert_eq!(self.pos[s as usize], OUT);
        self.prio[s as usize] = p;
        self.heap.push(s);
        self.pos[s as usize] = (self.heap.len() - 1) as u32;
        self.sift_up(self.heap.len() - 1);
    }

    /// Raises the priority of slot `s` (in the heap) to `p` (not below its current one).
    pub(super) fn raise(&mut self, s: u32, p: Prio) {
        debug_assert!(p >= self.prio[s as usize]);
        self.prio[s as usize] = p;
        self.sift_down(self.pos[s as usize] as usize);
    }

    /// Removes slot `s` (in the heap).
    pub(super) fn remove(&mut self, s: u32) {
        let i = self.pos[s as usize] as usize;
        let last = self.heap.len() - 1;
        self.swap(i, last);
        self.heap.pop();
        self.pos[s as usize] = OUT;
        if i < self.heap.len() {
            self.sift_down(i);
            self.sift_up(i);
        }
    }

    fn key(&self, i: usize) -> Prio {
        self.prio[self.heap[i] as usize]
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.heap.swap(i, j);
        self.pos[self.heap[i] as usize] = i as u32;
        self.pos[self.heap[j] as usize] = j as u32;
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.key(parent) <= self.key(i) {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut least = i;
            if l < self.heap.len() && self.key(l) < self.key(least) {
                least = l;
            }
            if r < self.heap.len() && self.key(r) < self.key(least) {
                least = r;
            }
            if least == i {
                return;
            }
            self.swap(i, least);
            i = least;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Against a plain oracle: the minimum of a vector of (slot, priority) pairs, after
        /// random pushes, raises and removals.
        #[test]
        fn min_matches_a_linear_scan(ops in prop::collection::vec((0u8..3, 0u32..16, 0u64..8), 1..200)) {
            let mut h = Heap::new(16);
            let mut oracle: Vec<Option<Prio>> = vec![None; 16];
            for (stamp, (op, s, c)) in ops.into_iter().enumerate() {
                let p = (c, stamp as u64);
                match (op, oracle[s as usize]) {
                    (0, None) => { h.push(s, p); oracle[s as usize] = Some(p); }
                    (1, Some(old)) => {
                        let p = (old.0 + c, stamp as u64);
                        h.raise(s, p);
                        oracle[s as usize] = Some(p);
                    }
                    (2, Some(_)) => { h.remove(s); oracle[s as usize] = None; }
                    _ => {}
                }
                let want = (0..16u32).filter_map(|i| oracle[i as usize].map(|p| (p, i))).min();
                prop_assert_eq!(h.min().map(|m| (h.prio(m), m)), want);
            }
        }
    }
}
