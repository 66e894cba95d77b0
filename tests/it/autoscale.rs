//! The Kubernetes HPA driving a simulated service: a hand-computed replica trace on a step
//! load, and the guide's manifest loaded from `deploy/`.

use scalesim::model::System;
use scalesim::scenario;

use crate::common::{Scratch, component, metric};

/// One pod, one worker, 10 ms of work per request (constant), requests exactly every 10 ms
/// for a minute, then every 6.67 ms (a replayed trace, so the load is exact). The HPA targets
/// 50 % CPU with no `behavior` (legacy rules) and syncs every 15 s. By hand, per sync:
///
/// - 15 s: one pod at 100 % -> ratio 2.0 -> 2 pods (ready at once: no start-up time);
/// - 30, 45, 60 s: two pods at 50 % -> ratio 1.0 -> 2;
/// - 75 s: 150 req/s over two pods, 75 % each -> ratio 1.5 -> ceil(3.0) = 3;
/// - 90, 105 s: three pods at 50 % -> 3.
#[test]
fn the_hpa_follows_a_hand_computed_trace_on_a_step_load() {
    let dir = Scratch::new("hpa");
    dir.write(
        "hpa.yaml",
        "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: app
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: app
  minReplicas: 1
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 50
",
    );
    let mut times = String::new();
    let mut t = 0.0005;
    while t < 120.0 {
        times.push_str(&format!("{t:.6}\n"));
        t += if t < 60.0 { 0.010 } else { 0.010 / 1.5 };
    }
    dir.write("arrivals.csv", &times);
    let scenario = dir.write(
        "step.toml",
        r#"
name = "step"
duration = "115s"
bucket = "15s"
[workload]
type = "replay"
file = "arrivals.csv"
[classes.r]
path = ["app"]
[services.app]
instances = 1
balancer = "round_robin"
service = "10ms"
[controllers.hpa]
type = "hpa"
service = "app"
manifest = "hpa.yaml"
cpu_request = 1
"#,
    );
    let loaded = scenario::load(&scenario, &[]).expect("loads");
    let s = System::new(&loaded.base.system, 1).run();
    let k = s
        .gauge_names
        .iter()
        .position(|n| n == "instances.app")
        .expect("the instances series");
    // Bucket i covers (15 i, 15 (i + 1)]; the sync at its start set its instances.
    let got: Vec<f64> = s.buckets.iter().map(|b| b.gauges[k]).collect();
    let want = [1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0];
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() < 1e-6, "bucket {i}: {got:?} vs {want:?}");
    }
    let hpa = component(&s, "hpa");
    assert_eq!(metric(hpa, "syncs"), 7.0);
    assert_eq!(metric(hpa, "actions"), 2.0);
}

#[test]
fn the_guides_manifest_scales_the_fleet_within_its_bounds() {
    let loaded = scenario::load(&crate::common::sim("hpa-seed.toml"), &[]).expect("loads");
    let s = System::new(&loaded.base.system, 3).run();
    let k = s
        .gauge_names
        .iter()
        .position(|n| n == "instances.app")
        .expect("the instances series");
    let counts: Vec<f64> = s.buckets.iter().map(|b| b.gauges[k]).collect();
    let max = counts.iter().copied().fold(0.0, f64::max);
    let min = counts.iter().copied().fold(f64::MAX, f64::min);
    // minReplicas 3, maxReplicas 50; the 10x spike needs far more than 3 pods.
    assert!(min >= 3.0 - 1e-9 && max <= 50.0 + 1e-9, "{min}..{max}");
    assert!(max >= 20.0, "the spike scaled the fleet: max {max}");
    // Behavior: scale-ups of at most 100 % per 15 s: no bucket more than doubles the last.
    for w in counts.windows(2) {
        assert!(w[1] <= 2.0 * w[0] + 1e-6, "{counts:?}");
    }
}

/// The instances of `service` per bucket.
fn instances(s: &scalesim::observe::RepStats, service: &str) -> Vec<f64> {
    let k = s
        .gauge_names
        .iter()
        .position(|n| *n == format!("instances.{service}"))
        .expect("the instances series");
    s.buckets.iter().map(|b| b.gauges[k]).collect()
}

