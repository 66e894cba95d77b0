//! Invariants over seeded random runs: many syncs 15 s apart, the target always at the last
//! decision, random load, random specs and behaviors.
//!
//! * replicas stay within `[min, max]` (except a disabled HPA at zero);
//! * with a single Pods scale-up policy `(v, p)`, no window `(t - p, t]` sees more than `v`
//!   replicas added;
//! * a scale-down never goes below a recommendation made within the downscale window.

use crate::model::hpa::*;

/// SplitMix64: small, seeded, deterministic.
struct Rand(u64);

impl Rand {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
}

const STEP: Millis = 15 * SECOND;
const SEEDS: u64 = 300;
const SYNCS: usize = 60;

fn random_rules(r: &mut Rand) -> Option<ScalingRules> {
    if r.coin() {
        return None;
    }
    let policy = |r: &mut Rand| {
        let period = r.range(1, 300) as i32;
        if r.coin() {
            ScalingPolicy::pods(r.range(1, 10) as i32, period)
        } else {
            ScalingPolicy::percent(r.range(1, 900) as i32, period)
        }
    };
    let n = r.range(0, 3);
    let select =
        [SelectPolicy::Max, SelectPolicy::Min, SelectPolicy::Disabled][r.range(0, 2) as usize];
    Some(ScalingRules {
        stabilization_window_seconds: r.coin().then(|| r.range(0, 600) as i32),
        select_policy: r.coin().then_some(select),
        policies: (n > 0).then(|| (0..n).map(|_| policy(r)).collect()),
        tolerance: r.coin().then(|| r.range(0, 30) as f64 / 100.0),
    })
}

/// `n` running, ready pods requesting 1 cpu each, and their cpu samples at `now`.
fn world(r: &mut Rand, n: i32, load: i64, now: Millis) -> (Vec<Pod>, StaticMetrics) {
    let mut pods = Vec::new();
    let mut items = Vec::new();
    for i in 0..n.max(0) {
        let mut pod = Pod::running(format!("p{i}"), now - 3600 * SECOND);
        pod.containers.push(Container {
            name: "app".into(),
            requests: [(CPU.to_string(), 1000)].into(),
            restart_always: false,
        });
        pods.push(pod);
        // Some pods report nothing: missing samples exercise the damped pass.
        if r.range(0, 9) > 0 {
            let usage = (load + r.range(-200, 200)).max(0);
            let containers = vec![ContainerUsage {
                name: "app".into(),
                usage: Some(usage),
            }];
            items.push(PodUsage {
                pod: format!("p{i}"),
                timestamp: now,
                window: 60 * SECOND,
                containers,
            });
        }
    }
    let mut m = StaticMetrics::default();
    m.resources.insert(CPU.into(), items);
    m.external.insert("queue".into(), (vec![load * 10], now));
    (pods, m)
}

/// Runs `SYNCS` syncs; `each(hpa, now, current, decision)` sees every step.
fn run(seed: u64, spec: HpaSpec, initial: i32, mut each: impl FnMut(&Hpa, Millis, i32, &Decision)) {
    let mut r = Rand(seed ^ 0xA5A5);
    let mut hpa = Hpa::new(spec, Config::default());
    let mut current = initial;
    let mut load = r.range(0, 3000);
    // A third of the runs go idle halfway, so proposals fall below `min` for whole windows.
    let idle_from = if r.range(0, 2) == 0 { SYNCS / 2 } else { SYNCS };
    for k in 0..SYNCS {
        let now = 1_000_000 * SECOND + k as Millis * STEP;
        load = if k >= idle_from {
            0
        } else {
            (load + r.range(-600, 600)).clamp(0, 4000)
        };
        let (pods, metrics) = world(&mut r, current, load, now);
        let input = SyncInput {
            spec_replicas: current,
            status_replicas: current,
            pods: &pods,
            metrics: &metrics,
        };
        let d = hpa.sync(now, &input);
        each(&hpa, now, current, &d);
        current = d.replicas;
    }
}

