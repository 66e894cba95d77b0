//! Connection pools, database contention and query shapes against independent results: a
//! pool in front of a FIFO database is an M/M/c/K loss system (no wait) or an M/M/c queue
//! (unbounded wait); a processor-sharing database with contention follows the universal
//! scalability law; more pods than `max_connections` allows are refused; a query's cost grows
//! with the rows it reads; and bad input is named by file, line and field.

use std::path::Path;

use scalesim::observe::RepStats;
use scalesim::scenario;
use scalesim::stats::theory as th;

use crate::common::{component, metric, run_text};

/// One app instance (a pass-through: 10,000 workers, 1 µs) holding pool `db` of `max`
/// connections (all open from the start) to `pg`, a FIFO database of `c` workers with
/// exponential 10 ms queries, under Poisson arrivals at `rate`.
fn mmck(rate: f64, c: u32, max: u32, acquire_timeout: &str) -> String {
    format!(
        r#"
name = "pool"
duration = "400s"
warmup = "20s"
[workload]
type = "poisson"
rate = {rate}
[classes.q]
path = ["app", {{ pool = "db", path = ["pg"] }}]
[services.app]
workers = 10000
service = "1us"
[services.pg]
workers = {c}
service = {{ dist = "exponential", mean = "10ms" }}
[pools.db]
per_instance = "app"
server = "pg"
min = {max}
max = {max}
{acquire_timeout}
"#
    )
}

fn pool(s: &RepStats, name: &str) -> f64 {
    metric(component(s, "db"), name)
}

/// With no wait for a connection (`acquire_timeout = 0`), `K` connections in front of `c`
/// workers make an M/M/c/K loss system: an acquire fails exactly when `K` requests are at the
/// database, with the blocking probability of M/M/c/K (PASTA).
#[test]
fn a_pool_without_waiting_is_an_mmck_loss_system() {
    for (rate, c, k) in [(300.0, 2, 4), (350.0, 4, 4), (700.0, 4, 8)] {
        let s = run_text(&mmck(rate, c, k, "acquire_timeout = 0"), &[], 7);
        let blocked = pool(&s, "acquire_timeouts") / pool(&s, "acquires");
        let expect = th::mmck_blocking(c as usize, k as usize, rate, 100.0);
        assert!(
            (blocked - expect).abs() < 0.06 * expect + 0.002,
            "c={c} K={k} rate={rate}: blocked {blocked:.4}, M/M/c/K {expect:.4}"
        );
        let in_use = pool(&s, "in_use_mean");
        // Mean number at the database: the carried load plus those queued, L of M/M/c/K.
        let l = rate * (1.0 - expect) * th::mmck_mean_response(c as usize, k as usize, rate, 100.0);
        assert!(
            (in_use - l).abs() < 0.04 * l,
            "c={c} K={k}: connections in use {in_use:.3}, L = {l:.3}"
        );
    }
}

/// With as many connections as database workers and an unbounded wait, the wait moves from
/// the database's queue into the pool: the acquire wait is M/M/c's queueing delay.
#[test]
fn a_pool_as_large_as_the_database_moves_mmc_queueing_into_the_pool() {
    for (rate, c) in [(150.0, 2), (320.0, 4)] {
        let s = run_text(&mmck(rate, c, c, ""), &[], 11);
        let wait = pool(&s, "acquire_wait_ms_mean");
        let expect = th::mmc_mean_wait(c as usize, rate, 100.0) * 1e3;
        assert!(
            (wait - expect).abs() < 0.06 * expect,
            "c={c} rate={rate}: acquire wait {wait:.3} ms, M/M/c Wq {expect:.3} ms"
        );
        assert_eq!(pool(&s, "acquire_timeouts"), 0.0);
        let db = component(&s, "pg");
        assert_eq!(db.waited, 0, "nobody waits at the database itself");
    }
}

