//! Replicated databases in paths: a primary and N read replicas, each a service of its own,
//! driven by the pure model of [`super::replication`].
//!
//! ```text
//! [databases.pg]
//! primary = "db_primary"                 the service a write (and a primary read) visits
//! replicas = ["db_r1", "db_r2"]          one service per replica: its own workers and queue
//! ship = "1ms"                           delay of the log shipping to each replica
//! replay = { dist = "exponential", mean = "0.1ms" }   replay cost of one record on a replica
//! commit = "async"                       or "sync", or { quorum = 2 }
//! routing = "round_robin"                how reads pick a node
//!
//! path = ["app", { db_read = "pg" }]     the router picks a node; the read visits its service
//! path = ["app", { db_write = "pg" }]    visit the primary, commit, ship, (wait for acks)
//! ```
//!
//! This module holds the engine's side of the model's "What the engine does": the links
//! that carry shipments, the replay workers, the writers waiting for acknowledgements, the
//! role of each service, and the failure timeline. The system's interpreter
//! ([`super::system`]) moves the requests.
//!
//! # Reads and writes
//!
//! A read asks the [`Router`] for a node, visits that node's service, and is judged fresh or
//! stale by the model **when its visit ends** (the moment the row is read). A read whose node
//! is down fails at once, and one whose node went down during the visit fails at its end
//! ([`ErrorKind::Connection`](crate::observe::ErrorKind)). A write visits the primary's
//! service and commits when the visit ends; it is then shipped to every live replica.
//! Writes are refused while the primary is down, at the start or at the end of their visit.
//!
//! # Shipping: FIFO links
//!
//! Each replica has a link: a shipment of the log up to a write's LSN arrives after a `ship`
//! delay, but never before the previous shipment on that link (`max(now + delay, last)`), so
//! arrivals are in the order sent. A shipment due at the same instant as the one queued
//! before it replaces it (it carries everything that one did): one event per instant.
//!
//! # Replay cost: a hidden request class
//!
//! Each replica has one replay worker (Postgres replays with a single startup process): while
//! the replica has a record it has received and not applied, a background request visits the
//! replica's service, taking one of its workers for the replay time of one record, reports it
//! replayed, and goes on with the next. The replay time is a service time like any other: the
//! system gives every replica service a hidden request class (index `classes + d` for database
//! `d`, past the scenario's classes) whose service time is `replay`. So replay queues behind
//! reads on a busy replica, and reads behind replay: a busy replica falls behind, a burst of
//! writes builds lag. It needs no change to stations, and costs nothing to other services.
//! Visits of the hidden class count in the replica service's `requests` and `utilization`.
//!
//! Records are replayed one per visit, not in batches: a batch would need the sum of several
//! replay times as one service time, which the stations cannot take for a general
//! distribution. The cost is one event per record and replica, the same as the shipping.
//!
//! # Synchronous and quorum commit
//!
//! With `commit = "sync"` (1) or `{ quorum = k }`, a write that committed waits, parked, until
//! the model's acknowledged position reaches its LSN, i.e. until `k` replicas have *received*
//! it: Postgres' `synchronous_commit = remote_write`, not `remote_apply` (a replica's replay
//! does not delay the writer). Its latency is therefore higher than async by about the
//! `ship` delay.
//!
//! # Failures
//!
//! `failover = { at, detect, promote }`: the primary fails at `at`. What was shipped and had
//! not yet arrived is lost with it (the `ship` delay is the sender's batching as much as the
//! wire: a crash takes what the sender held), so with asynchronous commit the writes of the
//! last `ship` before the crash are lost. Writers parked for an acknowledgement fail with a
//! connection error. Writes fail until `detect + promote` later, when the model promotes the
//! live replica that received the most: its service becomes the primary's, writes it lacked
//! are counted in `writes_lost` (and in `acked_writes_lost` those a writer was told had
//! committed: 0 with a synchronous commit), and the other replicas catch up from it.
//!
//! `replica_down = { replica, at, for }`: the replica takes no reads and receives nothing for
//! that long; reads in flight there fail; the router sends reads elsewhere. It then catches up
//! with one shipment of everything it lacks.
//!
//! `replica_cut = { replica, at, for }`: the network between the primary and the replica is
//! cut (a real run's `disconnect replica-N`): the replica goes on serving reads, ever staler,
//! and what the primary sends it meanwhile arrives once the cut ends (the WAL sender resends
//! from the replica's position). Lag grows for the whole cut.
//!
//! # Users
//!
//! `read_your_writes` and `read_your_writes_lsn` track each reader's last write. With closed
//! users the reader is the user. An open workload has no users: the reader is the request's
//! key instead, so the guarantee becomes "a read sees the latest write of its key" for the
//! window (read-after-write per key, which is at least as strong for a user's own rows).
//!
//! # Metrics
//!
//! Component `NAME` (kind `database`) and `NAME.replica-N` (kind `replica`) per replica slot,
//! with the model's [`ReplStats`](super::replication::ReplStats) names, as the real runs
//! report them; counted from the end of the warm-up. The lag statistics come from samples of
//! every replica's lag each `lag_sample` (10 ms by default), none while the primary is down
//! (the real runs' monitor measures from a heartbeat the primary writes) and none of a
//! replica that is down (`lag_unavailable`). A gauge `lag_ms.SERVICE` per replica gives the
//! model's lag at each time-series sample, always: it grows while a replica is down or lacks
//! writes of a failed primary, as `now() - pg_last_xact_replay_timestamp()` would.
//!
//! A read is judged when its visit ends, against the latest write committed by then: a write
//! that commits while a replica serves the read makes it stale (a conservative reading, since
//! the two overlap).

