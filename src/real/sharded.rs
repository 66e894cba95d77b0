//! User sharding for real: K Postgres shards, each holding the whole catalogue and the users a
//! shard router gives it (with their orders), and a resharding to more shards that moves those
//! users' rows for real while the load runs.
//!
//! The router is the simulator's own ([`Router`], built from the strategy's [`ShardPlan`] over
//! the user key space: user id − 1), so a user lives on the same shard in both. [`load_shards`]
//! loads every shard from the seeded data set, keeping the users the router gives it: their rows
//! are those an unsharded load writes. A request's key is its user: order history, purchases and
//! user lookups go to the user's shard, and so do the user's product pages and searches (each
//! shard holds the catalogue, as reference data is replicated in sharded deployments).
//! `bounded` routes each request and releases it when it ends, bounding requests in flight per
//! shard, as in the simulator.
//!
//! Resharding (`reshard` in the plan): at its time the users whose shard changes under the new
//! router move in stripes (users with the same id modulo [`STRIPES`]). A request holds its
//! user's stripe lock for reading while it runs; the move takes a stripe's lock for writing,
//! copies its moving users' rows to their new shards (one transaction per destination), deletes
//! them from the old ones (one transaction per source), then routes the stripe by the new
//! router. No request sees a half-moved user and no acknowledged order is lost; a request whose
//! stripe is moving waits, which is, with the copies' work on the shards, the load a resharding
//! adds. A move that fails stops there: the stripes moved so far use the new router, the others
//! keep the old one, and the failure is reported.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection, Row};
use tokio::sync::RwLock;

use super::measure::{Target, Trace};
use super::pgpool::{PgServer, connect_options};
use super::plan::{Op, RealError, ShardPlan};
use super::schema::{LoadReport, Rows, load_into};
use super::strategy::{
    LOOKUP_INDEXED, PLACE_ORDER, READ_ORDERS, READ_PRODUCT, SEARCH, category_of, product_id,
    purchase_of, user_id,
};
use crate::model::shard::{Router, Spec};
use crate::observe::ErrorKind;

/// Stripes of users moved together (and locked together while they move).
pub const STRIPES: usize = 256;

/// Operations a sharded strategy can run (keyed by user).
pub const SHARDED_OPS: [Op; 5] = [
    Op::ReadProduct,
    Op::SearchProducts,
    Op::ReadUserOrders,
    Op::PlaceOrder,
    Op::LookupIndexed,
];

/// Order ids of shard `k` start after `(k + 1) * ORDER_ID_RANGE`, so orders keep their ids when
/// they move.
const ORDER_ID_RANGE: u64 = 1_000_000_000_000;

/// The router of `plan` (or of its resharding, `after`) over `users` users.
pub fn router(plan: &ShardPlan, users: u64, after: bool) -> Result<Router, String> {
    let spec = match (&plan.reshard, after) {
        (Some(r), true) => &r.spec,
        _ => &plan.spec,
    };
    Router::build(
        &plan.router,
        &Spec {
            key_space: users,
            ..spec.clone()
        },
    )
}

/// The shard of 1-based user `user`.
fn owner(router: &Router, user: u64) -> usize {
    router.owner(user.saturating_sub(1))
}

/// Loads every shard in `urls` for `plan`: the catalogue everywhere, each user (with its
/// orders) on its shard under the plan's first router. Shards past the router's count get the
/// catalogue only (a resharding fills them).
pub async fn load_shards(
    urls: &[String],
    plan: &ShardPlan,
    products: u64,
    users: u64,
    seed: u64,
) -> Result<Vec<LoadReport>, RealError> {
    let r = router(plan, users, false).map_err(RealError::InvalidPlan)?;
    let mut out = Vec::with_capacity(urls.len());
    for (k, url) in urls.iter().enumerate() {
        let keep = |u: u64| owner(&r, u) == k;
        let rows = Rows {
            products,
            users,
            seed,
            keep: &keep,
            order_ids_from: (k as u64 + 1) * ORDER_ID_RANGE,
        };
        out.push(load_into(url, &[], &rows).await?);
    }
    Ok(out)
}

