//! The strategies, for real: read routing over a primary and its replicas, and a Redis
//! cache-aside path in front of them.
//!
//! [`route_read`] is the whole routing policy as a pure function: primary only, round robin
//! over the replicas, or read-your-writes (reads of a key written within the window go to the
//! primary, or wait for a replica to replay the write's WAL position). The `Backend` executes
//! the e-commerce [`Op`]s with one lean connection pool per server and, with
//! [`CacheMode::CacheAside`], GET → (miss) database read → SET EX; writes DEL what they change
//! once committed. With single flight a miss first takes its key's fill lock in this process
//! and looks again, so concurrent misses of one key load once. A sharded strategy hands every
//! operation to [`Sharded`].
//!
//! Every write records a *write mark* for the entities it changed: the product's new `version`
//! or the user's newest order id, the time it was acknowledged and, when read-your-writes
//! waits for replay, the primary's WAL insert position after the commit. A read that starts
//! after a mark and returns an older version (from a lagging replica or a stale cache entry) is
//! counted as a stale read; a read concurrent with the write is not judged.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, SemaphorePermit};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::measure::{CacheUse, Target, Trace, lock};
use super::pgpool::{PgServer, PoolStats, PooledConn};
use super::plan::{CacheMode, Endpoints, Op, ReadRouting, RealError, StrategyPlan};
use super::schema::CATEGORIES;
use super::sharded::{ReshardRecord, Sharded};
use crate::engine::mix64;
use crate::observe::ErrorKind;

/// Where one read goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadDecision {
    /// The primary.
    Primary,
    /// Replica `i`, at once.
    Replica(usize),
    /// Replica `replica`, once it has replayed WAL up to `lsn`.
    ReplicaAfterReplay {
        /// Replica index.
        replica: usize,
        /// WAL position (bytes) of the write to wait for.
        lsn: i64,
    },
}

/// The routing policy: where a read goes, given the number of replicas, a round-robin ticket
/// `rr`, and the age and WAL position of the last acknowledged write of the read's key.
pub fn route_read(
    routing: &ReadRouting,
    replicas: usize,
    rr: usize,
    last_write: Option<(Duration, Option<i64>)>,
) -> ReadDecision {
    if replicas == 0 {
        return ReadDecision::Primary;
    }
    let replica = rr % replicas;
    match *routing {
        ReadRouting::Primary => ReadDecision::Primary,
        ReadRouting::RoundRobin => ReadDecision::Replica(replica),
        ReadRouting::ReadYourWrites {
            window,
            wait_for_replay,
        } => match last_write {
            Some((age, lsn)) if age < window => match lsn {
                Some(lsn) if wait_for_replay => ReadDecision::ReplicaAfterReplay { replica, lsn },
                _ => ReadDecision::Primary,
            },
            _ => ReadDecision::Replica(replica),
        },
    }
}

/// Product id (1-based) of a key.
pub fn product_id(key: u64, products: u64) -> i64 {
    to_id(key % products.max(1))
}

/// User id (1-based) of a key.
pub fn user_id(key: u64, users: u64) -> i64 {
    to_id(key % users.max(1))
}

/// Category (1-based) searched for a key.
pub fn category_of(key: u64) -> i64 {
    to_id(key % CATEGORIES)
}

/// The product a user buys: a fixed pseudo-random product per user.
pub fn purchase_of(user: i64, products: u64) -> i64 {
    to_id(mix64(user.unsigned_abs()) % products.max(1))
}

fn to_id(zero_based: u64) -> i64 {
    i64::try_from(zero_based).unwrap_or(i64::MAX - 1) + 1
}

/// Rows per page of the pagination shapes.
pub const PAGE_ROWS: u64 = 20;

/// The first row (0-based) of the page a key picks: pages of [`PAGE_ROWS`] over the
/// products, the page being the key modulo their number, so `keys = { dist = "uniform", n = N }`
/// reads the first `N` pages. Offset and cursor read the same rows: products have ids `1..`.
pub fn page_start(key: u64, products: u64) -> i64 {
    let pages = (products / PAGE_ROWS).max(1);
    i64::try_from((key % pages) * PAGE_ROWS).unwrap_or(0)
}

/// What a write mark is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Entity {
    Product,
    User,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WriteMark {
    at: Instant,
    version: i64,
    lsn: Option<i64>,
}

const MARK_SHARDS: usize = 64;

/// The last acknowledged write per entity, in mutex-guarded shards.
#[derive(Debug)]
struct WriteMarks {
    shards: Vec<Mutex<HashMap<(Entity, i64), WriteMark>>>,
}

impl WriteMarks {
    fn new() -> Self {
        WriteMarks {
            shards: (0..MARK_SHARDS)
                .map(|_| Mutex::new(HashMap::new()))
                .collect(),
        }
    }

    fn shard(&self, id: i64) -> &Mutex<HashMap<(Entity, i64), WriteMark>> {
        let i = usize::try_from(mix64(id.unsigned_abs()) % MARK_SHARDS as u64).unwrap_or(0);
        &self.shards[i]
    }

