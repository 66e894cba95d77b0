//! The binpacking estimator: how many new nodes of the group's shape the pending pods need.
//!
//! Upstream's `BinpackingNodeEstimator.Estimate` with the `DecreasingPodOrderer` and the
//! threshold-based limiter, on resources only (CPU, memory, pod count):
//!
//! 1. groups are sorted by score `cpu / allocatable cpu + memory / allocatable memory`,
//!    largest first (a stable sort here, so equal scores keep their order);
//! 2. for each group, its pods go first-fit onto the nodes added so far, until one does not
//!    fit; from there each pod tries only the last node added, and otherwise a new node is
//!    added (if the limiter permits) and the pod tried there;
//! 3. the group stops at the first pod that fits nowhere: on an empty last node (it fits on no
//!    node of this shape), when the limiter refuses, or on the new node itself.
//!
//! The answer counts the nodes that received a pod. A limit of 0 means no limit, as upstream.
//! Upstream's `FitsAnyNodeMatching` starts each search after the last node it chose; first-fit
//! from the first node gives the same counts for the cases ported here.

use super::Load;

/// A group of identical pods (upstream's `PodEquivalenceGroup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodGroup {
    /// CPU request per pod, millicores.
    pub cpu_millis: i64,
    /// Memory request per pod, bytes.
    pub memory_bytes: i64,
    /// How many pods.
    pub count: u32,
}

/// The shape of a node: its allocatable resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeShape {
    /// Allocatable CPU, millicores.
    pub cpu_millis: i64,
    /// Allocatable memory, bytes.
    pub memory_bytes: i64,
    /// Pods per node.
    pub max_pods: u32,
}

impl NodeShape {
    /// Whether a pod requesting `req` fits on a node of this shape already holding `used`.
    pub(super) fn fits(&self, used: Load, req: Load) -> bool {
        req.cpu <= self.cpu_millis - used.cpu
            && req.mem <= self.memory_bytes - used.mem
            && used.pods < self.max_pods
    }

    /// The decreasing orderer's score of a pod.
    fn score(&self, g: &PodGroup) -> f64 {
        let part = |req: i64, alloc: i64| {
            if alloc > 0 {
                req as f64 / alloc as f64
            } else {
                0.0
            }
        };
        part(g.cpu_millis, self.cpu_millis) + part(g.memory_bytes, self.memory_bytes)
    }
}

/// An estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Estimate {
    /// New nodes that received at least one pod.
    pub nodes: u32,
    /// Pods placed on them.
    pub pods: u32,
}

/// The estimator, with its scratch space (reused across calls, so estimating allocates only
/// when a call needs more room than any before).
#[derive(Debug, Clone, Default)]
pub struct Binpacker {
    bins: Vec<Load>,
    order: Vec<usize>,
    scheduled: Vec<u32>,
}

impl Binpacker {
    /// How many nodes of `shape` the `groups` need, adding at most `max_nodes` (0: no limit).
    pub fn estimate(&mut self, groups: &[PodGroup], shape: &NodeShape, max_nodes: u32) -> Estimate {
        self.bins.clear();
        self.order.clear();
        self.order.extend(0..groups.len());
        self.order
            .sort_by(|&a, &b| shape.score(&groups[b]).total_cmp(&shape.score(&groups[a])));
        self.scheduled.clear();
        self.scheduled.resize(groups.len(), 0);
        let mut permitted = 0;
        for k in 0..self.order.len() {
            let g = self.order[k];
            self.scheduled[g] = self.pack_group(&groups[g], shape, max_nodes, &mut permitted);
        }
        Estimate {
            nodes: self.bins.iter().filter(|b| b.pods > 0).count() as u32,
            pods: self.scheduled.iter().sum(),
        }
    }

    /// Pods of each group (in the order given to the last [`Binpacker::estimate`]) placed.
    pub fn scheduled(&self) -> &[u32] {
        &self.scheduled
    }

    /// Places one group's pods; returns how many were placed.
    fn pack_group(
        &mut self,
        g: &PodGroup,
        shape: &NodeShape,
        max: u32,
        permitted: &mut u32,
    ) -> u32 {
        let req = Load::pod(g.cpu_millis, g.memory_bytes);
        let mut placed = 0;
        // On the nodes added so far (`tryToScheduleOnExistingNodes`).
        while placed < g.count {
            let Some(bin) = self.bins.iter_mut().find(|b| shape.fits(**b, req)) else {
                break;
            };
            *bin = bin.plus(req);
            placed += 1;
        }
        // On the last node, or new ones (`tryToScheduleOnNewNodes`).
        while placed < g.count {
            if let Some(last) = self.bins.last_mut() {
                if shape.fits(*last, req) {
                    *last = last.plus(req);
                    placed += 1;
                    continue;
                }
                if last.pods == 0 {
                    break; // it fits on no node of this shape
                }
            }
            if max > 0 && *permitted >= max {
                break;
            }
            *permitted += 1;
            self.bins.push(Load::default());
            if !shape.fits(Load::default(), req) {
                break;
            }
            if let Some(last) = self.bins.last_mut() {
                *last = last.plus(req);
            }
            placed += 1;
        }
        placed
    }
}
