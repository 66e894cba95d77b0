//! One replication of a system: the node table, the calendar, the path interpreter and the main
//! loop.
//!
//! Event targets: `0..S` are the services (nodes a path visits), `S..S+C` the controllers, and
//! [`SYSTEM`] the system itself (arrivals, user wake-ups, delays, scope timeouts, sampling,
//! end of warm-up), each with its own event kind. Dispatch is a `match` on the target's range:
//! no dynamic dispatch, no allocation per event.
//!
//! Requests run their class's compiled [`Program`]: `advance` executes ops until the request
//! waits (a visit, a delay) or spawns children (fork arms, a repeat's body, a try's body or
//! fallback) and waits at that op for them to return. A child that returns or fails reports to
//! its parent ([`System::child_returned`], [`System::child_failed`]); the op the parent waits
//! at decides what happens next (join, next iteration, retry, fallback, failure). A try's
//! timeout detaches its child: the caller moves on, the callee goes on working (and occupying
//! its server) until its current visit ends, and is then dropped.

use std::sync::Arc;

use std::collections::HashMap;

use super::breaker::{self, Breaker};
use super::controller::{Controller, ControllerSpec};
use super::databases::{Databases, DbSpec, Fault};
use super::pools::{Acquire, Offer, PoolSpec, Pools, Waiter};
use super::program::{CallPolicy, Op, Program, QueueDecl, Step, compile_class};
use super::regions::{Pick, Regions, RegionsSpec};
use super::replication::{Node, Read};
use super::request::{NONE, Request, Requests};
use super::resilience::{Budget, Bulkhead};
use super::saga::{self, SagaConfig, Sagas};
use super::service::{Service, ServiceSpec, Visit};
use super::sessions::{Next, Sessions, SessionsSpec};
use super::station::Outcome;
use super::tiers::{TierAnswer, TierAt, TierSpec, Tiers, WritePolicy};
use super::topics::{GroupSpec, InFlight, TopicSpec, Topics};
use super::workload::{
    ArrivalState, Load, Mix, STREAM_ARRIVALS, STREAM_KEYS, STREAM_MIX, STREAM_THINK, Users,
};
use crate::engine::{Calendar, Component, Ctx, Event, Rng, SimTime};
use crate::observe::{ComponentStats, ErrorKind, Recorder, RepStats};

/// A request class.
#[derive(Debug, Clone)]
pub struct ClassSpec {
    /// Name.
    pub name: String,
    /// The path, as a tree of steps.
    pub path: Vec<Step>,
    /// Client timeout, ns.
    pub deadline: Option<u64>,
}

/// Everything needed to build one replication.
#[derive(Debug, Clone)]
pub struct SystemSpec {
    /// Services (the nodes a path visits), by index.
    pub services: Vec<ServiceSpec>,
    /// Request classes.
    pub classes: Vec<ClassSpec>,
    /// Controllers.
    pub controllers: Vec<ControllerSpec>,
    /// Load.
    pub load: Load,
    /// Class and key mix.
    pub mix: Mix,
    /// Total simulated time, ns (warm-up included).
    pub duration: u64,
    /// Warm-up, ns.
    pub warmup: u64,
    /// Time-series bucket width, ns.
    pub bucket: u64,
    /// What requests share beyond the services: guards and tables.
    pub shared: Shared,
}

/// State the requests share beyond the services: the guards try scopes name, the tables of
/// versioned rows, and the degradation chains to report.
#[derive(Debug, Clone, Default)]
pub struct Shared {
    /// Retry budgets, by index.
    pub budgets: Vec<(String, Budget)>,
    /// Bulkheads, by index.
    pub bulkheads: Vec<(String, Bulkhead)>,
    /// Circuit breakers, by index (built at time 0).
    pub breakers: Vec<(String, Breaker)>,
    /// Tables of versioned rows (optimistic concurrency), by index.
    pub tables: Vec<String>,
    /// Degradation chains.
    pub degrades: Vec<DegradeSpec>,
    /// Cache tiers, by index.
    pub tiers: Vec<TierSpec>,
    /// Replicated databases, by index.
    pub databases: Vec<DbSpec>,
    /// Connection pools, by index.
    pub pools: Vec<PoolSpec>,
    /// Sagas, by index.
    pub sagas: Vec<SagaConfig>,
    /// Topics, by index.
    pub topics: Vec<TopicSpec>,
    /// Consumer groups, by index.
    pub groups: Vec<GroupSpec>,
    /// Regions (none: no `geo` step).
    pub regions: RegionsSpec,
    /// Per class: the region of its clients (empty: none).
    pub class_regions: Vec<Option<u16>>,
    /// Shoppers as sessions (`None`: independent requests from the class mix).
    pub sessions: Option<SessionsSpec>,
}

/// A chain of fallbacks (`degrade` step): level `k` is the try scope named `levels[k].0`,
/// whose fallback is level `k + 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct DegradeSpec {
    /// Name of the chain (its component).
    pub name: String,
    /// Per level: the scope name, the level's short name, its quality weight (0..1).
    pub levels: Vec<(String, String, f64)>,
}

impl SystemSpec {
    /// Whether any component reads request keys: a key switch in a path, or a balancer that
    /// hashes keys or users. Keys are then drawn for every request from their own stream, so
    /// turning them on shifts no other draw.
    pub fn needs_keys(&self) -> bool {
        self.services.iter().any(|s| s.policy.needs_keys())
            || self.classes.iter().any(|c| path_reads_keys(&c.path))
    }
}

fn path_reads_keys(path: &[Step]) -> bool {
    path.iter().any(|s| match s {
        Step::Visit(_) | Step::Delay(_) | Step::Query(_) => false,
        // A message's partition is its key's (a choreographed saga's events too).
        Step::Publish(_) | Step::Saga(..) => true,
        Step::Rtt(..) => false,
        Step::Geo(arms, _) => arms.iter().flatten().any(|a| path_reads_keys(a)),
        Step::Pool(_, b) => path_reads_keys(b),
        Step::ReadVersion(_) | Step::WriteIf(_) => true,
        Step::CacheRead(_) | Step::CacheWrite(_) => true,
        Step::DbRead(_) | Step::DbWrite(_) => true,
        Step::ByKey(..) => true,
        Step::Fork(arms) => arms.iter().any(|a| path_reads_keys(a)),
        Step::Branch(arms) => arms.iter().any(|(_, a)| path_reads_keys(a)),
        Step::Repeat(_, b) => path_reads_keys(b),
        Step::Try(t) => {
            path_reads_keys(&t.body) || t.fallback.as_deref().is_some_and(path_reads_keys)
        }
    })
}

/// Whole-run totals per saga (started, completed, compensated, inconsistent, in progress)
/// and per consumer group (published, consumed, dlq, queued, in flight, duplicates,
/// redelivered).
pub type FlowTotals = (Vec<(u64, u64, u64, u64, u64)>, Vec<[u64; 7]>);

/// The target of the system's own events.
pub const SYSTEM: u32 = u32::MAX;

const ARRIVE: u32 = 0;
const USER_WAKE: u32 = 1;
const DELAY_DONE: u32 = 2;
const SAMPLE: u32 = 3;
const WARMUP_END: u32 = 4;
const SCOPE_TIMEOUT: u32 = 5;
const RETRY: u32 = 6;
const HEDGE: u32 = 7;
const INVALIDATE: u32 = 8;
const FLUSH: u32 = 9;
const WORKER_CRASH: u32 = 10;
const SHIP: u32 = 11;
const DB_FAULT: u32 = 12;
const LAG_SAMPLE: u32 = 13;
const POOL_CONNECTED: u32 = 14;
const POOL_TIMEOUT: u32 = 15;
const POOL_EVICT: u32 = 16;
const GROUP_POLL: u32 = 17;
const SAGA_RETRY: u32 = 18;
const SESSION_WAKE: u32 = 19;

/// A background request's `job`: flush write-behind queue `job & !JOB_FLUSH`; below it, refresh
/// the read `job` of its class.
const JOB_FLUSH: u32 = 1 << 31;
/// A background request's `job`: replay on replica `job & !JOB_REPLAY` (its class is its
/// database's hidden class).
const JOB_REPLAY: u32 = 1 << 30;
/// Marks a background request as a consumer's processing: group in bits 16..29, consumer
/// (instance) in bits 0..16.
const JOB_CONSUME: u32 = 1 << 29;
/// "No hold taken" in a saga's `sleep` field.
const NO_HOLD: u64 = u64::MAX;

/// Counters of one try scope.
#[derive(Debug, Clone, Copy, Default)]
struct ScopeCounts {
    entered: u64,
    attempts: u64,
    retries: u64,
    timeouts: u64,
    fallbacks: u64,
    failed: u64,
    succeeded: u64,
    fallback_ok: u64,
    short_circuited: u64,
    bulkhead_full: u64,
    budget_denied: u64,
    not_retried: u64,
    sleep_ns: u64,
    hedges: u64,
    hedge_wins: u64,
}

impl ScopeCounts {
    /// Adds `now - warm` (the measured window's counts).
    fn add(&mut self, now: &ScopeCounts, warm: &ScopeCounts) {
        self.entered += now.entered - warm.entered;
        self.attempts += now.attempts - warm.attempts;
        self.retries += now.retries - warm.retries;
        self.timeouts += now.timeouts - warm.timeouts;
        self.fallbacks += now.fallbacks - warm.fallbacks;
        self.failed += now.failed - warm.failed;
        self.succeeded += now.succeeded - warm.succeeded;
        self.fallback_ok += now.fallback_ok - warm.fallback_ok;
        self.short_circuited += now.short_circuited - warm.short_circuited;
        self.bulkhead_full += now.bulkhead_full - warm.bulkhead_full;
        self.budget_denied += now.budget_denied - warm.budget_denied;
        self.not_retried += now.not_retried - warm.not_retried;
        self.sleep_ns += now.sleep_ns - warm.sleep_ns;
        self.hedges += now.hedges - warm.hedges;
        self.hedge_wins += now.hedge_wins - warm.hedge_wins;
    }

    /// `entered`, `attempts`, `retries`, `timeouts`, `fallbacks`, `failed`, `succeeded`
    /// (an attempt returned), `fallback_ok`, `short_circuited` (an open breaker refused the
    /// call), `bulkhead_full`, `budget_denied`, `not_retried` (an error the policy does not
    /// retry), `hedges` (second copies sent), `hedge_wins` (calls a second copy answered),
    /// `attempts_per_call` and `backoff_ms_mean` (mean sleep per retry).
    fn metrics(&self) -> Vec<(String, f64)> {
        let mut m: Vec<(String, f64)> = [
            ("entered", self.entered),
            ("attempts", self.attempts),
            ("retries", self.retries),
            ("timeouts", self.timeouts),
            ("fallbacks", self.fallbacks),
            ("failed", self.failed),
            ("succeeded", self.succeeded),
            ("fallback_ok", self.fallback_ok),
            ("short_circuited", self.short_circuited),
            ("bulkhead_full", self.bulkhead_full),
            ("budget_denied", self.budget_denied),
            ("not_retried", self.not_retried),
            ("hedges", self.hedges),
            ("hedge_wins", self.hedge_wins),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), *v as f64))
        .collect();
        let per = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        m.push(("attempts_per_call".into(), per(self.attempts, self.entered)));
        m.push((
            "backoff_ms_mean".into(),
            per(self.sleep_ns, self.retries) / 1e6,
        ));
        m
    }
}

/// What `advance` reads of a request at each op.
#[derive(Clone, Copy)]
struct Head {
    class: u16,
    pc: u32,
    deadline: u64,
    key: u64,
}

/// Rows of one table: the version of each key's row (absent: 0).
#[derive(Debug, Clone, Default)]
struct Table {
    versions: HashMap<u64, u64>,
    counts: TableCounts,
}

#[derive(Debug, Clone, Copy, Default)]
struct TableCounts {
    reads: u64,
    writes: u64,
    conflicts: u64,
}

/// Names of the bulkheads and tables, for their components.
#[derive(Debug, Default)]
struct Names {
    bulkheads: Vec<String>,
    breakers: Vec<String>,
    tables: Vec<String>,
}

