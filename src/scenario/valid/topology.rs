//! Validation of the topology: services (and plain stations), class paths, controllers.

use std::collections::BTreeMap;

use super::{Res, V, dist};
use crate::model::ClassSpec;
use crate::model::DegradeSpec;
use crate::model::autoscale::{HpaControllerSpec, Measure, MemoryModel};
use crate::model::balance::Policy;
use crate::model::breaker::{Breaker, opossum, resilience4j as r4j};
use crate::model::controller::{Action, ControllerSpec};
use crate::model::dist::Dist;
use crate::model::nodes::{ClusterAutoscalerConfig, NodeGroupSpec};
use crate::model::policy::{Forecast, PolicySpec, Rule, RuleAction, RuleMetric, ScalerSpec};
use crate::model::program::{CallPolicy, Count, KeyRoute, Step, TrySpec, ops_bound};
use crate::model::resilience::bulkhead::Limit;
use crate::model::resilience::{Backoff, Budget, Bulkhead};
use crate::model::service::ServiceSpec;
use crate::model::station::{Contention, Discipline, Shed, StationSpec};
use crate::model::workload::KeyDist;
use crate::observe::{ErrorKind, ErrorSet};
use crate::scenario::raw::*;

mod caching;
mod databases;
mod flows;
mod pools;
pub(super) use caching::tiers;
pub(super) use databases::databases;
pub(super) use flows::{class_regions, groups, regions, topics};
pub(super) use pools::{pools, unused_limits};

/// At most this many instances in one service (instance ids live in 24 bits of event kinds).
const MAX_INSTANCES: i64 = 100_000;
/// Most steps one request may run (a bound: repeats at their largest counts).
const MAX_OPS: f64 = 1e7;
/// Deepest nesting of sub-paths.
const MAX_DEPTH: usize = 16;
/// Most attempts of one try scope (contending clients may need many).
const MAX_ATTEMPTS: i64 = 100_000;

/// `[stations]` and `[services]` together, sorted by name (one namespace).
pub(super) fn services(v: &V<'_>, raw: &RawScenario, classes: &[String]) -> Res<Vec<ServiceSpec>> {
    let mut all: BTreeMap<&str, (&str, &RawStation)> = BTreeMap::new();
    for (n, s) in &raw.stations {
        all.insert(n, ("stations", s));
    }
    for (n, s) in &raw.services {
        if all.insert(n, ("services", s)).is_some() {
            return Err(v.err(
                format!("services.{n}"),
                format!("`{n}` is also defined under [stations]: one name, one service"),
            ));
        }
    }
    if all.is_empty() {
        return Err(v.err("services", "define at least one service (or station)"));
    }
    all.iter()
        .map(|(n, (table, s))| service(v, &format!("{table}.{n}"), n, s, classes))
        .collect()
}

fn service(
    v: &V<'_>,
    at: &str,
    name: &str,
    s: &RawStation,
    classes: &[String],
) -> Res<ServiceSpec> {
    let f = |k: &str| format!("{at}.{k}");
    let station = station(v, at, name, s, classes)?;
    let instances = s.instances.unwrap_or(1);
    if !(0..=MAX_INSTANCES).contains(&instances) {
        return Err(v.err(
            f("instances"),
            format!("must be between 0 and {MAX_INSTANCES}, got {instances}"),
        ));
    }
    let policy = match s.balancer.as_deref() {
        None => Policy::RoundRobin,
        Some(b) => Policy::parse(b).ok_or_else(|| {
            v.err(f("balancer"), format!("unknown balancer `{b}`"))
                .suggest(b, Policy::NAMES)
        })?,
    };
    let opt_dist = |k: &str, d: &Option<RawDist>| {
        d.as_ref()
            .map(|d| dist(v, &f(k), d))
            .transpose()
            .map(|d| d.unwrap_or(Dist::Constant(0.0)))
    };
    let factors = |k: &str, xs: &Option<Vec<f64>>| -> Res<Vec<f64>> {
        let xs = xs.clone().unwrap_or_default();
        for (i, x) in xs.iter().enumerate() {
            if !(x.is_finite() && *x > 0.0) {
                return Err(v.err(f(&format!("{k}.{i}")), format!("must be positive, got {x}")));
            }
        }
        Ok(xs)
    };
    Ok(ServiceSpec {
        station,
        instances: instances as u32,
        policy,
        startup: opt_dist("startup", &s.startup)?,
        restart: opt_dist("restart", &s.restart)?,
        speeds: factors("speeds", &s.speeds)?,
        weights: factors("weights", &s.weights)?,
    })
}

fn station(
    v: &V<'_>,
    at: &str,
    name: &str,
    s: &RawStation,
    classes: &[String],
) -> Res<StationSpec> {
    let f = |k: &str| format!("{at}.{k}");
    if s.workers < 1 || s.workers > 1_000_000 {
        return Err(v.err(
            f("workers"),
            format!("must be between 1 and 1000000, got {}", s.workers),
        ));
    }
    let discipline = match s.discipline.as_deref().unwrap_or("fifo") {
        "fifo" => Discipline::Fifo,
        "ps" | "processor_sharing" => Discipline::ProcessorSharing,
        other => {
            return Err(v
                .err(f("discipline"), format!("unknown discipline `{other}`"))
                .suggest(other, ["fifo", "ps"]));
        }
    };
    let queue_capacity = match s.queue_capacity {
        Some(c) if c < 0 => {
            return Err(v.err(
                f("queue_capacity"),
                format!("must be zero or positive, got {c}"),
            ));
        }
        c => c.map(|c| c.min(u32::MAX as i64) as u32),
    };
    let base = dist(v, &f("service"), &s.service)?;
    let mut service = vec![base; classes.len()];
    for (cname, d) in &s.service_by_class {
        let field = f(&format!("service_by_class.{cname}"));
        let i = classes.iter().position(|c| c == cname).ok_or_else(|| {
            v.err(&field, format!("no class named `{cname}`"))
                .suggest(cname, classes.iter().map(String::as_str))
        })?;
        service[i] = dist(v, &field, d)?;
    }
    let mut shed = Shed::default();
    if !s.queue_limit_by_class.is_empty() {
        shed.class_limit = vec![None; classes.len()];
    }
    for (cname, limit) in &s.queue_limit_by_class {
        let field = f(&format!("queue_limit_by_class.{cname}"));
        let i = classes.iter().position(|c| c == cname).ok_or_else(|| {
            v.err(&field, format!("no class named `{cname}`"))
                .suggest(cname, classes.iter().map(String::as_str))
        })?;
        if !(0..=i64::from(u32::MAX)).contains(limit) {
            return Err(v.err(&field, format!("must be zero or positive, got {limit}")));
        }
        shed.class_limit[i] = Some(*limit as u32);
    }
    if let Some(c) = &s.codel {
        let target = v
            .opt_ns(&f("codel.target"), &c.target)?
            .unwrap_or(5_000_000);
        let interval = v
            .opt_ns(&f("codel.interval"), &c.interval)?
            .unwrap_or(100_000_000);
        if target == 0 || interval == 0 {
            return Err(v.err(
                f("codel"),
                "`target` and `interval` must be longer than zero",
            ));
        }
        shed.codel = Some((target, interval));
    }
    if shed != Shed::default() && discipline != Discipline::Fifo {
        return Err(v.err(
            f("discipline"),
            "`codel` and `queue_limit_by_class` shed from a FIFO queue: processor sharing has none",
        ));
    }
    let contention = match &s.contention {
        None => Contention::default(),
        Some(_) if discipline != Discipline::ProcessorSharing => {
            return Err(v.err(
                f("contention"),
                "contention slows the requests sharing the servers: it needs \
                 `discipline = \"ps\"` (a database's backends share its cores)",
            ));
        }
        Some(c) => {
            for (k, x) in [("sigma", c.sigma), ("kappa", c.kappa)] {
                if !(x.is_finite() && (0.0..=1.0).contains(&x)) {
                    return Err(v.err(
                        f(&format!("contention.{k}")),
                        format!("must be between 0 and 1, got {x}"),
                    ));
                }
            }
            Contention {
                sigma: c.sigma,
                kappa: c.kappa,
            }
        }
    };
    Ok(StationSpec {
        name: name.to_string(),
        workers: s.workers as u32,
        discipline,
        queue_capacity,
        shed,
        service,
        contention,
    })
}

