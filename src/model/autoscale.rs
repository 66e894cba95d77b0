//! The Kubernetes HPA as a controller of a simulated service: every sync period it turns the
//! service's instances into pods and their measured usage into metric samples, and asks the
//! pure decision logic of [`super::hpa`] for the replica count.
//!
//! What the HPA sees, per instance (pod):
//! - **cpu**: the busy workers averaged over the last sync period, one worker being one vCPU
//!   (1000 millicores); the request is `cpu_request` millicores per pod;
//! - **memory**: `base + per_request * requests in the pod`, a documented model (the
//!   simulator has no memory), against `memory_request`;
//! - **Pods metrics** (any name, e.g. `requests_per_second`): by default the requests that
//!   reached the pod per second over the last sync period;
//! - **Object metrics** (any name, described object any): by default the requests that reached
//!   the whole service per second;
//! - **External metrics** (any name, e.g. `queue_length`): by default the requests waiting in
//!   the whole service.
//!
//! `measure` maps a custom metric's name to what it measures ([`Measure`]: request rate,
//! waiting requests, requests in flight), per pod for Pods metrics and over the service for
//! Object and External ones.
//!
//! With `nodes`, pods also need room on a node ([`super::nodes`]): the HPA's replicas are pods
//! of a [`Cluster`]; those that fit on no node stay Pending (the HPA sees them as unready
//! pods) until the cluster autoscaler's new node is ready, and only scheduled pods become
//! instances of the service (their start-up begins then); the service's first instances are
//! placed at time 0, and those that do not fit wait as pending pods. Pods are counted, not
//! matched one to one with the service's instances. Every sync also feeds each pod's CPU (and modelled
//! memory) to Kubernetes' VPA recommender ([`super::vpa`]), whose answer the controller
//! reports as the right-sized requests.
//!
//! Pods that are starting are running but not ready (ready condition false since their start),
//! so the CPU initialization period and readiness delay apply as in Kubernetes. The metrics
//! pipeline is the sync period itself: each sample covers the period that just ended.

use std::collections::BTreeMap;

use super::hpa::{
    self, ConditionStatus, Container, ContainerUsage, Hpa, HpaSpec, PodUsage, ReadyCondition,
    SyncInput,
};
use super::nodes::{Cluster, ClusterAutoscalerConfig, ClusterEvent, NodeGroupSpec, Placement};
use super::service::{PodView, Service};
use super::vpa::{self, Aggregate, ContainerTracker};
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

/// What a custom metric measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Requests arriving per second over the last sync period.
    Rps,
    /// Requests waiting (not in service).
    Queue,
    /// Requests in service or waiting.
    InFlight,
}

impl Measure {
    /// Parses `rps`, `queue` or `in_flight`.
    pub fn parse(s: &str) -> Option<Measure> {
        match s {
            "rps" => Some(Measure::Rps),
            "queue" => Some(Measure::Queue),
            "in_flight" => Some(Measure::InFlight),
            _ => None,
        }
    }

