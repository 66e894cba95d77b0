//! What a real run does, against which servers, and how faults reach them.
//!
//! A [`RealPlan`] names the request classes ([`ClassPlan`], each one e-commerce [`Op`]), the
//! strategy under test ([`StrategyPlan`]: read routing, cache, pool size), the run's length, its
//! warm-up and the faults to inject. The traffic comes separately as a [`Load`]: an open-loop
//! stream of [`Arrival`]s with intended start times, closed-loop users with think time, or
//! closed-loop shoppers walking a session graph ([`Shoppers`]). [`Endpoints`] says where the
//! servers are; only loopback addresses, and hosts the caller lists explicitly (containers it
//! started), are accepted, so a run can never be pointed at someone else's machine by mistake.
//!
//! Faults go through the [`FaultInjector`] trait, so this module does not depend on how servers
//! are provisioned: the provisioning layer adapts its cluster to it, tests use [`NoFaults`].

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

pub use super::shoppers::Shoppers;
pub use crate::model::workload::Arrival;
use crate::model::workload::Mix;

/// A boxed, sendable future, as returned by [`FaultInjector::inject`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The traffic of a run.
pub enum Load {
    /// Open loop: requests start at their intended times whatever the system does, and latency
    /// is measured from the intended time (no coordinated omission). Arrivals must come in
    /// non-decreasing `at_ns` (ns after the start of the run, warm-up included); the stream is
    /// cut at the end of the run or at [`RealPlan::max_requests`]. An arrival's `class` indexes
    /// [`RealPlan::classes`]; its `key` is a popularity rank (0 is the most popular), which the
    /// driver maps onto the entity the class's operation touches (product, category or user)
    /// modulo that entity's count.
    Open(Box<dyn Iterator<Item = Arrival> + Send>),
    /// Closed loop: `users` sessions, each sending one request, waiting for it, then thinking.
    Closed {
        /// Concurrent users.
        users: u32,
        /// Mean of the exponential think time (zero: no think time, maximum pressure).
        think_mean: Duration,
        /// Users start evenly spread over this ramp-up.
        ramp: Duration,
        /// Class probabilities (indexed like [`RealPlan::classes`]) and key popularity: the
        /// scenario's own, or [`crate::real::workload::mix`] of relative weights.
        mix: Mix,
    },
    /// Closed loop of shoppers: each walks the session graph, one page at a time, and starts
    /// a new session when one ends (see [`crate::real::shoppers`]).
    Sessions(Shoppers),
}

impl fmt::Debug for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Load::Open(_) => f.write_str("Load::Open(..)"),
            Load::Closed {
                users,
                think_mean,
                ramp,
                mix,
            } => f
                .debug_struct("Load::Closed")
                .field("users", users)
                .field("think_mean", think_mean)
                .field("ramp", ramp)
                .field("mix", mix)
                .finish(),
            Load::Sessions(s) => f.debug_tuple("Load::Sessions").field(s).finish(),
        }
    }
}

/// The e-commerce operations (browse, search, purchase) the driver can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// Product page: one product by id (cacheable).
    ReadProduct,
    /// Search: the 20 cheapest products of a category (cacheable, TTL only).
    SearchProducts,
    /// Order history: a user's 10 latest orders (cacheable, invalidated by the user's orders).
    ReadUserOrders,
    /// Purchase (a write): one order with one item; decrements the product's stock.
    PlaceOrder,
    /// Back-office edit (a write): changes a product's price.
    UpdateProduct,
    /// Query shapes: a category's 20 cheapest products with their details in one query.
    ListingJoin,
    /// Query shapes: the same as N+1 queries on one connection: the 20 ids, then each
    /// product by id (21 round trips).
    ListingNPlus1,
    /// Query shapes: a page of 20 products by `LIMIT 20 OFFSET 20 * page` (the server reads and
    /// discards the offset rows); the page is the key modulo the number of pages.
    PageOffset,
    /// Query shapes: the same page by keyset (`WHERE id > last ORDER BY id LIMIT 20`).
    PageCursor,
    /// Query shapes: a user by primary key.
    LookupIndexed,
    /// Query shapes: a user by e-mail, a column without an index (a sequential scan).
    LookupUnindexed,
    /// The guide's "popular products": a category's 20 best sellers over every order (an
    /// aggregate over `order_items`, the heavy query a cache saves; cacheable, TTL only).
    PopularProducts,
}

impl Op {
    /// Whether the operation writes (always to the primary).
    pub fn is_write(self) -> bool {
        matches!(self, Op::PlaceOrder | Op::UpdateProduct)
    }