use std::collections::VecDeque;

use super::dist::Dist;
use super::replication::{
    Lsn, Node, Read, Replication, ReplicationSpec, Router, Routing, Shipment, WriteError,
};
use crate::engine::Rng;
use crate::observe::ComponentStats;

/// The primary fails and a replica is promoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failover {
    /// When the primary fails, ns.
    pub at: u64,
    /// Time to notice, ns.
    pub detect: u64,
    /// Time to promote once noticed, ns.
    pub promote: u64,
}

/// A replica is down for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outage {
    /// Replica slot.
    pub replica: usize,
    /// From, ns.
    pub at: u64,
    /// For, ns.
    pub duration: u64,
}

/// A replicated database as the scenario describes it.
#[derive(Debug, Clone)]
pub struct DbSpec {
    /// Name (its component).
    pub name: String,
    /// The primary's service.
    pub primary: u32,
    /// Each replica's service.
    pub replicas: Vec<u32>,
    /// Log shipping delay to a replica.
    pub ship: Dist,
    /// Replay time of one record on a replica.
    pub replay: Dist,
    /// Replicas that must have received a write before it is acknowledged (0: async).
    pub quorum: usize,
    /// Read routing.
    pub routing: Routing,
    /// The primary fails.
    pub failover: Option<Failover>,
    /// A replica is down for a while.
    pub outage: Option<Outage>,
    /// A replica is cut off from the primary for a while: it serves reads but receives
    /// nothing (what it is sent then arrives when the cut ends).
    pub cut: Option<Outage>,
    /// Lag sampling period for the statistics, ns.
    pub lag_sample: u64,
}

/// What happens to a database at a time: the system's event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The primary fails.
    PrimaryFails,
    /// A replica is promoted.
    Promote,
    /// The replica of the outage goes down.
    ReplicaDown,
    /// It comes back.
    ReplicaUp,
}

impl Fault {
    const ALL: [Fault; 4] = [
        Fault::PrimaryFails,
        Fault::Promote,
        Fault::ReplicaDown,
        Fault::ReplicaUp,
    ];

