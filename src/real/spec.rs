//! The `[real]` table of a scenario: which servers to start, how the strategy talks to them,
//! which operation each request class performs, and which faults to inject.
//!
//! Strategies override these fields like any other (`set = { "real.routing" = "round_robin" }`),
//! so each strategy's validated scenario carries its own `[real]` table. Validation follows the
//! scenario loader's rules: unknown fields and bad values are [`ScenarioError`]s naming the file,
//! line and field path. The servers' settings, `durability` (`"durable"`, the default, as a
//! production server: `fsync` on; or `"fast"`: `fsync=off`), `cpus` and `memory` per container
//! (default: no limit), the images, the primary's `max_connections` and the `[real.pgbouncer]`
//! settings belong to the one cluster all strategies share, so they must not differ between
//! strategies ([`check_one_cluster`]). `instances`, `pool_size`, `acquire_timeout` and
//! `through_pgbouncer` are the strategy's app side ([`AppPools`]). A `[sessions]` graph (validated with the scenario) runs for real only
//! with a closed workload, whose users are the shoppers.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::plan::{
    AppPools, CacheMode, ClassPlan, FaultAt, Op, ReadRouting, Reshard, ShardPlan, StrategyPlan,
};
use super::provision::{
    ClusterSpec, Durability, Fault, Limits, MIN_MEMORY_BYTES, MIN_NANO_CPUS, PgBouncerSpec,
    PoolMode, default_pgbouncer_image, default_postgres_image, default_redis_image,
};
use super::sharded::{SHARDED_OPS, router};
use crate::model::shard::{Router, Spec as ShardSpec};
use crate::model::workload::Load as SimLoad;
use crate::scenario::raw::RawDur;
use crate::scenario::units::parse_duration;
use crate::scenario::{Scenario, ScenarioError, doc};

/// `[real]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReal {
    #[serde(default)]
    replicas: usize,
    #[serde(default)]
    shards: usize,
    #[serde(default)]
    redis: bool,
    #[serde(default)]
    redis_replica: bool,
    #[serde(default = "default_rows")]
    products: u64,
    #[serde(default = "default_rows")]
    users: u64,
    #[serde(default = "default_pool")]
    pool_size: u32,
    #[serde(default)]
    routing: Option<String>,
    #[serde(default)]
    ryw_window: Option<RawDur>,
    #[serde(default)]
    wait_for_replay: bool,
    #[serde(default)]
    cache: Option<String>,
    #[serde(default)]
    cache_ttl: Option<RawDur>,
    #[serde(default)]
    single_flight: bool,
    #[serde(default)]
    request_timeout: Option<RawDur>,
    #[serde(default)]
    stale_probe_interval: Option<RawDur>,
    #[serde(default = "default_in_flight")]
    max_in_flight: usize,
    #[serde(default)]
    max_requests: Option<u64>,
    #[serde(default)]
    postgres_image: Option<String>,
    #[serde(default)]
    redis_image: Option<String>,
    #[serde(default)]
    durability: Option<String>,
    #[serde(default)]
    cpus: Option<f64>,
    #[serde(default)]
    memory: Option<RawBytes>,
    #[serde(default)]
    ops: BTreeMap<String, String>,
    #[serde(default)]
    faults: Vec<RawFault>,
    #[serde(default)]
    sharding: Option<RawSharding>,
    #[serde(default)]
    instances: Option<i64>,
    #[serde(default)]
    max_connections: Option<i64>,
    #[serde(default)]
    acquire_timeout: Option<RawDur>,
    #[serde(default)]
    pool_name: Option<String>,
    #[serde(default)]
    through_pgbouncer: bool,
    #[serde(default)]
    pgbouncer: Option<RawPgBouncer>,
}

/// `[real.pgbouncer]` as written: PgBouncer's own setting names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPgBouncer {
    #[serde(default)]
    pool_mode: Option<String>,
    #[serde(default)]
    default_pool_size: Option<i64>,
    #[serde(default)]
    max_client_conn: Option<i64>,
}

