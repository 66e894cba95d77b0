//! Connection pools in paths: each instance of an app service keeps its own pool of
//! connections to a database service, and a database refuses connections past its
//! `max_connections`.
//!
//! ```text
//! [services.pg]
//! workers = 8                      cores
//! discipline = "ps"                backends share the cores
//! contention = { sigma = 0.02, kappa = 0.0005 }   the universal scalability law
//! max_connections = 100            Postgres' default
//!
//! [pools.db]
//! per_instance = "app"             every pod of `app` has its own pool
//! server = "pg"                    the service its connections lead to
//! min = 10                         never closed for idleness (opened when the pod first uses it)
//! max = 100                        at most this many per pod
//! acquire_timeout = "60s"          wait at most this long for a connection (a timeout error)
//! idle_timeout = "10s"             close a connection idle this long, down to `min`
//! evict = "1s"                     how often idle connections are looked at
//! connect = "3ms"                  time to open one (TCP, TLS, authentication, a backend fork)
//!
//! path = ["app", { pool = "db", path = ["pg", { delay = "0.2ms" }, "pg"] }]
//! ```
//!
//! # What a request does
//!
//! At a `pool` step a request takes a connection of the pool of the app instance it is at
//! (the last instance of `per_instance` it visited), runs the step's sub-path holding it, and
//! gives it back when the sub-path ends, whether it succeeded or failed. Taking one:
//!
//! 1. an idle connection, the most recently used first (a stack, as node-postgres and
//!    HikariCP keep them, so that the bottom of the stack ages out);
//! 2. else, below `max`, open a new one: it takes `connect`, and counts against the server's
//!    `max_connections` from the start; a server at its limit refuses it, and the request
//!    fails at once with a connection error (Postgres' "sorry, too many clients already",
//!    which node-postgres hands to the caller);
//! 3. else wait, first come first served, for a connection given back or newly opened. A
//!    request still waiting after `acquire_timeout`, or past its own deadline (the client
//!    left), fails with a timeout then (counted in `acquire_timeouts` only in the first
//!    case).
//!
//! A newly opened connection joins the pool as if given back, so it goes to the first waiter
//! (the request that asked for it waits in line like the others).
//!
//! # Instances come and go
//!
//! Connections belong to the instance's life (its memory epoch, [`super::service`]): when the
//! instance crashes or stops, its connections close and its waiting requests fail with a
//! connection error. The eviction pass, every `evict`, notices it (so the server's count stays
//! high for up to `evict` after a crash, as it does until Postgres notices the dead client);
//! a request that arrives at a new life resets the pool first. A request that reaches a pool
//! step after the instance it was at crashed or stopped fails with a connection error. A pool
//! opens its `min` connections when its instance first uses it, as far as the server allows.
//!
//! # Metrics
//!
//! Component `NAME` (kind `pool`), over the measured window and all instances: `acquires`,
//! `acquired`, `acquire_wait_ms_mean`, `acquire_wait_ms_p99`, `acquire_wait_ms_max` (of the
//! acquired, connecting included), `waited_ratio` (acquires that found no idle connection),
//! `exhausted_ratio` (found the pool at `max`), `acquire_timeouts`, `connect_refused`,
//! `connections_opened`, `connections_closed_idle`, `in_use_mean`, `open_mean`, `open_max`
//! and `server_connections_max` (over every pool of its server). Gauges: `pool_in_use.NAME`,
//! `pool_waiting.NAME` (time averages per bucket) and `connections.SERVER` (at the sample).

use std::collections::VecDeque;

use super::dist::Dist;
use super::replication::LagStats;
use crate::engine::Rng;

/// A pool as the scenario declares it.
#[derive(Debug, Clone)]
pub struct PoolSpec {
    /// Name (its component).
    pub name: String,
    /// The service each of whose instances owns a pool.
    pub host: u32,
    /// The service the connections lead to.
    pub server: u32,
    /// The server's `max_connections` (`None`: no limit).
    pub max_connections: Option<u32>,
    /// Connections kept open however idle.
    pub min: u32,
    /// Connections at most, per instance.
    pub max: u32,
    /// How long a request waits for a connection, ns (`None`: for ever; 0: not at all).
    pub acquire_timeout: Option<u64>,
    /// Idle time after which a connection above `min` closes, ns.
    pub idle_timeout: Option<u64>,
    /// Interval of the eviction pass, ns.
    pub evict: u64,
    /// Time to open a connection.
    pub connect: Dist,
}

