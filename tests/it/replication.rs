//! Replicated databases in paths against independent results: no stale read without writes
//! or from the primary, the Poisson closed forms for stale reads and lag, replay competing
//! with reads, the cost of a synchronous commit, writes lost at a failover, read-your-writes,
//! and bad input named by file, line and field.

use std::path::Path;

use scalesim::observe::RepStats;
use scalesim::scenario;

use crate::common::{component, metric, run_text};

/// A primary and three replicas (64 workers each, 0.2 ms reads) behind an open Poisson
/// workload of reads and writes over uniform keys; `{db}` is the rest of `[databases.pg]`.
fn scenario(rate: f64, reads: f64, writes: f64, keys: u64, db: &str) -> String {
    format!(
        r#"
name = "repl"
duration = "40s"
warmup = "5s"
[workload]
type = "poisson"
rate = {rate}
keys = {{ dist = "uniform", n = {keys} }}
[classes.read]
weight = {reads}
path = [{{ db_read = "pg" }}]
[classes.write]
weight = {writes}
path = [{{ db_write = "pg" }}]
[stations.db_p]
workers = 64
service = "0.2ms"
[stations.db_r0]
workers = 64
service = "0.2ms"
[stations.db_r1]
workers = 64
service = "0.2ms"
[stations.db_r2]
workers = 64
service = "0.2ms"
[databases.pg]
primary = "db_p"
replicas = ["db_r0", "db_r1", "db_r2"]
{db}
"#
    )
}

fn pg(s: &RepStats, name: &str) -> f64 {
    metric(component(s, "pg"), name)
}

const ROUTINGS: [&str; 6] = [
    "routing = \"primary\"",
    "routing = \"round_robin\"",
    "routing = \"least_loaded\"",
    "routing = \"read_your_writes\"\nwindow = \"1s\"",
    "routing = \"read_your_writes_lsn\"",
    "routing = \"lag_aware\"\nmax_lag = \"2ms\"",
];

/// Without writes no read is stale, whatever the routing; with writes, reads on the primary
/// never are.
#[test]
fn no_writes_or_primary_reads_are_never_stale() {
    for routing in ROUTINGS {
        let s = run_text(&scenario(2000.0, 1.0, 0.0, 1000, routing), &[], 3);
        assert_eq!(pg(&s, "stale_reads"), 0.0, "{routing}");
        assert!(pg(&s, "reads_primary") + pg(&s, "reads_replicas") > 60_000.0);
        if routing.contains("\"primary\"") {
            assert_eq!(pg(&s, "reads_replicas"), 0.0);
        } else {
            assert!(pg(&s, "reads_replicas") > 60_000.0, "{routing}");
        }
    }
    let s = run_text(
        &scenario(
            4000.0,
            1.0,
            1.0,
            100,
            "routing = \"primary\"\nship = \"5ms\"",
        ),
        &[],
        3,
    );
    assert!(pg(&s, "writes") > 60_000.0);
    assert_eq!(pg(&s, "stale_read_ratio"), 0.0);
    assert_eq!(pg(&s, "reads_replicas"), 0.0);
}

/// Poisson writes at rate w over K uniform keys, a constant shipping delay d and free replay:
/// a read of key k on a replica is stale when k was written in the last d, with probability
/// 1 - exp(-(w/K) d); the time lag of a replica, t minus the commit time of the oldest write
/// it lacks, has mean d - (1 - exp(-w d)) / w.
#[test]
fn stale_reads_and_lag_match_the_poisson_closed_forms() {
    let (w, k, d) = (2000.0, 100u64, 0.005);
    let s = run_text(
        &scenario(4000.0, 1.0, 1.0, k, "ship = \"5ms\"\nreplay = \"0s\""),
        &[],
        5,
    );
    let stale = pg(&s, "stale_read_ratio");
    let want = 1.0 - (-(w / k as f64) * d).exp();
    let want_lag = (d - (1.0 - (-w * d).exp()) / w) * 1e3;
    eprintln!(
        "stale {stale:.4} (theory {want:.4}), lag mean {:.3} ms (theory {want_lag:.3}), max {:.3}",
        pg(&s, "lag_ms_mean"),
        pg(&s, "lag_ms_max")
    );
    assert!(
        (stale - want).abs() < 0.006,
        "stale {stale:.4}, 1 - exp(-w d / K) = {want:.4}"
    );
    let lag = pg(&s, "lag_ms_mean");
    assert!(
        (lag - want_lag).abs() < 0.03 * want_lag,
        "lag {lag:.3} ms, closed form {want_lag:.3} ms"
    );
    assert!(
        (pg(&s, "lag_ms_max") - 5.0).abs() < 0.01,
        "lag never exceeds d"
    );
    for r in 0..3 {
        let c = component(&s, &format!("pg.replica-{r}"));
        let ratio = metric(c, "stale_read_ratio");
        assert!((ratio - want).abs() < 0.01, "replica {r}: {ratio:.4}");
    }
}

