//! A service station: `c` workers, FIFO or processor sharing, an optional queue bound, per-class
//! service times and queue deadlines.
//!
//! FIFO: a request starts service on a free worker or waits in a FIFO queue; when the queue is
//! full it is rejected. A request whose deadline has passed when it reaches a worker is dropped
//! as a timeout without consuming service (the client has given up).
//!
//! Processor sharing honours deadlines too: a request whose deadline passes is dropped as a
//! timeout at that moment, and its share of the servers goes to the others.
//!
//! A station is one instance of a service ([`super::service`]): the service places it (event
//! target, a tag in the event kinds, a speed factor), and can crash it.
//!
//! Processor sharing (egalitarian, `c` servers): with `n` requests present each progresses at
//! rate `min(1, c/n)`. The station keeps a virtual clock `V` that advances at that rate; a
//! request arriving at `V = v` with work `s` finishes when `V = v + s`, so the next departure is
//! the smallest finish tag. Departure events carry a generation number so superseded ones are
//! ignored (no cancellation needed).
//!
//! Contention (processor sharing only): a database slows down as it runs more queries at once
//! (lock waits, context switches, cache-line traffic). With [`Contention`] `(σ, κ)` each
//! request progresses at rate `min(1, c/n) / (1 + σ(n-1) + κn(n-1))`, so the throughput of `n`
//! requests that never stop arriving is Gunther's universal scalability law capped at `c`
//! cores: `X(n) = min(n, c) / (S (1 + σ(n-1) + κn(n-1)))`. It rises almost linearly to `c`, peaks
//! near `min(c, sqrt((1-σ)/κ))`, then falls: past the knee, more concurrency (a bigger
//! connection pool) buys less throughput and more latency. `(0, 0)` is plain processor
//! sharing.
//!
//! A visit may carry extra work (ns) on top of its class's service time: a query whose cost
//! depends on the rows it reads ([`super::program::QuerySpec`]).

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};
use std::sync::Arc;

use super::dist::Dist;
use super::resilience::codel::Codel;
use crate::engine::{Component, Ctx, Event, Rng};
use crate::observe::ErrorKind;

/// Queueing discipline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discipline {
    /// First come, first served on `c` workers.
    Fifo,
    /// Egalitarian processor sharing over `c` workers.
    ProcessorSharing,
}

/// Event kind: a service completion.
pub const DEPART: u32 = 0;
/// Event kind: a PS deadline check.
pub const EXPIRE: u32 = 1;
/// The bits of an event kind that a station reads; the rest is its owner's tag.
pub const KIND_MASK: u32 = 0xff;

/// What happened to a request at the station, reported to the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The visit finished.
    Done(u32),
    /// The request failed here.
    Failed(u32, ErrorKind),
}

/// Static configuration of a station (of each instance of a service).
#[derive(Debug, Clone)]
pub struct StationSpec {
    /// Name (also the random stream name).
    pub name: String,
    /// Number of workers (>= 1).
    pub workers: u32,
    /// Discipline.
    pub discipline: Discipline,
    /// Maximum number waiting (not in service); `None` is unbounded.
    pub queue_capacity: Option<u32>,
    /// Load shedding beyond the queue bound (FIFO only).
    pub shed: Shed,
    /// Service time per class (index = class).
    pub service: Vec<Dist>,
    /// Contention and coherency coefficients (processor sharing only).
    pub contention: Contention,
}

/// The universal scalability law's coefficients: `sigma` (contention: the serialized share)
/// and `kappa` (coherency: the pairwise crosstalk).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Contention {
    /// σ >= 0.
    pub sigma: f64,
    /// κ >= 0.
    pub kappa: f64,
}

impl Contention {
    /// The slowdown with `n` requests present: `1 + σ(n-1) + κn(n-1)`.
    #[inline]
    pub fn slowdown(&self, n: f64) -> f64 {
        1.0 + self.sigma * (n - 1.0) + self.kappa * n * (n - 1.0)
    }