    fn get(&self, e: Entity, id: i64) -> Option<WriteMark> {
        lock(self.shard(id)).get(&(e, id)).copied()
    }

    /// Notes a write acknowledged now; versions only grow (writes may finish out of order).
    fn note(&self, e: Entity, id: i64, version: i64, lsn: Option<i64>) {
        let mut shard = lock(self.shard(id));
        let mark = shard.entry((e, id)).or_insert(WriteMark {
            at: Instant::now(),
            version,
            lsn,
        });
        mark.at = Instant::now();
        mark.version = mark.version.max(version);
        mark.lsn = match (mark.lsn, lsn) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

/// The version a read starting at `start` must see at least, if a write was acknowledged
/// before it started.
fn expected_version(mark: Option<WriteMark>, start: Instant) -> Option<i64> {
    mark.filter(|m| m.at <= start).map(|m| m.version)
}

/// Whether a read that saw `seen` is stale against the `expected` version.
fn judge(expected: Option<i64>, seen: i64) -> Option<bool> {
    expected.map(|e| seen < e)
}

/// The leading number of a cached value (`version|...` or `max_order_id|...`).
fn leading_number(v: &str) -> Option<i64> {
    v.split('|').next()?.parse().ok()
}

/// The product-page query (`read_product`), as `benches/real_ops.rs` also times it.
pub const READ_PRODUCT: &str =
    "SELECT version, name, category, price_cents, stock FROM products WHERE id = $1";
pub(crate) const SEARCH: &str = "SELECT id, name, price_cents FROM products WHERE category = $1 \
                      ORDER BY price_cents, id LIMIT 20";
/// The guide's "popular products" of a category: its best sellers over every order.
const POPULAR: &str = "SELECT oi.product_id, sum(oi.qty) AS sold FROM order_items oi \
                       JOIN products p ON p.id = oi.product_id WHERE p.category = $1 \
                       GROUP BY oi.product_id ORDER BY sold DESC, oi.product_id LIMIT 20";
pub(crate) const READ_ORDERS: &str =
    "SELECT id, total_cents FROM orders WHERE user_id = $1 ORDER BY id DESC LIMIT 10";
pub(crate) const PLACE_ORDER: &str = "WITH p AS (UPDATE products SET \
       stock = CASE WHEN stock > 0 THEN stock - 1 ELSE 1000 END, version = version + 1 \
       WHERE id = $2 RETURNING price_cents, version), \
     o AS (INSERT INTO orders (user_id, total_cents, created_at) \
       SELECT $1, price_cents, now() FROM p RETURNING id, total_cents), \
     i AS (INSERT INTO order_items (order_id, product_id, qty, price_cents) \
       SELECT o.id, $2, 1, o.total_cents FROM o) \
     SELECT o.id, p.version FROM o, p";
const UPDATE_PRODUCT: &str = "UPDATE products SET price_cents = price_cents + \
       CASE WHEN version % 2 = 0 THEN 1 ELSE -1 END, version = version + 1 \
       WHERE id = $1 RETURNING version";
/// Query shapes (see [`Op`]): a category's listing, a page of products, a user.
const LISTING: &str = "SELECT id, version, name, category, price_cents, stock FROM products \
                       WHERE category = $1 ORDER BY price_cents, id LIMIT 20";
const LISTING_IDS: &str =
    "SELECT id FROM products WHERE category = $1 ORDER BY price_cents, id LIMIT 20";
const PAGE_OFFSET: &str =
    "SELECT id, name, price_cents FROM products ORDER BY id LIMIT 20 OFFSET $1";
const PAGE_CURSOR: &str =
    "SELECT id, name, price_cents FROM products WHERE id > $1 ORDER BY id LIMIT 20";
pub(crate) const LOOKUP_INDEXED: &str = "SELECT id, name, email FROM users WHERE id = $1";
const LOOKUP_UNINDEXED: &str = "SELECT id, name, email FROM users WHERE email = $1";
const INSERT_LSN: &str = "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::int8";
const REPLAY_LSN: &str = "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::int8";

/// Redis connections, each used by one request at a time (as `redis-benchmark` clients are:
/// concurrent requests never share a connection, so nothing is pipelined); each reconnects
/// by itself after failures.
struct RedisPool {
    conns: Vec<ConnectionManager>,
    free: Mutex<Vec<usize>>,
    permits: Semaphore,
}

impl std::fmt::Debug for RedisPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPool")
            .field("conns", &self.conns.len())
            .finish()
    }
}

/// A checked-out Redis connection; goes back to the pool on drop, even when its request was
/// cancelled (the connection manager discards the late reply).
struct RedisConn<'a> {
    pool: &'a RedisPool,
    index: usize,
    conn: ConnectionManager,
    _permit: SemaphorePermit<'a>,
}

impl Drop for RedisConn<'_> {
    fn drop(&mut self) {
        lock(&self.pool.free).push(self.index);
    }
}