/// The size of the key space, for range routing.
fn key_space(k: &KeyDist) -> Option<u64> {
    match k {
        KeyDist::None => None,
        KeyDist::Uniform { n }
        | KeyDist::Zipf { n, .. }
        | KeyDist::Hotspot { n, .. }
        | KeyDist::Scattered { n, .. } => Some(*n),
    }
}

struct Paths<'a> {
    v: &'a V<'a>,
    services: &'a [String],
    keys: Option<u64>,
    class: &'a str,
    scopes: usize,
    shared: &'a mut Registry,
    /// Cache tiers (`[caches]`).
    tiers: &'a [crate::model::tiers::TierSpec],
    /// Replicated databases (`[databases]`), by name.
    databases: &'a [String],
    /// Connection pools (`[pools]`).
    pools: &'a [crate::model::pools::PoolSpec],
    /// Topics (`[topics]`), by name.
    topics: &'a [String],
    /// Regions (`[regions] names`).
    regions: &'a [String],
    /// Consumer groups (`[consumers]`), by name.
    groups: &'a [String],
    /// The region of the class's clients.
    region: Option<u16>,
    /// Services visited so far along the path, in reading order (an in-process tier is read
    /// after a visit to its service).
    visited: Vec<u32>,
}

/// The shared guards paths may name, and what paths declare as they are read (tables of
/// versioned rows, degradation chains).
#[derive(Debug, Default)]
pub(super) struct Registry {
    pub budgets: Vec<String>,
    pub bulkheads: Vec<String>,
    pub breakers: Vec<String>,
    /// Per breaker: opossum's `timeout`, the default per-attempt timeout of its scopes.
    pub breaker_timeouts: Vec<Option<u64>>,
    pub tables: Vec<String>,
    pub degrades: Vec<DegradeSpec>,
    /// Sagas, in the order their steps were met.
    pub sagas: Vec<crate::model::saga::SagaConfig>,
    /// Valid but probably not meant.
    pub warnings: Vec<crate::scenario::ScenarioError>,
}

/// `[budgets]`: retry budgets by name.
pub(super) fn budgets(v: &V<'_>, raw: &RawScenario) -> Res<Vec<(String, Budget)>> {
    raw.budgets
        .iter()
        .map(|(name, b)| {
            let f = |k: &str| format!("budgets.{name}.{k}");
            let budget = match b.kind.as_deref().unwrap_or("tokens") {
                "tokens" => {
                    let max = b.max_tokens.unwrap_or(10.0);
                    if !(max > 0.0 && max <= 1000.0) {
                        return Err(
                            v.err(f("max_tokens"), format!("must be in (0, 1000], got {max}"))
                        );
                    }
                    let ratio = b.token_ratio.unwrap_or(0.1);
                    if !(ratio > 0.0 && ratio <= 1.0) {
                        return Err(
                            v.err(f("token_ratio"), format!("must be in (0, 1], got {ratio}"))
                        );
                    }
                    Budget::tokens(max, ratio)
                }
                "share" => {
                    let pct = b.percent.unwrap_or(20.0);
                    if !(0.0..=100.0).contains(&pct) {
                        return Err(v.err(
                            f("percent"),
                            format!("must be between 0 and 100 %, got {pct}"),
                        ));
                    }
                    let min = b.min_concurrency.unwrap_or(3);
                    if !(0..=1_000_000).contains(&min) {
                        return Err(v.err(
                            f("min_concurrency"),
                            format!("must be between 0 and 1000000, got {min}"),
                        ));
                    }
                    Budget::share(pct, min as u32)
                }
                other => {
                    return Err(v
                        .err(f("type"), format!("unknown budget type `{other}`"))
                        .suggest(other, ["tokens", "share"]));
                }
            };
            Ok((name.clone(), budget))
        })
        .collect()
}

/// `[breakers]`: circuit breakers by name, with the library's defaults for what is unset.
/// Returns each with the opossum `timeout` (a default per-attempt timeout for the scopes that
/// use it).
pub(super) fn breakers(v: &V<'_>, raw: &RawScenario) -> Res<Vec<(String, Breaker, Option<u64>)>> {
    raw.breakers
        .iter()
        .map(|(name, b)| {
            let f = |k: &str| format!("breakers.{name}.{k}");
            let pct = |k: &str, x: Option<f64>, d: f64| -> Res<f64> {
                let x = x.unwrap_or(d);
                if x > 0.0 && x <= 100.0 {
                    Ok(x)
                } else {
                    Err(v.err(f(k), format!("is a percentage in (0, 100], got {x}")))
                }
            };
            let count = |k: &str, x: Option<i64>, d: i64, min: i64| -> Res<u32> {
                let x = x.unwrap_or(d);
                if (min..=1_000_000).contains(&x) {
                    Ok(x as u32)
                } else {
                    Err(v.err(f(k), format!("must be between {min} and 1000000, got {x}")))
                }
            };
            let positive = |k: &str, d: &Option<RawDur>| -> Res<Option<u64>> {
                let x = v.opt_ns(&f(k), d)?;
                if x == Some(0) {
                    return Err(v.err(f(k), "must be longer than zero"));
                }
                Ok(x)
            };
            let r4j = [
                ("failure_rate_threshold", b.failure_rate_threshold.is_some()),
                (
                    "slow_call_rate_threshold",
                    b.slow_call_rate_threshold.is_some(),
                ),
                ("slow_call_duration", b.slow_call_duration.is_some()),
                ("wait_in_open", b.wait_in_open.is_some()),
                ("wait_multiplier", b.wait_multiplier.is_some()),
                (
                    "permitted_calls_in_half_open",
                    b.permitted_calls_in_half_open.is_some(),
                ),
                ("minimum_calls", b.minimum_calls.is_some()),
                ("window_type", b.window_type.is_some()),
                ("window_size", b.window_size.is_some()),
                ("max_wait_in_half_open", b.max_wait_in_half_open.is_some()),
                ("automatic_transition", b.automatic_transition.is_some()),
            ];
            let opossum = [
                ("timeout", b.timeout.is_some()),
                ("reset_timeout", b.reset_timeout.is_some()),
                (
                    "error_threshold_percentage",
                    b.error_threshold_percentage.is_some(),
                ),
                ("rolling_count_timeout", b.rolling_count_timeout.is_some()),
                ("rolling_count_buckets", b.rolling_count_buckets.is_some()),
                ("volume_threshold", b.volume_threshold.is_some()),
                ("allow_warm_up", b.allow_warm_up.is_some()),
            ];
            let foreign = |opts: &[(&str, bool)], lib: &str| -> Res<()> {
                match opts.iter().find(|o| o.1) {
                    Some((k, _)) => {
                        Err(v.err(f(k), format!("is not an option of a {lib} breaker")))
                    }
                    None => Ok(()),
                }
            };
            if name == "none" {
                return Err(v.err(
                    format!("breakers.{name}"),
                    "`none` means no breaker: name it otherwise",
                ));
            }
            match b.kind.as_str() {
                "resilience4j" => {
                    foreign(&opossum, "resilience4j")?;
                    let d = r4j::Config::default();
                    let wait = positive("wait_in_open", &b.wait_in_open)?;
                    let wait_in_open = match (wait, b.wait_multiplier) {
                        (w, Some(m)) => {
                            if !(m.is_finite() && m >= 1.0) {
                                return Err(v.err(
                                    f("wait_multiplier"),
                                    format!("must be at least 1, got {m}"),
                                ));
                            }
                            r4j::WaitInterval::Exponential {
                                initial: w.unwrap_or(60_000_000_000),
                                multiplier: m,
                            }
                        }
                        (Some(w), None) => r4j::WaitInterval::Constant(w),
                        (None, None) => d.wait_in_open,
                    };
                    let window_type = match b.window_type.as_deref().unwrap_or("count") {
                        "count" | "count_based" => r4j::WindowType::CountBased,
                        "time" | "time_based" => r4j::WindowType::TimeBased,
                        other => {
                            return Err(v
                                .err(f("window_type"), format!("unknown window type `{other}`"))
                                .suggest(other, ["count", "time"]));
                        }
                    };
                    let cfg = r4j::Config {
                        window_type,
                        window_size: count(
                            "window_size",
                            b.window_size,
                            i64::from(d.window_size),
                            1,
                        )?,
                        minimum_calls: count(
                            "minimum_calls",
                            b.minimum_calls,
                            i64::from(d.minimum_calls),
                            1,
                        )?,
                        failure_rate_threshold: pct(
                            "failure_rate_threshold",
                            b.failure_rate_threshold,
                            d.failure_rate_threshold,
                        )?,
                        slow_call_rate_threshold: pct(
                            "slow_call_rate_threshold",
                            b.slow_call_rate_threshold,
                            d.slow_call_rate_threshold,
                        )?,
                        slow_call_duration: positive("slow_call_duration", &b.slow_call_duration)?
                            .unwrap_or(d.slow_call_duration),
                        wait_in_open,
                        permitted_calls_in_half_open: count(
                            "permitted_calls_in_half_open",
                            b.permitted_calls_in_half_open,
                            i64::from(d.permitted_calls_in_half_open),
                            1,
                        )?,
                        max_wait_in_half_open: v
                            .opt_ns(&f("max_wait_in_half_open"), &b.max_wait_in_half_open)?
                            .unwrap_or(d.max_wait_in_half_open),
                        automatic_transition: b
                            .automatic_transition
                            .unwrap_or(d.automatic_transition),
                        ..d
                    };
                    Ok((
                        name.clone(),
                        Breaker::Resilience4j(r4j::Breaker::new(cfg, 0)),
                        None,
                    ))
                }
                "opossum" => {
                    foreign(&r4j, "opossum")?;
                    let d = opossum::Options::default();
                    let timeout = match &b.timeout {
                        Some(t) => positive("timeout", &Some(t.clone()))?,
                        None => d.timeout,
                    };
                    let opts = opossum::Options {
                        timeout,
                        reset_timeout: positive("reset_timeout", &b.reset_timeout)?
                            .unwrap_or(d.reset_timeout),
                        error_threshold_percentage: pct(
                            "error_threshold_percentage",
                            b.error_threshold_percentage,
                            d.error_threshold_percentage,
                        )?,
                        rolling_count_timeout: positive(
                            "rolling_count_timeout",
                            &b.rolling_count_timeout,
                        )?
                        .unwrap_or(d.rolling_count_timeout),
                        rolling_count_buckets: count(
                            "rolling_count_buckets",
                            b.rolling_count_buckets,
                            i64::from(d.rolling_count_buckets),
                            1,
                        )?,
                        volume_threshold: u64::from(count(
                            "volume_threshold",
                            b.volume_threshold,
                            d.volume_threshold as i64,
                            0,
                        )?),
                        allow_warm_up: b.allow_warm_up.unwrap_or(d.allow_warm_up),
                        ..d
                    };
                    Ok((
                        name.clone(),
                        Breaker::Opossum(opossum::Breaker::new(opts, 0)),
                        timeout,
                    ))
                }
                other => Err(v
                    .err(f("type"), format!("unknown breaker type `{other}`"))
                    .suggest(other, ["resilience4j", "opossum"])),
            }
        })
        .collect()
}