    /// Throughput of `n` requests kept present at a station of `c` servers, in units of one
    /// server's service rate: `min(n, c) / slowdown(n)`.
    pub fn throughput(&self, n: f64, c: f64) -> f64 {
        if n <= 0.0 {
            0.0
        } else {
            n.min(c) / self.slowdown(n)
        }
    }
}

/// Load shedding at a FIFO station: a bound on the waiting requests per class (shed browse
/// before purchase), and CoDel on queueing delay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shed {
    /// Per class (index = class): refuse the class's arrivals once this many wait.
    pub class_limit: Vec<Option<u32>>,
    /// CoDel's `(target, interval)`, ns.
    pub codel: Option<(u64, u64)>,
}

/// A station's state.
#[derive(Debug)]
pub struct Station {
    spec: Arc<StationSpec>,
    id: u32,
    tag: u32,
    speed: f64,
    rng: Rng,
    busy: u32,
    epoch: u32,
    queue: VecDeque<Waiting>,
    codel: Option<Codel>,
    ps: Ps,
    last: u64,
    busy_area: f64,
    queue_area: f64,
    counts: VisitCounts,
}

/// Visit counters of a station.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisitCounts {
    /// Visits that arrived.
    pub arrivals: u64,
    /// Visits that had to wait (FIFO: no free worker on arrival).
    pub waited: u64,
    /// Visits rejected by a full queue.
    pub rejected: u64,
    /// Visits dropped because their deadline passed (FIFO: while waiting; PS: at any time).
    pub expired: u64,
}

#[derive(Debug, Default)]
struct Ps {
    vtime: f64,
    /// Present requests: (finish tag, arrival number, request).
    tags: BTreeSet<(u64, u64, u32)>,
    arrivals: u64,
    /// Deadlines of present requests (lazily deleted): (deadline, tag, arrival number, request).
    deadlines: BinaryHeap<Reverse<(u64, u64, u64, u32)>>,
    /// Time of the expiry check currently scheduled (`u64::MAX`: none).
    expiry_at: u64,
    generation: u64,
    last_sync: u64,
    /// The departure currently scheduled: (finish tag, arrival number, service rate bits).
    scheduled: Option<(u64, u64, u64)>,
}

/// A waiting request.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    req: u32,
    class: u16,
    deadline: u64,
    since: u64,
    /// Extra work, ns.
    extra: u64,
}

/// Where a station's events go and how fast it serves.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    /// Component index its events are addressed to.
    pub id: u32,
    /// Bits OR-ed into its event kinds (`instance << 8` in a service).
    pub tag: u32,
    /// Speed factor: service times are divided by it (1.0: as specified).
    pub speed: f64,
}

impl Placement {
    /// Component `id`, no tag, speed 1.
    pub fn at(id: u32) -> Placement {
        Placement {
            id,
            tag: 0,
            speed: 1.0,
        }
    }
}

impl Station {
    /// A station placed at `at`, drawing from `rng`.
    pub fn new(spec: Arc<StationSpec>, at: Placement, rng: Rng) -> Station {
        Station {
            codel: spec.shed.codel.map(|(t, i)| Codel::new(t, i)),
            spec,
            id: at.id,
            tag: at.tag,
            speed: at.speed,
            rng,
            busy: 0,
            epoch: 0,
            queue: VecDeque::new(),
            ps: Ps {
                expiry_at: u64::MAX,
                ..Ps::default()
            },
            last: 0,
            busy_area: 0.0,
            queue_area: 0.0,
            counts: VisitCounts::default(),
        }
    }

    /// Its configuration.
    pub fn spec(&self) -> &StationSpec {
        &self.spec
    }

    /// Sets the speed factor for work that starts from now on.
    pub fn set_speed(&mut self, speed: f64) {
        self.speed = speed;
    }

    /// Workers of this instance.
    pub fn workers(&self) -> u32 {
        self.spec.workers
    }

