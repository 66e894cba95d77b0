//! An intrusive doubly linked list over the indices `0..n` (slots, or keys for the ghost queue):
//! the links live in two flat arrays sized once, so pushing, unlinking and moving a node never
//! allocates. The front is the newest node, the back the oldest.

/// No node (the end of the list).
const NIL: u32 = u32::MAX;
/// The `next` of a node that is not in the list.
const OUT: u32 = u32::MAX - 1;

/// A doubly linked list over `0..n`.
#[derive(Debug, Clone)]
pub(super) struct List {
    prev: Vec<u32>,
    next: Vec<u32>,
    front: u32,
    back: u32,
    len: u32,
}

impl List {
    /// An empty list over the nodes `0..n` (`n < u32::MAX - 1`).
    pub(super) fn new(n: usize) -> List {
        List {
            prev: vec![NIL; n],
            next: vec![OUT; n],
            front: NIL,
            back: NIL,
            len: 0,
        }
    }

    /// How many nodes are linked.
    #[inline]
    pub(super) fn len(&self) -> u32 {
        self.len
    }

    /// Whether node `i` is linked.
    #[inline]
    pub(super) fn contains(&self, i: u32) -> bool {
        self.next[i as usize] != OUT
    }

    /// The oldest node.
    #[inline]
    pub(super) fn back(&self) -> Option<u32> {
        (self.back != NIL).then_some(self.back)
    }

    /// Links node `i` (not linked) at the front.
    #[inline]
    pub(super) fn push_front(&mut self, i: u32) {
        debug_assert!(!self.contains(i));
        self.prev[i as usize] = NIL;
        self.next[i as usize] = self.front;
        match self.front {
            NIL => self.back = i,
            f => self.prev[f as usize] = i,
        }
        self.front = i;
        self.len += 1;
    }

    /// Unlinks node `i` (linked).
    #[inline]
    pub(super) fn remove(&mut self, i: u32) {
        debug_assert!(self.contains(i));
        let (p, n) = (self.prev[i as usize], self.next[i as usize]);
        match p {
            NIL => self.front = n,
            p => self.next[p as usize] = n,
        }
        match n {
            NIL => self.back = p,
            n => self.prev[n as usize] = p,
        }
        self.next[i as usize] = OUT;
        self.len -= 1;
    }

    /// Moves node `i` (linked) to the front.
    #[inline]
    pub(super) fn move_to_front(&mut self, i: u32) {
        if self.front != i {
            self.remove(i);
            self.push_front(i);
        }
    }

    /// Unlinks and returns the oldest node.
    #[inline]
    pub(super) fn pop_back(&mut self) -> Option<u32> {
        let b = self.back()?;
        self.remove(b);
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nodes from back (oldest) to front, by walking the `prev` links.
    fn back_to_front(l: &List) -> Vec<u32> {
        let mut out = Vec::new();
        let mut i = l.back;
        while i != NIL {
            out.push(i);
            i = l.prev[i as usize];
        }
        out
    }

    #[test]
    fn pushes_moves_and_removals_keep_the_order() {
        let mut l = List::new(5);
        for i in [3, 1, 4, 0] {
            l.push_front(i);
        }
        assert_eq!(back_to_front(&l), [3, 1, 4, 0]);
        l.move_to_front(1);
        assert_eq!(back_to_front(&l), [3, 4, 0, 1]);
        l.remove(0);
        assert!(!l.contains(0) && l.contains(4));
        assert_eq!(back_to_front(&l), [3, 4, 1]);
        assert_eq!((l.pop_back(), l.pop_back(), l.len()), (Some(3), Some(4), 1));
        assert_eq!((l.pop_back(), l.pop_back(), l.len()), (Some(1), None, 0));
        l.push_front(2);
        assert_eq!(back_to_front(&l), [2]);
    }
}
