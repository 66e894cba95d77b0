//! The nodes and their pods: first-fit placement (our stand-in for kube-scheduler), the
//! pending queue, and the billed node-time integral.

use super::{
    ClusterEvent, ClusterStats, Load, Millis, NodeId, NodeShape, NodeView, Placement, PodGroup,
    Pods,
};

impl Load {
    /// A pod's requests.
    pub(super) fn pod(cpu: i64, mem: i64) -> Load {
        Load { cpu, mem, pods: 1 }
    }

    pub(super) fn plus(self, o: Load) -> Load {
        Load {
            cpu: self.cpu.saturating_add(o.cpu),
            mem: self.mem.saturating_add(o.mem),
            pods: self.pods.saturating_add(o.pods),
        }
    }

    pub(super) fn minus(self, o: Load) -> Load {
        Load {
            cpu: self.cpu - o.cpu,
            mem: self.mem - o.mem,
            pods: self.pods.saturating_sub(o.pods),
        }
    }
}

/// One node.
#[derive(Debug, Clone)]
pub(super) struct Node {
    pub(super) id: NodeId,
    /// When it becomes (or became) Ready.
    pub(super) ready_at: Millis,
    pub(super) ready: bool,
    /// Sum of its pods' requests.
    pub(super) used: Load,
    /// Its pods, in binding order.
    pub(super) pods: Vec<u64>,
    /// Since when the autoscaler has found it unneeded.
    pub(super) unneeded_since: Option<Millis>,
}

/// One pod: its requests and its node, if bound.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pod {
    pub(super) req: Load,
    pub(super) node: Option<NodeId>,
}

/// Nodes (in id order), pods, the pending queue (FIFO) and the billing clock.
#[derive(Debug, Clone)]
pub(super) struct Pool {
    shape: NodeShape,
    pub(super) nodes: Vec<Node>,
    pub(super) pods: Pods,
    pending: Vec<u64>,
    next_id: u64,
    clock: Option<Millis>,
    node_millis: i64,
    /// Scratch: the upcoming nodes' simulated load during a scale-up.
    upcoming: Vec<Load>,
}

impl Pool {
    /// `initial` Ready nodes of `shape`.
    pub(super) fn new(shape: NodeShape, initial: u32) -> Pool {
        let mut pool = Pool {
            shape,
            nodes: Vec::new(),
            pods: Pods::new(),
            pending: Vec::new(),
            next_id: 0,
            clock: None,
            node_millis: 0,
            upcoming: Vec::new(),
        };
        pool.provision(initial, Millis::MIN);
        pool.nodes.iter_mut().for_each(|n| n.ready = true);
        pool
    }

    pub(super) fn shape(&self) -> NodeShape {
        self.shape
    }

    /// Nodes, Ready or provisioning.
    pub(super) fn len(&self) -> u32 {
        u32::try_from(self.nodes.len()).unwrap_or(u32::MAX)
    }

    /// Integrates billed node time up to `now` (never backwards); returns the clamped `now`.
    pub(super) fn advance(&mut self, now: Millis) -> Millis {
        let now = self.clock.map_or(now, |c| now.max(c));
        self.node_millis = self.billed_until(now);
        self.clock = Some(now);
        now
    }

    fn billed_until(&self, now: Millis) -> i64 {
        let Some(c) = self.clock else {
            return self.node_millis;
        };
        let dt = now.saturating_sub(c).max(0);
        let n = i64::from(self.len());
        self.node_millis.saturating_add(n.saturating_mul(dt))
    }

    /// Where pod `id` is.
    pub(super) fn pod(&self, id: u64) -> Option<Placement> {
        let pod = self.pods.get(&id)?;
        Some(pod.node.map_or(Placement::Pending, Placement::Scheduled))
    }

    /// The first Ready node with room for `req`.
    fn first_fit(&self, req: Load) -> Option<usize> {
        let shape = self.shape;
        self.nodes
            .iter()
            .position(|n| n.ready && shape.fits(n.used, req))
    }

    fn bind(&mut self, idx: usize, id: u64, req: Load) -> NodeId {
        let node = &mut self.nodes[idx];
        node.used = node.used.plus(req);
        node.pods.push(id);
        let node_id = node.id;
        self.pods.insert(
            id,
            Pod {
                req,
                node: Some(node_id),
            },
        );
        node_id
    }

    /// Binds a new pod to the first Ready node with room, or queues it.
    pub(super) fn add_pod(&mut self, id: u64, cpu: i64, mem: i64) -> Placement {
        let req = Load::pod(cpu, mem);
        if let Some(idx) = self.first_fit(req) {
            return Placement::Scheduled(self.bind(idx, id, req));
        }
        self.pods.insert(id, Pod { req, node: None });
        self.pending.push(id);
        Placement::Pending
    }

    /// Removes a pod, freeing its room; false if unknown.
    pub(super) fn remove_pod(&mut self, id: u64) -> bool {
        let Some(pod) = self.pods.remove(&id) else {
            return false;
        };
        match pod.node.and_then(|n| self.index_of(n)) {
            Some(idx) => {
                let node = &mut self.nodes[idx];
                node.used = node.used.minus(pod.req);
                node.pods.retain(|&p| p != id);
            }
            None => self.pending.retain(|&p| p != id),
        }
        true
    }