/// What an acquire found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquire {
    /// An idle connection: go on at once.
    Granted,
    /// Wait in line (a connection is being opened when `connect` is `Some(delay)`).
    Wait {
        /// Set when this acquire opens a connection that arrives after this many ns.
        connect: Option<u64>,
    },
    /// The server is at `max_connections`: fail now.
    Refused,
}

/// A waiting request: slot and generation.
pub type Waiter = (u32, u32);

/// What a waiter did with the connection offered to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// Took it, after waiting this long, ns.
    Took(u64),
    /// Had already given up (counted by [`Pools::gave_up`]).
    Gone,
    /// Still waiting, but its deadline has passed: it fails without using the connection.
    Expired,
}

/// One instance's pool.
#[derive(Debug, Clone, Default)]
struct Slot {
    /// The instance life the connections belong to (`None`: no connection yet).
    epoch: Option<u32>,
    /// Connections open or opening.
    open: u32,
    /// Connections in use.
    in_use: u32,
    /// Idle connections, oldest first: when each became idle, ns.
    idle: VecDeque<u64>,
    /// Requests waiting, in arrival order (with entries of requests that gave up since).
    waiters: VecDeque<Waiter>,
}

/// Counters of one pool (all instances).
#[derive(Debug, Clone, Default)]
struct Counts {
    acquires: u64,
    acquired: u64,
    waited: u64,
    exhausted: u64,
    timeouts: u64,
    refused: u64,
    opened: u64,
    closed_idle: u64,
}

/// Time integrals of one pool (all instances), ns units.
#[derive(Debug, Clone, Copy, Default)]
struct Areas {
    in_use: f64,
    open: f64,
    waiting: f64,
}

#[derive(Debug, Clone)]
struct PoolState {
    slots: Vec<Slot>,
    counts: Counts,
    /// Acquire waits that were not zero (the histogram's floor is 1 µs), and how many were.
    waits: LagStats,
    zero_waits: u64,
    /// Current totals over the instances.
    in_use: u32,
    open: u32,
    waiting: u32,
    open_max: u32,
    last: u64,
    areas: Areas,
    /// At the end of the warm-up.
    warm: (Counts, Areas),
    /// At the previous sample.
    sampled: Areas,
}

/// Every pool of a replication, and the connections each server holds.
#[derive(Debug)]
pub struct Pools {
    specs: Vec<PoolSpec>,
    pools: Vec<PoolState>,
    /// Per pool: its server's index in `servers`.
    server_of: Vec<usize>,
    /// Per server: (service, limit, connections open, most open in the measured window).
    servers: Vec<(u32, Option<u32>, u32, u32)>,
    rng: Rng,
    measuring: bool,
}

impl Pools {
    /// The pools of `specs`, drawing connect times from `rng`.
    pub fn new(specs: &[PoolSpec], rng: Rng) -> Pools {
        let mut servers: Vec<(u32, Option<u32>, u32, u32)> = Vec::new();
        let server_of = specs
            .iter()
            .map(|p| match servers.iter().position(|s| s.0 == p.server) {
                Some(i) => i,
                None => {
                    servers.push((p.server, p.max_connections, 0, 0));
                    servers.len() - 1
                }
            })
            .collect();
        Pools {
            pools: specs
                .iter()
                .map(|_| PoolState {
                    slots: Vec::new(),
                    counts: Counts::default(),
                    waits: LagStats::default(),
                    zero_waits: 0,
                    in_use: 0,
                    open: 0,
                    waiting: 0,
                    open_max: 0,
                    last: 0,
                    areas: Areas::default(),
                    warm: Default::default(),
                    sampled: Areas::default(),
                })
                .collect(),
            specs: specs.to_vec(),
            server_of,
            servers,
            rng,
            measuring: false,
        }
    }

    /// Number of pools.
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// Pool `p`'s declaration.
    pub fn spec(&self, p: usize) -> &PoolSpec {
        &self.specs[p]
    }

    fn account(&mut self, p: usize, now: u64) {
        let s = &mut self.pools[p];
        let dt = now.saturating_sub(s.last) as f64;
        if dt > 0.0 {
            s.areas.in_use += dt * f64::from(s.in_use);
            s.areas.open += dt * f64::from(s.open);
            s.areas.waiting += dt * f64::from(s.waiting);
            s.last = now;
        }
    }

    /// Changes pool `p`'s open count by `delta` (and its server's).
    fn opened(&mut self, p: usize, inst: usize, delta: i64) {
        let s = &mut self.pools[p];
        let slot = &mut s.slots[inst];
        slot.open = (i64::from(slot.open) + delta) as u32;
        s.open = (i64::from(s.open) + delta) as u32;
        s.open_max = s.open_max.max(s.open);
        let server = &mut self.servers[self.server_of[p]];
        server.2 = (i64::from(server.2) + delta) as u32;
        if self.measuring {
            server.3 = server.3.max(server.2);
        }
    }

