//! `scalesim real`: one scenario, every strategy, against real servers.
//!
//! The order of a session: validate every strategy's `[real]` table (nothing starts on bad
//! input); start one cluster big enough for all strategies (or use `--target` servers); load the
//! data set once; run the strategies one after another on the same servers, each with the same
//! arrivals as the simulator's first replication (the workload generator is shared, seeded the
//! same way); shut the cluster down whatever happened (Ctrl-C included). The result is the same
//! [`Report`] the simulator produces, with `mode = "real"`, so the two sit side by side.

use std::time::Duration;

use super::loadgen::execute;
use super::plan::{BoxFuture, Endpoints, FaultInjector, Load, RealError, RealPlan, Shoppers};
use super::provision::{Cluster, ClusterSpec, Fault, Topology, install_ctrl_c_cleanup};
use super::schema::{ensure_data, load_data};
use super::setup::{check_external, describe, stamp};
use super::sharded::load_shards;
use super::spec::{RealSpec, check_one_cluster, real_spec};
use super::sql_faults::SqlFaultInjector;
use crate::engine::SimTime;
use crate::model::workload::{ArrivalIter, Load as SimLoad};
use crate::report::summary::{LoadPoint, Report, SCHEMA_VERSION, Summary};
use crate::run::replication_seed;
use crate::scenario::{Loaded, Scenario, ScenarioError};

/// Why a real session failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The scenario's `[real]` part is invalid (exit status 2).
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// Servers could not be started or reached.
    #[error("provisioning: {0}")]
    Provision(#[from] super::provision::ProvisionError),
    /// The run itself failed.
    #[error("real run: {0}")]
    Run(#[from] super::plan::RealError),
    /// The async runtime could not start.
    #[error("tokio runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// Where to run: containers started by scalesim, or existing servers.
#[derive(Debug, Clone)]
pub enum Servers {
    /// Start a cluster with testcontainers.
    Containers,
    /// Existing servers (`--target`).
    External(Topology),
}

/// Validates every strategy's `[real]` table, at the base point and at every named load.
///
/// A load changes the workload, not the servers or the data set: one cluster and one data load
/// serve them all.
pub fn specs(loaded: &Loaded) -> Result<Vec<RealSpec>, ScenarioError> {
    let base = loaded
        .strategies
        .iter()
        .map(|s| real_spec(&s.scenario, &s.name, &loaded.file, &loaded.text))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, l) in loaded.loads.iter().enumerate() {
        for ((s, sc), b) in loaded.strategies.iter().zip(&l.points).zip(&base) {
            let at = real_spec(sc, &s.name, &loaded.file, &loaded.text)?;
            if at.cluster != b.cluster || (at.products, at.users) != (b.products, b.users) {
                let mut e = ScenarioError::new(
                    &loaded.file,
                    format!("loads.{i}.set"),
                    format!(
                        "load \"{}\" changes the real servers or the data set of strategy \"{}\": \
                         a real run starts one cluster and loads the data once, so a load may \
                         change the workload only",
                        l.name, s.name
                    ),
                );
                e.position = crate::scenario::doc::locate(&loaded.text, &e.field);
                return Err(e);
            }
        }
    }
    check_one_cluster(&base, &loaded.file, &loaded.text)?;
    Ok(base)
}

/// The cluster every strategy fits in: the most replicas and shards any asks for, Redis if any
/// uses it; PgBouncer only if a strategy goes through it.
pub(crate) fn union_cluster(specs: &[RealSpec]) -> ClusterSpec {
    let mut c = specs[0].cluster.clone();
    for s in &specs[1..] {
        c.replicas = c.replicas.max(s.cluster.replicas);
        c.shards = c.shards.max(s.cluster.shards);
        c.redis |= s.cluster.redis;
        c.redis_replica |= s.cluster.redis_replica;
    }
    if !specs.iter().any(|s| s.strategy.app.via_pgbouncer) {
        c.pgbouncer = None;
    }
    c
}

/// Runs `loaded` against real servers and returns the report (mode `real`).
pub fn run_real(
    loaded: &Loaded,
    servers: &Servers,
    seed: Option<u64>,
) -> Result<Report, SessionError> {
    let specs = specs(loaded)?;
    let seed = seed.unwrap_or(loaded.base.seed);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let spec = union_cluster(&specs);
        let running = Running::start(servers, &spec).await?;
        if running.cluster.is_none()
            && let Err(e) = check_external(&spec, &running.endpoints).await
        {
            running.shutdown().await?;
            return Err(e.into());
        }
        let started = running.cluster.as_ref().map(|_| &spec);
        let described = describe(started, &running.endpoints.primary).await;
        let result = run_all(loaded, &specs, &running.endpoints, running.faults(), seed).await;
        let down = running.shutdown().await;
        let mut report = result?;
        down?;
        stamp(&mut report, &described);
        Ok(report)
    })
}