/// `[real.sharding]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSharding {
    router: String,
    #[serde(default)]
    shards: Option<usize>,
    #[serde(default)]
    ranges: Option<Vec<String>>,
    #[serde(default)]
    vnodes: Option<u32>,
    #[serde(default)]
    eps: Option<f64>,
    #[serde(default)]
    reshard: Option<RawReshard>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReshard {
    at: RawDur,
    shards: usize,
    #[serde(default)]
    ranges: Option<Vec<String>>,
}

/// A size: bytes as a number, or text with a unit (`"512MiB"`, `"1GiB"`, `"2GB"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawBytes {
    Bytes(i64),
    Text(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    at: RawDur,
    fault: String,
}

fn default_rows() -> u64 {
    100_000
}
fn default_pool() -> u32 {
    8
}
fn default_in_flight() -> usize {
    10_000
}

/// A validated `[real]` table for one strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct RealSpec {
    /// Servers to start (ignored with `--target`).
    pub cluster: ClusterSpec,
    /// The strategy (its name is the scenario strategy's).
    pub strategy: StrategyPlan,
    /// One class plan per scenario class, in class order.
    pub classes: Vec<ClassPlan>,
    /// Faults by time.
    pub faults: Vec<FaultAt>,
    /// Products in the data set.
    pub products: u64,
    /// Users in the data set.
    pub users: u64,
    /// Requests in flight at most.
    pub max_in_flight: usize,
    /// Arrivals at most.
    pub max_requests: Option<u64>,
    /// Client timeout.
    pub request_timeout: Duration,
    /// Stale-read probe period.
    pub stale_probe_interval: Duration,
}

const OPS: [(&str, Op); 12] = [
    ("read_product", Op::ReadProduct),
    ("search_products", Op::SearchProducts),
    ("read_user_orders", Op::ReadUserOrders),
    ("place_order", Op::PlaceOrder),
    ("update_product", Op::UpdateProduct),
    ("listing_join", Op::ListingJoin),
    ("listing_n_plus_1", Op::ListingNPlus1),
    ("page_offset", Op::PageOffset),
    ("page_cursor", Op::PageCursor),
    ("lookup_indexed", Op::LookupIndexed),
    ("lookup_unindexed", Op::LookupUnindexed),
    ("popular_products", Op::PopularProducts),
];

struct V<'a> {
    file: &'a Path,
    text: &'a str,
    context: String,
}

impl V<'_> {
    fn err(&self, field: &str, msg: impl Into<String>) -> ScenarioError {
        let mut e = ScenarioError::new(self.file, format!("real.{field}"), msg);
        e.position = doc::locate(self.text, &e.field);
        e.context = Some(self.context.clone());
        e
    }

    fn dur(
        &self,
        field: &str,
        d: &Option<RawDur>,
        default: &str,
    ) -> Result<Duration, ScenarioError> {
        let secs = match d {
            None => parse_duration(default).map_err(|m| self.err(field, m))?,
            Some(RawDur::Secs(s)) => *s,
            Some(RawDur::Text(t)) => parse_duration(t).map_err(|m| self.err(field, m))?,
        };
        if !(secs.is_finite() && secs > 0.0) {
            return Err(self.err(field, "must be a positive duration"));
        }
        Ok(Duration::from_secs_f64(secs))
    }
}