    fn server_full(&self, p: usize) -> bool {
        let s = &self.servers[self.server_of[p]];
        s.1.is_some_and(|limit| s.2 >= limit)
    }

    /// Makes instance `inst`'s pool belong to life `epoch`: a pool of an earlier life closes
    /// its connections, and its waiters are returned (they fail). A pool new to this life opens
    /// its `min` connections (as far as the server allows).
    pub fn sync(&mut self, p: usize, inst: u32, epoch: Option<u32>, now: u64) -> Vec<Waiter> {
        let i = inst as usize;
        if self.pools[p].slots.len() <= i {
            self.pools[p].slots.resize(i + 1, Slot::default());
        }
        if self.pools[p].slots[i].epoch == epoch {
            return Vec::new();
        }
        self.account(p, now);
        let old = std::mem::take(&mut self.pools[p].slots[i]);
        let s = &mut self.pools[p];
        s.in_use -= old.in_use;
        s.slots[i].open = old.open;
        self.opened(p, i, -i64::from(old.open));
        let waiters: Vec<Waiter> = old.waiters.into_iter().collect();
        let s = &mut self.pools[p];
        s.slots[i].epoch = epoch;
        if epoch.is_some() {
            for _ in 0..self.specs[p].min {
                if self.server_full(p) {
                    break;
                }
                self.opened(p, i, 1);
                self.pools[p].slots[i].idle.push_back(now);
            }
        }
        waiters
    }

    /// A request at instance `inst` (life `epoch`) asks pool `p` for a connection. Call
    /// [`Pools::sync`] first. `Wait` queues `waiter`.
    pub fn acquire(&mut self, p: usize, inst: u32, waiter: Waiter, now: u64) -> Acquire {
        self.account(p, now);
        let max = self.specs[p].max;
        let full = self.server_full(p);
        let s = &mut self.pools[p];
        s.counts.acquires += 1;
        let slot = &mut s.slots[inst as usize];
        if slot.idle.pop_back().is_some() {
            slot.in_use += 1;
            s.in_use += 1;
            s.counts.acquired += 1;
            s.zero_waits += 1;
            return Acquire::Granted;
        }
        s.counts.waited += 1;
        if slot.open < max {
            if full {
                s.counts.refused += 1;
                return Acquire::Refused;
            }
            slot.waiters.push_back(waiter);
            s.waiting += 1;
            s.counts.opened += 1;
            self.opened(p, inst as usize, 1);
            let delay = self.specs[p].connect.sample_ns(&mut self.rng);
            return Acquire::Wait {
                connect: Some(delay),
            };
        }
        s.counts.exhausted += 1;
        slot.waiters.push_back(waiter);
        s.waiting += 1;
        Acquire::Wait { connect: None }
    }

    /// A waiter of pool `p` at `inst` gave up (its acquire timeout, or its request ended).
    pub fn gave_up(&mut self, p: usize, now: u64, timed_out: bool) {
        self.account(p, now);
        let s = &mut self.pools[p];
        s.waiting = s.waiting.saturating_sub(1);
        if timed_out {
            s.counts.timeouts += 1;
        }
    }

    /// A connection of pool `p` at `inst`, life `epoch`, is free (given back, or just
    /// opened): it is offered to the waiters in order through `take`; with no taker it goes
    /// idle. A connection of an earlier life is gone with it.
    pub fn free(
        &mut self,
        p: usize,
        inst: u32,
        epoch: u32,
        opened: bool,
        now: u64,
        mut take: impl FnMut(Waiter) -> Offer,
    ) {
        let i = inst as usize;
        let Some(slot) = self.pools[p].slots.get(i) else {
            return;
        };
        if slot.epoch != Some(epoch) {
            return;
        }
        self.account(p, now);
        let s = &mut self.pools[p];
        if !opened {
            s.slots[i].in_use -= 1;
            s.in_use -= 1;
        }
        while let Some(w) = s.slots[i].waiters.pop_front() {
            match take(w) {
                Offer::Gone => {}
                Offer::Expired => s.waiting -= 1,
                Offer::Took(wait) => {
                    s.waiting -= 1;
                    s.slots[i].in_use += 1;
                    s.in_use += 1;
                    s.counts.acquired += 1;
                    s.waits.record(wait);
                    return;
                }
            }
        }
        s.slots[i].idle.push_back(now);
    }