    /// Requests in service (FIFO) or present (PS, counted against `c`).
    pub fn in_service(&self) -> u32 {
        match self.spec.discipline {
            Discipline::Fifo => self.busy,
            Discipline::ProcessorSharing => (self.ps.tags.len() as u32).min(self.spec.workers),
        }
    }

    /// Requests waiting (FIFO queue, or PS requests beyond `c`).
    pub fn waiting(&self) -> u32 {
        match self.spec.discipline {
            Discipline::Fifo => self.queue.len() as u32,
            Discipline::ProcessorSharing => {
                (self.ps.tags.len() as u32).saturating_sub(self.spec.workers)
            }
        }
    }

    /// Requests present: in service plus waiting.
    #[inline]
    pub fn outstanding(&self) -> u32 {
        match self.spec.discipline {
            Discipline::Fifo => self.busy + self.queue.len() as u32,
            Discipline::ProcessorSharing => self.ps.tags.len() as u32,
        }
    }

    /// Visit counters since the start.
    pub fn counts(&self) -> VisitCounts {
        self.counts
    }

    /// Integrals of busy workers and waiting requests over time, up to `now` (ns units).
    pub fn areas(&mut self, now: u64) -> (f64, f64) {
        self.account(now);
        (self.busy_area, self.queue_area)
    }

    #[inline]
    fn account(&mut self, now: u64) {
        let dt = now.saturating_sub(self.last) as f64;
        if dt > 0.0 {
            self.busy_area += dt * f64::from(self.in_service());
            self.queue_area += dt * f64::from(self.waiting());
            self.last = now;
        }
    }

    /// A request of `class` with `deadline` arrives, bringing `extra` ns of work on top of
    /// its class's service time. Pushes an outcome only on rejection.
    #[inline]
    pub fn arrive(
        &mut self,
        req: u32,
        class: u16,
        deadline: u64,
        extra: u64,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<Outcome>,
    ) {
        self.account(ctx.now().0);
        self.counts.arrivals += 1;
        match self.spec.discipline {
            Discipline::Fifo => self.arrive_fifo(req, class, deadline, extra, ctx, out),
            Discipline::ProcessorSharing => self.arrive_ps(req, class, deadline, extra, ctx, out),
        }
    }

    /// The instance crashed: every waiting request fails now with [`ErrorKind::Connection`];
    /// requests in service fail when their service would have ended (their connection breaks;
    /// the station is empty and serving new work at once).
    pub fn fail(&mut self, ctx: &mut Ctx<'_>, out: &mut Vec<Outcome>) {
        self.account(ctx.now().0);
        for w in self.queue.drain(..) {
            out.push(Outcome::Failed(w.req, ErrorKind::Connection));
        }
        self.busy = 0;
        self.epoch = self.epoch.wrapping_add(1);
        for (_, _, req) in std::mem::take(&mut self.ps.tags) {
            out.push(Outcome::Failed(req, ErrorKind::Connection));
        }
        self.ps.deadlines.clear();
        self.ps.generation += 1;
        self.ps.scheduled = None;
    }

    fn full(&self) -> bool {
        self.spec
            .queue_capacity
            .is_some_and(|cap| self.waiting() >= cap)
    }

    #[inline]
    fn arrive_fifo(
        &mut self,
        req: u32,
        class: u16,
        deadline: u64,
        extra: u64,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<Outcome>,
    ) {
        if self.busy < self.spec.workers {
            self.busy += 1;
            self.start(req, class, extra, ctx);
        } else if self.full() || self.class_full(class) {
            self.counts.rejected += 1;
            out.push(Outcome::Failed(req, ErrorKind::Rejected));
        } else {
            self.counts.waited += 1;
            self.queue.push_back(Waiting {
                req,
                class,
                deadline,
                since: ctx.now().0,
                extra,
            });
        }
    }

