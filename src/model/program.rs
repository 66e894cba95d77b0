//! A class's path as a small compiled program.
//!
//! Users write a path as a tree of [`Step`]s: visits, delays, probabilistic branches, a switch
//! on the request key, repeats, forks with a join, and `try` scopes that retry a sub-path, give
//! up on it after a timeout, or replace it with a fallback. Each class's tree compiles into a
//! flat array of [`Op`]s; a request carries a program counter into it.
//!
//! Layout: the class's main block comes first (pc 0) and ends with `Return`. A branch or key
//! switch is inline: its arms follow it, each ending with a `Jump` past the last arm. A
//! fork's arms, a repeat's body, a try's body and its fallback are separate blocks after the
//! main one, each ending with `Return`; the system runs them as child requests of the request
//! that reached the op, which waits at that op until they return. So one mechanism (a child
//! that returns, or fails, to its parent) carries joins, loops, retries, timeouts and
//! fallbacks, and a failure inside a scope goes to that scope's handler instead of ending the
//! request.
//!
//! ```text
//! path = ["app", { try = ["payments"], attempts = 2, fallback = [{ delay = "1ms" }] }, "db"]
//!
//!  0 Visit app        3 Return           5 Return  (body)         7 Return  (fallback)
//!  1 Try #0 ──────────────────────────► 4 Visit payments         6 Delay 1ms
//!  2 Visit db
//! ```

use super::dist::Dist;
use super::resilience::Backoff;
use super::tiers::{Behind, Fill, ReadSpec, WritePolicy, WriteSpec};
use crate::engine::Rng;
use crate::observe::ErrorSet;

/// One step of a path as the scenario describes it.
#[derive(Debug, Clone)]
pub enum Step {
    /// Visit node (service) `i`.
    Visit(u32),
    /// A pure delay (a network hop, a call without contention).
    Delay(Dist),
    /// Run the arms in parallel; continue when all have returned (fail if any failed).
    Fork(Vec<Vec<Step>>),
    /// Take arm `k` with probability `p_k`; with the remaining probability, skip.
    Branch(Vec<(f64, Vec<Step>)>),
    /// Take the arm the router picks for the request's key (shards, partitions); a named
    /// switch reports the requests each arm got.
    ByKey(KeyRoute, Vec<Vec<Step>>, Option<String>),
    /// Run the body `count` times in sequence (N+1 queries, pages).
    Repeat(Count, Vec<Step>),
    /// A scope: attempts, a timeout per attempt, and a fallback.
    Try(Box<TrySpec>),
    /// Read the version of the request key's row in table `i` (optimistic concurrency).
    ReadVersion(u32),
    /// Write the request key's row in table `i` if its version is still the one read; fail
    /// with a conflict otherwise.
    WriteIf(u32),
    /// Read the request key through cache tiers, loading it on a miss everywhere.
    CacheRead(Box<ReadSpec>),
    /// Write the request key, keeping cache tiers in step.
    CacheWrite(Box<WriteSpec>),
    /// Read the request key from replicated database `i` (primary or a replica, as its
    /// router picks).
    DbRead(u32),
    /// Write the request key on replicated database `i`'s primary.
    DbWrite(u32),
    /// Take a connection of pool `i` (of the instance the request is at), run the sub-path
    /// holding it, give it back.
    Pool(u32, Vec<Step>),
    /// Visit a database node with a query whose cost depends on the rows it reads.
    Query(Box<QuerySpec>),
    /// A saga ([`super::saga`]): its global index and each step's forward and compensation
    /// sub-paths.
    Saga(u32, Vec<(Vec<Step>, Option<Vec<Step>>)>),
    /// Publish a message to topic `i` ([`super::topics`]) and go on once the broker has it.
    Publish(u32),
    /// Send the request to a region ([`super::regions`]): per region, its arm (`None`: the
    /// region serves none of this), and the kilobytes a response carries across regions.
    Geo(Vec<Option<Vec<Step>>>, f64),
    /// Pay the RTT from the region serving the request to region `0`, carrying `1` KB.
    Rtt(u16, f64),
}

/// How a query finds its rows: what it reads to return `rows` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// Through an index: reads the rows it returns.
    Index,
    /// `ORDER BY id LIMIT n OFFSET page * n`: reads and discards the rows of every page
    /// before (the database cannot jump to an offset).
    Offset,
    /// `WHERE id > cursor ORDER BY id LIMIT n`: an index seek, then the page's rows.
    Cursor,
    /// No usable index: reads the whole table.
    Seq,
}

