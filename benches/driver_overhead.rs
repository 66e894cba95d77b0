//! Driver overhead: scalesim's real load generator against `pgbench` and `redis-benchmark`.
//!
//! ```text
//! cargo bench --bench driver_overhead
//! ```
//!
//! Both sides run closed loop at full speed (no think time) with the same number of clients,
//! one request per transaction, no pipelining, on the same servers:
//!
//! - Postgres: a primary-key point select. `pgbench -n -S -M prepared` (its built-in
//!   select-only script on `pgbench_accounts`, scale 1 = 100,000 rows) and `pgbench -f` with
//!   scalesim's own product query on `products` (100,000 rows), against scalesim's
//!   `read_product` on the primary without a cache.
//! - Redis: `redis-benchmark -t get` (random keys over 100,000) against scalesim's
//!   `read_product` with a warmed cache-aside cache (every request one GET hit).
//!
//! The peer and scalesim alternate over `SCALESIM_BENCH_ROUNDS` rounds (default 5; the peer
//! first in odd rounds) and the median ratio `scalesim / peer` is printed (the target is at
//! least 0.80), with each side's client CPU time per request (the peer tool's from the
//! kernel's child accounting, scalesim's own process, warm-up included), which is steadier
//! than throughput on a shared machine. Both pgbench scripts get their own rounds. The
//! data-load time is printed when the data is (re)loaded. It skips with one line when
//! `SCALESIM_TEST_PG_PRIMARY` is unset or a peer tool is missing. Runtime: 2 Tokio workers
//! (`SCALESIM_BENCH_WORKERS`, 0 for a current-thread runtime), as pgbench's `-j 2`.
//!
//! `SCALESIM_BENCH_ONLY=strategies` instead runs every read strategy once, open loop, on the
//! same data (browse/search/history/buy/edit mix, Zipf keys, `SCALESIM_BENCH_RATE` requests
//! per second, default 1000), then round robin and read-your-writes while replica-0 is cut
//! from the primary (SQL fault injection, needs a superuser), and prints latency, stale
//! reads, hit ratio and lag.
//!
//! Environment: `SCALESIM_TEST_PG_PRIMARY`, `SCALESIM_TEST_PG_REPLICAS`, `SCALESIM_TEST_REDIS`
//! (as the integration tests; replicas only matter for the load's catch-up time);
//! `SCALESIM_BENCH_SECS` per run (default 4), `SCALESIM_BENCH_ROUNDS` (default 5),
//! `SCALESIM_BENCH_ONLY` (`postgres` or `redis`), `SCALESIM_BENCH_PG_CLIENTS` (default 16),
//! `SCALESIM_BENCH_REDIS_CLIENTS` (default 50), `SCALESIM_BENCH_USERS` (users in the data
//! set, default 1,000,000), `SCALESIM_BENCH_RELOAD=1` to reload the data even when present
//! (to time the load).
#![allow(missing_docs)]

use std::process::Command;
use std::time::Duration;

use scalesim::model::workload::KeyDist;
use scalesim::real::loadgen::execute;
use scalesim::real::measure::RealOutcome;
use scalesim::real::plan::{
    CacheMode, ClassPlan, Endpoints, FaultAt, FaultInjector, Load, NoFaults, Op, ReadRouting,
    RealPlan, StrategyPlan,
};
use scalesim::real::schema;
use scalesim::real::sql_faults::SqlFaultInjector;
use scalesim::real::strategy::warm_cache;
use scalesim::real::workload::{mix, poisson_arrivals};
use scalesim::report::summary::StrategySummary;
use scalesim::scenario::{self, Scenario};

const PRODUCTS: u64 = 100_000;
const SEED: u64 = 1;

/// A scenario with these classes, to reduce an outcome to a summary.
fn scenario<'a>(classes: impl IntoIterator<Item = &'a str>) -> Scenario {
    let mut text = String::from(
        "name = \"bench\"\nduration = \"10s\"\n\
         [workload]\ntype = \"poisson\"\nrate = 1\n\
         [stations.db]\nworkers = 1\nservice = \"1ms\"\n",
    );
    for c in classes {
        text.push_str(&format!("[classes.{c}]\npath = [\"db\"]\n"));
    }
    scenario::load_str(&text, std::path::Path::new("bench.toml"), &[])
        .expect("valid scenario")
        .base
}

