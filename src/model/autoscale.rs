//! The Kubernetes HPA as a controller of a simulated service: every sync period it turns the
//! service's instances into pods and their measured usage into metric samples, and asks the
//! pure decision logic of [`super::hpa`] for the replica count.
//!
//! What the HPA sees, per instance (pod):
//! - **cpu**: the busy workers averaged over the last sync period, one worker being one vCPU
//!   (1000 millicores); the request is `cpu_request` millicores per pod;
//! - **memory**: `base + per_request * requests in the pod`, a documented model (the
//!   simulator has no memory), against `memory_request`;
//! - **Pods metrics** (any name, e.g. `requests_per_second`): the requests that reached the pod
//!   per second over the last sync period;
//! - **External metrics** (any name, e.g. `queue_length`): the requests waiting in the whole
//!   service.
//!
//! Pods that are starting are running but not ready (ready condition false since their start),
//! so the CPU initialization period and readiness delay apply as in Kubernetes. The metrics
//! pipeline is the sync period itself: each sample covers the period that just ended.

use std::collections::BTreeMap;

use super::hpa::{
    self, ConditionStatus, Container, ContainerUsage, Hpa, HpaSpec, PodUsage, ReadyCondition,
    SyncInput,
};
use super::service::Service;
use crate::engine::Ctx;

/// Memory per pod, bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryModel {
    /// The pod's memory request.
    pub request: f64,
    /// Used by an idle pod.
    pub base: f64,
    /// Used per request in the pod.
    pub per_request: f64,
}

/// An HPA controller's configuration.
#[derive(Debug, Clone)]
pub struct HpaControllerSpec {
    /// The manifest's spec.
    pub spec: HpaSpec,
    /// Controller flags.
    pub config: hpa::Config,
    /// Sync period, ns.
    pub sync: u64,
    /// CPU request per pod, millicores.
    pub cpu_request: i64,
    /// Memory model, when the manifest scales on memory.
    pub memory: Option<MemoryModel>,
}

/// An HPA controller's state.
#[derive(Debug, Clone)]
pub struct HpaController {
    spec: HpaControllerSpec,
    hpa: Hpa,
    last: BTreeMap<u32, (f64, u64)>,
    last_sync: u64,
    /// Syncs run.
    pub syncs: u64,
    /// Syncs that changed the replica count.
    pub rescales: u64,
    /// Replicas after the last sync.
    pub replicas: i32,
}

const MS: u64 = 1_000_000;

impl HpaController {
    /// A controller in its initial state.
    pub fn new(spec: HpaControllerSpec) -> HpaController {
        let hpa = Hpa::new(spec.spec.clone(), spec.config);
        HpaController {
            spec,
            hpa,
            last: BTreeMap::new(),
            last_sync: 0,
            syncs: 0,
            rescales: 0,
            replicas: 0,
        }
    }

    /// The sync period, ns.
    pub fn period(&self) -> u64 {
        self.spec.sync
    }

    /// One sync at `ctx.now()`: reads `svc`, decides, and sets its desired instances.
    pub fn sync(&mut self, svc: &mut Service, ctx: &mut Ctx<'_>) {
        let now = ctx.now().0;
        let window = now.saturating_sub(self.last_sync).max(1);
        let views = svc.pod_views(now);
        let now_ms = (now / MS) as i64;
        let window_ms = (window / MS) as i64;
        let mut pods = Vec::with_capacity(views.len());
        let (mut cpu, mut mem) = (Vec::new(), Vec::new());
        let mut rate = BTreeMap::new();
        let mut waiting = 0i64;
        for v in &views {
            let name = format!("pod-{}", v.slot);
            // From the previous sync, or from the pod's start if it started since (a reused
            // slot's station carries its earlier lives' counts).
            let (busy0, arrivals0) = match self.last.get(&v.slot) {
                Some(&last) if v.started_at < self.last_sync || self.syncs == 0 => last,
                _ => v.start_counts,
            };
            let since = now.saturating_sub(v.started_at.max(self.last_sync)).max(1) as f64;
            let busy = ((v.busy_area - busy0).max(0.0) / since * 1000.0).round() as i64;
            let rps = (v.arrivals.saturating_sub(arrivals0)) as f64 / (since / 1e9);
            self.last.insert(v.slot, (v.busy_area, v.arrivals));
            waiting += i64::from(v.waiting);
            let mut requests: BTreeMap<String, i64> =
                [(hpa::CPU.to_string(), self.spec.cpu_request)].into();
            if let Some(m) = self.spec.memory {
                requests.insert("memory".into(), (m.request * 1000.0) as i64);
                let used = m.base + m.per_request * f64::from(v.outstanding);
                mem.push(PodUsage {
                    pod: name.clone(),
                    timestamp: now_ms,
                    window: window_ms,
                    containers: vec![ContainerUsage {
                        name: "app".into(),
                        usage: Some((used * 1000.0) as i64),
                    }],
                });
            }
            let mut pod = hpa::Pod::running(name.clone(), (v.started_at / MS) as i64);
            pod.ready = Some(ReadyCondition {
                status: if v.ready {
                    ConditionStatus::True
                } else {
                    ConditionStatus::False
                },
                last_transition: (v.ready_at / MS) as i64,
            });
            pod.containers.push(Container {
                name: "app".into(),
                requests,
                restart_always: false,
            });
            pods.push(pod);
            cpu.push(PodUsage {
                pod: name.clone(),
                timestamp: now_ms,
                window: window_ms,
                containers: vec![ContainerUsage {
                    name: "app".into(),
                    usage: Some(busy),
                }],
            });
            rate.insert(
                name,
                hpa::PodMetric {
                    value: (rps * 1000.0).round() as i64,
                    timestamp: now_ms,
                    window: window_ms,
                },
            );
        }
        self.last
            .retain(|slot, _| views.iter().any(|v| v.slot == *slot));
        let mut metrics = hpa::StaticMetrics::default();
        metrics.resources.insert(hpa::CPU.into(), cpu);
        if self.spec.memory.is_some() {
            metrics.resources.insert("memory".into(), mem);
        }
        for m in &self.spec.spec.metrics {
            match m {
                hpa::MetricSpec::Pods { metric, .. } => {
                    metrics.pods.insert(metric.clone(), (rate.clone(), now_ms));
                }
                hpa::MetricSpec::External { metric, .. } => {
                    metrics
                        .external
                        .insert(metric.clone(), (vec![waiting * 1000], now_ms));
                }
                _ => {}
            }
        }
        let desired = svc.desired() as i32;
        let input = SyncInput {
            spec_replicas: desired,
            status_replicas: views.len() as i32,
            pods: &pods,
            metrics: &metrics,
        };
        let d = self.hpa.sync(now_ms, &input);
        self.syncs += 1;
        self.last_sync = now;
        self.replicas = d.replicas;
        if d.replicas != desired {
            self.rescales += 1;
            svc.set_desired(d.replicas.max(0) as u32, ctx);
        }
    }
}
