//! A service: a set of instances (pods, database nodes, an external API's servers) behind a load
//! balancer, each instance a [`Station`] with its own workers and queue.
//!
//! ```text
//!              ┌─► instance 0 (Ready)     c workers, FIFO or PS, own queue
//!  request ─► balancer ─► instance 1 (Ready)
//!              └─✗ instance 2 (Starting: takes no work until its start-up time has passed)
//!                  instance 3 (Draining: finishes its work, takes no new work, then stops)
//! ```
//!
//! Lifecycle: `Starting -> Ready -> Draining -> Stopped`, and `Ready -> Down -> Ready` when an
//! instance crashes and restarts. Only ready instances receive work. [`Service::set_desired`]
//! grows the fleet (new instances start, taking the start-up time) or shrinks it (instances
//! still starting are cancelled first, then the highest-numbered ready ones drain). Stopped
//! slots are reused by later start-ups, so instance ids stay small.
//!
//! Cost counts instance-seconds and worker-seconds of every instance that exists (starting,
//! ready, draining or down), as a cloud bill does.
//!
//! A scenario's plain station is a service of one instance that never changes: its events,
//! random stream and statistics are exactly those of the station alone.
//!
//! Events: the low 8 bits of an event's kind are the instance's (station departures and
//! deadline checks) or the service's own (`READY`, `RESTARTED`); the bits above are the
//! instance id. The payload of lifecycle events is the instance's life number, so an event for
//! an earlier life of a reused slot is ignored.

use std::sync::Arc;

use super::balance::{Balancer, Instances, Policy};
use super::dist::Dist;
use super::station::{KIND_MASK, Outcome, Placement, Station, StationSpec, VisitCounts};
use crate::engine::{Component, Ctx, Event, Rng};
use crate::observe::{ComponentStats, ErrorKind};

/// Event kind: an instance finished starting.
const READY: u32 = 2;
/// Event kind: a crashed instance is back.
const RESTARTED: u32 = 3;

/// Static configuration of a service.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// Each instance: workers, discipline, queue bound, service times. Its name is the service's.
    pub station: StationSpec,
    /// Instances at the start (all ready).
    pub instances: u32,
    /// How requests are spread over ready instances.
    pub policy: Policy,
    /// Start-up time of an instance added during the run (image pull, boot, readiness).
    pub startup: Dist,
    /// Time from a crash to ready again.
    pub restart: Dist,
    /// Speed factor of instance `i` is `speeds[i % len]` (empty: all 1).
    pub speeds: Vec<f64>,
    /// Balancing weight of instance `i` is `weights[i % len]` (empty: its speed).
    pub weights: Vec<f64>,
}

impl ServiceSpec {
    /// A service of `instances` identical instances of `station`, round-robin, starting at once.
    pub fn plain(station: StationSpec, instances: u32) -> ServiceSpec {
        ServiceSpec {
            station,
            instances,
            policy: Policy::RoundRobin,
            startup: Dist::Constant(0.0),
            restart: Dist::Constant(0.0),
            speeds: Vec::new(),
            weights: Vec::new(),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.station.name
    }

    fn cycled(xs: &[f64], i: u32) -> f64 {
        if xs.is_empty() {
            1.0
        } else {
            xs[i as usize % xs.len()]
        }
    }

    /// Speed of instance `i`.
    pub fn speed(&self, i: u32) -> f64 {
        Self::cycled(&self.speeds, i)
    }

    /// Balancing weight of instance `i`.
    pub fn weight(&self, i: u32) -> f64 {
        if self.weights.is_empty() {
            self.speed(i)
        } else {
            Self::cycled(&self.weights, i)
        }
    }
}

/// Where an instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Started, not ready yet.
    Starting,
    /// Taking work.
    Ready,
    /// Finishing its work, taking none.
    Draining,
    /// Crashed, restarting.
    Down,
    /// Gone (its slot may be reused).
    Stopped,
}

