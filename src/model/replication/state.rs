//! [`Replication`]: the positions of the primary and its replicas, and the events that move
//! them.

use super::log::{Log, Record};
use super::stats::ReplStats;
use super::{Lsn, MAX_REPLICAS, Node, Read, ReplicationSpec, Shipment, WriteError};

/// What a replica slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// A replica that receives, replays and serves reads.
    Up,
    /// A replica that is down: it keeps its positions (and its place in the log).
    Down,
    /// No replica: the one that was here became the primary.
    Vacant,
}

/// One replica's positions.
#[derive(Debug, Clone, Copy)]
struct Replica {
    slot: Slot,
    /// Everything up to here has arrived.
    received: Lsn,
    /// Everything up to here has been replayed (at most `received`).
    applied: Lsn,
    /// Changes whenever the stream to this replica breaks (down, up, failover).
    link: u32,
}

/// The state of a replicated database. Same spec and same events: same answers.
#[derive(Debug, Clone)]
pub struct Replication {
    /// key → its latest committed LSN (0 for never written).
    key_lsn: Vec<Lsn>,
    log: Log,
    /// The last LSN committed on the current primary.
    head: Lsn,
    replicas: Vec<Replica>,
    /// The least applied LSN over the replicas that hold a place in the log (not vacant); the
    /// log holds every record after it.
    floor: Lsn,
    /// Slots that are not vacant: the replicas that hold a place in the log.
    holders: usize,
    quorum: usize,
    /// The highest LSN acknowledged to writers so far (see [`Replication::acked_upto`]).
    acked: Lsn,
    primary_up: bool,
    /// The fork point of each failover: `forks[e]` ends epoch `e`.
    forks: Vec<Lsn>,
    stats: ReplStats,
}

impl Replication {
    /// A primary and `spec.replicas` replicas, all up and empty, over keys `0..key_space`.
    /// Allocates here 8 bytes per key.
    pub fn new(spec: &ReplicationSpec, key_space: u64) -> Result<Replication, String> {
        spec.check(key_space)?;
        let replica = Replica {
            slot: Slot::Up,
            received: 0,
            applied: 0,
            link: 0,
        };
        Ok(Replication {
            key_lsn: vec![0; key_space as usize],
            log: Log::new(),
            head: 0,
            replicas: vec![replica; spec.replicas],
            floor: 0,
            holders: spec.replicas,
            quorum: spec.quorum,
            acked: 0,
            primary_up: true,
            forks: Vec::new(),
            stats: ReplStats::new(spec.replicas),
        })
    }

    // ----- writes and shipping -----

    /// Commits a write of `key` on the primary at `now` (ns): its LSN. Refused while the
    /// primary is down and for a key outside the key space (both counted in `writes_failed`).
    #[inline]
    pub fn commit(&mut self, key: u64, now: u64) -> Result<Lsn, WriteError> {
        if !self.primary_up {
            self.stats.writes_failed += 1;
            return Err(WriteError::PrimaryDown);
        }
        let Some(slot) = usize::try_from(key)
            .ok()
            .and_then(|k| self.key_lsn.get_mut(k))
        else {
            self.stats.writes_failed += 1;
            return Err(WriteError::KeyOutOfRange);
        };
        self.head += 1;
        let prev = std::mem::replace(slot, self.head);
        self.log.push(self.head, Record { key, at: now, prev });
        self.stats.writes += 1;
        if self.quorum == 0 {
            self.acked = self.head;
        }
        if self.holders == 0 {
            self.advance_floor();
        }
        Ok(self.head)
    }

    /// The shipment of the log up to `upto` to replica `r`, or `None` when there is nothing to
    /// send it (the replica is not up, the primary is down, `upto` is not committed).
    #[inline]
    pub fn shipment(&self, r: usize, upto: Lsn) -> Option<Shipment> {
        let rep = self.replicas.get(r)?;
        (rep.slot == Slot::Up && self.primary_up && upto <= self.head).then_some(Shipment {
            replica: r as u32,
            link: rep.link,
            upto,
        })
    }