/// `n` users with no think time keep `n` queries at a processor-sharing database of 8 cores
/// with contention: the throughput is the universal scalability law's `min(n, 8) / (S (1 +
/// σ(n-1) + κn(n-1)))`, rising to the cores, then falling.
#[test]
fn a_contended_database_follows_the_universal_scalability_law() {
    let (sigma, kappa, s_ms) = (0.03, 0.002, 4.0);
    let mut measured = Vec::new();
    for n in [1u32, 4, 8, 12, 24, 48] {
        let text = format!(
            r#"
name = "usl"
duration = "120s"
warmup = "10s"
[workload]
type = "users"
stages = [{{ duration = "0s", target = {n} }}, {{ duration = "120s", target = {n} }}]
think = "0s"
[classes.q]
path = ["pg"]
[services.pg]
workers = 8
discipline = "ps"
contention = {{ sigma = {sigma}, kappa = {kappa} }}
service = {{ dist = "exponential", mean = "{s_ms}ms" }}
"#
        );
        let s = run_text(&text, &[], 5);
        let done = s.classes[0].completed as f64 / 110.0;
        let n = f64::from(n);
        let law = n.min(8.0) / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0)) / (s_ms / 1e3);
        assert!(
            (done - law).abs() < 0.02 * law,
            "n={n}: {done:.1} queries/s, USL {law:.1}"
        );
        measured.push(done);
    }
    // Peak at n = 8 (the cores), then lower: the knee.
    let peak = measured
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert_eq!(peak, 2, "{measured:?}");
    assert!(measured[5] < 0.8 * measured[2], "{measured:?}");
}

/// `pods` app pods, each with a pool of at most 30 connections, against a database that takes
/// 100. Requests hold a connection for 45 ms (a transaction that waits on something else), so
/// 1,800 requests/s keep about 82 busy: 3 pods cap them at 90 and wait a little; 4 pods may
/// open 120, and those past 100 are refused with connection errors.
fn pods(n: u32) -> RepStats {
    let text = format!(
        r#"
name = "pods"
duration = "60s"
warmup = "10s"
[workload]
type = "poisson"
rate = 1800
[classes.q]
path = ["app", {{ pool = "db", path = ["pg", {{ delay = "45ms" }}] }}]
timeout = "2s"
[services.app]
instances = {n}
workers = 1000
service = "0.1ms"
[services.pg]
workers = 8
discipline = "ps"
max_connections = 100
service = {{ dist = "exponential", mean = "0.2ms" }}
[pools.db]
per_instance = "app"
server = "pg"
min = 2
max = 30
acquire_timeout = "1s"
idle_timeout = "10s"
"#
    );
    run_text(&text, &[], 3)
}

#[test]
fn more_pool_connections_than_the_database_takes_are_refused() {
    let three = pods(3);
    assert_eq!(pool(&three, "connect_refused"), 0.0);
    assert!(pool(&three, "server_connections_max") <= 90.0);
    assert_eq!(three.classes[0].failed_total(), 0);
    let four = pods(4);
    assert!(
        pool(&four, "connect_refused") > 0.0,
        "4 x 30 > 100 connections must be refused"
    );
    assert_eq!(pool(&four, "server_connections_max"), 100.0);
    let errors = four.classes[0].failed[scalesim::observe::ErrorKind::Connection.index()];
    assert!(errors > 0, "refused connections are errors");
}

/// Pods crash (every 10 s on average) and come back while requests hold and wait for
/// connections: a crashed pod's connections close with it, requests that were at it fail
/// with connection errors, and the server never counts more than its limit nor loses count
/// (every counter stays within pods x max).
#[test]
fn crashed_pods_take_their_connections_with_them() {
    let text = r#"
name = "crash"
duration = "120s"
warmup = "5s"
[workload]
type = "poisson"
rate = 400
[classes.q]
path = ["app", { delay = "5ms" }, { pool = "db", path = ["pg", { delay = "20ms" }] }]
timeout = "2s"
[services.app]
instances = 3
workers = 100
service = "1ms"
[services.pg]
workers = 8
discipline = "ps"
max_connections = 30
service = { dist = "exponential", mean = "0.5ms" }
[pools.db]
per_instance = "app"
server = "pg"
min = 2
max = 10
acquire_timeout = "1s"
idle_timeout = "5s"
[controllers.crashes]
type = "failures"
service = "app"
mtbf = { dist = "exponential", mean = "10s" }
mttr = { dist = "exponential", mean = "2s" }
"#;
    let s = run_text(text, &[], 9);
    assert!(pool(&s, "server_connections_max") <= 30.0);
    assert!(pool(&s, "open_max") <= 30.0);
    assert!(pool(&s, "in_use_mean") > 5.0 && pool(&s, "in_use_mean") < 30.0);
    let c = &s.classes[0];
    assert!(
        c.failed[scalesim::observe::ErrorKind::Connection.index()] > 0,
        "requests at crashed pods fail"
    );
    assert!(
        c.completed as f64 > 0.8 * c.arrived as f64,
        "{} of {}",
        c.completed,
        c.arrived
    );
}

