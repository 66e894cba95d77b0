//! The real operations the strategies differ by, one request at a time against real servers.
//!
//! ```text
//! eval "$(scripts/real-dev-cluster.sh start)"   # or any servers, see below
//! cargo bench --bench real_ops
//! ```
//!
//! | benchmark | what one iteration does |
//! |---|---|
//! | `point_read/primary`, `point_read/replica` | the product-page query (`read_product`'s SQL) by primary key on the primary, on replica-0 |
//! | `cache/hit` | a Redis `GET` of a cached product (cache-aside hit) |
//! | `cache/miss_fill` | a `GET` that misses, the product query on the primary, and a `SET ... EX` (cache-aside miss) |
//! | `order/join` | an order with its items and their product names in one query (three-table `JOIN`) |
//! | `order/n_plus_1` | the same rows as the order, its items, then one query per item's product (1 + 1 + N) |
//! | `page/offset`, `page/cursor` | 20 products at a random depth: `LIMIT 20 OFFSET k` against `WHERE id > k LIMIT 20` (keyset) |
//!
//! Keys (products, orders, pages) are spread over the data set by a fixed hash of the
//! iteration number, the same sequence in every run. One connection per server, prepared
//! statements (sqlx caches them), one request in flight: the figures are latencies, the cost of
//! each operation without queueing, which is what a simulated service time stands for.
//!
//! Servers: `SCALESIM_TEST_PG_PRIMARY` (a `postgres://` URL), `SCALESIM_TEST_PG_REPLICAS`
//! (comma-separated; the first is used), `SCALESIM_TEST_REDIS` (a `redis://` URL), the
//! variables of the loopback tests (`scripts/real-dev-cluster.sh` prints them). Loopback hosts
//! only, as every real run. Without a primary, or when it cannot be reached, the bench prints
//! one line on standard error and does nothing (so `cargo test --bench real_ops`, which
//! `scripts/test.sh` runs, passes on a machine without servers); without replicas or Redis it
//! leaves out those benchmarks, saying so in one line each. The data is scalesim's e-commerce
//! schema: whatever data set the primary already holds (from a real run or another bench), else
//! 100,000 products and 100,000 users (50,000 orders of 1 to 3 items) loaded once by the bench.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use redis::aio::MultiplexedConnection;
use sqlx::{Connection, PgConnection, Row};
use tokio::runtime::Runtime;

use scalesim::real::plan::Endpoints;
use scalesim::real::schema::{self, LoadedData};
use scalesim::real::strategy::READ_PRODUCT;

const ORDER_JOIN: &str = "SELECT o.id, o.total_cents, i.product_id, i.qty, i.price_cents, p.name \
     FROM orders o JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id \
     WHERE o.id = $1";
const ORDER: &str = "SELECT id, total_cents FROM orders WHERE id = $1";
const ORDER_ITEMS: &str =
    "SELECT product_id, qty, price_cents FROM order_items WHERE order_id = $1";
const PRODUCT_NAME: &str = "SELECT name FROM products WHERE id = $1";
const PAGE_OFFSET: &str =
    "SELECT id, name, price_cents FROM products ORDER BY id LIMIT 20 OFFSET $1";
const PAGE_CURSOR: &str =
    "SELECT id, name, price_cents FROM products WHERE id > $1 ORDER BY id LIMIT 20";

/// The data set loaded when the primary holds none.
const PRODUCTS: u64 = 100_000;
const USERS: u64 = 100_000;
const SEED: u64 = 1;
/// Products kept in the cache for `cache/hit`.
const HOT: u64 = 1_000;