impl Scan {
    /// Every scan, by its name in scenarios.
    pub const ALL: [(&'static str, Scan); 4] = [
        ("index", Scan::Index),
        ("offset", Scan::Offset),
        ("cursor", Scan::Cursor),
        ("seq", Scan::Seq),
    ];
}

/// A query step: `{ query = "pg", scan = "offset", rows = 20, page = { dist = "geometric",
/// mean = 10 }, row_cost = "0.4us" }`. The visit's service time is the node's own (parsing,
/// planning, the round trip inside the server) plus `row_cost` per row read:
///
/// | scan | rows read |
/// |---|---|
/// | `index`, `cursor` | `rows` |
/// | `offset` | `(page + 1) * rows` (page 0 is the first) |
/// | `seq` | `table` |
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySpec {
    /// The node (service) visited.
    pub node: u32,
    /// How rows are found.
    pub scan: Scan,
    /// Rows returned (a page's size).
    pub rows: Count,
    /// The page number, from 0 (`offset` and `cursor`).
    pub page: Count,
    /// Rows in the table (`seq`).
    pub table: u64,
    /// Cost of reading one row, ns.
    pub row_ns: f64,
}

impl QuerySpec {
    /// Rows the query reads, for `rows` returned at page `page`.
    #[inline]
    pub fn rows_read(&self, rows: u32, page: u32) -> u64 {
        match self.scan {
            Scan::Index | Scan::Cursor => u64::from(rows),
            Scan::Offset => (u64::from(page) + 1) * u64::from(rows),
            Scan::Seq => self.table,
        }
    }

    /// Draws the extra work of one execution, ns.
    #[inline]
    pub fn work(&self, rng: &mut Rng) -> u64 {
        let rows = self.rows.sample(rng);
        let page = match self.scan {
            Scan::Offset => self.page.sample(rng),
            _ => 0,
        };
        (self.rows_read(rows, page) as f64 * self.row_ns).round() as u64
    }
}

/// A `try` scope.
#[derive(Debug, Clone)]
pub struct TrySpec {
    /// Name (its metrics go to a component of this name).
    pub name: String,
    /// The sub-path.
    pub body: Vec<Step>,
    /// Attempts in all (1: no retry).
    pub attempts: u32,
    /// Per-attempt timeout, ns: the caller gives up (the callee may go on working).
    pub timeout: Option<u64>,
    /// Run instead when every attempt failed; `None` fails the request.
    pub fallback: Option<Vec<Step>>,
    /// How failed attempts are retried, and what guards the call.
    pub policy: CallPolicy,
}

/// What a try scope does between and around its attempts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallPolicy {
    /// The errors that are retried (others go to the fallback at once).
    pub retry_on: ErrorSet,
    /// Sleep before each retry.
    pub backoff: Backoff,
    /// Retry budget (index into the system's budgets).
    pub budget: Option<u32>,
    /// Circuit breaker (index into the system's breakers).
    pub breaker: Option<u32>,
    /// Bulkhead (index into the system's bulkheads).
    pub bulkhead: Option<u32>,
    /// Whether an attempt carries its deadline to the servers it visits, so that they drop it
    /// unserved once the caller gave up (gRPC deadline propagation). Without it a server
    /// works on abandoned attempts, which is what makes retries expensive.
    pub propagate_deadline: bool,
    /// Send a second copy of an attempt still outstanding after this long, ns; the first
    /// answer wins and the other copy is abandoned (it finishes its current visit).
    pub hedge: Option<u64>,
}

impl Default for CallPolicy {
    fn default() -> CallPolicy {
        CallPolicy {
            retry_on: ErrorSet::ALL,
            backoff: Backoff::None,
            budget: None,
            breaker: None,
            bulkhead: None,
            propagate_deadline: true,
            hedge: None,
        }
    }
}

/// How many times a repeat runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Count {
    /// Exactly n.
    Fixed(u32),
    /// Uniform on `lo..=hi`.
    Uniform(u32, u32),
    /// Geometric on 0, 1, 2, ... with this mean.
    Geometric(f64),
    /// Poisson with this mean.
    Poisson(f64),
}

impl Count {
    /// Draws a count.
    pub fn sample(&self, rng: &mut Rng) -> u32 {
        match *self {
            Count::Fixed(n) => n,
            Count::Uniform(lo, hi) => lo + rng.below(u64::from(hi - lo) + 1) as u32,
            Count::Geometric(mean) => {
                // P(N >= k) = q^k with q = mean / (1 + mean).
                let q = mean / (1.0 + mean);
                if q <= 0.0 {
                    return 0;
                }
                (rng.next_open01().ln() / q.ln()).floor().min(1e9) as u32
            }
            Count::Poisson(mean) => poisson(mean, rng),
        }
    }

    /// The mean count.
    pub fn mean(&self) -> f64 {
        match *self {
            Count::Fixed(n) => f64::from(n),
            Count::Uniform(lo, hi) => (f64::from(lo) + f64::from(hi)) / 2.0,
            Count::Geometric(m) | Count::Poisson(m) => m,
        }
    }
}