#[derive(Debug)]
struct Instance {
    station: Station,
    state: State,
    life: u32,
    /// Changes when the instance's memory is lost (a new life, a crash): its in-process
    /// caches start cold.
    memory: u32,
    /// Busy and queue areas and visit counts at the end of the warm-up (zero for an instance
    /// created after it).
    warm: (f64, f64, VisitCounts),
    /// Time this instance existed in the measured window, ns.
    alive_ns: f64,
    /// Busy area at the previous time-series sample.
    sampled_busy: f64,
    /// When it was started (its current life), and when it last became ready, ns.
    started_at: u64,
    ready_at: u64,
    /// Busy area and visits when this life started (a reused slot keeps its station).
    start_counts: (f64, u64),
}

/// One instance as a pod autoscaler sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodView {
    /// Slot number (stable for the instance's life).
    pub slot: u32,
    /// Ready (taking traffic).
    pub ready: bool,
    /// When it was started, ns.
    pub started_at: u64,
    /// When it last became ready (or was started, if it never was), ns.
    pub ready_at: u64,
    /// Busy-worker integral so far, worker-ns.
    pub busy_area: f64,
    /// Workers.
    pub workers: u32,
    /// Visits so far.
    pub arrivals: u64,
    /// Requests in service or waiting.
    pub outstanding: u32,
    /// Requests waiting.
    pub waiting: u32,
    /// `busy_area` and `arrivals` when this life started (nonzero for a reused slot).
    pub start_counts: (f64, u64),
}

/// Counters of a service's life.
#[derive(Debug, Clone, Copy, Default)]
struct Life {
    started: u64,
    stopped: u64,
    crashes: u64,
    no_instance: u64,
    injected: u64,
}

/// Integrals over time (ns units) of instances, ready instances and provisioned workers.
#[derive(Debug, Clone, Copy, Default)]
struct Areas {
    live: f64,
    ready: f64,
    workers: f64,
    max_live: u32,
}

/// A service's state.
#[derive(Debug)]
pub struct Service {
    spec: Arc<ServiceSpec>,
    station: Arc<StationSpec>,
    id: u32,
    seed: u64,
    inst: Vec<Instance>,
    /// Outstanding requests per instance, refreshed after every change at that instance.
    load: Vec<u32>,
    ready: Vec<u32>,
    balancer: Balancer,
    lb_rng: Rng,
    life_rng: Rng,
    desired: u32,
    last: u64,
    areas: Areas,
    warm: (Areas, Life),
    life: Life,
    measuring: bool,
    fleet: bool,
    sampled: [f64; 4],
    /// Brownout: service times are multiplied by this (1: normal).
    slow: f64,
    /// Brownout: this share of visits fails at once.
    error_rate: f64,
    fault_rng: Rng,
    /// Slots whose instance is stopped (reused before new slots are made).
    stopped: u32,
    /// Work waiting for this service outside its instances (a consumer group's messages),
    /// counted in what controllers read as its queue.
    backlog: u32,
}

/// A view of the instances for the balancer: outstanding requests from the compact `load`
/// array (one cache line for 16 instances, rather than a walk over the stations).
struct View<'a> {
    load: &'a [u32],
    inst: &'a [Instance],
    spec: &'a ServiceSpec,
}

impl Instances for View<'_> {
    #[inline]
    fn outstanding(&self, i: u32) -> u32 {
        self.load[i as usize]
    }
    fn weight(&self, i: u32) -> f64 {
        self.spec.weight(i)
    }
    fn is_ready(&self, i: u32) -> bool {
        self.inst[i as usize].state == State::Ready
    }
    fn slots(&self) -> u32 {
        self.inst.len() as u32
    }
}

/// What a controller may read of a service at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Snapshot {
    /// Instances wanted.
    pub desired: u32,
    /// Ready instances.
    pub ready: u32,
    /// Instances starting.
    pub starting: u32,
    /// Requests in service or waiting, over all instances.
    pub outstanding: u32,
    /// Requests waiting, over all instances.
    pub waiting: u32,
    /// Busy-worker integral so far (worker-ns), over all instances.
    pub busy_area: f64,
    /// Visits so far.
    pub arrivals: u64,
}