/// Servers a session uses: a cluster scalesim started (removed by [`Running::shutdown`], or on
/// Ctrl-C), or existing ones.
pub(crate) struct Running {
    /// Where they listen.
    pub(crate) endpoints: Endpoints,
    cluster: Option<Cluster>,
    sql_faults: Option<SqlFaultInjector>,
}

impl Running {
    /// Starts `spec` in containers, or checks the `--target` servers' addresses.
    pub(crate) async fn start(servers: &Servers, spec: &ClusterSpec) -> Result<Self, SessionError> {
        match servers {
            Servers::External(t) => {
                // Existing servers: faults that SQL can inject (disconnect/reconnect a replica);
                // others are recorded as failed injections and the run goes on.
                let endpoints = endpoints(t);
                let sql_faults = Some(SqlFaultInjector::new(&endpoints)?);
                Ok(Running {
                    endpoints,
                    cluster: None,
                    sql_faults,
                })
            }
            Servers::Containers => {
                install_ctrl_c_cleanup()?;
                eprintln!("scalesim real: starting Postgres/Redis containers…");
                let cluster = Cluster::start(spec).await?;
                Ok(Running {
                    endpoints: endpoints(cluster.topology()),
                    cluster: Some(cluster),
                    sql_faults: None,
                })
            }
        }
    }

    /// The fault injector that fits the servers.
    pub(crate) fn faults(&self) -> &dyn FaultInjector {
        match (&self.cluster, &self.sql_faults) {
            (Some(c), _) => c,
            (None, Some(f)) => f,
            (None, None) => &super::plan::NoFaults,
        }
    }

    /// Removes a started cluster; existing servers are left as they were.
    pub(crate) async fn shutdown(self) -> Result<(), SessionError> {
        match self.cluster {
            Some(c) => Ok(c.shutdown().await?),
            None => Ok(()),
        }
    }
}

fn endpoints(t: &Topology) -> Endpoints {
    Endpoints {
        primary: t.primary.clone(),
        replicas: t.replicas.clone(),
        redis: t.redis.clone(),
        shards: t.shards.clone(),
        pgbouncer: t.pgbouncer.clone(),
        allowed_hosts: Vec::new(),
    }
}

/// Faults go to the cluster scalesim started.
impl FaultInjector for Cluster {
    fn inject<'a>(&'a self, fault: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let f: Fault = fault.parse().map_err(|e| format!("{e}"))?;
            Cluster::inject(self, &f).await.map_err(|e| e.to_string())
        })
    }
}

