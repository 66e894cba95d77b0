//! A node pool and the Kubernetes cluster autoscaler's decisions, one scan at a time.
//!
//! Pure and engine-free, like [`super::hpa`]: the caller (the HPA controller of a simulated
//! service) tells the [`Cluster`] which pods exist and what they request, and learns which are
//! scheduled on a node (so their start-up can begin) and which stay Pending. Time is
//! [`Millis`], signed milliseconds from an arbitrary epoch.
//!
//! # Design
//!
//! Follows the cluster-autoscaler of `kubernetes/autoscaler` (read at
//! `55c37cd5eb550756c5ccc5a89e9068d77797e575` for `cluster-autoscaler/FAQ.md`; the Go sources
//! as stored at `estimator/binpacking_estimator.go@006685c4`, its test at `@07f2cb9a`,
//! `core/scaledown/unneeded/nodes.go@03cf0e66`, `core/scaledown/eligibility/eligibility.go@0a11e9c1`,
//! `core/scaledown/planner/planner.go@01389b01`, `core/static_autoscaler.go@006685c4`).
//!
//! | file | upstream | what |
//! |---|---|---|
//! | `estimator` | `estimator/` | first-fit-decreasing binpacking of pending pods onto new nodes ([`Binpacker`]) |
//! | `pool` | kube-scheduler (simplified) | nodes, pods, first-fit placement, billing integral |
//! | `scaledown` | `core/scaledown/` | utilization, "unneeded" tracking with simulated drains, removal |
//!
//! ```text
//!  step(now) ─► provisioning nodes whose delay has passed become Ready
//!            ─► scheduler: pending pods (FIFO) first-fit onto Ready nodes
//!            ─► scan due? (every scan_interval)
//!                 ├─ scale-up: pending pods that fit on no upcoming node ─► binpacking estimate
//!                 │    └─ nodes > 0: provision them (capped at max_nodes); no scale-down this scan
//!                 └─ scale-down: utilization < threshold and pods fit elsewhere ─► unneeded since t
//!                      └─ not in cooldown: unneeded for > unneeded_time and above min_nodes ─► remove
//!                           (empty nodes up to 10 at once, non-empty one at a time; pods evicted)
//! ```
//!
//! # Defaults ([`ClusterAutoscalerConfig::default`], from the FAQ's flag table)
//!
//! `scan-interval` 10 s; `scale-down-utilization-threshold` 0.5 (the max over CPU and memory of
//! the sum of pod requests over allocatable; a node at or above it is never unneeded);
//! `scale-down-unneeded-time` 10 min (removable once unneeded for *strictly* more, as
//! `unneeded/nodes.go` checks `since + time` before now); `scale-down-delay-after-add` 10 min
//! (no removal while `last scale-up + delay > now`); `scale-down-delay-after-delete` 0 s;
//! `max-node-provision-time` 15 min; `max-nodes-per-scaleup` 1000; `max-scale-down-parallelism`
//! 10 (the successor of `max-empty-bulk-delete`); `max-drain-parallelism` 1.
//!
//! The node group ([`NodeGroupSpec::default`]): a 2 vCPU / 8 GiB machine (an AWS m5.large,
//! $0.096 per hour on demand), 110 pods per node (the kubelet's default), 1 to 10 nodes, and a
//! provisioning delay of 120 s: cloud VMs take 1 to 3 minutes from the API call to a Ready
//! node (boot, kubelet registration, CNI), and 2 minutes is the middle of that range.
//!
//! # Where this simplifies
//!
//! * One node group, so no expander; every node has the group's shape, and its `cpu_millis`
//!   and `memory_bytes` are the node's *allocatable* (no system reservation, no DaemonSets).
//! * Placement is first-fit over Ready nodes in creation order, in place of kube-scheduler's
//!   filtering and scoring; the estimator and the drain simulation are first-fit as well.
//! * The scheduler acts only inside [`Cluster::add_pod`] and [`Cluster::step`]: capacity freed
//!   by [`Cluster::remove_pod`] goes to pending pods at the next `step`.
//! * Every node becomes Ready exactly `provision_delay_ms` after the scale-up; a delay beyond
//!   `max_node_provision_time_ms` would mean every scale-up fails, which is not modelled (no
//!   backoff), so it is rejected.
//! * Removal is instant: the pods of a removed node are evicted ([`ClusterEvent::PodEvicted`])
//!   and leave the cluster; the caller recreates them with [`Cluster::add_pod`], where they
//!   may be scheduled elsewhere or wait as Pending. No PodDisruptionBudgets, no graceful
//!   termination, no unready nodes, no scale-down failures.
//! * A pod whose request exceeds a node's allocatable can never be scheduled: it stays Pending,
//!   is counted in [`ClusterStats::pods_unschedulable`], and never triggers a scale-up (the
//!   estimator would find no node for it either).
//!
//! # Example
//!
//! ```
//! use scalesim::model::nodes::*;
//!
//! let spec = NodeGroupSpec { initial_nodes: 1, ..NodeGroupSpec::default() }; // 2000 m nodes
//! let mut cluster = Cluster::new(spec, ClusterAutoscalerConfig::default()).unwrap();
//! let mut events = Vec::new();
//! for id in 0..6 {
//!     cluster.add_pod(id, 500, 256 * MIB, 0).unwrap(); // 4 fit on the first node
//! }
//! assert_eq!(cluster.stats(0).pods_pending, 2);
//! cluster.step(0, &mut events); // the first scan: one node for the two pending pods
//! assert_eq!(events, [ClusterEvent::ScaleUp { nodes: 1 }]);
//! let mut now = 0;
//! while cluster.stats(now).pods_pending > 0 {
//!     now = cluster.next_wake(now); // scans every 10 s, and the node's Ready time
//!     cluster.step(now, &mut events);
//! }
//! assert_eq!(now, 120 * SECOND);
//! assert_eq!(events[1..], [
//!     ClusterEvent::NodeReady { node: NodeId(1) },
//!     ClusterEvent::PodScheduled { id: 4, node: NodeId(1) },
//!     ClusterEvent::PodScheduled { id: 5, node: NodeId(1) },
//! ]);
//! assert_eq!(cluster.stats(now).node_millis, 120 * SECOND + 120 * SECOND); // billed since t = 0
//! ```