    /// The eviction pass of pool `p`: `alive(i)` is instance `i`'s life (`None`: gone). Pools
    /// of lives that ended close; idle connections past `idle_timeout` close down to `min`.
    /// Returns the waiters of pools that closed (they fail).
    pub fn evict(&mut self, p: usize, now: u64, alive: impl Fn(u32) -> Option<u32>) -> Vec<Waiter> {
        let mut failed = Vec::new();
        for i in 0..self.pools[p].slots.len() {
            let epoch = self.pools[p].slots[i].epoch;
            if epoch.is_some() && alive(i as u32) != epoch {
                failed.extend(self.sync(p, i as u32, None, now));
            }
        }
        let Some(idle_timeout) = self.specs[p].idle_timeout else {
            return failed;
        };
        self.account(p, now);
        let min = self.specs[p].min;
        for i in 0..self.pools[p].slots.len() {
            loop {
                let slot = &self.pools[p].slots[i];
                let expired = slot
                    .idle
                    .front()
                    .is_some_and(|&t| now.saturating_sub(t) >= idle_timeout);
                if !expired || slot.open <= min {
                    break;
                }
                self.pools[p].slots[i].idle.pop_front();
                self.pools[p].counts.closed_idle += 1;
                self.opened(p, i, -1);
            }
        }
        failed
    }

    /// Connections open at server `k` now, and its service.
    pub fn servers(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.servers.iter().map(|s| (s.0, s.2))
    }

    /// Starts measuring.
    pub fn mark_warm(&mut self, now: u64) {
        for p in 0..self.pools.len() {
            self.account(p, now);
            let s = &mut self.pools[p];
            s.warm = (s.counts.clone(), s.areas);
            s.waits = LagStats::default();
            s.zero_waits = 0;
            s.open_max = s.open;
        }
        for s in &mut self.servers {
            s.3 = s.2;
        }
        self.measuring = true;
    }

    /// Gauges of the bucket that ends at `now`, `width` ns wide: per pool `pool_in_use` and
    /// `pool_waiting` (time averages), then per server `connections` (at `now`).
    pub fn sample(&mut self, now: u64, width: f64, out: &mut Vec<f64>) {
        for p in 0..self.pools.len() {
            self.account(p, now);
            let s = &mut self.pools[p];
            out.push((s.areas.in_use - s.sampled.in_use) / width);
            out.push((s.areas.waiting - s.sampled.waiting) / width);
            s.sampled = s.areas;
        }
        for s in &self.servers {
            out.push(f64::from(s.2));
        }
    }

    /// The gauge names, in [`Pools::sample`]'s order.
    pub fn gauge_names(&self, services: &[&str]) -> Vec<String> {
        let mut names = Vec::new();
        for p in &self.specs {
            names.push(format!("pool_in_use.{}", p.name));
            names.push(format!("pool_waiting.{}", p.name));
        }
        for s in &self.servers {
            names.push(format!("connections.{}", services[s.0 as usize]));
        }
        names
    }

