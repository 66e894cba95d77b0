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