mod estimator;
mod pool;
mod scaledown;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use super::hpa::{Millis, SECOND};
pub use estimator::{Binpacker, Estimate, NodeShape, PodGroup};

/// A minute, in [`Millis`].
pub const MINUTE: Millis = 60 * SECOND;
/// A mebibyte, in bytes.
pub const MIB: i64 = 1 << 20;
/// A gibibyte, in bytes.
pub const GIB: i64 = 1 << 30;

/// The node group: the shape of its nodes, its size limits and its provisioning delay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeGroupSpec {
    /// Allocatable CPU per node, millicores (> 0).
    pub cpu_millis: i64,
    /// Allocatable memory per node, bytes (> 0).
    pub memory_bytes: i64,
    /// Pods per node (the kubelet's `--max-pods`, 110 by default; > 0).
    pub max_pods: u32,
    /// The group's minimum size: scale-down never goes below it.
    pub min_nodes: u32,
    /// The group's maximum size (>= 1): scale-up never goes above it.
    pub max_nodes: u32,
    /// Nodes that exist, Ready, when the cluster is built (within `[min_nodes, max_nodes]`).
    pub initial_nodes: u32,
    /// From the scale-up to the node being Ready (>= 0, at most the config's
    /// `max_node_provision_time_ms`).
    pub provision_delay_ms: Millis,
    /// Price of one node for one hour, billed from the scale-up to the removal (>= 0).
    pub price_hour: f64,
}