/// An upper bound of the ops one request runs along `path` (a repeat counts its largest
/// count, or ten times its mean for unbounded counts; a try all its attempts and its
/// fallback). Validation refuses paths that would run absurdly many.
pub fn ops_bound(path: &[Step]) -> f64 {
    path.iter()
        .map(|s| match s {
            Step::Visit(_) | Step::Delay(_) | Step::ReadVersion(_) | Step::WriteIf(_) => 1.0,
            Step::DbRead(_) | Step::DbWrite(_) => 2.0,
            Step::Query(_) | Step::Publish(_) | Step::Rtt(..) => 1.0,
            Step::Geo(arms, _) => {
                2.0 + arms
                    .iter()
                    .flatten()
                    .map(|a| ops_bound(a))
                    .fold(0.0, f64::max)
            }
            Step::Saga(_, steps) => {
                1.0 + steps
                    .iter()
                    .map(|(run, undo)| ops_bound(run) + undo.as_deref().map_or(0.0, ops_bound))
                    .sum::<f64>()
            }
            Step::Pool(_, body) => 1.0 + ops_bound(body),
            Step::Fork(arms) => 1.0 + arms.iter().map(|a| ops_bound(a)).sum::<f64>(),
            Step::Branch(arms) => 1.0 + arms.iter().map(|(_, a)| ops_bound(a)).fold(0.0, f64::max),
            Step::ByKey(_, arms, _) => 1.0 + arms.iter().map(|a| ops_bound(a)).fold(0.0, f64::max),
            Step::Repeat(count, body) => {
                let n = match *count {
                    Count::Fixed(n) => f64::from(n),
                    Count::Uniform(_, hi) => f64::from(hi),
                    Count::Geometric(m) | Count::Poisson(m) => 10.0 * m + 10.0,
                };
                1.0 + n * ops_bound(body)
            }
            Step::Try(t) => {
                1.0 + f64::from(t.attempts) * ops_bound(&t.body)
                    + t.fallback.as_deref().map_or(0.0, ops_bound)
            }
            Step::CacheRead(r) => 1.0 + 4.0 * r.tiers.len() as f64 + ops_bound(&r.load),
            Step::CacheWrite(w) => 3.0 + 2.0 * w.tiers.len() as f64 + ops_bound(&w.store),
        })
        .sum()
}

/// Knuth's multiplication method for small means, a normal approximation above 500.
fn poisson(mean: f64, rng: &mut Rng) -> u32 {
    if mean > 500.0 {
        let u1 = rng.next_open01();
        let u2 = rng.next_f64();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        return (mean + mean.sqrt() * z).round().max(0.0) as u32;
    }
    let limit = (-mean).exp();
    let (mut k, mut p) = (0u32, rng.next_f64());
    while p > limit {
        k += 1;
        p *= rng.next_f64();
    }
    k
}

/// How a key picks one of `n` arms.
#[derive(Debug, Clone)]
pub enum KeyRoute {
    /// A hash of the key, modulo the arms.
    Hash,
    /// Contiguous equal ranges of the key space `0..keys`.
    Range {
        /// Size of the key space.
        keys: u64,
    },
    /// A shard router ([`super::shard`]): letter ranges over real names' first letters,
    /// hash mod N, consistent hashing with virtual nodes, jump hash. Its shard count is the
    /// number of arms.
    Shard(Box<super::shard::Router>),
}

impl KeyRoute {
    /// The arm of `key` among `n`.
    #[inline]
    pub fn arm(&self, key: u64, n: usize) -> usize {
        match self {
            KeyRoute::Hash => (super::balance::hash64(key) % n as u64) as usize,
            &KeyRoute::Range { keys } => {
                ((u128::from(key.min(keys - 1)) * n as u128) / u128::from(keys.max(1))) as usize
            }
            KeyRoute::Shard(r) => r.owner(key).min(n - 1),
        }
    }
}