fn env_u64(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is expected.
    let Ok(primary) = std::env::var("SCALESIM_TEST_PG_PRIMARY") else {
        println!(
            "driver_overhead: skipped: set SCALESIM_TEST_PG_PRIMARY (and SCALESIM_TEST_REDIS)"
        );
        return;
    };
    let replicas = std::env::var("SCALESIM_TEST_PG_REPLICAS").unwrap_or_default();
    let endpoints = Endpoints {
        primary,
        // Only the data load uses the replicas (it waits for them to catch up).
        replicas: replicas
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        redis: std::env::var("SCALESIM_TEST_REDIS")
            .ok()
            .filter(|r| !r.is_empty()),
        ..Endpoints::default()
    };
    let workers = env_u64("SCALESIM_BENCH_WORKERS", 2);
    let mut builder = if workers == 0 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(usize::try_from(workers).unwrap_or(2));
        b
    };
    let rt = builder.enable_all().build().expect("tokio runtime");
    if let Err(e) = rt.block_on(run(&endpoints)) {
        println!("driver_overhead: failed: {e:#}");
        std::process::exit(1);
    }
}

async fn run(e: &Endpoints) -> anyhow::Result<()> {
    let secs = env_u64("SCALESIM_BENCH_SECS", 4);
    let users = env_u64("SCALESIM_BENCH_USERS", 1_000_000);
    let report = if std::env::var("SCALESIM_BENCH_RELOAD").is_ok_and(|v| v == "1") {
        schema::load_data(e, PRODUCTS, users, SEED).await?
    } else {
        schema::ensure_data(e, PRODUCTS, users, SEED).await?
    };
    if report.skipped {
        println!("driver_overhead: data already loaded (SCALESIM_BENCH_RELOAD=1 to time the load)");
    } else {
        println!(
            "driver_overhead: loaded {} products, {} users, {} orders, {} order items: \
             copy {:.1} s + indexes {:.1} s + replica catch-up {:.1} s = {:.1} s",
            report.products,
            report.users,
            report.orders,
            report.order_items,
            report.copy.as_secs_f64(),
            report.index.as_secs_f64(),
            report.replicas.as_secs_f64(),
            report.total().as_secs_f64()
        );
    }
    let n = env_u64("SCALESIM_BENCH_ROUNDS", 5).max(1);
    let only = std::env::var("SCALESIM_BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "postgres" {
        postgres(e, secs, n).await?;
    }
    if only.is_empty() || only == "redis" {
        redis(e, secs, n).await?;
    }
    if only == "strategies" {
        strategies(e).await?;
    }
    Ok(())
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn read_plan(name: &str, cache: CacheMode, clients: u32, secs: u64) -> RealPlan {
    RealPlan {
        duration: Duration::from_secs(secs),
        warmup: Duration::from_secs(1),
        classes: vec![ClassPlan {
            name: "read".into(),
            op: Op::ReadProduct,
        }],
        strategy: StrategyPlan {
            name: name.into(),
            routing: ReadRouting::Primary,
            cache,
            pool_size: clients,
            app: scalesim::real::plan::AppPools::default(),
            sharding: None,
        },
        products: PRODUCTS,
        users: 1,
        request_timeout: Duration::from_secs(5),
        flush_cache: false,
        ..RealPlan::default()
    }
}

/// One side's measurement: throughput and client CPU per request.
#[derive(Debug, Clone, Copy)]
struct Side {
    rps: f64,
    cpu_us_per_req: f64,
}

/// CPU seconds used so far by this process (`self`) and by its waited-for children.
fn cpu_seconds() -> (f64, f64) {
    // Fields after the command name: utime, stime, cutime, cstime are 14..=17 (1-based),
    // in USER_HZ ticks (100 per second on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    let tick = |i: usize| f.get(i - 3).copied().unwrap_or(0.0) / 100.0;
    (tick(14) + tick(15), tick(16) + tick(17))
}

async fn scalesim_side(e: &Endpoints, plan: RealPlan, clients: u32) -> anyhow::Result<(Side, f64)> {
    let load = Load::Closed {
        users: clients,
        think_mean: Duration::ZERO,
        ramp: Duration::ZERO,
        mix: mix(&[1.0], KeyDist::Uniform { n: PRODUCTS })?,
    };
    let sc = scenario(plan.classes.iter().map(|c| c.name.as_str()));
    let bucket_s = plan.bucket.as_secs_f64();
    let (cpu0, _) = cpu_seconds();
    let outcome = execute(plan, load, e, &NoFaults).await?;
    let (cpu1, _) = cpu_seconds();
    let s = outcome.to_strategy_summary(&sc);
    anyhow::ensure!(s.failed == 0.0, "scalesim run had errors: {:?}", s.errors);
    let all: f64 = outcome
        .series(0)
        .iter()
        .filter(|r| r.metric == "throughput_rps")
        .map(|r| r.value * bucket_s)
        .sum();
    let hit = s
        .components
        .iter()
        .find(|c| c.name == "cache")
        .and_then(|c| c.metrics.get("hit_ratio"))
        .copied()
        .unwrap_or(0.0);
    let side = Side {
        rps: s.throughput_rps,
        cpu_us_per_req: (cpu1 - cpu0) * 1e6 / all.max(1.0),
    };
    Ok((side, hit))
}

/// Runs `peer` and `ours` alternately (peer first in even rounds) and returns each round's
/// pair.
async fn rounds<P, O>(n: u64, mut peer: P, mut ours: O) -> anyhow::Result<Vec<(Side, Side)>>
where
    P: FnMut() -> anyhow::Result<Side>,
    O: AsyncFnMut() -> anyhow::Result<Side>,
{
    let mut out = Vec::new();
    for r in 0..n {
        let (p, o) = if r % 2 == 0 {
            let p = peer()?;
            (p, ours().await?)
        } else {
            let o = ours().await?;
            (peer()?, o)
        };
        out.push((p, o));
    }
    Ok(out)
}

fn report(what: &str, peer_name: &str, results: &[(Side, Side)]) {
    let mut ratios: Vec<f64> = results.iter().map(|(p, o)| o.rps / p.rps).collect();
    for (i, (p, o)) in results.iter().enumerate() {
        println!(
            "driver_overhead: {what} round {}: {peer_name} {:.0} rps ({:.1} us CPU/req), \
             scalesim {:.0} rps ({:.1} us CPU/req), ratio {:.2}",
            i + 1,
            p.rps,
            p.cpu_us_per_req,
            o.rps,
            o.cpu_us_per_req,
            ratios[i]
        );
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios.get(ratios.len() / 2).copied().unwrap_or(f64::NAN);
    println!(
        "driver_overhead: {what} ratio scalesim/{peer_name} = {median:.2} (median of {})",
        ratios.len()
    );
}

async fn postgres(e: &Endpoints, secs: u64, n: u64) -> anyhow::Result<()> {
    if !have("pgbench") {
        println!(
            "driver_overhead: postgres skipped: pgbench not found (apt-get install postgresql-contrib)"
        );
        return Ok(());
    }
    let clients = u32::try_from(env_u64("SCALESIM_BENCH_PG_CLIENTS", 16))?;
    let url = e.primary.as_str();
    let init = Command::new("pgbench")
        .args(["-i", "-s", "1", "-q", url])
        .output()?;
    anyhow::ensure!(
        init.status.success(),
        "pgbench -i: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let script = std::env::temp_dir().join(format!("scalesim-pgbench-{}.sql", std::process::id()));
    std::fs::write(
        &script,
        format!(
            "\\set id random(1, {PRODUCTS})\n\
             SELECT version, name, category, price_cents, stock FROM products WHERE id = :id;\n"
        ),
    )?;
    let script_arg = script.to_string_lossy().into_owned();
    let plan = read_plan("pg", CacheMode::None, clients, secs);
    let ours = async || Ok(scalesim_side(e, plan.clone(), clients).await?.0);
    println!(
        "driver_overhead: postgres point select, {clients} clients, {secs} s per run, pgbench -M prepared -j 2"
    );
    let builtin = rounds(n, || pgbench(&["-S"], clients, secs, url), ours).await;
    let same = rounds(
        n,
        || pgbench(&["-f", &script_arg], clients, secs, url),
        ours,
    )
    .await;
    let _ = std::fs::remove_file(&script);
    report("postgres (pgbench -S)", "pgbench", &builtin?);
    report("postgres (same query)", "pgbench", &same?);
    Ok(())
}

fn pgbench(script: &[&str], clients: u32, secs: u64, url: &str) -> anyhow::Result<Side> {
    let (c, t) = (clients.to_string(), secs.to_string());
    let (_, child0) = cpu_seconds();
    let out = Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-c", &c, "-j", "2", "-T", &t])
        .args(script)
        .arg(url)
        .output()?;
    let (_, child1) = cpu_seconds();
    let text = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "pgbench: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let number = |prefix: &str| -> Option<f64> {
        text.lines().find_map(|l| {
            l.strip_prefix(prefix)?
                .split(['/', ' '])
                .find(|w| !w.is_empty())?
                .parse()
                .ok()
        })
    };
    let tps =
        number("tps = ").ok_or_else(|| anyhow::anyhow!("no tps in pgbench output: {text}"))?;
    let done = number("number of transactions actually processed: ").unwrap_or(tps * to_f64(secs));
    Ok(Side {
        rps: tps,
        cpu_us_per_req: (child1 - child0) * 1e6 / done.max(1.0),
    })
}

fn to_f64(x: u64) -> f64 {
    x as f64
}

async fn redis(e: &Endpoints, secs: u64, n: u64) -> anyhow::Result<()> {
    let Some(url) = e.redis.as_deref() else {
        println!("driver_overhead: redis skipped: set SCALESIM_TEST_REDIS");
        return Ok(());
    };
    if !have("redis-benchmark") {
        println!(
            "driver_overhead: redis skipped: redis-benchmark not found (apt-get install redis-tools)"
        );
        return Ok(());
    }
    let clients = u32::try_from(env_u64("SCALESIM_BENCH_REDIS_CLIENTS", 50))?;
    let (host, port) = host_port(url)?;
    let common = [
        "-h", &host, "-p", &port, "-r", "100000", "-d", "64", "--csv",
    ];
    let fill = Command::new("redis-benchmark")
        .args(common)
        .args(["-t", "set", "-n", "200000", "-c", "50"])
        .output()?;
    anyhow::ensure!(fill.status.success(), "redis-benchmark set failed");
    let ttl = Duration::from_secs(3_600);
    warm_cache(e, PRODUCTS, ttl).await?;
    let plan = read_plan(
        "redis",
        CacheMode::CacheAside {
            ttl,
            single_flight: false,
        },
        clients,
        secs,
    );
    let mut hit = 1.0f64;
    let ours = async || {
        let (side, h) = scalesim_side(e, plan.clone(), clients).await?;
        hit = hit.min(h);
        Ok(side)
    };
    // Size redis-benchmark's request count so that it runs about `secs` at the first round's rate.
    let probe = redis_benchmark(&common, 20_000, clients)?;
    let requests = (probe.rps * to_f64(secs)) as u64;
    println!(
        "driver_overhead: redis GET, {clients} clients, about {secs} s per run, no pipelining"
    );
    let results = rounds(n, || redis_benchmark(&common, requests, clients), ours).await?;
    report("redis", "redis-benchmark", &results);
    println!("driver_overhead: redis scalesim cache hit ratio (lowest run) {hit:.3}");
    Ok(())
}

fn redis_benchmark(common: &[&str], requests: u64, clients: u32) -> anyhow::Result<Side> {
    let (n, c) = (requests.to_string(), clients.to_string());
    let (_, child0) = cpu_seconds();
    let out = Command::new("redis-benchmark")
        .args(common)
        .args(["-t", "get", "-n", &n, "-c", &c])
        .output()?;
    let (_, child1) = cpu_seconds();
    let text = String::from_utf8_lossy(&out.stdout);
    let rps: f64 = text
        .lines()
        .find_map(|l| {
            let mut cols = l.split(',').map(|c| c.trim_matches('"'));
            (cols.next()? == "GET").then(|| cols.next()?.parse().ok())?
        })
        .ok_or_else(|| anyhow::anyhow!("no GET line in redis-benchmark output: {text}"))?;
    Ok(Side {
        rps,
        cpu_us_per_req: (child1 - child0) * 1e6 / to_f64(requests).max(1.0),
    })
}

/// Host and port of a `redis://[user:pass@]host[:port][/db]` URL.
fn host_port(url: &str) -> anyhow::Result<(String, String)> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "6379"));
    anyhow::ensure!(!host.is_empty(), "no host in {url}");
    Ok((host.to_owned(), port.to_owned()))
}

