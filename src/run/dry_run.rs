//! The HPA dry run: "how would this HorizontalPodAutoscaler have scaled?" over a metric trace
//! exported from monitoring ([`crate::scenario::trace`]), without the queueing model.
//!
//! The trace holds totals over the workload's pods, as dashboards show them: `cpu` in cores
//! used, `memory` in bytes, and each custom metric of the manifest by its name (a Pods metric
//! as the total over pods, an Object or External metric as its value). At every sync the
//! latest sample of each metric is spread evenly over the replicas the HPA has chosen so far
//! (all running and ready), and Kubernetes' decision logic ([`crate::model::hpa`]) picks the
//! next count. What load a different replica count would have caused is exactly what this
//! cannot know: the simulator answers that, with the same trace as a `trace` workload and the
//! HPA as a controller.

use crate::model::hpa::{
    self, Container, ContainerUsage, Hpa, HpaSpec, MetricSpec, PodMetric, PodUsage, StaticMetrics,
    SyncInput,
};
use crate::scenario::trace::{self, Trace};

/// One sync of a dry run.
#[derive(Debug, Clone, PartialEq)]
pub struct DryRunRow {
    /// Seconds from the trace's start.
    pub t_s: f64,
    /// Replicas before the sync.
    pub before: i32,
    /// Replicas the HPA chose.
    pub replicas: i32,
    /// Each metric's proposal (`None`: the metric had no sample yet or failed).
    pub proposals: Vec<Option<i32>>,
}

/// The pod requests the utilization targets divide by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodRequests {
    /// CPU, millicores.
    pub cpu_milli: i64,
    /// Memory, bytes.
    pub memory: i64,
}

/// Runs the HPA of `spec` every `sync_s` seconds over `trace`, from `replicas` pods.
pub fn dry_run(
    spec: &HpaSpec,
    trace: &Trace,
    sync_s: f64,
    replicas: i32,
    requests: PodRequests,
) -> Vec<DryRunRow> {
    let end = trace
        .values()
        .filter_map(|s| s.last().map(|x| x.0))
        .fold(0.0, f64::max);
    let mut hpa = Hpa::new(spec.clone(), hpa::Config::default());
    let mut n = replicas.max(1);
    let mut rows = Vec::new();
    let mut k = 1u64;
    loop {
        let t = k as f64 * sync_s;
        if t > end + sync_s {
            break;
        }
        k += 1;
        let now = (t * 1000.0).round() as i64;
        let pods: Vec<hpa::Pod> = (0..n)
            .map(|i| {
                let mut p = hpa::Pod::running(format!("pod-{i}"), now - 3_600_000);
                p.containers.push(Container {
                    name: "app".into(),
                    requests: [
                        (hpa::CPU.to_string(), requests.cpu_milli),
                        ("memory".to_string(), requests.memory * 1000),
                    ]
                    .into(),
                    restart_always: false,
                });
                p
            })
            .collect();
        let metrics = sample(spec, trace, t, now, n, (sync_s * 1000.0) as i64);
        let input = SyncInput {
            spec_replicas: n,
            status_replicas: n,
            pods: &pods,
            metrics: &metrics,
        };
        let d = hpa.sync(now, &input);
        rows.push(DryRunRow {
            t_s: t,
            before: n,
            replicas: d.replicas,
            proposals: d
                .metrics
                .iter()
                .map(|m| m.as_ref().ok().map(|p| p.replicas))
                .collect(),
        });
        n = d.replicas.max(1);
    }
    rows
}

/// The metrics the HPA sees at `t` with `n` pods: each total spread evenly.
fn sample(spec: &HpaSpec, trace: &Trace, t: f64, now: i64, n: i32, window: i64) -> StaticMetrics {
    let mut m = StaticMetrics::default();
    let latest = |name: &str| trace.get(name).and_then(|s| trace::at(s, t));
    let per_pod = |total: f64| (total / f64::from(n) * 1000.0).round() as i64;
    for spec in &spec.metrics {
        match spec {
            MetricSpec::Resource { resource, .. }
            | MetricSpec::ContainerResource { resource, .. } => {
                let Some(total) = latest(resource) else {
                    continue;
                };
                // Milli-units: cpu cores -> millicores, memory bytes -> milli-bytes.
                let each = per_pod(total);
                let usage = (0..n)
                    .map(|i| PodUsage {
                        pod: format!("pod-{i}"),
                        timestamp: now,
                        window,
                        containers: vec![ContainerUsage {
                            name: "app".into(),
                            usage: Some(each),
                        }],
                    })
                    .collect();
                m.resources.insert(resource.clone(), usage);
            }
            MetricSpec::Pods { metric, .. } => {
                let Some(total) = latest(metric) else {
                    continue;
                };
                let values = (0..n)
                    .map(|i| {
                        let v = PodMetric {
                            value: per_pod(total),
                            timestamp: now,
                            window,
                        };
                        (format!("pod-{i}"), v)
                    })
                    .collect();
                m.pods.insert(metric.clone(), (values, now));
            }
            MetricSpec::Object { metric, object, .. } => {
                let Some(v) = latest(metric) else { continue };
                let key = (metric.clone(), object.clone());
                m.objects.insert(key, ((v * 1000.0).round() as i64, now));
            }
            MetricSpec::External { metric, .. } => {
                let Some(v) = latest(metric) else { continue };
                m.external
                    .insert(metric.clone(), (vec![(v * 1000.0).round() as i64], now));
            }
            MetricSpec::Unknown(_) => {}
        }
    }
    m
}