async fn run_all(
    loaded: &Loaded,
    specs: &[RealSpec],
    ep: &Endpoints,
    faults: &dyn FaultInjector,
    seed: u64,
) -> Result<Report, SessionError> {
    let (products, users) = specs
        .iter()
        .fold((0, 0), |(p, u), s| (p.max(s.products), u.max(s.users)));
    let data = ensure_data(ep, products, users, seed).await?;
    eprintln!(
        "scalesim real: data set ready ({products} products, {users} users{})",
        if data.skipped { ", already loaded" } else { "" }
    );
    let mut report = empty_report(loaded, seed);
    let mut state = Data {
        products,
        users,
        seed,
        written: false,
    };
    for (strategy, spec) in loaded.strategies.iter().zip(specs) {
        eprintln!("scalesim real: running strategy \"{}\"…", strategy.name);
        let sc = &strategy.scenario;
        state.prepare(spec, ep).await?;
        let outcome = execute(plan(sc, spec, seed), load(sc, seed)?, ep, faults).await?;
        report
            .summary
            .strategies
            .push(outcome.to_strategy_summary(sc));
        report.timeseries.extend(outcome.series(0));
        report.cdfs.push(outcome.cdf());
    }
    // Named loads: every strategy again at each, on the same servers (the time series and
    // CDFs stay the base point's, as in a simulated study).
    for l in &loaded.loads {
        let mut point = LoadPoint {
            name: l.name.clone(),
            description: l.description.clone(),
            strategies: Vec::new(),
        };
        for (strategy, sc) in loaded.strategies.iter().zip(&l.points) {
            eprintln!(
                "scalesim real: running strategy \"{}\" at load \"{}\"…",
                strategy.name, l.name
            );
            let spec = real_spec(sc, &strategy.name, &loaded.file, &loaded.text)?;
            state.prepare(&spec, ep).await?;
            let outcome = execute(plan(sc, &spec, seed), load(sc, seed)?, ep, faults).await?;
            point.strategies.push(outcome.to_strategy_summary(sc));
        }
        report.summary.loads.push(point);
    }
    Ok(report)
}

/// The data set of a session, and whether a run has written to the primary's copy since it
/// was loaded.
struct Data {
    products: u64,
    users: u64,
    seed: u64,
    written: bool,
}

impl Data {
    /// Gives every run the same starting state, the seeded data set: a sharded strategy's
    /// shards are loaded afresh (its router decides where each user lives, and an earlier
    /// run's orders and moves are gone); for the others the primary (and through it the
    /// replicas) is reloaded when an earlier run wrote to it (orders placed, products
    /// updated). The cache is flushed at the start of every run ([`execute`]).
    async fn prepare(&mut self, spec: &RealSpec, ep: &Endpoints) -> Result<(), SessionError> {
        if let Some(plan) = &spec.strategy.sharding {
            eprintln!(
                "scalesim real: loading {} shards for router `{}`…",
                ep.shards.len(),
                plan.router
            );
            load_shards(&ep.shards, plan, spec.products, spec.users, self.seed).await?;
            return Ok(());
        }
        if self.written {
            eprintln!("scalesim real: reloading the data set (the previous run wrote to it)…");
            load_data(ep, self.products, self.users, self.seed).await?;
        }
        self.written = spec.classes.iter().any(|c| c.op.is_write());
        Ok(())
    }
}

fn empty_report(loaded: &Loaded, seed: u64) -> Report {
    let sys = &loaded.base.system;
    Report {
        summary: Summary {
            schema: SCHEMA_VERSION,
            scenario: loaded.base.name.clone(),
            scenario_hash: loaded.hash.clone(),
            seed,
            replications: 1,
            mode: "real".into(),
            horizon_s: SimTime(sys.duration.saturating_sub(sys.warmup)).as_secs_f64(),
            warmup_s: SimTime(sys.warmup).as_secs_f64(),
            strategies: Vec::new(),
            points: Vec::new(),
            capacity: Vec::new(),
            cost_growth: Vec::new(),
            auto_replications: None,
            loads: Vec::new(),
            study: None,
            comparison: None,
        },
        timeseries: Vec::new(),
        cdfs: Vec::new(),
        description: loaded.base.description.clone(),
        scenario_text: loaded.text.clone(),
    }
}