/// What a resharding did.
#[derive(Debug, Clone, PartialEq)]
pub struct ReshardRecord {
    /// When it started, from the start of the run.
    pub started: Duration,
    /// How long the move took.
    pub took: Duration,
    /// Shards before and after.
    pub shards: (usize, usize),
    /// Users whose shard changed, and all users.
    pub users_moved: u64,
    /// Users in the data set.
    pub users: u64,
    /// Rows copied (users, orders and order items).
    pub rows_moved: u64,
    /// Why it stopped early, if it did.
    pub error: Option<String>,
}

/// A stripe of users: its lock and whether it routes by the new router.
#[derive(Debug, Default)]
struct Stripe {
    lock: RwLock<()>,
    moved: AtomicBool,
}

/// The routers: the first, and the one a resharding installs.
#[derive(Debug)]
struct Routers {
    old: Router,
    new: Option<Router>,
}

/// The shards of a sharded strategy during a run.
#[derive(Debug)]
pub(crate) struct Sharded {
    servers: Vec<PgServer>,
    urls: Vec<String>,
    routers: Mutex<Routers>,
    plan: ShardPlan,
    stripes: Vec<Stripe>,
    products: u64,
    users: u64,
}

/// A request placed on a shard; `bounded` counts it there until it is dropped.
struct Placed<'a> {
    shard: usize,
    new: bool,
    sharded: &'a Sharded,
}

impl Drop for Placed<'_> {
    fn drop(&mut self) {
        let mut r = self.sharded.lock();
        let router = if self.new {
            r.new.as_mut()
        } else {
            Some(&mut r.old)
        };
        if let Some(router) = router {
            router.release(self.shard);
        }
    }
}

impl Sharded {
    /// Opens `pool_size` connections to each shard the plan uses.
    pub(crate) async fn connect(
        urls: &[String],
        plan: &ShardPlan,
        pool_size: u32,
        products: u64,
        users: u64,
        timeout: Duration,
    ) -> Result<Self, RealError> {
        let old = router(plan, users, false).map_err(RealError::InvalidPlan)?;
        let needed = plan.max_shards();
        if urls.len() < needed {
            return Err(RealError::InvalidPlan(format!(
                "the strategy shards over {needed} shards, the servers have {}",
                urls.len()
            )));
        }
        let mut servers = Vec::with_capacity(needed);
        for (k, url) in urls[..needed].iter().enumerate() {
            let s =
                PgServer::new(&format!("shard-{k}"), url, pool_size)?.statement_timeout(timeout);
            s.prewarm(pool_size as usize).await?;
            servers.push(s);
        }
        Ok(Sharded {
            servers,
            urls: urls[..needed].to_vec(),
            routers: Mutex::new(Routers { old, new: None }),
            plan: plan.clone(),
            stripes: (0..STRIPES).map(|_| Stripe::default()).collect(),
            products,
            users,
        })
    }