    /// The names [`Measure::parse`] accepts.
    pub const NAMES: [&'static str; 3] = ["rps", "queue", "in_flight"];
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
    /// What each custom metric measures (absent: [`Measure::Rps`] for Pods and Object metrics,
    /// [`Measure::Queue`] for External ones).
    pub measure: BTreeMap<String, Measure>,
    /// The node group and cluster autoscaler the pods run on (`None`: room is unlimited).
    pub nodes: Option<(NodeGroupSpec, ClusterAutoscalerConfig)>,
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
    next_sync: u64,
    cluster: Option<Cluster>,
    /// The pods the HPA wants, by cluster id.
    pod_ids: Vec<u64>,
    next_id: u64,
    events: Vec<ClusterEvent>,
    /// Most nodes at once, most pods pending at once.
    pub peaks: (u32, u32),
    vpa: Aggregate,
    trackers: BTreeMap<u32, ContainerTracker>,
    /// When the warm-up ended, and the node-milliseconds billed by then.
    warm: (u64, i64),
    /// What the last sync showed the HPA, updated in place by the next.
    inputs: Inputs,
}

/// The pods and metric samples a sync shows the HPA, kept between syncs: they are rebuilt
/// only when the set of pods changes and otherwise updated in place, since at a trickle of
/// traffic building them was most of a sync's cost. Each sync sees exactly what a fresh
/// build would give it.
#[derive(Debug, Clone, Default)]
struct Inputs {
    /// The instance slots the pods were built for, in view order.
    slots: Vec<u32>,
    /// Pod names, in view order.
    names: Vec<String>,
    /// One pod per view, then (with nodes) this sync's pending pods.
    pods: Vec<hpa::Pod>,
    /// The samples: CPU (and memory) per pod, each Pods metric per pod.
    metrics: hpa::StaticMetrics,
}

impl Inputs {
    /// Makes the buffers match `views`' pods, dropping last sync's pending pods.
    fn prepare(&mut self, spec: &HpaControllerSpec, views: &[PodView]) {
        if self.slots.len() == views.len()
            && self.slots.iter().zip(views).all(|(s, v)| *s == v.slot)
        {
            self.pods.truncate(views.len());
            return;
        }
        self.slots = views.iter().map(|v| v.slot).collect();
        self.names = views.iter().map(|v| format!("pod-{}", v.slot)).collect();
        let mut requests: BTreeMap<String, i64> = [(hpa::CPU.to_string(), spec.cpu_request)].into();
        if let Some(m) = spec.memory {
            requests.insert("memory".into(), (m.request * 1000.0) as i64);
        }
        let usage = |pod: &String| PodUsage {
            pod: pod.clone(),
            timestamp: 0,
            window: 0,
            containers: vec![ContainerUsage {
                name: "app".into(),
                usage: None,
            }],
        };
        self.pods = self
            .names
            .iter()
            .map(|name| {
                let mut pod = hpa::Pod::running(name.clone(), 0);
                pod.containers.push(Container {
                    name: "app".into(),
                    requests: requests.clone(),
                    restart_always: false,
                });
                pod
            })
            .collect();
        self.metrics = hpa::StaticMetrics::default();
        let samples: Vec<PodUsage> = self.names.iter().map(usage).collect();
        if spec.memory.is_some() {
            self.metrics
                .resources
                .insert("memory".into(), samples.clone());
        }
        self.metrics.resources.insert(hpa::CPU.into(), samples);
        for m in &spec.spec.metrics {
            if let hpa::MetricSpec::Pods { metric, .. } = m {
                let zero = hpa::PodMetric {
                    value: 0,
                    timestamp: 0,
                    window: 0,
                };
                let values = self.names.iter().map(|n| (n.clone(), zero)).collect();
                self.metrics.pods.insert(metric.clone(), (values, 0));
            }
        }
    }

    /// Sets pod `i`'s readiness and its CPU (and memory) samples from `v`.
    fn update(
        &mut self,
        i: usize,
        v: &PodView,
        now_ms: i64,
        window_ms: i64,
        busy: i64,
        mem: Option<i64>,
    ) {
        let pod = &mut self.pods[i];
        pod.start_time = Some((v.started_at / MS) as i64);
        pod.ready = Some(ReadyCondition {
            status: if v.ready {
                ConditionStatus::True
            } else {
                ConditionStatus::False
            },
            last_transition: (v.ready_at / MS) as i64,
        });
        let samples = [(hpa::CPU, Some(busy)), ("memory", mem)];
        for (resource, value) in samples {
            let Some(value) = value else { continue };
            let items = self.metrics.resources.get_mut(resource).expect("prepared");
            let item = &mut items[i];
            (item.timestamp, item.window) = (now_ms, window_ms);
            item.containers[0].usage = Some(value);
        }
    }
}

const MS: u64 = 1_000_000;

impl HpaController {
    /// A controller in its initial state.
    pub fn new(spec: HpaControllerSpec) -> HpaController {
        let hpa = Hpa::new(spec.spec.clone(), spec.config);
        let cluster = spec
            .nodes
            .as_ref()
            .map(|(group, config)| Cluster::new(*group, *config).expect("validated node group"));
        HpaController {
            next_sync: spec.sync,
            hpa,
            last: BTreeMap::new(),
            last_sync: 0,
            syncs: 0,
            rescales: 0,
            replicas: 0,
            cluster,
            pod_ids: Vec::new(),
            next_id: 0,
            events: Vec::new(),
            peaks: (0, 0),
            vpa: Aggregate::new(&vpa::VpaConfig::default())
                .expect("the default VPA config is valid"),
            trackers: BTreeMap::new(),
            warm: (0, 0),
            inputs: Inputs::default(),
            spec,
        }
    }

    /// When it first wakes: at the first sync, or at once to place the first pods on nodes.
    pub fn first_wake(&self) -> u64 {
        if self.cluster.is_some() {
            0
        } else {
            self.spec.sync
        }
    }