/// One replication.
#[derive(Debug)]
pub struct System {
    programs: Vec<Program>,
    deadlines: Vec<Option<u64>>,
    services: Vec<Service>,
    controllers: Vec<Controller>,
    scope_names: Vec<String>,
    scopes: Vec<ScopeCounts>,
    budgets: Vec<Budget>,
    bulkheads: Vec<Bulkhead>,
    breakers: Vec<Breaker>,
    warm_breakers: Vec<Vec<(&'static str, f64)>>,
    tables: Vec<Table>,
    spec_names: Names,
    degrades: Vec<DegradeSpec>,
    reqs: Requests,
    cal: Calendar,
    rec: Recorder,
    out: Vec<Outcome>,
    arrivals: Option<ArrivalState>,
    users: Option<Users>,
    mix: Mix,
    mix_rng: Rng,
    key_rng: Rng,
    needs_keys: bool,
    think_rng: Rng,
    delay_rng: Rng,
    path_rng: Rng,
    backoff_rng: Rng,
    gauges: Vec<f64>,
    warm_scopes: Vec<ScopeCounts>,
    /// Requests each arm of each key switch took, by class and switch (and at warm-up end).
    route_hits: Vec<Vec<Vec<u64>>>,
    warm_route_hits: Vec<Vec<Vec<u64>>>,
    warm_guards: Vec<(u64, u64)>,
    warm_tables: Vec<TableCounts>,
    duration: u64,
    warmup: u64,
    bucket: u64,
    events: u64,
    tiers: Tiers,
    /// Per service: whether it holds per-instance state, in-process cache tiers or
    /// connection pools (a visit there records the instance the request is at).
    hosts_tiers: Vec<bool>,
    tier_rng: Rng,
    dbs: Databases,
    pools: Pools,
    query_rng: Rng,
    sagas: Sagas,
    topics: Topics,
    /// The class of group 0's consumers (the others follow).
    consumer_class: u16,
    /// Scratch: a group's live consumers.
    live: Vec<u32>,
    /// Scratch: the requests a dispatch started.
    started: Vec<u32>,
    regions: Regions,
    class_regions: Vec<Option<u16>>,
    sessions: Option<Sessions>,
}

impl System {
    /// Builds a replication of `spec` seeded with `seed`, scheduling its first events.
    pub fn new(spec: &SystemSpec, seed: u64) -> System {
        let controlled: Vec<u32> = spec.controllers.iter().flat_map(|c| c.targets()).collect();
        let replay = replay_classes(spec);
        let hidden = spec.classes.len() + spec.shared.databases.len() + spec.shared.groups.len();
        let services = spec
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let fleet = s.instances != 1 || controlled.contains(&(i as u32));
                let mut s = s.clone();
                if let Some((class, d)) = replay[i] {
                    let d = spec.shared.databases[d].replay.clone();
                    s.station.service.resize(class + 1, d.clone());
                    s.station.service[class] = d;
                }
                if !spec.shared.groups.is_empty() && s.station.service.len() < hidden {
                    // Consumers' processing runs under hidden classes: their service time at
                    // a station is its first class's.
                    let first = s.station.service[0].clone();
                    s.station.service.resize(hidden, first);
                }
                Service::new(Arc::new(s), i as u32, seed, fleet)
            })
            .collect::<Vec<_>>();
        let mut scope_names = Vec::new();
        let mut queues: Vec<QueueDecl> = Vec::new();
        let tier_services: Vec<Option<u32>> = spec
            .shared
            .tiers
            .iter()
            .map(|t| match t.at {
                TierAt::Service(s) => Some(s),
                TierAt::Instance(_) => None,
            })
            .collect();
        let mut programs = spec
            .classes
            .iter()
            .enumerate()
            .map(|(k, c)| {
                compile_class(
                    &c.path,
                    k as u16,
                    scope_names.len() as u32,
                    &mut scope_names,
                    &mut queues,
                    &tier_services,
                )
            })
            .collect::<Vec<Program>>();
        programs.extend((0..spec.shared.databases.len()).map(|d| Program::replay(d as u32)));
        let consumer_class = programs.len() as u16;
        for (g, group) in spec.shared.groups.iter().enumerate() {
            // The processing visit at the consumer's own instance, then the handler: compiled
            // with a placeholder first step that becomes `Consume`.
            let mut steps = vec![Step::Publish(u32::MAX)];
            steps.extend_from_slice(&group.path);
            let mut p = compile_class(
                &steps,
                programs.len() as u16,
                scope_names.len() as u32,
                &mut scope_names,
                &mut queues,
                &tier_services,
            );
            p.ops[0] = Op::Consume(g as u32);
            programs.push(p);
        }
        let mut hosts_tiers = vec![false; spec.services.len()];
        for t in &spec.shared.tiers {
            if let TierAt::Instance(s) = t.at {
                hosts_tiers[s as usize] = true;
            }
        }
        for p in &spec.shared.pools {
            hosts_tiers[p.host as usize] = true;
        }
        for o in spec.shared.sagas.iter().filter_map(|s| s.orchestrator) {
            hosts_tiers[o as usize] = true;
        }
        let mut used = vec![false; spec.shared.tiers.len()];
        for p in &programs {
            for t in p
                .gets
                .iter()
                .map(|g| g.tier)
                .chain(p.write_tiers.iter().map(|w| w.1))
            {
                used[t as usize] = true;
            }
        }
        let tiers = Tiers::new(
            &spec.shared.tiers,
            used,
            spec.mix.keys.space(),
            seed,
            queues,
        );
        let (arrivals, users) = match &spec.load {
            Load::Open(a) => (
                Some(ArrivalState::new(
                    a.clone(),
                    Rng::stream(seed, STREAM_ARRIVALS),
                )),
                None,
            ),
            Load::Closed(u) => (None, Some(u.clone())),
        };
        let names: Vec<String> = spec.services.iter().map(|s| s.name().to_string()).collect();
        let dbs = Databases::new(
            &spec.shared.databases,
            spec.mix.keys.space(),
            users.as_ref().map(|u| u.target.max().ceil() as usize),
            seed,
            &names,
        );
        let route_hits: Vec<Vec<Vec<u64>>> = programs
            .iter()
            .map(|p| p.routes.iter().map(|r| vec![0; r.1.len()]).collect())
            .collect();
        let mut sys = System {
            programs,
            deadlines: spec.classes.iter().map(|c| c.deadline).collect(),
            services,
            controllers: spec
                .controllers
                .iter()
                .cloned()
                .map(|c| {
                    let profile = match &spec.load {
                        Load::Open(super::workload::Arrivals::Poisson(p)) => Some(p.clone()),
                        _ => None,
                    };
                    Controller::new(c, seed, profile)
                })
                .collect(),
            scopes: vec![ScopeCounts::default(); scope_names.len()],
            warm_scopes: vec![ScopeCounts::default(); scope_names.len()],
            route_hits,
            warm_route_hits: Vec::new(),
            budgets: spec.shared.budgets.iter().map(|b| b.1.clone()).collect(),
            bulkheads: spec.shared.bulkheads.iter().map(|b| b.1.clone()).collect(),
            warm_guards: vec![(0, 0); spec.shared.bulkheads.len()],
            breakers: spec.shared.breakers.iter().map(|b| b.1.clone()).collect(),
            warm_breakers: spec.shared.breakers.iter().map(|b| b.1.metrics()).collect(),
            tables: vec![Table::default(); spec.shared.tables.len()],
            warm_tables: vec![TableCounts::default(); spec.shared.tables.len()],
            spec_names: Names {
                bulkheads: spec.shared.bulkheads.iter().map(|b| b.0.clone()).collect(),
                breakers: spec.shared.breakers.iter().map(|b| b.0.clone()).collect(),
                tables: spec.shared.tables.clone(),
            },
            degrades: spec.shared.degrades.clone(),
            scope_names,
            reqs: Requests::default(),
            cal: Calendar::new(),
            rec: Recorder::new(spec.classes.len(), spec.warmup, spec.duration, spec.bucket),
            out: Vec::with_capacity(16),
            arrivals,
            users,
            mix: spec.mix.clone(),
            mix_rng: Rng::stream(seed, STREAM_MIX),
            key_rng: Rng::stream(seed, STREAM_KEYS),
            needs_keys: spec.needs_keys(),
            think_rng: Rng::stream(seed, STREAM_THINK),
            delay_rng: Rng::stream(seed, "router.delays"),
            path_rng: Rng::stream(seed, "router.paths"),
            backoff_rng: Rng::stream(seed, "router.backoff"),
            gauges: Vec::new(),
            duration: spec.duration,
            warmup: spec.warmup,
            bucket: spec.bucket.max(1),
            events: 0,
            tiers,
            hosts_tiers,
            tier_rng: Rng::stream(seed, "router.tiers"),
            dbs,
            pools: Pools::new(&spec.shared.pools, Rng::stream(seed, "router.pools")),
            query_rng: Rng::stream(seed, "router.queries"),
            sagas: Sagas::new(spec.shared.sagas.clone()),
            topics: Topics::new(spec.shared.topics.clone(), spec.shared.groups.clone(), seed),
            consumer_class,
            live: Vec::new(),
            started: Vec::new(),
            regions: Regions::new(
                spec.shared.regions.clone(),
                Rng::stream(seed, "router.regions"),
            ),
            class_regions: spec.shared.class_regions.clone(),
            sessions: spec
                .shared
                .sessions
                .clone()
                .map(|s| Sessions::new(s, Rng::stream(seed, "router.sessions"))),
        };
        sys.start();
        sys
    }

    fn system_event(&mut self, at: u64, kind: u32, data: u64) {
        self.cal.push(
            at,
            Event {
                target: SYSTEM,
                kind,
                data,
            },
        );
    }

    fn start(&mut self) {
        // First in the calendar: at the instant the warm-up ends, it ends before anything
        // else happens (a batch arriving at that instant is measured whole).
        self.system_event(self.warmup, WARMUP_END, 0);
        if let Some(a) = &mut self.arrivals
            && let Some(t) = a.next_after(0)
        {
            self.system_event(t, ARRIVE, 0);
        }
        if let Some(users) = &self.users {
            let max = users.target.max().ceil() as u64;
            let wakes: Vec<(u64, u64)> = (0..max)
                .filter_map(|u| users.target.first_time_above(u as f64, 0).map(|t| (t, u)))
                .collect();
            for (t, u) in wakes {
                self.system_event(t, USER_WAKE, u);
            }
        }
        self.system_event(self.bucket.min(self.duration), SAMPLE, 0);
        for q in 0..self.tiers.queues.len() {
            let Some(b) = self.tiers.queues[q].behind else {
                continue;
            };
            self.system_event(b.interval, FLUSH, q as u64);
            if let Some((at, _)) = b.crash {
                self.system_event(at, WORKER_CRASH, q as u64);
            }
        }
        for (at, data) in self.dbs.faults() {
            self.system_event(at, DB_FAULT, data);
        }
        for d in 0..self.dbs.len() {
            self.system_event(self.dbs.spec(d).lag_sample, LAG_SAMPLE, d as u64);
        }
        for p in 0..self.pools.len() {
            self.system_event(self.pools.spec(p).evict, POOL_EVICT, p as u64);
        }
        for g in 0..self.topics.groups.len() {
            let poll = self.topics.groups[g].spec.poll;
            self.system_event(poll, GROUP_POLL, g as u64);
        }
        let first = self.services.len() as u32;
        for (i, c) in self.controllers.iter().enumerate() {
            if let Some(t) = c.first_wake() {
                self.cal.push(
                    t,
                    Event {
                        target: first + i as u32,
                        kind: 0,
                        data: 0,
                    },
                );
            }
        }
    }

    /// Runs to the end of the horizon and returns the measurements.
    pub fn run(mut self) -> RepStats {
        while let Some((t, ev)) = self.cal.pop() {
            if t.0 > self.duration {
                break;
            }
            self.events += 1;
            self.dispatch(t.0, ev);
        }
        let components = self.component_stats();
        let names = self.gauge_names();
        self.rec
            .finish(self.duration, components, names, self.events)
    }

    #[inline]
    fn dispatch(&mut self, now: u64, ev: Event) {
        let services = self.services.len() as u32;
        match ev.target {
            SYSTEM => match ev.kind {
                ARRIVE => self.on_arrival(now),
                USER_WAKE => self.on_user_wake(now, ev.data as u32),
                DELAY_DONE => self.step_done(now, ev.data as u32),
                SCOPE_TIMEOUT => self.on_scope_timeout(now, ev.data),
                RETRY => self.on_retry(now, ev.data),
                HEDGE => self.on_hedge(now, ev.data),
                INVALIDATE => self.on_invalidate(ev.data),
                FLUSH => self.on_flush_timer(now, ev.data as u32),
                WORKER_CRASH => self.on_worker_crash(now, ev.data as u32),
                SHIP => self.on_ship(now, ev.data),
                DB_FAULT => self.on_db_fault(now, ev.data),
                LAG_SAMPLE => self.on_lag_sample(now, ev.data as usize),
                POOL_CONNECTED => self.on_pool_connected(now, ev.data),
                POOL_TIMEOUT => self.on_pool_timeout(now, ev.data),
                POOL_EVICT => self.on_pool_evict(now, ev.data as usize),
                GROUP_POLL => self.on_group_poll(now, ev.data as usize),
                SAGA_RETRY => self.on_saga_retry(now, ev.data),
                SESSION_WAKE => {
                    let id = ev.data as u32;
                    let (class, user) = self.sessions.as_ref().expect("sessions").page_of(id);
                    self.issue(now, class, user, id);
                }
                SAMPLE => self.on_sample(now),
                _ => self.on_warmup_end(now),
            },
            s if s < services => {
                let mut ctx = Ctx::new(SimTime(now), &mut self.cal);
                self.services[s as usize].handle(ev, &mut ctx, &mut self.out);
                self.drain(now);
            }
            c => {
                let mut ctx = Ctx::new(SimTime(now), &mut self.cal);
                let ctl = &mut self.controllers[(c - services) as usize];
                if let Some(t) = ctl.wake(&mut self.services, &mut ctx, &mut self.out) {
                    ctx.schedule_at(SimTime(t), ev);
                }
                self.drain(now);
            }
        }
    }

    #[inline]
    fn on_arrival(&mut self, now: u64) {
        let a = self.arrivals.as_mut().expect("open workload");
        if let Some(t) = a.next_after(now) {
            self.system_event(t, ARRIVE, 0);
        }
        self.new_request(now, NONE);
    }

    fn on_user_wake(&mut self, now: u64, user: u32) {
        let users = self.users.as_ref().expect("closed workload");
        if f64::from(user) < users.target.at(now) {
            self.new_request(now, user);
        } else if let Some(t) = users.target.first_time_above(f64::from(user), now) {
            self.system_event(t, USER_WAKE, u64::from(user));
        }
    }

    #[inline]
    fn new_request(&mut self, now: u64, user: u32) {
        if let Some(s) = &mut self.sessions {
            // An arrival (or a user's next turn) starts a session: its first page.
            let (id, class) = s.start(now, user);
            return self.issue(now, class, user, id);
        }
        let class = self.mix.class(&mut self.mix_rng);
        self.issue(now, class, user, 0);
    }

    /// A client's request of `class` (for a session, `job` is the session) starts its path.
    #[inline]
    fn issue(&mut self, now: u64, class: u16, user: u32, job: u32) {
        let key = if self.needs_keys {
            self.mix.key(&mut self.key_rng)
        } else {
            0
        };
        let deadline = self.deadlines[class as usize].map_or(u64::MAX, |d| now.saturating_add(d));
        let req = self.reqs.insert(Request {
            class,
            user,
            created: now,
            deadline,
            key,
            job,
            ..Request::default()
        });
        self.rec.arrive(class, now);
        self.advance(now, req);
        self.drain(now);
    }

    /// A child of `parent` starting at `pc`, started at once.
    fn spawn(&mut self, now: u64, parent: u32, pc: u32, deadline: u64) -> u32 {
        let child = self.spawn_later(parent, pc, deadline);
        self.advance(now, child);
        child
    }

    /// Runs `req`'s program from its pc until it waits.
    fn advance(&mut self, now: u64, req: u32) {
        loop {
            // Only the fields the ops read: a request is ~100 bytes, copied per op otherwise.
            let r = {
                let q = self.reqs.get(req);
                Head {
                    class: q.class,
                    pc: q.pc,
                    deadline: q.deadline,
                    key: q.key,
                }
            };
            let prog = &self.programs[r.class as usize];
            match prog.ops[r.pc as usize] {
                Op::Visit(n) => {
                    let v = Visit {
                        req,
                        class: r.class,
                        deadline: r.deadline,
                        key: r.key,
                        user: self.root_user(req),
                        work: 0,
                    };
                    let mut ctx = Ctx::new(SimTime(now), &mut self.cal);
                    let (inst, epoch) =
                        self.services[n as usize].arrive(v, &mut ctx, &mut self.out);
                    if self.hosts_tiers[n as usize] && inst != u32::MAX {
                        let q = self.reqs.get_mut(req);
                        (q.instance, q.epoch) = (inst, epoch);
                    }
                    return;
                }
                Op::Delay(d) => {
                    let delay = prog.dists[d as usize].sample_ns(&mut self.delay_rng);
                    return self.system_event(
                        now.saturating_add(delay),
                        DELAY_DONE,
                        u64::from(req),
                    );
                }
                Op::Jump(pc) => self.reqs.get_mut(req).pc = pc,
                Op::Branch(b) => {
                    let u = self.path_rng.next_f64();
                    self.reqs.get_mut(req).pc = prog.branch_target(b, u);
                }
                Op::Route(k) => {
                    let (route, arms, _) = &prog.routes[k as usize];
                    let arm = route.arm(r.key, arms.len());
                    self.route_hits[r.class as usize][k as usize][arm] += 1;
                    self.reqs.get_mut(req).pc = arms[arm];
                }
                Op::Fork(f) => {
                    let n = prog.forks[f as usize].len();
                    self.reqs.get_mut(req).pending = n as u32;
                    for k in 0..n {
                        let pc = self.programs[r.class as usize].forks[f as usize][k];
                        self.spawn(now, req, pc, r.deadline);
                    }
                    return;
                }
                Op::Repeat(k) => {
                    let (count, body) = prog.repeats[k as usize];
                    let n = count.sample(&mut self.path_rng);
                    if n == 0 {
                        self.reqs.get_mut(req).pc += 1;
                        continue;
                    }
                    self.reqs.get_mut(req).pending = 1;
                    let child = self.spawn_later(req, body, r.deadline);
                    self.reqs.get_mut(child).iterations = n - 1;
                    return self.advance(now, child);
                }
                Op::Try(s) => return self.enter_scope(now, req, s),
                Op::ReadVersion(t) => {
                    let table = &mut self.tables[t as usize];
                    table.counts.reads += 1;
                    let v = table.versions.get(&r.key).copied().unwrap_or(0);
                    let q = self.reqs.get_mut(req);
                    q.version = v;
                    q.pc += 1;
                }
                Op::WriteIf(t) => {
                    let table = &mut self.tables[t as usize];
                    let v = table.versions.entry(r.key).or_insert(0);
                    let q = self.reqs.get_mut(req);
                    if *v == q.version {
                        *v += 1;
                        table.counts.writes += 1;
                    } else {
                        // The answer (a conflict) travels back along the rest of the block,
                        // which then fails.
                        table.counts.conflicts += 1;
                        q.failed.get_or_insert(ErrorKind::Failed);
                    }
                    q.pc += 1;
                }
                Op::CacheGet(g) => {
                    let get = prog.gets[g as usize];
                    let q = self.reqs.get_mut(req);
                    q.mark = now;
                    let t = self.tiers.spec(get.tier);
                    if let TierAt::Instance(_) = t.at {
                        let hit = self.lookup(now, req, g);
                        let t = self.tiers.spec(get.tier);
                        let d = if hit { &t.hit } else { &t.miss };
                        let delay = d.sample_ns(&mut self.delay_rng);
                        if delay > 0 {
                            return self.system_event(
                                now.saturating_add(delay),
                                DELAY_DONE,
                                u64::from(req),
                            );
                        }
                    }
                    self.reqs.get_mut(req).pc += 1;
                }
                Op::CacheHit(g) => {
                    let get = prog.gets[g as usize];
                    let key = prog.reads[get.read as usize].key(r.key);
                    let hit = match self.tiers.spec(get.tier).at {
                        TierAt::Service(_) => self.lookup(now, req, g),
                        TierAt::Instance(_) => self.reqs.get(req).hit,
                    };
                    let q = self.reqs.get_mut(req);
                    self.tiers.lookup_time(get.tier, now - q.mark);
                    q.mark = now;
                    if hit {
                        q.pc = get.on_hit;
                        let version = q.version;
                        self.tiers.read(key, version, now);
                    } else {
                        q.pc += 1;
                    }
                }
                Op::CacheLoad(k) => {
                    let read = &prog.reads[k as usize];
                    let key = read.key(r.key);
                    if read.single_flight || read.stale_while_revalidate.is_some() {
                        if read.single_flight
                            && let Some(_leader) =
                                self.tiers.join_flight(flight(r.class, k, key), req)
                        {
                            let head = self.tiers.swap_waiters(flight(r.class, k, key), req);
                            self.reqs.get_mut(req).next = head;
                            return;
                        }
                        if !read.single_flight && !self.tiers.in_flight(flight(r.class, k, key)) {
                            // A load a stale-while-revalidate refresh can join.
                            self.tiers.join_flight(flight(r.class, k, key), req);
                        }
                    }
                    let load = read.load;
                    self.reqs.get_mut(req).pending = 1;
                    self.spawn(now, req, load, r.deadline);
                    return;
                }
                Op::CacheFill(g) => {
                    let get = prog.gets[g as usize];
                    let q = self.reqs.get_mut(req);
                    let (inst, epoch, version) = (q.instance, q.epoch, q.version);
                    q.pc += 1;
                    let key = prog.reads[get.read as usize].key(r.key);
                    self.tiers.fill(get.tier, inst, epoch, key, version, now);
                }
                Op::WriteStore(w) => {
                    let store = prog.writes[w as usize].store;
                    self.reqs.get_mut(req).pending = 1;
                    self.spawn(now, req, store, r.deadline);
                    return;
                }
                Op::WriteCommit(w) => {
                    let stored = prog.writes[w as usize].policy != WritePolicy::Behind;
                    let version = self.tiers.write(r.key, now, stored);
                    let q = self.reqs.get_mut(req);
                    q.version = version;
                    q.pc += 1;
                }
                Op::WriteTier(i) => {
                    let (w, t) = prog.write_tiers[i as usize];
                    let policy = prog.writes[w as usize].policy;
                    let q = self.reqs.get_mut(req);
                    let (inst, epoch, version) = (q.instance, q.epoch, q.version);
                    q.pc += 1;
                    match policy {
                        WritePolicy::Invalidate => self.tiers.invalidate(t, inst, epoch, r.key),
                        WritePolicy::Through | WritePolicy::Behind => {
                            self.tiers.fill(t, inst, epoch, r.key, version, now)
                        }
                    }
                    let spec = self.tiers.spec(t);
                    if let (TierAt::Instance(_), Some(d)) = (spec.at, &spec.invalidation) {
                        let delay = d.sample_ns(&mut self.delay_rng);
                        let data = (r.key & 0xFFFF_FFFF)
                            | (u64::from(t) << 32)
                            | (u64::from(inst.min(0xF_FFFE) + 1) << 44);
                        self.system_event(now.saturating_add(delay), INVALIDATE, data);
                    }
                }
                Op::WriteQueue(w) => {
                    let queue = prog.writes[w as usize].queue;
                    let version = self.reqs.get(req).version;
                    self.reqs.get_mut(req).pc += 1;
                    if self.tiers.enqueue(queue, r.key, version, now) {
                        self.try_flush(now, queue);
                    }
                }
                Op::DbRead(d) => return self.db_read(now, req, d as usize),
                Op::Query(q) => {
                    let q = &prog.queries[q as usize];
                    let (node, work) = (q.node, q.work(&mut self.query_rng));
                    return self.visit_with(now, req, node, work);
                }
                Op::Pool(k) => {
                    let (pool, body) = prog.pools[k as usize];
                    return self.pool_acquire(now, req, pool as usize, body);
                }
                Op::Saga(k) => return self.saga_start(now, req, k),
                Op::Publish(t) => {
                    let ack = self.topics.publish(t as usize, r.key, now);
                    self.system_event(now.saturating_add(ack), DELAY_DONE, u64::from(req));
                    for i in 0..self.topics.subscribers(t as usize).len() {
                        let g = self.topics.subscribers(t as usize)[i];
                        self.group_dispatch(now, g);
                    }
                    return;
                }
                Op::Geo(k) => {
                    let client = self.client_region(r.class).unwrap_or(0);
                    let (arms, kb) = &prog.geos[k as usize];
                    match self
                        .regions
                        .pick(client, now, *kb, |x| arms[x as usize].is_some())
                    {
                        Pick::Region(region, rtt) => {
                            self.reqs.get_mut(req).region = region;
                            return self.system_event(
                                now.saturating_add(rtt),
                                DELAY_DONE,
                                u64::from(req),
                            );
                        }
                        Pick::Down | Pick::None => {
                            return self.fail(now, req, ErrorKind::Connection);
                        }
                    }
                }
                Op::GeoArm(k) => {
                    let q = self.reqs.get_mut(req);
                    q.pc = prog.geos[k as usize].0[q.region as usize]
                        .expect("the region picked has an arm");
                }
                Op::Rtt(k) => {
                    let (to, kb) = prog.rtts[k as usize];
                    let from = match self.reqs.get(req).region {
                        u16::MAX => self.client_region(r.class).unwrap_or(to),
                        x => x,
                    };
                    let rtt = self.regions.hop(from, to, kb);
                    return self.system_event(now.saturating_add(rtt), DELAY_DONE, u64::from(req));
                }
                Op::Consume(g) => {
                    let c = self.reqs.get(req).job & 0xFFFF;
                    let svc = self.topics.groups[g as usize].spec.service as usize;
                    let v = Visit {
                        req,
                        class: r.class,
                        deadline: r.deadline,
                        key: r.key,
                        user: NONE,
                        work: 0,
                    };
                    let mut ctx = Ctx::new(SimTime(now), &mut self.cal);
                    self.services[svc].arrive_at(c, v, &mut ctx, &mut self.out);
                    return;
                }
                Op::DbReadEnd(d) => {
                    let node = match self.reqs.get(req).db {
                        0 => Node::Primary,
                        r => Node::Replica(usize::from(r) - 1),
                    };
                    if self.dbs.read(d as usize, node, r.key) == Read::Unavailable {
                        return self.fail(now, req, ErrorKind::Connection);
                    }
                    self.reqs.get_mut(req).pc += 1;
                }
                Op::DbWrite(d) => return self.db_write(now, req, d as usize),
                Op::DbCommit(d) => {
                    if !self.db_commit(now, req, d as usize) {
                        return;
                    }
                }
                Op::Replay(d) => {
                    let d = d as usize;
                    let rep = (self.reqs.get(req).job & !JOB_REPLAY) as usize;
                    match self.dbs.next_replay(d, rep) {
                        Some(lsn) => {
                            let epoch = self.dbs.epoch(d);
                            let q = self.reqs.get_mut(req);
                            (q.version, q.db) = (lsn, epoch);
                            let svc = self.dbs.service(d, Node::Replica(rep));
                            return self.visit(now, req, svc);
                        }
                        // Idle: the program's `Return`.
                        None => self.reqs.get_mut(req).pc = 2,
                    }
                }
                Op::Replayed(d) => {
                    let q = self.reqs.get_mut(req);
                    let rep = (q.job & !JOB_REPLAY) as usize;
                    let (lsn, epoch) = (q.version, q.db);
                    q.pc = 0;
                    self.dbs.replayed(d as usize, rep, lsn, epoch);
                }
                Op::Return => return self.returned(now, req),
            }
        }
    }

    /// The region of class `class`'s clients, if it has one.
    fn client_region(&self, class: u16) -> Option<u16> {
        self.class_regions.get(class as usize).copied().flatten()
    }

    /// `req` visits service `n` (a database node).
    fn visit(&mut self, now: u64, req: u32, n: u32) {
        self.visit_with(now, req, n, 0)
    }

    /// `req` visits service `n`, bringing `work` ns on top of its class's service time.
    fn visit_with(&mut self, now: u64, req: u32, n: u32, work: u64) {
        let q = self.reqs.get(req);
        let v = Visit {
            req,
            class: q.class,
            deadline: q.deadline,
            key: q.key,
            user: self.root_user(req),
            work,
        };
        let mut ctx = Ctx::new(SimTime(now), &mut self.cal);
        let (inst, epoch) = self.services[n as usize].arrive(v, &mut ctx, &mut self.out);
        if self.hosts_tiers[n as usize] && inst != u32::MAX {
            let q = self.reqs.get_mut(req);
            (q.instance, q.epoch) = (inst, epoch);
        }
    }

    /// A read of database `d`: the router picks a node, and the read visits its service (or
    /// fails at once when that node is down).
    fn db_read(&mut self, now: u64, req: u32, d: usize) {
        let key = self.reqs.get(req).key;
        let user = self.root_user(req);
        let services = &self.services;
        let (node, svc) = self
            .dbs
            .route(d, user, key, now, |s| services[s as usize].outstanding());
        if self.dbs.peek(d, node, key) == Read::Unavailable {
            self.dbs.read(d, node, key);
            return self.fail(now, req, ErrorKind::Connection);
        }
        self.reqs.get_mut(req).db = match node {
            Node::Primary => 0,
            Node::Replica(r) => r as u16 + 1,
        };
        self.visit(now, req, svc);
    }

    /// A write of database `d` visits its primary (refused at once while it is down).
    fn db_write(&mut self, now: u64, req: u32, d: usize) {
        if !self.dbs.primary_up(d) {
            let key = self.reqs.get(req).key;
            // Refused, and counted as such (`writes_failed`).
            let _ = self.dbs.commit(d, NONE, key, now);
            return self.fail(now, req, ErrorKind::Connection);
        }
        self.reqs.get_mut(req).db = self.dbs.epoch(d);
        let svc = self.dbs.primary(d);
        self.visit(now, req, svc);
    }

    /// The write's visit to the primary ended: commit and ship. Returns whether `req` goes on
    /// at once (acknowledged); otherwise it failed or waits for its acknowledgement.
    fn db_commit(&mut self, now: u64, req: u32, d: usize) -> bool {
        let q = *self.reqs.get(req);
        if q.db != self.dbs.epoch(d) {
            // It reached a primary that has since been replaced.
            self.fail(now, req, ErrorKind::Connection);
            return false;
        }
        let user = self.root_user(req);
        let committed = self.dbs.commit(d, user, q.key, now);
        self.schedule_ships();
        match committed {
            Err(_) => {
                self.fail(now, req, ErrorKind::Connection);
                false
            }
            Ok(None) => {
                self.reqs.get_mut(req).pc += 1;
                true
            }
            Ok(Some(lsn)) => {
                let h = self.reqs.handle(req);
                self.dbs.park(d, lsn, h);
                false
            }
        }
    }

    /// Puts the shipments the databases sent into the calendar.
    fn schedule_ships(&mut self) {
        for &(at, data) in self.dbs.due() {
            self.cal.push(
                at,
                Event {
                    target: SYSTEM,
                    kind: SHIP,
                    data,
                },
            );
        }
        self.dbs.clear_due();
    }

    /// Starts the replay worker of replica `r` of database `d`: a background request of the
    /// database's hidden class.
    fn start_replay(&mut self, now: u64, d: usize, r: usize) {
        let req = self.reqs.insert(Request {
            class: (self.deadlines.len() + d) as u16,
            created: now,
            background: true,
            job: JOB_REPLAY | r as u32,
            ..Request::default()
        });
        self.advance(now, req);
    }

    /// A shipment arrived (or was lost on the way).
    fn on_ship(&mut self, now: u64, data: u64) {
        let Some(a) = self.dbs.arrive(data) else {
            return;
        };
        if let Some(r) = a.start_replay {
            self.start_replay(now, a.db, r);
        }
        if a.release {
            self.release_writers(now, a.db);
        }
        self.drain(now);
    }

    /// Writers of database `d` whose writes are now acknowledged go on.
    fn release_writers(&mut self, now: u64, d: usize) {
        while let Some(h) = self.dbs.pop_acked(d) {
            if let Some(req) = self.reqs.resolve(h) {
                self.next_op(now, req);
            }
        }
    }

    /// A database's primary fails, is replaced, or a replica goes down or comes back.
    fn on_db_fault(&mut self, now: u64, data: u64) {
        let (d, fault) = Fault::decode(data);
        self.dbs.fault(d, fault, now);
        self.schedule_ships();
        if fault == Fault::PrimaryFails {
            // Writers waiting for an acknowledgement lose their connection.
            while let Some(h) = self.dbs.pop_waiter(d) {
                if let Some(req) = self.reqs.resolve(h) {
                    self.fail(now, req, ErrorKind::Connection);
                }
            }
        }
        for r in 0..self.dbs.replicas(d) {
            if self.dbs.claim_replay(d, r) {
                self.start_replay(now, d, r);
            }
        }
        if self.dbs.may_release(d) {
            self.release_writers(now, d);
        }
        self.drain(now);
    }

    fn on_lag_sample(&mut self, now: u64, d: usize) {
        self.dbs.sample_lag(d, now);
        let next = now.saturating_add(self.dbs.spec(d).lag_sample);
        if next <= self.duration {
            self.system_event(next, LAG_SAMPLE, d as u64);
        }
    }

    /// The lookup of `gets[g]` for `req`: records hit or miss and the version found on the
    /// request, and starts a background refresh of an entry served past its expiry.
    fn lookup(&mut self, now: u64, req: u32, g: u32) -> bool {
        let q = *self.reqs.get(req);
        let prog = &self.programs[q.class as usize];
        let get = prog.gets[g as usize];
        let read = &prog.reads[get.read as usize];
        let early = read.early_refresh.map(|beta| {
            // XFetch: recompute when now - delta * beta * ln(u) >= expiry.
            let u = self.tier_rng.next_open01();
            (beta, -self.tiers.mean_load_ns() * u.ln())
        });
        let key = read.key(q.key);
        let answer = self.tiers.lookup(
            get.tier,
            q.instance,
            q.epoch,
            key,
            now,
            read.stale_while_revalidate,
            early,
        );
        let (hit, refresh) = match answer {
            TierAnswer::Hit { version, refresh } => {
                self.reqs.get_mut(req).version = version;
                (true, refresh)
            }
            TierAnswer::Miss => (false, false),
        };
        self.reqs.get_mut(req).hit = hit;
        let id = flight(q.class, get.read, key);
        if refresh && !self.tiers.in_flight(id) {
            let load = read.load;
            let bg = self.reqs.insert(Request {
                class: q.class,
                key,
                created: now,
                mark: now,
                instance: q.instance,
                epoch: q.epoch,
                background: true,
                job: get.read,
                pc: load,
                ..Request::default()
            });
            self.tiers.join_flight(id, bg);
            self.advance(now, bg);
        }
        hit
    }

    /// A load for `key` read `version`: the requests that waited for it (single flight) go on
    /// with it, or fail with `failed`.
    fn end_flight(
        &mut self,
        now: u64,
        id: u64,
        leader: u32,
        version: u64,
        failed: Option<ErrorKind>,
    ) {
        let key = id & 0xFFFF_FFFF;
        let mut w = self.tiers.end_flight(id, leader);
        while w != NONE {
            let q = self.reqs.get_mut(w);
            let next = q.next;
            q.next = NONE;
            match failed {
                None => {
                    q.version = version;
                    self.tiers.read(key, version, now);
                    self.next_op(now, w);
                }
                Some(kind) => self.fail(now, w, kind),
            }
            w = next;
        }
    }

    /// A background request (a refresh or a flush) ended.
    fn background_done(&mut self, now: u64, req: u32, failed: Option<ErrorKind>) {
        let r = *self.reqs.get(req);
        let handle = self.reqs.handle(req);
        self.reqs.remove(req);
        if r.job & JOB_CONSUME != 0 {
            let (g, c) = (((r.job >> 16) & 0x1FFF) as usize, r.job & 0xFFFF);
            return self.consumed(now, g, c, handle, failed.is_none());
        }
        if r.job & JOB_REPLAY != 0 && r.job & JOB_FLUSH == 0 {
            if failed.is_some() {
                let d = usize::from(r.class) - self.deadlines.len();
                self.dbs.replay_stopped(d, (r.job & !JOB_REPLAY) as usize);
            }
            return;
        }
        if r.job & JOB_FLUSH != 0 {
            let q = r.job & !JOB_FLUSH;
            if self.tiers.end_flush(q, r.version, failed.is_none()) {
                self.try_flush(now, q);
            }
            return;
        }
        let version = self.tiers.load(r.key, now - r.mark);
        self.tiers.background_load();
        if failed.is_none() {
            let prog = &self.programs[r.class as usize];
            let read = &prog.reads[r.job as usize];
            for &t in &read.tiers {
                self.tiers.fill(t, r.instance, r.epoch, r.key, version, now);
            }
        }
        self.end_flight(now, flight(r.class, r.job, r.key), req, version, failed);
    }

    /// Starts a flush of write-behind queue `q` if its worker can.
    fn try_flush(&mut self, now: u64, q: u32) {
        if !self.tiers.start_flush(q, now) {
            return;
        }
        let queue = &self.tiers.queues[q as usize];
        let (class, pc) = queue.store;
        let bg = self.reqs.insert(Request {
            class,
            created: now,
            mark: now,
            background: true,
            job: JOB_FLUSH | q,
            version: queue.epoch,
            pc,
            ..Request::default()
        });
        self.advance(now, bg);
    }

    fn on_flush_timer(&mut self, now: u64, q: u32) {
        self.try_flush(now, q);
        self.drain(now);
        if let Some(b) = self.tiers.queues[q as usize].behind {
            self.system_event(now.saturating_add(b.interval), FLUSH, u64::from(q));
        }
    }

    fn on_worker_crash(&mut self, now: u64, q: u32) {
        if let Some((_, restart)) = self.tiers.queues[q as usize].behind.and_then(|b| b.crash) {
            self.tiers.crash(q, now, now.saturating_add(restart));
        }
    }

    /// The pub/sub message of a write reached the other instances' in-process caches.
    fn on_invalidate(&mut self, data: u64) {
        let key = data & 0xFFFF_FFFF;
        let tier = ((data >> 32) & 0xFFF) as u32;
        let except = (data >> 44) as u32 - 1;
        self.tiers.invalidate_others(tier, key, except);
    }

    /// A child of `parent` at `pc`, not started yet.
    fn spawn_later(&mut self, parent: u32, pc: u32, deadline: u64) -> u32 {
        let p = *self.reqs.get(parent);
        self.reqs.insert(Request {
            class: p.class,
            key: p.key,
            created: p.created,
            version: p.version,
            instance: p.instance,
            epoch: p.epoch,
            region: p.region,
            parent,
            pc,
            deadline,
            ..Request::default()
        })
    }

    /// The closed-loop user a request (or its root) belongs to.
    #[inline]
    fn root_user(&self, mut req: u32) -> u32 {
        loop {
            let r = self.reqs.get(req);
            if r.parent == NONE {
                return r.user;
            }
            req = r.parent;
        }
    }

    fn enter_scope(&mut self, now: u64, req: u32, s: u32) {
        let r = *self.reqs.get(req);
        let sc = &self.programs[r.class as usize].scopes[s as usize];
        let (id, attempts) = (sc.id as usize, sc.attempts);
        self.scopes[id].entered += 1;
        let p = self.reqs.get_mut(req);
        p.tries_left = attempts - 1;
        p.in_fallback = false;
        p.sleep = 0;
        self.attempt(now, req, s);
    }

    /// Starts one attempt of scope `s` (the op `req` waits at), with its timeout, unless an
    /// open breaker or a full bulkhead refuses it.
    fn attempt(&mut self, now: u64, req: u32, s: u32) {
        let r = *self.reqs.get(req);
        let sc = &self.programs[r.class as usize].scopes[s as usize];
        let (id, body, timeout, policy) = (sc.id as usize, sc.body, sc.timeout, sc.policy);
        let retry = r.tries_left + 1 < sc.attempts;
        if let Some(b) = policy.breaker
            && !self.breakers[b as usize].allow(now)
        {
            // Open: fail fast, straight to the fallback.
            self.scopes[id].short_circuited += 1;
            return self.give_up(now, req, s, ErrorKind::Rejected);
        }
        if let Some(k) = policy.bulkhead
            && !self.bulkheads[k as usize].try_acquire()
        {
            self.scopes[id].bulkhead_full += 1;
            if let Some(b) = policy.breaker {
                // The breaker wraps the bulkhead: a full bulkhead is a failed call to it.
                self.breakers[b as usize].record(now, breaker::Outcome::Failure, 0);
            }
            return self.after_failure(now, req, s, ErrorKind::Rejected);
        }
        if let Some(k) = policy.budget {
            self.budgets[k as usize].start(retry);
        }
        self.scopes[id].attempts += 1;
        let deadline = attempt_deadline(&policy, timeout, r.deadline, now);
        let p = self.reqs.get_mut(req);
        p.pending = 1;
        p.started = now;
        if let Some(h) = policy.hedge {
            self.system_event(now.saturating_add(h), HEDGE, self.reqs.handle(req));
        }
        let child = self.launch(now, req, body, deadline, timeout);
        let p = self.reqs.get_mut(req);
        p.attempt_child = child;
        p.hedge_child = NONE;
        self.advance(now, child);
    }

    /// A child of `req` running a try's body, with its timeout; not started yet.
    fn launch(
        &mut self,
        now: u64,
        req: u32,
        body: u32,
        deadline: u64,
        timeout: Option<u64>,
    ) -> u32 {
        let child = self.spawn_later(req, body, deadline);
        if let Some(t) = timeout {
            self.system_event(
                now.saturating_add(t),
                SCOPE_TIMEOUT,
                self.reqs.handle(child),
            );
        }
        child
    }

    /// The hedge delay of an attempt passed: if that same attempt is still out, send a second
    /// copy.
    fn on_hedge(&mut self, now: u64, data: u64) {
        let Some(req) = self.reqs.resolve(data) else {
            return;
        };
        let r = *self.reqs.get(req);
        let Op::Try(s) = self.programs[r.class as usize].ops[r.pc as usize] else {
            return;
        };
        let sc = &self.programs[r.class as usize].scopes[s as usize];
        let (id, body, timeout, policy) = (sc.id as usize, sc.body, sc.timeout, sc.policy);
        let same_attempt = policy
            .hedge
            .is_some_and(|h| r.started.saturating_add(h) == now);
        if r.detached || r.in_fallback || r.pending != 1 || r.hedge_child != NONE || !same_attempt {
            return;
        }
        self.scopes[id].hedges += 1;
        let deadline = attempt_deadline(&policy, timeout, r.deadline, now);
        let child = self.launch(now, req, body, deadline, timeout);
        let p = self.reqs.get_mut(req);
        p.pending = 2;
        p.hedge_child = child;
        self.advance(now, child);
        self.drain(now);
    }

    /// The attempt `req` waits on at scope `s` ended (`error: None` for a success): the
    /// guards it passed learn the outcome.
    fn end_attempt(&mut self, now: u64, req: u32, s: u32, error: Option<ErrorKind>) {
        let r = *self.reqs.get(req);
        let sc = &self.programs[r.class as usize].scopes[s as usize];
        let policy = sc.policy;
        let retry = r.tries_left + 1 < sc.attempts;
        let took = now.saturating_sub(r.started);
        if let Some(b) = policy.breaker {
            let outcome = match error {
                None => breaker::Outcome::Success,
                Some(ErrorKind::Timeout) => breaker::Outcome::Timeout,
                Some(_) => breaker::Outcome::Failure,
            };
            self.breakers[b as usize].record(now, outcome, took);
        }
        if let Some(k) = policy.bulkhead {
            self.bulkheads[k as usize].release(took, error.is_none());
        }
        if let Some(k) = policy.budget {
            self.budgets[k as usize].end(retry, error.is_none());
        }
    }

    /// The request (or child) reached the end of its block.
    fn returned(&mut self, now: u64, req: u32) {
        let r = *self.reqs.get(req);
        if r.detached {
            return self.reqs.remove(req);
        }
        if let Some(kind) = r.failed {
            // A conditional write conflicted earlier in the block.
            self.reqs.get_mut(req).failed = None;
            return self.fail(now, req, kind);
        }
        if r.parent == NONE {
            if r.background {
                return self.background_done(now, req, None);
            }
            return self.finish(now, req, None);
        }
        if r.iterations > 0 {
            // The next iteration of a repeat's body.
            let body = self.repeat_body(r.class, r.parent);
            let c = self.reqs.get_mut(req);
            c.iterations -= 1;
            c.pc = body;
            return self.advance(now, req);
        }
        self.reqs.remove(req);
        self.child_returned(now, r.parent, req, None);
    }

    /// The first pc of the body of the repeat `parent` waits at.
    fn repeat_body(&self, class: u16, parent: u32) -> u32 {
        let p = self.reqs.get(parent);
        match self.programs[class as usize].ops[p.pc as usize] {
            Op::Repeat(k) => self.programs[class as usize].repeats[k as usize].1,
            other => unreachable!("a repeating child's parent waits at a repeat, not {other:?}"),
        }
    }

    /// A child of `parent` returned (`failed: None`) or failed.
    fn child_returned(&mut self, now: u64, parent: u32, child: u32, failed: Option<ErrorKind>) {
        let p = *self.reqs.get(parent);
        let op = self.programs[p.class as usize].ops[p.pc as usize];
        if let Op::Try(s) = op
            && p.pending > 1
        {
            // A hedged attempt: two copies are out.
            let other = if child == p.attempt_child {
                p.hedge_child
            } else {
                p.attempt_child
            };
            let pr = self.reqs.get_mut(parent);
            if failed.is_some() {
                // Wait for the other copy.
                pr.pending -= 1;
                pr.attempt_child = other;
                pr.hedge_child = NONE;
                return;
            }
            pr.pending = 1;
            pr.hedge_child = NONE;
            self.detach(other);
            if child != p.attempt_child {
                let id = self.programs[p.class as usize].scopes[s as usize].id as usize;
                self.scopes[id].hedge_wins += 1;
            }
        }
        if let Op::Pool(k) = op {
            // The body ended: give its connection back, then go on (or fail) as usual.
            let pool = self.programs[p.class as usize].pools[k as usize].0 as usize;
            self.pool_free(now, pool, p.instance, p.epoch, false);
        }
        match (op, failed) {
            (Op::Saga(k), failed) => self.saga_child(now, parent, k, failed),
            (Op::Fork(_), _) => {
                let pr = self.reqs.get_mut(parent);
                pr.pending -= 1;
                if let Some(k) = failed {
                    pr.failed.get_or_insert(k);
                }
                if pr.pending > 0 {
                    return;
                }
                match pr.failed.take() {
                    Some(k) => self.fail(now, parent, k),
                    None => self.next_op(now, parent),
                }
            }
            (Op::CacheLoad(k), failed) => {
                let read = &self.programs[p.class as usize].reads[k as usize];
                let in_flight = read.single_flight || read.stale_while_revalidate.is_some();
                let key = read.key(p.key);
                let version = self.tiers.load(key, now - p.mark);
                if in_flight {
                    self.end_flight(now, flight(p.class, k, key), parent, version, failed);
                }
                match failed {
                    None => {
                        self.reqs.get_mut(parent).version = version;
                        self.tiers.read(key, version, now);
                        self.next_op(now, parent)
                    }
                    Some(kind) => {
                        self.reqs.get_mut(parent).pending = 0;
                        self.fail(now, parent, kind)
                    }
                }
            }
            (Op::Try(s), Some(kind)) => self.scope_failed(now, parent, s, kind),
            (Op::Try(s), None) => {
                let id = self.programs[p.class as usize].scopes[s as usize].id as usize;
                if p.in_fallback {
                    self.scopes[id].fallback_ok += 1;
                } else {
                    self.scopes[id].succeeded += 1;
                    self.end_attempt(now, parent, s, None);
                }
                self.next_op(now, parent)
            }
            (_, Some(kind)) => {
                self.reqs.get_mut(parent).pending = 0;
                self.fail(now, parent, kind)
            }
            (_, None) => self.next_op(now, parent),
        }
    }

    /// Moves `req` past the op it waited at, unless it was detached meanwhile.
    fn next_op(&mut self, now: u64, req: u32) {
        let r = self.reqs.get_mut(req);
        r.pending = 0;
        if r.detached {
            return self.reqs.remove(req);
        }
        r.pc += 1;
        self.advance(now, req);
    }

    /// An attempt of scope `s` that `req` waits at failed with `kind` (or its fallback did):
    /// retry, fall back, or fail `req`.
    fn scope_failed(&mut self, now: u64, req: u32, s: u32, kind: ErrorKind) {
        let r = *self.reqs.get(req);
        if r.detached {
            return self.reqs.remove(req);
        }
        if r.in_fallback {
            let id = self.programs[r.class as usize].scopes[s as usize].id as usize;
            self.scopes[id].failed += 1;
            return self.fail(now, req, kind);
        }
        self.end_attempt(now, req, s, Some(kind));
        self.after_failure(now, req, s, kind);
    }

    /// After a failed (or refused) attempt: retry after the backoff when the policy, the
    /// budget and the deadline allow it, else give up.
    fn after_failure(&mut self, now: u64, req: u32, s: u32, kind: ErrorKind) {
        let r = *self.reqs.get(req);
        let sc = &self.programs[r.class as usize].scopes[s as usize];
        let (id, policy, attempts) = (sc.id as usize, sc.policy, sc.attempts);
        if r.tries_left == 0 {
            return self.give_up(now, req, s, kind);
        }
        if !policy.retry_on.contains(kind) {
            self.scopes[id].not_retried += 1;
            return self.give_up(now, req, s, kind);
        }
        if let Some(k) = policy.budget
            && !self.budgets[k as usize].allows_retry()
        {
            self.scopes[id].budget_denied += 1;
            return self.give_up(now, req, s, kind);
        }
        let n = attempts - r.tries_left;
        let sleep = policy.backoff.sleep(n, r.sleep, &mut self.backoff_rng);
        if r.deadline != u64::MAX && now.saturating_add(sleep) > r.deadline {
            // The caller's deadline would pass while sleeping: no point retrying.
            return self.give_up(now, req, s, ErrorKind::Timeout);
        }
        self.scopes[id].retries += 1;
        self.scopes[id].sleep_ns += sleep;
        let p = self.reqs.get_mut(req);
        p.tries_left -= 1;
        p.sleep = sleep;
        p.pending = 0;
        self.system_event(now.saturating_add(sleep), RETRY, self.reqs.handle(req));
    }

    /// A backoff sleep ended: the next attempt, unless the request was cut off meanwhile.
    fn on_retry(&mut self, now: u64, data: u64) {
        let Some(req) = self.reqs.resolve(data) else {
            return;
        };
        let r = *self.reqs.get(req);
        if r.detached {
            return self.reqs.remove(req);
        }
        let Op::Try(s) = self.programs[r.class as usize].ops[r.pc as usize] else {
            unreachable!("a retrying request waits at a try")
        };
        self.attempt(now, req, s);
        self.drain(now);
    }

    /// No (more) attempts: the fallback, or `req` fails with `kind`.
    fn give_up(&mut self, now: u64, req: u32, s: u32, kind: ErrorKind) {
        let r = *self.reqs.get(req);
        let sc = &self.programs[r.class as usize].scopes[s as usize];
        let (id, fallback) = (sc.id as usize, sc.fallback);
        match fallback {
            Some(pc) => {
                self.scopes[id].fallbacks += 1;
                let p = self.reqs.get_mut(req);
                p.in_fallback = true;
                p.pending = 1;
                self.spawn(now, req, pc, r.deadline);
            }
            None => {
                self.scopes[id].failed += 1;
                self.fail(now, req, kind)
            }
        }
    }

    /// A scope's attempt timed out: its caller gives up on it (the child goes on where it is,
    /// detached) and the scope handles a timeout.
    fn on_scope_timeout(&mut self, now: u64, data: u64) {
        let Some(child) = self.reqs.resolve(data) else {
            return;
        };
        let c = *self.reqs.get(child);
        if c.detached || c.parent == NONE {
            return;
        }
        let p = *self.reqs.get(c.parent);
        let Op::Try(s) = self.programs[p.class as usize].ops[p.pc as usize] else {
            return;
        };
        let id = self.programs[p.class as usize].scopes[s as usize].id as usize;
        self.scopes[id].timeouts += 1;
        self.detach(child);
        self.child_returned(now, c.parent, child, Some(ErrorKind::Timeout));
        self.drain(now);
    }

    /// `req` asks pool `p` of the instance it is at for a connection; with one, it runs the
    /// body at `body` as a child holding it.
    fn pool_acquire(&mut self, now: u64, req: u32, p: usize, body: u32) {
        let r = *self.reqs.get(req);
        let host = self.pools.spec(p).host as usize;
        if self.services[host].memory(r.instance) != Some(r.epoch) {
            // The instance it was at has crashed or stopped since (its slot may hold a new
            // life): its pool went with it, and a new life's pool is not this request's.
            return self.fail(now, req, ErrorKind::Connection);
        }
        let dead = self.pools.sync(p, r.instance, Some(r.epoch), now);
        self.fail_waiters(now, p, dead);
        match self.pools.acquire(p, r.instance, (req, r.generation), now) {
            Acquire::Granted => self.pool_enter(now, req, body),
            Acquire::Refused => self.fail(now, req, ErrorKind::Connection),
            Acquire::Wait { connect } => {
                self.reqs.get_mut(req).mark = now;
                if let Some(delay) = connect {
                    let data = pool_event(p, r.instance, r.epoch);
                    self.system_event(now.saturating_add(delay), POOL_CONNECTED, data);
                }
                if self.pools.spec(p).acquire_timeout == Some(0) {
                    self.pools.gave_up(p, now, true);
                    return self.fail(now, req, ErrorKind::Timeout);
                }
                // It gives up at its acquire timeout or just past its own deadline, whichever
                // comes first.
                let due = wait_limit(self.pools.spec(p).acquire_timeout, now, r.deadline);
                if due != u64::MAX {
                    let handle = self.reqs.handle(req);
                    self.system_event(due, POOL_TIMEOUT, handle);
                }
            }
        }
    }

    /// `req` holds a connection: its pool step's body runs as its child.
    fn pool_enter(&mut self, now: u64, req: u32, body: u32) {
        let deadline = self.reqs.get(req).deadline;
        self.reqs.get_mut(req).pending = 1;
        self.spawn(now, req, body, deadline);
    }

    /// The pool step `req` waits at for a connection (pool and body), if it still waits.
    fn pool_waiting(&self, req: u32) -> Option<(usize, u32)> {
        let r = self.reqs.get(req);
        match self.programs[r.class as usize].ops[r.pc as usize] {
            Op::Pool(k) if r.pending == 0 => {
                let (pool, body) = self.programs[r.class as usize].pools[k as usize];
                Some((pool as usize, body))
            }
            _ => None,
        }
    }

    /// A connection of pool `p` at `inst` (life `epoch`) is free, given back or just opened
    /// (`opened`): the first waiter still waiting takes it; waiters whose deadline passed
    /// fail as they are reached.
    fn pool_free(&mut self, now: u64, p: usize, inst: u32, epoch: u32, opened: bool) {
        let mut expired: Vec<u32> = Vec::new();
        let mut taker = None;
        {
            let (reqs, programs) = (&self.reqs, &self.programs);
            self.pools
                .free(p, inst, epoch, opened, now, |(slot, generation)| {
                    if !reqs.is_live(slot, generation) {
                        return Offer::Gone;
                    }
                    let r = reqs.get(slot);
                    if !matches!(programs[r.class as usize].ops[r.pc as usize], Op::Pool(_))
                        || r.pending != 0
                    {
                        return Offer::Gone;
                    }
                    if r.detached || now > r.deadline {
                        expired.push(slot);
                        return Offer::Expired;
                    }
                    taker = Some(slot);
                    Offer::Took(now - r.mark)
                });
        }
        for req in expired {
            self.fail(now, req, ErrorKind::Timeout);
        }
        if let Some(req) = taker
            && let Some((_, body)) = self.pool_waiting(req)
        {
            self.pool_enter(now, req, body);
        }
    }

    /// Waiters of an instance that is gone: those still waiting fail (their connection
    /// broke with the instance).
    fn fail_waiters(&mut self, now: u64, p: usize, waiters: Vec<Waiter>) {
        for (slot, generation) in waiters {
            if self.reqs.is_live(slot, generation) && self.pool_waiting(slot).is_some() {
                self.pools.gave_up(p, now, false);
                self.fail(now, slot, ErrorKind::Connection);
            }
        }
    }

    fn on_pool_connected(&mut self, now: u64, data: u64) {
        let (p, inst, epoch) = pool_event_parts(data);
        self.pool_free(now, p, inst, epoch, true);
        self.drain(now);
    }

    fn on_pool_timeout(&mut self, now: u64, handle: u64) {
        let Some(req) = self.reqs.resolve(handle) else {
            return;
        };
        let Some((p, _)) = self.pool_waiting(req) else {
            return;
        };
        // An event of an earlier wait of the same request (a pool step in a repeat) is not
        // this wait's: this one's is due at its own start plus the timeout, or past the
        // deadline.
        let r = self.reqs.get(req);
        let timeout = self.pools.spec(p).acquire_timeout;
        if wait_limit(timeout, r.mark, r.deadline) != now {
            return;
        }
        let acquire = timeout.is_some_and(|t| r.mark.saturating_add(t) == now);
        self.pools.gave_up(p, now, acquire);
        self.fail(now, req, ErrorKind::Timeout);
        self.drain(now);
    }

    fn on_pool_evict(&mut self, now: u64, p: usize) {
        let host = self.pools.spec(p).host as usize;
        let service = &self.services[host];
        let dead = self.pools.evict(p, now, |i| service.memory(i));
        self.fail_waiters(now, p, dead);
        self.drain(now);
        let next = now.saturating_add(self.pools.spec(p).evict);
        if next <= self.duration {
            self.system_event(next, POOL_EVICT, p as u64);
        }
    }

    /// Cuts `req` (and its descendants, which it waits for) from its parent.
    fn detach(&mut self, req: u32) {
        self.reqs.get_mut(req).detached = true;
    }

    /// `req` failed with `kind`: its parent handles it, or the request ends.
    fn fail(&mut self, now: u64, req: u32, kind: ErrorKind) {
        let r = *self.reqs.get(req);
        if r.detached {
            if r.pending == 0 {
                self.reqs.remove(req);
            }
            return;
        }
        if r.parent == NONE {
            if r.background {
                return self.background_done(now, req, Some(kind));
            }
            return self.finish(now, req, Some(kind));
        }
        self.reqs.remove(req);
        self.child_returned(now, r.parent, req, Some(kind));
    }

    /// Processes the outcomes components reported, including those that processing adds.
    #[inline]
    fn drain(&mut self, now: u64) {
        let mut i = 0;
        while i < self.out.len() {
            let o = self.out[i];
            i += 1;
            match o {
                Outcome::Done(req) => self.step_done(now, req),
                Outcome::Failed(req, kind) => self.fail(now, req, kind),
            }
        }
        self.out.clear();
    }

    /// `req`'s visit or delay ended.
    #[inline]
    fn step_done(&mut self, now: u64, req: u32) {
        let r = self.reqs.get_mut(req);
        if r.detached {
            return self.reqs.remove(req);
        }
        r.pc += 1;
        self.advance(now, req);
    }

    #[inline]
    fn finish(&mut self, now: u64, req: u32, error: Option<ErrorKind>) {
        let r = *self.reqs.get(req);
        self.reqs.remove(req);
        let error = error.or((now > r.deadline).then_some(ErrorKind::Timeout));
        match error {
            None => self.rec.complete(r.class, r.created, now),
            Some(kind) => self.rec.fail(r.class, kind, r.created, now),
        }
        if let Some(s) = &mut self.sessions {
            match s.page_done(now, r.job, now - r.created, error.is_some()) {
                Next::Page(think) => {
                    self.system_event(now.saturating_add(think), SESSION_WAKE, u64::from(r.job));
                    return;
                }
                // A closed-loop user thinks, then starts its next session.
                Next::Ended(NONE) => return,
                Next::Ended(_) => {}
            }
        }
        if r.user != NONE {
            let think = self
                .users
                .as_ref()
                .expect("closed workload")
                .think
                .sample_ns(&mut self.think_rng);
            self.system_event(now.saturating_add(think), USER_WAKE, u64::from(r.user));
        }
    }

    fn on_sample(&mut self, now: u64) {
        // Samples fall on multiples of the bucket, and the last one at the end of the run.
        let bucket_start = (now.saturating_sub(1) / self.bucket) * self.bucket;
        let width = (now - bucket_start).max(1) as f64;
        self.gauges.clear();
        for s in &mut self.services {
            s.sample(now, width, &mut self.gauges);
        }
        for b in &self.bulkheads {
            self.gauges.push(f64::from(b.limit()));
            self.gauges.push(f64::from(b.in_flight()));
        }
        for b in &mut self.breakers {
            self.gauges.push(match b.state(now) {
                breaker::State::Open | breaker::State::ForcedOpen => 1.0,
                breaker::State::HalfOpen => 0.5,
                _ => 0.0,
            });
        }
        self.tiers.sample(now, &mut self.gauges);
        self.dbs.sample(now, &mut self.gauges);
        self.pools.sample(now, width, &mut self.gauges);
        self.sagas.sample(&mut self.gauges);
        self.topics.sample(now, &mut self.gauges);
        self.regions.sample(now, &mut self.gauges);
        if let Some(s) = &self.sessions {
            self.gauges.push(s.active() as f64);
        }
        self.rec.sample_gauges(now, self.gauges.clone());
        if now < self.duration {
            let next = (now + self.bucket).min(self.duration);
            self.system_event(next, SAMPLE, 0);
        }
    }

    fn on_warmup_end(&mut self, now: u64) {
        for s in &mut self.services {
            s.mark_warm(now);
        }
        for c in &mut self.controllers {
            c.mark_warm(now);
        }
        self.warm_scopes = self.scopes.clone();
        self.warm_route_hits = self.route_hits.clone();
        self.warm_guards = self
            .bulkheads
            .iter()
            .map(|b| (b.admitted, b.rejected))
            .collect();
        self.warm_tables = self.tables.iter().map(|t| t.counts).collect();
        self.warm_breakers = self.breakers.iter().map(Breaker::metrics).collect();
        self.tiers.mark_warm();
        self.dbs.mark_warm();
        self.pools.mark_warm(now);
        self.sagas.mark_warm(now);
        self.topics.mark_warm(now);
        self.regions.mark_warm();
        if let Some(s) = &mut self.sessions {
            s.mark_warm();
        }
    }

    /// Named key switches: requests per arm after warm-up (`requests.0`, `requests.1`, ...)
    /// and `load_max_over_mean`, the busiest arm's requests over the mean (switches of the
    /// same name in several classes add up).
    fn router_stats(&self) -> Vec<ComponentStats> {
        let mut by_name: std::collections::BTreeMap<&str, Vec<u64>> = Default::default();
        for (c, prog) in self.programs.iter().enumerate() {
            for (k, name) in prog.route_names.iter().enumerate() {
                let Some(name) = name else { continue };
                let hits = &self.route_hits[c][k];
                let warm = self.warm_route_hits.get(c).and_then(|w| w.get(k));
                let acc = by_name.entry(name).or_insert_with(|| vec![0; hits.len()]);
                for (i, h) in hits.iter().enumerate() {
                    let before = warm.map_or(0, |w| w[i]);
                    if let Some(a) = acc.get_mut(i) {
                        *a += h - before;
                    }
                }
            }
        }
        by_name
            .into_iter()
            .map(|(name, hits)| {
                let total: u64 = hits.iter().sum();
                let mean = total as f64 / hits.len().max(1) as f64;
                let max = hits.iter().copied().max().unwrap_or(0) as f64;
                let mut metrics: Vec<(String, f64)> = hits
                    .iter()
                    .enumerate()
                    .map(|(i, h)| (format!("requests.{i}"), *h as f64))
                    .collect();
                metrics.push((
                    "load_max_over_mean".to_string(),
                    if mean > 0.0 { max / mean } else { 0.0 },
                ));
                ComponentStats {
                    name: name.to_string(),
                    kind: "router",
                    metrics,
                    ..ComponentStats::default()
                }
            })
            .collect()
    }

    fn gauge_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .services
            .iter()
            .flat_map(Service::gauge_names)
            .collect();
        for b in &self.spec_names.bulkheads {
            names.push(format!("limit.{b}"));
            names.push(format!("in_flight.{b}"));
        }
        for b in &self.spec_names.breakers {
            names.push(format!("open.{b}"));
        }
        names.extend(self.tiers.gauge_names());
        names.extend(self.dbs.gauge_names());
        let services: Vec<&str> = self.services.iter().map(Service::name).collect();
        names.extend(self.pools.gauge_names(&services));
        names.extend(self.sagas.gauge_names());
        names.extend(self.topics.gauge_names());
        names.extend(self.regions.gauge_names());
        if self.sessions.is_some() {
            names.push("sessions_active.sessions".to_string());
        }
        names
    }

    fn component_stats(&mut self) -> Vec<ComponentStats> {
        let window = self.duration.saturating_sub(self.warmup).max(1) as f64;
        let mut out: Vec<ComponentStats> = self
            .services
            .iter_mut()
            .map(|s| s.stats(self.duration, window))
            .collect();
        out.extend(self.controllers.iter().map(|c| ComponentStats {
            name: c.name().to_string(),
            kind: "controller",
            metrics: c.metrics(self.duration),
            ..ComponentStats::default()
        }));
        out.extend(self.router_stats());
        out.extend(self.tiers.metrics(self.duration - self.warmup));
        out.extend(self.dbs.metrics());
        for p in 0..self.pools.len() {
            out.push(ComponentStats {
                name: self.pools.spec(p).name.clone(),
                kind: "pool",
                metrics: self
                    .pools
                    .metrics(p, self.duration, window)
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
                ..ComponentStats::default()
            });
        }
        // Scopes of the same name (one dependency called from several classes) share a
        // component.
        let mut names: Vec<&str> = self.scope_names.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        let counts = |name: &str| {
            let mut c = ScopeCounts::default();
            for (k, _) in self
                .scope_names
                .iter()
                .enumerate()
                .filter(|(_, n)| *n == name)
            {
                c.add(&self.scopes[k], &self.warm_scopes[k]);
            }
            c
        };
        for name in names {
            out.push(ComponentStats {
                name: name.to_string(),
                kind: "scope",
                metrics: counts(name).metrics(),
                ..ComponentStats::default()
            });
        }
        let referenced = |f: fn(&CallPolicy) -> Option<u32>, k: usize| {
            self.programs
                .iter()
                .any(|p| p.scopes.iter().any(|s| f(&s.policy) == Some(k as u32)))
        };
        for d in &self.degrades {
            out.push(ComponentStats {
                name: d.name.clone(),
                kind: "degrade",
                metrics: degrade_metrics(d, &counts),
                ..ComponentStats::default()
            });
        }
        for (k, b) in self.bulkheads.iter().enumerate() {
            if !referenced(|p| p.bulkhead, k) {
                continue;
            }
            let (admitted, rejected) = (
                b.admitted - self.warm_guards[k].0,
                b.rejected - self.warm_guards[k].1,
            );
            out.push(ComponentStats {
                name: self.spec_names.bulkheads[k].clone(),
                kind: "bulkhead",
                metrics: vec![
                    ("admitted".into(), admitted as f64),
                    ("rejected".into(), rejected as f64),
                    (
                        "rejected_ratio".into(),
                        rejected as f64 / (admitted + rejected).max(1) as f64,
                    ),
                    ("limit_last".into(), f64::from(b.limit())),
                ],
                ..ComponentStats::default()
            });
        }
        for (k, b) in self.breakers.iter().enumerate() {
            if !referenced(|p| p.breaker, k) {
                continue;
            }
            let now: Vec<(&str, f64)> = b.metrics();
            let mut metrics: Vec<(String, f64)> = now
                .iter()
                .zip(&self.warm_breakers[k])
                .map(|((name, v), (_, w))| (name.to_string(), v - w))
                .collect();
            let get = |n: &str| metrics.iter().find(|m| m.0 == n).map_or(0.0, |m| m.1);
            let (calls, rejected) = (get("calls"), get("not_permitted"));
            metrics.push((
                "not_permitted_ratio".into(),
                rejected / (calls + rejected).max(1.0),
            ));
            out.push(ComponentStats {
                name: self.spec_names.breakers[k].clone(),
                kind: "breaker",
                metrics,
                ..ComponentStats::default()
            });
        }
        for (k, t) in self.tables.iter().enumerate() {
            let w = self.warm_tables[k];
            let (writes, conflicts) =
                (t.counts.writes - w.writes, t.counts.conflicts - w.conflicts);
            out.push(ComponentStats {
                name: self.spec_names.tables[k].clone(),
                kind: "table",
                metrics: vec![
                    ("reads".into(), (t.counts.reads - w.reads) as f64),
                    ("writes".into(), writes as f64),
                    ("conflicts".into(), conflicts as f64),
                    (
                        "conflict_ratio".into(),
                        conflicts as f64 / (writes + conflicts).max(1) as f64,
                    ),
                ],
                ..ComponentStats::default()
            });
        }
        let window = self.duration.saturating_sub(self.warmup) as f64;
        for (name, metrics) in self.sagas.metrics(self.duration, window) {
            out.push(ComponentStats {
                name,
                kind: "saga",
                metrics,
                ..ComponentStats::default()
            });
        }
        if let Some(s) = &self.sessions {
            out.push(ComponentStats {
                name: "sessions".to_string(),
                kind: "sessions",
                metrics: s.metrics(window),
                ..ComponentStats::default()
            });
        }
        if !self.regions.is_empty() {
            out.push(ComponentStats {
                name: "regions".to_string(),
                kind: "regions",
                metrics: self.regions.metrics(window),
                ..ComponentStats::default()
            });
        }
        for (name, kind, metrics) in self.topics.metrics(self.duration, window) {
            out.push(ComponentStats {
                name,
                kind,
                metrics,
                ..ComponentStats::default()
            });
        }
        out
    }

    /// Whole-run session totals (started, ended, abandoned, in progress), if any.
    pub fn session_totals(&self) -> Option<(u64, u64, u64, u64)> {
        self.sessions.as_ref().map(Sessions::totals)
    }

    /// Whole-run totals of saga `s` (started, completed, compensated, inconsistent, in
    /// progress) and of group `g` (published, consumed, dlq, queued, in flight, duplicates,
    /// redelivered): what the invariants tests check.
    pub fn flow_totals(&self) -> FlowTotals {
        (
            (0..self.sagas.len())
                .map(|s| self.sagas.totals(s))
                .collect(),
            self.topics.groups.iter().map(|g| g.totals()).collect(),
        )
    }

    /// Runs to the end of the horizon, then lets the flows finish without new arrivals (for
    /// invariants): returns the flow totals after the drain.
    pub fn run_and_drain(mut self, extra: u64) -> FlowTotals {
        self.run_drained(extra);
        self.flow_totals()
    }

    /// Runs to the end of the horizon, then `extra` ns more without new arrivals (so flows
    /// and sessions in progress finish).
    pub fn run_drained(&mut self, extra: u64) {
        let end = self.duration.saturating_add(extra);
        while let Some((t, ev)) = self.cal.pop() {
            if t.0 > end {
                break;
            }
            if t.0 > self.duration && ev.target == SYSTEM && matches!(ev.kind, ARRIVE | USER_WAKE) {
                continue;
            }
            self.dispatch(t.0, ev);
        }
    }

    // ---- sagas ------------------------------------------------------------------------------

    /// `req` reaches saga step `k`: it runs the first step's block.
    fn saga_start(&mut self, now: u64, req: u32, k: u32) {
        let r = *self.reqs.get(req);
        let (id, steps) = &self.programs[r.class as usize].sagas[k as usize];
        let (id, first) = (*id as usize, steps[0].run);
        self.sagas.start(id);
        let q = self.reqs.get_mut(req);
        q.attempt_child = 0;
        q.in_fallback = false;
        q.started = now;
        q.sleep = NO_HOLD;
        q.hit = false;
        q.mark = 0;
        self.saga_block(now, req, id, 0, first, false);
    }

    /// Runs block `pc` of step `step` of saga `id` for `req`: as its child (orchestrated), or
    /// as an event its participant's consumers take (choreographed).
    fn saga_block(&mut self, now: u64, req: u32, id: usize, step: usize, pc: u32, undo: bool) {
        let deadline = if undo {
            u64::MAX
        } else {
            self.reqs.get(req).deadline
        };
        self.reqs.get_mut(req).pending = 1;
        match self.sagas.config(id).participants.as_ref().map(|p| p[step]) {
            None => {
                self.spawn(now, req, pc, deadline);
            }
            Some(g) => {
                let (key, handle) = (self.reqs.get(req).key, self.reqs.handle(req));
                self.topics.groups[g as usize].send(now, key, (handle, pc, undo));
                self.group_dispatch(now, g as usize);
            }
        }
    }

    /// A block of the saga `req` runs returned (`failed: None`) or failed; in a choreography,
    /// the consumer that ran it is free again.
    fn saga_child(&mut self, now: u64, req: u32, k: u32, failed: Option<ErrorKind>) {
        let mark = self.reqs.get(req).mark;
        if mark == 0 {
            return self.saga_next(now, req, k, failed);
        }
        self.reqs.get_mut(req).mark = 0;
        let (g, c) = (((mark >> 32) - 1) as usize, mark as u32);
        self.topics.groups[g].processed(now, c, true, true);
        self.saga_next(now, req, k, failed);
        self.group_dispatch(now, g);
    }

    /// The saga `req` runs goes on after a block returned or failed.
    fn saga_next(&mut self, now: u64, req: u32, k: u32, failed: Option<ErrorKind>) {
        let p = *self.reqs.get(req);
        let (id, steps) = &self.programs[p.class as usize].sagas[k as usize];
        let (id, n) = (*id as usize, steps.len());
        let step = p.attempt_child as usize;
        let cfg = self.sagas.config(id);
        let (hold, attempts, backoff) = (cfg.hold, cfg.undo_attempts, cfg.undo_backoff);
        // The orchestrator kept the saga's state in the memory of the instance it was at.
        let crashed = cfg
            .orchestrator
            .is_some_and(|o| self.services[o as usize].memory(p.instance) != Some(p.epoch));
        let holding = (p.sleep != NO_HOLD).then_some(p.sleep);
        if !p.in_fallback {
            match failed {
                None => {
                    let mut holding = holding;
                    if let Some((from, to)) = hold {
                        if to == step
                            && let Some(since) = holding.take()
                        {
                            self.sagas.release(id, since, now);
                        }
                        if from == step {
                            self.sagas.take(id, now);
                            holding = Some(now);
                        }
                    }
                    self.reqs.get_mut(req).sleep = holding.unwrap_or(NO_HOLD);
                    if crashed {
                        return self.saga_end(
                            now,
                            req,
                            id,
                            saga::Outcome::Inconsistent,
                            Some(ErrorKind::Connection),
                        );
                    }
                    if step + 1 == n {
                        return self.saga_end(now, req, id, saga::Outcome::Completed, None);
                    }
                    let run = self.programs[p.class as usize].sagas[k as usize].1[step + 1].run;
                    self.reqs.get_mut(req).attempt_child = (step + 1) as u32;
                    self.saga_block(now, req, id, step + 1, run, false);
                }
                Some(kind) => {
                    self.sagas.failed_at(id, step);
                    if step == 0 {
                        return self.saga_end(now, req, id, saga::Outcome::Compensated, Some(kind));
                    }
                    if crashed {
                        return self.saga_end(
                            now,
                            req,
                            id,
                            saga::Outcome::Inconsistent,
                            Some(kind),
                        );
                    }
                    let q = self.reqs.get_mut(req);
                    q.in_fallback = true;
                    q.failed = Some(kind);
                    self.saga_undo(now, req, k, step - 1, attempts, false);
                }
            }
            return;
        }
        // Compensating `step`.
        match failed {
            None => {
                if let (Some((from, _)), Some(since)) = (hold, holding)
                    && from == step
                {
                    self.sagas.release(id, since, now);
                    self.reqs.get_mut(req).sleep = NO_HOLD;
                }
            }
            Some(_) if p.tries_left > 0 && !crashed => {
                self.reqs.get_mut(req).tries_left -= 1;
                let handle = self.reqs.handle(req);
                return self.system_event(now.saturating_add(backoff), SAGA_RETRY, handle);
            }
            Some(_) => {
                self.sagas.undo_failed(id);
                self.reqs.get_mut(req).hit = true;
            }
        }
        let kind = self.reqs.get(req).failed.unwrap_or(ErrorKind::Failed);
        if crashed {
            return self.saga_end(now, req, id, saga::Outcome::Inconsistent, Some(kind));
        }
        if step == 0 {
            let outcome = if self.reqs.get(req).hit {
                saga::Outcome::Inconsistent
            } else {
                saga::Outcome::Compensated
            };
            return self.saga_end(now, req, id, outcome, Some(kind));
        }
        self.saga_undo(now, req, k, step - 1, attempts, false);
    }

    /// Runs the compensation of `step` (`retry`: again).
    fn saga_undo(&mut self, now: u64, req: u32, k: u32, step: usize, attempts: u32, retry: bool) {
        let p = *self.reqs.get(req);
        let (id, steps) = &self.programs[p.class as usize].sagas[k as usize];
        let id = *id as usize;
        let undo = steps[step]
            .undo
            .expect("validation: every step but the last has undo");
        self.sagas.compensation(id, retry);
        let q = self.reqs.get_mut(req);
        q.attempt_child = step as u32;
        if !retry {
            q.tries_left = attempts.saturating_sub(1);
        }
        // The orchestrator finishes its compensations even when the client has left.
        self.saga_block(now, req, id, step, undo, true);
    }

    fn on_saga_retry(&mut self, now: u64, data: u64) {
        let Some(req) = self.reqs.resolve(data) else {
            return;
        };
        let r = *self.reqs.get(req);
        let Op::Saga(k) = self.programs[r.class as usize].ops[r.pc as usize] else {
            unreachable!("a compensation retry's request waits at its saga")
        };
        self.saga_undo(now, req, k, r.attempt_child as usize, 0, true);
        self.drain(now);
    }

    /// The saga `req` runs ends with `outcome`: the request goes on, or fails with `error`.
    fn saga_end(
        &mut self,
        now: u64,
        req: u32,
        id: usize,
        outcome: saga::Outcome,
        error: Option<ErrorKind>,
    ) {
        let q = self.reqs.get_mut(req);
        let holding = (q.sleep != NO_HOLD).then_some(q.sleep);
        let started = q.started;
        (q.sleep, q.failed, q.hit, q.in_fallback, q.attempt_child) =
            (NO_HOLD, None, false, false, NONE);
        // A completed saga whose hold ends with it (no `to` step reached) gives it back; an
        // inconsistent one leaks it.
        let leaked = match outcome {
            saga::Outcome::Inconsistent => holding,
            _ => {
                if let Some(since) = holding {
                    self.sagas.release(id, since, now);
                }
                None
            }
        };
        self.sagas.end(id, outcome, started, leaked, now);
        match error {
            None => self.next_op(now, req),
            Some(kind) => {
                self.reqs.get_mut(req).pending = 0;
                self.fail(now, req, kind)
            }
        }
    }

    // ---- consumer groups --------------------------------------------------------------------

    /// Looks at group `g`'s consumers: a crashed one's uncommitted messages go back to their
    /// partitions, one that left gracefully commits; fills `self.live` with the ready ones.
    fn group_check(&mut self, now: u64, g: usize) {
        let svc = self.topics.groups[g].spec.service as usize;
        let slots = self.services[svc].slots() as usize;
        let group = &mut self.topics.groups[g];
        if group.inflight.len() < slots {
            group.inflight.resize(slots, None);
            group.seen.resize(slots, None);
        }
        self.live.clear();
        for c in 0..slots as u32 {
            let s = &self.services[svc];
            let memory = s.memory(c);
            let group = &mut self.topics.groups[g];
            if let Some(e) = group.seen[c as usize]
                && memory != Some(e)
            {
                if s.is_down(c) || memory.is_some() {
                    if let Some(h) = group.crashed(now, c)
                        && let Some(r) = self.reqs.resolve(h)
                    {
                        self.reqs.get_mut(r).detached = true;
                    }
                } else {
                    group.commit_of(c);
                }
            }
            let group = &mut self.topics.groups[g];
            group.seen[c as usize] = memory;
            if self.services[svc].is_ready(c) {
                self.live.push(c);
            }
        }
        let live = self.live.len() as u32;
        self.topics.groups[g].set_live(now, live);
    }

    /// Hands group `g`'s idle live consumers their next messages.
    fn group_dispatch(&mut self, now: u64, g: usize) {
        if self.topics.groups[g].queued() > 0 {
            self.group_check(now, g);
            let n = self.live.len() as u32;
            let mut started = std::mem::take(&mut self.started);
            for k in 0..n {
                let c = self.live[k as usize];
                let group = &mut self.topics.groups[g];
                if group.inflight[c as usize].is_some() {
                    continue;
                }
                if let Some((p, msg)) = group.take(now, c, k, n) {
                    if let Some((h, pc, undo)) = msg.cont {
                        // A choreographed saga's event: its consumer runs the step's block as
                        // a child of the saga's request.
                        let Some(saga) = self.reqs.resolve(h) else {
                            let group = &mut self.topics.groups[g];
                            group.inflight[c as usize] = Some(InFlight {
                                msg,
                                partition: p,
                                handle: u64::MAX,
                            });
                            group.processed(now, c, true, true);
                            continue;
                        };
                        let deadline = if undo {
                            u64::MAX
                        } else {
                            self.reqs.get(saga).deadline
                        };
                        let child = self.spawn_later(saga, pc, deadline);
                        self.reqs.get_mut(saga).mark = ((g as u64 + 1) << 32) | u64::from(c);
                        let handle = self.reqs.handle(child);
                        self.topics.groups[g].inflight[c as usize] = Some(InFlight {
                            msg,
                            partition: p,
                            handle,
                        });
                        started.push(child);
                        continue;
                    }
                    let bg = self.reqs.insert(Request {
                        class: self.consumer_class + g as u16,
                        created: now,
                        key: msg.key,
                        background: true,
                        job: JOB_CONSUME | ((g as u32) << 16) | c,
                        ..Request::default()
                    });
                    let handle = self.reqs.handle(bg);
                    self.topics.groups[g].inflight[c as usize] = Some(InFlight {
                        msg,
                        partition: p,
                        handle,
                    });
                    started.push(bg);
                }
            }
            for &bg in &started {
                self.advance(now, bg);
            }
            started.clear();
            self.started = started;
        }
        self.update_backlog(g);
    }

    /// The consumers' service sees the messages waiting for them.
    fn update_backlog(&mut self, g: usize) {
        let svc = self.topics.groups[g].spec.service;
        let backlog: u64 = self
            .topics
            .groups
            .iter()
            .filter(|x| x.spec.service == svc)
            .map(|x| x.queued())
            .sum();
        self.services[svc as usize].set_backlog(backlog);
    }

    /// Consumer `c` of group `g` finished processing (`ok`) in the request `handle`.
    fn consumed(&mut self, now: u64, g: usize, c: u32, handle: u64, ok: bool) {
        let group = &self.topics.groups[g];
        if group.inflight[c as usize].map(|f| f.handle) != Some(handle) {
            // Abandoned: its consumer crashed and the message was delivered again.
            return;
        }
        let svc = group.spec.service as usize;
        let ready = self.services[svc].is_ready(c);
        self.topics.groups[g].processed(now, c, ok, ok || ready);
        self.group_dispatch(now, g);
    }

    fn on_group_poll(&mut self, now: u64, g: usize) {
        self.group_check(now, g);
        self.topics.groups[g].maybe_commit(now);
        self.group_dispatch(now, g);
        self.drain(now);
        let poll = self.topics.groups[g].spec.poll;
        self.system_event(now.saturating_add(poll), GROUP_POLL, g as u64);
    }
}