/// A FIFO service of 1-worker pods, 10 ms per request (100 requests/s each), under 500
/// requests/s for 150 s and 10 requests/s after, scaled by `controller`.
fn rules_scenario(controller: &str) -> String {
    format!(
        r#"
name = "rules"
duration = "300s"
bucket = "30s"
[workload]
type = "stages"
start = 500
stages = [{{ duration = "150s", target = 500 }}, {{ duration = "1ms", target = 10 }}, {{ duration = "150s", target = 10 }}]
[classes.r]
path = ["app"]
[services.app]
instances = 3
service = "10ms"
balancer = "least_outstanding"
{controller}
"#
    )
}

/// The guide's rules, by hand. 30 s: 3 pods saturated (CPU 100 % > 80 %) -> 6. 60 s: 500
/// req/s on 6 pods, busy 5/6 = 83 % (plus the backlog) -> 12. 90 s: under 50 % -> stays.
/// The load then drops to 10 req/s, and the guide has no rule to scale down: 12 to the end.
/// With a scale-down rule (CPU < 40 % => x0.5) and a 60 s cooldown after every action, the
/// fleet grows more slowly and halves once per cooldown down to its minimum.
#[test]
fn the_guides_rules_double_on_cpu_and_never_scale_down() {
    let guide = r#"[controllers.rules]
type = "rules"
service = "app"
period = "30s"
min = 3
max = 50
rules = [
  { metric = "cpu", above = 0.8, action = "double" },
  { metric = "queue", above = 1000, action = "add", count = 2 },
]"#;
    let s = crate::common::run_text(&rules_scenario(guide), &[], 5);
    assert_eq!(
        instances(&s, "app"),
        [3.0, 6.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0]
    );
    assert_eq!(metric(component(&s, "rules"), "actions"), 2.0);

    let down = guide.replace(
        "\n]",
        "\n  { metric = \"cpu\", below = 0.4, action = \"halve\" },\n]\ncooldown = \"60s\"",
    );
    let s = crate::common::run_text(&rules_scenario(&down), &[], 5);
    // The cooldown holds scale-ups too: 30 s -> 6, 60 s cooling, 90 s -> 12. 150 s: the
    // period 120-150 s was still busy -> no action; 180 s: CPU ~1 % -> 6; 240 s (after the
    // cooldown) -> 3, the minimum.
    assert_eq!(
        instances(&s, "app"),
        [3.0, 6.0, 6.0, 12.0, 12.0, 12.0, 6.0, 6.0, 3.0, 3.0]
    );
}

/// A step from 50 to 500 requests/s at 10 min, pods of 100 requests/s that take 60 s to
/// start, a predictive scaler every minute with a 2 min lead at 70 % target: it needs
/// ceil(500 / 70) = 8 pods. Reading yesterday's curve (the workload's own), it asks for 8
/// once the step is within lead + period, so they are ready before the step; the trend of
/// the measured rate cannot see a step coming and stays at 1 until it happens.
#[test]
fn a_predictive_scaler_is_ready_before_a_known_step_and_a_trend_is_not() {
    let text = |forecast: &str| {
        format!(
            r#"
name = "step"
duration = "14m"
bucket = "1m"
[workload]
type = "stages"
start = 50
stages = [{{ duration = "10m", target = 50 }}, {{ duration = "1ms", target = 500 }}, {{ duration = "4m", target = 500 }}]
[classes.r]
path = ["app"]
[services.app]
instances = 1
service = "10ms"
startup = "60s"
[controllers.p]
type = "predictive"
service = "app"
period = "1m"
min = 1
max = 20
lead = "2m"
capacity = 100
target_utilization = 0.7
forecast = "{forecast}"
"#
        )
    };
    let yesterday = instances(&crate::common::run_text(&text("yesterday"), &[], 9), "app");
    let trend = instances(&crate::common::run_text(&text("trend"), &[], 9), "app");
    // Bucket 9 is 9-10 min, just before the step.
    assert_eq!(yesterday[9], 8.0, "{yesterday:?}");
    assert_eq!(trend[9], 1.0, "{trend:?}");
    assert!(
        trend[13] >= 8.0,
        "the trend catches up after the step: {trend:?}"
    );
}

