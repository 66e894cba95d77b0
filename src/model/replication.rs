//! Asynchronous database replication: one primary, N read replicas, read routing and
//! failover. Pure, like [`super::cache`] and [`super::shard`]: the engine tells the model what
//! happened (a write committed, a shipment arrived, a replica replayed up to a position, a node
//! failed) and asks it questions (is this read stale, which node serves this read, up to where
//! may writes be acknowledged). Replay *cost* stays with the engine, which makes replay compete
//! with reads for a replica's workers; the model keeps positions and times only.
//!
//! Keys are `u64` in `0..key_space`, known when the model is built, so the latest committed
//! log position (LSN) of every key lives in a flat array: a stale check is one comparison, and
//! a commit, an arrival or a replay allocates nothing once the log buffer has grown to the
//! largest backlog.
//!
//! | piece | what | per call |
//! |---|---|---|
//! | [`Replication::commit`] | a write applies on the primary and gets the next LSN (1, 2, 3, ...) | O(1) |
//! | [`Replication::shipment`], [`Replication::arrive`] | the log shipped to a replica over a FIFO link; arrival raises its *received* position | O(1), O(N) with a quorum |
//! | [`Replication::next_replay`], [`Replication::replayed`] | sequential replay, in log order, raises its *applied* position | O(1), O(N) when the slowest advances |
//! | [`Replication::acked_upto`] | synchronous (k = 1) and quorum (k) commit: the highest LSN received by k live replicas, never lowered | O(1) |
//! | [`Replication::is_stale`] | a replica has applied less than the key's latest committed LSN | O(1) |
//! | [`Replication::lag`], [`Replication::lsn_lag`] | now minus the commit time of the oldest record not applied; LSNs behind | O(1) |
//! | [`Router::route`] | `primary`, `round_robin`, `least_loaded`, `read_your_writes` (window), `read_your_writes_lsn`, `lag_aware` | O(N) |
//! | [`Replication::fail_primary`], [`Replication::promote`] | failover: the live replica that received the most becomes primary; writes it lacked are lost | O(lost + N) |
//! | [`ReplStats`] | `lag_ms_mean/p99/max`, `stale_read_ratio`, reads per node, `writes_lost` under the real runs' names | |
//!
//! # The log
//!
//! Committed records `(key, commit time)` stay in a ring buffer ([`std::collections::VecDeque`])
//! until every replica that still holds a place in the log has applied them, as a Postgres
//! replication slot holds WAL: a replica that is down keeps its place, so that when it comes
//! back it catches up from where it stopped and its lag stays exact. The buffer therefore grows
//! with the writes of an outage and shrinks as the replica catches up; with every replica up
//! it holds only the records in flight or waiting for replay.
//!
//! # What the engine does
//!
//! - On a write: [`Replication::commit`]; then, for each replica `r`,
//!   [`Replication::shipment`]`(r, lsn)` and, if there is one, deliver it after the network
//!   delay with [`Replication::arrive`]. A link is FIFO: arrivals on one link must come in the
//!   order sent (take `max(now + delay, last arrival)`).
//! - A replica with [`Replication::next_replay`] `Some(lsn)` and a free worker replays that
//!   record (its cost is the engine's), then reports [`Replication::replayed`]. Several records
//!   may be reported at once.
//! - With a quorum `k > 0`, a write waits until [`Replication::acked_upto`] reaches its LSN;
//!   check after each accepted arrival.
//! - A replica that goes down loses what was in flight to it (its link changes, stale
//!   shipments are refused). After [`Replication::replica_up`] or [`Replication::promote`],
//!   send [`Replication::catch_up`] to each replica: one shipment of the whole backlog.
//! - Failover: [`Replication::fail_primary`] at the crash; detection and promotion time are
//!   the engine's; then [`Replication::promote`]. Shipments already on the wire when the
//!   primary failed still arrive (they were sent) until the promotion.
//! - A reader's writes: [`Router::wrote`] after the commit, so read-your-writes can route.
//!
//! # Failover and lost writes
//!
//! [`Replication::promote`] picks the live replica with the highest received LSN `P` (ties:
//! the lowest index). The promotion replays what it received, so the new primary holds every
//! write up to `P`. Writes `P+1..=head` of the old primary are lost, counted in
//! [`ReplStats::writes_lost`] (and those already acknowledged in
//! [`ReplStats::acked_writes_lost`]). Their keys' latest committed LSN rolls back to the write
//! before the oldest lost one, so a later read of such a key is judged against what survived
//! and not flagged stale for a write that no longer exists. The new primary's next LSN is
//! `P+1` (the numbers of lost writes are reused, as on a new timeline); every link changes, so
//! nothing shipped by the old primary is accepted afterwards. The other replicas follow the new
//! primary: one that had received or applied past `P` is rewound to `P` (as `pg_rewind` does).
//! The promoted replica's slot is left vacant; [`Replication::replica_up`] on it adds a
//! replica rebuilt from a base backup of the current primary (caught up at once: the copy time
//! is the engine's delay before the call).
//!
//! ```
//! use scalesim::model::replication::{Node, Read, Replication, ReplicationSpec, Router, Routing};
//!
//! let spec = ReplicationSpec { replicas: 2, quorum: 0 };
//! let mut db = Replication::new(&spec, 100).unwrap();
//! let lsn = db.commit(7, 1_000).unwrap();
//! let s = db.shipment(0, lsn).unwrap();
//! assert!(db.arrive(s));
//! assert!(db.is_stale(0, 7)); // received, not yet replayed
//! assert_eq!(db.lag(0, 5_000), 4_000);
//! assert!(db.replayed(0, lsn));
//! assert_eq!(db.read(Node::Replica(0), 7), Read::Fresh);
//!
//! let mut router = Router::new(Routing::ReadYourWritesLsn, spec.replicas, 10).unwrap();
//! router.wrote(&db, 3, lsn, 1_000);
//! assert_eq!(router.route(&db, 3, 6_000, &[]), Node::Replica(0)); // replica 1 lacks it
//! ```