    /// Shards the run may use (after a resharding included).
    pub(crate) fn shard_count(&self) -> usize {
        self.servers.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Routers> {
        self.routers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Routes user `user` by the router its stripe uses.
    fn place(&self, user: u64, moved: bool) -> Placed<'_> {
        let mut r = self.lock();
        let (shard, new) = match r.new.as_mut() {
            Some(n) if moved => (n.route(user.saturating_sub(1)), true),
            _ => (r.old.route(user.saturating_sub(1)), false),
        };
        Placed {
            shard,
            new,
            sharded: self,
        }
    }

    /// Runs `op` for the user of `key` on that user's shard.
    pub(crate) async fn run(&self, op: Op, key: u64) -> Result<Trace, ErrorKind> {
        let user = user_id(key, self.users);
        let uid = user.unsigned_abs();
        let stripe = &self.stripes[(uid as usize) % STRIPES];
        let _reading = stripe.lock.read().await;
        let placed = self.place(uid, stripe.moved.load(Ordering::Acquire));
        let server = &self.servers[placed.shard];
        let (sql, params): (&'static str, [i64; 2]) = match op {
            Op::ReadProduct => (READ_PRODUCT, [product_id(key, self.products), 0]),
            Op::SearchProducts => (SEARCH, [category_of(key), 0]),
            Op::ReadUserOrders => (READ_ORDERS, [user, 0]),
            Op::PlaceOrder => (PLACE_ORDER, [user, purchase_of(user, self.products)]),
            Op::LookupIndexed => (LOOKUP_INDEXED, [user, 0]),
            _ => return Err(ErrorKind::Failed),
        };
        let mut c = server.acquire().await?;
        let q = sqlx::query(sql).bind(params[0]);
        let q = if op == Op::PlaceOrder {
            q.bind(params[1])
        } else {
            q
        };
        let res = q.fetch_all(c.conn()).await;
        let rows = c.finish(res)?;
        if op == Op::PlaceOrder && rows.is_empty() {
            return Err(ErrorKind::Failed);
        }
        Ok(Trace {
            target: Target::Shard(placed.shard),
            write: op.is_write(),
            ..Trace::default()
        })
    }

    /// Moves every user whose shard changes under the plan's second router, stripe by stripe
    /// (see the module docs). `started` is the time since the start of the run.
    pub(crate) async fn reshard(&self, started: Duration) -> ReshardRecord {
        let clock = Instant::now();
        let new = match router(&self.plan, self.users, true) {
            Ok(r) => r,
            Err(e) => return self.record(started, clock, 0, 0, Some(e)),
        };
        let old = {
            let mut r = self.lock();
            let old = r.old.clone();
            r.new = Some(new.clone());
            old
        };
        let mut conns = Vec::with_capacity(self.urls.len());
        for url in &self.urls {
            match open(url).await {
                Ok(c) => conns.push(c),
                Err(e) => return self.record(started, clock, 0, 0, Some(e.to_string())),
            }
        }
        let (mut users_moved, mut rows_moved) = (0, 0);
        for (s, stripe) in self.stripes.iter().enumerate() {
            let first = if s == 0 { STRIPES } else { s } as u64;
            let moving: Vec<(u64, usize, usize)> = (first..=self.users)
                .step_by(STRIPES)
                .map(|u| (u, owner(&old, u), owner(&new, u)))
                .filter(|(_, a, b)| a != b)
                .collect();
            let _writing = stripe.lock.write().await;
            match move_users(&mut conns, &moving).await {
                Ok(rows) => rows_moved += rows,
                Err(e) => {
                    let msg = format!("moving stripe {s}: {e}");
                    return self.record(started, clock, users_moved, rows_moved, Some(msg));
                }
            }
            users_moved += moving.len() as u64;
            stripe.moved.store(true, Ordering::Release);
        }
        for c in conns {
            let _ = c.close().await;
        }
        self.record(started, clock, users_moved, rows_moved, None)
    }

    fn record(
        &self,
        started: Duration,
        clock: Instant,
        users_moved: u64,
        rows_moved: u64,
        error: Option<String>,
    ) -> ReshardRecord {
        ReshardRecord {
            started,
            took: clock.elapsed(),
            shards: (self.plan.spec.shards, self.plan.max_shards()),
            users_moved,
            users: self.users,
            rows_moved,
            error,
        }
    }

    /// Closes idle connections.
    pub(crate) async fn close(&self) {
        for s in &self.servers {
            s.close().await;
        }
    }
}

async fn open(url: &str) -> Result<PgConnection, RealError> {
    use sqlx::ConnectOptions;
    connect_options(url)?
        .connect()
        .await
        .map_err(|e| RealError::pg("shard", e))
}

const SELECT_USERS: &str = "SELECT id, name, email, country FROM users WHERE id = ANY($1)";
const SELECT_ORDERS: &str = "SELECT id, user_id, total_cents, created_at::text FROM orders \
                             WHERE user_id = ANY($1)";
const SELECT_ITEMS: &str = "SELECT order_id, product_id, qty, price_cents FROM order_items \
                            WHERE order_id = ANY($1)";
const INSERT_USERS: &str = "INSERT INTO users (id, name, email, country) \
                            SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[])";
const INSERT_ORDERS: &str = "INSERT INTO orders (id, user_id, total_cents, created_at) \
     SELECT i, u, t, c::timestamptz FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::text[]) \
     AS x(i, u, t, c)";
const INSERT_ITEMS: &str = "INSERT INTO order_items (order_id, product_id, qty, price_cents) \
     SELECT * FROM unnest($1::int8[], $2::int8[], $3::int4[], $4::int8[])";
const DELETE_ITEMS: &str =
    "DELETE FROM order_items WHERE order_id IN (SELECT id FROM orders WHERE user_id = ANY($1))";
const DELETE_ORDERS: &str = "DELETE FROM orders WHERE user_id = ANY($1)";
const DELETE_USERS: &str = "DELETE FROM users WHERE id = ANY($1)";

/// Moves the users `(user, from, to)`: per (from, to) pair, reads their rows on `from`, inserts
/// them on `to` in one transaction, then deletes them on `from` in one transaction. Returns
/// the rows moved.
async fn move_users(
    conns: &mut [PgConnection],
    moving: &[(u64, usize, usize)],
) -> Result<u64, sqlx::Error> {
    let mut pairs: Vec<(usize, usize)> = moving.iter().map(|m| (m.1, m.2)).collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut rows = 0;
    for (from, to) in pairs {
        let ids: Vec<i64> = moving
            .iter()
            .filter(|m| (m.1, m.2) == (from, to))
            .map(|m| m.0.cast_signed())
            .collect();
        let users = sqlx::query(SELECT_USERS)
            .bind(&ids)
            .fetch_all(&mut conns[from])
            .await?;
        let orders = sqlx::query(SELECT_ORDERS)
            .bind(&ids)
            .fetch_all(&mut conns[from])
            .await?;
        let order_ids: Vec<i64> = orders.iter().map(|r| r.get::<i64, _>(0)).collect();
        let items = sqlx::query(SELECT_ITEMS)
            .bind(&order_ids)
            .fetch_all(&mut conns[from])
            .await?;
        let mut tx = conns[to].begin().await?;
        sqlx::query(INSERT_USERS)
            .bind(column::<i64>(&users, 0))
            .bind(column::<String>(&users, 1))
            .bind(column::<String>(&users, 2))
            .bind(column::<String>(&users, 3))
            .execute(&mut *tx)
            .await?;
        sqlx::query(INSERT_ORDERS)
            .bind(&order_ids)
            .bind(column::<i64>(&orders, 1))
            .bind(column::<i64>(&orders, 2))
            .bind(column::<String>(&orders, 3))
            .execute(&mut *tx)
            .await?;
        sqlx::query(INSERT_ITEMS)
            .bind(column::<i64>(&items, 0))
            .bind(column::<i64>(&items, 1))
            .bind(column::<i32>(&items, 2))
            .bind(column::<i64>(&items, 3))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut tx = conns[from].begin().await?;
        for sql in [DELETE_ITEMS, DELETE_ORDERS, DELETE_USERS] {
            sqlx::query(sql).bind(&ids).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        rows += (users.len() + orders.len() + items.len()) as u64;
    }
    Ok(rows)
}

/// Column `i` of `rows`.
fn column<T>(rows: &[sqlx::postgres::PgRow], i: usize) -> Vec<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    rows.iter().map(|r| r.get::<T, _>(i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::real::plan::Reshard;

    fn plan(router: &str, shards: usize, to: Option<usize>) -> ShardPlan {
        ShardPlan {
            router: router.into(),
            spec: Spec {
                shards,
                ..Spec::default()
            },
            reshard: to.map(|n| Reshard {
                at: Duration::from_secs(1),
                spec: Spec {
                    shards: n,
                    ..Spec::default()
                },
            }),
        }
    }

    /// A user's shard for real is the simulator's: the router over user id − 1.
    #[test]
    fn users_live_where_the_simulators_router_puts_their_key() {
        let p = plan("jump", 3, Some(4));
        let (before, after) = (
            router(&p, 1000, false).unwrap(),
            router(&p, 1000, true).unwrap(),
        );
        let moved = (1..=1000u64)
            .filter(|u| owner(&before, *u) != owner(&after, *u))
            .count();
        // Jump hash moves about 1/4 of the keys from 3 to 4 shards, all onto the new one.
        assert!((200..300).contains(&moved), "{moved}");
        assert!(
            (1..=1000u64)
                .filter(|u| owner(&before, *u) != owner(&after, *u))
                .all(|u| owner(&after, u) == 3)
        );
        let guide = plan("range", 3, None);
        let r = router(&guide, 100, false).unwrap();
        assert_eq!(owner(&r, 1), 0, "the first user by surname is an A");
        assert_eq!(owner(&r, 100), 2, "the last is a Z");
    }
}