/// Pods on nodes: 1-vCPU pods on 2-vCPU nodes, one node at the start and 2 minutes to
/// provision another. The HPA wants far more pods at once; those that fit on no node stay
/// Pending, so for the first two minutes the service has at most 2 instances, and without
/// nodes it grows at once.
#[test]
fn pods_wait_for_the_cluster_autoscalers_nodes() {
    let text = |nodes: &str| {
        format!(
            r#"
name = "nodes"
duration = "6m"
bucket = "30s"
[workload]
type = "poisson"
rate = 600
[classes.r]
path = ["app"]
timeout = "2s"
[services.app]
instances = 1
service = "10ms"
balancer = "least_outstanding"
[controllers.hpa]
type = "hpa"
service = "app"
manifest = "../deploy/hpa-seed.yaml"
memory = {{ request = "512Mi", base = "200Mi", per_request = "1Mi" }}
cpu_request = 1
{nodes}
"#
        )
    };
    let dir = Scratch::new("nodes");
    let with = dir.write(
        "with.toml",
        &text(r#"nodes = { cpu = 2, memory = "8Gi", min = 1, max = 10, initial = 1, provision = "2m" }"#)
            .replace("../deploy/", &format!("{}/deploy/", crate::common::root().display())),
    );
    let without = dir.write(
        "without.toml",
        &text("").replace(
            "../deploy/",
            &format!("{}/deploy/", crate::common::root().display()),
        ),
    );
    let run = |p: &std::path::Path| {
        let loaded = scenario::load(p, &[]).expect("loads");
        System::new(&loaded.base.system, 4).run()
    };
    let (a, b) = (run(&with), run(&without));
    let (on_nodes, free) = (instances(&a, "app"), instances(&b, "app"));
    // The first sync is at 15 s; the new node is ready at 15-25 s + 120 s.
    assert!(on_nodes[..4].iter().all(|&n| n <= 2.0), "{on_nodes:?}");
    assert!(free[1] > 2.0, "{free:?}");
    assert!(
        on_nodes[6] > 2.0,
        "the new nodes took the pending pods: {on_nodes:?}"
    );
    let hpa = component(&a, "hpa");
    assert!(metric(hpa, "pods_pending_max") >= 1.0);
    assert!(metric(hpa, "nodes_max") >= 2.0);
    // Pods never outnumber what the nodes hold (two per node).
    assert!(
        on_nodes
            .iter()
            .all(|&n| n <= 2.0 * metric(hpa, "nodes_max"))
    );
    assert!(metric(hpa, "node_cost_per_hour") > 0.0);
}

/// A constant load at which the guide's HPA settles: after it has converged the replica
/// count never changes again (Kubernetes' tolerance and stabilization windows at work). It
/// overshoots first (3 saturated pods queue requests, and the memory metric counts them),
/// then comes down by at most 10 % a minute after the 5-minute window.
#[test]
fn a_constant_load_converges_and_never_oscillates() {
    let loaded = scenario::load(
        &crate::common::sim("hpa-seed.toml"),
        &[
            "workload.base=600".into(),
            "workload.multiplier=1".into(),
            "duration=40m".into(),
        ],
    )
    .expect("loads");
    for seed in 1..=4 {
        let s = System::new(&loaded.base.system, seed).run();
        let n = instances(&s, "app");
        // 15 s buckets: converged within 20 minutes, constant for the 20 after.
        let tail = &n[80..];
        assert!(tail.iter().all(|&x| x == tail[0]), "seed {seed}: {n:?}");
        assert!(tail[0] > 3.0, "it scaled up from its minimum: {n:?}");
    }
}

/// Bad scaler input: each error names the file, the field and what is wrong.
#[test]
fn bad_scaler_input_names_the_field() {
    let base = format!(
        r#"
name = "bad"
duration = "1m"
[workload]
type = "poisson"
rate = 1
[classes.c]
path = ["app"]
[services.app]
service = "1ms"
[controllers.rules]
type = "rules"
service = "app"
rules = [{{ metric = "cpu", above = 0.8, action = "double" }}]
[controllers.p]
type = "predictive"
service = "app"
capacity = 100
[controllers.hpa]
type = "none"
service = "app"
manifest = "{}/deploy/hpa-custom-metrics-described.yaml"
"#,
        crate::common::root().display()
    );
    let err = |text: &str, sets: &[&str]| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        match scenario::load_str(text, std::path::Path::new("bad.toml"), &sets) {
            Ok(_) => panic!("{sets:?} should be refused"),
            Err(e) => format!("{e:#}"),
        }
    };
    assert!(scenario::load_str(&base, std::path::Path::new("ok.toml"), &[]).is_ok());
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "above = 0.8",
            "above = 80",
            &["controllers.rules.rules.0.above", "0.8 is 80 %"],
        ),
        (
            "above = 0.8, ",
            "",
            &["controllers.rules.rules.0.above", "`above` or `below`"],
        ),
        (
            "\"double\"",
            "\"dubble\"",
            &["unknown action `dubble`", "double"],
        ),
        (
            "metric = \"cpu\"",
            "metric = \"cpus\"",
            &["unknown metric", "cpu"],
        ),
        (
            "action = \"double\"",
            "action = \"add\"",
            &["`add` needs `count`"],
        ),
        (
            "type = \"rules\"",
            "type = \"ruels\"",
            &["unknown controller type", "rules"],
        ),
        (
            "capacity = 100",
            "capacity = 100\nforecast = \"tomorrow\"",
            &["unknown forecast"],
        ),
        (
            "type = \"poisson\"",
            "type = \"constant\"",
            &["controllers.p.forecast", "has none"],
        ),
        (
            "capacity = 100",
            "capacity = 0",
            &["controllers.p.capacity", "positive"],
        ),
        (
            "capacity = 100",
            "",
            &["controllers.p.capacity", "is required"],
        ),
        (
            "capacity = 100",
            "capacity = 100\nmin = 5\nmax = 2",
            &["controllers.p.min", "above `max`"],
        ),
        (
            "capacity = 100",
            "capacity = 100\nrules = []\ncooldown = \"1m\"",
            &[
                "controllers.p.cooldown",
                "does not belong to a `predictive`",
            ],
        ),
        (
            "type = \"none\"",
            "type = \"hpa\"\nmeasure = { queue_lenght = \"queue\" }",
            &["measure.queue_lenght", "no custom metric"],
        ),
        (
            "type = \"none\"",
            "type = \"hpa\"\nmeasure = { queue_length = \"length\" }",
            &["unknown measure `length`"],
        ),
        (
            "type = \"none\"",
            "type = \"hpa\"\nnodes = { cpu = 1, memory = \"8Gi\", max = 4 }\ncpu_request = 2",
            &["controllers.hpa.nodes", "larger than a node"],
        ),
        (
            "type = \"none\"",
            "type = \"hpa\"\nnodes = { cpu = 4, memory = \"8Gi\", min = 5, max = 4 }",
            &["controllers.hpa.nodes"],
        ),
    ];
    for (from, to, want) in cases {
        assert!(base.contains(from), "{from}");
        let e = err(&base.replacen(from, to, 1), &[]);
        assert!(e.contains("bad.toml"), "{e}");
        for w in *want {
            assert!(e.contains(w), "{from} -> {to}: {e}");
        }
    }
}

