//! The pattern foundation against independent results: load balancing against queueing theory
//! (random splitting = N independent M/M/1 queues; least-outstanding close to M/M/N; power of
//! two choices against Mitzenmacher's supermarket fixed point), and each path construct and
//! lifecycle action against what it must do by construction (counts, conservation, timings).
//!
//! Scenarios are written as TOML and loaded through the public loader, so the file format is
//! exercised too.

use crate::common::{component, metric, run_text as run};
use scalesim::observe::{ErrorKind, RepStats};
use scalesim::stats::theory::{mm1_mean_response, mmc_mean_response};

fn mean_s(s: &RepStats) -> f64 {
    s.total.mean_ns() / 1e9
}

fn failed(s: &RepStats, k: ErrorKind) -> u64 {
    s.total.failed[k.index()]
}

/// N single-worker exponential servers (mean 1 s) behind a balancer, Poisson arrivals at
/// `rho` per server.
fn fleet(n: u32, rho: f64, balancer: &str, hours: u32) -> String {
    format!(
        r#"
name = "fleet"
duration = "{hours}h"
warmup = "10m"
[workload]
type = "poisson"
rate = {rate}
[classes.job]
path = ["app"]
[services.app]
instances = {n}
balancer = "{balancer}"
service = {{ dist = "exponential", mean = "1s" }}
"#,
        rate = rho * f64::from(n)
    )
}

fn close(got: f64, want: f64, rel: f64, what: &str) {
    assert!(
        (got - want).abs() <= rel * want,
        "{what}: got {got:.4}, want {want:.4} (within {:.1} %)",
        rel * 100.0
    );
}

#[test]
fn random_splitting_is_n_independent_mm1_queues() {
    // Poisson splitting: each of the 4 servers sees Poisson(0.8) arrivals, an M/M/1 queue.
    let s = run(&fleet(4, 0.8, "random", 40), &[], 11);
    close(
        mean_s(&s),
        mm1_mean_response(0.8, 1.0),
        0.03,
        "random, rho 0.8",
    );
}

#[test]
fn round_robin_beats_random_and_least_outstanding_beats_both() {
    // Round robin turns Poisson splitting into Erlang-4 arrivals per server (less variable, so
    // shorter queues); joining the shortest queue is better still.
    let [random, rr, lor] = ["random", "round_robin", "least_outstanding"]
        .map(|b| mean_s(&run(&fleet(4, 0.8, b, 10), &[], 3)));
    assert!(rr < random * 0.9, "round robin {rr} vs random {random}");
    assert!(lor < rr, "least outstanding {lor} vs round robin {rr}");
}

#[test]
fn least_outstanding_approaches_mmn_as_n_grows() {
    // Joining the shortest queue can never beat one shared queue (M/M/N). With two servers it
    // is within a few per cent of it; its relative excess peaks at a few dozen servers (about
    // 13 % at N = 16, rho 0.9, measured) and then shrinks as both tend to the bare service
    // time (7 % at N = 64).
    let excess = |n: u32, hours: u32| {
        let s = run(&fleet(n, 0.9, "least_outstanding", hours), &[], 5);
        let want = mmc_mean_response(n as usize, 0.9 * f64::from(n), 1.0);
        mean_s(&s) / want - 1.0
    };
    let (two, mid, large) = (excess(2, 40), excess(16, 12), excess(128, 4));
    assert!(two.abs() < 0.04, "N = 2: excess {two}");
    assert!(mid > 0.0, "N = 16: below M/M/N by {mid}");
    assert!(
        large < mid,
        "excess at N = 128 ({large}) not below N = 16 ({mid})"
    );
}

/// Mean sojourn time of the supermarket model (power of two choices, N -> infinity, mu = 1):
/// the fraction of queues with at least i customers is lambda^(2^i - 1), so the mean number
/// per queue is their sum and, by Little's law, T = sum / lambda.
fn supermarket_mean(lambda: f64) -> f64 {
    (1..40)
        .map(|i| lambda.powf(2f64.powi(i) - 1.0))
        .sum::<f64>()
        / lambda
}