    /// The shipment of everything replica `r` lacks (after it comes up, after a failover), or
    /// `None` if it lacks nothing or cannot be sent anything.
    pub fn catch_up(&self, r: usize) -> Option<Shipment> {
        let rep = self.replicas.get(r)?;
        if rep.received >= self.head {
            return None;
        }
        self.shipment(r, self.head)
    }

    /// A shipment arrives: whether the replica took it (it is up, the link is unbroken, and it
    /// brings something new). With a quorum, this is what may raise [`Self::acked_upto`].
    #[inline]
    pub fn arrive(&mut self, s: Shipment) -> bool {
        let Some(rep) = self.replicas.get_mut(s.replica as usize) else {
            return false;
        };
        if rep.slot != Slot::Up || rep.link != s.link || s.upto <= rep.received {
            return false;
        }
        debug_assert!(
            s.upto <= self.head,
            "a current link carries only committed LSNs"
        );
        rep.received = s.upto.min(self.head);
        if self.quorum > 0 && s.upto > self.acked {
            self.raise_acked();
        }
        true
    }

    /// Raises the acknowledged position to the highest received LSN that at least `quorum`
    /// live replicas have reached, if that is higher. Only positions above it are tried: O(N)
    /// per candidate, few candidates in practice.
    ///
    /// Called whenever a live replica's position rises or a replica comes up, so the
    /// acknowledged position is never below [`Self::received_by`]`(quorum)`; an arrival that
    /// brings a replica no higher than it can therefore raise nothing and is skipped.
    fn raise_acked(&mut self) {
        let live = || self.replicas.iter().filter(|r| r.slot == Slot::Up);
        let mut best = self.acked;
        for v in live().map(|r| r.received) {
            if v > best && live().filter(|r| r.received >= v).count() >= self.quorum {
                best = v;
            }
        }
        self.acked = best;
    }

    // ----- replay -----

    /// The next record replica `r` must replay, if it is up and has received it.
    #[inline]
    pub fn next_replay(&self, r: usize) -> Option<Lsn> {
        let rep = self.replicas.get(r)?;
        (rep.slot == Slot::Up && rep.applied < rep.received).then_some(rep.applied + 1)
    }

    /// Replica `r` has replayed everything up to `upto`: whether that moved it (it is up and
    /// `upto` is past its applied position; beyond what it received, it stops there).
    #[inline]
    pub fn replayed(&mut self, r: usize, upto: Lsn) -> bool {
        let Some(rep) = self.replicas.get_mut(r) else {
            return false;
        };
        if rep.slot != Slot::Up || upto <= rep.applied {
            return false;
        }
        debug_assert!(upto <= rep.received, "replayed past what was received");
        let was = std::mem::replace(&mut rep.applied, upto.min(rep.received));
        if was == self.floor {
            self.advance_floor();
        }
        true
    }

    // ----- reads -----

    /// Whether a read of `key` on replica `r` now would be stale: it has applied less than the
    /// key's latest committed LSN. False for a key outside the key space.
    #[inline]
    pub fn is_stale(&self, r: usize, key: u64) -> bool {
        let latest = self.latest(key);
        self.replicas.get(r).is_some_and(|rep| rep.applied < latest)
    }

    /// Serves a read of `key` on `node`, counting it: on the primary it is fresh (unless the
    /// primary is down); on a replica, stale when [`Self::is_stale`].
    #[inline]
    pub fn read(&mut self, node: Node, key: u64) -> Read {
        let outcome = self.peek(node, key);
        self.stats.count_read(node, outcome);
        outcome
    }

    /// What [`Self::read`] would find, counting nothing.
    #[inline]
    pub fn peek(&self, node: Node, key: u64) -> Read {
        match node {
            Node::Primary if self.primary_up => Read::Fresh,
            Node::Replica(r) if self.is_up(r) => {
                if self.is_stale(r, key) {
                    Read::Stale
                } else {
                    Read::Fresh
                }
            }
            _ => Read::Unavailable,
        }
    }

    /// The latest committed (and not lost) LSN of `key`; 0 if never written or out of range.
    #[inline]
    pub fn latest(&self, key: u64) -> Lsn {
        usize::try_from(key)
            .ok()
            .and_then(|k| self.key_lsn.get(k))
            .copied()
            .unwrap_or(0)
    }