    /// Pool `p`'s metrics over the measured window, which ends at `end` and lasted
    /// `window_ns`.
    pub fn metrics(&mut self, p: usize, end: u64, window_ns: f64) -> Vec<(&'static str, f64)> {
        self.account(p, end);
        let server = self.servers[self.server_of[p]].3;
        let s = &self.pools[p];
        let (w, wa) = (&s.warm.0, s.warm.1);
        let c = &s.counts;
        let acquires = (c.acquires - w.acquires) as f64;
        let ratio = |x: u64| {
            if acquires > 0.0 {
                x as f64 / acquires
            } else {
                0.0
            }
        };
        let per_time = |a: f64| if window_ns > 0.0 { a / window_ns } else { 0.0 };
        // The share of acquires that waited at all: the p99 of all is the quantile
        // 1 - 0.01 / share of those (0 when fewer than 1 % waited).
        let n = s.waits.count() + s.zero_waits;
        let waited = if n == 0 {
            0.0
        } else {
            s.waits.count() as f64 / n as f64
        };
        vec![
            ("acquires", acquires),
            ("acquired", (c.acquired - w.acquired) as f64),
            ("acquire_wait_ms_mean", waited * s.waits.mean_ms()),
            (
                "acquire_wait_ms_p99",
                if waited < 0.01 {
                    0.0
                } else {
                    s.waits.quantile_ms(1.0 - 0.01 / waited)
                },
            ),
            ("acquire_wait_ms_max", s.waits.max_ms()),
            ("waited_ratio", ratio(c.waited - w.waited)),
            ("exhausted_ratio", ratio(c.exhausted - w.exhausted)),
            ("acquire_timeouts", (c.timeouts - w.timeouts) as f64),
            ("connect_refused", (c.refused - w.refused) as f64),
            ("connections_opened", (c.opened - w.opened) as f64),
            (
                "connections_closed_idle",
                (c.closed_idle - w.closed_idle) as f64,
            ),
            ("in_use_mean", per_time(s.areas.in_use - wa.in_use)),
            ("open_mean", per_time(s.areas.open - wa.open)),
            ("open_max", f64::from(s.open_max)),
            ("server_connections_max", f64::from(server)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(min: u32, max: u32, limit: Option<u32>) -> PoolSpec {
        PoolSpec {
            name: "db".into(),
            host: 0,
            server: 1,
            max_connections: limit,
            min,
            max,
            acquire_timeout: None,
            idle_timeout: Some(10),
            evict: 1,
            connect: Dist::Constant(3.0e-9),
        }
    }

    #[test]
    fn idle_first_then_open_then_wait() {
        let mut pools = Pools::new(&[spec(1, 2, None)], Rng::stream(1, "t"));
        assert!(pools.sync(0, 0, Some(0), 0).is_empty());
        assert_eq!(pools.acquire(0, 0, (1, 0), 0), Acquire::Granted);
        assert_eq!(
            pools.acquire(0, 0, (2, 0), 0),
            Acquire::Wait { connect: Some(3) }
        );
        assert_eq!(
            pools.acquire(0, 0, (3, 0), 0),
            Acquire::Wait { connect: None }
        );
        // The opened connection goes to the first in line.
        let mut offered = Vec::new();
        pools.free(0, 0, 0, true, 3, |w| {
            offered.push(w);
            Offer::Took(3)
        });
        assert_eq!(offered, vec![(2, 0)]);
        // Request 3 gave up: a connection given back skips it and goes idle.
        pools.gave_up(0, 4, true);
        pools.free(0, 0, 0, false, 5, |_| Offer::Gone);
        let m = pools.metrics(0, 5, 5.0);
        let get = |k: &str| m.iter().find(|x| x.0 == k).unwrap().1;
        assert_eq!(get("acquires"), 3.0);
        assert_eq!(get("acquired"), 2.0);
        assert_eq!(get("acquire_timeouts"), 1.0);
        assert_eq!(get("exhausted_ratio"), 1.0 / 3.0);
        assert_eq!(pools.servers().next(), Some((1, 2)));
    }

    #[test]
    fn the_server_limit_refuses_new_connections() {
        let mut pools = Pools::new(&[spec(2, 5, Some(3))], Rng::stream(1, "t"));
        pools.sync(0, 0, Some(0), 0);
        pools.sync(0, 1, Some(0), 0);
        // The second pod got one of its two `min` connections.
        assert_eq!(pools.servers().next(), Some((1, 3)));
        assert_eq!(pools.acquire(0, 1, (1, 0), 0), Acquire::Granted);
        assert_eq!(pools.acquire(0, 1, (2, 0), 0), Acquire::Refused);
    }

    #[test]
    fn idle_connections_close_down_to_min_and_dead_pods_close_all() {
        let mut pools = Pools::new(&[spec(1, 4, None)], Rng::stream(1, "t"));
        pools.sync(0, 0, Some(7), 0);
        // One idle (the `min`), then two opened for requests that gave up meanwhile.
        assert_eq!(pools.acquire(0, 0, (0, 0), 0), Acquire::Granted);
        for r in 1..3 {
            pools.acquire(0, 0, (r, 0), 0);
            pools.gave_up(0, 1, true);
        }
        for _ in 0..2 {
            pools.free(0, 0, 7, true, 3, |_| Offer::Gone);
        }
        pools.free(0, 0, 7, false, 5, |_| Offer::Gone);
        assert_eq!(pools.servers().next(), Some((1, 3)));
        pools.evict(0, 12, |_| Some(7));
        assert_eq!(pools.servers().next(), Some((1, 3)), "not idle long enough");
        pools.evict(0, 13, |_| Some(7));
        assert_eq!(pools.servers().next(), Some((1, 1)), "down to min");
        // The one left is the most recently used; a second request opens another.
        assert_eq!(pools.acquire(0, 0, (9, 0), 20), Acquire::Granted);
        assert_eq!(
            pools.acquire(0, 0, (10, 0), 20),
            Acquire::Wait { connect: Some(3) }
        );
        let failed = pools.evict(0, 21, |_| None);
        assert_eq!(failed, vec![(10, 0)], "the waiter of the dead pod fails");
        assert_eq!(pools.servers().next(), Some((1, 0)));
        // A connection given back by a request of the dead life is not counted again.
        pools.free(0, 0, 7, false, 22, |_| Offer::Gone);
        assert_eq!(pools.servers().next(), Some((1, 0)));
    }
}