#[test]
fn power_of_two_matches_the_supermarket_fixed_point() {
    assert!((supermarket_mean(0.9) - 2.6141).abs() < 1e-3);
    let s = run(&fleet(100, 0.9, "p2c", 3), &[], 17);
    // Finite N sits slightly above the N = infinity limit.
    close(
        mean_s(&s),
        supermarket_mean(0.9),
        0.04,
        "p2c, N = 100, rho 0.9",
    );
    let random = mm1_mean_response(0.9, 1.0);
    assert!(
        mean_s(&s) < random / 3.0,
        "p2c should crush random's {random}"
    );
}

#[test]
fn weighted_balancing_follows_instance_speed() {
    // Two fast instances (speed 2) and two slow ones: weighted round robin sends twice the
    // requests to the fast ones; plain round robin overloads the slow ones.
    let text = format!(
        "{}speeds = [2.0, 2.0, 1.0, 1.0]\n",
        fleet(4, 1.2, "weighted", 4)
    );
    let s = run(&text, &[], 2);
    let app = component(&s, "app");
    close(
        metric(app, "requests_max_over_mean"),
        4.0 / 3.0,
        0.02,
        "fast instance's share",
    );
    let rr = run(&text, &["services.app.balancer=round_robin"], 2);
    assert!(
        mean_s(&rr) > 3.0 * mean_s(&s),
        "round robin {} vs weighted {}",
        mean_s(&rr),
        mean_s(&s)
    );
}

#[test]
fn a_single_instance_service_is_exactly_the_plain_station() {
    let station = r#"
name = "one"
duration = "1h"
[workload]
type = "poisson"
rate = 3.2
[classes.job]
path = ["s"]
[stations.s]
workers = 4
service = { dist = "exponential", mean = "1s" }
"#;
    let service = station.replace(
        "[stations.s]",
        "[services.s]\ninstances = 1\nbalancer = \"p2c\"",
    );
    let (a, b) = (run(station, &[], 9), run(&service, &[], 9));
    assert_eq!(a.total.latency_sum.to_bits(), b.total.latency_sum.to_bits());
    assert_eq!(a.events, b.events);
}

const PATHS: &str = r#"
name = "paths"
duration = "20m"
[workload]
type = "poisson"
rate = 50
keys = { dist = "uniform", n = 300 }
[classes.job]
path = ["front"]
[services.front]
workers = 1000
service = "1ms"
[services.a]
workers = 1000
service = "2ms"
[services.b]
workers = 1000
service = "3ms"
[services.c]
workers = 1000
service = "4ms"
"#;