/// `[bulkheads]`: concurrency limits by name.
pub(super) fn bulkheads(v: &V<'_>, raw: &RawScenario) -> Res<Vec<(String, Bulkhead)>> {
    raw.bulkheads
        .iter()
        .map(|(name, b)| {
            let f = |k: &str| format!("bulkheads.{name}.{k}");
            let count = |k: &str, x: i64| {
                if (1..=1_000_000).contains(&x) {
                    Ok(x as u32)
                } else {
                    Err(v.err(f(k), format!("must be between 1 and 1000000, got {x}")))
                }
            };
            let initial = count("max_concurrent", b.max_concurrent)?;
            let kind = match b.limit.as_deref().unwrap_or("fixed") {
                "fixed" => Limit::Fixed,
                "aimd" => Limit::Aimd {
                    timeout: v
                        .opt_ns(&f("timeout"), &b.timeout)?
                        .unwrap_or(5_000_000_000),
                },
                "gradient" => Limit::Gradient {
                    tolerance: 1.5,
                    smoothing: 0.2,
                },
                other => {
                    return Err(v
                        .err(f("limit"), format!("unknown limit `{other}`"))
                        .suggest(other, ["fixed", "aimd", "gradient"]));
                }
            };
            let min = count("min", b.min.unwrap_or(1))?;
            let max = count("max", b.max.unwrap_or(b.max_concurrent.max(1) * 10))?;
            if min > initial || initial > max {
                return Err(v.err(
                    f("max_concurrent"),
                    format!("must lie between `min` ({min}) and `max` ({max})"),
                ));
            }
            Ok((name.clone(), Bulkhead::new(kind, initial, min, max)))
        })
        .collect()
}

/// The components paths may name, declared in their own sections.
pub(super) struct Declared<'a> {
    /// Cache tiers (`[caches]`).
    pub tiers: &'a [crate::model::tiers::TierSpec],
    /// Replicated databases (`[databases]`), by name.
    pub databases: &'a [String],
    /// Connection pools (`[pools]`).
    pub pools: &'a [crate::model::pools::PoolSpec],
    /// Topics (`[topics]`), by name.
    pub topics: &'a [String],
    /// Regions (`[regions] names`).
    pub regions: &'a [String],
    /// Consumer groups (`[consumers]`), by name.
    pub groups: &'a [String],
}

/// A class: its path tree, timeout and weight.
pub(super) fn class(
    v: &V<'_>,
    name: &str,
    c: &RawClass,
    services: &[String],
    keys: &KeyDist,
    shared: &mut Registry,
    declared: &Declared<'_>,
) -> Res<ClassSpec> {
    let field = format!("classes.{name}.path");
    if c.path.is_empty() {
        // A closed-loop user with no think time would otherwise loop at one instant for ever.
        return Err(v.err(&field, "needs at least one step"));
    }
    let path = Paths {
        v,
        services,
        keys: key_space(keys),
        class: name,
        scopes: 0,
        shared: &mut *shared,
        tiers: declared.tiers,
        databases: declared.databases,
        pools: declared.pools,
        topics: declared.topics,
        regions: declared.regions,
        groups: declared.groups,
        region: c
            .region
            .as_ref()
            .and_then(|r| declared.regions.iter().position(|x| x == r))
            .map(|i| i as u16),
        visited: Vec::new(),
    }
    .path(&field, &c.path, 0)?;
    let ops = ops_bound(&path);
    if ops > MAX_OPS {
        return Err(v.err(
            &field,
            format!("one request would run up to {ops:.3e} steps (repeats multiply); at most {MAX_OPS:e}"),
        ));
    }
    let deadline = v.opt_ns(&format!("classes.{name}.timeout"), &c.timeout)?;
    if deadline.is_none() && unbounded_retries(&path) {
        shared.warnings.push(v.err(
            &field,
            "retries with neither a retry budget nor a class `timeout`: a dependency that keeps \
             failing gets `attempts` times its load for as long as it fails (set `budget` on \
             the try, or `timeout` on the class)",
        ));
    }
    Ok(ClassSpec {
        name: name.to_string(),
        path,
        deadline,
    })
}

/// Whether some try scope on `path` retries with no budget.
fn unbounded_retries(path: &[Step]) -> bool {
    path.iter().any(|s| match s {
        Step::Try(t) => {
            (t.attempts > 1 && t.policy.budget.is_none())
                || unbounded_retries(&t.body)
                || t.fallback.as_deref().is_some_and(unbounded_retries)
        }
        Step::Fork(arms) | Step::ByKey(_, arms, _) => arms.iter().any(|a| unbounded_retries(a)),
        Step::CacheRead(r) => unbounded_retries(&r.load),
        Step::CacheWrite(w) => unbounded_retries(&w.store),
        Step::Branch(arms) => arms.iter().any(|(_, a)| unbounded_retries(a)),
        Step::Repeat(_, b) | Step::Pool(_, b) => unbounded_retries(b),
        Step::Saga(_, steps) => steps.iter().any(|(run, undo)| {
            unbounded_retries(run) || undo.as_deref().is_some_and(unbounded_retries)
        }),
        Step::Geo(arms, _) => arms.iter().flatten().any(|a| unbounded_retries(a)),
        _ => false,
    })
}

