//! The primary's log of committed records not yet applied everywhere: a ring buffer indexed
//! by LSN, trimmed from the front as the slowest replica advances and cut from the back at a
//! failover.

use std::collections::VecDeque;

use super::Lsn;

/// One committed write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Record {
    /// The key written.
    pub key: u64,
    /// When it committed on the primary, ns.
    pub at: u64,
    /// The key's latest committed LSN before this write (0 for none): where a failover that
    /// loses this write rolls the key back to.
    pub(super) prev: Lsn,
}

/// Records `base, base + 1, ...`, oldest first.
#[derive(Debug, Clone)]
pub(super) struct Log {
    /// The LSN of the front record (the head + 1 when empty).
    base: Lsn,
    records: VecDeque<Record>,
}

impl Log {
    /// An empty log whose next record is LSN 1.
    pub(super) fn new() -> Log {
        Log {
            base: 1,
            records: VecDeque::new(),
        }
    }

    /// Appends the record of `lsn`, which must be the next one.
    #[inline]
    pub(super) fn push(&mut self, lsn: Lsn, record: Record) {
        debug_assert_eq!(lsn, self.base + self.records.len() as u64);
        self.records.push_back(record);
    }

    /// The record of `lsn`, if it is still held.
    #[inline]
    pub(super) fn get(&self, lsn: Lsn) -> Option<&Record> {
        let i = lsn.checked_sub(self.base)?;
        self.records.get(usize::try_from(i).ok()?)
    }

    /// Drops every record up to `floor` (inclusive).
    pub(super) fn trim(&mut self, floor: Lsn) {
        while self.base <= floor && self.records.pop_front().is_some() {
            self.base += 1;
        }
        if self.records.is_empty() {
            self.base = self.base.max(floor + 1);
        }
    }

    /// Removes every record after `p`, newest first, handing each to `undo`; returns how many.
    pub(super) fn truncate_after(&mut self, p: Lsn, mut undo: impl FnMut(&Record)) -> u64 {
        let mut n = 0;
        while self.base + self.records.len() as u64 > p + 1 {
            let Some(r) = self.records.pop_back() else {
                break;
            };
            undo(&r);
            n += 1;
        }
        if self.records.is_empty() {
            self.base = self.base.min(p + 1);
        }
        n
    }

    /// Records held.
    pub(super) fn len(&self) -> usize {
        self.records.len()
    }
}
