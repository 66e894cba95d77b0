//! Real runs against Postgres (a primary and streaming replicas) and Redis.
//!
//! The servers come from the environment; without `SCALESIM_TEST_PG_PRIMARY` every test that
//! needs them prints one line and passes:
//!
//! - `SCALESIM_TEST_PG_PRIMARY`: `postgres://` URL of the primary (a superuser for the
//!   replica-disconnect test);
//! - `SCALESIM_TEST_PG_REPLICAS`: comma-separated `postgres://` URLs of its streaming replicas;
//! - `SCALESIM_TEST_REDIS`: `redis://` URL.
//!
//! The tests reload a small data set into that database (dropping the scalesim tables) and
//! run one at a time.

use std::time::Duration;

use scalesim::real::loadgen::execute;
use scalesim::real::measure::RealOutcome;
use scalesim::real::plan::{
    CacheMode, ClassPlan, Endpoints, FaultAt, FaultInjector, Load, NoFaults, Op, ReadRouting,
    RealError, RealPlan, StrategyPlan,
};
use scalesim::real::schema;
use scalesim::real::sql_faults::SqlFaultInjector;
use scalesim::real::workload::{KeyDist, poisson_arrivals};
use scalesim::report::summary::StrategySummary;

const PRODUCTS: u64 = 2_000;
const USERS: u64 = 5_000;
const SEED: u64 = 42;

/// The servers share one database: one test at a time.
static SERVERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn endpoints() -> Option<Endpoints> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let Some(primary) = var("SCALESIM_TEST_PG_PRIMARY") else {
        println!(
            "real_load: skipped: set SCALESIM_TEST_PG_PRIMARY (and SCALESIM_TEST_PG_REPLICAS, \
             SCALESIM_TEST_REDIS) to run against real servers"
        );
        return None;
    };
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
        allowed_hosts: vec![],
    })
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
        },
        products: PRODUCTS,
        users: USERS,
        bucket: Duration::from_millis(500),
        stale_probe_interval: Duration::from_millis(100),
        ..RealPlan::default()
    }
}

fn open_load(plan: &RealPlan, rate: f64) -> Load {
    let keys = KeyDist::Zipf {
        n: PRODUCTS,
        alpha: 1.0,
    };
    let arrivals = poisson_arrivals(rate, plan.total(), &WEIGHTS, &keys, SEED).expect("valid");
    Load::Open(Box::new(arrivals))
}

fn metric(s: &StrategySummary, component: &str, key: &str) -> f64 {
    s.components
        .iter()
        .find(|c| c.name == component)
        .and_then(|c| c.metrics.get(key).copied())
        .unwrap_or(f64::NAN)
}

fn print_summary(o: &RealOutcome) {
    let s = o.to_strategy_summary();
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
    let s = o.to_strategy_summary();
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
async fn data_load_is_reproducible_and_reused() {
    let Some(e) = endpoints() else { return };
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
async fn every_strategy_runs_open_loop_and_converts() {
    let Some(e) = endpoints() else { return };
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
            CacheMode::CacheAside { ttl },
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
async fn closed_loop_users_ramp_up_and_think() {
    let Some(e) = endpoints() else { return };
    let _guard = SERVERS.lock().await;
    schema::ensure_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("data");
    let p = plan("closed", ReadRouting::RoundRobin, CacheMode::None, 2);
    let load = Load::Closed {
        users: 8,
        think_mean: Duration::from_millis(5),
        ramp: Duration::from_millis(500),
        classes_weights: WEIGHTS.to_vec(),
        keys: KeyDist::Hotspot {
            n: PRODUCTS,
            hot_fraction: 0.1,
            hot_share: 0.9,
        },
    };
    let o = execute(p, load, &e, &NoFaults).await.expect("run");
    print_summary(&o);
    let s = check_outcome(&o);
    // 8 users thinking 5 ms on average cannot exceed 8 / 5 ms = 1600 requests per second.
    assert!(s.throughput_rps < 1_600.0, "{}", s.throughput_rps);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_overload_is_rejected_not_queued() {
    let Some(e) = endpoints() else { return };
    let _guard = SERVERS.lock().await;
    schema::ensure_data(&e, PRODUCTS, USERS, SEED)
        .await
        .expect("data");
    let p = RealPlan {
        max_in_flight: 2,
        ..plan("tiny", ReadRouting::Primary, CacheMode::None, 1)
    };
    let load = open_load(&p, 5_000.0);
    let o = execute(p, load, &e, &NoFaults).await.expect("run");
    let s = o.to_strategy_summary();
    assert!(s.errors["rejected"] > 0.0, "{:?}", s.errors);
    assert_eq!(s.requests, s.completed + s.failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnected_replica_lags_and_serves_stale_reads() {
    let Some(e) = endpoints() else { return };
    if e.replicas.is_empty() {
        println!("real_load: replica-disconnect test skipped: no SCALESIM_TEST_PG_REPLICAS");
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
        println!("real_load: replica-disconnect test skipped: {f:?} (needs a superuser)");
        return;
    }
    print_summary(&o);
    let s = check_outcome(&o);
    let lag_max = metric(&s, "db.replica-0", "lag_ms_max");
    let probe_stale = metric(&s, "db.replica-0", "stale_reads");
    println!(
        "replica-0 lag_ms_max {lag_max:.0} probe stale {probe_stale} strategy stale {}",
        metric(&s, "db", "stale_reads")
    );
    assert!(lag_max > 1_000.0, "lag {lag_max}");
    assert!(probe_stale > 5.0, "probe stale {probe_stale}");
    assert!(metric(&s, "db", "stale_reads") > 0.0);
    let lag_rows = o
        .series(0)
        .into_iter()
        .filter(|r| r.metric == "lag_ms.replica-0")
        .count();
    assert!(lag_rows > 5);
}
