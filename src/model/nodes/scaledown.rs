//! Scale-down: which nodes are unneeded, since when, and which to remove now.
//!
//! Follows `core/scaledown/`: a Ready node is *unneeded* when its utilization (the larger of
//! CPU and memory requests over allocatable) is below the threshold (`eligibility.go`: `>=`
//! means needed) and all its pods can be moved to other Ready nodes in a simulation
//! (`planner.go`'s `categorizeNodes`). Candidates are tried empty first, then those already
//! unneeded, then in node order (the default candidate sorting processors); a successful
//! simulation is kept, so later candidates see the moved pods and cannot send pods to a node
//! already found unneeded. A node stays unneeded from the first scan that finds it so until a
//! scan does not (`unneeded/nodes.go`); it is removable once `since + unneeded_time < now`,
//! as long as the group stays above its minimum size. Removal takes empty nodes first (up to
//! the parallelism), then at most `max_drain_parallelism` non-empty ones.

use super::pool::{Node, Pool};
use super::{ClusterAutoscalerConfig, ClusterEvent, Load, Millis, NodeShape};

/// The scale-down planner's scratch space (indexed like the pool's nodes).
#[derive(Debug, Clone, Default)]
pub(super) struct Planner {
    order: Vec<usize>,
    /// Simulated usage of each node.
    sim: Vec<Load>,
    /// Whether a node may receive moved pods.
    dest: Vec<bool>,
    removable: Vec<bool>,
    /// Pods moved in the simulation so far: (destination node, requests).
    moved: Vec<(usize, Load)>,
    /// Moves of the candidate being simulated.
    tentative: Vec<(usize, Load)>,
    doomed: Vec<usize>,
}

/// The larger of a node's CPU and memory utilization.
pub(super) fn utilization(shape: NodeShape, used: Load) -> f64 {
    let cpu = used.cpu as f64 / shape.cpu_millis as f64;
    let mem = used.mem as f64 / shape.memory_bytes as f64;
    cpu.max(mem)
}

impl Planner {
    /// Sets every node's `unneeded_since`; returns the number of candidates (Ready nodes).
    pub(super) fn update_unneeded(
        &mut self,
        pool: &mut Pool,
        threshold: f64,
        now: Millis,
    ) -> usize {
        self.reset(pool);
        let shape = pool.shape();
        for k in 0..self.order.len() {
            let c = self.order[k];
            if utilization(shape, pool.nodes[c].used) >= threshold {
                continue;
            }
            if self.try_drain(pool, c) {
                self.removable[c] = true;
                self.dest[c] = false;
            }
        }
        for (i, node) in pool.nodes.iter_mut().enumerate() {
            node.unneeded_since = match self.removable[i] {
                true => Some(node.unneeded_since.unwrap_or(now)),
                false => None,
            };
        }
        self.order.len()
    }

    fn reset(&mut self, pool: &Pool) {
        let nodes = &pool.nodes;
        self.sim.clear();
        self.sim.extend(nodes.iter().map(|n| n.used));
        self.dest.clear();
        self.dest.extend(nodes.iter().map(|n| n.ready));
        self.removable.clear();
        self.removable.resize(nodes.len(), false);
        self.moved.clear();
        self.order.clear();
        self.order
            .extend((0..nodes.len()).filter(|&i| nodes[i].ready));
        self.order
            .sort_by_key(|&i| (nodes[i].used.pods > 0, nodes[i].unneeded_since.is_none(), i));
    }

    /// Simulates moving node `c`'s pods (its own and those moved onto it) elsewhere; keeps the
    /// moves if all fit.
    fn try_drain(&mut self, pool: &Pool, c: usize) -> bool {
        self.tentative.clear();
        let shape = pool.shape();
        let mut ok = true;
        for id in &pool.nodes[c].pods {
            let Some(req) = pool.pods.get(id).map(|p| p.req) else {
                continue;
            };
            if !self.place(shape, c, req) {
                ok = false;
                break;
            }
        }
        for m in 0..self.moved.len() {
            let (at, req) = self.moved[m];
            if ok && at == c && !self.place(shape, c, req) {
                ok = false;
            }
        }
        if !ok {
            for &(j, req) in &self.tentative {
                self.sim[j] = self.sim[j].minus(req);
            }
            return false;
        }
        self.moved.retain(|&(at, _)| at != c);
        self.moved.extend(self.tentative.iter().copied());
        true
    }

    /// First-fit of one pod onto a destination other than `from`.
    fn place(&mut self, shape: NodeShape, from: usize, req: Load) -> bool {
        let fits = |j: usize| j != from && self.dest[j] && shape.fits(self.sim[j], req);
        let Some(j) = (0..self.sim.len()).find(|&j| fits(j)) else {
            return false;
        };
        self.sim[j] = self.sim[j].plus(req);
        self.tentative.push((j, req));
        true
    }

    /// Removes the nodes unneeded for long enough, within the budgets and above `min_nodes`;
    /// returns (nodes removed, pods evicted).
    pub(super) fn remove_unneeded(
        &mut self,
        pool: &mut Pool,
        config: &ClusterAutoscalerConfig,
        min_nodes: u32,
        now: Millis,
        out: &mut Vec<ClusterEvent>,
    ) -> (u32, u32) {
        self.doomed.clear();
        let parallelism = config.max_scale_down_parallelism as usize;
        let drain = (config.max_drain_parallelism as usize).min(parallelism);
        let unneeded = config.scale_down_unneeded_time_ms;
        let removable = |n: &Node| {
            n.unneeded_since
                .is_some_and(|s| s.saturating_add(unneeded) < now)
        };
        let size = pool.len() as usize;
        let min = min_nodes as usize;
        for empty in [true, false] {
            let budget = if empty {
                parallelism
            } else {
                drain + self.doomed.len()
            };
            for (i, n) in pool.nodes.iter().enumerate() {
                let room =
                    self.doomed.len() < budget.min(parallelism) && size - self.doomed.len() > min;
                if room && (n.used.pods == 0) == empty && removable(n) {
                    self.doomed.push(i);
                }
            }
        }
        self.doomed.sort_unstable();
        let mut evicted = 0;
        for (k, &idx) in self.doomed.iter().enumerate() {
            evicted += pool.remove_node(idx - k, out);
        }
        (self.doomed.len() as u32, evicted)
    }
}