const MIX: [(&str, Op, f64); 5] = [
    ("browse", Op::ReadProduct, 0.55),
    ("search", Op::SearchProducts, 0.10),
    ("history", Op::ReadUserOrders, 0.15),
    ("buy", Op::PlaceOrder, 0.10),
    ("edit", Op::UpdateProduct, 0.10),
];

fn mix_plan(name: &str, routing: ReadRouting, cache: CacheMode, users: u64) -> RealPlan {
    RealPlan {
        duration: Duration::from_secs(env_u64("SCALESIM_BENCH_SECS", 10)),
        warmup: Duration::from_secs(2),
        classes: MIX
            .iter()
            .map(|(n, op, _)| ClassPlan {
                name: (*n).into(),
                op: *op,
            })
            .collect(),
        strategy: StrategyPlan {
            name: name.into(),
            routing,
            cache,
            pool_size: 8,
            app: scalesim::real::plan::AppPools::default(),
            sharding: None,
        },
        products: PRODUCTS,
        users,
        bucket: Duration::from_secs(1),
        stale_probe_interval: Duration::from_millis(100),
        ..RealPlan::default()
    }
}

async fn run_mix(
    e: &Endpoints,
    plan: RealPlan,
    faults: &dyn FaultInjector,
) -> anyhow::Result<RealOutcome> {
    let rate = env_u64("SCALESIM_BENCH_RATE", 1_000) as f64;
    let weights: Vec<f64> = MIX.iter().map(|m| m.2).collect();
    let keys = KeyDist::zipf(PRODUCTS, 1.0).expect("valid zipf");
    let arrivals = poisson_arrivals(rate, plan.total(), &weights, &keys, SEED)?;
    Ok(execute(plan, Load::Open(Box::new(arrivals)), e, faults).await?)
}

