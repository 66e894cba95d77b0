//! Requests in flight, kept in a slab indexed by `u32` so the hot path never allocates.
//!
//! A slot's generation changes each time it is freed, so a handle `(slot, generation)` kept in
//! a timer event can tell whether the request it meant is still the one in the slot.

/// Marker for "no parent" / "no user".
pub const NONE: u32 = u32::MAX;

/// One request, or one child of a request (a fork arm, a repeat's body, a try's attempt).
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// Request class index.
    pub class: u16,
    /// Set when a try scope's caller gave up on this child: it finishes its current visit,
    /// then is dropped.
    pub detached: bool,
    /// Set while a try scope runs its fallback.
    pub in_fallback: bool,
    /// Program counter into the class's compiled path.
    pub pc: u32,
    /// Children still running (fork arms, or 1 for a repeat or try child).
    pub pending: u32,
    /// Iterations of a repeat's body still to run after this one (for a repeat child).
    pub iterations: u32,
    /// Attempts of the current try scope left after this one.
    pub tries_left: u32,
    /// Parent request of a child, or [`NONE`].
    pub parent: u32,
    /// Closed-loop user that issued it, or [`NONE`].
    pub user: u32,
    /// Slot generation (set by [`Requests::insert`]).
    pub generation: u32,
    /// Creation time, ns.
    pub created: u64,
    /// Absolute deadline, ns (`u64::MAX` when none).
    pub deadline: u64,
    /// Key (product, user, ...) drawn from the key distribution.
    pub key: u64,
    /// A fork arm has failed: the parent fails when the join completes.
    pub failed: Option<crate::observe::ErrorKind>,
    /// When the current attempt of the try scope it waits at started, ns.
    pub started: u64,
    /// The last backoff sleep of that scope, ns (0 before the first retry).
    pub sleep: u64,
    /// The row version it read last (optimistic concurrency).
    pub version: u64,
    /// The child running the current attempt of the try scope it waits at.
    pub attempt_child: u32,
    /// The hedged copy of that attempt, or [`NONE`].
    pub hedge_child: u32,
    /// The instance of its last visit, and that instance's memory epoch (an in-process cache
    /// tier reads the cache of the instance that served it).
    pub instance: u32,
    /// See `instance`.
    pub epoch: u32,
    /// The last cache lookup hit.
    pub hit: bool,
    /// Not a client's request: a background load or a write-behind flush (not recorded).
    pub background: bool,
    /// The next request waiting for the same load (single flight), or [`NONE`].
    pub next: u32,
    /// When its current cache lookup or load started, ns.
    pub mark: u64,
    /// For a background request: what it does (see the system's `JOB_FLUSH`).
    pub job: u32,
    /// During a database read's visit, the node it reads (0: the primary, r + 1: replica r);
    /// during a write's or a replay's visit, the failover epoch it started in.
    pub db: u16,
    /// The region serving it (its `geo` step's pick), or `u16::MAX`.
    pub region: u16,
}

impl Default for Request {
    fn default() -> Request {
        Request {
            class: 0,
            detached: false,
            in_fallback: false,
            pc: 0,
            pending: 0,
            iterations: 0,
            tries_left: 0,
            parent: NONE,
            user: NONE,
            generation: 0,
            created: 0,
            deadline: u64::MAX,
            key: 0,
            failed: None,
            started: 0,
            sleep: 0,
            version: 0,
            attempt_child: NONE,
            hedge_child: NONE,
            instance: 0,
            epoch: 0,
            hit: false,
            background: false,
            next: NONE,
            mark: 0,
            job: 0,
            db: 0,
            region: u16::MAX,
        }
    }
}

/// A slab of requests with a free list; slots are reused, so memory tracks the number in flight.
#[derive(Debug, Default)]
pub struct Requests {
    slots: Vec<Request>,
    free: Vec<u32>,
}

impl Requests {
    /// Stores `r` and returns its slot.
    #[inline]
    pub fn insert(&mut self, mut r: Request) -> u32 {
        if let Some(i) = self.free.pop() {
            r.generation = self.slots[i as usize].generation;
            self.slots[i as usize] = r;
            i
        } else {
            r.generation = 0;
            self.slots.push(r);
            (self.slots.len() - 1) as u32
        }
    }

    /// Frees slot `i`.
    #[inline]
    pub fn remove(&mut self, i: u32) {
        let s = &mut self.slots[i as usize];
        s.generation = s.generation.wrapping_add(1);
        self.free.push(i);
    }

    /// A handle on the request in slot `i` for a timer event: slot and generation in one
    /// `u64`, resolved by [`Requests::resolve`].
    pub fn handle(&self, i: u32) -> u64 {
        u64::from(i) | (u64::from(self.slots[i as usize].generation) << 32)
    }

    /// The slot a [`Requests::handle`] named, if it still holds that request.
    pub fn resolve(&self, handle: u64) -> Option<u32> {
        let (i, generation) = (handle as u32, (handle >> 32) as u32);
        self.is_live(i, generation).then_some(i)
    }

    /// Whether slot `i` still holds the request of generation `generation`.
    pub fn is_live(&self, i: u32, generation: u32) -> bool {
        self.slots
            .get(i as usize)
            .is_some_and(|r| r.generation == generation)
    }

    /// The request in slot `i`.
    #[inline]
    pub fn get(&self, i: u32) -> &Request {
        &self.slots[i as usize]
    }

    /// The request in slot `i`, mutably.
    #[inline]
    pub fn get_mut(&mut self, i: u32) -> &mut Request {
        &mut self.slots[i as usize]
    }

    /// Number of requests in flight.
    pub fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_slot_no_longer_matches_its_old_handle() {
        let mut rs = Requests::default();
        let a = rs.insert(Request::default());
        let g = rs.get(a).generation;
        assert!(rs.is_live(a, g));
        rs.remove(a);
        assert!(!rs.is_live(a, g));
        let b = rs.insert(Request::default());
        assert_eq!(a, b, "the slot is reused");
        assert!(!rs.is_live(b, g), "a reused slot has a new generation");
        assert!(rs.is_live(b, rs.get(b).generation));
    }
}