    // ----- acknowledgement and lag -----

    /// The highest LSN that writers may be told is committed: with quorum 0 the head; with
    /// quorum k, the highest LSN that at least k live replicas had received when it was
    /// reached (by arrivals, or by a replica coming up with what it had). It never goes down,
    /// except at a failover that loses acknowledged writes (then to the fork point).
    #[inline]
    pub fn acked_upto(&self) -> Lsn {
        self.acked
    }

    /// The highest LSN received by at least `k` live replicas now (the head for k = 0; 0 if
    /// fewer than k are up). Unlike [`Self::acked_upto`], it drops when a replica goes down.
    pub fn received_by(&self, k: usize) -> Lsn {
        if k == 0 {
            return self.head;
        }
        let mut buf = [0; MAX_REPLICAS];
        let mut n = 0;
        for rep in self.replicas.iter().filter(|r| r.slot == Slot::Up) {
            buf[n] = rep.received;
            n += 1;
        }
        if n < k {
            return 0;
        }
        *buf[..n].select_nth_unstable_by(k - 1, |a, b| b.cmp(a)).1
    }

    /// Replica `r`'s time lag at `now`, ns: now minus the commit time of the oldest record it
    /// has not applied; 0 when it has applied everything (and for a vacant slot).
    #[inline]
    pub fn lag(&self, r: usize, now: u64) -> u64 {
        let Some(rep) = self.replicas.get(r).filter(|rep| rep.slot != Slot::Vacant) else {
            return 0;
        };
        if rep.applied >= self.head {
            return 0;
        }
        match self.log.get(rep.applied + 1) {
            Some(rec) => now.saturating_sub(rec.at),
            None => 0, // unreachable: the log holds every record after the floor
        }
    }

    /// Replica `r`'s lag in LSNs: committed records it has not applied.
    #[inline]
    pub fn lsn_lag(&self, r: usize) -> Lsn {
        self.replicas
            .get(r)
            .map_or(0, |rep| self.head.saturating_sub(rep.applied))
    }

    /// Records the time lag of every replica at `now` into the lag statistics (a replica that
    /// is down counts as `lag_unavailable`, as a real run's monitor cannot reach it).
    pub fn sample_lag(&mut self, now: u64) {
        for r in 0..self.replicas.len() {
            match self.replicas[r].slot {
                Slot::Up => {
                    let lag = self.lag(r, now);
                    self.stats.record_lag(r, Some(lag));
                }
                Slot::Down => self.stats.record_lag(r, None),
                Slot::Vacant => {}
            }
        }
    }

    // ----- failures -----

    /// The primary fails: writes are refused until a promotion (or a recovery). Whether it was
    /// up.
    pub fn fail_primary(&mut self) -> bool {
        std::mem::replace(&mut self.primary_up, false)
    }

    /// The failed primary comes back with everything it had committed (no promotion took
    /// place): whether it was down.
    pub fn recover_primary(&mut self) -> bool {
        !std::mem::replace(&mut self.primary_up, true)
    }

    /// Promotes the live replica with the highest received LSN to primary (ties: the lowest
    /// index), after [`Self::fail_primary`]: its index, or `None` if the primary is up or no
    /// replica is. Writes it had not received are lost (see the module docs).
    pub fn promote(&mut self) -> Option<usize> {
        if self.primary_up {
            return None;
        }
        let chosen = (0..self.replicas.len())
            .filter(|&r| self.replicas[r].slot == Slot::Up)
            .max_by_key(|&r| (self.replicas[r].received, std::cmp::Reverse(r)))?;
        let fork = self.replicas[chosen].received;
        let key_lsn = &mut self.key_lsn;
        let cut = self.log.truncate_after(fork, |rec| {
            key_lsn[rec.key as usize] = rec.prev;
        });
        debug_assert_eq!(cut, self.head - fork, "the log held every lost record");
        self.stats.writes_lost += self.head - fork;
        self.stats.acked_writes_lost += self.acked.saturating_sub(fork);
        self.stats.failovers += 1;
        (self.head, self.acked) = (fork, self.acked.min(fork));
        for rep in &mut self.replicas {
            rep.received = rep.received.min(fork);
            rep.applied = rep.applied.min(fork);
            rep.link = rep.link.wrapping_add(1);
        }
        self.replicas[chosen].slot = Slot::Vacant;
        self.holders -= 1;
        self.forks.push(fork);
        self.primary_up = true;
        self.advance_floor();
        Some(chosen)
    }

