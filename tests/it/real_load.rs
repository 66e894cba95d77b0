//! Real runs against Postgres (a primary and streaming replicas) and Redis.
//!
//! The servers come from the environment. The tests that need them are `#[ignore]`d, so a plain
//! `cargo test` reports them as ignored (never as passed); `scripts/test.sh` runs them with
//! `--ignored` when it could start the loopback servers (PostgreSQL and Redis binaries installed)
//! or was given them, and says which groups it could not run otherwise. Run by hand without
//! `SCALESIM_TEST_PG_PRIMARY` they fail; a part that needs more (replicas, a fault command, a
//! superuser) says on stderr that it skipped, and fails instead under `CI=true`:
//!
//! - `SCALESIM_TEST_PG_PRIMARY`: `postgres://` URL of the primary (a superuser for the
//!   replica-disconnect test);
//! - `SCALESIM_TEST_PG_REPLICAS`: comma-separated `postgres://` URLs of its streaming replicas;
//! - `SCALESIM_TEST_REDIS`: `redis://` URL;
//! - `SCALESIM_TEST_PGBOUNCER` (optional): `postgres://` URL of a PgBouncer in transaction mode
//!   in front of the primary (`scripts/real-dev-cluster.sh` starts one when pgbouncer is
//!   installed), for the connection-pool test;
//! - `SCALESIM_TEST_FAULT_CMD` (optional): a command that injects `stop replica-0` /
//!   `start replica-0`, given as its last argument, for the stopped-replica test.
//!
//! The tests reload a small data set into that database (dropping the scalesim tables) and
//! run one at a time.

use std::time::Duration;

use scalesim::model::workload::KeyDist;
use scalesim::real::loadgen::execute;
use scalesim::real::measure::RealOutcome;
use scalesim::real::plan::{
    AppPools, BoxFuture, CacheMode, ClassPlan, Endpoints, FaultAt, FaultInjector, Load, NoFaults,
    Op, ReadRouting, RealError, RealPlan, StrategyPlan,
};
use scalesim::real::schema;
use scalesim::real::sql_faults::SqlFaultInjector;
use scalesim::real::workload::{mix, poisson_arrivals};
use scalesim::report::summary::StrategySummary;
use scalesim::scenario::{self, Scenario};

const PRODUCTS: u64 = 2_000;
const USERS: u64 = 5_000;
const SEED: u64 = 42;

/// The servers share one database: one test at a time.
static SERVERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Reports a test that could not run its whole check, on stderr past libtest's capture; under
/// `CI=true` nothing may skip, so it fails instead.
fn skipped(why: &str) {
    use std::io::Write;
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true, and real_load cannot run: {why}"
    );
    let _ = writeln!(
        std::io::stderr(),
        "real_load: SKIPPED part of a test: {why}"
    );
}