    /// Stable lower-case name, e.g. `read_product`.
    pub fn name(self) -> &'static str {
        match self {
            Op::ReadProduct => "read_product",
            Op::SearchProducts => "search_products",
            Op::ReadUserOrders => "read_user_orders",
            Op::PlaceOrder => "place_order",
            Op::UpdateProduct => "update_product",
            Op::ListingJoin => "listing_join",
            Op::ListingNPlus1 => "listing_n_plus_1",
            Op::PageOffset => "page_offset",
            Op::PageCursor => "page_cursor",
            Op::LookupIndexed => "lookup_indexed",
            Op::LookupUnindexed => "lookup_unindexed",
            Op::PopularProducts => "popular_products",
        }
    }
}

/// A request class: a name (for reports) and the operation it performs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassPlan {
    /// Class name, e.g. `browse`.
    pub name: String,
    /// Operation.
    pub op: Op,
}

/// Where reads go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadRouting {
    /// Every read on the primary.
    Primary,
    /// Reads round-robin over the replicas (the primary when there are none).
    RoundRobin,
    /// Round robin, except for keys written within `window`: a read of such a key goes to the
    /// primary, or, with `wait_for_replay`, to a replica once that replica has replayed the
    /// write's WAL position (falling back to the primary if that takes longer than `window`).
    ///
    /// The "session" is the entity written: the user for orders, the product for product
    /// writes, so a product read after any client's update of it sees the update.
    ReadYourWrites {
        /// How long after a write its key's reads are steered.
        window: Duration,
        /// Wait for a replica to replay the write instead of reading the primary.
        wait_for_replay: bool,
    },
}

/// The cache in front of the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    /// No cache.
    None,
    /// Redis cache-aside: GET; on a miss read the database then SET with this TTL; writes
    /// delete the keys they change. Needs [`Endpoints::redis`].
    CacheAside {
        /// Time to live of cached entries.
        ttl: Duration,
        /// Single flight on every cached read: a miss takes the key's lock in this process and
        /// looks again, so of the misses that meet one expiry (or invalidation) one loads and
        /// the others wait for its fill (`coalesced`).
        single_flight: bool,
    },
}

/// Users sharded over Postgres shards (see [`crate::real::sharded`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ShardPlan {
    /// Router name, one of [`crate::model::shard::Router::NAMES`].
    pub router: String,
    /// What the router is built from (its key space is set to the users).
    pub spec: crate::model::shard::Spec,
    /// A resharding during the run.
    pub reshard: Option<Reshard>,
}

/// A resharding: at `at`, users move to where the same router over `spec` puts them.
#[derive(Debug, Clone, PartialEq)]
pub struct Reshard {
    /// When, after the start of the run (warm-up included).
    pub at: Duration,
    /// The router's new spec (more shards; new ranges for `range`).
    pub spec: crate::model::shard::Spec,
}

impl ShardPlan {
    /// Shards used before or after a resharding.
    pub fn max_shards(&self) -> usize {
        let after = self.reshard.as_ref().map_or(0, |r| r.spec.shards);
        self.spec.shards.max(after)
    }
}

/// The strategy under test.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyPlan {
    /// Strategy name, as in reports.
    pub name: String,
    /// Read routing.
    pub routing: ReadRouting,
    /// Cache.
    pub cache: CacheMode,
    /// Connections per server (Postgres primary, each replica, each shard, Redis); on the
    /// primary, per app instance ([`AppPools`]).
    pub pool_size: u32,
    /// The app instances' pools to the primary.
    pub app: AppPools,
    /// Users sharded over [`Endpoints::shards`] (every operation then goes to its user's
    /// shard), or `None`.
    pub sharding: Option<ShardPlan>,
}

/// The app side of the primary's connections: `instances` app instances each keep their own
/// pool of [`StrategyPlan::pool_size`] connections (as the simulator's `[pools]` with
/// `per_instance`), opened before the run as far as the server's `max_connections` allows;
/// requests go to the instances in turn. Replicas, shards and Redis keep one pool each.
#[derive(Debug, Clone, PartialEq)]
pub struct AppPools {
    /// App instances (at least 1).
    pub instances: u32,
    /// How long a checkout waits for a slot before it fails as a timeout (`None`: until its
    /// request times out).
    pub acquire_timeout: Option<Duration>,
    /// The pools lead to [`Endpoints::pgbouncer`] (in transaction mode in front of the
    /// primary) instead of the primary.
    pub via_pgbouncer: bool,
    /// The component the pools' metrics are reported under: the name of the simulator's
    /// pool they stand for.
    pub name: String,
}