    /// Wakes at `ctx.now()`: syncs when a sync is due, runs the cluster autoscaler, and
    /// returns when to wake next.
    pub fn wake(&mut self, svc: &mut Service, ctx: &mut Ctx<'_>) -> u64 {
        let now = ctx.now().0;
        if self.cluster.is_some() && self.pod_ids.is_empty() && self.syncs == 0 {
            self.resize(svc.desired() as usize, now);
        }
        if now >= self.next_sync {
            self.sync(svc, ctx);
            self.next_sync = now.saturating_add(self.spec.sync);
        }
        let now_ms = (now / MS) as i64;
        let (cpu, mem) = (self.spec.cpu_request, self.memory_request());
        let Some(cluster) = self.cluster.as_mut() else {
            return self.next_sync;
        };
        self.events.clear();
        cluster.step(now_ms, &mut self.events);
        for e in &self.events {
            if let ClusterEvent::PodEvicted { id } = *e {
                // Recreated at once by its ReplicaSet: a new pod, pending or placed elsewhere.
                if let Some(p) = self.pod_ids.iter_mut().find(|p| **p == id) {
                    *p = self.next_id;
                    let _ = cluster.add_pod(self.next_id, cpu, mem, now_ms);
                    self.next_id += 1;
                }
            }
        }
        let scheduled = self
            .pod_ids
            .iter()
            .filter(|&&id| matches!(cluster.pod(id), Some(Placement::Scheduled(_))))
            .count() as u32;
        let st = cluster.stats(now_ms);
        self.peaks.0 = self.peaks.0.max(st.nodes_ready + st.nodes_provisioning);
        self.peaks.1 = self.peaks.1.max(st.pods_pending);
        if scheduled != svc.desired() {
            svc.set_desired(scheduled, ctx);
        }
        let wake_ms = cluster.next_wake(now_ms).max(now_ms + 1);
        self.next_sync.min((wake_ms as u64).saturating_mul(MS))
    }

    fn memory_request(&self) -> i64 {
        self.spec.memory.map_or(0, |m| m.request as i64)
    }

    /// Makes the cluster hold `n` pods: new ones are added (scheduled or pending); removed
    /// ones are pending ones first, as a ReplicaSet deletes unscheduled pods first.
    fn resize(&mut self, n: usize, now: u64) {
        let (cpu, mem) = (self.spec.cpu_request, self.memory_request());
        let Some(cluster) = self.cluster.as_mut() else {
            return;
        };
        let now_ms = (now / MS) as i64;
        while self.pod_ids.len() < n {
            let _ = cluster.add_pod(self.next_id, cpu, mem, now_ms);
            self.pod_ids.push(self.next_id);
            self.next_id += 1;
        }
        while self.pod_ids.len() > n {
            let i = self
                .pod_ids
                .iter()
                .rposition(|&id| cluster.pod(id) == Some(Placement::Pending))
                .unwrap_or(self.pod_ids.len() - 1);
            let id = self.pod_ids.remove(i);
            cluster.remove_pod(id, now_ms);
        }
    }

    /// Starts measuring the cluster's bill: node-hours before `now` are warm-up.
    pub fn mark_warm(&mut self, now: u64) {
        if let Some(c) = &self.cluster {
            self.warm = (now, c.stats((now / MS) as i64).node_millis);
        }
    }

    /// Named metrics: the cluster's after the warm-up (`nodes_mean`, `node_hours`,
    /// `node_cost_per_hour`, which the strategy's cost adds) and over the whole run
    /// (`nodes_max`,
    /// `pods_pending_max`, `node_scale_ups`, `node_scale_downs`) when it has nodes, and the VPA
    /// recommender's requests for the service's pods (`vpa_cpu_target_m`, `vpa_cpu_lower_m`,
    /// `vpa_cpu_upper_m`, and `vpa_memory_target_mib` with a memory model).
    pub fn metrics(&self, now: u64) -> Vec<(String, f64)> {
        let mut m = Vec::new();
        if let Some(c) = &self.cluster {
            let st = c.stats((now / MS) as i64);
            let node_hours = (st.node_millis - self.warm.1) as f64 / 3_600_000.0;
            let hours = (now.saturating_sub(self.warm.0) as f64 / 3.6e12).max(1e-12);
            m.push(("nodes_max".to_string(), f64::from(self.peaks.0)));
            m.push(("node_hours".to_string(), node_hours));
            m.push(("nodes_mean".to_string(), node_hours / hours));
            m.push((
                "node_cost_per_hour".to_string(),
                node_hours * c.spec().price_hour / hours,
            ));
            m.push(("pods_pending_max".to_string(), f64::from(self.peaks.1)));
            m.push(("node_scale_ups".to_string(), st.scale_ups as f64));
            m.push(("node_scale_downs".to_string(), st.scale_downs as f64));
        }
        let r = self.vpa.recommend();
        m.push(("vpa_cpu_target_m".to_string(), r.cpu.target as f64));
        m.push(("vpa_cpu_lower_m".to_string(), r.cpu.lower as f64));
        m.push(("vpa_cpu_upper_m".to_string(), r.cpu.upper as f64));
        if self.spec.memory.is_some() {
            m.push((
                "vpa_memory_target_mib".to_string(),
                r.memory.target as f64 / (1024.0 * 1024.0),
            ));
        }
        m
    }

