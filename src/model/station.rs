//! A service station: `c` workers, FIFO or processor sharing, an optional queue bound, per-class
//! service times and queue deadlines.
//!
//! FIFO: a request starts service on a free worker or waits in a FIFO queue; when the queue is
//! full it is rejected. A request whose deadline has passed when it reaches a worker is dropped
//! as a timeout without consuming service (the client has given up).
//!
//! Processor sharing (egalitarian, `c` servers): with `n` requests present each progresses at
//! rate `min(1, c/n)`. The station keeps a virtual clock `V` that advances at that rate; a
//! request arriving at `V = v` with work `s` finishes when `V = v + s`, so the next departure is
//! the smallest finish tag. Departure events carry a generation number so superseded ones are
//! ignored (no cancellation needed).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::dist::Dist;
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

/// What happened to a request at the station, reported to the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The visit finished.
    Done(u32),
    /// The request failed here.
    Failed(u32, ErrorKind),
}

/// Static configuration of a station.
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
    /// Service time per class (index = class).
    pub service: Vec<Dist>,
}

/// A station's state.
#[derive(Debug)]
pub struct Station {
    spec: StationSpec,
    id: u32,
    rng: Rng,
    busy: u32,
    queue: VecDeque<Waiting>,
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
}

#[derive(Debug, Default)]
struct Ps {
    vtime: f64,
    tags: BinaryHeap<Reverse<(u64, u32)>>,
    generation: u64,
    last_sync: u64,
    /// The departure currently scheduled: (finish tag, request, service rate bits).
    scheduled: Option<(u64, u32, u64)>,
}

/// A waiting request.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    req: u32,
    class: u16,
    deadline: u64,
}

impl Station {
    /// A station with component index `id`, its stream seeded from `seed` and its name.
    pub fn new(spec: StationSpec, id: u32, seed: u64) -> Station {
        let rng = Rng::stream(seed, &spec.name);
        Station {
            spec,
            id,
            rng,
            busy: 0,
            queue: VecDeque::new(),
            ps: Ps::default(),
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
        let dt = (now - self.last) as f64;
        if dt > 0.0 {
            self.busy_area += dt * f64::from(self.in_service());
            self.queue_area += dt * f64::from(self.waiting());
            self.last = now;
        }
    }

    /// A request of `class` with `deadline` arrives. Pushes an outcome only on rejection.
    #[inline]
    pub fn arrive(
        &mut self,
        req: u32,
        class: u16,
        deadline: u64,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<Outcome>,
    ) {
        self.account(ctx.now().0);
        self.counts.arrivals += 1;
        match self.spec.discipline {
            Discipline::Fifo => self.arrive_fifo(req, class, deadline, ctx, out),
            Discipline::ProcessorSharing => self.arrive_ps(req, class, ctx, out),
        }
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
        ctx: &mut Ctx<'_>,
        out: &mut Vec<Outcome>,
    ) {
        if self.busy < self.spec.workers {
            self.busy += 1;
            self.start(req, class, ctx);
        } else if self.full() {
            self.counts.rejected += 1;
            out.push(Outcome::Failed(req, ErrorKind::Rejected));
        } else {
            self.counts.waited += 1;
            self.queue.push_back(Waiting {
                req,
                class,
                deadline,
            });
        }
    }

    #[inline]
    fn start(&mut self, req: u32, class: u16, ctx: &mut Ctx<'_>) {
        let s = self.spec.service[class as usize].sample_ns(&mut self.rng);
        ctx.schedule_in(
            s,
            Event {
                target: self.id,
                kind: DEPART,
                data: u64::from(req),
            },
        );
    }

    #[inline]
    fn depart_fifo(&mut self, req: u32, ctx: &mut Ctx<'_>, out: &mut Vec<Outcome>) {
        out.push(Outcome::Done(req));
        let now = ctx.now().0;
        while let Some(w) = self.queue.pop_front() {
            if now > w.deadline {
                out.push(Outcome::Failed(w.req, ErrorKind::Timeout));
                continue;
            }
            self.start(w.req, w.class, ctx);
            return;
        }
        self.busy -= 1;
    }

    fn ps_rate(&self) -> f64 {
        let n = self.ps.tags.len() as f64;
        if n == 0.0 {
            1.0
        } else {
            (f64::from(self.spec.workers) / n).min(1.0)
        }
    }

    fn ps_advance(&mut self, dt_ns: u64) {
        self.ps.vtime += dt_ns as f64 * self.ps_rate();
    }

    fn arrive_ps(&mut self, req: u32, class: u16, ctx: &mut Ctx<'_>, out: &mut Vec<Outcome>) {
        if self.full() && self.ps.tags.len() as u32 >= self.spec.workers {
            self.counts.rejected += 1;
            out.push(Outcome::Failed(req, ErrorKind::Rejected));
            return;
        }
        let work = self.spec.service[class as usize].sample_ns(&mut self.rng);
        self.ps_sync(ctx.now().0);
        let tag = (self.ps.vtime + work as f64).ceil() as u64;
        self.ps.tags.push(Reverse((tag, req)));
        self.ps_reschedule(ctx);
    }

    fn ps_sync(&mut self, now: u64) {
        let dt = now - self.ps.last_sync;
        self.ps_advance(dt);
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
            .peek()
            .map(|Reverse((tag, req))| (*tag, *req, rate.to_bits()));
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
                    kind: DEPART,
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
        if let Some(Reverse((tag, req))) = self.ps.tags.pop() {
            self.ps.vtime = self.ps.vtime.max(tag as f64);
            out.push(Outcome::Done(req));
        }
        self.ps_reschedule(ctx);
    }
}

impl Component for Station {
    type Output = Outcome;

    /// A departure event: pushes the finished request and any expired ones it dropped.
    #[inline]
    fn handle(&mut self, event: Event, ctx: &mut Ctx<'_>, out: &mut Vec<Outcome>) {
        self.account(ctx.now().0);
        match self.spec.discipline {
            Discipline::Fifo => self.depart_fifo(event.data as u32, ctx, out),
            Discipline::ProcessorSharing => self.depart_ps(event.data, ctx, out),
        }
    }
}