/// Validates the `[real]` table of `strategy`'s scenario (from `file`, whose effective text is
/// `text`, for error positions).
pub fn real_spec(
    scenario: &Scenario,
    strategy: &str,
    file: &Path,
    text: &str,
) -> Result<RealSpec, ScenarioError> {
    let v = V {
        file,
        text,
        context: format!("strategy \"{strategy}\""),
    };
    let table = scenario.real.clone().ok_or_else(|| {
        ScenarioError::new(
            file,
            "real",
            "this scenario has no [real] table: add one to run it against real servers",
        )
    })?;
    let raw: RawReal =
        toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| {
                let msg = e.message().trim().to_string();
                let unknown = msg
                    .strip_prefix("unknown field `")
                    .and_then(|r| r.split('`').next())
                    .unwrap_or("");
                v.err(&path_of(&table, unknown).unwrap_or_default(), msg.clone())
            })?;
    let routing = routing(&v, &raw)?;
    let cache = match raw.cache.as_deref().unwrap_or("none") {
        "none" => CacheMode::None,
        "cache_aside" => CacheMode::CacheAside {
            ttl: v.dur("cache_ttl", &raw.cache_ttl, "60s")?,
            single_flight: raw.single_flight,
        },
        other => {
            return Err(v
                .err("cache", format!("unknown cache mode `{other}`"))
                .suggest_from(other, &["none", "cache_aside"]));
        }
    };
    if cache != CacheMode::None && !raw.redis {
        return Err(v.err("cache", "a cache needs `redis = true`"));
    }
    if raw.single_flight && cache == CacheMode::None {
        return Err(v.err(
            "single_flight",
            "single flight coalesces cache fills: it needs `cache = \"cache_aside\"`",
        ));
    }
    sessions_closed(&v, scenario)?;
    if raw.pool_size == 0 || raw.products == 0 || raw.users == 0 || raw.max_in_flight == 0 {
        return Err(v.err(
            "pool_size",
            "pool_size, products, users and max_in_flight must be positive",
        ));
    }
    let app = app_pools(&v, &raw, scenario, routing)?;
    let cluster = ClusterSpec {
        postgres_image: raw
            .postgres_image
            .clone()
            .unwrap_or_else(default_postgres_image),
        redis_image: raw.redis_image.clone().unwrap_or_else(default_redis_image),
        pgbouncer_image: default_pgbouncer_image(),
        replicas: raw.replicas,
        shards: raw.shards,
        redis: raw.redis,
        redis_replica: raw.redis_replica,
        durability: durability(&v, &raw)?,
        limits: limits(&v, &raw)?,
        max_connections: count(&v, "max_connections", raw.max_connections, MAX_CONNECTIONS)?,
        pgbouncer: pgbouncer(&v, &raw)?,
    };
    let classes = classes(&v, &raw, &scenario.class_names)?;
    let sharding = sharding(&v, &raw, &classes, routing, cache)?;
    pgbouncer_path(&v, &raw, &classes, sharding.is_some())?;
    Ok(RealSpec {
        cluster,
        strategy: StrategyPlan {
            name: strategy.to_string(),
            routing,
            cache,
            pool_size: raw.pool_size,
            app,
            sharding,
        },
        classes,
        faults: faults(&v, &raw)?,
        products: raw.products,
        users: raw.users,
        max_in_flight: raw.max_in_flight,
        max_requests: raw.max_requests,
        request_timeout: v.dur("request_timeout", &raw.request_timeout, "2s")?,
        stale_probe_interval: v.dur("stale_probe_interval", &raw.stale_probe_interval, "200ms")?,
    })
}