impl Service {
    /// Builds service `spec` as component `id`, its streams seeded from `seed`. A `fleet`
    /// (several instances, or a changing number) also reports the spread over instances.
    pub fn new(spec: Arc<ServiceSpec>, id: u32, seed: u64, fleet: bool) -> Service {
        let name = spec.name().to_string();
        let mut s = Service {
            station: Arc::new(spec.station.clone()),
            id,
            seed,
            inst: Vec::new(),
            load: Vec::new(),
            ready: Vec::new(),
            balancer: Balancer::new(spec.policy),
            lb_rng: Rng::stream(seed, &format!("{name}.balancer")),
            life_rng: Rng::stream(seed, &format!("{name}.lifecycle")),
            desired: spec.instances,
            last: 0,
            areas: Areas::default(),
            warm: Default::default(),
            life: Life::default(),
            measuring: false,
            fleet,
            sampled: [0.0; 4],
            slow: 1.0,
            error_rate: 0.0,
            fault_rng: Rng::stream(seed, &format!("{name}.faults")),
            stopped: 0,
            backlog: 0,
            spec,
        };
        for _ in 0..s.desired {
            let i = s.new_slot();
            s.inst[i as usize].state = State::Ready;
            s.ready.push(i);
        }
        s.areas.max_live = s.desired;
        s
    }

    /// Its name.
    pub fn name(&self) -> &str {
        self.spec.name()
    }

    /// The stream of instance `i`: the service's name for instance 0 (so a one-instance service
    /// draws exactly as the plain station did), `name#i` for the others.
    fn instance_rng(&self, i: u32) -> Rng {
        if i == 0 {
            Rng::stream(self.seed, self.name())
        } else {
            Rng::stream(self.seed, &format!("{}#{i}", self.name()))
        }
    }

    /// A new slot in state `Starting`, or a stopped one reused; returns its id.
    fn new_slot(&mut self) -> u32 {
        // Counted, so that starting n instances is not a quadratic scan.
        if self.stopped > 0
            && let Some(i) = self.inst.iter().position(|x| x.state == State::Stopped)
        {
            self.stopped -= 1;
            let x = &mut self.inst[i];
            x.state = State::Starting;
            x.life += 1;
            x.memory += 1;
            return i as u32;
        }
        let i = self.inst.len() as u32;
        let at = Placement {
            id: self.id,
            tag: i << 8,
            speed: self.spec.speed(i) / self.slow,
        };
        let station = Station::new(self.station.clone(), at, self.instance_rng(i));
        self.inst.push(Instance {
            station,
            state: State::Starting,
            life: 0,
            memory: 0,
            warm: (0.0, 0.0, VisitCounts::default()),
            alive_ns: 0.0,
            sampled_busy: 0.0,
            started_at: 0,
            ready_at: 0,
            start_counts: (0.0, 0),
        });
        self.load.push(0);
        i
    }

    /// A request arrives: the balancer picks a ready instance. With none ready it fails at once
    /// ([`ErrorKind::Connection`]: nothing listens). Returns the instance and its memory epoch
    /// (`(u32::MAX, 0)` when it failed at once).
    #[inline]
    pub fn arrive(&mut self, v: Visit, ctx: &mut Ctx<'_>, out: &mut Vec<Outcome>) -> (u32, u32) {
        if self.ready.is_empty() {
            self.life.no_instance += 1;
            out.push(Outcome::Failed(v.req, ErrorKind::Connection));
            return (u32::MAX, 0);
        }
        if self.error_rate > 0.0 && self.fault_rng.next_f64() < self.error_rate {
            self.life.injected += 1;
            out.push(Outcome::Failed(v.req, ErrorKind::Failed));
            return (u32::MAX, 0);
        }
        let view = View {
            load: &self.load,
            inst: &self.inst,
            spec: &self.spec,
        };
        let i = self
            .balancer
            .pick(&self.ready, &view, v.key, v.user, &mut self.lb_rng) as usize;
        let x = &mut self.inst[i];
        x.station
            .arrive(v.req, v.class, v.deadline, v.work, ctx, out);
        self.load[i] = x.station.outstanding();
        (i as u32, x.memory)
    }