    fn class_full(&self, class: u16) -> bool {
        self.spec
            .shed
            .class_limit
            .get(class as usize)
            .copied()
            .flatten()
            .is_some_and(|l| self.waiting() >= l)
    }

    /// The next waiting request, after CoDel's drops (refused as `rejected`).
    #[inline]
    fn pop(&mut self, now: u64, out: &mut Vec<Outcome>) -> Option<Waiting> {
        match &mut self.codel {
            None => self.queue.pop_front(),
            Some(c) => {
                let counts = &mut self.counts;
                c.dequeue(
                    now,
                    &mut self.queue,
                    |w| w.since,
                    |w| {
                        counts.rejected += 1;
                        out.push(Outcome::Failed(w.req, ErrorKind::Rejected));
                    },
                )
            }
        }
    }

    #[inline]
    fn work(&mut self, class: u16, extra: u64) -> u64 {
        let s = self.spec.service[class as usize]
            .sample_ns(&mut self.rng)
            .saturating_add(extra);
        if self.speed == 1.0 {
            s
        } else {
            (s as f64 / self.speed).round() as u64
        }
    }

    #[inline]
    fn start(&mut self, req: u32, class: u16, extra: u64, ctx: &mut Ctx<'_>) {
        let s = self.work(class, extra);
        ctx.schedule_in(
            s,
            Event {
                target: self.id,
                kind: self.tag | DEPART,
                data: u64::from(req) | (u64::from(self.epoch) << 32),
            },
        );
    }

    /// Starts the first waiting request whose deadline has not passed, dropping expired ones;
    /// returns whether one started.
    #[inline]
    fn start_next(&mut self, ctx: &mut Ctx<'_>, out: &mut Vec<Outcome>) -> bool {
        let now = ctx.now().0;
        while let Some(w) = self.pop(now, out) {
            if now > w.deadline {
                self.counts.expired += 1;
                out.push(Outcome::Failed(w.req, ErrorKind::Timeout));
                continue;
            }
            self.start(w.req, w.class, w.extra, ctx);
            return true;
        }
        false
    }

    #[inline]
    fn depart_fifo(&mut self, data: u64, ctx: &mut Ctx<'_>, out: &mut Vec<Outcome>) {
        let req = data as u32;
        if (data >> 32) as u32 != self.epoch {
            // Served by an instance that has since crashed: the connection broke.
            return out.push(Outcome::Failed(req, ErrorKind::Connection));
        }
        out.push(Outcome::Done(req));
        if !self.start_next(ctx, out) {
            self.busy -= 1;
        }
    }

    fn ps_rate(&self) -> f64 {
        let n = self.ps.tags.len() as f64;
        if n == 0.0 {
            1.0
        } else {
            (f64::from(self.spec.workers) / n).min(1.0) / self.spec.contention.slowdown(n)
        }
    }

    fn arrive_ps(
        &mut self,
        req: u32,
        class: u16,
        deadline: u64,
        extra: u64,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<Outcome>,
    ) {
        if self.full() && self.ps.tags.len() as u32 >= self.spec.workers {
            self.counts.rejected += 1;
            out.push(Outcome::Failed(req, ErrorKind::Rejected));
            return;
        }
        let work = self.work(class, extra);
        self.ps_sync(ctx.now().0);
        let tag = (self.ps.vtime + work as f64).ceil() as u64;
        let n = self.ps.arrivals;
        self.ps.arrivals += 1;
        self.ps.tags.insert((tag, n, req));
        if deadline != u64::MAX {
            self.ps.deadlines.push(Reverse((deadline, tag, n, req)));
            self.schedule_expiry(ctx);
        }
        self.ps_reschedule(ctx);
    }

    fn ps_sync(&mut self, now: u64) {
        let dt = now.saturating_sub(self.ps.last_sync);
        self.ps.vtime += dt as f64 * self.ps_rate();
        self.ps.last_sync = now;
    }