/// One instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Visit node `n`; continue when the visit is done.
    Visit(u32),
    /// Wait a delay drawn from `dists[i]`.
    Delay(u32),
    /// Continue at pc.
    Jump(u32),
    /// Probabilistic branch: table `branches[i]`.
    Branch(u32),
    /// Switch on the key: table `routes[i]`.
    Route(u32),
    /// Fork/join: arm blocks `forks[i]`.
    Fork(u32),
    /// Repeat: `repeats[i]`.
    Repeat(u32),
    /// A try scope: `scopes[i]`.
    Try(u32),
    /// Read the version of the key's row in table `i`.
    ReadVersion(u32),
    /// Conditional write of the key's row in table `i`.
    WriteIf(u32),
    /// Start the lookup `gets[i]`: an in-process tier answers here (and the lookup time
    /// passes); a shared tier's visit follows.
    CacheGet(u32),
    /// End the lookup `gets[i]` (a shared tier answers here): on a hit, jump to its target
    /// (the fills of the tiers above).
    CacheHit(u32),
    /// Load the key (`reads[i]`): a child runs the load block, or the request waits for the
    /// load in flight.
    CacheLoad(u32),
    /// Store the version read in the tier of `gets[i]`.
    CacheFill(u32),
    /// Run the store block of `writes[i]` as a child.
    WriteStore(u32),
    /// Acknowledge the write of `writes[i]`: the key's new version.
    WriteCommit(u32),
    /// Keep a tier in step with the write: `write_tiers[i]`.
    WriteTier(u32),
    /// Queue the write for the write-behind worker of `writes[i]`.
    WriteQueue(u32),
    /// Route a read of database `i` and visit the node's service.
    DbRead(u32),
    /// The read's visit ended: the model judges it fresh or stale (or the node is gone).
    DbReadEnd(u32),
    /// Take a connection of `pools[i]`, then run its body as a child holding it; give it back
    /// when the child returns or fails.
    Pool(u32),
    /// Visit a node with the query `queries[i]`.
    Query(u32),
    /// Run saga `sagas[i]`: its steps' blocks as children, one at a time.
    Saga(u32),
    /// Publish to topic `i` (the request waits for the broker's acknowledgement).
    Publish(u32),
    /// A consumer of group `i` (a hidden class): its message's processing visit, at the
    /// consumer's own instance.
    Consume(u32),
    /// Pick the region serving the request (`geos[i]`) and pay the RTT to it.
    Geo(u32),
    /// Go to the arm of the region picked.
    GeoArm(u32),
    /// Pay the RTT of `rtts[i]`.
    Rtt(u32),
    /// Visit database `i`'s primary for a write (refused at once while it is down).
    DbWrite(u32),
    /// Commit the write and ship it; with a quorum, wait for its acknowledgement.
    DbCommit(u32),
    /// A replay worker of database `i` (a hidden class): visit the replica with the next
    /// record, or stop when there is none.
    Replay(u32),
    /// The record is replayed; go on with the next one.
    Replayed(u32),
    /// End of a block: the request (or child) returns.
    Return,
}

/// A probabilistic branch: cumulative probabilities, the arms' first pcs, and the pc after the
/// last arm (taken with the remaining probability).
#[derive(Debug, Clone, PartialEq)]
pub struct BranchTable {
    /// Cumulative probabilities (the last may be below 1).
    pub cumulative: Vec<f64>,
    /// First pc of each arm.
    pub arms: Vec<u32>,
    /// The pc after the branch.
    pub end: u32,
}

/// A compiled try scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    /// Global scope index (into the system's scope counters).
    pub id: u32,
    /// First pc of the body block.
    pub body: u32,
    /// Attempts in all.
    pub attempts: u32,
    /// Per-attempt timeout, ns.
    pub timeout: Option<u64>,
    /// First pc of the fallback block.
    pub fallback: Option<u32>,
    /// Retries and guards.
    pub policy: CallPolicy,
}

/// A compiled path.
#[derive(Debug, Clone, Default)]
pub struct Program {
    /// Instructions; the main block starts at 0.
    pub ops: Vec<Op>,
    /// Delay distributions.
    pub dists: Vec<Dist>,
    /// Probabilistic branches.
    pub branches: Vec<BranchTable>,
    /// Key switches: the router and each arm's first pc, plus the pc after.
    pub routes: Vec<(KeyRoute, Vec<u32>, u32)>,
    /// Each key switch's name, when it reports its arms' requests.
    pub route_names: Vec<Option<String>>,
    /// Fork arm blocks.
    pub forks: Vec<Vec<u32>>,
    /// Repeats: count and body block.
    pub repeats: Vec<(Count, u32)>,
    /// Try scopes.
    pub scopes: Vec<Scope>,
    /// Reads through cache tiers.
    pub reads: Vec<ReadOp>,
    /// Tier lookups of those reads.
    pub gets: Vec<GetOp>,
    /// Writes through cache tiers.
    pub writes: Vec<WriteOp>,
    /// Per write and tier: (write, tier).
    pub write_tiers: Vec<(u32, u32)>,
    /// Pool steps: the pool (global index) and the body block.
    pub pools: Vec<(u32, u32)>,
    /// Query steps.
    pub queries: Vec<QuerySpec>,
    /// Saga steps: the saga (global index) and each step's blocks.
    pub sagas: Vec<(u32, Vec<super::saga::StepPcs>)>,
    /// Geo steps: per region, its arm's first pc; and the kilobytes of a response.
    pub geos: Vec<(Vec<Option<u32>>, f64)>,
    /// RTT hops: the region and the kilobytes.
    pub rtts: Vec<(u16, f64)>,
}