impl Default for NodeGroupSpec {
    /// A 2 vCPU / 8 GiB node at $0.096 per hour, 1 to 10 nodes, 120 s to provision.
    fn default() -> Self {
        NodeGroupSpec {
            cpu_millis: 2000,
            memory_bytes: 8 * GIB,
            max_pods: 110,
            min_nodes: 1,
            max_nodes: 10,
            initial_nodes: 1,
            provision_delay_ms: 120 * SECOND,
            price_hour: 0.096,
        }
    }
}

/// The cluster autoscaler's flags that this model uses (defaults: the FAQ's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterAutoscalerConfig {
    /// `--scan-interval`: time between two scans (> 0; 10 s).
    pub scan_interval_ms: Millis,
    /// `--scale-down-enabled` (true).
    pub scale_down_enabled: bool,
    /// `--scale-down-utilization-threshold`, in [0, 1] (0.5): a node is a scale-down candidate
    /// only if the larger of its CPU and memory utilization (requests / allocatable) is below.
    pub scale_down_utilization_threshold: f64,
    /// `--scale-down-unneeded-time` (10 min).
    pub scale_down_unneeded_time_ms: Millis,
    /// `--scale-down-delay-after-add` (10 min).
    pub scale_down_delay_after_add_ms: Millis,
    /// `--scale-down-delay-after-delete` (0 s).
    pub scale_down_delay_after_delete_ms: Millis,
    /// `--max-node-provision-time` (15 min): bounds the node group's provisioning delay.
    pub max_node_provision_time_ms: Millis,
    /// `--max-nodes-per-scaleup` (>= 1; 1000): the estimator's node limit.
    pub max_nodes_per_scale_up: u32,
    /// `--max-scale-down-parallelism` (>= 1; 10): nodes removed in one scan.
    pub max_scale_down_parallelism: u32,
    /// `--max-drain-parallelism` (>= 1; 1): non-empty nodes removed in one scan.
    pub max_drain_parallelism: u32,
}

impl Default for ClusterAutoscalerConfig {
    fn default() -> Self {
        ClusterAutoscalerConfig {
            scan_interval_ms: 10 * SECOND,
            scale_down_enabled: true,
            scale_down_utilization_threshold: 0.5,
            scale_down_unneeded_time_ms: 10 * MINUTE,
            scale_down_delay_after_add_ms: 10 * MINUTE,
            scale_down_delay_after_delete_ms: 0,
            max_node_provision_time_ms: 15 * MINUTE,
            max_nodes_per_scale_up: 1000,
            max_scale_down_parallelism: 10,
            max_drain_parallelism: 1,
        }
    }
}

/// A node's identity: nodes are numbered from 0 in creation order and never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u64);

/// Where a pod is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Bound to a Ready node: its start-up may begin.
    Scheduled(NodeId),
    /// Waiting for room (Kubernetes' `Pending` phase with `PodScheduled=False`).
    Pending,
}

/// What happened during a [`Cluster::step`], in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterEvent {
    /// A scan asked the cloud for `nodes` new nodes.
    ScaleUp {
        /// How many.
        nodes: u32,
    },
    /// A provisioned node became Ready.
    NodeReady {
        /// Which.
        node: NodeId,
    },
    /// A pending pod was bound to a node: its start-up may begin.
    PodScheduled {
        /// The pod.
        id: u64,
        /// Its node.
        node: NodeId,
    },
    /// A pod was evicted from a node being removed; it has left the cluster, and the caller
    /// recreates it (with [`Cluster::add_pod`]) if its workload still wants it.
    PodEvicted {
        /// The pod.
        id: u64,
    },
    /// A node was removed (after its pods were evicted).
    NodeRemoved {
        /// Which.
        node: NodeId,
    },
}

/// One node, as seen from outside.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeView {
    /// Its identity.
    pub id: NodeId,
    /// Ready (else still provisioning).
    pub ready: bool,
    /// Sum of its pods' CPU requests, millicores.
    pub cpu_millis_used: i64,
    /// Sum of its pods' memory requests, bytes.
    pub memory_bytes_used: i64,
    /// Its pods.
    pub pods: u32,
    /// Since when the autoscaler has found it unneeded, if it does.
    pub unneeded_since: Option<Millis>,
}