    /// Requests in service or waiting, over all instances.
    #[inline]
    pub fn outstanding(&self) -> u32 {
        self.load.iter().sum()
    }

    /// What a controller reads.
    pub fn snapshot(&mut self, now: u64) -> Snapshot {
        let mut s = Snapshot {
            desired: self.desired,
            ..Snapshot::default()
        };
        for x in &mut self.inst {
            match x.state {
                State::Ready => s.ready += 1,
                State::Starting => s.starting += 1,
                _ => {}
            }
            s.outstanding += x.station.outstanding();
            s.waiting += x.station.waiting();
            s.busy_area += x.station.areas(now).0;
            s.arrivals += x.station.counts().arrivals;
        }
        s.waiting += self.backlog;
        s.outstanding += self.backlog;
        s
    }

    /// Sets the work waiting for this service outside its instances.
    #[inline]
    pub fn set_backlog(&mut self, n: u64) {
        self.backlog = n.min(u64::from(u32::MAX)) as u32;
    }

    /// Work waiting for this service outside its instances.
    pub fn backlog(&self) -> u32 {
        self.backlog
    }

    /// A request arrives at instance `i` itself (a consumer's own work), which must be ready;
    /// else it fails at once as in [`Service::arrive`].
    pub fn arrive_at(
        &mut self,
        i: u32,
        v: Visit,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<Outcome>,
    ) -> (u32, u32) {
        if !self.is_ready(i) {
            self.life.no_instance += 1;
            out.push(Outcome::Failed(v.req, ErrorKind::Connection));
            return (u32::MAX, 0);
        }
        let x = &mut self.inst[i as usize];
        x.station
            .arrive(v.req, v.class, v.deadline, v.work, ctx, out);
        self.load[i as usize] = x.station.outstanding();
        (i, x.memory)
    }

    /// Whether instance `i` is down (crashed, restarting).
    pub fn is_down(&self, i: u32) -> bool {
        self.inst
            .get(i as usize)
            .is_some_and(|x| x.state == State::Down)
    }

    #[inline]
    fn account(&mut self, now: u64) {
        let dt = now.saturating_sub(self.last) as f64;
        if dt <= 0.0 {
            return;
        }
        let (mut live, mut workers) = (0u32, 0u32);
        for x in &mut self.inst {
            if x.state != State::Stopped {
                live += 1;
                workers += x.station.workers();
                if self.measuring {
                    x.alive_ns += dt;
                }
            }
        }
        self.areas.live += dt * f64::from(live);
        self.areas.ready += dt * self.ready.len() as f64;
        self.areas.workers += dt * f64::from(workers);
        self.last = now;
    }

    fn live(&self) -> u32 {
        self.inst
            .iter()
            .filter(|x| !matches!(x.state, State::Stopped | State::Draining))
            .count() as u32
    }

    /// Sets the number of instances wanted: starts new ones (ready after their start-up time)
    /// or removes some (cancelling start-ups first, then draining the highest-numbered ready
    /// instances). Instances that are down count as wanted: they are restarting.
    pub fn set_desired(&mut self, n: u32, ctx: &mut Ctx<'_>) {
        let now = ctx.now().0;
        self.account(now);
        self.desired = n;
        let mut live = self.live();
        while live < n {
            self.start_instance(ctx);
            live += 1;
        }
        while live > n {
            let Some(i) = self.victim() else { break };
            self.retire(i, now);
            live -= 1;
        }
        let now_live = self
            .inst
            .iter()
            .filter(|x| x.state != State::Stopped)
            .count() as u32;
        self.areas.max_live = self.areas.max_live.max(now_live);
    }