/// A compiled read through tiers.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOp {
    /// Tiers in lookup order.
    pub tiers: Vec<u32>,
    /// First pc of the load block.
    pub load: u32,
    /// Who fills.
    pub fill: Fill,
    /// Misses of one key wait for the load in flight.
    pub single_flight: bool,
    /// XFetch's beta.
    pub early_refresh: Option<f64>,
    /// Grace past expiry, ns.
    pub stale_while_revalidate: Option<u64>,
    /// Every tier's fill op, in lookup order (a background refresh fills them all).
    pub fills: Vec<u32>,
    /// The cached entry is the request key modulo this (0: the key itself).
    pub key_mod: u64,
}

impl ReadOp {
    /// The entry a request key reads.
    #[inline]
    pub fn key(&self, key: u64) -> u64 {
        if self.key_mod == 0 {
            key
        } else {
            key % self.key_mod
        }
    }
}

/// One tier lookup of a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetOp {
    /// The read (index into `reads`).
    pub read: u32,
    /// The tier.
    pub tier: u32,
    /// Where a hit continues: the fill of the tier above, or past the read.
    pub on_hit: u32,
}

/// A compiled write through tiers.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteOp {
    /// Policy.
    pub policy: WritePolicy,
    /// First pc of the store block.
    pub store: u32,
    /// Its write-behind queue (global index).
    pub queue: u32,
}

/// A write-behind queue as the paths declare it: name, the class and store pc its flushes
/// run, and its worker.
pub type QueueDecl = (String, (u16, u32), Option<Behind>);

/// A block compiled later, and where its first pc goes.
#[derive(Clone, Copy)]
enum Patch {
    Fork(usize, usize),
    Repeat(usize),
    Body(usize),
    Fallback(usize),
    Load(usize),
    Store(usize),
    Pool(usize),
    SagaRun(usize, usize),
    SagaUndo(usize, usize),
}

/// Compiles `path`; try scopes are numbered from `first_scope` and their names listed in
/// `scope_names` in that order.
pub fn compile(path: &[Step], first_scope: u32, scope_names: &mut Vec<String>) -> Program {
    compile_class(path, 0, first_scope, scope_names, &mut Vec::new(), &[])
}

/// [`compile`] for class `class`, whose write-behind steps join the queues of `queues` by
/// name (declaring new ones); `tier_services[t]` is the service shared tier `t` is reached
/// through (`None` for an in-process tier).
pub fn compile_class(
    path: &[Step],
    class: u16,
    first_scope: u32,
    scope_names: &mut Vec<String>,
    queues: &mut Vec<QueueDecl>,
    tier_services: &[Option<u32>],
) -> Program {
    let mut c = Compiler {
        p: Program::default(),
        pending: Vec::new(),
        next_scope: first_scope,
        names: scope_names,
        queues,
        class,
        tier_services,
    };
    c.block(path);
    // Deferred blocks in the order they were met (their own deferred blocks go to the end).
    let mut k = 0;
    while k < c.pending.len() {
        let (steps, patch) = (c.pending[k].0, c.pending[k].1);
        let pc = c.block(steps);
        match patch {
            Patch::Fork(f, arm) => c.p.forks[f][arm] = pc,
            Patch::Repeat(r) => c.p.repeats[r].1 = pc,
            Patch::Body(s) => c.p.scopes[s].body = pc,
            Patch::Fallback(s) => c.p.scopes[s].fallback = Some(pc),
            Patch::Load(r) => c.p.reads[r].load = pc,
            Patch::Pool(k) => c.p.pools[k].1 = pc,
            Patch::SagaRun(k, i) => c.p.sagas[k].1[i].run = pc,
            Patch::SagaUndo(k, i) => c.p.sagas[k].1[i].undo = Some(pc),
            Patch::Store(w) => {
                c.p.writes[w].store = pc;
                let q = &mut c.queues[c.p.writes[w].queue as usize];
                if q.1 == (u16::MAX, 0) {
                    q.1 = (c.class, pc);
                }
            }
        }
        k += 1;
    }
    c.p
}

struct Compiler<'a, 'n> {
    p: Program,
    pending: Vec<(&'a [Step], Patch)>,
    next_scope: u32,
    names: &'n mut Vec<String>,
    queues: &'n mut Vec<QueueDecl>,
    class: u16,
    tier_services: &'n [Option<u32>],
}

impl<'a> Compiler<'a, '_> {
    fn pc(&self) -> u32 {
        self.p.ops.len() as u32
    }

    fn emit(&mut self, op: Op) -> usize {
        self.p.ops.push(op);
        self.p.ops.len() - 1
    }

    /// Compiles a block ending with `Return`; returns its first pc.
    fn block(&mut self, steps: &'a [Step]) -> u32 {
        let start = self.pc();
        self.seq(steps);
        self.emit(Op::Return);
        start
    }

    fn seq(&mut self, steps: &'a [Step]) {
        for s in steps {
            self.step(s);
        }
    }