impl Default for AppPools {
    /// One instance, no acquire timeout, straight to the primary, reported as `pool`.
    fn default() -> Self {
        AppPools {
            instances: 1,
            acquire_timeout: None,
            via_pgbouncer: false,
            name: "pool".to_owned(),
        }
    }
}

/// A fault injected at a time of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultAt {
    /// When, after the start of the run (warm-up included).
    pub at: Duration,
    /// What, e.g. `stop replica-1`, `pause primary`, `disconnect replica-0`.
    pub fault: String,
}

/// Everything a real run needs besides the traffic and the servers.
///
/// [`RealPlan::default`] gives a short, valid plan (10 s after 2 s of warm-up, one
/// `read_product` class, reads on the primary, no cache, 8 connections); override fields with
/// struct-update syntax.
#[derive(Debug, Clone, PartialEq)]
pub struct RealPlan {
    /// Measured length, after the warm-up.
    pub duration: Duration,
    /// Warm-up, run but excluded from the summary (the time series show it).
    pub warmup: Duration,
    /// Root seed of the closed-loop users' random streams.
    pub seed: u64,
    /// Request classes; arrivals and weights index into it.
    pub classes: Vec<ClassPlan>,
    /// Strategy under test.
    pub strategy: StrategyPlan,
    /// Faults, by time.
    pub faults: Vec<FaultAt>,
    /// Products in the database (keys of product operations are reduced modulo this).
    pub products: u64,
    /// Users in the database (keys of user operations are reduced modulo this).
    pub users: u64,
    /// Most requests in flight at once; open-loop arrivals beyond it count as `rejected`.
    pub max_in_flight: usize,
    /// Width of a time-series bucket; replication lag is sampled once per bucket.
    pub bucket: Duration,
    /// Period of the stale-read probe (write on the primary, read every replica at once).
    pub stale_probe_interval: Duration,
    /// A request not done after this counts as a `timeout`.
    pub request_timeout: Duration,
    /// Stop the open-loop stream after this many arrivals (`None`: only time bounds it).
    pub max_requests: Option<u64>,
    /// Empty the Redis database before the run, so every strategy starts from a cold cache.
    pub flush_cache: bool,
}

impl Default for RealPlan {
    fn default() -> Self {
        RealPlan {
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
            seed: 1,
            classes: vec![ClassPlan {
                name: "browse".into(),
                op: Op::ReadProduct,
            }],
            strategy: StrategyPlan {
                name: "primary".into(),
                routing: ReadRouting::Primary,
                cache: CacheMode::None,
                pool_size: 8,
                app: AppPools::default(),
                sharding: None,
            },
            faults: Vec::new(),
            products: 100_000,
            users: 1_000_000,
            max_in_flight: 10_000,
            bucket: Duration::from_secs(1),
            stale_probe_interval: Duration::from_millis(200),
            request_timeout: Duration::from_secs(2),
            max_requests: None,
            flush_cache: true,
        }
    }
}

impl RealPlan {
    /// Checks the plan's values; [`crate::real::loadgen::execute`] calls it first.
    pub fn validate(&self) -> Result<(), RealError> {
        let bad = |what: &str| Err(RealError::InvalidPlan(what.to_owned()));
        if self.duration.is_zero() {
            return bad("duration must be positive");
        }
        if self.bucket < Duration::from_millis(10) {
            return bad("bucket must be at least 10 ms");
        }
        if self.stale_probe_interval < Duration::from_millis(1) {
            return bad("stale_probe_interval must be at least 1 ms");
        }
        if self.request_timeout.is_zero() {
            return bad("request_timeout must be positive");
        }
        if self.classes.is_empty() || self.classes.len() > u32::MAX as usize {
            return bad("classes must not be empty");
        }
        if self.products == 0 || self.users == 0 {
            return bad("products and users must be positive");
        }
        if self.max_in_flight == 0 {
            return bad("max_in_flight must be positive");
        }
        if self.strategy.pool_size == 0 {
            return bad("strategy.pool_size must be positive");
        }
        if self.strategy.app.instances == 0 {
            return bad("strategy.app.instances must be positive");
        }
        if self.strategy.sharding.is_some() {
            let sharded = &crate::real::sharded::SHARDED_OPS;
            if let Some(c) = self.classes.iter().find(|c| !sharded.contains(&c.op)) {
                return Err(RealError::InvalidPlan(format!(
                    "class `{}`: operation `{}` has no sharded implementation",
                    c.name,
                    c.op.name()
                )));
            }
        }
        Ok(())
    }