    fn start_instance(&mut self, ctx: &mut Ctx<'_>) {
        let i = self.new_slot();
        let now = ctx.now().0;
        let x = &mut self.inst[i as usize];
        (x.started_at, x.ready_at) = (now, now);
        x.start_counts = (x.station.areas(now).0, x.station.counts().arrivals);
        self.life.started += 1;
        let delay = self.spec.startup.sample_ns(&mut self.life_rng);
        let x = &self.inst[i as usize];
        ctx.schedule_in(
            delay,
            Event {
                target: self.id,
                kind: (i << 8) | READY,
                data: u64::from(x.life),
            },
        );
    }

    /// The instance to remove next: the newest one still starting, else the highest-numbered
    /// ready one.
    fn victim(&self) -> Option<u32> {
        let last = |st: State| self.inst.iter().rposition(|x| x.state == st);
        last(State::Starting)
            .or_else(|| last(State::Ready))
            .or_else(|| last(State::Down))
            .map(|i| i as u32)
    }

    fn retire(&mut self, i: u32, now: u64) {
        self.unready(i);
        let x = &mut self.inst[i as usize];
        x.station.areas(now);
        if x.state == State::Ready && x.station.outstanding() > 0 {
            x.state = State::Draining;
        } else {
            x.state = State::Stopped;
            self.stopped += 1;
            self.life.stopped += 1;
        }
    }

    fn unready(&mut self, i: u32) {
        if let Some(k) = self.ready.iter().position(|r| *r == i) {
            self.ready.remove(k);
        }
    }

    fn make_ready(&mut self, i: u32) {
        self.inst[i as usize].state = State::Ready;
        self.inst[i as usize].ready_at = self.last;
        let k = self.ready.partition_point(|r| *r < i);
        self.ready.insert(k, i);
    }

    /// Crashes ready instance `i` (or the lowest-numbered ready one when `i` is `None`): its
    /// requests fail, and it is ready again after the restart time. Returns the instance.
    pub fn crash(
        &mut self,
        i: Option<u32>,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<Outcome>,
    ) -> Option<u32> {
        if self.ready.is_empty() {
            return None;
        }
        let delay = self.spec.restart.sample_ns(&mut self.life_rng);
        self.crash_for(i, delay, ctx, out)
    }

    /// As [`Service::crash`], ready again after `delay` ns (a repair time drawn by the
    /// caller).
    pub fn crash_for(
        &mut self,
        i: Option<u32>,
        delay: u64,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<Outcome>,
    ) -> Option<u32> {
        let i = i
            .filter(|i| self.ready.contains(i))
            .or(self.ready.first().copied())?;
        self.account(ctx.now().0);
        self.unready(i);
        self.life.crashes += 1;
        let x = &mut self.inst[i as usize];
        x.state = State::Down;
        x.memory += 1;
        x.station.fail(ctx, out);
        self.load[i as usize] = 0;
        ctx.schedule_in(
            delay,
            Event {
                target: self.id,
                kind: (i << 8) | RESTARTED,
                data: u64::from(x.life),
            },
        );
        Some(i)
    }

    /// A brownout: from now on service times are `factor` times longer (1: back to normal).
    /// Work already in service keeps its service time.
    pub fn set_slow(&mut self, factor: f64) {
        self.slow = factor;
        for (i, x) in self.inst.iter_mut().enumerate() {
            x.station.set_speed(self.spec.speed(i as u32) / factor);
        }
    }

    /// A brownout: from now on a share `p` of visits fails at once with
    /// [`ErrorKind::Failed`] (an outage at 1; 0: back to normal).
    pub fn set_error_rate(&mut self, p: f64) {
        self.error_rate = p;
    }