/// `[real.sharding]`: a router the simulator knows, over at most `real.shards` shards, with the
/// operations it can route (every one keyed by user), on the shards alone (no replica routing,
/// no cache).
fn sharding(
    v: &V<'_>,
    raw: &RawReal,
    classes: &[ClassPlan],
    routing: ReadRouting,
    cache: CacheMode,
) -> Result<Option<ShardPlan>, ScenarioError> {
    let Some(s) = &raw.sharding else {
        return Ok(None);
    };
    let base = ShardSpec::default();
    let spec = ShardSpec {
        shards: s.shards.unwrap_or(raw.shards),
        ranges: s.ranges.clone().unwrap_or(base.ranges.clone()),
        vnodes: s.vnodes.unwrap_or(base.vnodes),
        eps: s.eps.unwrap_or(base.eps),
        ..base.clone()
    };
    let reshard = match &s.reshard {
        None => None,
        Some(r) => {
            if r.shards <= spec.shards {
                return Err(v.err(
                    "sharding.reshard.shards",
                    format!(
                        "a resharding adds shards: {} is not more than the {} before",
                        r.shards, spec.shards
                    ),
                ));
            }
            Some(Reshard {
                at: v.dur("sharding.reshard.at", &Some(r.at.clone()), "0s")?,
                spec: ShardSpec {
                    shards: r.shards,
                    ranges: r.ranges.clone().unwrap_or_default(),
                    ..spec.clone()
                },
            })
        }
    };
    let plan = ShardPlan {
        router: s.router.clone(),
        spec,
        reshard,
    };
    if plan.spec.shards == 0 || plan.max_shards() > raw.shards {
        let field = if plan.spec.shards > raw.shards || plan.spec.shards == 0 {
            "sharding.shards"
        } else {
            "sharding.reshard.shards"
        };
        return Err(v.err(
            field,
            format!(
                "the strategy shards over {} shards but `real.shards` starts {}",
                plan.max_shards(),
                raw.shards
            ),
        ));
    }
    router(&plan, raw.users, false).map_err(|m| {
        let e = v.err("sharding.router", m);
        if Router::NAMES.contains(&s.router.as_str()) {
            e
        } else {
            e.suggest_from(&s.router, &Router::NAMES)
        }
    })?;
    if plan.reshard.is_some() {
        router(&plan, raw.users, true).map_err(|m| v.err("sharding.reshard", m))?;
    }
    if routing != ReadRouting::Primary || cache != CacheMode::None {
        return Err(v.err(
            "sharding",
            "a sharded strategy reads and writes its users' shards: it takes no `routing` \
             over replicas and no `cache` (not implemented for real yet)",
        ));
    }
    if let Some(c) = classes.iter().find(|c| !SHARDED_OPS.contains(&c.op)) {
        let names: Vec<&str> = SHARDED_OPS.iter().map(|o| o.name()).collect();
        return Err(v.err(
            &format!("ops.{}", c.name),
            format!(
                "operation `{}` has no sharded implementation yet (sharded: {})",
                c.op.name(),
                names.join(", ")
            ),
        ));
    }
    Ok(Some(plan))
}

/// Most app instances, connections (`max_connections`) or PgBouncer clients a scenario may
/// ask for: a small machine runs them all.
const MAX_INSTANCES: i64 = 1_000;
const MAX_CONNECTIONS: i64 = 10_000;

/// A positive whole number of at most `max` in `field`, if given.
fn count(v: &V<'_>, field: &str, n: Option<i64>, max: i64) -> Result<Option<u32>, ScenarioError> {
    match n {
        None => Ok(None),
        Some(n) if (1..=max).contains(&n) => Ok(u32::try_from(n).ok()),
        Some(n) => Err(v.err(field, format!("must be between 1 and {max}, got {n}"))),
    }
}

