//! The simulated system: workload sources, services of instances, controllers, and the routing
//! of requests along their class's path.
//!
//! Where things live:
//!
//! | file | what |
//! |---|---|
//! | [`workload`] | open arrival processes, closed users, the class and key mix |
//! | [`program`] | a class's path (visits, delays, branches, key switches, repeats, forks, try scopes) compiled to ops |
//! | [`service`] | a service: instances with a lifecycle behind a balancer |
//! | [`station`] | one instance's queue: `c` workers, FIFO or processor sharing |
//! | [`balance`] | load-balancing policies (pure: key in, instance out) |
//! | [`resilience`] | backoff and jitter, retry budgets, bulkheads, analytic availability (pure) |
//! | [`breaker`] | circuit breakers with resilience4j's and opossum's exact rules (pure: time in, verdict out) |
//! | [`cache`] | cache state: LRU, FIFO, RANDOM, CLOCK, LFU, S3-FIFO eviction, TTLs, versions (pure: key in, hit or miss out) |
//! | [`tiers`] | cache tiers in paths: an L1 per instance, shared tiers, read-through/aside, write policies, stampede guards, stale reads |
//! | [`autoscale`] | the Kubernetes HPA as a controller of a service (instances as pods, measured usage as metrics) |
//! | [`controller`] | components that wake on their own and act on services (scheduled scaling, crashes) |
//! | [`policy`] | scaling policies to compare with the HPA: threshold rules, predictive (forecast) scaling |
//! | [`hpa`] | Kubernetes' HorizontalPodAutoscaler decision, one sync at a time (pure) |
//! | [`vpa`] | Kubernetes' VerticalPodAutoscaler recommender: request bounds from usage samples (pure) |
//! | [`nodes`] | a node pool and the cluster autoscaler: pending pods, binpacking scale-up, unneeded-node scale-down (pure) |
//! | [`databases`] | replicated databases in paths: `db_read` / `db_write` steps, log shipping over FIFO links, replay workers competing with reads, sync/quorum waits, failover and outages |
//! | [`replication`] | a primary and N replicas: async/sync/quorum commit, lag, stale reads, read routing, failover with lost writes (pure: events in, positions and verdicts out) |
//! | [`pools`] | connection pools per instance: min/max, acquire and idle timeouts, a server's `max_connections`; with the stations' contention (USL) and queries' row costs, the data tier's concurrency |
//! | [`shard`] | shard routers (letter ranges, hash mod N, consistent, bounded loads, jump) and resharding moves (pure: key in, shard out) |
//! | [`saga`] | sagas: steps with compensations run in reverse on a failure, retried compensations, outcomes (completed, compensated, inconsistent), resources held |
//! | [`topics`] | topics with partitions and consumer groups: per-partition order, at-least-once with commits and redelivery on a crash, retries and a dead-letter queue, lag |
//! | [`regions`] | regions: an RTT matrix (published defaults), geo-routing to the nearest healthy region, DNS failover over detection and one TTL, cross-region transfer |
//! | [`sessions`] | shoppers as sessions: a Customer Behavior Model Graph of pages with think times and patience; conversions, revenue, and the expected orders lost to abandonment |
//! | `system` | the node table, the calendar and the interpreter of paths |
//!
//! A [`System`] owns every component and the event calendar of one replication. Components
//! report finished visits as data ([`station::Outcome`]) into a reusable buffer; the system
//! then moves each request along its program, so no component ever holds a reference to
//! another. A new kind of node (a cache, a shard router, a breaker) is a new file plus an arm
//! in the system's dispatch and in the program's ops.
//!
//! ```text
//!  workload ──► op 0 ──► op 1 ──► ... ──► Return (record latency; closed users think again)
//!               Visit    Fork ─► child arms ─► join
//!                        Try  ─► attempt ─✗─► retry ─✗─► fallback
//! ```

pub mod autoscale;
pub mod balance;
pub mod breaker;
pub mod cache;
pub mod controller;
pub mod databases;
pub mod dist;
pub mod hpa;
pub mod nodes;
pub mod policy;
pub mod pools;
pub mod program;
pub mod regions;
pub mod replication;
pub mod request;
pub mod resilience;
pub mod saga;
pub mod service;
pub mod sessions;
pub mod shard;
pub mod station;
mod system;
pub mod tiers;
pub mod topics;
pub mod vpa;
pub mod workload;

pub use system::{ClassSpec, DegradeSpec, FlowTotals, SYSTEM, Shared, System, SystemSpec};