fn with_path(path: &str) -> String {
    PATHS.replace(r#"path = ["front"]"#, &format!("path = {path}"))
}

fn visits(s: &RepStats, name: &str) -> f64 {
    component(s, name).arrivals as f64
}

#[test]
fn a_branch_takes_each_arm_with_its_probability() {
    let s = run(
        &with_path(
            r#"["front", { branch = [{ p = 0.6, path = ["a"] }, { p = 0.3, path = ["b"] }] }]"#,
        ),
        &[],
        1,
    );
    let n = visits(&s, "front");
    close(visits(&s, "a") / n, 0.6, 0.03, "arm a");
    close(visits(&s, "b") / n, 0.3, 0.05, "arm b");
}

#[test]
fn by_key_routes_every_key_to_one_arm_and_range_splits_evenly() {
    let s = run(
        &with_path(r#"[{ by_key = ["a", "b", "c"], router = "range" }]"#),
        &[],
        1,
    );
    let n = s.total.arrived as f64;
    for svc in ["a", "b", "c"] {
        close(visits(&s, svc) / n, 1.0 / 3.0, 0.05, svc);
    }
    assert_eq!(visits(&s, "front"), 0.0);
}

#[test]
fn a_repeat_runs_its_body_count_times() {
    let s = run(
        &with_path(
            r#"[{ repeat = 3, path = ["a", "b"] }, { repeat = { dist = "uniform", min = 0, max = 4 }, path = ["c"] }]"#,
        ),
        &[],
        1,
    );
    let n = s.total.arrived as f64;
    assert_eq!(visits(&s, "a"), 3.0 * s.total.completed as f64 + 0.0 * n);
    close(visits(&s, "c") / n, 2.0, 0.03, "mean uniform 0..=4 count");
    // Latency: 3 x (2 + 3) ms plus 4 ms per c visit.
    close(s.total.mean_ns() / 1e6, 15.0 + 8.0, 0.02, "latency");
}

#[test]
fn a_fork_of_sub_paths_waits_for_the_longest_arm() {
    let s = run(
        &with_path(r#"[{ fork = [["a", "a"], "c", ["b"]] }]"#),
        &[],
        1,
    );
    close(s.total.mean_ns() / 1e6, 4.0, 0.001, "max(2+2, 4, 3) ms");
}

/// A flaky dependency: `dep` times out (answers after 50 ms, the scope waits 10 ms) unless a
/// branch sends the attempt to the fast `ok` service.
const FLAKY: &str = r#"
name = "scopes"
duration = "30m"
[workload]
type = "poisson"
rate = 20
[classes.job]
path = [{ try = [{ branch = [{ p = 0.5, path = ["slow"] }, { p = 0.5, path = ["ok"] }] }], name = "dep", attempts = 3, timeout = "10ms", fallback = [{ delay = "1ms" }] }]
[services.slow]
workers = 1000
service = "50ms"
[services.ok]
workers = 1000
service = "2ms"
"#;

#[test]
fn a_try_scope_retries_times_out_and_falls_back() {
    let s = run(FLAKY, &[], 4);
    let dep = component(&s, "dep");
    let entered = metric(dep, "entered");
    // Each attempt fails with probability 1/2: 1 + 1/2 + 1/4 attempts on average, all three
    // fail (fallback) with probability 1/8.
    close(
        metric(dep, "attempts") / entered,
        1.75,
        0.03,
        "attempts per entry",
    );
    close(
        metric(dep, "fallbacks") / entered,
        0.125,
        0.1,
        "fallback share",
    );
    close(
        metric(dep, "timeouts"),
        metric(dep, "retries") + metric(dep, "fallbacks"),
        1e-9,
        "every failure was a timeout",
    );
    assert_eq!(metric(dep, "failed"), 0.0, "the fallback never fails");
    assert_eq!(s.total.failed_total(), 0);
    // The abandoned calls still kept `slow` busy for their whole 50 ms.
    let slow = component(&s, "slow");
    close(
        slow.utilization * 1000.0,
        slow.arrivals as f64 / 1800.0 * 0.05,
        0.02,
        "slow's busy workers",
    );
    // Latency: the share that succeeds at attempt k waited (k - 1) timeouts plus 2 ms; the
    // fallback waited 3 timeouts plus 1 ms.
    let want = 0.5 * 2.0 + 0.25 * 12.0 + 0.125 * 22.0 + 0.125 * 31.0;
    close(s.total.mean_ns() / 1e6, want, 0.03, "mean latency, ms");
}

#[test]
fn without_a_fallback_an_exhausted_scope_fails_the_request() {
    let text = FLAKY.replace(r#", fallback = [{ delay = "1ms" }]"#, "");
    let s = run(&text, &[], 4);
    let n = s.total.arrived as f64;
    close(
        failed(&s, ErrorKind::Timeout) as f64 / n,
        0.125,
        0.1,
        "requests that failed",
    );
    assert_eq!(
        metric(component(&s, "dep"), "failed"),
        failed(&s, ErrorKind::Timeout) as f64
    );
}

const SCALED: &str = r#"
name = "scaled"
duration = "30m"
bucket = "1m"
[workload]
type = "poisson"
rate = 10
[classes.job]
path = ["app"]
[services.app]
instances = 2
workers = 1
balancer = "least_outstanding"
startup = "30s"
restart = "1m"
service = { dist = "exponential", mean = "50ms" }
[controllers.plan]
type = "schedule"
service = "app"
schedule = [{ at = "10m", instances = 6 }, { at = "20m", instances = 3 }]
"#;

#[test]
fn a_schedule_scales_the_fleet_and_cost_counts_start_up_and_drain() {
    let s = run(SCALED, &[], 8);
    let app = component(&s, "app");
    // 2 instances for 10 min, 6 for 10 min (4 of them starting for 30 s), 3 for 10 min.
    close(
        metric(app, "instances_mean"),
        (2.0 + 6.0 + 3.0) / 3.0,
        0.005,
        "instances_mean",
    );
    let ready_want = (2.0 * 600.0 + 2.0 * 30.0 + 6.0 * 570.0 + 3.0 * 600.0) / 1800.0;
    close(metric(app, "ready_mean"), ready_want, 0.005, "ready_mean");
    assert_eq!(metric(app, "instances_max"), 6.0);
    assert_eq!(metric(app, "started"), 4.0);
    assert_eq!(metric(component(&s, "plan"), "actions"), 2.0);
    assert_eq!(s.total.failed_total(), 0, "draining loses no request");
    // The time series shows the fleet: 2, then 6, then 3 instances.
    let series = |t: usize| {
        let k = s
            .gauge_names
            .iter()
            .position(|n| n == "instances.app")
            .unwrap();
        s.buckets[t].gauges[k]
    };
    assert_eq!((series(5), series(15), series(25)), (2.0, 6.0, 3.0));
}

#[test]
fn a_crash_fails_the_instance_work_and_it_comes_back() {
    let text = SCALED.replace(
        r#"schedule = [{ at = "10m", instances = 6 }, { at = "20m", instances = 3 }]"#,
        r#"schedule = [{ at = "10m", crash = 1 }]"#,
    );
    let text = text.replace("rate = 10", "rate = 35");
    let s = run(&text, &[], 8);
    let app = component(&s, "app");
    assert_eq!(metric(app, "crashes"), 1.0);
    assert!(
        failed(&s, ErrorKind::Connection) > 0,
        "the crashed instance's requests fail"
    );
    // Down for 1 minute out of 30: 2 - 1/30 instances ready on average.
    close(
        metric(app, "ready_mean"),
        2.0 - 1.0 / 30.0,
        0.001,
        "ready_mean",
    );
}

#[test]
fn a_service_with_no_ready_instance_refuses_connections() {
    let text = SCALED.replace(
        r#"schedule = [{ at = "10m", instances = 6 }, { at = "20m", instances = 3 }]"#,
        r#"schedule = [{ at = "10m", instances = 0 }, { at = "20m", instances = 2 }]"#,
    );
    let s = run(&text, &[], 8);
    let n = s.total.arrived as f64;
    // Down from 10 min to 20 min 30 s (start-up): a third of the run plus 30 s.
    close(
        failed(&s, ErrorKind::Connection) as f64 / n,
        630.0 / 1800.0,
        0.03,
        "refused share",
    );
    assert_eq!(
        metric(component(&s, "app"), "no_instance"),
        failed(&s, ErrorKind::Connection) as f64
    );
}

#[test]
fn processor_sharing_drops_requests_at_their_deadline() {
    // One PS server, work 1 s each, clients give up after 1.5 s: with two requests present the
    // second one finishes at 2 s, so a burst of arrivals ends in timeouts at 1.5 s, not later.
    let text = r#"
name = "ps"
duration = "1h"
[workload]
type = "poisson"
rate = 0.9
[classes.job]
path = ["s"]
timeout = "1500ms"
[stations.s]
discipline = "ps"
service = "1s"
"#;
    let s = run(text, &[], 3);
    assert!(failed(&s, ErrorKind::Timeout) > 0);
    assert!(
        s.total.latency.max() <= 1_500_000_000,
        "a completion after the deadline: {} ns",
        s.total.latency.max()
    );
    assert!(component(&s, "s").expired > 0);
}

// ---------------------------------------------------------------------------------------------
// Conservation over random paths

use proptest::prelude::*;

/// A random path step over services `a` (fast), `b` (slow, bounded queue) and `c`.
fn step() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just(r#""a""#.to_string()),
        Just(r#""b""#.to_string()),
        Just(r#""c""#.to_string()),
        Just(r#"{ delay = "1ms" }"#.to_string()),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        let path = prop::collection::vec(inner, 1..3).prop_map(|v| format!("[{}]", v.join(", ")));
        prop_oneof![
            (path.clone(), path.clone()).prop_map(|(x, y)| format!("{{ fork = [{x}, {y}] }}")),
            (0.0f64..0.6, path.clone(), path.clone()).prop_map(|(p, x, y)| format!(
                "{{ branch = [{{ p = {p}, path = {x} }}, {{ p = 0.4, path = {y} }}] }}"
            )),
            (0u32..3, path.clone()).prop_map(|(n, x)| format!("{{ repeat = {n}, path = {x} }}")),
            (path.clone(), path.clone()).prop_map(|(x, y)| format!("{{ by_key = [{x}, {y}] }}")),
            (1u32..3, 1u32..40, path.clone(), prop::option::of(path)).prop_map(|(k, ms, x, f)| {
                let fallback = f.map_or(String::new(), |f| format!(", fallback = {f}"));
                format!("{{ try = {x}, attempts = {k}, timeout = \"{ms}ms\"{fallback} }}")
            }),
        ]
    })
}

proptest! {
    #![proptest_config(crate::common::proptest_config(32))]

    /// Whatever the path, every arrival completes or fails exactly once once the system has
    /// drained; scope counters add up (attempts = entries + retries).
    #[test]
    fn random_paths_conserve_requests(steps in prop::collection::vec(step(), 1..4), seed: u64) {
        let text = format!(r#"
name = "random-paths"
duration = "5m"
[workload]
type = "replay"
file = "unused"
keys = {{ dist = "uniform", n = 10 }}
[classes.job]
path = [{}]
timeout = "2s"
[services.a]
instances = 2
balancer = "p2c"
service = {{ dist = "exponential", mean = "2ms" }}
[services.b]
queue_capacity = 2
service = {{ dist = "exponential", mean = "20ms" }}
[services.c]
discipline = "ps"
workers = 2
service = {{ dist = "exponential", mean = "5ms" }}
"#, steps.join(", "));
        // Poisson arrivals for one minute, then four minutes to drain (client timeouts are 2 s).
        let text = text.replace("type = \"replay\"\nfile = \"unused\"", "type = \"spike\"\nbase = 0.000001\nmultiplier = 50000000\nat = \"0s\"\nramp = \"0s\"\nhold = \"1m\"");
        let s = run(&text, &[], seed);
        prop_assert_eq!(s.in_flight, 0);
        prop_assert_eq!(s.total.completed + s.total.failed_total(), s.total.arrived);
        for c in s.components.iter().filter(|c| c.kind == "scope") {
            prop_assert_eq!(metric(c, "attempts"), metric(c, "entered") + metric(c, "retries"));
            // A fallback that fails counts in both.
            prop_assert!(metric(c, "fallbacks") <= metric(c, "entered"));
            prop_assert!(metric(c, "failed") <= metric(c, "entered"));
        }
    }
}

/// A named key switch with the guide's letter ranges: with uniform users, each shard gets its
/// letters' share of the census surnames (A-H, I-P, Q-Z), and the switch reports the requests
/// per arm and the busiest arm over the mean; a consistent-hash switch over the same users
/// stays within a few standard deviations of even (100 virtual nodes: share sd 2.7 %).
#[test]
fn key_switches_route_by_letter_range_and_report_their_load() {
    use scalesim::model::shard::FIRST_LETTER_SHARES;
    let text = |router: &str| {
        format!(
            r#"
name = "shards"
duration = "200s"
[workload]
type = "poisson"
rate = 1000
keys = {{ dist = "uniform", n = 100000 }}
[classes.q]
path = [{{ by_key = ["a", "b", "c"], {router}, name = "shards" }}]
[services.a]
workers = 100
service = "1ms"
[services.b]
workers = 100
service = "1ms"
[services.c]
workers = 100
service = "1ms"
"#
        )
    };
    let s = run(
        &text(r#"router = "range", ranges = ["A-H", "I-P", "Q-Z"]"#),
        &[],
        3,
    );
    let c = component(&s, "shards");
    let hits: Vec<f64> = (0..3)
        .map(|i| metric(c, &format!("requests.{i}")))
        .collect();
    let total: f64 = hits.iter().sum();
    let want = [
        FIRST_LETTER_SHARES[..8].iter().sum::<f64>(),
        FIRST_LETTER_SHARES[8..16].iter().sum::<f64>(),
        FIRST_LETTER_SHARES[16..].iter().sum::<f64>(),
    ];
    for (h, w) in hits.iter().zip(want) {
        // Binomial sd of a share over ~200,000 requests is about 0.0011.
        assert!((h / total - w).abs() < 0.005, "{hits:?} vs {want:?}");
    }
    let lmm = metric(c, "load_max_over_mean");
    assert!(
        (lmm - hits[0] * 3.0 / total).abs() < 1e-9 && lmm > 1.25,
        "{lmm}"
    );
    // Each arm's requests are its service's.
    assert_eq!(hits[0], metric(component(&s, "a"), "requests"));

    let s = run(&text(r#"router = "consistent", vnodes = 100"#), &[], 3);
    let lmm = metric(component(&s, "shards"), "load_max_over_mean");
    assert!(lmm < 1.0 + 4.0 * 0.027 * 3.0, "{lmm}");
}