    /// The sync period, ns.
    pub fn period(&self) -> u64 {
        self.spec.sync
    }

    /// One sync at `ctx.now()`: reads `svc`, decides, and sets its desired instances.
    fn sync(&mut self, svc: &mut Service, ctx: &mut Ctx<'_>) {
        let now = ctx.now().0;
        let window = now.saturating_sub(self.last_sync).max(1);
        let views = svc.pod_views(now);
        let now_ms = (now / MS) as i64;
        let window_ms = (window / MS) as i64;
        self.inputs.prepare(&self.spec, &views);
        let mut per_pod: Vec<[f64; 3]> = Vec::with_capacity(views.len());
        let mut total = [0.0f64; 3];
        for (i, v) in views.iter().enumerate() {
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
            let values = [rps, f64::from(v.waiting), f64::from(v.outstanding)];
            for (t, x) in total.iter_mut().zip(values) {
                *t += x;
            }
            let used = self
                .spec
                .memory
                .map(|m| m.base + m.per_request * f64::from(v.outstanding));
            self.inputs.update(
                i,
                v,
                now_ms,
                window_ms,
                busy,
                used.map(|u| (u * 1000.0) as i64),
            );
            if v.ready {
                let t = self.trackers.entry(v.slot).or_default();
                t.add_cpu_sample(&mut self.vpa, now_ms, busy, self.spec.cpu_request);
                if let Some(used) = used {
                    t.add_memory_sample(&mut self.vpa, now_ms, used as i64);
                }
            }
            per_pod.push(values);
        }
        // Messages waiting for the service's consumers count in its queue.
        let backlog = f64::from(svc.backlog());
        total[1] += backlog;
        total[2] += backlog;
        self.last
            .retain(|slot, _| views.iter().any(|v| v.slot == *slot));
        let metrics = &mut self.inputs.metrics;
        metrics.objects.clear();
        metrics.external.clear();
        let milli = |x: f64| (x * 1000.0).round() as i64;
        for m in &self.spec.spec.metrics {
            let (name, default) = match m {
                hpa::MetricSpec::Pods { metric, .. } | hpa::MetricSpec::Object { metric, .. } => {
                    (metric, Measure::Rps)
                }
                hpa::MetricSpec::External { metric, .. } => (metric, Measure::Queue),
                _ => continue,
            };
            let k = *self.spec.measure.get(name).unwrap_or(&default) as usize;
            match m {
                hpa::MetricSpec::Pods { .. } => {
                    let (values, at) = metrics.pods.get_mut(name).expect("prepared");
                    for (pod, x) in self.inputs.names.iter().zip(&per_pod) {
                        *values.get_mut(pod).expect("prepared") = hpa::PodMetric {
                            value: milli(x[k]),
                            timestamp: now_ms,
                            window: window_ms,
                        };
                    }
                    *at = now_ms;
                }
                hpa::MetricSpec::Object { object, .. } => {
                    let key = (name.clone(), object.clone());
                    metrics.objects.insert(key, (milli(total[k]), now_ms));
                }
                _ => {
                    let series = vec![milli(total[k])];
                    metrics.external.insert(name.clone(), (series, now_ms));
                }
            }
        }
        let mut desired = svc.desired() as i32;
        if let Some(cluster) = &self.cluster {
            // Pending pods are in the HPA's pod list too, unready and without metrics.
            for &id in &self.pod_ids {
                if cluster.pod(id) == Some(Placement::Pending) {
                    let mut p = hpa::Pod::running(format!("pending-{id}"), now_ms);
                    p.phase = hpa::PodPhase::Pending;
                    p.ready = None;
                    p.start_time = None;
                    self.inputs.pods.push(p);
                }
            }
            desired = self.pod_ids.len() as i32;
        }
        let input = SyncInput {
            spec_replicas: desired,
            status_replicas: views.len() as i32,
            pods: &self.inputs.pods,
            metrics: &self.inputs.metrics,
        };
        let d = self.hpa.sync(now_ms, &input);
        self.syncs += 1;
        self.last_sync = now;
        self.replicas = d.replicas;
        if d.replicas != desired {
            self.rescales += 1;
            if self.cluster.is_some() {
                self.resize(d.replicas.max(0) as usize, now);
            } else {
                svc.set_desired(d.replicas.max(0) as u32, ctx);
            }
        }
    }
}