/// The index of service `s` among `services`, or an error at `field` suggesting the nearest
/// name.
fn service_index(v: &V<'_>, field: &str, s: &str, services: &[String]) -> Res<u32> {
    services
        .iter()
        .position(|x| x == s)
        .map(|i| i as u32)
        .ok_or_else(|| {
            v.err(field, format!("no service or station named `{s}`"))
                .suggest(s, services.iter().map(String::as_str))
        })
}

impl Paths<'_> {
    fn service(&self, field: &str, s: &str) -> Res<u32> {
        service_index(self.v, field, s, self.services)
    }

    fn path(&mut self, field: &str, steps: &[RawStep], depth: usize) -> Res<Vec<Step>> {
        if depth > MAX_DEPTH {
            return Err(self
                .v
                .err(field, format!("sub-paths nest deeper than {MAX_DEPTH}")));
        }
        steps
            .iter()
            .enumerate()
            .map(|(i, s)| self.step(&format!("{field}.{i}"), s, depth))
            .collect()
    }

    fn arm(&mut self, field: &str, a: &RawArm, depth: usize) -> Res<Vec<Step>> {
        match a {
            RawArm::Visit(s) => {
                let n = self.service(field, s)?;
                self.visited.push(n);
                Ok(vec![Step::Visit(n)])
            }
            RawArm::Path(p) => self.path(field, p, depth + 1),
        }
    }

    fn arms(&mut self, field: &str, arms: &[RawArm], depth: usize) -> Res<Vec<Vec<Step>>> {
        if arms.is_empty() {
            return Err(self.v.err(field, "needs at least one arm"));
        }
        arms.iter()
            .enumerate()
            .map(|(i, a)| self.arm(&format!("{field}.{i}"), a, depth))
            .collect()
    }

    fn step(&mut self, field: &str, s: &RawStep, depth: usize) -> Res<Step> {
        let t = match s {
            RawStep::Visit(n) => {
                let n = self.service(field, n)?;
                self.visited.push(n);
                return Ok(Step::Visit(n));
            }
            RawStep::Special(t) => t,
        };
        let kinds = [
            ("fork", t.fork.is_some()),
            ("delay", t.delay.is_some()),
            ("branch", t.branch.is_some()),
            ("by_key", t.by_key.is_some()),
            ("repeat", t.repeat.is_some()),
            ("try", t.try_.is_some()),
            ("read_version", t.read_version.is_some()),
            ("write_if", t.write_if.is_some()),
            ("degrade", t.degrade.is_some()),
            ("cache", t.cache.is_some()),
            ("write", t.write.is_some()),
            ("db_read", t.db_read.is_some()),
            ("db_write", t.db_write.is_some()),
            ("pool", t.pool.is_some()),
            ("query", t.query.is_some()),
            ("saga", t.saga.is_some()),
            ("publish", t.publish.is_some()),
            ("geo", t.geo.is_some()),
            ("rtt", t.rtt.is_some()),
        ];
        let present: Vec<&str> = kinds.iter().filter(|k| k.1).map(|k| k.0).collect();
        let [kind] = present.as_slice() else {
            return Err(self.v.err(
                field,
                format!(
                    "a step is a service name or a table with exactly one of `fork`, `delay`, \
                     `branch`, `by_key`, `repeat`, `try`, `read_version`, `write_if`, \
                     `degrade`, `cache`, `write`, `db_read`, `db_write`, `pool`, `query`, \
                     `saga`, `publish`, `geo`, `rtt` \
                     (found {})",
                    if present.is_empty() {
                        "none".to_string()
                    } else {
                        present.join(", ")
                    }
                ),
            ));
        };
        self.only(field, t, kind)?;
        let sub = |k: &str| format!("{field}.{k}");
        match *kind {
            "fork" => Ok(Step::Fork(self.arms(
                &sub("fork"),
                t.fork.as_deref().unwrap_or(&[]),
                depth,
            )?)),
            "delay" => Ok(Step::Delay(dist(
                self.v,
                &sub("delay"),
                t.delay.as_ref().expect("present"),
            )?)),
            "branch" => self.branch(&sub("branch"), t.branch.as_deref().unwrap_or(&[]), depth),
            "by_key" => self.by_key(field, t, depth),
            "repeat" => self.repeat(field, t, depth),
            "read_version" => Ok(Step::ReadVersion(
                self.table(t.read_version.as_deref().expect("present")),
            )),
            "write_if" => Ok(Step::WriteIf(
                self.table(t.write_if.as_deref().expect("present")),
            )),
            "degrade" => self.degrade(field, t, depth),
            "cache" => self.cache_read(field, t, depth),
            "write" => self.cache_write(field, t, depth),
            "db_read" | "db_write" => self.db_step(field, t),
            "pool" => self.pool_step(field, t, depth),
            "query" => self.query_step(field, t),
            "saga" => self.saga_step(field, t, depth),
            "publish" => self.publish_step(field, t),
            "geo" => self.geo_step(field, t, depth),
            "rtt" => self.rtt_step(field, t),
            _ => self.try_scope(field, t, depth),
        }
    }

    /// Refuses options that belong to another construct (`attempts` on a fork, ...).
    fn only(&self, field: &str, t: &RawSpecialStep, kind: &str) -> Res<()> {
        let allowed: &[&str] = match kind {
            "by_key" => &["router", "ranges", "vnodes", "name"],
            "repeat" => &["path"],
            "try" => &[
                "name",
                "attempts",
                "timeout",
                "fallback",
                "retry_on",
                "backoff",
                "budget",
                "breaker",
                "bulkhead",
                "propagate_deadline",
                "hedge",
            ],
            "degrade" => &["name"],
            "cache" => &[
                "load",
                "fill",
                "single_flight",
                "early_refresh",
                "stale_while_revalidate",
                "key_mod",
            ],
            "write" => &["name", "policy", "store", "batch", "interval", "crash"],
            "pool" => &["path"],
            "query" => &["scan", "rows", "page", "table", "row_cost"],
            "saga" => &[
                "steps",
                "undo_attempts",
                "undo_backoff",
                "hold",
                "orchestrator",
                "mode",
            ],
            "geo" | "rtt" => &["kb"],
            _ => &[],
        };
        let options = [
            ("router", t.router.is_some()),
            ("ranges", t.ranges.is_some()),
            ("vnodes", t.vnodes.is_some()),
            ("path", t.path.is_some()),
            ("name", t.name.is_some()),
            ("attempts", t.attempts.is_some()),
            ("timeout", t.timeout.is_some()),
            ("fallback", t.fallback.is_some()),
            ("retry_on", t.retry_on.is_some()),
            ("backoff", t.backoff.is_some()),
            ("budget", t.budget.is_some()),
            ("breaker", t.breaker.is_some()),
            ("bulkhead", t.bulkhead.is_some()),
            ("propagate_deadline", t.propagate_deadline.is_some()),
            ("hedge", t.hedge.is_some()),
            ("load", t.load.is_some()),
            ("fill", t.fill.is_some()),
            ("single_flight", t.single_flight.is_some()),
            ("early_refresh", t.early_refresh.is_some()),
            ("stale_while_revalidate", t.stale_while_revalidate.is_some()),
            ("key_mod", t.key_mod.is_some()),
            ("policy", t.policy.is_some()),
            ("store", t.store.is_some()),
            ("batch", t.batch.is_some()),
            ("interval", t.interval.is_some()),
            ("crash", t.crash.is_some()),
            ("scan", t.scan.is_some()),
            ("rows", t.rows.is_some()),
            ("page", t.page.is_some()),
            ("table", t.table.is_some()),
            ("row_cost", t.row_cost.is_some()),
            ("steps", t.steps.is_some()),
            ("undo_attempts", t.undo_attempts.is_some()),
            ("undo_backoff", t.undo_backoff.is_some()),
            ("hold", t.hold.is_some()),
            ("orchestrator", t.orchestrator.is_some()),
            ("kb", t.kb.is_some()),
            ("mode", t.mode.is_some()),
        ];
        match options.iter().find(|(k, set)| *set && !allowed.contains(k)) {
            Some((k, _)) => Err(self.v.err(
                format!("{field}.{k}"),
                format!("`{k}` does not apply to a `{kind}` step"),
            )),
            None => Ok(()),
        }
    }

    fn branch(&mut self, field: &str, arms: &[RawBranchArm], depth: usize) -> Res<Step> {
        if arms.is_empty() {
            return Err(self.v.err(field, "needs at least one `{ p, path }` arm"));
        }
        let mut total = 0.0;
        let mut out = Vec::new();
        for (i, a) in arms.iter().enumerate() {
            let f = format!("{field}.{i}");
            let p = self.v.fraction(&format!("{f}.p"), a.p)?;
            total += p;
            out.push((p, self.path(&format!("{f}.path"), &a.path, depth + 1)?));
        }
        if total > 1.0 + 1e-9 {
            return Err(self.v.err(
                field,
                format!(
                    "probabilities add up to {total}, more than 1 (the rest of 1 skips the branch)"
                ),
            ));
        }
        Ok(Step::Branch(out))
    }

    fn by_key(&mut self, field: &str, t: &RawSpecialStep, depth: usize) -> Res<Step> {
        let arms = self.arms(
            &format!("{field}.by_key"),
            t.by_key.as_deref().unwrap_or(&[]),
            depth,
        )?;
        let router = t.router.as_deref().unwrap_or("hash");
        let f = |k: &str| format!("{field}.{k}");
        let need_keys = || {
            self.keys.ok_or_else(|| {
                self.v.err(
                    f("router"),
                    format!("`{router}` routing needs a key space: set `workload.keys`"),
                )
            })
        };
        if t.ranges.is_some() && router != "range" {
            return Err(self.v.err(f("ranges"), "belongs to `router = \"range\"`"));
        }
        if t.vnodes.is_some() && router != "consistent" {
            return Err(self
                .v
                .err(f("vnodes"), "belongs to `router = \"consistent\"`"));
        }
        let route = match router {
            "hash" => KeyRoute::Hash,
            "range" if t.ranges.is_none() => KeyRoute::Range { keys: need_keys()? },
            "range" | "consistent" | "jump" => {
                let vnodes = t.vnodes.unwrap_or(100);
                if !(1..=100_000).contains(&vnodes) {
                    return Err(self.v.err(
                        f("vnodes"),
                        format!("must be between 1 and 100000, got {vnodes}"),
                    ));
                }
                let spec = crate::model::shard::Spec {
                    shards: arms.len(),
                    key_space: need_keys()?,
                    ranges: t.ranges.clone().unwrap_or_default(),
                    vnodes: vnodes as u32,
                    ..crate::model::shard::Spec::default()
                };
                let r = crate::model::shard::Router::build(router, &spec).map_err(|m| {
                    let at = if router == "range" {
                        "ranges"
                    } else {
                        "router"
                    };
                    self.v.err(f(at), m)
                })?;
                KeyRoute::Shard(Box::new(r))
            }
            "bounded" => {
                return Err(self.v.err(
                    f("router"),
                    "consistent hashing with bounded loads is not in paths yet (it needs the \
                     load in flight per shard); use `consistent`, `jump`, `hash` or `range`",
                ));
            }
            other => {
                return Err(self
                    .v
                    .err(f("router"), format!("unknown router `{other}`"))
                    .suggest(other, ["hash", "range", "consistent", "jump"]));
            }
        };
        if self.keys.is_none() {
            return Err(self.v.err(
                format!("{field}.by_key"),
                "routing by key needs request keys: set `workload.keys`",
            ));
        }
        Ok(Step::ByKey(route, arms, t.name.clone()))
    }

    fn repeat(&mut self, field: &str, t: &RawSpecialStep, depth: usize) -> Res<Step> {
        let f = format!("{field}.repeat");
        let count = match t.repeat.as_ref().expect("present") {
            RawCount::Fixed(n) if (0..=1_000_000).contains(n) => Count::Fixed(*n as u32),
            RawCount::Fixed(n) => {
                return Err(self
                    .v
                    .err(&f, format!("must be between 0 and 1000000, got {n}")));
            }
            RawCount::Dist(d) => self.count(&f, d)?,
        };
        let body = t.path.as_deref().filter(|p| !p.is_empty()).ok_or_else(|| {
            self.v
                .err(format!("{field}.path"), "a repeat needs a non-empty `path`")
        })?;
        Ok(Step::Repeat(
            count,
            self.path(&format!("{field}.path"), body, depth + 1)?,
        ))
    }

    fn count(&self, f: &str, d: &RawCountDist) -> Res<Count> {
        let mean = |d: &RawCountDist| {
            let m = self.v.positive(&format!("{f}.mean"), d.mean)?;
            if m > 1e6 {
                return Err(self.v.err(format!("{f}.mean"), "must be at most 1000000"));
            }
            Ok(m)
        };
        match d.dist.as_str() {
            "uniform" => {
                let (lo, hi) = (d.min.unwrap_or(0), d.max.unwrap_or(-1));
                if !(0 <= lo && lo <= hi && hi <= 1_000_000) {
                    return Err(self.v.err(f, "uniform needs 0 <= min <= max <= 1000000"));
                }
                Ok(Count::Uniform(lo as u32, hi as u32))
            }
            "geometric" => Ok(Count::Geometric(mean(d)?)),
            "poisson" => Ok(Count::Poisson(mean(d)?)),
            other => Err(self
                .v
                .err(
                    format!("{f}.dist"),
                    format!("unknown count distribution `{other}`"),
                )
                .suggest(other, ["uniform", "geometric", "poisson"])),
        }
    }

    fn try_scope(&mut self, field: &str, t: &RawSpecialStep, depth: usize) -> Res<Step> {
        let body = t.try_.as_deref().unwrap_or(&[]);
        if body.is_empty() {
            return Err(self
                .v
                .err(format!("{field}.try"), "needs at least one step"));
        }
        let attempts = t.attempts.unwrap_or(1);
        if !(1..=MAX_ATTEMPTS).contains(&attempts) {
            return Err(self.v.err(
                format!("{field}.attempts"),
                format!("must be between 1 and {MAX_ATTEMPTS}, got {attempts}"),
            ));
        }
        let policy = self.policy(field, t)?;
        let timeout = self.v.opt_ns(&format!("{field}.timeout"), &t.timeout)?;
        if timeout == Some(0) {
            return Err(self
                .v
                .err(format!("{field}.timeout"), "must be longer than zero"));
        }
        // opossum times the call itself: its `timeout` applies unless the scope sets one.
        let timeout = timeout.or_else(|| {
            policy
                .breaker
                .and_then(|b| self.shared.breaker_timeouts[b as usize])
        });
        let fallback = match &t.fallback {
            Some(f) => Some(self.path(&format!("{field}.fallback"), f, depth + 1)?),
            None => None,
        };
        self.scopes += 1;
        let name = t
            .name
            .clone()
            .unwrap_or_else(|| format!("{}.try{}", self.class, self.scopes));
        Ok(Step::Try(Box::new(TrySpec {
            name,
            body: self.path(&format!("{field}.try"), body, depth + 1)?,
            attempts: attempts as u32,
            timeout,
            fallback,
            policy,
        })))
    }

    /// The table named `name`, declared on first use.
    fn table(&mut self, name: &str) -> u32 {
        let t = &mut self.shared.tables;
        match t.iter().position(|x| x == name) {
            Some(i) => i as u32,
            None => {
                t.push(name.to_string());
                t.len() as u32 - 1
            }
        }
    }

    /// A named guard: its index in `names`, or an error naming the section to define it in.
    fn guard(&self, field: &str, section: &str, names: &[String], name: &str) -> Res<u32> {
        names
            .iter()
            .position(|x| x == name)
            .map(|i| i as u32)
            .ok_or_else(|| {
                self.v
                    .err(field, format!("no [{section}.{name}] is defined"))
                    .suggest(name, names.iter().map(String::as_str))
            })
    }

    /// A try scope's retry policy and guards.
    fn policy(&self, field: &str, t: &RawSpecialStep) -> Res<CallPolicy> {
        let mut p = CallPolicy::default();
        if let Some(kinds) = &t.retry_on {
            p.retry_on = ErrorSet::EMPTY;
            for (i, k) in kinds.iter().enumerate() {
                let kind = ErrorSet::parse_kind(k).ok_or_else(|| {
                    self.v
                        .err(
                            format!("{field}.retry_on.{i}"),
                            format!("unknown error kind `{k}`"),
                        )
                        .suggest(k, ErrorKind::ALL.map(ErrorKind::name))
                })?;
                p.retry_on = p.retry_on.with(kind);
            }
        }
        if let Some(b) = &t.backoff {
            p.backoff = self.backoff(&format!("{field}.backoff"), b)?;
        }
        // `none` turns a scenario's guard off (in a strategy's `set`).
        if let Some(b) = t.budget.as_deref().filter(|b| *b != "none") {
            p.budget = Some(self.guard(
                &format!("{field}.budget"),
                "budgets",
                &self.shared.budgets,
                b,
            )?);
        }
        if let Some(b) = t.bulkhead.as_deref().filter(|b| *b != "none") {
            p.bulkhead = Some(self.guard(
                &format!("{field}.bulkhead"),
                "bulkheads",
                &self.shared.bulkheads,
                b,
            )?);
        }
        match t.breaker.as_deref() {
            None | Some("none") => {}
            Some(b) => {
                p.breaker = Some(self.guard(
                    &format!("{field}.breaker"),
                    "breakers",
                    &self.shared.breakers,
                    b,
                )?);
            }
        }
        if let Some(d) = t.propagate_deadline {
            p.propagate_deadline = d;
        }
        if let Some(h) = &t.hedge {
            let h = self.v.ns(&format!("{field}.hedge"), h)?;
            if h == 0 {
                return Err(self.v.err(
                    format!("{field}.hedge"),
                    "the hedge delay must be longer than zero",
                ));
            }
            p.hedge = Some(h);
        }
        Ok(p)
    }

    fn backoff(&self, field: &str, b: &RawBackoff) -> Res<Backoff> {
        let (kind, base, cap) = match b {
            RawBackoff::Name(n) => (n.as_str(), None, None),
            RawBackoff::Table { kind, base, cap } => (kind.as_str(), base.as_ref(), cap.as_ref()),
        };
        let base_ns = match base {
            Some(d) => self.v.ns(&format!("{field}.base"), d)?,
            None if kind == "none" => 0,
            None => {
                return Err(self.v.err(
                    format!("{field}.base"),
                    format!("`{kind}` backoff needs a `base`"),
                ));
            }
        };
        let cap_ns = match cap {
            Some(d) => self.v.ns(&format!("{field}.cap"), d)?,
            None if matches!(kind, "none" | "constant") => base_ns,
            None => {
                return Err(self.v.err(
                    format!("{field}.cap"),
                    format!("`{kind}` backoff needs a `cap` (the longest sleep)"),
                ));
            }
        };
        if cap_ns < base_ns {
            return Err(self
                .v
                .err(format!("{field}.cap"), "must not be shorter than `base`"));
        }
        Backoff::parse(kind, base_ns, cap_ns).ok_or_else(|| {
            self.v
                .err(format!("{field}.type"), format!("unknown backoff `{kind}`"))
                .suggest(kind, Backoff::NAMES)
        })
    }

    /// `degrade = [{ name, path, timeout, quality }, ...]`: level k is a try scope whose
    /// fallback is level k + 1; the last level has none.
    fn degrade(&mut self, field: &str, t: &RawSpecialStep, depth: usize) -> Res<Step> {
        let levels = t.degrade.as_deref().unwrap_or(&[]);
        if levels.len() < 2 {
            return Err(self.v.err(
                format!("{field}.degrade"),
                "needs at least two levels (a fallback chain)",
            ));
        }
        self.scopes += 1;
        let name = t
            .name
            .clone()
            .unwrap_or_else(|| format!("{}.degrade{}", self.class, self.scopes));
        let mut spec = DegradeSpec {
            name: name.clone(),
            levels: Vec::new(),
        };
        let mut built: Vec<TrySpec> = Vec::new();
        for (i, l) in levels.iter().enumerate() {
            let f = format!("{field}.degrade.{i}");
            if !(0.0..=1.0).contains(&l.quality) {
                return Err(self.v.err(
                    format!("{f}.quality"),
                    format!("must be between 0 and 1, got {}", l.quality),
                ));
            }
            if spec.levels.iter().any(|x| x.1 == l.name) {
                return Err(self.v.err(
                    format!("{f}.name"),
                    format!("level `{}` appears twice", l.name),
                ));
            }
            let attempts = l.attempts.unwrap_or(1);
            if !(1..=MAX_ATTEMPTS).contains(&attempts) {
                return Err(self.v.err(
                    format!("{f}.attempts"),
                    format!("must be between 1 and {MAX_ATTEMPTS}, got {attempts}"),
                ));
            }
            let timeout = self.v.opt_ns(&format!("{f}.timeout"), &l.timeout)?;
            if timeout == Some(0) {
                return Err(self
                    .v
                    .err(format!("{f}.timeout"), "must be longer than zero"));
            }
            let scope = format!("{name}.{}", l.name);
            spec.levels.push((scope.clone(), l.name.clone(), l.quality));
            built.push(TrySpec {
                name: scope,
                body: self.path(&format!("{f}.path"), &l.path, depth + 1)?,
                attempts: attempts as u32,
                timeout,
                fallback: None,
                policy: CallPolicy::default(),
            });
        }
        self.shared.degrades.push(spec);
        // Nest from the last level up.
        let mut next: Option<Vec<Step>> = None;
        for mut level in built.into_iter().rev() {
            level.fallback = next;
            next = Some(vec![Step::Try(Box::new(level))]);
        }
        let mut steps = next.expect("at least two levels");
        Ok(steps.remove(0))
    }
}