/// The servers of the environment. Only the ignored tests call it: a test that was asked to run
/// fails without its servers rather than pass without running.
fn endpoints() -> Endpoints {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let Some(primary) = var("SCALESIM_TEST_PG_PRIMARY") else {
        panic!(
            "real_load: set SCALESIM_TEST_PG_PRIMARY (and SCALESIM_TEST_PG_REPLICAS, \
             SCALESIM_TEST_REDIS), or run scripts/test.sh, which starts loopback servers when \
             PostgreSQL and Redis are installed"
        );
    };
    let replicas = var("SCALESIM_TEST_PG_REPLICAS")
        .map(|r| {
            r.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Endpoints {
        primary,
        replicas,
        redis: var("SCALESIM_TEST_REDIS"),
        shards: vec![],
        pgbouncer: var("SCALESIM_TEST_PGBOUNCER"),
        allowed_hosts: vec![],
    }
}

fn classes() -> Vec<ClassPlan> {
    let c = |name: &str, op| ClassPlan {
        name: name.to_owned(),
        op,
    };
    vec![
        c("browse", Op::ReadProduct),
        c("search", Op::SearchProducts),
        c("history", Op::ReadUserOrders),
        c("buy", Op::PlaceOrder),
        c("edit", Op::UpdateProduct),
    ]
}

const WEIGHTS: [f64; 5] = [0.55, 0.1, 0.15, 0.1, 0.1];

/// The scenario the summaries are reduced with: the classes of [`classes`], no SLO.
fn scenario() -> Scenario {
    let mut text = String::from(
        "name = \"real-load\"\nduration = \"10s\"\n\
         [workload]\ntype = \"poisson\"\nrate = 1\n\
         [stations.db]\nworkers = 1\nservice = \"1ms\"\n",
    );
    for c in classes() {
        text.push_str(&format!("[classes.{}]\npath = [\"db\"]\n", c.name));
    }
    scenario::load_str(&text, std::path::Path::new("real-load.toml"), &[])
        .expect("valid scenario")
        .base
}

fn summary(o: &RealOutcome) -> StrategySummary {
    o.to_strategy_summary(&scenario())
}

fn plan(name: &str, routing: ReadRouting, cache: CacheMode, secs: u64) -> RealPlan {
    RealPlan {
        duration: Duration::from_secs(secs),
        warmup: Duration::from_secs(1),
        seed: SEED,
        classes: classes(),
        strategy: StrategyPlan {
            name: name.to_owned(),
            routing,
            cache,
            pool_size: 4,
            app: scalesim::real::plan::AppPools::default(),
            sharding: None,
        },
        products: PRODUCTS,
        users: USERS,
        bucket: Duration::from_millis(500),
        stale_probe_interval: Duration::from_millis(100),
        ..RealPlan::default()
    }
}

fn open_load(plan: &RealPlan, rate: f64) -> Load {
    let keys = KeyDist::zipf(PRODUCTS, 1.0).expect("valid zipf");
    let arrivals = poisson_arrivals(rate, plan.total(), &WEIGHTS, &keys, SEED).expect("valid");
    Load::Open(Box::new(arrivals))
}

/// Arrivals of [`open_load`] at `rate` whose intended start falls in the measured window:
/// the generator's stream counted here, independently of the load generator.
fn measured_arrivals(plan: &RealPlan, rate: f64) -> f64 {
    let keys = KeyDist::zipf(PRODUCTS, 1.0).expect("valid zipf");
    let arrivals = poisson_arrivals(rate, plan.total(), &WEIGHTS, &keys, SEED).expect("valid");
    let warmup = u64::try_from(plan.warmup.as_nanos()).expect("short warm-up");
    arrivals.filter(|a| a.at_ns >= warmup).count() as f64
}

fn metric(s: &StrategySummary, component: &str, key: &str) -> f64 {
    s.components
        .iter()
        .find(|c| c.name == component)
        .and_then(|c| c.metrics.get(key).copied())
        .unwrap_or(f64::NAN)
}

fn print_summary(o: &RealOutcome) {
    let s = summary(o);
    println!(
        "{:<14} completed {:>6} failed {:>4} thr {:>7.1}/s p50 {:>7.3} ms p99 {:>8.3} ms \
         stale {} hit_ratio {:.3}",
        s.name,
        s.completed,
        s.failed,
        s.throughput_rps,
        s.latency_ms.p50,
        s.latency_ms.p99,
        metric(&s, "db", "stale_reads"),
        metric(&s, "cache", "hit_ratio"),
    );
}

fn check_outcome(o: &RealOutcome) -> StrategySummary {
    let s = summary(o);
    assert!(s.completed > 0.0, "{s:?}");
    assert!(s.error_rate < 0.05, "{:?}", s.errors);
    assert_eq!(s.classes.len(), 5);
    assert!(s.latency_ms.p50 > 0.0 && s.latency_ms.p50 <= s.latency_ms.p99);
    let series = o.series(0);
    assert!(
        series
            .iter()
            .any(|r| r.metric == "throughput_rps" && r.value > 0.0)
    );
    let cdf = o.cdf();
    assert!((cdf.points.last().expect("points").1 - 1.0).abs() < 1e-9);
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_hosts_are_refused_before_any_connection() {
    let e = Endpoints::new("postgres://u:secret@10.1.2.3:5432/shop");
    let p = RealPlan::default();
    let load = open_load(&p, 10.0);
    match execute(p, load, &e, &NoFaults).await {
        Err(RealError::HostNotAllowed { host, url }) => {
            assert_eq!(host, "10.1.2.3");
            assert!(!url.contains("secret"));
        }
        other => panic!("expected HostNotAllowed, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis servers: see the module docs"]
async fn data_load_is_reproducible_and_reused() {
    let e = endpoints();
    let _guard = SERVERS.lock().await;
    let checksum = async || -> String {
        let mut conn = connect(&e.primary).await;
        let sql = "SELECT md5(string_agg(concat_ws('|', id, name, category, price_cents, stock,
                description), ',' ORDER BY id))
            || (SELECT md5(string_agg(concat_ws('|', id, user_id, total_cents, created_at), ','
                ORDER BY id)) FROM orders)
            FROM products";
        sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect("checksum")
    };
    let first = schema::load_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("load");
    assert_eq!(first.orders, USERS / 2);
    assert!(first.order_items >= first.orders);
    let a = checksum().await;
    schema::load_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("reload");
    assert_eq!(a, checksum().await);
    let again = schema::ensure_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("ensure");
    assert!(again.skipped);
}

async fn connect(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url).await.expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis servers: see the module docs"]
async fn every_strategy_runs_open_loop_and_converts() {
    let e = endpoints();
    let _guard = SERVERS.lock().await;
    schema::ensure_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("data");
    let window = Duration::from_secs(5);
    let mut strategies = vec![
        ("primary", ReadRouting::Primary, CacheMode::None),
        ("round-robin", ReadRouting::RoundRobin, CacheMode::None),
        (
            "ryw",
            ReadRouting::ReadYourWrites {
                window,
                wait_for_replay: false,
            },
            CacheMode::None,
        ),
        (
            "ryw-wait",
            ReadRouting::ReadYourWrites {
                window,
                wait_for_replay: true,
            },
            CacheMode::None,
        ),
    ];
    if e.redis.is_some() {
        let ttl = Duration::from_secs(30);
        strategies.push((
            "cache-aside",
            ReadRouting::Primary,
            CacheMode::CacheAside {
                ttl,
                single_flight: false,
            },
        ));
    }
    for (name, routing, cache) in strategies {
        let p = plan(name, routing, cache, 3);
        let load = open_load(&p, 300.0);
        let o = execute(p, load, &e, &NoFaults).await.expect("run");
        print_summary(&o);
        let s = check_outcome(&o);
        if matches!(routing, ReadRouting::ReadYourWrites { .. }) && !e.replicas.is_empty() {
            assert_eq!(
                metric(&s, "db", "stale_reads"),
                0.0,
                "{name} read a stale version"
            );
            assert!(metric(&s, "db", "stale_checked_reads") > 0.0);
        }
        if routing == ReadRouting::Primary && cache == CacheMode::None {
            assert_eq!(metric(&s, "db", "stale_reads"), 0.0);
            assert_eq!(metric(&s, "db", "reads_replicas"), 0.0);
        }
        if cache != CacheMode::None {
            assert!(metric(&s, "cache", "hit_ratio") > 0.2, "{s:?}");
        }
        if !e.replicas.is_empty() {
            assert!(metric(&s, "db.replica-0", "lag_samples") > 0.0);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis servers: see the module docs"]
async fn closed_loop_users_ramp_up_and_think() {
    let e = endpoints();
    let _guard = SERVERS.lock().await;
    schema::ensure_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("data");
    let p = plan("closed", ReadRouting::RoundRobin, CacheMode::None, 2);
    let load = Load::Closed {
        users: 8,
        think_mean: Duration::from_millis(5),
        ramp: Duration::from_millis(500),
        mix: mix(
            &WEIGHTS,
            KeyDist::Hotspot {
                n: PRODUCTS,
                hot_fraction: 0.1,
                hot_share: 0.9,
            },
        )
        .expect("valid mix"),
    };
    let o = execute(p, load, &e, &NoFaults).await.expect("run");
    print_summary(&o);
    let s = check_outcome(&o);
    // 8 users thinking 5 ms on average cannot exceed 8 / 5 ms = 1600 requests per second.
    assert!(s.throughput_rps < 1_600.0, "{}", s.throughput_rps);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis servers: see the module docs"]
async fn open_loop_overload_is_rejected_not_queued() {
    let e = endpoints();
    let _guard = SERVERS.lock().await;
    schema::ensure_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("data");
    let p = RealPlan {
        max_in_flight: 2,
        ..plan("tiny", ReadRouting::Primary, CacheMode::None, 1)
    };
    let load = open_load(&p, 5_000.0);
    let expected = measured_arrivals(&p, 5_000.0);
    let o = execute(p, load, &e, &NoFaults).await.expect("run");
    let s = summary(&o);
    assert!(s.errors["rejected"] > 0.0, "{:?}", s.errors);
    // Every arrival of the window is accounted for: sent (completed or failed), rejected, or
    // counted as not sent; none is dropped silently.
    let not_sent = metric(&s, "loadgen", "not_sent");
    assert_eq!(s.requests + not_sent, expected, "not sent {not_sent}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis servers: see the module docs"]
async fn disconnected_replica_lags_and_serves_stale_reads() {
    let e = endpoints();
    if e.replicas.is_empty() {
        skipped("replica-disconnect test skipped: no SCALESIM_TEST_PG_REPLICAS");
        return;
    }
    let _guard = SERVERS.lock().await;
    schema::ensure_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("data");
    let injector = SqlFaultInjector::new(&e).expect("injector");
    let mut p = plan("round-robin", ReadRouting::RoundRobin, CacheMode::None, 7);
    p.faults = vec![
        FaultAt {
            at: Duration::from_secs(2),
            fault: "disconnect replica-0".into(),
        },
        FaultAt {
            at: Duration::from_secs(5),
            fault: "reconnect replica-0".into(),
        },
    ];
    let load = open_load(&p, 300.0);
    let o = execute(p, load, &e, &injector).await;
    // Whatever happened, give the replica its primary back.
    let _ = injector.inject("reconnect replica-0").await;
    let o = o.expect("run");
    if let Some(f) = o.faults().iter().find(|f| f.result.is_err()) {
        skipped(&format!(
            "replica-disconnect test skipped: {f:?} (needs a superuser)"
        ));
        return;
    }
    print_summary(&o);
    let s = check_outcome(&o);
    let lag_max = metric(&s, "db.replica-0", "lag_ms_max");
    let probe_behind = metric(&s, "db.replica-0", "probe_behind");
    println!(
        "replica-0 lag_ms_max {lag_max:.0} probe behind {probe_behind} strategy stale {}",
        metric(&s, "db", "stale_reads")
    );
    assert!(lag_max > 1_000.0, "lag {lag_max}");
    // Cut off for 3 s, probed every 100 ms: about 30 probes find it behind.
    assert!(probe_behind > 20.0, "probe behind {probe_behind}");
    // Round robin read the cut-off replica, so some of the stale reads it served were there.
    assert!(metric(&s, "db.replica-0", "stale_reads") > 0.0);
    assert!(metric(&s, "db", "stale_reads") > 0.0);
    let lag_rows = o
        .series(0)
        .into_iter()
        .filter(|r| r.metric == "lag_ms.replica-0")
        .count();
    assert!(lag_rows > 5);
}

/// Stalls product reads on the primary: `pause primary` holds an exclusive lock on `products`
/// for `hold`, from another connection.
struct LockStall {
    primary: String,
    hold: Duration,
}

impl FaultInjector for LockStall {
    fn inject<'a>(&'a self, fault: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            if fault != "pause primary" {
                return Err(format!("unsupported: {fault}"));
            }
            let mut conn = connect(&self.primary).await;
            let hold = self.hold;
            let lock = "BEGIN; LOCK TABLE products IN ACCESS EXCLUSIVE MODE";
            sqlx::raw_sql(lock)
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(async move {
                tokio::time::sleep(hold).await;
                let _ = sqlx::raw_sql("COMMIT").execute(&mut conn).await;
            });
            Ok(())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis servers: see the module docs"]
async fn a_stall_shows_in_open_loop_latency_without_coordinated_omission() {
    let e = endpoints();
    let _guard = SERVERS.lock().await;
    schema::ensure_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("data");
    let mut p = plan("stall", ReadRouting::Primary, CacheMode::None, 4);
    p.classes = vec![ClassPlan {
        name: "browse".into(),
        op: Op::ReadProduct,
    }];
    p.faults = vec![FaultAt {
        at: Duration::from_secs(2),
        fault: "pause primary".into(),
    }];
    let keys = KeyDist::Uniform { n: PRODUCTS };
    let rate = 200.0;
    let arrivals = poisson_arrivals(rate, p.total(), &[1.0], &keys, SEED).expect("valid");
    let stall = LockStall {
        primary: e.primary.clone(),
        hold: Duration::from_secs(1),
    };
    let o = execute(p, Load::Open(Box::new(arrivals)), &e, &stall)
        .await
        .expect("run");
    print_summary(&o);
    let s = summary(&o);
    assert!(o.faults()[0].result.is_ok(), "{:?}", o.faults());
    // Requests meant to start during the 1 s stall waited for it: about 1 s for the first,
    // 0.5 s on average, so p99 is far above the service time and the max is near 1 s. A
    // generator that timed from the actual send would report only the few stuck requests.
    assert!(s.latency_ms.max > 800.0, "{:?}", s.latency_ms);
    assert!(s.latency_ms.p95 > 300.0, "{:?}", s.latency_ms);
    // Open loop: arrivals kept coming during the stall.
    assert!(
        (0.9 * rate * 4.0..1.1 * rate * 4.0).contains(&s.requests),
        "{}",
        s.requests
    );
    assert_eq!(s.failed, 0.0, "{:?}", s.errors);
    let late = metric(&s, "loadgen", "dispatch_late_ms_max");
    assert!(late < 50.0, "pacer late by {late} ms");
}

/// Runs `$SCALESIM_TEST_FAULT_CMD` with the fault as its last argument (e.g. a script that
/// maps `stop replica-0` onto `pg_ctl stop` or `docker stop`).
struct CommandFaults(String);

impl FaultInjector for CommandFaults {
    fn inject<'a>(&'a self, fault: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let out = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(format!("{} \"$1\"", self.0))
                .arg("sh")
                .arg(fault)
                .output()
                .await
                .map_err(|e| e.to_string())?;
            if out.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).into_owned())
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis servers: see the module docs"]
async fn a_stopped_replica_costs_errors_then_the_pool_reconnects() {
    let e = endpoints();
    let Some(cmd) = std::env::var("SCALESIM_TEST_FAULT_CMD")
        .ok()
        .filter(|c| !c.is_empty())
    else {
        skipped("stopped-replica test skipped: set SCALESIM_TEST_FAULT_CMD");
        return;
    };
    if e.replicas.is_empty() {
        skipped("stopped-replica test skipped: no SCALESIM_TEST_PG_REPLICAS");
        return;
    }
    let _guard = SERVERS.lock().await;
    schema::ensure_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("data");
    let injector = CommandFaults(cmd);
    let mut p = plan("round-robin", ReadRouting::RoundRobin, CacheMode::None, 9);
    p.faults = vec![
        FaultAt {
            at: Duration::from_secs(2),
            fault: "stop replica-0".into(),
        },
        FaultAt {
            at: Duration::from_secs(4),
            fault: "start replica-0".into(),
        },
    ];
    let load = open_load(&p, 300.0);
    let o = execute(p, load, &e, &injector).await;
    let _ = injector.inject("start replica-0").await;
    let o = o.expect("run");
    print_summary(&o);
    assert!(
        o.faults().iter().all(|f| f.result.is_ok()),
        "{:?}",
        o.faults()
    );
    let s = summary(&o);
    let broken = s.errors["connection"] + s.errors["failed"] + s.errors["timeout"];
    assert!(broken > 0.0, "{:?}", s.errors);
    let rows = o.series(0);
    let errors_at = |t: f64| {
        rows.iter()
            .find(|r| r.metric == "errors" && r.t_s == t)
            .map(|r| r.value)
    };
    for r in rows
        .iter()
        .filter(|r| r.metric == "errors" && r.value > 0.0)
    {
        println!("errors at t={:.1}s: {}/s", r.t_s, r.value);
    }
    // Reads go to replica-0 again and succeed by the last seconds of the run.
    assert_eq!(errors_at(9.0), Some(0.0));
    assert_eq!(errors_at(9.5), Some(0.0));
    assert!(metric(&s, "db.replica-0", "reads") > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis servers: see the module docs"]
async fn max_requests_bounds_the_open_loop() {
    let e = endpoints();
    let _guard = SERVERS.lock().await;
    schema::ensure_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("data");
    let p = RealPlan {
        warmup: Duration::ZERO,
        max_requests: Some(100),
        ..plan("bounded", ReadRouting::Primary, CacheMode::None, 2)
    };
    let load = open_load(&p, 500.0);
    let expected = measured_arrivals(&p, 500.0);
    let s = summary(&execute(p, load, &e, &NoFaults).await.expect("run"));
    assert_eq!(s.requests, 100.0);
    assert_eq!(
        metric(&s, "loadgen", "not_sent_max_requests"),
        expected - 100.0
    );
}

/// `scalesim calibrate` then `scalesim real --params ... --compare` on the servers: the fits are
/// in milliseconds and sane, the concurrency curve rises, and the comparison has one row per
/// figure of every strategy, with predictions from the calibrated values within a factor of
/// four of the measured p50 at a load far from saturation (a unit or mapping mistake in the
/// calibration is off by 1000).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis servers: see the module docs"]
async fn calibrate_then_compare_prediction_with_measurement() {
    let e = endpoints();
    let _guard = SERVERS.lock().await;
    let dir = std::env::temp_dir().join(format!("scalesim-calibrate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut targets = vec![format!("primary={}", e.primary)];
    targets.extend(e.replicas.iter().map(|r| format!("replica={r}")));
    // The shipped scenario, small and short: without its named loads (each `[[loads]]` block
    // ends at a blank line), no fault, the test's data set.
    let shipped = std::fs::read_to_string(crate::common::sim("real-read-replicas.toml")).unwrap();
    let mut kept = Vec::new();
    let mut in_load = false;
    for line in shipped.lines() {
        in_load = (in_load || line.trim() == "[[loads]]") && !line.trim().is_empty();
        if !in_load {
            kept.push(line);
        }
    }
    assert!(
        kept.len() < shipped.lines().count(),
        "the scenario has named loads"
    );
    let scenario = dir.join("real-read-replicas.toml");
    std::fs::write(&scenario, kept.join("\n")).unwrap();
    let sets = [
        "duration=8s",
        "warmup=2s",
        "rate=100",
        "real.products=2000",
        "real.users=5000",
        "real.faults=[]",
        "databases.db.replica_cut.at=1h",
    ];
    let run = |args: &[String]| {
        let mut all: Vec<String> = args.to_vec();
        for t in &targets {
            all.push("--target".into());
            all.push(t.clone());
        }
        for s in sets {
            all.push("--set".into());
            all.push(s.into());
        }
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_scalesim"))
            .args(&all)
            .output()
            .expect("the binary runs");
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(0), "{all:?}: {err}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let cal = dir.join("calibration.toml");
    let s = |p: &std::path::Path| p.to_string_lossy().into_owned();
    run(&[
        "calibrate".into(),
        s(&scenario),
        "--samples".into(),
        "60".into(),
        "--level-seconds".into(),
        "0.5".into(),
        "--out".into(),
        s(&cal),
    ]);
    let text = std::fs::read_to_string(&cal).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    let params = doc["params"].as_table().unwrap();
    let ms = |k: &str| -> f64 {
        let v = params[k]
            .as_str()
            .unwrap_or_else(|| panic!("{k} in {text}"));
        v.trim_end_matches("ms").parse().unwrap()
    };
    for k in [
        "primary_read_product_median",
        "primary_read_user_orders_median",
        "primary_place_order_median",
    ] {
        let m = ms(k);
        assert!(m > 0.01 && m < 100.0, "{k} = {m} ms: {text}");
        let p99 = ms(&k.replace("median", "p99"));
        assert!(p99 >= m, "{k}: p99 {p99} below the median {m}");
    }
    if !e.replicas.is_empty() {
        assert!(ms("replica_read_product_median") > 0.01, "{text}");
    }
    let fits = doc["fits"].as_table().unwrap();
    for (name, f) in fits.iter().filter(|(n, _)| *n != "db_concurrency") {
        let ks = f["ks_distance"].as_float().unwrap();
        assert!((0.0..=1.0).contains(&ks), "{name}: KS {ks}");
    }
    let points = fits["db_concurrency"]["points"].as_array().unwrap();
    let x = |i: usize| points[i].as_array().unwrap()[1].as_float().unwrap();
    assert!(
        x(points.len() - 1) > x(0),
        "more connections, more throughput: {points:?}"
    );
    assert!(params["db_workers"].as_integer().unwrap() >= 1);

    let out = dir.join("real");
    run(&[
        "real".into(),
        s(&scenario),
        "--params".into(),
        s(&cal),
        "--compare".into(),
        "--replications".into(),
        "2".into(),
        "--quiet".into(),
        "--out".into(),
        s(&out),
    ]);
    assert!(out.join("prediction/summary.json").exists());
    let csv = std::fs::read_to_string(out.join("comparison.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3 * 4, "{csv}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let c = &summary["comparison"];
    assert!(
        c["params"].as_str().unwrap().contains("calibration.toml"),
        "{c}"
    );
    for r in c["rows"].as_array().unwrap() {
        if r["metric"] == "latency_ms.p50" {
            let e = r["relative_error"].as_f64().unwrap();
            assert!(e > -0.75 && e < 3.0, "p50 predicted within 4x: {r}");
        }
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Prediction against measurement"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The query shapes run on the real schema and cost what their shape says: each completes
/// without errors, and the shape that reads more rows is the slower at the median: an
/// unindexed lookup (a sequential scan of the users) against one by primary key, N+1 (21
/// round trips) against one query, an offset page (rows read and discarded) against a cursor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis servers: see the module docs"]
async fn query_shapes_cost_what_their_shape_reads() {
    let e = endpoints();
    let _guard = SERVERS.lock().await;
    schema::ensure_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("data");
    let p50 = async |op: Op, keys: KeyDist| -> f64 {
        let mut p = plan(op.name(), ReadRouting::Primary, CacheMode::None, 3);
        p.classes = vec![ClassPlan {
            name: op.name().to_owned(),
            op,
        }];
        let arrivals =
            poisson_arrivals(100.0, p.total(), &[1.0], &keys, SEED).expect("valid arrivals");
        let o = execute(p, Load::Open(Box::new(arrivals)), &e, &NoFaults)
            .await
            .expect("run");
        let text = format!(
            "name = \"shape\"\nduration = \"10s\"\n[workload]\ntype = \"poisson\"\nrate = 1\n\
             [stations.db]\nworkers = 1\nservice = \"1ms\"\n[classes.{}]\npath = [\"db\"]\n",
            op.name()
        );
        let sc = scenario::load_str(&text, std::path::Path::new("shape.toml"), &[])
            .expect("valid scenario")
            .base;
        let s = o.to_strategy_summary(&sc);
        assert!(s.completed > 100.0, "{}: {s:?}", op.name());
        assert_eq!(s.error_rate, 0.0, "{}: {:?}", op.name(), s.errors);
        s.latency_ms.p50
    };
    let all = KeyDist::Uniform { n: USERS };
    // The last pages: offset reads about 2,000 rows, the cursor its 20.
    let deep = KeyDist::Uniform { n: PRODUCTS / 20 };
    let pairs = [
        (Op::LookupUnindexed, Op::LookupIndexed, all.clone()),
        (Op::ListingNPlus1, Op::ListingJoin, all.clone()),
        (Op::PageOffset, Op::PageCursor, deep),
    ];
    for (slow, fast, keys) in pairs {
        let (a, b) = (p50(slow, keys.clone()).await, p50(fast, keys).await);
        println!(
            "{}: p50 {a:.3} ms; {}: p50 {b:.3} ms",
            slow.name(),
            fast.name()
        );
        assert!(
            a > b,
            "{} ({a} ms) should be slower than {} ({b} ms)",
            slow.name(),
            fast.name()
        );
    }
}

/// Shard databases beside the primary's (`scalesim_shard0` ...), created when missing: on one
/// server they test routing, moves and what is lost, not capacity.
async fn shard_urls(e: &Endpoints, n: usize) -> Vec<String> {
    let mut admin = connect(&e.primary).await;
    let (base, _) = e.primary.rsplit_once('/').expect("a database in the URL");
    let mut urls = Vec::with_capacity(n);
    for k in 0..n {
        let name = format!("scalesim_shard{k}");
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
                .bind(&name)
                .fetch_optional(&mut admin)
                .await
                .expect("pg_database");
        if exists.is_none() {
            // The name is ours, made of letters and digits.
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .expect("create the shard database");
        }
        urls.push(format!("{base}/{name}"));
    }
    urls
}

async fn count(url: &str, sql: &'static str) -> i64 {
    let mut c = connect(url).await;
    sqlx::query_scalar(sql).fetch_one(&mut c).await.expect(sql)
}

/// Users sharded by jump hash over 3 shards, resharded to 4 during an open-loop run with
/// purchases: afterwards every user is on the shard jump hash over 4 gives it (computed here
/// from the paper's function, not through the router), the users moved are those whose jump
/// hash changed, and every acknowledged order is on its user's shard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis servers: see the module docs"]
async fn resharding_moves_the_users_jump_hash_moves_and_loses_no_order() {
    use scalesim::engine::mix64;
    use scalesim::model::shard::{Spec, jump};
    use scalesim::real::plan::{Reshard, ShardPlan};
    use scalesim::real::sharded::load_shards;

    let mut e = endpoints();
    let _guard = SERVERS.lock().await;
    schema::ensure_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("data");
    e.shards = shard_urls(&e, 4).await;
    let sharding = ShardPlan {
        router: "jump".into(),
        spec: Spec {
            shards: 3,
            ..Spec::default()
        },
        reshard: Some(Reshard {
            at: Duration::from_secs(3),
            spec: Spec {
                shards: 4,
                ..Spec::default()
            },
        }),
    };
    load_shards(&e.shards, &sharding, PRODUCTS, USERS, SEED)
        .await
        .expect("shards loaded");
    let users_on = async |k: usize| count(&e.shards[k], "SELECT count(*) FROM users").await;
    let before: Vec<i64> = vec![users_on(0).await, users_on(1).await, users_on(2).await];
    assert_eq!(before.iter().sum::<i64>(), USERS as i64);
    assert_eq!(users_on(3).await, 0, "the fourth shard starts empty");

    let c = |name: &str, op| ClassPlan {
        name: name.to_owned(),
        op,
    };
    let mut p = plan("jump 3 → 4", ReadRouting::Primary, CacheMode::None, 6);
    p.warmup = Duration::ZERO;
    p.strategy.sharding = Some(sharding);
    p.classes = vec![
        c("browse", Op::ReadProduct),
        c("history", Op::ReadUserOrders),
        c("buy", Op::PlaceOrder),
    ];
    let keys = KeyDist::Uniform { n: USERS };
    let arrivals =
        poisson_arrivals(300.0, p.total(), &[0.5, 0.2, 0.3], &keys, SEED).expect("arrivals");
    let o = execute(p, Load::Open(Box::new(arrivals)), &e, &NoFaults)
        .await
        .expect("sharded run");
    let r = o.reshard().expect("a resharding").clone();
    println!("{r:?}");
    assert_eq!(r.error, None);
    // The router hashes the key (user id − 1) with SplitMix64's finaliser, then jumps.
    let on = |u: u64, n: i64| jump(mix64(u), n);
    let want_moved = (0..USERS).filter(|u| on(*u, 3) != on(*u, 4)).count() as u64;
    assert_eq!(r.users_moved, want_moved);
    assert!(r.rows_moved >= r.users_moved);

    // Every user on its jump-hash-over-4 shard, once.
    for k in 0..4 {
        let mut conn = connect(&e.shards[k]).await;
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM users")
            .fetch_all(&mut conn)
            .await
            .expect("users");
        for id in &ids {
            let want = on(id.unsigned_abs() - 1, 4) as usize;
            assert_eq!(want, k, "user {id} is on shard {k}, jump hash says {want}");
        }
        let strays: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM orders o WHERE NOT EXISTS \
             (SELECT 1 FROM users u WHERE u.id = o.user_id)",
        )
        .fetch_one(&mut conn)
        .await
        .expect("orders");
        assert_eq!(
            strays, 0,
            "shard {k} holds orders of users it does not hold"
        );
    }
    let mut total = 0;
    for k in 0..4 {
        total += users_on(k).await;
    }
    assert_eq!(total, USERS as i64);

    // Acknowledged purchases are all there: orders placed during the run carry ids past the
    // loaded ones (each shard numbers its own from a separate range).
    let mut placed = 0;
    for url in &e.shards {
        placed += count(url, "SELECT count(*) FROM orders WHERE id > 1000000000000").await;
    }
    let s = summary_of(&o, &["browse", "history", "buy"]);
    let buy = s.classes.iter().find(|c| c.name == "buy").expect("buy");
    println!(
        "orders placed {placed}, acknowledged {}, failed {}",
        buy.completed, buy.failed
    );
    assert!(buy.completed > 100.0);
    assert!(
        placed as f64 >= buy.completed,
        "an acknowledged order was lost"
    );
    assert!(placed as f64 <= buy.completed + buy.failed);

    // Requests per shard: all four served after the move, and they add up.
    let shard_requests: f64 = (0..4)
        .map(|k| metric(&s, "shards", &format!("requests.{k}")))
        .sum();
    assert_eq!(shard_requests, s.completed);
    assert!(metric(&s, "shards", "requests.3") > 0.0);
    assert!(metric(&s, "db.shard-3", "p99_ms") > 0.0);
    assert_eq!(metric(&s, "reshard", "users_moved"), want_moved as f64);
}

/// The summary of `o` reduced with a scenario of the classes `names`.
fn summary_of(o: &RealOutcome, names: &[&str]) -> StrategySummary {
    let mut text = String::from(
        "name = \"sharded\"\nduration = \"10s\"\n[workload]\ntype = \"poisson\"\nrate = 1\n\
         [stations.db]\nworkers = 1\nservice = \"1ms\"\n",
    );
    for n in names {
        text.push_str(&format!("[classes.{n}]\npath = [\"db\"]\n"));
    }
    let sc = scenario::load_str(&text, std::path::Path::new("sharded.toml"), &[])
        .expect("valid scenario")
        .base;
    o.to_strategy_summary(&sc)
}

/// A stampede for real: one hot key (the guide's popular-products aggregate) expiring every
/// second under 2,000 req/s. Without a guard every request that misses before the refill runs
/// the aggregate; with single flight one load per expiry runs and the other misses wait for
/// its fill (`coalesced`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis servers: see the module docs"]
async fn single_flight_runs_one_load_per_expiry_where_no_guard_stampedes() {
    let e = endpoints();
    if e.redis.is_none() {
        skipped("no SCALESIM_TEST_REDIS: the stampede test needs Redis");
        return;
    }
    let _guard = SERVERS.lock().await;
    schema::ensure_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("data");
    let mut loads = Vec::new();
    for single_flight in [false, true] {
        let cache = CacheMode::CacheAside {
            ttl: Duration::from_secs(1),
            single_flight,
        };
        let mut p = plan("stampede", ReadRouting::Primary, cache, 4);
        p.warmup = Duration::ZERO;
        p.strategy.pool_size = 16;
        p.classes = vec![ClassPlan {
            name: "popular".to_owned(),
            op: Op::PopularProducts,
        }];
        let arrivals =
            poisson_arrivals(2_000.0, p.total(), &[1.0], &KeyDist::Uniform { n: 1 }, SEED)
                .expect("arrivals");
        let o = execute(p, Load::Open(Box::new(arrivals)), &e, &NoFaults)
            .await
            .expect("run");
        let s = summary_of(&o, &["popular"]);
        let m = |k: &str| metric(&s, "cache", k);
        println!(
            "single flight {single_flight}: completed {} hits {} misses {} loads {} coalesced {} p99 {:.2} ms",
            s.completed,
            m("hits"),
            m("misses"),
            m("loads"),
            m("coalesced"),
            s.latency_ms.p99
        );
        assert!(s.completed > 7_000.0, "{s:?}");
        assert_eq!(m("hits") + m("misses"), s.completed);
        assert_eq!(m("loads") + m("coalesced"), m("misses"));
        if single_flight {
            // The first fill and one per expiry: the 4 s run sees at most 5 of those (Redis
            // expires a 1 s key within a second), with one spare for a fill that straddles
            // the end.
            assert!(
                m("loads") <= 6.0,
                "single flight loaded {} times",
                m("loads")
            );
            assert!(m("coalesced") > 0.0, "no miss waited for a fill");
        } else {
            assert_eq!(m("coalesced"), 0.0);
        }
        // The time series counts the same loads, per second of each 0.5 s bucket.
        let in_series: f64 = o
            .series(0)
            .iter()
            .filter(|r| r.metric == "cache_loads")
            .map(|r| r.value * 0.5)
            .sum();
        assert_eq!(in_series, m("loads"));
        loads.push(m("loads"));
    }
    assert!(
        loads[0] > loads[1],
        "no guard loaded {} times, single flight {}",
        loads[0],
        loads[1]
    );

    // Product pages coalesce too (their misses also judge staleness on the value read).
    let cache = CacheMode::CacheAside {
        ttl: Duration::from_secs(1),
        single_flight: true,
    };
    let mut p = plan("product pages", ReadRouting::Primary, cache, 4);
    p.warmup = Duration::ZERO;
    p.classes = vec![ClassPlan {
        name: "browse".to_owned(),
        op: Op::ReadProduct,
    }];
    let arrivals = poisson_arrivals(2_000.0, p.total(), &[1.0], &KeyDist::Uniform { n: 1 }, SEED)
        .expect("arrivals");
    let o = execute(p, Load::Open(Box::new(arrivals)), &e, &NoFaults)
        .await
        .expect("run");
    let s = summary_of(&o, &["browse"]);
    let m = |k: &str| metric(&s, "cache", k);
    assert_eq!(m("hits") + m("misses"), s.completed);
    assert_eq!(m("loads") + m("coalesced"), m("misses"));
    assert!(
        m("loads") <= 6.0,
        "single flight loaded {} times",
        m("loads")
    );
}

/// Requests that time out in mid-statement leave no backends behind: the server never holds
/// more of the run's connections than its pool has (a timed-out statement finishes, or is
/// ended by `statement_timeout`, on its own connection, which goes back to the pool).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis servers: see the module docs"]
async fn timed_out_requests_keep_the_server_within_the_pool() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let e = endpoints();
    let _guard = SERVERS.lock().await;
    schema::ensure_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("data");
    const POOL: u32 = 4;
    let mut p = plan("timeouts", ReadRouting::Primary, CacheMode::None, 3);
    p.warmup = Duration::ZERO;
    p.request_timeout = Duration::from_millis(1);
    p.strategy.pool_size = POOL;
    p.classes = vec![ClassPlan {
        name: "lookup".to_owned(),
        op: Op::LookupUnindexed,
    }];
    let arrivals = poisson_arrivals(
        1_500.0,
        p.total(),
        &[1.0],
        &KeyDist::Uniform { n: USERS },
        SEED,
    )
    .expect("arrivals");
    // Counts the primary's client backends on this database that started after its own (so
    // not a PgBouncer's idle server connections left by another test), every 10 ms.
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        // Connected before the run, so the pool's connections all start after it.
        let mut c = connect(&e.primary).await;
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut most = 0i64;
            while !stop.load(Ordering::Relaxed) {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND backend_type = 'client backend' AND pid <> pg_backend_pid() \
                     AND backend_start > (SELECT backend_start FROM pg_stat_activity \
                     WHERE pid = pg_backend_pid())",
                )
                .fetch_one(&mut c)
                .await
                .expect("pg_stat_activity");
                most = most.max(n);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            most
        })
    };
    let o = execute(p, Load::Open(Box::new(arrivals)), &e, &NoFaults)
        .await
        .expect("run");
    stop.store(true, Ordering::Relaxed);
    let most = watcher.await.expect("watcher");
    let s = summary_of(&o, &["lookup"]);
    println!(
        "completed {} timeouts {} most backends {most}",
        s.completed, s.errors["timeout"]
    );
    assert!(s.errors["timeout"] > 100.0, "the run must time out: {s:?}");
    // The pool's connections, plus the run's data check and lag monitor.
    assert!(
        most <= i64::from(POOL) + 2,
        "{most} backends for a pool of {POOL}"
    );
}

/// The primary's `max_connections` and the client backends it has now.
async fn connection_room(url: &str) -> (i64, i64) {
    let mut c = connect(url).await;
    let max: String = sqlx::query_scalar("SHOW max_connections")
        .fetch_one(&mut c)
        .await
        .expect("max_connections");
    let used: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'",
    )
    .fetch_one(&mut c)
    .await
    .expect("pg_stat_activity");
    (max.parse().expect("a number"), used)
}

/// The app-side pool's metrics of a run, which must add up: every checkout ended one way.
fn pool_metrics(o: &RealOutcome) -> std::collections::BTreeMap<String, f64> {
    let s = summary(o);
    let c = s
        .components
        .iter()
        .find(|c| c.kind == "pool")
        .unwrap_or_else(|| panic!("a pool component: {:?}", s.components));
    assert_eq!(c.name, "pool");
    let m = c.metrics.clone();
    let ended = m["acquired"]
        + m["acquire_timeouts"]
        + m["connect_refused"]
        + m["connect_errors"]
        + m["acquire_gave_up"];
    assert_eq!(ended, m["acquires"], "{m:?}");
    println!("{}: {m:?}", o.strategy());
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis servers: see the module docs"]
async fn app_pools_past_max_connections_are_refused_and_pgbouncer_is_not() {
    let e = endpoints();
    let _guard = SERVERS.lock().await;
    schema::ensure_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("data");
    // Four app instances whose pools add up to a third more than max_connections, so that
    // they are refused whatever other clients come and go (PgBouncer's max_client_conn must
    // take them all: scripts/real-dev-cluster.sh's default, 1000, does).
    let (max, _) = connection_room(&e.primary).await;
    const INSTANCES: u32 = 4;
    let max_u32 = u32::try_from(max).expect("max_connections");
    let pool_size = (max_u32 * 4 / 3).div_ceil(INSTANCES);
    let direct = |name: &str| {
        let mut p = plan(name, ReadRouting::Primary, CacheMode::None, 3);
        p.strategy.pool_size = pool_size;
        p.strategy.app = AppPools {
            instances: INSTANCES,
            acquire_timeout: Some(Duration::from_millis(200)),
            ..AppPools::default()
        };
        p
    };
    let p = direct("direct");
    let load = open_load(&p, 300.0);
    let o = execute(p, load, &e, &NoFaults).await.expect("direct run");
    let m = pool_metrics(&o);
    assert!(
        m["connect_refused"] > 0.0,
        "{INSTANCES} x {pool_size} connections past max_connections {max}: {m:?}"
    );
    assert!(m["open_max"] <= max as f64, "{m:?}");
    let s = summary(&o);
    assert!(
        s.errors["connection"] >= m["connect_refused"],
        "{:?}",
        s.errors
    );
    let Some(_) = &e.pgbouncer else {
        skipped("no SCALESIM_TEST_PGBOUNCER: the PgBouncer half did not run");
        return;
    };
    let mut p = direct("pgbouncer");
    p.strategy.app.via_pgbouncer = true;
    let load = open_load(&p, 300.0);
    let o = execute(p, load, &e, &NoFaults)
        .await
        .expect("pgbouncer run");
    let m = pool_metrics(&o);
    assert_eq!(m["connect_refused"], 0.0, "{m:?}");
    assert_eq!(m["open_max"], f64::from(INSTANCES * pool_size), "{m:?}");
    let s = summary(&o);
    // Transaction mode with simple queries: every operation, writes included, succeeds.
    assert_eq!(s.failed, 0.0, "{:?}", s.errors);
    assert!(s.completed > 500.0, "{s:?}");
}