    /// Warm-up plus measured duration.
    pub fn total(&self) -> Duration {
        self.warmup + self.duration
    }
}

/// Where the servers are. The provisioning layer's `Topology` maps onto it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoints {
    /// Primary, a `postgres://` URL.
    pub primary: String,
    /// Streaming replicas, `postgres://` URLs, named `replica-0`, `replica-1`, ... in reports.
    pub replicas: Vec<String>,
    /// Redis, a `redis://` URL.
    pub redis: Option<String>,
    /// Shards, `postgres://` URLs, named `shard-0`, `shard-1`, ... in reports.
    pub shards: Vec<String>,
    /// PgBouncer in front of the primary, a `postgres://` URL (for [`AppPools::via_pgbouncer`]).
    pub pgbouncer: Option<String>,
    /// Hosts besides loopback that may be contacted, e.g. the names of containers the caller
    /// started. Everything else is refused.
    pub allowed_hosts: Vec<String>,
}

impl Endpoints {
    /// Endpoints with only a primary.
    pub fn new(primary: impl Into<String>) -> Self {
        Endpoints {
            primary: primary.into(),
            ..Endpoints::default()
        }
    }

    /// Refuses any URL whose host is neither loopback nor listed in
    /// [`Endpoints::allowed_hosts`].
    pub fn check_hosts(&self) -> Result<(), RealError> {
        let urls = std::iter::once(&self.primary)
            .chain(&self.replicas)
            .chain(&self.redis)
            .chain(&self.shards)
            .chain(&self.pgbouncer);
        for url in urls {
            for host in url_hosts(url)? {
                if !self.host_allowed(&host) {
                    return Err(RealError::HostNotAllowed {
                        url: redact(url),
                        host,
                    });
                }
            }
        }
        Ok(())
    }

    fn host_allowed(&self, host: &str) -> bool {
        is_loopback_host(host)
            || self
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(host))
    }
}

/// Whether `host` names this machine: `localhost`, 127.0.0.0/8, `::1`, or a Unix socket path.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.starts_with('/') || host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The hosts a `postgres://`, `redis://` or `unix://` URL would contact (empty host: the
/// default Unix socket). Hosts in `host=`/`hostaddr=` query parameters count too.
pub fn url_hosts(url: &str) -> Result<Vec<String>, RealError> {
    let invalid = || RealError::InvalidUrl(redact(url));
    let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
    if scheme.contains("unix") {
        return Ok(Vec::new());
    }
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = before_query.split('/').next().unwrap_or("");
    let hostports = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let mut hosts: Vec<String> = split_hosts(hostports);
    for pair in query.split('&') {
        if let Some((k, v)) = pair.split_once('=')
            && (k == "host" || k == "hostaddr")
        {
            hosts.extend(v.split(',').map(str::to_owned));
        }
    }
    Ok(hosts.into_iter().filter(|h| !h.is_empty()).collect())
}

fn split_hosts(hostports: &str) -> Vec<String> {
    hostports
        .split(',')
        .map(|hp| {
            if let Some(rest) = hp.strip_prefix('[') {
                rest.split(']').next().unwrap_or("").to_owned()
            } else {
                hp.split(':').next().unwrap_or("").to_owned()
            }
        })
        .collect()
}

/// The URL without its password, for error messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// Injects named faults into the servers of a run.
///
/// Faults are strings such as `stop replica-1`, `start replica-1`, `pause primary`,
/// `unpause primary`, `disconnect replica-0`, `reconnect replica-0`. An injector returns
/// `Err` with a message for faults it cannot inject; the run records the failure and goes on.
pub trait FaultInjector: Send + Sync {
    /// Injects `fault`.
    fn inject<'a>(&'a self, fault: &'a str) -> BoxFuture<'a, Result<(), String>>;
}

/// An injector that injects nothing and reports success (for runs without faults).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFaults;