/// `[controllers.NAME]`.
pub(super) fn controllers(
    v: &V<'_>,
    raw: &RawScenario,
    services: &[String],
) -> Res<Vec<ControllerSpec>> {
    const CURVES: [&str; 6] = ["poisson", "ramp", "stages", "spike", "diurnal", "trace"];
    for (name, c) in &raw.controllers {
        let yesterday = c.forecast.as_deref().unwrap_or("yesterday") == "yesterday";
        if c.kind == "predictive" && yesterday && !CURVES.contains(&raw.workload.kind.as_str()) {
            return Err(v.err(
                format!("controllers.{name}.forecast"),
                format!(
                    "`yesterday` reads the workload's rate curve, and a `{}` workload has none \
                     (use `forecast = \"trend\"`, or a {} workload)",
                    raw.workload.kind,
                    CURVES.join(", ")
                ),
            ));
        }
    }
    raw.controllers
        .iter()
        .filter(|(_, c)| c.kind != "none")
        .map(|(name, c)| controller(v, name, c, services, raw_workers(raw, &c.service)))
        .collect()
}

/// Controller types (`none` switches one off in a strategy, whatever else it sets).
const KINDS: [&str; 6] = ["schedule", "failures", "hpa", "rules", "predictive", "none"];

/// The optional fields a controller table sets.
fn fields_set(c: &RawController) -> Vec<&'static str> {
    let set = [
        ("schedule", !c.schedule.is_empty()),
        ("mtbf", c.mtbf.is_some()),
        ("mttr", c.mttr.is_some()),
        ("manifest", c.manifest.is_some()),
        ("sync_period", c.sync_period.is_some()),
        ("cpu_request", c.cpu_request.is_some()),
        ("memory", c.memory.is_some()),
        ("measure", !c.measure.is_empty()),
        ("nodes", c.nodes.is_some()),
        ("period", c.period.is_some()),
        ("min", c.min.is_some()),
        ("max", c.max.is_some()),
        ("cooldown", c.cooldown.is_some()),
        ("rules", !c.rules.is_empty()),
        ("forecast", c.forecast.is_some()),
        ("lead", c.lead.is_some()),
        ("window", c.window.is_some()),
        ("capacity", c.capacity.is_some()),
        ("target_utilization", c.target_utilization.is_some()),
        ("bias", c.bias.is_some()),
    ];
    set.into_iter().filter(|x| x.1).map(|x| x.0).collect()
}