/// Replay takes a replica's worker like a read: with one worker, a replica busy with reads
/// replays later, so the same writes build more lag at a higher read load.
#[test]
fn replay_competes_with_reads_for_the_replica() {
    let lag = |read_rate: f64| {
        let text = format!(
            r#"
name = "busy"
duration = "60s"
warmup = "5s"
[workload]
type = "poisson"
rate = {}
keys = {{ dist = "uniform", n = 1000 }}
[classes.read]
weight = {read_rate}
path = [{{ db_read = "pg" }}]
[classes.write]
weight = 100
path = [{{ db_write = "pg" }}]
[stations.db_p]
workers = 64
service = "0.1ms"
[stations.db_r]
workers = 1
service = {{ dist = "exponential", mean = "1ms" }}
[databases.pg]
primary = "db_p"
replicas = ["db_r"]
ship = "1ms"
replay = {{ dist = "exponential", mean = "0.5ms" }}
"#,
            read_rate + 100.0
        );
        let s = run_text(&text, &[], 9);
        let busy = component(&s, "db_r").utilization;
        (pg(&s, "lag_ms_mean"), pg(&s, "lag_ms_p99"), busy)
    };
    let (low, low99, u_low) = lag(200.0);
    let (high, high99, u_high) = lag(850.0);
    eprintln!(
        "lag mean {low:.3} -> {high:.3} ms, p99 {low99:.3} -> {high99:.3} ms, busy {u_low:.2} -> {u_high:.2}"
    );
    assert!(u_low < 0.3 && u_high > 0.85, "{u_low} {u_high}");
    assert!(
        high > 3.0 * low && high99 > 3.0 * low99,
        "lag mean {low:.3} -> {high:.3} ms, p99 {low99:.3} -> {high99:.3} ms"
    );
}

/// Write latency of the `write` class (its index in name order), ms.
fn write_ms(s: &RepStats) -> f64 {
    s.classes[1].mean_ns() / 1e6
}

/// A synchronous commit waits until one replica has received the write (`remote_write`):
/// the write takes the shipping delay longer than an asynchronous one; a quorum of two of
/// three waits for the second-fastest link, longer still. Writes are sparse (10/s), so the
/// FIFO order of a link seldom holds a shipment back.
#[test]
fn sync_commit_costs_the_shipping_delay() {
    let run = |commit: &str| {
        let db = format!("ship = {{ dist = \"uniform\", min = \"2ms\", max = \"8ms\" }}\n{commit}");
        run_text(&scenario(20.0, 1.0, 1.0, 1000, &db), &[], 13)
    };
    let (a, s, q) = (
        run("commit = \"async\""),
        run("commit = \"sync\""),
        run("commit = { quorum = 2 }"),
    );
    let (a, s, q) = (write_ms(&a), write_ms(&s), write_ms(&q));
    eprintln!("write ms: async {a:.3}, sync {s:.3}, quorum 2 {q:.3}");
    // The first of three uniform(2, 8) ms arrivals has mean 2 + 6/4, the second 2 + 6/2.
    assert!(
        (a - 0.2).abs() < 0.01,
        "async {a:.3} ms: the primary's visit"
    );
    assert!(
        (s - a - 3.5).abs() < 0.3,
        "sync {s:.3} ms vs async {a:.3} ms"
    );
    assert!(
        (q - a - 5.0).abs() < 0.3,
        "quorum 2 {q:.3} ms vs async {a:.3} ms"
    );
}

/// The primary fails 10 s into the measured window; a replica takes over 5 s later. With an
/// asynchronous commit the writes committed in the last shipping delay before the crash are
/// lost (about w d), every one of them acknowledged; with a synchronous commit none that was
/// acknowledged is. Writes fail for the detect + promote window, then succeed on the new
/// primary.
#[test]
fn failover_loses_unshipped_writes_only_with_async_commit() {
    let run = |commit: &str| {
        let db = format!(
            "ship = \"20ms\"\n{commit}\nfailover = {{ at = \"15s\", detect = \"2s\", promote = \"3s\" }}"
        );
        run_text(&scenario(1000.0, 1.0, 1.0, 1000, &db), &[], 17)
    };
    let a = run("commit = \"async\"");
    let (lost, acked_lost) = (pg(&a, "writes_lost"), pg(&a, "acked_writes_lost"));
    // 500 writes/s over 20 ms: 10 expected.
    assert!((3.0..=25.0).contains(&lost), "async lost {lost}");
    assert_eq!(lost, acked_lost, "async acknowledges every commit");
    assert_eq!(pg(&a, "failovers"), 1.0);
    let failed = a.classes[1].failed_total() as f64;
    eprintln!("async: lost {lost}, acked lost {acked_lost}, failed writes {failed}");
    assert!(
        (failed - 2500.0).abs() < 300.0,
        "{failed} writes failed in 5 s at 500/s"
    );
    let s = run("commit = \"sync\"");
    eprintln!(
        "sync: lost {}, acked lost {}, failed writes {}",
        pg(&s, "writes_lost"),
        pg(&s, "acked_writes_lost"),
        s.classes[1].failed_total()
    );
    assert_eq!(
        pg(&s, "acked_writes_lost"),
        0.0,
        "sync loses no acknowledged write"
    );
    assert!((s.classes[1].failed_total() as f64 - 2500.0).abs() < 300.0);
    // After the promotion writes succeed again: throughput over the window minus the outage.
    let done = a.classes[1].completed as f64;
    assert!((done - 500.0 * 30.0).abs() < 600.0, "{done}");
}