    /// The payload of database `d`'s fault.
    pub fn encode(self, d: usize) -> u64 {
        let k = Fault::ALL.iter().position(|f| *f == self).expect("listed") as u64;
        ((d as u64) << 8) | k
    }

    /// Database and fault of a payload.
    pub fn decode(data: u64) -> (usize, Fault) {
        ((data >> 8) as usize, Fault::ALL[(data & 0xFF) as usize])
    }
}

/// One replica's link: shipments on their way, in order.
#[derive(Debug, Default)]
struct Link {
    queue: VecDeque<(u64, Shipment)>,
    /// Arrival time of the last shipment sent.
    last: u64,
    /// Changes when what is on the way is lost (the primary failed).
    generation: u32,
}

/// One database's runtime state.
#[derive(Debug)]
struct Db {
    spec: DbSpec,
    model: Replication,
    router: Router,
    /// The service of the current primary (changes at a promotion).
    primary: u32,
    first_link: usize,
    replaying: Vec<bool>,
    /// Writers waiting for their acknowledgement: LSN and request handle, in LSN order.
    waiters: VecDeque<(Lsn, u64)>,
    /// Readers are keys, not users (open workload).
    by_key: bool,
    loads: Vec<u32>,
    ship_rng: Rng,
    /// The outage took its replica down (it is brought back only then).
    outage_down: bool,
    replica_names: Vec<String>,
}

/// Every database of one replication.
#[derive(Debug, Default)]
pub struct Databases {
    dbs: Vec<Db>,
    links: Vec<Link>,
    /// Shipment arrivals to schedule: (time, payload). The system drains it.
    due: Vec<(u64, u64)>,
}

/// What the system should do after a shipment arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrived {
    /// The database.
    pub db: usize,
    /// The replica, if its replay worker should start.
    pub start_replay: Option<usize>,
    /// Writers may be released ([`Databases::pop_acked`]).
    pub release: bool,
}