/// `instances`, `acquire_timeout`, `through_pgbouncer` and `pool_name`: the app instances'
/// pools to the primary. The pools report under `pool_name`, which must be one of the
/// scenario's `[pools]` when it has any; by default its only pool, else `pool`.
fn app_pools(
    v: &V<'_>,
    raw: &RawReal,
    scenario: &Scenario,
    routing: ReadRouting,
) -> Result<AppPools, ScenarioError> {
    let instances = count(v, "instances", raw.instances, MAX_INSTANCES)?.unwrap_or(1);
    let acquire_timeout = match &raw.acquire_timeout {
        None => None,
        Some(d) => Some(v.dur("acquire_timeout", &Some(d.clone()), "0s")?),
    };
    let pools: Vec<&str> = scenario
        .system
        .shared
        .pools
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let name = match (&raw.pool_name, pools.as_slice()) {
        (Some(n), []) => n.clone(),
        (Some(n), _) if pools.contains(&n.as_str()) => n.clone(),
        (Some(n), _) => {
            return Err(v
                .err(
                    "pool_name",
                    format!(
                        "no pool named `{n}`: the real pools report under one of the \
                         scenario's [pools] ({})",
                        pools.join(", ")
                    ),
                )
                .suggest_from(n, &pools));
        }
        (None, [only]) => (*only).to_owned(),
        (None, _) => "pool".to_owned(),
    };
    if raw.through_pgbouncer && raw.pgbouncer.is_none() {
        return Err(v.err(
            "through_pgbouncer",
            "needs a `[real.pgbouncer]` table (pool_mode, default_pool_size, max_client_conn)",
        ));
    }
    if raw.through_pgbouncer && routing != ReadRouting::Primary {
        return Err(v.err(
            "through_pgbouncer",
            "PgBouncer stands in front of the primary only: use `routing = \"primary\"`",
        ));
    }
    Ok(AppPools {
        instances,
        acquire_timeout,
        via_pgbouncer: raw.through_pgbouncer,
        name,
    })
}

/// `[real.pgbouncer]`: PgBouncer's settings under its own names, with its defaults
/// (`pool_mode = "session"`, `default_pool_size = 20`, `max_client_conn = 100`).
fn pgbouncer(v: &V<'_>, raw: &RawReal) -> Result<Option<PgBouncerSpec>, ScenarioError> {
    let Some(b) = &raw.pgbouncer else {
        return Ok(None);
    };
    let mode = b.pool_mode.as_deref().unwrap_or("session");
    let pool_mode = PoolMode::from_name(mode).ok_or_else(|| {
        v.err(
            "pgbouncer.pool_mode",
            format!("unknown pool_mode `{mode}` (session, transaction or statement)"),
        )
        .suggest_from(mode, &PoolMode::NAMES)
    })?;
    let base = PgBouncerSpec::default();
    Ok(Some(PgBouncerSpec {
        pool_mode,
        default_pool_size: count(
            v,
            "pgbouncer.default_pool_size",
            b.default_pool_size,
            MAX_CONNECTIONS,
        )?
        .unwrap_or(base.default_pool_size),
        max_client_conn: count(
            v,
            "pgbouncer.max_client_conn",
            b.max_client_conn,
            MAX_CONNECTIONS,
        )?
        .unwrap_or(base.max_client_conn),
    }))
}

/// Through PgBouncer, statements go as simple queries with integer parameters written in
/// ([`super::pgpool`]): no sharding, and no operation that takes text.
fn pgbouncer_path(
    v: &V<'_>,
    raw: &RawReal,
    classes: &[ClassPlan],
    sharded: bool,
) -> Result<(), ScenarioError> {
    if !raw.through_pgbouncer {
        return Ok(());
    }
    if sharded {
        return Err(v.err(
            "through_pgbouncer",
            "PgBouncer stands in front of the primary, not the shards: a sharded strategy \
             cannot go through it",
        ));
    }
    if let Some(c) = classes.iter().find(|c| c.op == Op::LookupUnindexed) {
        return Err(v.err(
            &format!("ops.{}", c.name),
            "`lookup_unindexed` takes a text parameter, which the PgBouncer path (simple \
             queries with integer parameters) does not send yet",
        ));
    }
    Ok(())
}

/// The dotted path of the first key `key` in `table` (breadth first: a top-level key before
/// a nested one), for an error serde reports by key alone.
fn path_of(table: &toml::Table, key: &str) -> Option<String> {
    if key.is_empty() {
        return None;
    }
    if table.contains_key(key) {
        return Some(key.to_owned());
    }
    table.iter().find_map(|(k, v)| {
        let inner = v.as_table()?;
        path_of(inner, key).map(|p| format!("{k}.{p}"))
    })
}