/// Counters and gauges, read at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ClusterStats {
    /// Ready nodes.
    pub nodes_ready: u32,
    /// Nodes being provisioned.
    pub nodes_provisioning: u32,
    /// Pods bound to a node.
    pub pods_scheduled: u32,
    /// Pods waiting (including the never-schedulable ones).
    pub pods_pending: u32,
    /// Pending pods that request more than a node's allocatable: never schedulable.
    pub pods_unschedulable: u32,
    /// Billed node time (provisioning or Ready) integrated up to the time asked, ms.
    pub node_millis: i64,
    /// Scans that provisioned nodes.
    pub scale_ups: u32,
    /// Nodes provisioned.
    pub nodes_added: u32,
    /// Scans that removed nodes.
    pub scale_downs: u32,
    /// Nodes removed.
    pub nodes_removed: u32,
    /// Pods evicted from removed nodes.
    pub pods_evicted: u32,
}

impl ClusterStats {
    /// Billed node-hours.
    pub fn node_hours(&self) -> f64 {
        self.node_millis as f64 / (3600.0 * SECOND as f64)
    }
}

/// A pod's requests, a node's usage or a node's allocatable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Load {
    cpu: i64,
    mem: i64,
    pods: u32,
}

/// The node pool and its cluster autoscaler.
///
/// State changes happen only in calls: [`Cluster::add_pod`] and [`Cluster::remove_pod`] place
/// and free pods; [`Cluster::step`] makes provisioned nodes Ready, schedules pending pods and
/// runs a scan when one is due. Call `step` at [`Cluster::next_wake`]. Times passed in must not
/// go backwards; an earlier time is treated as the latest one seen.
#[derive(Debug, Clone)]
pub struct Cluster {
    spec: NodeGroupSpec,
    config: ClusterAutoscalerConfig,
    pool: pool::Pool,
    next_scan: Option<Millis>,
    last_scale_up: Option<Millis>,
    last_delete: Option<Millis>,
    stats: ClusterStats,
    packer: Binpacker,
    planner: scaledown::Planner,
    groups: Vec<PodGroup>,
}

impl Cluster {
    /// A cluster of `spec.initial_nodes` Ready nodes, or why the spec or config is invalid.
    pub fn new(spec: NodeGroupSpec, config: ClusterAutoscalerConfig) -> Result<Self, String> {
        check_spec(&spec, &config)?;
        check_config(&config)?;
        let shape = NodeShape {
            cpu_millis: spec.cpu_millis,
            memory_bytes: spec.memory_bytes,
            max_pods: spec.max_pods,
        };
        Ok(Cluster {
            pool: pool::Pool::new(shape, spec.initial_nodes),
            spec,
            config,
            next_scan: None,
            last_scale_up: None,
            last_delete: None,
            stats: ClusterStats::default(),
            packer: Binpacker::default(),
            planner: scaledown::Planner::default(),
            groups: Vec::new(),
        })
    }

    /// Adds pod `id` with its requests at `now`: bound to the first Ready node with room, or
    /// Pending. Errors (and changes nothing) on negative requests or an `id` already present.
    pub fn add_pod(
        &mut self,
        id: u64,
        cpu_millis: i64,
        memory_bytes: i64,
        now: Millis,
    ) -> Result<Placement, String> {
        if cpu_millis < 0 || memory_bytes < 0 {
            return Err(format!(
                "pod {id}: requests must be >= 0, not {cpu_millis} m / {memory_bytes} bytes"
            ));
        }
        if self.pool.pod(id).is_some() {
            return Err(format!("pod {id} is already in the cluster"));
        }
        self.pool.advance(now);
        Ok(self.pool.add_pod(id, cpu_millis, memory_bytes))
    }