impl RedisPool {
    async fn connect(url: &str, size: u32, timeout: Duration) -> Result<Self, RealError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(timeout))
            .set_connection_timeout(Some(timeout))
            .set_number_of_retries(1);
        let mut conns = Vec::with_capacity(size as usize);
        for _ in 0..size {
            conns.push(
                client
                    .get_connection_manager_with_config(config.clone())
                    .await?,
            );
        }
        let free = Mutex::new((0..conns.len()).collect());
        Ok(RedisPool {
            permits: Semaphore::new(conns.len()),
            conns,
            free,
        })
    }

    async fn checkout(&self) -> redis::RedisResult<RedisConn<'_>> {
        let closed = || redis::RedisError::from((redis::ErrorKind::Io, "redis pool closed"));
        let permit = self.permits.acquire().await.map_err(|_| closed())?;
        let index = lock(&self.free).pop().ok_or_else(closed)?;
        Ok(RedisConn {
            pool: self,
            index,
            conn: self.conns[index].clone(),
            _permit: permit,
        })
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> redis::RedisResult<T> {
        let mut c = self.checkout().await?;
        cmd.query_async(&mut c.conn).await
    }

    async fn get(&self, key: &str) -> redis::RedisResult<Option<String>> {
        self.query(redis::cmd("GET").arg(key)).await
    }

    async fn set_ex(&self, key: &str, value: &str, ttl_s: u64) -> redis::RedisResult<()> {
        self.query(redis::cmd("SET").arg(key).arg(value).arg("EX").arg(ttl_s))
            .await
    }

    async fn del(&self, keys: &[String]) -> redis::RedisResult<()> {
        self.query(redis::cmd("DEL").arg(keys)).await
    }

    async fn flush(&self) -> redis::RedisResult<()> {
        self.query(&redis::cmd("FLUSHDB")).await
    }
}

/// Replica pools; connected now when reads may use them.
async fn connect_replicas(
    endpoints: &Endpoints,
    strategy: &StrategyPlan,
    timeout: Duration,
) -> Result<Vec<PgServer>, RealError> {
    let size = strategy.pool_size;
    let mut replicas = Vec::with_capacity(endpoints.replicas.len());
    for (i, url) in endpoints.replicas.iter().enumerate() {
        let server = PgServer::new(&format!("replica-{i}"), url, size)?.statement_timeout(timeout);
        if strategy.routing != ReadRouting::Primary {
            server.prewarm(size as usize).await?;
        }
        replicas.push(server);
    }
    Ok(replicas)
}

/// The Redis pool and TTL in seconds for cache-aside, `(None, 0)` without a cache.
async fn connect_cache(
    endpoints: &Endpoints,
    strategy: &StrategyPlan,
    timeout: Duration,
) -> Result<(Option<RedisPool>, u64), RealError> {
    let CacheMode::CacheAside { ttl, .. } = strategy.cache else {
        return Ok((None, 0));
    };
    let url = endpoints
        .redis
        .as_deref()
        .ok_or_else(|| RealError::MissingServer("cache-aside needs a Redis endpoint".into()))?;
    let pool = RedisPool::connect(url, strategy.pool_size, timeout).await?;
    Ok((Some(pool), ttl.as_secs().max(1)))
}

/// What a cached read found.
enum Lookup {
    /// The value: a hit, or (single flight) the fill of a concurrent load this read waited
    /// for.
    Value(String),
    /// Nothing: load it (holding the key's fill lock, with single flight) and fill.
    Load(Option<tokio::sync::OwnedMutexGuard<()>>),
}

tokio::task_local! {
    /// The app instance the request this task works for went to (its pool to the primary).
    static INSTANCE: usize;
}

/// The app instances' pools to the primary (or to PgBouncer in front of it), all counted in
/// `stats`. Pools of one instance open their connections before the run as they would on
/// its first requests; with more than one instance, or through PgBouncer, as far as the
/// server allows (the rest are opened, or refused, during the run).
async fn connect_primaries(
    endpoints: &Endpoints,
    strategy: &StrategyPlan,
    timeout: Duration,
    stats: &Arc<PoolStats>,
) -> Result<Vec<PgServer>, RealError> {
    let app = &strategy.app;
    let (url, role) = if app.via_pgbouncer {
        let url = endpoints.pgbouncer.as_deref().ok_or_else(|| {
            RealError::MissingServer(
                "the strategy goes through PgBouncer: give its URL (--target pgbouncer=URL)".into(),
            )
        })?;
        (url, "pgbouncer")
    } else {
        (endpoints.primary.as_str(), "primary")
    };
    let size = strategy.pool_size;
    let mut pools = Vec::with_capacity(app.instances as usize);
    for i in 0..app.instances {
        let name = if app.instances == 1 {
            role.to_owned()
        } else {
            format!("{role} (app instance {i})")
        };
        let mut server = PgServer::new(&name, url, size)?;
        if app.via_pgbouncer {
            server = server.through_pgbouncer();
        }
        pools.push(
            server
                .statement_timeout(timeout)
                .acquire_timeout(app.acquire_timeout)
                .with_stats(Arc::clone(stats)),
        );
    }
    if pools.len() == 1 && !app.via_pgbouncer {
        pools[0].prewarm(size as usize).await?;
    } else {
        for p in &pools {
            p.prewarm_within_limit(size as usize).await?;
        }
    }
    Ok(pools)
}