    pub(super) fn index_of(&self, id: NodeId) -> Option<usize> {
        self.nodes.binary_search_by_key(&id, |n| n.id).ok()
    }

    /// Adds `n` nodes that become Ready at `ready_at`.
    pub(super) fn provision(&mut self, n: u32, ready_at: Millis) {
        for _ in 0..n {
            self.nodes.push(Node {
                id: NodeId(self.next_id),
                ready_at,
                ready: false,
                used: Load::default(),
                pods: Vec::new(),
                unneeded_since: None,
            });
            self.next_id += 1;
        }
    }

    /// Provisioning nodes whose time has come become Ready.
    pub(super) fn make_ready(&mut self, now: Millis, out: &mut Vec<ClusterEvent>) {
        for n in self
            .nodes
            .iter_mut()
            .filter(|n| !n.ready && n.ready_at <= now)
        {
            n.ready = true;
            out.push(ClusterEvent::NodeReady { node: n.id });
        }
    }

    /// The earliest time a provisioning node becomes Ready.
    pub(super) fn next_ready(&self) -> Option<Millis> {
        self.nodes
            .iter()
            .filter(|n| !n.ready)
            .map(|n| n.ready_at)
            .min()
    }

    /// The scheduler: pending pods, oldest first, go to the first Ready node with room.
    pub(super) fn schedule_pending(&mut self, out: &mut Vec<ClusterEvent>) {
        let mut keep = 0;
        for k in 0..self.pending.len() {
            let id = self.pending[k];
            let Some(req) = self.pods.get(&id).map(|p| p.req) else {
                continue;
            };
            match self.first_fit(req) {
                Some(idx) => {
                    let node = self.bind(idx, id, req);
                    out.push(ClusterEvent::PodScheduled { id, node });
                }
                None => {
                    self.pending[keep] = id;
                    keep += 1;
                }
            }
        }
        self.pending.truncate(keep);
    }

    /// The pending pods a scale-up must help, as groups of equal requests (in order of first
    /// appearance): those that fit on an empty node but not on any upcoming node, the pending
    /// pods before them being packed first-fit onto the upcoming nodes (upstream injects
    /// upcoming nodes into its snapshot so that pods waiting for them trigger no new scale-up).
    pub(super) fn unhelped_groups(&mut self, groups: &mut Vec<PodGroup>) {
        groups.clear();
        self.upcoming.clear();
        let upcoming = self.nodes.iter().filter(|n| !n.ready).count();
        self.upcoming.resize(upcoming, Load::default());
        for id in &self.pending {
            let Some(req) = self.pods.get(id).map(|p| p.req) else {
                continue;
            };
            if !self.shape.fits(Load::default(), req) {
                continue; // never schedulable
            }
            let shape = self.shape;
            if let Some(bin) = self.upcoming.iter_mut().find(|b| shape.fits(**b, req)) {
                *bin = bin.plus(req);
                continue;
            }
            add_to_groups(groups, req);
        }
    }

    /// Removes the node at `idx`, evicting its pods; returns how many were evicted.
    pub(super) fn remove_node(&mut self, idx: usize, out: &mut Vec<ClusterEvent>) -> u32 {
        let node = self.nodes.remove(idx);
        for &id in &node.pods {
            self.pods.remove(&id);
            out.push(ClusterEvent::PodEvicted { id });
        }
        out.push(ClusterEvent::NodeRemoved { node: node.id });
        u32::try_from(node.pods.len()).unwrap_or(u32::MAX)
    }

    pub(super) fn views(&self) -> impl Iterator<Item = NodeView> + '_ {
        self.nodes.iter().map(|n| NodeView {
            id: n.id,
            ready: n.ready,
            cpu_millis_used: n.used.cpu,
            memory_bytes_used: n.used.mem,
            pods: n.used.pods,
            unneeded_since: n.unneeded_since,
        })
    }

    /// Fills the gauges of `s`, with billed node time up to `now`.
    pub(super) fn fill_stats(&self, now: Millis, s: &mut ClusterStats) {
        let count = |ready: bool| self.nodes.iter().filter(|n| n.ready == ready).count() as u32;
        s.nodes_ready = count(true);
        s.nodes_provisioning = count(false);
        s.pods_pending = self.pending.len() as u32;
        s.pods_scheduled = (self.pods.len() - self.pending.len()) as u32;
        s.pods_unschedulable = self
            .pending
            .iter()
            .filter_map(|id| self.pods.get(id))
            .filter(|p| !self.shape.fits(Load::default(), p.req))
            .count() as u32;
        s.node_millis = self.billed_until(now);
    }
}

/// Counts `req` in the group of equal requests, or opens one.
fn add_to_groups(groups: &mut Vec<PodGroup>, req: Load) {
    let same = |g: &&mut PodGroup| g.cpu_millis == req.cpu && g.memory_bytes == req.mem;
    match groups.iter_mut().find(same) {
        Some(g) => g.count += 1,
        None => groups.push(PodGroup {
            cpu_millis: req.cpu,
            memory_bytes: req.mem,
            count: 1,
        }),
    }
}