/// Per service: the hidden class of its replays and its database, when it is a replica (a
/// replay visit takes the database's `replay` time: see [`super::databases`]).
fn replay_classes(spec: &SystemSpec) -> Vec<Option<(usize, usize)>> {
    let mut out = vec![None; spec.services.len()];
    for (d, db) in spec.shared.databases.iter().enumerate() {
        for &r in &db.replicas {
            out[r as usize] = Some((spec.classes.len() + d, d));
        }
    }
    out
}

/// The flight of `key` at read `read` of class `class`: loads are coalesced per read step
/// (a nested read of the same key, a CDN edge over a shield, has its own flights).
/// When a wait for a connection that started at `since` ends unserved: at the pool's acquire
/// timeout or just past the request's deadline (`u64::MAX`: never).
fn wait_limit(acquire_timeout: Option<u64>, since: u64, deadline: u64) -> u64 {
    let acquire = acquire_timeout.map_or(u64::MAX, |t| since.saturating_add(t));
    acquire.min(deadline.saturating_add(1))
}

/// A pool event's data: pool (12 bits), instance slot (20 bits), the instance's life.
fn pool_event(p: usize, inst: u32, epoch: u32) -> u64 {
    (p as u64) << 52 | u64::from(inst & 0xF_FFFF) << 32 | u64::from(epoch)
}