/// A query's time is the node's own plus `row_cost` per row read: offset pagination reads
/// every earlier page, a cursor only its own, a sequential scan the whole table. At light load
/// on many workers the mean latency is that sum.
#[test]
fn a_query_costs_the_rows_it_reads() {
    let mean = |step: &str| {
        let text = format!(
            r#"
name = "q"
duration = "100s"
warmup = "5s"
[workload]
type = "poisson"
rate = 50
[classes.q]
path = [{step}]
[services.pg]
workers = 1000
service = "0.5ms"
"#
        );
        let s = run_text(&text, &[], 1);
        s.classes[0].mean_ns() / 1e6
    };
    let offset =
        mean(r#"{ query = "pg", scan = "offset", rows = 20, page = 49, row_cost = "1us" }"#);
    assert!(
        (offset - (0.5 + 50.0 * 20.0 * 1e-3)).abs() < 1e-3,
        "{offset}"
    );
    let cursor =
        mean(r#"{ query = "pg", scan = "cursor", rows = 20, page = 49, row_cost = "1us" }"#);
    assert!((cursor - (0.5 + 20.0 * 1e-3)).abs() < 1e-3, "{cursor}");
    let seq = mean(r#"{ query = "pg", scan = "seq", table = 100000, row_cost = "0.05us" }"#);
    assert!((seq - (0.5 + 5.0)).abs() < 1e-3, "{seq}");
    // Geometric page numbers with mean 9: E[(page + 1) * 20] = 200 rows.
    let geo = mean(
        r#"{ query = "pg", scan = "offset", rows = 20, page = { dist = "geometric", mean = 9 }, row_cost = "1us" }"#,
    );
    assert!((geo - 0.7).abs() < 0.02, "{geo}");
    // N+1: one query, then one per item (N = 10) with a 0.3 ms round trip each; one JOIN
    // reads the 11 rows in one query.
    let n1 = mean(
        r#"{ query = "pg" }, { repeat = 10, path = [{ delay = "0.3ms" }, { query = "pg" }] }"#,
    );
    let join = mean(r#"{ query = "pg", rows = 11 }"#);
    assert!(n1 > 10.0 * (0.5 + 0.3), "{n1}");
    assert!(join < 0.6, "{join}");
}

/// Bad pools, contention and queries are refused with the field named.
#[test]
fn bad_pools_and_queries_name_the_field() {
    let base = mmck(10.0, 2, 4, "");
    let cases: [(&str, &str, &str); 8] = [
        ("min = 4\nmax = 4", "min = 5\nmax = 4", "pools.db.min"),
        ("server = \"pg\"", "server = \"pgg\"", "pools.db.server"),
        (
            "{ pool = \"db\"",
            "{ pool = \"dbb\"",
            "classes.q.path.1.pool",
        ),
        (
            "path = [\"app\", { pool",
            "path = [{ pool",
            "classes.q.path.0.pool",
        ),
        (
            "path = [\"pg\"] }]",
            "path = [{ query = \"pg\", scan = \"ofset\" }] }]",
            "classes.q.path.1.path.0.scan",
        ),
        (
            "path = [\"pg\"] }]",
            "path = [{ query = \"pg\", scan = \"seq\" }] }]",
            "classes.q.path.1.path.0.table",
        ),
        (
            "workers = 2\nservice",
            "workers = 2\ncontention = { sigma = 0.1 }\nservice",
            "services.pg.contention",
        ),
        (
            "path = [\"pg\"] }]",
            "path = [{ query = \"pg\", page = 3 }] }]",
            "classes.q.path.1.path.0.page",
        ),
    ];
    for (from, to, field) in cases {
        assert!(base.contains(from), "{from}");
        let text = base.replacen(from, to, 1);
        let e = scenario::load_str(&text, Path::new("bad.toml"), &[])
            .err()
            .unwrap_or_else(|| panic!("{to} must be refused"));
        let msg = e.to_string();
        assert!(msg.contains(field), "{to}: {msg}");
        assert!(
            msg.contains("bad.toml:"),
            "{to}: names the file and line: {msg}"
        );
    }
    let e = scenario::load_str(
        &base.replacen("server = \"pg\"", "server = \"pgg\"", 1),
        Path::new("bad.toml"),
        &[],
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("`pg`"), "suggests the nearest: {e}");
}