fn plan(sc: &Scenario, spec: &RealSpec, seed: u64) -> RealPlan {
    let sys = &sc.system;
    RealPlan {
        duration: Duration::from_nanos(sys.duration.saturating_sub(sys.warmup)),
        warmup: Duration::from_nanos(sys.warmup),
        seed,
        classes: spec.classes.clone(),
        strategy: spec.strategy.clone(),
        faults: spec.faults.clone(),
        products: spec.products,
        users: spec.users,
        max_in_flight: spec.max_in_flight,
        bucket: Duration::from_nanos(sys.bucket).max(Duration::from_millis(100)),
        stale_probe_interval: spec.stale_probe_interval,
        request_timeout: spec.request_timeout,
        max_requests: spec.max_requests,
        flush_cache: true,
    }
}

/// The scenario's workload as the real driver's load: the open arrivals are exactly those of the
/// simulator's replication 0 (same generator, same seed); closed users keep their count, ramp and
/// mean think time, and draw classes and keys from the scenario's mix with the simulator's
/// samplers; with `[sessions]`, closed users are shoppers walking the scenario's graph, with
/// its think times and patience and the workload's think time between sessions.
fn load(sc: &Scenario, seed: u64) -> Result<Load, SessionError> {
    let sys = &sc.system;
    match &sys.load {
        SimLoad::Open(_) if sys.shared.sessions.is_some() => Err(RealError::InvalidPlan(
            "real runs drive sessions closed loop: use `type = \"users\"`".into(),
        )
        .into()),
        SimLoad::Open(a) => {
            let iter = ArrivalIter::new(
                a.clone(),
                sys.mix.clone(),
                replication_seed(seed, 0),
                sys.duration,
            );
            Ok(Load::Open(Box::new(iter)))
        }
        SimLoad::Closed(u) => {
            let ramp = if u.target.start > 0.0 {
                0
            } else {
                u.target.points.first().map_or(0, |p| p.0)
            };
            let users = u.target.max().ceil() as u32;
            if let Some(graph) = &sys.shared.sessions {
                return Ok(Load::Sessions(Shoppers {
                    users,
                    ramp: Duration::from_nanos(ramp),
                    think: u.think.clone(),
                    graph: graph.clone(),
                    keys: sys.mix.keys.clone(),
                }));
            }
            Ok(Load::Closed {
                users,
                think_mean: Duration::from_secs_f64(u.think.mean().max(0.0)),
                ramp: Duration::from_nanos(ramp),
                mix: sys.mix.clone(),
            })
        }
    }
}

/// Parses `--target` values: `primary=URL`, `replica=URL` and `shard=URL` (repeatable, in
/// order), `redis=URL`, `pgbouncer=URL` (PgBouncer in front of the primary).
pub fn parse_targets(values: &[String]) -> Result<Topology, String> {
    let (mut primary, mut replicas, mut shards, mut redis) = (None, Vec::new(), Vec::new(), None);
    let mut pgbouncer = None;
    for v in values {
        let (k, url) = v.split_once('=').ok_or_else(|| {
            format!(
                "`--target {v}`: expected primary=URL, replica=URL, shard=URL, redis=URL or \
                 pgbouncer=URL"
            )
        })?;
        match k {
            "primary" => primary = Some(url.to_string()),
            "replica" => replicas.push(url.to_string()),
            "shard" => shards.push(url.to_string()),
            "redis" => redis = Some(url.to_string()),
            "pgbouncer" => pgbouncer = Some(url.to_string()),
            other => {
                return Err(format!(
                    "`--target {v}`: unknown role `{other}` (primary, replica, shard, redis, \
                     pgbouncer)"
                ));
            }
        }
    }
    let primary = primary.ok_or("--target needs primary=URL")?;
    let mut t = Topology::external(&primary, &replicas, &shards, redis.as_deref());
    t.pgbouncer = pgbouncer;
    Ok(t)
}