    fn step(&mut self, s: &'a Step) {
        match s {
            Step::Visit(n) => {
                self.emit(Op::Visit(*n));
            }
            Step::Delay(d) => {
                self.p.dists.push(d.clone());
                self.emit(Op::Delay(self.p.dists.len() as u32 - 1));
            }
            Step::Fork(arms) => {
                let f = self.p.forks.len();
                self.p.forks.push(vec![0; arms.len()]);
                for (k, a) in arms.iter().enumerate() {
                    self.pending.push((a, Patch::Fork(f, k)));
                }
                self.emit(Op::Fork(f as u32));
            }
            Step::ReadVersion(t) => {
                self.emit(Op::ReadVersion(*t));
            }
            Step::WriteIf(t) => {
                self.emit(Op::WriteIf(*t));
            }
            Step::Branch(arms) => self.branch(arms),
            Step::ByKey(route, arms, name) => self.route(route.clone(), arms, name.clone()),
            Step::Repeat(count, body) => {
                let r = self.p.repeats.len();
                self.p.repeats.push((*count, 0));
                self.pending.push((body, Patch::Repeat(r)));
                self.emit(Op::Repeat(r as u32));
            }
            Step::Try(t) => {
                let s = self.p.scopes.len();
                self.p.scopes.push(Scope {
                    id: self.next_scope,
                    body: 0,
                    attempts: t.attempts.max(1),
                    timeout: t.timeout,
                    fallback: None,
                    policy: t.policy,
                });
                self.next_scope += 1;
                self.names.push(t.name.clone());
                self.pending.push((&t.body, Patch::Body(s)));
                if let Some(f) = &t.fallback {
                    self.pending.push((f, Patch::Fallback(s)));
                }
                self.emit(Op::Try(s as u32));
            }
            Step::CacheRead(r) => self.cache_read(r),
            Step::CacheWrite(w) => self.cache_write(w),
            Step::DbRead(d) => {
                self.emit(Op::DbRead(*d));
                self.emit(Op::DbReadEnd(*d));
            }
            Step::DbWrite(d) => {
                self.emit(Op::DbWrite(*d));
                self.emit(Op::DbCommit(*d));
            }
            Step::Pool(pool, body) => {
                let k = self.p.pools.len();
                self.p.pools.push((*pool, 0));
                self.pending.push((body, Patch::Pool(k)));
                self.emit(Op::Pool(k as u32));
            }
            Step::Query(q) => {
                self.p.queries.push((**q).clone());
                self.emit(Op::Query(self.p.queries.len() as u32 - 1));
            }
            Step::Saga(id, steps) => {
                let k = self.p.sagas.len();
                let pcs = vec![super::saga::StepPcs { run: 0, undo: None }; steps.len()];
                self.p.sagas.push((*id, pcs));
                for (i, (run, undo)) in steps.iter().enumerate() {
                    self.pending.push((run, Patch::SagaRun(k, i)));
                    if let Some(u) = undo {
                        self.pending.push((u, Patch::SagaUndo(k, i)));
                    }
                }
                self.emit(Op::Saga(k as u32));
            }
            Step::Publish(t) => {
                self.emit(Op::Publish(*t));
            }
            Step::Geo(arms, kb) => self.geo(arms, *kb),
            Step::Rtt(region, kb) => {
                self.p.rtts.push((*region, *kb));
                self.emit(Op::Rtt(self.p.rtts.len() as u32 - 1));
            }
        }
    }

    /// `Get [Visit svc] Hit` per tier (an in-process tier looks up at `Get` and waits its
    /// lookup time there; a shared one looks up at `Hit`, after the visit), `Load`, then the fills from the deepest tier up: a hit
    /// at tier i jumps to the fill of tier i - 1.
    fn cache_read(&mut self, r: &'a ReadSpec) {
        let k = self.p.reads.len();
        self.p.reads.push(ReadOp {
            tiers: r.tiers.clone(),
            load: 0,
            fill: r.fill,
            single_flight: r.single_flight,
            early_refresh: r.early_refresh,
            stale_while_revalidate: r.stale_while_revalidate,
            fills: Vec::new(),
            key_mod: r.key_mod,
        });
        self.pending.push((&r.load, Patch::Load(k)));
        let first_get = self.p.gets.len();
        for &t in &r.tiers {
            let g = self.p.gets.len() as u32;
            self.p.gets.push(GetOp {
                read: k as u32,
                tier: t,
                on_hit: 0,
            });
            self.emit(Op::CacheGet(g));
            if let Some(svc) = self.shared_at(t) {
                self.emit(Op::Visit(svc));
            }
            self.emit(Op::CacheHit(g));
        }
        self.emit(Op::CacheLoad(k as u32));
        let mut fills = vec![0; r.tiers.len()];
        for (pos, &t) in r.tiers.iter().enumerate().rev() {
            fills[pos] = self.pc();
            self.emit(Op::CacheFill((first_get + pos) as u32));
            if r.fill == Fill::Aside
                && let Some(svc) = self.shared_at(t)
            {
                self.emit(Op::Visit(svc));
            }
        }
        let end = self.pc();
        for pos in 0..r.tiers.len() {
            self.p.gets[first_get + pos].on_hit = if pos == 0 { end } else { fills[pos - 1] };
        }
        self.p.reads[k].fills = fills;
    }