impl Databases {
    /// The databases of `specs` over keys `0..key_space`; `users`: the closed workload's most
    /// users (`None`: open, readers are keys). `names[s]` is service `s`'s name.
    pub fn new(
        specs: &[DbSpec],
        key_space: u64,
        users: Option<usize>,
        seed: u64,
        names: &[String],
    ) -> Databases {
        let mut links = Vec::new();
        let dbs = specs
            .iter()
            .map(|s| {
                let n = s.replicas.len();
                let spec = ReplicationSpec {
                    replicas: n,
                    quorum: s.quorum,
                };
                let readers = users.unwrap_or(key_space as usize);
                let first_link = links.len();
                links.extend((0..n).map(|_| Link::default()));
                Db {
                    model: Replication::new(&spec, key_space).expect("validated database"),
                    router: Router::new(s.routing, n, readers).expect("validated routing"),
                    primary: s.primary,
                    first_link,
                    replaying: vec![false; n],
                    waiters: VecDeque::new(),
                    by_key: users.is_none(),
                    loads: vec![0; n],
                    ship_rng: Rng::stream(seed, &format!("db.{}.ship", s.name)),
                    outage_down: false,
                    replica_names: s
                        .replicas
                        .iter()
                        .map(|&r| names[r as usize].clone())
                        .collect(),
                    spec: s.clone(),
                }
            })
            .collect();
        Databases {
            dbs,
            links,
            due: Vec::new(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.dbs.is_empty()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.dbs.len()
    }

    /// Database `d`'s spec.
    pub fn spec(&self, d: usize) -> &DbSpec {
        &self.dbs[d].spec
    }

    /// The reader a request stands for: its user, or its key in an open workload.
    #[inline]
    fn reader(&self, d: usize, user: u32, key: u64) -> usize {
        if self.dbs[d].by_key {
            key as usize
        } else {
            user as usize
        }
    }

    /// The node that serves a read of `key` by `user` at `now`, and its service; `load(s)`
    /// is service `s`'s outstanding work (read for `least_loaded` only).
    #[inline]
    pub fn route(
        &mut self,
        d: usize,
        user: u32,
        key: u64,
        now: u64,
        load: impl Fn(u32) -> u32,
    ) -> (Node, u32) {
        let reader = self.reader(d, user, key);
        let db = &mut self.dbs[d];
        if db.router.routing() == Routing::LeastLoaded {
            for (l, &s) in db.loads.iter_mut().zip(&db.spec.replicas) {
                *l = load(s);
            }
        }
        let node = db.router.route(&db.model, reader, now, &db.loads);
        (node, self.service(d, node))
    }

    /// The service of `node`.
    #[inline]
    pub fn service(&self, d: usize, node: Node) -> u32 {
        let db = &self.dbs[d];
        match node {
            Node::Primary => db.primary,
            Node::Replica(r) => db.spec.replicas[r],
        }
    }

    /// What a read of `key` on `node` would find now, counting nothing.
    #[inline]
    pub fn peek(&self, d: usize, node: Node, key: u64) -> Read {
        self.dbs[d].model.peek(node, key)
    }

    /// Serves (and counts) a read of `key` on `node`.
    #[inline]
    pub fn read(&mut self, d: usize, node: Node, key: u64) -> Read {
        self.dbs[d].model.read(node, key)
    }

    /// Whether the primary takes writes.
    #[inline]
    pub fn primary_up(&self, d: usize) -> bool {
        self.dbs[d].model.primary_up()
    }

    /// The primary's service.
    #[inline]
    pub fn primary(&self, d: usize) -> u32 {
        self.dbs[d].primary
    }

    /// Failovers so far (modulo 2^16, as requests carry it).
    #[inline]
    pub fn epoch(&self, d: usize) -> u16 {
        self.dbs[d].model.epoch() as u16
    }

    /// Commits a write of `key` by `user` at `now` and ships it to every live replica
    /// (arrivals in [`Self::due`]). `Ok(Some(lsn))`: the writer must wait until `lsn` is
    /// acknowledged ([`Self::park`]); `Ok(None)`: acknowledged already.
    pub fn commit(
        &mut self,
        d: usize,
        user: u32,
        key: u64,
        now: u64,
    ) -> Result<Option<Lsn>, WriteError> {
        let reader = self.reader(d, user, key);
        let db = &mut self.dbs[d];
        let lsn = db.model.commit(key, now)?;
        db.router.wrote(&db.model, reader, lsn, now);
        for r in 0..db.spec.replicas.len() {
            if let Some(s) = self.dbs[d].model.shipment(r, lsn) {
                self.ship(d, r, s, now);
            }
        }
        let db = &self.dbs[d];
        Ok((db.model.acked_upto() < lsn).then_some(lsn))
    }

    /// Sends `s` on replica `r`'s link after a `ship` delay, behind what is on the way.
    fn ship(&mut self, d: usize, r: usize, s: Shipment, now: u64) {
        let db = &mut self.dbs[d];
        let delay = db.spec.ship.sample_ns(&mut db.ship_rng);
        let id = db.first_link + r;
        let link = &mut self.links[id];
        let mut at = now.saturating_add(delay);
        if let Some(c) = db.spec.cut
            && c.replica == r
            && (c.at..c.at.saturating_add(c.duration)).contains(&now)
        {
            at = at.max(c.at.saturating_add(c.duration).saturating_add(delay));
        }
        let at = at.max(link.last);
        if let Some(back) = link.queue.back_mut()
            && back.0 == at
        {
            back.1 = s;
            return;
        }
        link.last = at;
        link.queue.push_back((at, s));
        self.due
            .push((at, id as u64 | (u64::from(link.generation) << 32)));
    }

    /// Arrivals to schedule since the last call, (time, payload); then [`Self::clear_due`].
    pub fn due(&self) -> &[(u64, u64)] {
        &self.due
    }

    /// Forgets the arrivals [`Self::due`] listed.
    pub fn clear_due(&mut self) {
        self.due.clear();
    }

    /// The shipment of payload `data` arrives; `None` if it was lost on the way.
    pub fn arrive(&mut self, data: u64) -> Option<Arrived> {
        let (id, generation) = ((data & 0xFFFF_FFFF) as usize, (data >> 32) as u32);
        let link = &mut self.links[id];
        if link.generation != generation {
            return None;
        }
        let (_, s) = link.queue.pop_front()?;
        let d = self.dbs.partition_point(|db| db.first_link <= id) - 1;
        let db = &mut self.dbs[d];
        if !db.model.arrive(s) {
            return None;
        }
        let r = s.replica as usize;
        Some(Arrived {
            db: d,
            start_replay: self.claim_replay(d, r).then_some(r),
            release: db_release(&self.dbs[d]),
        })
    }

    /// Whether replica `r`'s replay worker should start now (it is idle and has work); if so
    /// it is marked busy.
    pub fn claim_replay(&mut self, d: usize, r: usize) -> bool {
        let db = &mut self.dbs[d];
        if db.replaying[r] || db.model.next_replay(r).is_none() {
            return false;
        }
        db.replaying[r] = true;
        true
    }

    /// The next record replica `r`'s worker should replay; `None` marks the worker idle.
    #[inline]
    pub fn next_replay(&mut self, d: usize, r: usize) -> Option<Lsn> {
        let db = &mut self.dbs[d];
        let next = db.model.next_replay(r);
        if next.is_none() {
            db.replaying[r] = false;
        }
        next
    }

    /// Replica `r` replayed `lsn`, taken in failover epoch `epoch` (a record of an earlier
    /// epoch, or one a failover rewound, is void).
    #[inline]
    pub fn replayed(&mut self, d: usize, r: usize, lsn: Lsn, epoch: u16) {
        let m = &mut self.dbs[d].model;
        if m.epoch() as u16 == epoch && lsn <= m.received(r) {
            m.replayed(r, lsn);
        }
    }

    /// The worker of replica `r` stopped (its visit failed).
    pub fn replay_stopped(&mut self, d: usize, r: usize) {
        self.dbs[d].replaying[r] = false;
    }

    /// Parks a writer (request handle `handle`) until `lsn` is acknowledged.
    pub fn park(&mut self, d: usize, lsn: Lsn, handle: u64) {
        self.dbs[d].waiters.push_back((lsn, handle));
    }

    /// The next parked writer whose write is now acknowledged.
    pub fn pop_acked(&mut self, d: usize) -> Option<u64> {
        let db = &mut self.dbs[d];
        match db.waiters.front() {
            Some(&(lsn, h)) if lsn <= db.model.acked_upto() => {
                db.waiters.pop_front();
                Some(h)
            }
            _ => None,
        }
    }

    /// The next parked writer, whatever its LSN (their connection broke).
    pub fn pop_waiter(&mut self, d: usize) -> Option<u64> {
        self.dbs[d].waiters.pop_front().map(|w| w.1)
    }

    /// Fault events to schedule at the start: (time, payload).
    pub fn faults(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        for (d, db) in self.dbs.iter().enumerate() {
            if let Some(f) = db.spec.failover {
                out.push((f.at, Fault::PrimaryFails.encode(d)));
                let up = f.at.saturating_add(f.detect).saturating_add(f.promote);
                out.push((up, Fault::Promote.encode(d)));
            }
            if let Some(o) = db.spec.outage {
                out.push((o.at, Fault::ReplicaDown.encode(d)));
                out.push((o.at.saturating_add(o.duration), Fault::ReplicaUp.encode(d)));
            }
        }
        out
    }

    /// Applies a fault at `now`. After a promotion or a replica's return, catch-up shipments
    /// follow in [`Self::due`]; the system then restarts idle replay workers
    /// ([`Self::claim_replay`]) and, when the primary failed, fails the parked writers
    /// ([`Self::pop_waiter`]).
    pub fn fault(&mut self, d: usize, fault: Fault, now: u64) {
        let db = &mut self.dbs[d];
        match fault {
            Fault::PrimaryFails => {
                db.model.fail_primary();
                let first = db.first_link;
                for link in &mut self.links[first..first + db.spec.replicas.len()] {
                    link.queue.clear();
                    link.generation = link.generation.wrapping_add(1);
                    link.last = 0;
                }
            }
            Fault::Promote => {
                if let Some(chosen) = db.model.promote() {
                    db.primary = db.spec.replicas[chosen];
                }
                self.catch_up_all(d, now);
            }
            Fault::ReplicaDown => {
                let r = db.spec.outage.expect("an outage").replica;
                db.outage_down = db.model.replica_down(r);
            }
            Fault::ReplicaUp => {
                let r = db.spec.outage.expect("an outage").replica;
                if std::mem::take(&mut db.outage_down) && db.model.replica_up(r) {
                    self.catch_up_all(d, now);
                }
            }
        }
    }

    fn catch_up_all(&mut self, d: usize, now: u64) {
        for r in 0..self.dbs[d].spec.replicas.len() {
            if let Some(s) = self.dbs[d].model.catch_up(r) {
                self.ship(d, r, s, now);
            }
        }
    }

    /// Replica slots of database `d`.
    pub fn replicas(&self, d: usize) -> usize {
        self.dbs[d].spec.replicas.len()
    }

    /// Whether writers may be released (a promotion or a return can raise the acknowledged
    /// position too).
    pub fn may_release(&self, d: usize) -> bool {
        db_release(&self.dbs[d])
    }

    /// Takes a lag sample of every replica of `d` for the statistics, unless the primary is
    /// down (as the real runs' monitor, which measures lag from a heartbeat written on the
    /// primary, takes none then).
    pub fn sample_lag(&mut self, d: usize, now: u64) {
        let m = &mut self.dbs[d].model;
        if m.primary_up() {
            m.sample_lag(now);
        }
    }

    /// Counts from here (the end of the warm-up).
    pub fn mark_warm(&mut self) {
        for db in &mut self.dbs {
            db.model.reset_stats();
        }
    }

    /// Gauge names, in the order [`Self::sample`] pushes values: `lag_ms.SERVICE` per replica.
    pub fn gauge_names(&self) -> Vec<String> {
        self.dbs
            .iter()
            .flat_map(|db| db.replica_names.iter().map(|n| format!("lag_ms.{n}")))
            .collect()
    }

    /// Each replica's lag at `now`, ms (0 for a promoted slot).
    pub fn sample(&self, now: u64, out: &mut Vec<f64>) {
        for db in &self.dbs {
            for r in 0..db.spec.replicas.len() {
                out.push(db.model.lag(r, now) as f64 / 1e6);
            }
        }
    }

    /// Components: `NAME` (kind `database`) and `NAME.replica-N` (kind `replica`).
    pub fn metrics(&self) -> Vec<ComponentStats> {
        let mut out = Vec::new();
        for db in &self.dbs {
            for (i, (name, m)) in db.model.stats().metrics().into_iter().enumerate() {
                let name = match name.strip_prefix("db") {
                    Some(rest) => format!("{}{rest}", db.spec.name),
                    None => name,
                };
                out.push(ComponentStats {
                    name,
                    kind: if i == 0 { "database" } else { "replica" },
                    metrics: m.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                    ..ComponentStats::default()
                });
            }
        }
        out
    }
}

/// Whether the front writer of `db` is acknowledged.
fn db_release(db: &Db) -> bool {
    db.waiters
        .front()
        .is_some_and(|w| w.0 <= db.model.acked_upto())
}