fn durability(v: &V<'_>, raw: &RawReal) -> Result<Durability, ScenarioError> {
    let name = raw.durability.as_deref().unwrap_or("durable");
    Durability::from_name(name).ok_or_else(|| {
        v.err(
            "durability",
            format!("unknown durability `{name}` (durable or fast)"),
        )
        .suggest_from(name, &Durability::NAMES)
    })
}

fn limits(v: &V<'_>, raw: &RawReal) -> Result<Limits, ScenarioError> {
    let min_cpus = MIN_NANO_CPUS as f64 / 1e9;
    let nano_cpus = match raw.cpus {
        None => None,
        Some(c) if c.is_finite() && c >= min_cpus && c <= 1024.0 => Some((c * 1e9).round() as i64),
        Some(c) => {
            return Err(v.err(
                "cpus",
                format!("CPUs per container must be between {min_cpus} and 1024, not {c}"),
            ));
        }
    };
    let memory_bytes = match &raw.memory {
        None => None,
        Some(RawBytes::Bytes(b)) => Some(*b),
        Some(RawBytes::Text(t)) => Some(parse_bytes(t).map_err(|m| v.err("memory", m))?),
    };
    if let Some(m) = memory_bytes.filter(|m| *m < MIN_MEMORY_BYTES) {
        return Err(v.err(
            "memory",
            format!("{m} bytes is less than the 64MiB a Postgres container needs"),
        ));
    }
    Ok(Limits {
        nano_cpus,
        memory_bytes,
    })
}

/// `"512MiB"`, `"1.5GiB"`, `"2GB"`, `"1000000B"` to bytes: binary units (KiB, MiB, GiB, TiB)
/// and decimal ones (KB, MB, GB, TB).
fn parse_bytes(text: &str) -> Result<i64, String> {
    const UNITS: [(&str, f64); 9] = [
        ("KiB", 1024.0),
        ("MiB", 1_048_576.0),
        ("GiB", 1_073_741_824.0),
        ("TiB", 1_099_511_627_776.0),
        ("KB", 1e3),
        ("MB", 1e6),
        ("GB", 1e9),
        ("TB", 1e12),
        ("B", 1.0),
    ];
    let t = text.trim();
    let bad =
        || format!("bad size `{text}`: a number with a unit, e.g. \"512MiB\", \"1GiB\", \"2GB\"");
    let (number, scale) = UNITS
        .iter()
        .find_map(|(u, k)| t.strip_suffix(u).map(|n| (n.trim(), *k)))
        .ok_or_else(bad)?;
    let value: f64 = number.parse().map_err(|_| bad())?;
    let bytes = (value * scale).round();
    if !(0.0..9.0e18).contains(&bytes) {
        return Err(bad());
    }
    Ok(bytes as i64)
}

/// Every strategy of a session runs on one cluster, so its durability, limits and images must
/// be the same for all: a strategy that sets them differently is an error naming the field.
pub fn check_one_cluster(specs: &[RealSpec], file: &Path, text: &str) -> Result<(), ScenarioError> {
    let Some(first) = specs.first() else {
        return Ok(());
    };
    for s in &specs[1..] {
        let (a, b) = (&first.cluster, &s.cluster);
        let field = if a.durability != b.durability {
            "durability"
        } else if a.limits.nano_cpus != b.limits.nano_cpus {
            "cpus"
        } else if a.limits.memory_bytes != b.limits.memory_bytes {
            "memory"
        } else if a.postgres_image != b.postgres_image {
            "postgres_image"
        } else if a.redis_image != b.redis_image {
            "redis_image"
        } else if a.max_connections != b.max_connections {
            "max_connections"
        } else if a.pgbouncer != b.pgbouncer {
            "pgbouncer"
        } else {
            continue;
        };
        let v = V {
            file,
            text,
            context: format!("strategy \"{}\"", s.strategy.name),
        };
        return Err(v.err(
            field,
            format!(
                "differs from strategy \"{}\": all strategies run on one cluster, so they \
                 must agree on it",
                first.strategy.name
            ),
        ));
    }
    Ok(())
}

