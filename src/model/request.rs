//! Requests in flight, kept in a slab indexed by `u32` so the hot path never allocates.

/// Marker for "no parent" / "no user".
pub const NONE: u32 = u32::MAX;

/// One request (or one branch of a fork).
#[derive(Debug, Clone, Copy, Default)]
pub struct Request {
    /// Request class index.
    pub class: u16,
    /// Index of the step of the class path being executed.
    pub step: u16,
    /// Branches of a fork still running (for a parent), else 0.
    pub pending: u32,
    /// Parent request of a fork branch, or [`NONE`].
    pub parent: u32,
    /// Closed-loop user that issued it, or [`NONE`].
    pub user: u32,
    /// Creation time, ns.
    pub created: u64,
    /// Absolute deadline, ns (`u64::MAX` when none).
    pub deadline: u64,
    /// Key (product, user, ...) drawn from the key distribution.
    pub key: u64,
    /// A branch has failed: the parent fails when the join completes.
    pub failed: Option<crate::observe::ErrorKind>,
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
    pub fn insert(&mut self, r: Request) -> u32 {
        if let Some(i) = self.free.pop() {
            self.slots[i as usize] = r;
            i
        } else {
            self.slots.push(r);
            (self.slots.len() - 1) as u32
        }
    }

    /// Frees slot `i`.
    #[inline]
    pub fn remove(&mut self, i: u32) {
        self.free.push(i);
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