/// A node group that cannot change (2 to 2 nodes) bills exactly its nodes after the warm-up:
/// `nodes_mean` 2 and `node_cost_per_hour` 2 x the price, whatever the HPA asks for.
#[test]
fn a_fixed_node_group_bills_its_nodes_after_the_warm_up() {
    let text = format!(
        r#"
name = "bill"
duration = "20m"
warmup = "5m"
[workload]
type = "poisson"
rate = 300
[classes.r]
path = ["app"]
timeout = "2s"
[services.app]
instances = 1
service = "10ms"
[controllers.hpa]
type = "hpa"
service = "app"
manifest = "{}/deploy/hpa-seed.yaml"
memory = {{ request = "512Mi", base = "200Mi", per_request = "1Mi" }}
cpu_request = 1
nodes = {{ cpu = 2, memory = "8Gi", min = 2, max = 2, initial = 2, price_hour = 0.25 }}
"#,
        crate::common::root().display()
    );
    let s = crate::common::run_text(&text, &[], 2);
    let hpa = component(&s, "hpa");
    assert!((metric(hpa, "nodes_mean") - 2.0).abs() < 1e-9);
    assert!((metric(hpa, "node_hours") - 2.0 * 15.0 / 60.0).abs() < 1e-9);
    assert!((metric(hpa, "node_cost_per_hour") - 0.5).abs() < 1e-9);
    // Four 1-vCPU pods fit on two 2-vCPU nodes: the service never has more.
    assert!(instances(&s, "app").iter().all(|&n| n <= 4.0));
    assert!(
        metric(hpa, "pods_pending_max") >= 1.0,
        "the HPA wanted more than fit"
    );
}