    /// Removes pod `id` (scheduled or pending) at `now`; false if it is not in the cluster.
    /// The room it frees goes to pending pods at the next [`Cluster::step`].
    pub fn remove_pod(&mut self, id: u64, now: Millis) -> bool {
        self.pool.advance(now);
        self.pool.remove_pod(id)
    }

    /// Advances to `now`: nodes whose provisioning delay has passed become Ready, pending pods
    /// are scheduled where they fit, and a scan runs if one is due (the first call always
    /// scans). Appends what happened to `out`.
    pub fn step(&mut self, now: Millis, out: &mut Vec<ClusterEvent>) {
        let now = self.pool.advance(now);
        self.pool.make_ready(now, out);
        self.pool.schedule_pending(out);
        if self.next_scan.is_none_or(|t| now >= t) {
            self.next_scan = Some(now + self.config.scan_interval_ms);
            self.scan(now, out);
            // A zero provisioning delay: the new nodes are Ready at once.
            self.pool.make_ready(now, out);
            self.pool.schedule_pending(out);
        }
    }

    /// When [`Cluster::step`] next has something to do: the next scan or the next node to
    /// become Ready, whichever is first (`now` if a step is overdue).
    pub fn next_wake(&self, now: Millis) -> Millis {
        let scan = self.next_scan.unwrap_or(now);
        self.pool
            .next_ready()
            .map_or(scan, |r| r.min(scan))
            .max(now)
    }

    /// Where pod `id` is, if it is in the cluster.
    pub fn pod(&self, id: u64) -> Option<Placement> {
        self.pool.pod(id)
    }

    /// The nodes, in creation order.
    pub fn nodes(&self) -> impl Iterator<Item = NodeView> + '_ {
        self.pool.views()
    }

    /// Counters and gauges, with the billed node time integrated up to `now`.
    pub fn stats(&self, now: Millis) -> ClusterStats {
        let mut s = self.stats;
        self.pool.fill_stats(now, &mut s);
        s
    }

    /// The node bill up to `now`: node-hours times the group's hourly price.
    pub fn cost(&self, now: Millis) -> f64 {
        self.stats(now).node_hours() * self.spec.price_hour
    }

    /// The node group's spec.
    pub fn spec(&self) -> &NodeGroupSpec {
        &self.spec
    }

    /// One autoscaler loop: a scale-up if pending pods need one, otherwise the scale-down.
    fn scan(&mut self, now: Millis, out: &mut Vec<ClusterEvent>) {
        if self.scale_up(now, out) || !self.config.scale_down_enabled {
            return;
        }
        let candidates = self.planner.update_unneeded(
            &mut self.pool,
            self.config.scale_down_utilization_threshold,
            now,
        );
        if candidates == 0 || self.in_cooldown(now) {
            return;
        }
        let (removed, evicted) = self.planner.remove_unneeded(
            &mut self.pool,
            &self.config,
            self.spec.min_nodes,
            now,
            out,
        );
        if removed > 0 {
            self.last_delete = Some(now);
            self.stats.scale_downs += 1;
            self.stats.nodes_removed += removed;
            self.stats.pods_evicted += evicted;
        }
    }

    /// Provisions nodes for the pending pods that fit on no upcoming node; true if it did.
    fn scale_up(&mut self, now: Millis, out: &mut Vec<ClusterEvent>) -> bool {
        self.pool.unhelped_groups(&mut self.groups);
        let room = self.spec.max_nodes.saturating_sub(self.pool.len());
        let limit = room.min(self.config.max_nodes_per_scale_up);
        if self.groups.is_empty() || limit == 0 {
            return false;
        }
        let estimate = self
            .packer
            .estimate(&self.groups, &self.pool.shape(), limit);
        if estimate.nodes == 0 {
            return false;
        }
        let ready_at = now + self.spec.provision_delay_ms;
        self.pool.provision(estimate.nodes, ready_at);
        out.push(ClusterEvent::ScaleUp {
            nodes: estimate.nodes,
        });
        self.last_scale_up = Some(now);
        self.stats.scale_ups += 1;
        self.stats.nodes_added += estimate.nodes;
        true
    }

    /// `static_autoscaler.go`'s `isScaleDownInCooldown` (global delays).
    fn in_cooldown(&self, now: Millis) -> bool {
        let after = |last: Option<Millis>, delay: Millis| last.is_some_and(|t| t + delay > now);
        after(
            self.last_scale_up,
            self.config.scale_down_delay_after_add_ms,
        ) || after(
            self.last_delete,
            self.config.scale_down_delay_after_delete_ms,
        )
    }
}