/// Servers, pools and strategy state of one run.
#[derive(Debug)]
pub(crate) struct Backend {
    /// One pool per app instance.
    primaries: Vec<PgServer>,
    next_instance: AtomicUsize,
    pool_stats: Arc<PoolStats>,
    replicas: Vec<PgServer>,
    cache: Option<RedisPool>,
    routing: ReadRouting,
    ttl_s: u64,
    rr: AtomicUsize,
    marks: WriteMarks,
    replayed: Vec<AtomicI64>,
    products: u64,
    users: u64,
    sharded: Option<Sharded>,
    /// Single flight: each cache key's fill lock (`None` without single flight).
    flights: Option<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Backend {
    /// Opens the pools (all primary connections now; replica connections when reads may use
    /// them) and, for cache-aside, the Redis connections.
    pub(crate) async fn connect(
        endpoints: &Endpoints,
        strategy: &StrategyPlan,
        products: u64,
        users: u64,
        timeout: Duration,
    ) -> Result<Self, RealError> {
        let size = strategy.pool_size;
        let pool_stats = Arc::new(PoolStats::default());
        let primaries = connect_primaries(endpoints, strategy, timeout, &pool_stats).await?;
        let replicas = connect_replicas(endpoints, strategy, timeout).await?;
        let (cache, ttl_s) = connect_cache(endpoints, strategy, timeout).await?;
        let replayed = replicas.iter().map(|_| AtomicI64::new(0)).collect();
        let sharded = match &strategy.sharding {
            Some(plan) => Some(
                Sharded::connect(&endpoints.shards, plan, size, products, users, timeout).await?,
            ),
            None => None,
        };
        Ok(Backend {
            primaries,
            next_instance: AtomicUsize::new(0),
            pool_stats,
            replicas,
            cache,
            routing: strategy.routing,
            ttl_s,
            rr: AtomicUsize::new(0),
            marks: WriteMarks::new(),
            replayed,
            products,
            users,
            sharded,
            flights: matches!(
                strategy.cache,
                CacheMode::CacheAside {
                    single_flight: true,
                    ..
                }
            )
            .then(|| Mutex::new(HashMap::new())),
        })
    }

    /// Shards a sharded strategy may use (zero otherwise).
    pub(crate) fn shard_count(&self) -> usize {
        self.sharded.as_ref().map_or(0, Sharded::shard_count)
    }

    /// Reshards a sharded strategy (`None` for others); `started` is the time since the start
    /// of the run.
    pub(crate) async fn reshard(&self, started: Duration) -> Option<ReshardRecord> {
        Some(self.sharded.as_ref()?.reshard(started).await)
    }

    /// Number of replicas.
    pub(crate) fn replica_count(&self) -> usize {
        self.replicas.len()
    }

    /// Empties the Redis database (a cold cache for the run).
    pub(crate) async fn flush_cache(&self) -> Result<(), RealError> {
        match &self.cache {
            Some(c) => Ok(c.flush().await?),
            None => Ok(()),
        }
    }

    /// The app-side pools' counts (all instances).
    pub(crate) fn pool_stats(&self) -> &Arc<PoolStats> {
        &self.pool_stats
    }

    /// The pool to the primary of the app instance this request went to.
    fn primary(&self) -> &PgServer {
        let i = INSTANCE.try_with(|i| *i).unwrap_or(0);
        &self.primaries[i % self.primaries.len()]
    }

    /// Closes idle database connections.
    pub(crate) async fn close(&self) {
        for p in &self.primaries {
            p.close().await;
        }
        for r in &self.replicas {
            r.close().await;
        }
        if let Some(s) = &self.sharded {
            s.close().await;
        }
    }

    /// Performs one operation on the key `key`, at the next app instance in turn.
    pub(crate) async fn run(&self, op: Op, key: u64) -> Result<Trace, ErrorKind> {
        if let Some(s) = &self.sharded {
            return s.run(op, key).await;
        }
        if self.primaries.len() > 1 {
            let i = self.next_instance.fetch_add(1, Ordering::Relaxed) % self.primaries.len();
            return INSTANCE.scope(i, self.run_op(op, key)).await;
        }
        self.run_op(op, key).await
    }

    async fn run_op(&self, op: Op, key: u64) -> Result<Trace, ErrorKind> {
        match op {
            Op::ReadProduct => self.read_product(product_id(key, self.products)).await,
            Op::SearchProducts => self.search(category_of(key)).await,
            Op::ReadUserOrders => self.read_orders(user_id(key, self.users)).await,
            Op::PlaceOrder => self.place_order(user_id(key, self.users)).await,
            Op::UpdateProduct => self.update_product(product_id(key, self.products)).await,
            Op::ListingJoin => self.shape(LISTING, category_of(key)).await,
            Op::ListingNPlus1 => self.listing_n_plus_1(category_of(key)).await,
            Op::PageOffset => {
                self.shape(PAGE_OFFSET, page_start(key, self.products))
                    .await
            }
            Op::PageCursor => {
                self.shape(PAGE_CURSOR, page_start(key, self.products))
                    .await
            }
            Op::LookupIndexed => self.shape(LOOKUP_INDEXED, user_id(key, self.users)).await,
            Op::LookupUnindexed => self.lookup_unindexed(user_id(key, self.users)).await,
            Op::PopularProducts => self.popular(category_of(key)).await,
        }
    }

    /// A query-shape read: one statement with one parameter, routed like every read.
    async fn shape(&self, sql: &'static str, param: i64) -> Result<Trace, ErrorKind> {
        let mut trace = Trace::default();
        self.read_rows(sql, param, None, Instant::now(), &mut trace)
            .await?;
        Ok(trace)
    }

    /// N+1: a category's 20 cheapest product ids, then one query per product for its details,
    /// all on one connection of the server the read is routed to (as an ORM's lazy loading
    /// does).
    async fn listing_n_plus_1(&self, category: i64) -> Result<Trace, ErrorKind> {
        let mut trace = Trace::default();
        let mut c = self.read_server(&mut trace).acquire().await?;
        let ids = match c.fetch_all(LISTING_IDS, &[category]).await {
            Ok(rows) => rows,
            Err(e) => return Err(c.fail(&e)),
        };
        for row in &ids {
            let id: i64 = row.try_get(0).map_err(|_| ErrorKind::Failed)?;
            let res = c.fetch_all(READ_PRODUCT, &[id]).await;
            if let Err(e) = res {
                return Err(c.fail(&e));
            }
        }
        c.finish(Ok(()))?;
        Ok(trace)
    }

    /// A user by e-mail, an unindexed column: the e-mail is the one the data load wrote.
    async fn lookup_unindexed(&self, user: i64) -> Result<Trace, ErrorKind> {
        let mut trace = Trace::default();
        let server = self.read_server(&mut trace);
        let mut c = server.acquire().await?;
        let res = sqlx::query(LOOKUP_UNINDEXED)
            .bind(format!("user{user}@example.test"))
            .fetch_all(c.conn())
            .await;
        c.finish(res)?;
        Ok(trace)
    }

    /// The server a read without a key history goes to, noted in `trace`.
    fn read_server(&self, trace: &mut Trace) -> &PgServer {
        let rr = self.rr.fetch_add(1, Ordering::Relaxed);
        match route_read(&self.routing, self.replicas.len(), rr, None) {
            ReadDecision::Replica(i) | ReadDecision::ReplicaAfterReplay { replica: i, .. } => {
                trace.target = Target::Replica(i);
                &self.replicas[i]
            }
            ReadDecision::Primary => {
                trace.target = Target::Primary;
                self.primary()
            }
        }
    }

    async fn read_product(&self, id: i64) -> Result<Trace, ErrorKind> {
        let start = Instant::now();
        let mark = self.marks.get(Entity::Product, id);
        let expected = expected_version(mark, start);
        let mut trace = Trace::default();
        let key = format!("ss:p:{id}");
        let _flight = match self.lookup(&key, &mut trace).await {
            Lookup::Value(v) => {
                trace.stale = judge(expected, leading_number(&v).unwrap_or(i64::MAX));
                return Ok(trace);
            }
            Lookup::Load(guard) => guard,
        };
        let rows = self
            .read_rows(READ_PRODUCT, id, mark, start, &mut trace)
            .await?;
        let row = rows.first().ok_or(ErrorKind::Failed)?;
        let version: i64 = row.try_get(0).map_err(|_| ErrorKind::Failed)?;
        trace.stale = judge(expected, version);
        if trace.cache == CacheUse::Miss {
            let value = product_value(row, version).ok_or(ErrorKind::Failed)?;
            self.cache_fill(&key, &value).await;
        }
        Ok(trace)
    }

    async fn search(&self, category: i64) -> Result<Trace, ErrorKind> {
        self.ids_listing(SEARCH, "s", category).await
    }

    async fn popular(&self, category: i64) -> Result<Trace, ErrorKind> {
        self.ids_listing(POPULAR, "pop", category).await
    }

    /// A TTL-only cached listing: the ids of the rows `sql` returns for `param`, cached under
    /// `ss:{tag}:{param}`; with single flight, one load per expiry in this process.
    async fn ids_listing(
        &self,
        sql: &'static str,
        tag: &str,
        param: i64,
    ) -> Result<Trace, ErrorKind> {
        let start = Instant::now();
        let mut trace = Trace::default();
        let key = format!("ss:{tag}:{param}");
        let _flight = match self.lookup(&key, &mut trace).await {
            Lookup::Value(_) => return Ok(trace),
            Lookup::Load(guard) => guard,
        };
        let rows = self.read_rows(sql, param, None, start, &mut trace).await?;
        if trace.cache == CacheUse::Miss {
            let ids: Vec<String> = rows
                .iter()
                .filter_map(|r| r.try_get::<i64, _>(0).ok())
                .map(|i| i.to_string())
                .collect();
            self.cache_fill(&key, &ids.join(",")).await;
        }
        Ok(trace)
    }

    /// A cached read of `key` (the cache's part of `trace` set): GET; on a miss without
    /// single flight (or with no cache), load. With single flight, a miss takes the key's fill
    /// lock and looks again: a concurrent load may have filled the key while this read waited
    /// (`Coalesced`); otherwise it loads holding the lock, so the other misses of this expiry
    /// wait for its fill.
    async fn lookup(&self, key: &str, trace: &mut Trace) -> Lookup {
        if let Some(v) = self.cache_get(key, trace).await {
            return Lookup::Value(v);
        }
        let (Some(flights), Some(cache)) = (&self.flights, &self.cache) else {
            return Lookup::Load(None);
        };
        let lock = Arc::clone(lock(flights).entry(key.to_owned()).or_default());
        let guard = lock.lock_owned().await;
        match cache.get(key).await {
            Ok(Some(v)) => {
                trace.cache = CacheUse::Coalesced;
                Lookup::Value(v)
            }
            _ => Lookup::Load(Some(guard)),
        }
    }

    async fn read_orders(&self, user: i64) -> Result<Trace, ErrorKind> {
        let start = Instant::now();
        let mark = self.marks.get(Entity::User, user);
        let expected = expected_version(mark, start);
        let mut trace = Trace::default();
        let key = format!("ss:o:{user}");
        let _flight = match self.lookup(&key, &mut trace).await {
            Lookup::Value(v) => {
                trace.stale = judge(expected, leading_number(&v).unwrap_or(i64::MAX));
                return Ok(trace);
            }
            Lookup::Load(guard) => guard,
        };
        let rows = self
            .read_rows(READ_ORDERS, user, mark, start, &mut trace)
            .await?;
        let newest = match rows.first() {
            Some(r) => r.try_get::<i64, _>(0).map_err(|_| ErrorKind::Failed)?,
            None => 0,
        };
        trace.stale = judge(expected, newest);
        if trace.cache == CacheUse::Miss {
            self.cache_fill(&key, &format!("{newest}|{}", rows.len()))
                .await;
        }
        Ok(trace)
    }

    async fn place_order(&self, user: i64) -> Result<Trace, ErrorKind> {
        let product = purchase_of(user, self.products);
        let (order, version, lsn) = self.write(PLACE_ORDER, &[user, product]).await?;
        let mut trace = Trace {
            target: Target::Primary,
            write: true,
            ..Trace::default()
        };
        self.invalidate(
            &[format!("ss:p:{product}"), format!("ss:o:{user}")],
            &mut trace,
        )
        .await;
        self.marks.note(Entity::User, user, order, lsn);
        self.marks.note(Entity::Product, product, version, lsn);
        Ok(trace)
    }

    async fn update_product(&self, id: i64) -> Result<Trace, ErrorKind> {
        let (version, _, lsn) = self.write(UPDATE_PRODUCT, &[id]).await?;
        let mut trace = Trace {
            target: Target::Primary,
            write: true,
            ..Trace::default()
        };
        self.invalidate(&[format!("ss:p:{id}")], &mut trace).await;
        self.marks.note(Entity::Product, id, version, lsn);
        Ok(trace)
    }

    /// Runs a write on the primary; returns its first two result columns (the second is 0 when
    /// absent) and, when read-your-writes waits for replay, the WAL position after the commit.
    async fn write(
        &self,
        sql: &'static str,
        params: &[i64],
    ) -> Result<(i64, i64, Option<i64>), ErrorKind> {
        let mut c = self.primary().acquire().await?;
        let row = match c.fetch_all(sql, params).await {
            Ok(rows) => match rows.into_iter().next() {
                Some(row) => row,
                None => return c.finish(Err(sqlx::Error::RowNotFound)),
            },
            Err(e) => return Err(c.fail(&e)),
        };
        let a: i64 = row.try_get(0).map_err(|_| ErrorKind::Failed)?;
        let b: i64 = if row.len() > 1 {
            row.try_get(1).map_err(|_| ErrorKind::Failed)?
        } else {
            0
        };
        let lsn = if self.waits_for_replay() {
            match sqlx::query_scalar::<_, i64>(INSERT_LSN)
                .fetch_one(c.conn())
                .await
            {
                Ok(l) => Some(l),
                Err(e) => return Err(c.fail(&e)),
            }
        } else {
            None
        };
        c.release();
        Ok((a, b, lsn))
    }

    fn waits_for_replay(&self) -> bool {
        matches!(
            self.routing,
            ReadRouting::ReadYourWrites {
                wait_for_replay: true,
                ..
            }
        ) && !self.replicas.is_empty()
    }

    async fn read_rows(
        &self,
        sql: &'static str,
        param: i64,
        mark: Option<WriteMark>,
        start: Instant,
        trace: &mut Trace,
    ) -> Result<Vec<PgRow>, ErrorKind> {
        let last = mark.map(|m| (start.saturating_duration_since(m.at), m.lsn));
        let rr = self.rr.fetch_add(1, Ordering::Relaxed);
        match route_read(&self.routing, self.replicas.len(), rr, last) {
            ReadDecision::Primary => {
                trace.target = Target::Primary;
                query(self.primary(), sql, param).await
            }
            ReadDecision::Replica(i) => {
                trace.target = Target::Replica(i);
                query(&self.replicas[i], sql, param).await
            }
            ReadDecision::ReplicaAfterReplay { replica, lsn } => {
                self.read_after_replay(replica, lsn, sql, param, start, trace)
                    .await
            }
        }
    }

    async fn read_after_replay(
        &self,
        i: usize,
        lsn: i64,
        sql: &'static str,
        param: i64,
        start: Instant,
        trace: &mut Trace,
    ) -> Result<Vec<PgRow>, ErrorKind> {
        trace.target = Target::Replica(i);
        if self.replayed[i].load(Ordering::Relaxed) >= lsn {
            return query(&self.replicas[i], sql, param).await;
        }
        trace.replay_waited = true;
        let deadline = start + self.ryw_window();
        let mut c = self.replicas[i].acquire().await?;
        loop {
            let replay = match sqlx::query_scalar::<_, Option<i64>>(REPLAY_LSN)
                .fetch_one(c.conn())
                .await
            {
                Ok(r) => r,
                Err(e) => return Err(c.fail(&e)),
            };
            let Some(replay) = replay else { break };
            self.replayed[i].fetch_max(replay, Ordering::Relaxed);
            if replay >= lsn {
                break;
            }
            if Instant::now() >= deadline {
                c.release();
                trace.fell_back = true;
                trace.target = Target::Primary;
                return query(self.primary(), sql, param).await;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        run_on(c, sql, param).await
    }

    fn ryw_window(&self) -> Duration {
        match self.routing {
            ReadRouting::ReadYourWrites { window, .. } => window,
            _ => Duration::ZERO,
        }
    }

    async fn cache_get(&self, key: &str, trace: &mut Trace) -> Option<String> {
        let cache = self.cache.as_ref()?;
        match cache.get(key).await {
            Ok(Some(v)) => {
                trace.cache = CacheUse::Hit;
                Some(v)
            }
            Ok(None) => {
                trace.cache = CacheUse::Miss;
                None
            }
            Err(_) => {
                trace.cache = CacheUse::Error;
                None
            }
        }
    }

    /// Fills the cache after a miss. A failed SET only costs a later miss, so it is ignored.
    async fn cache_fill(&self, key: &str, value: &str) {
        if let Some(cache) = &self.cache {
            let _ = cache.set_ex(key, value, self.ttl_s).await;
        }
    }

    /// Deletes cached entries after a write; a failure is counted as a cache error.
    async fn invalidate(&self, keys: &[String], trace: &mut Trace) {
        if let Some(cache) = &self.cache
            && cache.del(keys).await.is_err()
        {
            trace.cache = CacheUse::Error;
        }
    }
}

/// Fills the cache with every product (as cache-aside would after reading each once), in
/// pipelined batches; returns the number of entries written. For runs that should start warm.
pub async fn warm_cache(
    endpoints: &Endpoints,
    products: u64,
    ttl: Duration,
) -> Result<u64, RealError> {
    endpoints.check_hosts()?;
    let url = endpoints
        .redis
        .as_deref()
        .ok_or_else(|| RealError::MissingServer("no Redis endpoint".into()))?;
    let mut redis = redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await?;
    let mut pg = connect(&endpoints.primary).await?;
    let last = i64::try_from(products).unwrap_or(i64::MAX);
    let mut written = 0;
    let mut from = 1;
    while from <= last {
        let to = (from + 9_999).min(last);
        let pipe = warm_batch(&mut pg, from, to, ttl.as_secs().max(1)).await?;
        written += pipe.cmd_iter().count() as u64;
        pipe.query_async::<()>(&mut redis).await?;
        from = to + 1;
    }
    Ok(written)
}

/// SETs for products `from..=to`, read from the primary.
async fn warm_batch(
    pg: &mut sqlx::PgConnection,
    from: i64,
    to: i64,
    ttl_s: u64,
) -> Result<redis::Pipeline, RealError> {
    let sql = "SELECT version, name, category, price_cents, stock, id FROM products \
               WHERE id BETWEEN $1 AND $2";
    let pg_err = |e| RealError::pg("primary", e);
    let rows = sqlx::query(sql)
        .bind(from)
        .bind(to)
        .fetch_all(pg)
        .await
        .map_err(pg_err)?;
    let mut pipe = redis::pipe();
    for row in &rows {
        let version: i64 = row.try_get(0).map_err(pg_err)?;
        let id: i64 = row.try_get(5).map_err(pg_err)?;
        let value = product_value(row, version).unwrap_or_default();
        let key = format!("ss:p:{id}");
        pipe.cmd("SET")
            .arg(key)
            .arg(value)
            .arg("EX")
            .arg(ttl_s)
            .ignore();
    }
    Ok(pipe)
}

async fn connect(url: &str) -> Result<sqlx::PgConnection, RealError> {
    use sqlx::ConnectOptions;
    super::pgpool::connect_options(url)?
        .connect()
        .await
        .map_err(|e| RealError::pg("primary", e))
}

async fn query(server: &PgServer, sql: &'static str, param: i64) -> Result<Vec<PgRow>, ErrorKind> {
    run_on(server.acquire().await?, sql, param).await
}

async fn run_on(
    mut c: PooledConn<'_>,
    sql: &'static str,
    param: i64,
) -> Result<Vec<PgRow>, ErrorKind> {
    let res = c.fetch_all(sql, &[param]).await;
    c.finish(res)
}

fn product_value(row: &PgRow, version: i64) -> Option<String> {
    let name: String = row.try_get(1).ok()?;
    let category: i32 = row.try_get(2).ok()?;
    let price: i64 = row.try_get(3).ok()?;
    let stock: i32 = row.try_get(4).ok()?;
    Some(format!("{version}|{category}|{price}|{stock}|{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RYW: ReadRouting = ReadRouting::ReadYourWrites {
        window: Duration::from_secs(5),
        wait_for_replay: false,
    };
    const RYW_WAIT: ReadRouting = ReadRouting::ReadYourWrites {
        window: Duration::from_secs(5),
        wait_for_replay: true,
    };

    #[test]
    fn primary_routing_ignores_replicas() {
        assert_eq!(
            route_read(&ReadRouting::Primary, 3, 7, None),
            ReadDecision::Primary
        );
    }

    #[test]
    fn round_robin_cycles_and_falls_back_to_the_primary_without_replicas() {
        let picks: Vec<_> = (0..4)
            .map(|rr| route_read(&ReadRouting::RoundRobin, 3, rr, None))
            .collect();
        assert_eq!(
            picks,
            [
                ReadDecision::Replica(0),
                ReadDecision::Replica(1),
                ReadDecision::Replica(2),
                ReadDecision::Replica(0)
            ]
        );
        assert_eq!(
            route_read(&ReadRouting::RoundRobin, 0, 5, None),
            ReadDecision::Primary
        );
    }

    #[test]
    fn read_your_writes_steers_only_recent_writes() {
        let recent = Some((Duration::from_secs(1), Some(42)));
        let old = Some((Duration::from_secs(6), Some(42)));
        assert_eq!(route_read(&RYW, 2, 1, recent), ReadDecision::Primary);
        assert_eq!(route_read(&RYW, 2, 1, old), ReadDecision::Replica(1));
        assert_eq!(route_read(&RYW, 2, 1, None), ReadDecision::Replica(1));
        assert_eq!(
            route_read(&RYW_WAIT, 2, 3, recent),
            ReadDecision::ReplicaAfterReplay {
                replica: 1,
                lsn: 42
            }
        );
        // Without a known WAL position there is nothing to wait for: read the primary.
        assert_eq!(
            route_read(&RYW_WAIT, 2, 3, Some((Duration::ZERO, None))),
            ReadDecision::Primary
        );
        assert_eq!(route_read(&RYW_WAIT, 0, 3, recent), ReadDecision::Primary);
    }

    #[test]
    fn keys_map_onto_one_based_ids_modulo_the_entity_count() {
        assert_eq!(product_id(0, 100), 1);
        assert_eq!(product_id(99, 100), 100);
        assert_eq!(product_id(100, 100), 1);
        assert_eq!(user_id(u64::MAX, 10), 6);
        assert_eq!(product_id(5, 0), 1);
        assert!((1..=CATEGORIES as i64).contains(&category_of(123_456)));
        let p = purchase_of(77, 1000);
        assert!((1..=1000).contains(&p));
        assert_eq!(p, purchase_of(77, 1000));
    }

    #[test]
    fn staleness_is_judged_only_after_an_acknowledged_write() {
        let before = Instant::now();
        let t0 = before + Duration::from_millis(1);
        let mark = WriteMark {
            at: t0,
            version: 5,
            lsn: None,
        };
        assert_eq!(
            expected_version(Some(mark), t0 + Duration::from_millis(1)),
            Some(5)
        );
        assert_eq!(expected_version(Some(mark), t0), Some(5));
        assert_eq!(expected_version(Some(mark), before), None);
        assert_eq!(expected_version(None, t0), None);
        assert_eq!(judge(Some(5), 4), Some(true));
        assert_eq!(judge(Some(5), 5), Some(false));
        assert_eq!(judge(None, 1), None);
    }

    #[test]
    fn write_marks_keep_the_newest_version_and_position() {
        let m = WriteMarks::new();
        m.note(Entity::Product, 7, 3, Some(100));
        m.note(Entity::Product, 7, 2, None);
        let got = m.get(Entity::Product, 7).unwrap();
        assert_eq!((got.version, got.lsn), (3, Some(100)));
        assert!(m.get(Entity::User, 7).is_none());
    }

    #[test]
    fn cached_values_lead_with_their_version() {
        assert_eq!(leading_number("12|3|999|5|name"), Some(12));
        assert_eq!(leading_number("garbage"), None);
    }
}