/// The summary of a run of [`MIX`].
fn mix_summary(o: &RealOutcome) -> StrategySummary {
    o.to_strategy_summary(&scenario(MIX.iter().map(|m| m.0)))
}

fn metric(o: &RealOutcome, component: &str, key: &str) -> f64 {
    let s = mix_summary(o);
    s.components
        .iter()
        .find(|c| c.name == component)
        .and_then(|c| c.metrics.get(key).copied())
        .unwrap_or(f64::NAN)
}

fn print_mix(o: &RealOutcome) {
    let s = mix_summary(o);
    let l = &s.latency_ms;
    let errors: f64 = s.errors.values().sum();
    println!(
        "strategies: {:<18} {:>6.0} req/s  p50 {:>6.2}  p90 {:>6.2}  p99 {:>7.2}  p99.9 {:>7.2}  max {:>7.1} ms  \
         errors {errors:>4}  stale {}/{}  hit {:.2}  lag max {:.1} ms",
        s.name,
        s.throughput_rps,
        l.p50,
        l.p90,
        l.p99,
        l.p999,
        l.max,
        metric(o, "db", "stale_reads"),
        metric(o, "db", "stale_checked_reads"),
        metric(o, "cache", "hit_ratio"),
        metric(o, "db", "lag_ms_max"),
    );
    for c in s
        .components
        .iter()
        .filter(|c| c.name.starts_with("db.replica"))
    {
        let m = |k: &str| c.metrics.get(k).copied().unwrap_or(f64::NAN);
        println!(
            "strategies:   {}: reads {} lag mean {:.2} ms max {:.1} ms, probe behind {}/{}",
            c.name,
            m("reads"),
            m("lag_ms_mean"),
            m("lag_ms_max"),
            m("probe_behind"),
            m("probes")
        );
    }
}