fn check_spec(s: &NodeGroupSpec, c: &ClusterAutoscalerConfig) -> Result<(), String> {
    if s.cpu_millis <= 0 {
        return Err(format!("cpu_millis must be > 0, not {}", s.cpu_millis));
    }
    if s.memory_bytes <= 0 {
        return Err(format!("memory_bytes must be > 0, not {}", s.memory_bytes));
    }
    if s.max_pods == 0 {
        return Err("max_pods must be > 0".into());
    }
    if s.max_nodes == 0 {
        return Err("max_nodes must be >= 1".into());
    }
    if s.min_nodes > s.max_nodes {
        return Err(format!(
            "min_nodes ({}) must be <= max_nodes ({})",
            s.min_nodes, s.max_nodes
        ));
    }
    if !(s.min_nodes..=s.max_nodes).contains(&s.initial_nodes) {
        return Err(format!(
            "initial_nodes ({}) must be within [min_nodes, max_nodes] = [{}, {}]",
            s.initial_nodes, s.min_nodes, s.max_nodes
        ));
    }
    if !(0..=c.max_node_provision_time_ms).contains(&s.provision_delay_ms) {
        return Err(format!(
            "provision_delay_ms must be within [0, max_node_provision_time_ms = {}], not {}",
            c.max_node_provision_time_ms, s.provision_delay_ms
        ));
    }
    if !(s.price_hour.is_finite() && s.price_hour >= 0.0) {
        return Err(format!(
            "price_hour must be finite and >= 0, not {}",
            s.price_hour
        ));
    }
    Ok(())
}

fn check_config(c: &ClusterAutoscalerConfig) -> Result<(), String> {
    if c.scan_interval_ms <= 0 {
        return Err(format!(
            "scan_interval_ms must be > 0, not {}",
            c.scan_interval_ms
        ));
    }
    if !(0.0..=1.0).contains(&c.scale_down_utilization_threshold) {
        return Err(format!(
            "scale_down_utilization_threshold must be in [0, 1], not {}",
            c.scale_down_utilization_threshold
        ));
    }
    let times = [
        ("scale_down_unneeded_time_ms", c.scale_down_unneeded_time_ms),
        (
            "scale_down_delay_after_add_ms",
            c.scale_down_delay_after_add_ms,
        ),
        (
            "scale_down_delay_after_delete_ms",
            c.scale_down_delay_after_delete_ms,
        ),
        ("max_node_provision_time_ms", c.max_node_provision_time_ms),
    ];
    if let Some((name, v)) = times.iter().find(|(_, v)| *v < 0) {
        return Err(format!("{name} must be >= 0, not {v}"));
    }
    let counts = [
        ("max_nodes_per_scale_up", c.max_nodes_per_scale_up),
        ("max_scale_down_parallelism", c.max_scale_down_parallelism),
        ("max_drain_parallelism", c.max_drain_parallelism),
    ];
    if let Some((name, _)) = counts.iter().find(|(_, v)| *v == 0) {
        return Err(format!("{name} must be >= 1"));
    }
    Ok(())
}

/// Pods by id, for the pool; a `BTreeMap` so that any walk over them is in id order.
type Pods = BTreeMap<u64, pool::Pod>;