    /// Replica `r` goes down: it keeps its positions; what was in flight to it is lost.
    /// Whether it was up.
    pub fn replica_down(&mut self, r: usize) -> bool {
        match self.replicas.get_mut(r) {
            Some(rep) if rep.slot == Slot::Up => {
                rep.slot = Slot::Down;
                rep.link = rep.link.wrapping_add(1);
                true
            }
            _ => false,
        }
    }

    /// Replica `r` comes up: a replica that was down catches up from its positions (send it
    /// [`Self::catch_up`]); a vacant slot gets a replica rebuilt from the current primary,
    /// caught up. Whether it was not up.
    pub fn replica_up(&mut self, r: usize) -> bool {
        let head = self.head;
        let Some(rep) = self.replicas.get_mut(r) else {
            return false;
        };
        let was = rep.slot;
        match was {
            Slot::Up => return false,
            Slot::Down => {}
            Slot::Vacant => (rep.received, rep.applied) = (head, head),
        }
        rep.slot = Slot::Up;
        rep.link = rep.link.wrapping_add(1);
        self.holders += usize::from(was == Slot::Vacant);
        if self.quorum > 0 {
            self.raise_acked();
        }
        true
    }

    // ----- state -----

    /// The last LSN committed on the current primary.
    #[inline]
    pub fn head(&self) -> Lsn {
        self.head
    }

    /// Replica slots (vacant ones included).
    #[inline]
    pub fn replicas(&self) -> usize {
        self.replicas.len()
    }

    /// Whether replica `r` is up (serves reads, receives, replays).
    #[inline]
    pub fn is_up(&self, r: usize) -> bool {
        self.replicas.get(r).is_some_and(|rep| rep.slot == Slot::Up)
    }

    /// Whether the primary takes writes and reads.
    #[inline]
    pub fn primary_up(&self) -> bool {
        self.primary_up
    }

    /// Everything up to this LSN has arrived at replica `r` (0 for an unknown slot).
    #[inline]
    pub fn received(&self, r: usize) -> Lsn {
        self.replicas.get(r).map_or(0, |rep| rep.received)
    }

    /// Replica `r` has replayed everything up to this LSN (0 for an unknown slot).
    #[inline]
    pub fn applied(&self, r: usize) -> Lsn {
        self.replicas.get(r).map_or(0, |rep| rep.applied)
    }

    /// The committed record of `lsn`, while some replica still has to apply it.
    pub fn record(&self, lsn: Lsn) -> Option<Record> {
        self.log.get(lsn).copied()
    }

    /// Records the log holds now (committed, not applied by every replica that holds a place).
    pub fn log_len(&self) -> usize {
        self.log.len()
    }

    /// Failovers so far: a promotion starts a new epoch.
    #[inline]
    pub fn epoch(&self) -> usize {
        self.forks.len()
    }

    /// The fork point of the failover that ended epoch `e`: the new primary's first head.
    #[inline]
    pub fn fork(&self, e: usize) -> Option<Lsn> {
        self.forks.get(e).copied()
    }

    /// The counters and lag statistics.
    pub fn stats(&self) -> &ReplStats {
        &self.stats
    }

    /// Zeroes the counters and lag statistics (not the state), as at the end of a warm-up.
    pub fn reset_stats(&mut self) {
        self.stats.reset();
    }

    // ----- the log's floor -----

    /// Recomputes the floor (the least applied LSN over slots that are not vacant, the head
    /// if none) and drops the records at or below it.
    fn advance_floor(&mut self) {
        self.floor = self
            .replicas
            .iter()
            .filter(|r| r.slot != Slot::Vacant)
            .map(|r| r.applied)
            .min()
            .unwrap_or(self.head);
        self.log.trim(self.floor);
    }
}