/// The metric names a manifest reads from a trace, in spec order.
pub fn metric_names(spec: &HpaSpec) -> Vec<String> {
    spec.metrics
        .iter()
        .map(|m| match m {
            MetricSpec::Resource { resource, .. }
            | MetricSpec::ContainerResource { resource, .. } => resource.clone(),
            MetricSpec::Pods { metric, .. }
            | MetricSpec::Object { metric, .. }
            | MetricSpec::External { metric, .. } => metric.clone(),
            MetricSpec::Unknown(s) => s.clone(),
        })
        .collect()
}

/// The rows as CSV: `t_s,replicas_before,replicas` and one proposal column per metric.
pub fn to_csv(spec: &HpaSpec, rows: &[DryRunRow]) -> String {
    let mut out = String::from("t_s,replicas_before,replicas");
    for name in metric_names(spec) {
        out += &format!(",proposal_{name}");
    }
    out.push('\n');
    for r in rows {
        out += &format!("{},{},{}", r.t_s, r.before, r.replicas);
        for p in &r.proposals {
            out += &p.map_or(",".to_string(), |x| format!(",{x}"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::hpa::{MetricSpec, MetricTarget};

    fn cpu_spec(util: i32, min: i32, max: i32) -> HpaSpec {
        HpaSpec {
            min_replicas: Some(min),
            max_replicas: max,
            metrics: vec![MetricSpec::cpu_utilization(util)],
            behavior: None,
        }
    }

    #[test]
    fn a_cpu_trace_gives_the_replicas_kubernetes_computes_by_hand() {
        // 1-core pods at a 50 % target; 4 cores used in all -> 8 pods, then 1.2 cores -> 3
        // (legacy rules: no behavior; the downscale stabilization window is 5 minutes).
        let trace = trace::parse("0,cpu,4\n600,cpu,1.2\n1200,cpu,1.2\n").expect("parses");
        let rows = dry_run(
            &cpu_spec(50, 1, 20),
            &trace,
            15.0,
            2,
            PodRequests {
                cpu_milli: 1000,
                memory: 0,
            },
        );
        // First sync: 2 pods at 200 % -> ratio 4 -> 8, capped by the legacy scale-up limit
        // (no behavior) max(2 * 2, 4) = 4; the next sync: 4 pods at 100 % -> 8.
        assert_eq!(rows[0].replicas, 4);
        assert_eq!(rows[1].replicas, 8);
        assert!(
            rows.iter()
                .take_while(|r| r.t_s < 600.0)
                .skip(1)
                .all(|r| r.replicas == 8)
        );
        // After the drop, 1.2 cores at 50 % -> ceil(2.4) = 3, once the 5-minute window
        // has passed.
        let at = |t: f64| rows.iter().find(|r| r.t_s >= t).expect("a sync").replicas;
        assert_eq!(at(615.0), 8);
        assert_eq!(at(915.0), 3);
        assert_eq!(rows.last().expect("rows").replicas, 3);
    }

    #[test]
    fn custom_metrics_are_spread_or_taken_as_they_are() {
        let spec = HpaSpec {
            min_replicas: Some(1),
            max_replicas: 100,
            metrics: vec![
                MetricSpec::Pods {
                    metric: "rps".into(),
                    target: MetricTarget::AverageValue(50_000),
                },
                MetricSpec::External {
                    metric: "queue".into(),
                    target: MetricTarget::AverageValue(10_000),
                },
            ],
            behavior: None,
        };
        let trace = trace::parse("0,rps,200\n0,queue,30\n").expect("parses");
        let rows = dry_run(
            &spec,
            &trace,
            15.0,
            4,
            PodRequests {
                cpu_milli: 1000,
                memory: 0,
            },
        );
        // 200 rps over 4 pods at 50 each -> 4; a queue of 30 at 10 per pod -> 3.
        assert_eq!(rows[0].proposals, [Some(4), Some(3)]);
        assert_eq!(rows[0].replicas, 4);
        let csv = to_csv(&spec, &rows);
        assert!(
            csv.starts_with(
                "t_s,replicas_before,replicas,proposal_rps,proposal_queue\n15,4,4,4,3\n"
            ),
            "{csv}"
        );
    }
}