async fn strategies(e: &Endpoints) -> anyhow::Result<()> {
    let users = env_u64("SCALESIM_BENCH_USERS", 1_000_000);
    let window = Duration::from_secs(2);
    let ttl = Duration::from_secs(30);
    let list = [
        ("primary", ReadRouting::Primary, CacheMode::None),
        ("round-robin", ReadRouting::RoundRobin, CacheMode::None),
        (
            "ryw-2s",
            ReadRouting::ReadYourWrites {
                window,
                wait_for_replay: false,
            },
            CacheMode::None,
        ),
        (
            "ryw-wait-2s",
            ReadRouting::ReadYourWrites {
                window,
                wait_for_replay: true,
            },
            CacheMode::None,
        ),
        (
            "cache-aside",
            ReadRouting::Primary,
            CacheMode::CacheAside {
                ttl,
                single_flight: false,
            },
        ),
        (
            "cache+round-robin",
            ReadRouting::RoundRobin,
            CacheMode::CacheAside {
                ttl,
                single_flight: false,
            },
        ),
    ];
    for (name, routing, cache) in list {
        if cache != CacheMode::None && e.redis.is_none() {
            continue;
        }
        print_mix(&run_mix(e, mix_plan(name, routing, cache, users), &NoFaults).await?);
    }
    cut_runs(e, users, window).await
}