/// Real runs drive `[sessions]` with closed-loop shoppers only.
fn sessions_closed(v: &V<'_>, scenario: &Scenario) -> Result<(), ScenarioError> {
    if scenario.system.shared.sessions.is_none()
        || matches!(scenario.system.load, SimLoad::Closed(_))
    {
        return Ok(());
    }
    let mut e = ScenarioError::new(
        v.file,
        "workload.type",
        "a real run drives `[sessions]` with closed-loop shoppers: use `type = \"users\"` \
         (its users are the concurrent shoppers)",
    );
    e.position = doc::locate(v.text, &e.field);
    e.context = Some(v.context.clone());
    Err(e)
}

fn routing(v: &V<'_>, raw: &RawReal) -> Result<ReadRouting, ScenarioError> {
    Ok(match raw.routing.as_deref().unwrap_or("primary") {
        "primary" => ReadRouting::Primary,
        "round_robin" => ReadRouting::RoundRobin,
        "read_your_writes" => ReadRouting::ReadYourWrites {
            window: v.dur("ryw_window", &raw.ryw_window, "5s")?,
            wait_for_replay: raw.wait_for_replay,
        },
        other => {
            return Err(v
                .err("routing", format!("unknown routing `{other}`"))
                .suggest_from(other, &["primary", "round_robin", "read_your_writes"]));
        }
    })
}

fn classes(v: &V<'_>, raw: &RawReal, names: &[String]) -> Result<Vec<ClassPlan>, ScenarioError> {
    for k in raw.ops.keys() {
        if !names.contains(k) {
            return Err(v
                .err(&format!("ops.{k}"), format!("no class named `{k}`"))
                .suggest_from(k, &names.iter().map(String::as_str).collect::<Vec<_>>()));
        }
    }
    names
        .iter()
        .map(|n| {
            let op_name = raw.ops.get(n).ok_or_else(|| {
                v.err(
                    "ops",
                    format!("class `{n}` has no operation (one of {})", op_list()),
                )
            })?;
            let op = OPS
                .iter()
                .find(|(k, _)| k == op_name)
                .map(|(_, o)| *o)
                .ok_or_else(|| {
                    v.err(
                        &format!("ops.{n}"),
                        format!("unknown operation `{op_name}`"),
                    )
                    .suggest_from(op_name, &OPS.map(|o| o.0))
                })?;
            Ok(ClassPlan {
                name: n.clone(),
                op,
            })
        })
        .collect()
}

fn op_list() -> String {
    OPS.map(|o| o.0).join(", ")
}

fn faults(v: &V<'_>, raw: &RawReal) -> Result<Vec<FaultAt>, ScenarioError> {
    raw.faults
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let field = format!("faults.{i}");
            f.fault
                .parse::<Fault>()
                .map_err(|e| v.err(&format!("{field}.fault"), e.to_string()))?;
            Ok(FaultAt {
                at: v.dur(&format!("{field}.at"), &Some(f.at.clone()), "0s")?,
                fault: f.fault.clone(),
            })
        })
        .collect()
}

trait Suggest {
    fn suggest_from(self, name: &str, candidates: &[&str]) -> Self;
}

impl Suggest for ScenarioError {
    fn suggest_from(self, name: &str, candidates: &[&str]) -> Self {
        self.suggest(name, candidates.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_and_decimal_units() {
        assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
        assert_eq!(parse_bytes("512MiB"), Ok(512 << 20));
        assert_eq!(parse_bytes(" 1.5 GiB "), Ok(3 << 29));
        assert_eq!(parse_bytes("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_bytes("100B"), Ok(100));
        for bad in ["1", "GiB", "1 gigabyte", "-1GiB", "1e30GiB", "1Gib"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
    }
}