/// `type = "rules"` or `"predictive"`: a scaler of the service's instances.
fn scale_controller(
    v: &V<'_>,
    name: &str,
    c: &RawController,
    service: u32,
    workers: i64,
) -> Res<ControllerSpec> {
    let f = |k: &str| format!("controllers.{name}.{k}");
    let period = v.opt_ns(&f("period"), &c.period)?.unwrap_or(30_000_000_000);
    if period < 1_000_000 {
        return Err(v.err(f("period"), "must be at least 1 ms"));
    }
    let bound = |k: &str, x: Option<i64>, default: i64| -> Res<u32> {
        let x = x.unwrap_or(default);
        if !(0..=MAX_INSTANCES).contains(&x) {
            return Err(v.err(
                f(k),
                format!("must be between 0 and {MAX_INSTANCES}, got {x}"),
            ));
        }
        Ok(x as u32)
    };
    let (min, max) = (bound("min", c.min, 1)?, bound("max", c.max, MAX_INSTANCES)?);
    if min > max {
        return Err(v.err(f("min"), format!("is above `max` ({min} > {max})")));
    }
    let policy = if c.kind == "rules" {
        if c.rules.is_empty() {
            return Err(v.err(
                f("rules"),
                "needs at least one rule, e.g. `{ metric = \"cpu\", above = 0.8, action = \"double\" }`",
            ));
        }
        let rules = c
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| rule(v, &f(&format!("rules.{i}")), r))
            .collect::<Res<Vec<_>>>()?;
        PolicySpec::Rules {
            rules,
            cooldown: v.opt_ns(&f("cooldown"), &c.cooldown)?.unwrap_or(0),
        }
    } else {
        let forecast = match c.forecast.as_deref().unwrap_or("yesterday") {
            "yesterday" => Forecast::Yesterday,
            "trend" => Forecast::Trend {
                window: v
                    .opt_ns(&f("window"), &c.window)?
                    .unwrap_or(900_000_000_000),
            },
            other => {
                return Err(v
                    .err(f("forecast"), format!("unknown forecast `{other}`"))
                    .suggest(other, ["yesterday", "trend"]));
            }
        };
        if c.window.is_some() && forecast == Forecast::Yesterday {
            return Err(v.err(f("window"), "belongs to `forecast = \"trend\"`"));
        }
        let capacity = match c.capacity {
            Some(x) => v.positive(&f("capacity"), Some(x))?,
            None => {
                return Err(v.err(
                    f("capacity"),
                    format!(
                        "is required: requests per second one instance serves at 100 % busy \
                     (its {workers} workers / the mean service time)"
                    ),
                ));
            }
        };
        let target = c.target_utilization.unwrap_or(0.7);
        if !(target > 0.0 && target <= 1.0) {
            return Err(v.err(
                f("target_utilization"),
                format!("must be in (0, 1], got {target}"),
            ));
        }
        PolicySpec::Predictive {
            forecast,
            lead: v.opt_ns(&f("lead"), &c.lead)?.unwrap_or(0),
            capacity,
            target_utilization: target,
            bias: v.positive(&f("bias"), Some(c.bias.unwrap_or(1.0)))?,
        }
    };
    Ok(ControllerSpec::Scale {
        name: name.to_string(),
        service,
        scaler: Box::new(ScalerSpec {
            policy,
            period,
            min,
            max,
        }),
    })
}