    /// The instances that exist (starting, ready, draining, down), as a pod autoscaler sees
    /// them.
    pub fn pod_views(&mut self, now: u64) -> Vec<PodView> {
        self.inst
            .iter_mut()
            .enumerate()
            .filter(|(_, x)| x.state != State::Stopped)
            .map(|(i, x)| PodView {
                slot: i as u32,
                ready: x.state == State::Ready,
                started_at: x.started_at,
                ready_at: x.ready_at,
                busy_area: x.station.areas(now).0,
                workers: x.station.workers(),
                arrivals: x.station.counts().arrivals,
                outstanding: x.station.outstanding(),
                waiting: x.station.waiting(),
                start_counts: x.start_counts,
            })
            .collect()
    }

    /// Workers of each instance.
    pub fn workers_per_instance(&self) -> u32 {
        self.station.workers
    }

    /// Instances wanted.
    pub fn desired(&self) -> u32 {
        self.desired
    }

    /// The instance slots (for a controller that acts on each instance).
    pub fn slots(&self) -> u32 {
        self.inst.len() as u32
    }

    /// The memory epoch of instance `i` while it lives (starting, ready or draining); `None`
    /// once it is down or stopped. What it held in memory (caches, open connections) belongs
    /// to that epoch.
    pub fn memory(&self, i: u32) -> Option<u32> {
        self.inst.get(i as usize).and_then(|x| {
            matches!(x.state, State::Starting | State::Ready | State::Draining).then_some(x.memory)
        })
    }

    /// Whether instance `i` is ready.
    pub fn is_ready(&self, i: u32) -> bool {
        self.inst
            .get(i as usize)
            .is_some_and(|x| x.state == State::Ready)
    }

    /// Starts measuring: everything before `now` is warm-up.
    pub fn mark_warm(&mut self, now: u64) {
        self.account(now);
        self.measuring = true;
        self.warm = (self.areas, self.life);
        for x in &mut self.inst {
            let (busy, queue) = x.station.areas(now);
            x.warm = (busy, queue, x.station.counts());
        }
    }

    /// Time-series gauges of the bucket that ends at `now`, `width` ns wide: busy workers,
    /// waiting requests, instances (time averages); for a fleet also ready instances and the
    /// spread of utilization over the instances ready at `now` (max / mean; 1 is even).
    pub fn sample(&mut self, now: u64, width: f64, out: &mut Vec<f64>) {
        self.account(now);
        let (mut busy, mut queue) = (0.0, 0.0);
        let (mut umax, mut usum, mut n) = (0.0_f64, 0.0, 0u32);
        for x in &mut self.inst {
            let (b, q) = x.station.areas(now);
            busy += b;
            queue += q;
            if x.state == State::Ready {
                let u = (b - x.sampled_busy) / width / f64::from(x.station.workers());
                umax = umax.max(u);
                usum += u;
                n += 1;
            }
            x.sampled_busy = b;
        }
        let cur = [busy, queue, self.areas.live, self.areas.ready];
        let shown = if self.fleet { 4 } else { 3 };
        for (c, p) in cur.iter().zip(&self.sampled).take(shown) {
            out.push((c - p) / width);
        }
        if self.fleet {
            out.push(if usum > 0.0 {
                umax * f64::from(n) / usum
            } else {
                1.0
            });
        }
        self.sampled = cur;
    }

    /// Names of the gauges [`Service::sample`] pushes, in order: `busy.NAME`, `queue.NAME`,
    /// `instances.NAME`, and for a fleet `ready.NAME` and `spread.NAME`.
    pub fn gauge_names(&self) -> Vec<String> {
        let n = self.name();
        let mut v = vec![
            format!("busy.{n}"),
            format!("queue.{n}"),
            format!("instances.{n}"),
        ];
        if self.fleet {
            v.push(format!("ready.{n}"));
            v.push(format!("spread.{n}"));
        }
        v
    }