/// Round robin and read-your-writes while replica-0 is cut from the primary from 4 s to 8 s.
async fn cut_runs(e: &Endpoints, users: u64, window: Duration) -> anyhow::Result<()> {
    if e.replicas.is_empty() {
        println!("strategies: replica-disconnect runs skipped: no SCALESIM_TEST_PG_REPLICAS");
        return Ok(());
    }
    let injector = SqlFaultInjector::new(e)?;
    let cut = [
        ("rr, replica-0 cut", ReadRouting::RoundRobin),
        (
            "ryw-2s, replica-0 cut",
            ReadRouting::ReadYourWrites {
                window,
                wait_for_replay: false,
            },
        ),
        (
            "ryw-wait, replica-0 cut",
            ReadRouting::ReadYourWrites {
                window,
                wait_for_replay: true,
            },
        ),
    ];
    for (name, routing) in cut {
        let mut plan = mix_plan(name, routing, CacheMode::None, users);
        plan.faults = vec![
            FaultAt {
                at: Duration::from_secs(4),
                fault: "disconnect replica-0".into(),
            },
            FaultAt {
                at: Duration::from_secs(8),
                fault: "reconnect replica-0".into(),
            },
        ];
        let o = run_mix(e, plan, &injector).await;
        let _ = injector.inject("reconnect replica-0").await;
        let o = o?;
        if let Some(f) = o.faults().iter().find(|f| f.result.is_err()) {
            println!("strategies: disconnect runs skipped: {:?}", f.result);
            return Ok(());
        }
        print_mix(&o);
        print_series(&o);
    }
    Ok(())
}

fn print_series(o: &RealOutcome) {
    let rows = o.series(0);
    let at = |t: f64, m: &str| {
        rows.iter()
            .find(|r| r.t_s == t && r.metric == m)
            .map_or(0.0, |r| r.value)
    };
    let mut times: Vec<f64> = rows.iter().map(|r| r.t_s).collect();
    times.dedup();
    for t in times {
        println!(
            "strategies:     t={t:>4.1}s thr {:>6.0}/s p99 {:>7.2} ms errors {:>3}/s stale {:>3} \
             lag replica-0 {:>7.1} ms probe behind {:>4.2}",
            at(t, "throughput_rps"),
            at(t, "p99_ms"),
            at(t, "errors"),
            at(t, "stale_reads"),
            at(t, "lag_ms.replica-0"),
            at(t, "probe_behind.replica-0"),
        );
    }
}
