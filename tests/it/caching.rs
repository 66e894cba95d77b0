//! Cache tiers in paths against independent results: Che's approximation for a shared LRU
//! tier, the TTL-cache formulas for an L1 in each pod, stale reads, the write-behind queue's
//! bookkeeping, and the stampede guards.

use std::path::Path;

use scalesim::scenario;

use crate::common::{component, metric, run_text};

/// Zipf(alpha) popularities of `n` keys, most popular first.
fn zipf(n: usize, alpha: f64) -> Vec<f64> {
    let w: Vec<f64> = (1..=n).map(|i| (i as f64).powf(-alpha)).collect();
    let total: f64 = w.iter().sum();
    w.iter().map(|x| x / total).collect()
}

/// Che's approximation of LRU's hit ratio: the characteristic time T solves
/// sum_i (1 - exp(-p_i T)) = C; then h = sum_i p_i (1 - exp(-p_i T)).
fn che(p: &[f64], c: f64) -> f64 {
    let filled = |t: f64| p.iter().map(|q| 1.0 - (-q * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1.0);
    while filled(hi) < c {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if filled(mid) < c { lo = mid } else { hi = mid }
    }
    let t = 0.5 * (lo + hi);
    p.iter().map(|q| q * (1.0 - (-q * t).exp())).sum()
}

/// A shared LRU tier (one cache behind a service that answers at once) under the independent
/// reference model with Zipf(0.8) over 1,000 keys and room for 100: the measured hit ratio
/// is Che's.
#[test]
fn a_shared_lru_tier_matches_ches_approximation() {
    let text = r#"
name = "che"
duration = "60s"
warmup = "10s"
[workload]
type = "poisson"
rate = 10000
keys = { dist = "zipf", n = 1000, alpha = 0.8 }
[classes.read]
path = [{ cache = ["kv"], load = [{ delay = "0s" }] }]
[stations.store]
workers = 1000
service = "0s"
[caches.kv]
service = "store"
capacity = 100
policy = "lru"
"#;
    let s = run_text(text, &[], 7);
    let got = metric(component(&s, "kv"), "hit_ratio");
    let want = che(&zipf(1000, 0.8), 100.0);
    assert!(
        (got - want).abs() < 0.005,
        "measured {got:.4}, Che {want:.4}"
    );
    // Every read after the warm-up went through the tier.
    let data = component(&s, "data");
    assert_eq!(
        metric(data, "reads"),
        metric(component(&s, "kv"), "hits") + metric(component(&s, "kv"), "misses")
    );
    assert_eq!(
        metric(data, "stale_read_ratio"),
        0.0,
        "no writes, no stale read"
    );
}

/// An L1 in each of `pods` pods behind a random balancer (so each pod sees Poisson arrivals
/// at rate lambda / pods), room for every key, TTL T: under the independent reference model
/// key i's hit ratio is x / (1 + x) when the TTL runs from insertion and 1 - exp(-x) when
/// every hit restarts it, with x = p_i lambda T / pods. More pods, lower hit ratio.
#[test]
fn an_l1_per_pod_matches_the_ttl_cache_formulas() {
    let (n, alpha, lambda, ttl) = (2000usize, 0.9, 4000.0, 0.5);
    let p = zipf(n, alpha);
    let mut seen = Vec::new();
    for (pods, restart) in [(1, false), (10, false), (10, true)] {
        let text = format!(
            r#"
name = "ttl"
duration = "90s"
warmup = "10s"
[workload]
type = "poisson"
rate = {lambda}
keys = {{ dist = "zipf", n = {n}, alpha = {alpha} }}
[classes.read]
path = ["app", {{ cache = ["l1"], load = [{{ delay = "0s" }}] }}]
[services.app]
instances = {pods}
balancer = "random"
workers = 1000
service = "0s"
[caches.l1]
per_instance = "app"
capacity = {n}
ttl = "{ttl}s"
ttl_restart_on_hit = {restart}
"#
        );
        let s = run_text(&text, &[], 11);
        let got = metric(component(&s, "l1"), "hit_ratio");
        let want: f64 = p
            .iter()
            .map(|q| {
                let x = q * lambda * ttl / f64::from(pods);
                q * if restart {
                    1.0 - (-x).exp()
                } else {
                    x / (1.0 + x)
                }
            })
            .sum();
        assert!(
            (got - want).abs() < 0.006,
            "{pods} pods, restart {restart}: measured {got:.4}, formula {want:.4}"
        );
        seen.push(got);
    }
    assert!(
        seen[1] < seen[0] - 0.05,
        "more pods, lower L1 hit ratio: {seen:?}"
    );
}

/// The guide's L1 (a `Map` in each pod: no TTL, only the writer's pod deletes its copy)
/// serves stale reads that a pub/sub invalidation of the other pods removes; with no L1 at
/// all, only the cache-aside race (a load that read the old row fills after the delete) is
/// left.
#[test]
fn pubsub_invalidation_removes_most_stale_reads_of_a_per_pod_l1() {
    let text = r#"
name = "stale"
duration = "60s"
warmup = "10s"
[workload]
type = "poisson"
rate = 2000
keys = { dist = "zipf", n = 10000, alpha = 0.99 }
[classes.read]
weight = 95
path = ["app", { cache = ["l1", "l2"], load = ["db"] }]
[classes.update]
weight = 5
path = ["app", { write = ["l1", "l2"], policy = "invalidate", store = ["db"] }]
[services.app]
instances = 10
workers = 100
service = "1ms"
[stations.redis]
workers = 16
service = "0.3ms"
[stations.db]
workers = 64
service = { dist = "exponential", mean = "4ms" }
[caches.l1]
per_instance = "app"
capacity = 10000
[caches.l2]
service = "redis"
capacity = 10000
ttl = "1h"
"#;
    let ratio = |sets: &[&str]| {
        let s = run_text(text, sets, 5);
        metric(component(&s, "data"), "stale_read_ratio")
    };
    let guide = ratio(&[]);
    let pubsub = ratio(&["caches.l1.invalidation=\"2ms\""]);
    let redis_only = ratio(&[
        "classes.read.path=[\"app\", { cache = [\"l2\"], load = [\"db\"] }]",
        "classes.update.path=[\"app\", { write = [\"l2\"], policy = \"invalidate\", store = [\"db\"] }]",
    ]);
    assert!(
        guide > 0.2,
        "the guide's L1 serves many stale reads: {guide}"
    );
    assert!(pubsub < guide / 20.0, "pub/sub: {pubsub} vs {guide}");
    assert!(redis_only < 0.01, "only the race is left: {redis_only}");
}

/// Write-behind: every acknowledged write is flushed, lost in the crash, or still queued
/// (or in the batch being written) at the end; the crash loses some; the store lags, so
/// reads that miss the cache are stale until the flush.
#[test]
fn write_behind_accounts_for_every_write_and_loses_the_queue_in_a_crash() {
    let text = r#"
name = "behind"
duration = "60s"
[workload]
type = "poisson"
rate = 1000
keys = { dist = "uniform", n = 50000 }
[classes.read]
weight = 50
path = ["app", { cache = ["l2"], load = ["db"] }]
[classes.update]
weight = 50
path = ["app", { write = ["l2"], policy = "behind", store = ["db"], batch = 200, interval = "2s", crash = { at = "30s", restart = "10s" } }]
[services.app]
workers = 100
service = "1ms"
[stations.redis]
workers = 16
service = "0.3ms"
[stations.db]
workers = 8
service = "20ms"
[caches.l2]
service = "redis"
capacity = 1000
"#;
    let s = run_text(text, &[], 3);
    let q = component(&s, "write-behind");
    let (enq, flushed, lost) = (
        metric(q, "enqueued"),
        metric(q, "flushed"),
        metric(q, "writes_lost"),
    );
    let left = metric(q, "queue_depth_last") + metric(q, "inflight_last");
    assert_eq!(enq, flushed + lost + left, "{q:?}");
    assert!(
        lost > 0.0 && lost < enq,
        "the crash lost the queue: {lost} of {enq}"
    );
    assert_eq!(metric(component(&s, "data"), "writes_lost"), lost);
    // Writes during the 10 s the worker is down wait: the queue grows past one batch.
    assert!(metric(q, "queue_depth_max") > 200.0, "{q:?}");
    assert!(metric(component(&s, "data"), "stale_reads") > 0.0);
}

/// One hot key with a 1 s TTL and a 50 ms load at 1,000 reads/s: without protection every
/// read during the reload misses (about 50 loads per expiry); single flight makes it one;
/// stale-while-revalidate serves the old value while one background load refreshes it;
/// XFetch refreshes before the expiry, so hardly any read finds the key expired.
#[test]
fn stampede_guards_load_a_hot_key_once_per_expiry() {
    let text = r#"
name = "stampede"
duration = "61s"
warmup = "1s"
[workload]
type = "poisson"
rate = 1000
keys = { dist = "uniform", n = 1 }
[classes.read]
path = [{ cache = ["hot"], load = ["db"] }]
[stations.kv]
workers = 1000
service = "0s"
[stations.db]
workers = 1000
service = "50ms"
[caches.hot]
service = "kv"
capacity = 10
ttl = "1s"
"#;
    let run = |sets: &[&str]| run_text(text, sets, 9);
    let loads = |s: &scalesim::observe::RepStats| metric(component(s, "data"), "loads");
    let step = "classes.read.path";
    let plain = run(&[]);
    let single = run(&[&format!(
        "{step}=[{{ cache = [\"hot\"], load = [\"db\"], single_flight = true }}]"
    )]);
    let swr = run(&[&format!(
        "{step}=[{{ cache = [\"hot\"], load = [\"db\"], stale_while_revalidate = \"5s\" }}]"
    )]);
    let xfetch = run(&[&format!(
        "{step}=[{{ cache = [\"hot\"], load = [\"db\"], early_refresh = 1.0 }}]"
    )]);
    // 60 s of a 1.05 s cycle (TTL, then the 50 ms reload): about 57 expiries.
    let expiries = 60.0 / 1.05;
    assert!(
        loads(&plain) > 30.0 * expiries,
        "no guard: {} loads",
        loads(&plain)
    );
    let one = loads(&single);
    assert!((one - expiries).abs() < 3.0, "single flight: {one} loads");
    assert!(metric(component(&single, "data"), "coalesced") > 30.0 * expiries);
    // The refresh starts at the first read past the expiry and lands 50 ms later: the same
    // 1.05 s cycle, with no read waiting.
    let bg = metric(component(&swr, "data"), "background_loads");
    assert!((bg - expiries).abs() < 3.0, "one refresh per expiry: {bg}");
    assert!(metric(component(&swr, "hot"), "misses") <= 1.0);
    let kv = component(&xfetch, "hot");
    assert!(
        metric(kv, "expirations") < 0.1 * expiries && metric(kv, "early_refreshes") > 0.0,
        "{kv:?}"
    );
    // Reads keep deciding to refresh early while the first refresh is loading (about three
    // per expiry at 50 reads per load time), still a tenth of the unguarded stampede.
    assert!(
        loads(&xfetch) < 0.1 * loads(&plain),
        "XFetch: {} loads, no guard {}",
        loads(&xfetch),
        loads(&plain)
    );
}

/// Each mistake in a tier or a cached step is refused at load time, naming the field.
#[test]
fn bad_cache_input_names_the_field() {
    let base = r#"
name = "bad"
duration = "10s"
[workload]
type = "poisson"
rate = 10
keys = { dist = "uniform", n = 100 }
[classes.read]
path = ["app", { cache = ["l1"], load = ["db"] }]
[services.app]
service = "1ms"
[stations.db]
service = "1ms"
[caches.l1]
per_instance = "app"
capacity = 10
"#;
    let err = |sets: &[&str]| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        match scenario::load_str(base, Path::new("bad.toml"), &sets) {
            Ok(_) => panic!("{sets:?} loaded"),
            Err(e) => e.to_string(),
        }
    };
    let cases: [(&[&str], &[&str]); 7] = [
        (
            &["caches.l1.capacity=0"],
            &["caches.l1.capacity", "at least 1"],
        ),
        (&["caches.l1.ttl=\"soon\""], &["caches.l1.ttl"]),
        (&["caches.l1.policy=\"lur\""], &["caches.l1.policy", "lru"]),
        (
            &["classes.read.path=[\"app\", { cache = [\"l1\", \"l1\"], load = [\"db\"] }]"],
            &["classes.read.path.1.cache.1", "twice"],
        ),
        (
            &["classes.read.path=[{ cache = [\"l1\"], load = [\"db\"] }, \"app\"]"],
            &["classes.read.path.0.cache.0", "after a visit"],
        ),
        (
            &[
                "classes.read.path=[\"app\", { write = [\"l1\"], policy = \"behind\", store = [\"db\"], batch = 0 }]",
            ],
            &["classes.read.path.1.batch", "between 1"],
        ),
        (
            &["classes.read.path=[\"app\", { cache = [\"l3\"], load = [\"db\"] }]"],
            &["classes.read.path.1.cache.0", "no cache named `l3`"],
        ),
    ];
    for (sets, wants) in cases {
        let e = err(sets);
        for w in wants {
            assert!(e.contains(w), "{sets:?}: {e}");
        }
    }
}
