//! Not upstream cases: multi-sync scenarios through [`Hpa::sync`] whose outcome follows from
//! the reference by hand, pinning down the history semantics the single-sync tables cannot.

use super::NOW;
use crate::model::hpa::*;

/// Syncs every 15 s; every pod uses `usage(k)` millicores of its 1-cpu request at sync `k`.
fn replicas_over_time(
    spec: HpaSpec,
    initial: i32,
    syncs: usize,
    usage: impl Fn(usize) -> i64,
) -> Vec<i32> {
    let mut hpa = Hpa::new(spec, Config::default());
    let mut current = initial;
    let mut seen = vec![current];
    for k in 0..syncs {
        let now = NOW + k as Millis * 15 * SECOND;
        let mut pods = Vec::new();
        let mut items = Vec::new();
        for i in 0..current {
            let mut pod = Pod::running(format!("p{i}"), NOW - 3600 * SECOND);
            pod.containers.push(Container {
                name: "app".into(),
                requests: [(CPU.to_string(), 1000)].into(),
                restart_always: false,
            });
            pods.push(pod);
            let containers = vec![ContainerUsage {
                name: "app".into(),
                usage: Some(usage(k)),
            }];
            items.push(PodUsage {
                pod: format!("p{i}"),
                timestamp: now,
                window: 60 * SECOND,
                containers,
            });
        }
        let mut metrics = StaticMetrics::default();
        metrics.resources.insert(CPU.into(), items);
        let input = SyncInput {
            spec_replicas: current,
            status_replicas: current,
            pods: &pods,
            metrics: &metrics,
        };
        current = hpa.sync(now, &input).replicas;
        seen.push(current);
    }
    seen
}

fn spec(behavior: Option<Behavior>) -> HpaSpec {
    HpaSpec {
        min_replicas: Some(1),
        max_replicas: 100,
        metrics: vec![MetricSpec::cpu_utilization(50)],
        behavior,
    }
}

/// A nil behavior caps each sync at `max(2N, 4)` with no memory; `behavior: {}` allows
/// `max(N + 4, 2N)` over the replicas at the start of the last 15 s, where an event exactly
/// 15 s old no longer counts.
#[test]
fn nil_behavior_and_empty_behavior_scale_up_differently() {
    let legacy = replicas_over_time(spec(None), 1, 6, |_| 10_000);
    assert_eq!(legacy, [1, 4, 8, 16, 32, 64, 100]);
    let defaults = replicas_over_time(spec(Some(Behavior::default())), 1, 6, |_| 10_000);
    assert_eq!(defaults, [1, 5, 10, 20, 40, 80, 100]);
}

/// A fresh controller records the current replicas, so it cannot scale down for the downscale
/// window (300 s). The behavior path's window is strict (the first recommendation drops out
/// exactly 300 s later, at sync 20); the legacy path keeps a recommendation exactly at the
/// cutoff, so it scales down one sync later.
#[test]
fn a_fresh_controller_waits_out_the_downscale_window() {
    let idle = |_| 100; // 10 % of request against a 50 % target
    let legacy = replicas_over_time(spec(None), 10, 23, idle);
    let first_drop = |seen: &[i32]| seen.iter().position(|&r| r < 10).unwrap() - 1;
    assert_eq!(first_drop(&legacy), 21, "{legacy:?}");
    let defaults = replicas_over_time(spec(Some(Behavior::default())), 10, 23, idle);
    assert_eq!(first_drop(&defaults), 20, "{defaults:?}");
    // Then straight to the proposal: ceil(0.2 × 10) = 2 (100 % per 15 s allows it).
    assert_eq!(defaults[21], 2, "{defaults:?}");
}

/// Per-direction tolerances (`behavior.scaleUp.tolerance`): a 15 % excess is inside a 20 %
/// scale-up band, a 15 % shortfall is outside the flag's 10 % scale-down band.
#[test]
fn per_direction_tolerances() {
    let up = ScalingRules {
        tolerance: Some(0.2),
        ..ScalingRules::default()
    };
    let b = Some(Behavior {
        scale_up: Some(up),
        scale_down: None,
    });
    let hpa = Hpa::new(spec(b.clone()), Config::default());
    assert_eq!(hpa.tolerances(), Tolerances { down: 0.1, up: 0.2 });
    let hot = replicas_over_time(spec(b.clone()), 10, 1, |_| 575); // ratio 1.15
    assert_eq!(hot, [10, 10]);
    let cold = replicas_over_time(spec(b), 10, 21, |_| 425); // ratio 0.85, after the window
    assert_eq!(cold[21], 9, "{cold:?}");
}