    /// Schedules the next departure, unless the one already scheduled is still right: same
    /// request first and same service rate (the usual case below `c` requests), which saves
    /// an event per arrival.
    fn ps_reschedule(&mut self, ctx: &mut Ctx<'_>) {
        let rate = self.ps_rate();
        let next = self
            .ps
            .tags
            .first()
            .map(|(tag, n, _)| (*tag, *n, rate.to_bits()));
        if next.is_some() && next == self.ps.scheduled {
            return;
        }
        self.ps.generation += 1;
        self.ps.scheduled = next;
        if let Some((tag, _, _)) = next {
            let remaining = (tag as f64 - self.ps.vtime).max(0.0) / rate;
            let data = self.ps.generation;
            ctx.schedule_in(
                remaining.ceil() as u64,
                Event {
                    target: self.id,
                    kind: self.tag | DEPART,
                    data,
                },
            );
        }
    }

    fn depart_ps(&mut self, generation: u64, ctx: &mut Ctx<'_>, out: &mut Vec<Outcome>) {
        if generation != self.ps.generation {
            return;
        }
        self.ps_sync(ctx.now().0);
        self.ps.scheduled = None;
        if let Some((tag, _, req)) = self.ps.tags.pop_first() {
            self.ps.vtime = self.ps.vtime.max(tag as f64);
            out.push(Outcome::Done(req));
        }
        self.ps_reschedule(ctx);
    }

    /// Schedules the check of the earliest pending deadline, unless one as early is scheduled.
    fn schedule_expiry(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(Reverse((d, ..))) = self.ps.deadlines.peek()
            && *d < self.ps.expiry_at
        {
            self.ps.expiry_at = *d;
            // Deadlines are inclusive (`now > deadline` has expired): check just after.
            ctx.schedule_at(
                crate::engine::SimTime(d.saturating_add(1)),
                Event {
                    target: self.id,
                    kind: self.tag | EXPIRE,
                    data: *d,
                },
            );
        }
    }

    /// PS: drops the requests whose deadline has passed (the client gave up; its share of the
    /// servers goes to the others).
    fn expire_ps(&mut self, at: u64, ctx: &mut Ctx<'_>, out: &mut Vec<Outcome>) {
        if at != self.ps.expiry_at {
            return;
        }
        self.ps.expiry_at = u64::MAX;
        let now = ctx.now().0;
        self.ps_sync(now);
        let mut dropped = false;
        while let Some(Reverse((d, tag, n, req))) = self.ps.deadlines.peek().copied() {
            if d >= now {
                break;
            }
            self.ps.deadlines.pop();
            if self.ps.tags.remove(&(tag, n, req)) {
                self.counts.expired += 1;
                out.push(Outcome::Failed(req, ErrorKind::Timeout));
                dropped = true;
            }
        }
        if dropped {
            self.ps_reschedule(ctx);
        }
        // Deadlines of requests that have already left are dropped now rather than each
        // waking the station later: the next check is for a request still present (about one
        // check per timeout per station instead of one per request).
        while let Some(Reverse((_, tag, n, req))) = self.ps.deadlines.peek().copied() {
            if self.ps.tags.contains(&(tag, n, req)) {
                break;
            }
            self.ps.deadlines.pop();
        }
        self.schedule_expiry(ctx);
    }
}

impl Component for Station {
    type Output = Outcome;

    /// A departure (or PS deadline) event: pushes the finished request and any expired ones.
    #[inline]
    fn handle(&mut self, event: Event, ctx: &mut Ctx<'_>, out: &mut Vec<Outcome>) {
        self.account(ctx.now().0);
        match (self.spec.discipline, event.kind & KIND_MASK) {
            (Discipline::Fifo, _) => self.depart_fifo(event.data, ctx, out),
            (Discipline::ProcessorSharing, EXPIRE) => self.expire_ps(event.data, ctx, out),
            (Discipline::ProcessorSharing, _) => self.depart_ps(event.data, ctx, out),
        }
    }
}