/// `nodes = { cpu, memory, min, max, initial, provision, price_hour, unneeded_time }`.
fn node_group(
    v: &V<'_>,
    at: &str,
    n: &RawNodes,
    pod_cpu: f64,
    pod_memory: f64,
) -> Res<(NodeGroupSpec, ClusterAutoscalerConfig)> {
    let f = |k: &str| format!("{at}.{k}");
    let cpu = v.positive(&f("cpu"), Some(n.cpu))?;
    let memory = crate::scenario::manifest::parse_quantity(&n.memory)
        .map(|m| m / 1000)
        .map_err(|m| v.err(f("memory"), m))?;
    let defaults = NodeGroupSpec::default();
    let count = |k: &str, x: i64| -> Res<u32> {
        u32::try_from(x)
            .ok()
            .filter(|x| *x <= 100_000)
            .ok_or_else(|| v.err(f(k), format!("must be between 0 and 100000, got {x}")))
    };
    let min = count("min", n.min.unwrap_or(1))?;
    let max = count("max", n.max)?;
    let group = NodeGroupSpec {
        cpu_millis: (cpu * 1000.0).round() as i64,
        memory_bytes: memory,
        min_nodes: min,
        max_nodes: max,
        initial_nodes: count("initial", n.initial.unwrap_or(i64::from(min)))?,
        provision_delay_ms: v
            .opt_ns(&f("provision"), &n.provision)?
            .map_or(defaults.provision_delay_ms, |ns| (ns / 1_000_000) as i64),
        price_hour: v.non_negative(
            &f("price_hour"),
            n.price_hour.unwrap_or(defaults.price_hour),
        )?,
        ..defaults
    };
    if pod_cpu * 1000.0 > group.cpu_millis as f64 || pod_memory > group.memory_bytes as f64 {
        return Err(v.err(
            at,
            format!(
                "a pod ({pod_cpu} vCPU, {:.0} MiB) is larger than a node ({cpu} vCPU, {})",
                pod_memory / 1048576.0,
                n.memory
            ),
        ));
    }
    let mut config = ClusterAutoscalerConfig::default();
    if let Some(t) = v.opt_ns(&f("unneeded_time"), &n.unneeded_time)? {
        config.scale_down_unneeded_time_ms = (t / 1_000_000) as i64;
    }
    crate::model::nodes::Cluster::new(group, config).map_err(|m| v.err(at, m))?;
    Ok((group, config))
}

/// One `{ metric, above | below, action, count | factor }` rule.
fn rule(v: &V<'_>, at: &str, r: &RawRule) -> Res<Rule> {
    let f = |k: &str| format!("{at}.{k}");
    let metric = match r.metric.as_str() {
        "cpu" => RuleMetric::Cpu,
        "queue" => RuleMetric::Queue,
        "rps_per_pod" => RuleMetric::RpsPerPod,
        other => {
            return Err(v
                .err(f("metric"), format!("unknown metric `{other}`"))
                .suggest(other, ["cpu", "queue", "rps_per_pod"]));
        }
    };
    if r.above.is_none() && r.below.is_none() {
        return Err(v.err(f("above"), "a rule needs `above` or `below` (or both)"));
    }
    for (k, x) in [("above", r.above), ("below", r.below)] {
        match x {
            Some(x) if !x.is_finite() || x < 0.0 => {
                return Err(v.err(f(k), format!("must be zero or positive, got {x}")));
            }
            Some(x) if metric == RuleMetric::Cpu && x > 1.0 => {
                return Err(v.err(
                    f(k),
                    format!("cpu is the busy share of the workers, 0 to 1 (0.8 is 80 %), got {x}"),
                ));
            }
            _ => {}
        }
    }
    let count = |verb: &str| -> Res<i64> {
        match r.count {
            Some(n) if (0..=MAX_INSTANCES).contains(&n) => Ok(n),
            Some(n) => Err(v.err(
                f("count"),
                format!("must be between 0 and {MAX_INSTANCES}, got {n}"),
            )),
            None => Err(v.err(f("count"), format!("`{verb}` needs `count`"))),
        }
    };
    let action = match r.action.as_str() {
        "double" => RuleAction::Multiply(2.0),
        "halve" => RuleAction::Multiply(0.5),
        "multiply" => RuleAction::Multiply(v.positive(&f("factor"), r.factor)?),
        "add" => RuleAction::Add(count("add")? as i32),
        "remove" => RuleAction::Add(-count("remove")? as i32),
        "set" => RuleAction::Set(count("set")? as u32),
        other => {
            return Err(v
                .err(f("action"), format!("unknown action `{other}`"))
                .suggest(
                    other,
                    ["double", "halve", "multiply", "add", "remove", "set"],
                ));
        }
    };
    let uses_count = matches!(r.action.as_str(), "add" | "remove" | "set");
    if r.count.is_some() && !uses_count {
        return Err(v.err(f("count"), format!("`{}` takes no `count`", r.action)));
    }
    if r.factor.is_some() && r.action != "multiply" {
        return Err(v.err(f("factor"), "belongs to `action = \"multiply\"`"));
    }
    Ok(Rule {
        metric,
        above: r.above,
        below: r.below,
        action,
    })
}