    /// The measured-window statistics, at the end of the run `end`.
    pub fn stats(&mut self, end: u64, window_ns: f64) -> ComponentStats {
        self.account(end);
        let (wa, wl) = self.warm;
        let mut st = ComponentStats {
            name: self.name().to_string(),
            kind: "service",
            ..ComponentStats::default()
        };
        let (mut busy, mut queue) = (0.0, 0.0);
        let mut per: Vec<(f64, f64)> = Vec::new();
        for x in &mut self.inst {
            let (b, q) = x.station.areas(end);
            let c = x.station.counts();
            let (b, q, w) = (b - x.warm.0, q - x.warm.1, x.warm.2);
            busy += b;
            queue += q;
            st.arrivals += c.arrivals - w.arrivals;
            st.waited += c.waited - w.waited;
            st.rejected += c.rejected - w.rejected;
            st.expired += c.expired - w.expired;
            if x.alive_ns > 0.0 {
                let u = b / (x.alive_ns * f64::from(x.station.workers()));
                per.push((u, (c.arrivals - w.arrivals) as f64));
            }
        }
        let workers_area = self.areas.workers - wa.workers;
        st.utilization = if workers_area > 0.0 {
            busy / workers_area
        } else {
            0.0
        };
        st.mean_queue = queue / window_ns;
        st.workers = workers_area / window_ns;
        let m = |k: &str, v: f64| (k.to_string(), v);
        let spread = |f: fn(&(f64, f64)) -> f64| {
            let sum: f64 = per.iter().map(f).sum();
            let max = per.iter().map(f).fold(0.0, f64::max);
            if sum > 0.0 {
                max * per.len() as f64 / sum
            } else {
                1.0
            }
        };
        st.metrics = vec![
            m("instances_mean", (self.areas.live - wa.live) / window_ns),
            m("instances_max", f64::from(self.areas.max_live)),
            m("ready_mean", (self.areas.ready - wa.ready) / window_ns),
            m("workers_mean", st.workers),
            m("instance_seconds", (self.areas.live - wa.live) / 1e9),
            m("requests", st.arrivals as f64),
            m("utilization_max_over_mean", spread(|p| p.0)),
            m("requests_max_over_mean", spread(|p| p.1)),
            m("started", (self.life.started - wl.started) as f64),
            m("crashes", (self.life.crashes - wl.crashes) as f64),
            m(
                "no_instance",
                (self.life.no_instance - wl.no_instance) as f64,
            ),
            m("injected_errors", (self.life.injected - wl.injected) as f64),
        ];
        st
    }
}

/// One visit to a service: the request and what a balancer may read of it.
#[derive(Debug, Clone, Copy)]
pub struct Visit {
    /// Request slot.
    pub req: u32,
    /// Class index (selects the service time).
    pub class: u16,
    /// Absolute deadline, ns.
    pub deadline: u64,
    /// Request key.
    pub key: u64,
    /// Closed-loop user, or `u32::MAX`.
    pub user: u32,
    /// Work on top of the class's service time, ns (a query's rows; 0 for most visits).
    pub work: u64,
}

impl Component for Service {
    type Output = Outcome;

    /// Station events of an instance, and the service's lifecycle events.
    #[inline]
    fn handle(&mut self, event: Event, ctx: &mut Ctx<'_>, out: &mut Vec<Outcome>) {
        let i = event.kind >> 8;
        let x = &mut self.inst[i as usize];
        match event.kind & KIND_MASK {
            READY => {
                if x.state == State::Starting && u64::from(x.life) == event.data {
                    self.account(ctx.now().0);
                    self.make_ready(i);
                }
            }
            RESTARTED => {
                if x.state == State::Down && u64::from(x.life) == event.data {
                    self.account(ctx.now().0);
                    self.make_ready(i);
                }
            }
            _ => {
                x.station.handle(event, ctx, out);
                self.load[i as usize] = x.station.outstanding();
                if x.state == State::Draining && x.station.outstanding() == 0 {
                    self.account(ctx.now().0);
                    self.inst[i as usize].state = State::Stopped;
                    self.stopped += 1;
                    self.life.stopped += 1;
                }
            }
        }
    }
}