/// Closed-loop users each write a key, wait a while, then read that key. Read-your-writes
/// (by position, or for a window longer than the lag) never shows a user a stale read of
/// its own write; round robin does, whenever the read comes before the replica replayed it.
#[test]
fn read_your_writes_never_shows_a_user_a_stale_own_write() {
    let run = |routing: &str| {
        let text = format!(
            r#"
name = "ryw"
duration = "40s"
warmup = "2s"
[workload]
type = "users"
users = 16
think = "1ms"
keys = {{ dist = "uniform", n = 10000000 }}
[classes.rw]
path = [{{ db_write = "pg" }}, {{ delay = {{ dist = "uniform", min = "0s", max = "200ms" }} }}, {{ db_read = "pg" }}]
[stations.db_p]
workers = 8
service = "0.2ms"
[stations.db_r0]
workers = 8
service = "0.2ms"
[stations.db_r1]
workers = 8
service = "0.2ms"
[databases.pg]
primary = "db_p"
replicas = ["db_r0", "db_r1"]
ship = {{ dist = "exponential", mean = "5ms" }}
replay = "0.1ms"
{routing}
"#
        );
        run_text(&text, &[], 21)
    };
    for routing in [
        "routing = \"read_your_writes_lsn\"",
        "routing = \"read_your_writes\"\nwindow = \"100ms\"",
    ] {
        let s = run(routing);
        assert_eq!(pg(&s, "stale_reads"), 0.0, "{routing}");
        let (p, r) = (pg(&s, "reads_primary"), pg(&s, "reads_replicas"));
        eprintln!(
            "{routing}: primary {p}, replicas {r}, stale {}",
            pg(&s, "stale_reads")
        );
        assert!(p + r > 4000.0, "{p} + {r}");
        // By position, a read goes to a replica once it replayed the write (most wait longer
        // than the lag); by window, once 100 ms have passed (half of them).
        let share = if routing.contains("lsn") { 0.85 } else { 0.4 };
        assert!(
            r > share * (p + r),
            "{routing}: {r} of {} reads on replicas",
            p + r
        );
    }
    let s = run("routing = \"round_robin\"");
    let stale = pg(&s, "stale_read_ratio");
    eprintln!("round robin: stale ratio {stale:.4}");
    // A read after a uniform(0, 200 ms) wait finds its write not yet shipped with probability
    // about E[exp(-X / 5 ms)] = 5/200 (FIFO links delay some shipments more).
    assert!(
        (0.015..0.08).contains(&stale),
        "round robin stale {stale:.3}"
    );
}

/// Each mistake in a database or a database step is refused at load time, naming the field
/// (and the `--set` that made it).
#[test]
fn bad_database_input_names_the_field() {
    let base = scenario(10.0, 1.0, 1.0, 100, "routing = \"round_robin\"");
    let err = |sets: &[&str]| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        match scenario::load_str(&base, Path::new("bad.toml"), &sets) {
            Ok(_) => panic!("{sets:?} loaded"),
            Err(e) => e.to_string(),
        }
    };
    let cases: Vec<(&[&str], Vec<String>)> = vec![
        (
            &["databases.pg.routing=\"round_robbin\""],
            vec![
                "databases.pg.routing".into(),
                "round_robin".into(),
                // The mistake came from `--set`: the error names it, not a line of the file.
                "(--set databases.pg.routing".into(),
            ],
        ),
        (
            &["databases.pg.replicas=[]"],
            vec!["databases.pg.routing".into(), "there are none".into()],
        ),
        (
            &["databases.pg.commit={ quorum = 4 }"],
            vec![
                "databases.pg.commit".into(),
                "above the replica count".into(),
            ],
        ),
        (
            &["classes.read.path=[{ db_read = \"pgg\" }]"],
            vec![
                "classes.read.path.0.db_read".into(),
                "no database named `pgg`".into(),
                "pg".into(),
            ],
        ),
        (
            &["databases.pg.replicas=[\"db_r0\", \"db_rx\"]"],
            vec!["databases.pg.replicas.1".into(), "did you mean".into()],
        ),
        (
            &["databases.pg.commit=\"synch\""],
            vec!["databases.pg.commit".into(), "sync".into()],
        ),
        (
            &["databases.pg.routing=\"lag_aware\""],
            vec!["databases.pg.max_lag".into()],
        ),
        (
            &["databases.pg.replica_down={ replica = 3, at = \"1s\", for = \"1s\" }"],
            vec!["databases.pg.replica_down.replica".into(), "0 to 2".into()],
        ),
        (
            &["workload.keys={ dist = \"uniform\", n = 0 }"],
            vec!["workload.keys".into()],
        ),
    ];
    for (sets, wants) in cases {
        let e = err(sets);
        for w in &wants {
            assert!(e.contains(w.as_str()), "{sets:?}: {e}");
        }
    }
}