impl FaultInjector for NoFaults {
    fn inject<'a>(&'a self, _fault: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

/// Why a real run (or the data load) could not run. Per-request failures are not errors of
/// the run: they are counted by kind in the outcome.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RealError {
    /// The plan is invalid. Fatal: fix the plan.
    #[error("invalid real-run plan: {0}")]
    InvalidPlan(String),
    /// A URL could not be parsed. Fatal.
    #[error("invalid server URL {0}")]
    InvalidUrl(String),
    /// A URL points at a host that is neither loopback nor explicitly allowed. Fatal.
    #[error(
        "refusing to contact {host} ({url}): real runs only talk to loopback addresses and to \
         hosts listed in Endpoints::allowed_hosts"
    )]
    HostNotAllowed {
        /// The URL, password redacted.
        url: String,
        /// The refused host.
        host: String,
    },
    /// A server could not be reached or refused a setup statement before the run started.
    #[error("postgres {server}: {source}")]
    Postgres {
        /// `primary` or `replica-N`.
        server: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Redis could not be reached before the run started.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The plan needs a server the endpoints do not have (e.g. a cache without Redis).
    #[error("missing server: {0}")]
    MissingServer(String),
    /// The database holds no data set loaded by `schema::load_data`. Fatal: load it first.
    #[error("no data: {0}")]
    NoData(String),
    /// Replicas did not catch up with the primary in time after the data load.
    #[error("replica {0} did not catch up with the primary within the timeout")]
    ReplicaBehind(String),
    /// The run's worker threads or tasks failed.
    #[error("load generator failure: {0}")]
    Internal(String),
}

impl RealError {
    pub(crate) fn pg(server: &str, source: sqlx::Error) -> Self {
        RealError::Postgres {
            server: server.to_owned(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        for h in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.3.2.1",
            "::1",
            "[::1]",
            "",
            "/tmp",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "10.0.0.1",
            "192.168.1.1",
            "example.com",
            "0.0.0.0",
            "172.17.0.2",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn url_hosts_handles_userinfo_ports_lists_and_params() {
        let h = |u: &str| url_hosts(u).unwrap();
        assert_eq!(h("postgres://u:p@127.0.0.1:5432/db"), vec!["127.0.0.1"]);
        assert_eq!(
            h("postgres://u:p%40x@localhost/db?sslmode=disable"),
            vec!["localhost"]
        );
        assert_eq!(h("postgres://a:1,b:2/db"), vec!["a", "b"]);
        assert_eq!(h("postgres://[::1]:5432/db"), vec!["::1"]);
        assert_eq!(h("postgres:///db?host=/var/run/pg"), vec!["/var/run/pg"]);
        assert_eq!(
            h("postgres://localhost/db?hostaddr=10.1.1.1"),
            vec!["localhost", "10.1.1.1"]
        );
        assert_eq!(h("redis://:secret@127.0.0.1:6379/0"), vec!["127.0.0.1"]);
        assert!(h("redis+unix:///tmp/redis.sock").is_empty());
        assert!(url_hosts("not a url").is_err());
    }

    #[test]
    fn endpoints_refuse_foreign_hosts_unless_allowed() {
        let mut e = Endpoints::new("postgres://u:pw@127.0.0.1:15432/shop");
        e.replicas.push("postgres://u@localhost:15433/shop".into());
        e.redis = Some("redis://127.0.0.1:16379".into());
        assert!(e.check_hosts().is_ok());
        e.replicas
            .push("postgres://u:pw@db-replica:5432/shop".into());
        let err = e.check_hosts().unwrap_err().to_string();
        assert!(err.contains("db-replica") && !err.contains("pw@"), "{err}");
        e.allowed_hosts.push("db-replica".into());
        assert!(e.check_hosts().is_ok());
        e.redis = Some("redis://203.0.113.7:6379".into());
        assert!(matches!(
            e.check_hosts(),
            Err(RealError::HostNotAllowed { .. })
        ));
    }

    #[test]
    fn redact_hides_passwords_only() {
        assert_eq!(redact("postgres://u:pw@h:1/db"), "postgres://u:***@h:1/db");
        assert_eq!(redact("postgres://h:1/db"), "postgres://h:1/db");
    }

    #[test]
    fn default_plan_is_valid_and_bad_plans_are_refused() {
        let p = RealPlan::default();
        assert!(p.validate().is_ok());
        assert!(
            RealPlan {
                classes: vec![],
                ..p.clone()
            }
            .validate()
            .is_err()
        );
        assert!(
            RealPlan {
                bucket: Duration::from_millis(1),
                ..p.clone()
            }
            .validate()
            .is_err()
        );
        assert!(
            RealPlan {
                products: 0,
                ..p.clone()
            }
            .validate()
            .is_err()
        );
        assert_eq!(p.total(), Duration::from_secs(12));
    }

    #[test]
    fn ops_know_whether_they_write() {
        assert!(Op::PlaceOrder.is_write() && Op::UpdateProduct.is_write());
        assert!(!Op::ReadProduct.is_write() && !Op::SearchProducts.is_write());
        assert_eq!(Op::ReadUserOrders.name(), "read_user_orders");
    }
}