fn random_spec(r: &mut Rand) -> HpaSpec {
    let min = r.range(0, 4) as i32;
    let max = r.range(min.max(1) as i64, 20) as i32;
    let mut metrics = vec![MetricSpec::cpu_utilization(r.range(30, 90) as i32)];
    if r.coin() {
        metrics.push(MetricSpec::External {
            metric: "queue".into(),
            target: MetricTarget::AverageValue(5000),
        });
    }
    let behavior = r.coin().then(|| Behavior {
        scale_up: random_rules(r),
        scale_down: random_rules(r),
    });
    HpaSpec {
        min_replicas: Some(min),
        max_replicas: max,
        metrics,
        behavior,
    }
}

#[test]
fn replicas_stay_within_bounds() {
    for seed in 0..SEEDS {
        let mut r = Rand(seed);
        let spec = random_spec(&mut r);
        let (min, max) = (spec.min_replicas.unwrap_or(1), spec.max_replicas);
        let initial = r.range(0, 25) as i32;
        run(seed, spec, initial, |_, now, current, d| {
            let disabled = current == 0 && min != 0;
            assert!(
                disabled || (min..=max).contains(&d.replicas),
                "seed {seed} at {now}: {} outside [{min}, {max}] (from {current})",
                d.replicas
            );
        });
    }
}

#[test]
fn scale_up_respects_pods_policy_over_every_window() {
    for seed in 0..SEEDS {
        let mut r = Rand(seed);
        let (v, p) = (r.range(1, 6) as i32, r.range(15, 200) as i32);
        let up = ScalingRules {
            policies: Some(vec![ScalingPolicy::pods(v, p)]),
            stabilization_window_seconds: Some(0),
            ..ScalingRules::default()
        };
        let down = ScalingRules {
            select_policy: Some(SelectPolicy::Disabled),
            ..ScalingRules::default()
        };
        let mut spec = random_spec(&mut r);
        spec.behavior = Some(Behavior {
            scale_up: Some(up),
            scale_down: Some(down),
        });
        let min = spec.min_replicas.unwrap_or(1);
        let initial = r.range(min.max(1) as i64, spec.max_replicas as i64) as i32;
        let mut steps: Vec<(Millis, i32)> = Vec::new();
        run(seed, spec, initial, |_, now, current, d| {
            steps.push((now, d.replicas - current));
            let added: i32 = steps
                .iter()
                .filter(|(t, _)| *t > now - p as Millis * SECOND)
                .map(|s| s.1)
                .sum();
            assert!(
                added <= v,
                "seed {seed}: {added} added within {p} s, policy allows {v}"
            );
            assert!(d.replicas >= current, "seed {seed}: scale-down is disabled");
        });
    }
}

#[test]
fn scale_down_never_undercuts_the_window() {
    for seed in 0..SEEDS {
        let mut r = Rand(seed);
        let mut spec = random_spec(&mut r);
        let window = match &mut spec.behavior {
            None => Config::default().downscale_stabilization_window,
            Some(b) => {
                let w = r.range(0, 600) as i32;
                let rules = b.scale_down.get_or_insert_with(ScalingRules::default);
                rules.stabilization_window_seconds = Some(w);
                w as Millis * SECOND
            }
        };
        let initial = r.range(1, 20) as i32;
        let mut recs: Vec<(Millis, i32)> = Vec::new();
        run(seed, spec, initial, |_, now, current, d| {
            if let Some(m) = d.metric_replicas {
                recs.push((now, m.max(0)));
            }
            if d.replicas < current && d.metric_replicas.is_some() {
                let highest = recs
                    .iter()
                    .filter(|(t, _)| *t > now - window)
                    .map(|x| x.1)
                    .max()
                    .unwrap_or(0);
                assert!(
                    d.replicas >= highest,
                    "seed {seed} at {now}: down to {} below {highest} recommended within the window",
                    d.replicas
                );
            }
        });
    }
}