mod log;
mod route;
mod state;
mod stats;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod theory;

pub use log::Record;
pub use route::{Router, Routing};
pub use state::Replication;
pub use stats::{LagStats, ReplStats, ReplicaStats};

/// A log position: the n-th write committed on the primary (from 1; 0 is "nothing").
pub type Lsn = u64;

/// The most replicas.
pub const MAX_REPLICAS: usize = 64;

/// The largest key space.
pub const MAX_KEY_SPACE: u64 = u32::MAX as u64;

/// A database node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Node {
    /// The current primary.
    Primary,
    /// Replica slot `i` (`0..replicas`).
    Replica(usize),
}

/// What a read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Read {
    /// The node had applied the key's latest committed write.
    Fresh,
    /// A replica that had not applied the key's latest committed write.
    Stale,
    /// The node is down (or a vacant slot): the read fails.
    Unavailable,
}

/// Why a write was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteError {
    /// The primary has failed and no replica has been promoted yet.
    PrimaryDown,
    /// The key is not in `0..key_space`.
    KeyOutOfRange,
}

/// A batch of the log on its way to one replica: everything up to `upto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shipment {
    /// The replica slot it goes to.
    pub replica: u32,
    /// The link it was sent on; a replica refuses shipments from an older link.
    link: u32,
    /// The last LSN it carries.
    pub upto: Lsn,
}

/// What a replicated database is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplicationSpec {
    /// Read replicas (0 to [`MAX_REPLICAS`]).
    pub replicas: usize,
    /// Replicas that must have received a write before it is acknowledged: 0 asynchronous,
    /// 1 synchronous, k a quorum (at most `replicas`).
    pub quorum: usize,
}

impl ReplicationSpec {
    /// Whether the spec makes sense over `key_space` keys, and if not, which field is wrong.
    pub fn check(&self, key_space: u64) -> Result<(), String> {
        if !(1..=MAX_KEY_SPACE).contains(&key_space) {
            return Err(format!(
                "key space must be between 1 and {MAX_KEY_SPACE}, not {key_space}"
            ));
        }
        if self.replicas > MAX_REPLICAS {
            return Err(format!(
                "replicas must be at most {MAX_REPLICAS}, not {}",
                self.replicas
            ));
        }
        if self.quorum > self.replicas {
            return Err(format!(
                "quorum {} is above the replica count {}: no write could ever be acknowledged",
                self.quorum, self.replicas
            ));
        }
        Ok(())
    }
}