fn controller(
    v: &V<'_>,
    name: &str,
    c: &RawController,
    services: &[String],
    workers: i64,
) -> Res<ControllerSpec> {
    let f = |k: &str| format!("controllers.{name}.{k}");
    if services.iter().any(|s| s == name) {
        return Err(v.err(
            format!("controllers.{name}"),
            format!("`{name}` is also a service: components need distinct names"),
        ));
    }
    let service = services
        .iter()
        .position(|s| *s == c.service)
        .ok_or_else(|| {
            v.err(f("service"), format!("no service named `{}`", c.service))
                .suggest(&c.service, services.iter().map(String::as_str))
        })? as u32;
    let allowed: &[&str] = match c.kind.as_str() {
        "schedule" => &["schedule"],
        "failures" => &["mtbf", "mttr"],
        "hpa" => &[
            "manifest",
            "sync_period",
            "cpu_request",
            "memory",
            "measure",
            "nodes",
        ],
        "rules" => &["period", "min", "max", "cooldown", "rules"],
        "predictive" => &[
            "period",
            "min",
            "max",
            "forecast",
            "lead",
            "window",
            "capacity",
            "target_utilization",
            "bias",
        ],
        other => {
            return Err(v
                .err(f("type"), format!("unknown controller type `{other}`"))
                .suggest(other, KINDS));
        }
    };
    if let Some(stray) = fields_set(c).into_iter().find(|k| !allowed.contains(k)) {
        let list = allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>();
        return Err(v.err(
            f(stray),
            format!(
                "does not belong to a `{}` controller, which takes {}",
                c.kind,
                list.join(", ")
            ),
        ));
    }
    match c.kind.as_str() {
        "hpa" => return hpa_controller(v, name, c, service, workers),
        "rules" | "predictive" => return scale_controller(v, name, c, service, workers),
        "failures" => {
            let need = |k: &str, d: &Option<RawDist>| {
                d.as_ref()
                    .ok_or_else(|| v.err(f(k), "is required for a `failures` controller"))
                    .and_then(|d| dist(v, &f(k), d))
            };
            let (mtbf, mttr) = (need("mtbf", &c.mtbf)?, need("mttr", &c.mttr)?);
            if mtbf.mean() <= 0.0 {
                return Err(v.err(
                    f("mtbf"),
                    "the mean time between failures must be longer than zero",
                ));
            }
            return Ok(ControllerSpec::Failures {
                name: name.to_string(),
                service,
                mtbf,
                mttr,
            });
        }
        _ => {}
    }
    if c.schedule.is_empty() {
        return Err(v.err(
            f("schedule"),
            "needs at least one `{ at, instances }`, `{ at, crash }`, `{ at, slow }` or `{ at, error_rate }` entry",
        ));
    }
    let mut steps = Vec::new();
    for (i, s) in c.schedule.iter().enumerate() {
        let g = |k: &str| f(&format!("schedule.{i}.{k}"));
        let at = v.ns(&g("at"), &s.at)?;
        let set = [
            s.instances.is_some(),
            s.crash.is_some(),
            s.slow.is_some(),
            s.error_rate.is_some(),
        ];
        if set.iter().filter(|x| **x).count() != 1 {
            return Err(v.err(
                f(&format!("schedule.{i}")),
                "an entry sets exactly one of `instances`, `crash`, `slow` and `error_rate`",
            ));
        }
        let action = if let Some(n) = s.instances {
            if !(0..=MAX_INSTANCES).contains(&n) {
                return Err(v.err(
                    g("instances"),
                    format!("must be between 0 and {MAX_INSTANCES}"),
                ));
            }
            Action::Instances(n as u32)
        } else if let Some(k) = s.crash {
            if !(1..=MAX_INSTANCES).contains(&k) {
                return Err(v.err(g("crash"), format!("must be between 1 and {MAX_INSTANCES}")));
            }
            Action::Crash(k as u32)
        } else if let Some(x) = s.slow {
            if !(1.0..=1e6).contains(&x) {
                return Err(v.err(
                    g("slow"),
                    format!("is a slow-down factor between 1 (normal) and 1000000, got {x}"),
                ));
            }
            Action::Slow(x)
        } else {
            let p = s.error_rate.expect("one is set");
            Action::ErrorRate(v.fraction(&g("error_rate"), p)?)
        };
        if steps.last().is_some_and(|(t, _)| *t > at) {
            return Err(v.err(g("at"), "entries must be in time order"));
        }
        steps.push((at, action));
    }
    Ok(ControllerSpec::Schedule {
        name: name.to_string(),
        service,
        steps,
    })
}

/// Workers of the raw service or station `name` (1 if unknown: validation reports that).
fn raw_workers(raw: &RawScenario, name: &str) -> i64 {
    raw.services
        .get(name)
        .or_else(|| raw.stations.get(name))
        .map_or(1, |s| s.workers)
}

/// `type = "hpa"`: a manifest file (autoscaling/v2, as committed for Kubernetes), the sync
/// period, and how the service's instances map to pods (CPU request, memory model).
fn hpa_controller(
    v: &V<'_>,
    name: &str,
    c: &RawController,
    service: u32,
    workers: i64,
) -> Res<ControllerSpec> {
    let f = |k: &str| format!("controllers.{name}.{k}");
    let file = c.manifest.as_ref().ok_or_else(|| {
        v.err(
            f("manifest"),
            "an `hpa` controller needs its manifest (a YAML file)",
        )
    })?;
    let path = v.base_dir.join(file);
    let manifest = crate::scenario::manifest::load_hpa(&path)
        .map_err(|e| v.err(f("manifest"), format!("{e}")))?;
    let sync = v
        .opt_ns(&f("sync_period"), &c.sync_period)?
        .unwrap_or(15_000_000_000);
    if sync < 1_000_000 {
        return Err(v.err(f("sync_period"), "must be at least 1 ms"));
    }
    let cpu = c.cpu_request.unwrap_or(workers as f64);
    if !(cpu > 0.0 && cpu <= 1e6) {
        return Err(v.err(
            f("cpu_request"),
            format!("is the CPU request per pod in vCPUs, positive, got {cpu}"),
        ));
    }
    let quantity = |k: &str, q: &str| -> Res<f64> {
        crate::scenario::manifest::parse_quantity(q)
            .map(|m| m as f64 / 1000.0)
            .map_err(|m| v.err(f(&format!("memory.{k}")), m))
    };
    let memory = match &c.memory {
        Some(m) => Some(MemoryModel {
            request: quantity("request", &m.request)?,
            base: quantity("base", &m.base)?,
            per_request: quantity("per_request", &m.per_request)?,
        }),
        None => None,
    };
    use crate::model::hpa::MetricSpec;
    for (i, m) in manifest.spec.metrics.iter().enumerate() {
        let unsupported = match m {
            MetricSpec::Resource { resource, .. }
            | MetricSpec::ContainerResource { resource, .. } => {
                if resource == "memory" && memory.is_none() {
                    return Err(v.err(f("memory"), format!(
                        "the manifest scales on memory (metric {i}): give the pod's memory model, \
                         `memory = {{ request = \"512Mi\", base = \"200Mi\", per_request = \"2Mi\" }}`"
                    )));
                }
                resource != "memory" && resource != crate::model::hpa::CPU
            }
            _ => false,
        };
        if unsupported {
            return Err(v.err(f("manifest"), format!(
                "metric {i} of {}: the simulator measures cpu, memory, per-pod request rates (Pods) \
                 and custom metrics (Pods, Object, External: see `measure`); other resources are not simulated",
                path.display()
            )));
        }
    }
    let mut measure = BTreeMap::new();
    for (metric, what) in &c.measure {
        let used = manifest.spec.metrics.iter().any(|m| match m {
            MetricSpec::Pods { metric: n, .. }
            | MetricSpec::Object { metric: n, .. }
            | MetricSpec::External { metric: n, .. } => n == metric,
            _ => false,
        });
        if !used {
            return Err(v.err(
                f(&format!("measure.{metric}")),
                format!("the manifest has no custom metric named `{metric}`"),
            ));
        }
        let m = Measure::parse(what).ok_or_else(|| {
            v.err(
                f(&format!("measure.{metric}")),
                format!("unknown measure `{what}`"),
            )
            .suggest(what, Measure::NAMES)
        })?;
        measure.insert(metric.clone(), m);
    }
    let nodes = match &c.nodes {
        Some(n) => Some(node_group(
            v,
            &f("nodes"),
            n,
            cpu,
            memory.map_or(0.0, |m| m.request),
        )?),
        None => None,
    };
    Ok(ControllerSpec::Hpa {
        name: name.to_string(),
        service,
        hpa: Box::new(HpaControllerSpec {
            nodes,
            measure,
            spec: manifest.spec,
            config: crate::model::hpa::Config::default(),
            sync,
            cpu_request: (cpu * 1000.0).round() as i64,
            memory,
        }),
    })
}