fn var(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

fn endpoints() -> Option<Endpoints> {
    let primary = var("SCALESIM_TEST_PG_PRIMARY")?;
    let replicas = var("SCALESIM_TEST_PG_REPLICAS")
        .map(|r| {
            r.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Some(Endpoints {
        primary,
        replicas,
        redis: var("SCALESIM_TEST_REDIS"),
        shards: vec![],
        pgbouncer: None,
        allowed_hosts: vec![],
    })
}

/// A key in `1..=n` for iteration `i`: a fixed scramble, so keys spread over the data set.
fn key(i: u64, n: u64) -> i64 {
    let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_right(29);
    i64::try_from(h % n.max(1) + 1).unwrap_or(1)
}

/// What the bench works on.
struct Data {
    products: u64,
    orders: u64,
}

async fn data(e: &Endpoints) -> anyhow::Result<Data> {
    let have = match schema::loaded_data(e).await? {
        Some(d) => d,
        None => {
            eprintln!("real_ops: loading {PRODUCTS} products and {USERS} users (once)");
            schema::ensure_data(e, PRODUCTS, USERS, SEED).await?;
            LoadedData {
                seed: SEED,
                products: PRODUCTS,
                users: USERS,
            }
        }
    };
    Ok(Data {
        products: have.products,
        orders: have.users / 2,
    })
}

async fn point_read(c: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query(READ_PRODUCT)
        .bind(id)
        .fetch_one(c)
        .await
        .map(drop)
}

async fn order_join(c: &mut PgConnection, id: i64) -> sqlx::Result<usize> {
    Ok(sqlx::query(ORDER_JOIN).bind(id).fetch_all(c).await?.len())
}

async fn order_n_plus_1(c: &mut PgConnection, id: i64) -> sqlx::Result<usize> {
    sqlx::query(ORDER).bind(id).fetch_optional(&mut *c).await?;
    let items = sqlx::query(ORDER_ITEMS).bind(id).fetch_all(&mut *c).await?;
    for item in &items {
        let product: i64 = item.try_get(0)?;
        sqlx::query(PRODUCT_NAME)
            .bind(product)
            .fetch_one(&mut *c)
            .await?;
    }
    Ok(items.len())
}

async fn page(c: &mut PgConnection, sql: &'static str, depth: i64) -> sqlx::Result<usize> {
    Ok(sqlx::query(sql).bind(depth).fetch_all(c).await?.len())
}

/// Runs `op` on the runtime once per iteration; an error ends the bench with its message.
fn bench<T, F>(g: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime, name: &str, mut op: F)
where
    F: AsyncFnMut(u64) -> anyhow::Result<T>,
{
    // Criterion calls the closure again for each phase: the count goes on across them, so a
    // key is never used twice (`cache/miss_fill` needs fresh keys).
    let mut i = 0u64;
    g.bench_function(name, |b| {
        b.iter(|| {
            i += 1;
            rt.block_on(op(i))
                .unwrap_or_else(|e| fail(&format!("{name}: {e:#}")))
        });
    });
}

fn fail(message: &str) -> ! {
    eprintln!("real_ops: failed: {message}");
    std::process::exit(1);
}

fn postgres_benches(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    e: &Endpoints,
    d: &Data,
) -> anyhow::Result<()> {
    let mut primary = rt.block_on(PgConnection::connect(&e.primary))?;
    let n = d.products;
    bench(g, rt, "point_read/primary", async |i| {
        Ok(point_read(&mut primary, key(i, n)).await?)
    });
    match e.replicas.first() {
        Some(url) => {
            let mut replica = rt.block_on(PgConnection::connect(url))?;
            bench(g, rt, "point_read/replica", async |i| {
                Ok(point_read(&mut replica, key(i, n)).await?)
            });
        }
        None => eprintln!("real_ops: point_read/replica skipped: no SCALESIM_TEST_PG_REPLICAS"),
    }
    let orders = d.orders;
    bench(g, rt, "order/join", async |i| {
        Ok(order_join(&mut primary, key(i, orders)).await?)
    });
    bench(g, rt, "order/n_plus_1", async |i| {
        Ok(order_n_plus_1(&mut primary, key(i, orders)).await?)
    });
    let pages = (n / 20).max(1);
    let depth = |i: u64| (key(i, pages) - 1) * 20;
    bench(g, rt, "page/offset", async |i| {
        Ok(page(&mut primary, PAGE_OFFSET, depth(i)).await?)
    });
    bench(g, rt, "page/cursor", async |i| {
        Ok(page(&mut primary, PAGE_CURSOR, depth(i)).await?)
    });
    Ok(())
}

/// Caches products `1..=hot` for `cache/hit`.
async fn warm(redis: &mut MultiplexedConnection, hot: u64) -> anyhow::Result<()> {
    for id in 1..=hot {
        let () = redis::cmd("SET")
            .arg(format!("ss-bench:p:{id}"))
            .arg("1|0|100|10|product")
            .arg("EX")
            .arg(600)
            .query_async(redis)
            .await?;
    }
    Ok(())
}

/// Cache-aside on a miss: GET (which must miss), the product query, SET with a TTL.
async fn miss_fill(
    redis: &mut MultiplexedConnection,
    pg: &mut PgConnection,
    cache_key: &str,
    id: i64,
) -> anyhow::Result<()> {
    let v: Option<String> = redis::cmd("GET").arg(cache_key).query_async(redis).await?;
    anyhow::ensure!(v.is_none(), "a fresh key was in the cache");
    let row = sqlx::query(READ_PRODUCT).bind(id).fetch_one(pg).await?;
    let (version, name): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
    let () = redis::cmd("SET")
        .arg(cache_key)
        .arg(format!("{version}|{name}"))
        .arg("EX")
        .arg(60)
        .query_async(redis)
        .await?;
    Ok(())
}

fn cache_benches(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    e: &Endpoints,
    d: &Data,
) -> anyhow::Result<()> {
    let Some(url) = &e.redis else {
        eprintln!("real_ops: cache/hit and cache/miss_fill skipped: no SCALESIM_TEST_REDIS");
        return Ok(());
    };
    let client = redis::Client::open(url.as_str())?;
    let mut redis = rt.block_on(client.get_multiplexed_async_connection())?;
    let mut pg = rt.block_on(PgConnection::connect(&e.primary))?;
    let hot = HOT.min(d.products);
    rt.block_on(warm(&mut redis, hot))?;
    bench(g, rt, "cache/hit", async |i| {
        let v: Option<String> = redis::cmd("GET")
            .arg(format!("ss-bench:p:{}", key(i, hot)))
            .query_async(&mut redis)
            .await?;
        anyhow::ensure!(v.is_some(), "a warmed key was not in the cache");
        Ok(())
    });
    // Keys no earlier run used, so every GET misses.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.as_nanos());
    let n = d.products;
    bench(g, rt, "cache/miss_fill", async |i| {
        miss_fill(
            &mut redis,
            &mut pg,
            &format!("ss-bench:miss:{run}:{i}"),
            key(i, n),
        )
        .await
    });
    Ok(())
}

fn main() {
    let Some(e) = endpoints() else {
        eprintln!(
            "real_ops: skipped: no server (set SCALESIM_TEST_PG_PRIMARY, and SCALESIM_TEST_PG_REPLICAS and SCALESIM_TEST_REDIS; scripts/real-dev-cluster.sh start prints them)"
        );
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|err| fail(&format!("tokio runtime: {err}")));
    let reach = rt.block_on(async {
        e.check_hosts()?;
        tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&e.primary))
            .await
            .map_err(|_| anyhow::anyhow!("no answer within 5 s"))??;
        anyhow::Ok(())
    });
    if let Err(err) = reach {
        eprintln!(
            "real_ops: skipped: cannot reach the primary named by SCALESIM_TEST_PG_PRIMARY: {err:#}"
        );
        return;
    }
    let d = rt
        .block_on(data(&e))
        .unwrap_or_else(|err| fail(&format!("data: {err:#}")));
    let mut c = Criterion::default()
        .without_plots()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut g = c.benchmark_group("real_ops");
    postgres_benches(&mut g, &rt, &e, &d).unwrap_or_else(|err| fail(&format!("{err:#}")));
    cache_benches(&mut g, &rt, &e, &d).unwrap_or_else(|err| fail(&format!("{err:#}")));
    g.finish();
    c.final_summary();
}