fn pool_event_parts(data: u64) -> (usize, u32, u32) {
    (
        (data >> 52) as usize,
        ((data >> 32) & 0xF_FFFF) as u32,
        data as u32,
    )
}

fn flight(class: u16, read: u32, key: u64) -> u64 {
    (u64::from(class) << 48) | (u64::from(read & 0xFFFF) << 32) | (key & 0xFFFF_FFFF)
}

/// The deadline an attempt carries to the servers it visits: the earlier of the caller's and
/// the per-attempt timeout, or none when the scope does not propagate deadlines.
fn attempt_deadline(policy: &CallPolicy, timeout: Option<u64>, caller: u64, now: u64) -> u64 {
    if !policy.propagate_deadline {
        return u64::MAX;
    }
    timeout.map_or(caller, |t| caller.min(now.saturating_add(t)))
}

/// A degradation chain's metrics from its levels' scope counters: `served_by_level.NAME`
/// (share of the chain's calls that level answered), `unserved` (share that failed even
/// the last level) and `quality_goodput` (the quality-weighted share served).
fn degrade_metrics(d: &DegradeSpec, counts: &impl Fn(&str) -> ScopeCounts) -> Vec<(String, f64)> {
    let first = d.levels.first().map_or(0, |l| counts(&l.0).entered);
    let calls = first.max(1) as f64;
    let mut out = Vec::new();
    let mut quality = 0.0;
    let mut served_all = 0.0;
    for (scope, level, q) in &d.levels {
        let served = counts(scope).succeeded as f64 / calls;
        served_all += served;
        quality += q * served;
        out.push((format!("served_by_level.{level}"), served));
    }
    out.push(("unserved".into(), (1.0 - served_all).max(0.0)));
    out.push(("quality_goodput".into(), quality));
    out.push(("calls".into(), first as f64));
    out
}