    /// Invalidate and through: `Store Commit` then each tier; behind: `Commit`, each tier,
    /// `Queue`.
    fn cache_write(&mut self, w: &'a WriteSpec) {
        let k = self.p.writes.len();
        let queue = match self.queues.iter().position(|q| q.0 == w.name) {
            Some(q) => q,
            None => {
                self.queues.push((w.name.clone(), (u16::MAX, 0), None));
                self.queues.len() - 1
            }
        };
        if w.policy == WritePolicy::Behind {
            self.queues[queue].2.get_or_insert(w.behind);
        }
        self.p.writes.push(WriteOp {
            policy: w.policy,
            store: 0,
            queue: queue as u32,
        });
        self.pending.push((&w.store, Patch::Store(k)));
        if w.policy != WritePolicy::Behind {
            self.emit(Op::WriteStore(k as u32));
        }
        self.emit(Op::WriteCommit(k as u32));
        for &t in &w.tiers {
            if let Some(svc) = self.shared_at(t) {
                self.emit(Op::Visit(svc));
            }
            let i = self.p.write_tiers.len() as u32;
            self.p.write_tiers.push((k as u32, t));
            self.emit(Op::WriteTier(i));
        }
        if w.policy == WritePolicy::Behind {
            self.emit(Op::WriteQueue(k as u32));
        }
    }

    /// The service a shared tier is reached through (its lookups and writes visit it).
    fn shared_at(&self, t: u32) -> Option<u32> {
        self.tier_services.get(t as usize).copied().flatten()
    }

    /// Inline arms, each ending with a jump past the last; returns (arm starts, jump slots).
    fn arms(&mut self, arms: impl Iterator<Item = &'a Vec<Step>>) -> (Vec<u32>, Vec<usize>) {
        let (mut starts, mut jumps) = (Vec::new(), Vec::new());
        for a in arms {
            starts.push(self.pc());
            self.seq(a);
            jumps.push(self.emit(Op::Jump(0)));
        }
        (starts, jumps)
    }

    fn patch_jumps(&mut self, jumps: &[usize]) -> u32 {
        let end = self.pc();
        for j in jumps {
            self.p.ops[*j] = Op::Jump(end);
        }
        end
    }

    fn branch(&mut self, arms: &'a [(f64, Vec<Step>)]) {
        let b = self.p.branches.len();
        let mut acc = 0.0;
        let cumulative = arms
            .iter()
            .map(|(p, _)| {
                acc += p;
                acc
            })
            .collect();
        self.p.branches.push(BranchTable {
            cumulative,
            arms: Vec::new(),
            end: 0,
        });
        self.emit(Op::Branch(b as u32));
        let (starts, jumps) = self.arms(arms.iter().map(|(_, a)| a));
        let end = self.patch_jumps(&jumps);
        let t = &mut self.p.branches[b];
        t.arms = starts;
        t.end = end;
    }

    /// `Geo GeoArm`, then each region's arm inline, each ending with a jump past the last.
    fn geo(&mut self, arms: &'a [Option<Vec<Step>>], kb: f64) {
        let g = self.p.geos.len();
        self.p.geos.push((vec![None; arms.len()], kb));
        self.emit(Op::Geo(g as u32));
        self.emit(Op::GeoArm(g as u32));
        let mut jumps = Vec::new();
        for (r, a) in arms.iter().enumerate() {
            if let Some(a) = a {
                self.p.geos[g].0[r] = Some(self.pc());
                self.seq(a);
                jumps.push(self.emit(Op::Jump(0)));
            }
        }
        self.patch_jumps(&jumps);
    }

    fn route(&mut self, route: KeyRoute, arms: &'a [Vec<Step>], name: Option<String>) {
        let r = self.p.routes.len();
        self.p.routes.push((route, Vec::new(), 0));
        self.p.route_names.push(name);
        self.emit(Op::Route(r as u32));
        let (starts, jumps) = self.arms(arms.iter());
        let end = self.patch_jumps(&jumps);
        self.p.routes[r].1 = starts;
        self.p.routes[r].2 = end;
    }
}

impl Program {
    /// The program of database `d`'s replay workers (run under a hidden class).
    pub fn replay(d: u32) -> Program {
        Program {
            ops: vec![Op::Replay(d), Op::Replayed(d), Op::Return],
            ..Program::default()
        }
    }

    /// The arm a probabilistic branch takes for the uniform draw `u`.
    #[inline]
    pub fn branch_target(&self, b: u32, u: f64) -> u32 {
        let t = &self.branches[b as usize];
        t.cumulative
            .iter()
            .position(|c| u < *c)
            .map_or(t.end, |k| t.arms[k])
    }

    /// The arm a key switch takes for `key`.
    #[inline]
    pub fn route_target(&self, r: u32, key: u64) -> u32 {
        let (route, arms, _) = &self.routes[r as usize];
        arms[route.arm(key, arms.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        Vec::new()
    }

    #[test]
    fn a_plain_path_compiles_to_visits_and_return() {
        let p = compile(&[Step::Visit(0), Step::Visit(2)], 0, &mut names());
        assert_eq!(p.ops, [Op::Visit(0), Op::Visit(2), Op::Return]);
    }

    #[test]
    fn fork_arms_are_blocks_after_the_main_one() {
        let p = compile(
            &[
                Step::Fork(vec![vec![Step::Visit(1)], vec![Step::Visit(2)]]),
                Step::Visit(3),
            ],
            0,
            &mut names(),
        );
        assert_eq!(
            p.ops,
            [
                Op::Fork(0),
                Op::Visit(3),
                Op::Return,
                Op::Visit(1),
                Op::Return,
                Op::Visit(2),
                Op::Return
            ]
        );
        assert_eq!(p.forks[0], [3, 5]);
    }

    #[test]
    fn branch_arms_are_inline_and_jump_past_the_end() {
        let p = compile(
            &[
                Step::Branch(vec![
                    (0.5, vec![Step::Visit(1)]),
                    (0.25, vec![Step::Visit(2)]),
                ]),
                Step::Visit(3),
            ],
            0,
            &mut names(),
        );
        assert_eq!(
            p.ops,
            [
                Op::Branch(0),
                Op::Visit(1),
                Op::Jump(5),
                Op::Visit(2),
                Op::Jump(5),
                Op::Visit(3),
                Op::Return
            ]
        );
        assert_eq!(p.branch_target(0, 0.1), 1);
        assert_eq!(p.branch_target(0, 0.6), 3);
        assert_eq!(p.branch_target(0, 0.9), 5, "the remaining 25 % skips");
    }

    #[test]
    fn nested_scopes_are_numbered_in_the_order_their_names_are_listed() {
        let inner = Step::Try(Box::new(TrySpec {
            name: "inner".into(),
            body: vec![Step::Visit(0)],
            attempts: 1,
            timeout: None,
            fallback: None,
            policy: CallPolicy::default(),
        }));
        let outer = Step::Try(Box::new(TrySpec {
            name: "outer".into(),
            body: vec![inner],
            attempts: 3,
            timeout: Some(5),
            fallback: Some(vec![Step::Visit(1)]),
            policy: CallPolicy::default(),
        }));
        let side = Step::Branch(vec![(
            1.0,
            vec![Step::Try(Box::new(TrySpec {
                name: "side".into(),
                body: vec![Step::Visit(2)],
                attempts: 1,
                timeout: None,
                fallback: None,
                policy: CallPolicy::default(),
            }))],
        )]);
        let mut n = names();
        let p = compile(&[outer, side], 10, &mut n);
        let ids: Vec<(u32, &str)> = p
            .scopes
            .iter()
            .map(|s| (s.id, n[(s.id - 10) as usize].as_str()))
            .collect();
        assert_eq!(ids.len(), 3);
        for (id, name) in &ids {
            let s = &p.scopes.iter().find(|s| s.id == *id).unwrap();
            match *name {
                "outer" => assert_eq!((s.attempts, s.timeout), (3, Some(5))),
                "inner" | "side" => assert_eq!(s.attempts, 1),
                other => panic!("unexpected scope {other}"),
            }
        }
    }

    #[test]
    fn range_routing_splits_the_key_space_evenly() {
        let r = KeyRoute::Range { keys: 26 };
        let arms: Vec<usize> = (0..26).map(|k| r.arm(k, 3)).collect();
        assert_eq!(arms.iter().filter(|a| **a == 0).count(), 9);
        assert_eq!(arms.iter().filter(|a| **a == 2).count(), 8);
        assert!(arms.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn counts_have_their_means() {
        let mut rng = Rng::seed_from(5);
        for c in [
            Count::Uniform(1, 9),
            Count::Geometric(3.0),
            Count::Poisson(4.0),
            Count::Poisson(800.0),
        ] {
            let n = 200_000;
            let mean = (0..n).map(|_| f64::from(c.sample(&mut rng))).sum::<f64>() / f64::from(n);
            assert!(
                (mean - c.mean()).abs() < 0.02 * c.mean() + 0.02,
                "{c:?}: {mean}"
            );
        }
    }
}
