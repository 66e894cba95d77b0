//! One replication of a system: components, calendar, routing and the main loop.

use super::dist::Dist;
use super::request::{NONE, Request, Requests};
use super::station::{Outcome, Station, StationSpec, VisitCounts};
use super::workload::{
    ArrivalState, Load, Mix, STREAM_ARRIVALS, STREAM_KEYS, STREAM_MIX, STREAM_THINK, Users,
};
use crate::engine::{Calendar, Component, Ctx, Event, Rng, SimTime};
use crate::observe::{ErrorKind, Recorder, RepStats, StationStats};

/// One step of a class's path.
#[derive(Debug, Clone)]
pub enum Step {
    /// Visit station `i`.
    Visit(u32),
    /// Visit these stations in parallel and continue when all are done (fork/join).
    Fork(Vec<u32>),
    /// A pure delay (network hop, external call without contention).
    Delay(Dist),
}

/// A request class.
#[derive(Debug, Clone)]
pub struct ClassSpec {
    /// Name.
    pub name: String,
    /// Steps, in order.
    pub path: Vec<Step>,
    /// Client timeout, ns.
    pub deadline: Option<u64>,
}

/// Everything needed to build one replication.
#[derive(Debug, Clone)]
pub struct SystemSpec {
    /// Stations.
    pub stations: Vec<StationSpec>,
    /// Request classes.
    pub classes: Vec<ClassSpec>,
    /// Load.
    pub load: Load,
    /// Class and key mix.
    pub mix: Mix,
    /// Total simulated time, ns (warm-up included).
    pub duration: u64,
    /// Warm-up, ns.
    pub warmup: u64,
    /// Time-series bucket width, ns.
    pub bucket: u64,
}

impl SystemSpec {
    /// Whether any component reads request keys. Stations do not (their service time does not
    /// depend on the key), so keys are drawn only for the key-aware components (caches, shard
    /// routers) and the real load generator, from their own stream.
    pub fn needs_keys(&self) -> bool {
        false
    }
}

const WORKLOAD: u32 = 0;
const ROUTER: u32 = 1;
const FIRST_STATION: u32 = 2;

const ARRIVE: u32 = 0;
const USER_WAKE: u32 = 1;
const DELAY_DONE: u32 = 0;
const SAMPLE: u32 = 1;
const WARMUP_END: u32 = 2;

/// One replication.
#[derive(Debug)]
pub struct System {
    classes: Vec<ClassSpec>,
    stations: Vec<Station>,
    reqs: Requests,
    cal: Calendar,
    rec: Recorder,
    out: Vec<Outcome>,
    arrivals: Option<ArrivalState>,
    users: Option<Users>,
    mix: Mix,
    mix_rng: Rng,
    key_rng: Rng,
    needs_keys: bool,
    think_rng: Rng,
    delay_rng: Rng,
    samples: Vec<(f64, f64)>,
    warm_areas: Vec<(f64, f64)>,
    warm_counts: Vec<VisitCounts>,
    duration: u64,
    warmup: u64,
    bucket: u64,
    events: u64,
}

impl System {
    /// Builds a replication of `spec` seeded with `seed`, scheduling its first events.
    pub fn new(spec: &SystemSpec, seed: u64) -> System {
        let stations = spec
            .stations
            .iter()
            .enumerate()
            .map(|(i, s)| Station::new(s.clone(), FIRST_STATION + i as u32, seed))
            .collect::<Vec<_>>();
        let (arrivals, users) = match &spec.load {
            Load::Open(a) => (
                Some(ArrivalState::new(
                    a.clone(),
                    Rng::stream(seed, STREAM_ARRIVALS),
                )),
                None,
            ),
            Load::Closed(u) => (None, Some(u.clone())),
        };
        let mut sys = System {
            classes: spec.classes.clone(),
            samples: vec![(0.0, 0.0); stations.len()],
            warm_areas: vec![(0.0, 0.0); stations.len()],
            warm_counts: vec![VisitCounts::default(); stations.len()],
            stations,
            reqs: Requests::default(),
            cal: Calendar::new(),
            rec: Recorder::new(spec.classes.len(), spec.warmup, spec.duration, spec.bucket),
            out: Vec::with_capacity(16),
            arrivals,
            users,
            mix: spec.mix.clone(),
            mix_rng: Rng::stream(seed, STREAM_MIX),
            key_rng: Rng::stream(seed, STREAM_KEYS),
            needs_keys: spec.needs_keys(),
            think_rng: Rng::stream(seed, STREAM_THINK),
            delay_rng: Rng::stream(seed, "router.delays"),
            duration: spec.duration,
            warmup: spec.warmup,
            bucket: spec.bucket.max(1),
            events: 0,
        };
        sys.start();
        sys
    }

    fn start(&mut self) {
        if let Some(a) = &mut self.arrivals
            && let Some(t) = a.next_after(0)
        {
            self.cal.push(
                t,
                Event {
                    target: WORKLOAD,
                    kind: ARRIVE,
                    data: 0,
                },
            );
        }
        if let Some(users) = &self.users {
            let max = users.target.max().ceil() as u64;
            for u in 0..max {
                if let Some(t) = users.target.first_time_above(u as f64, 0) {
                    self.cal.push(
                        t,
                        Event {
                            target: WORKLOAD,
                            kind: USER_WAKE,
                            data: u,
                        },
                    );
                }
            }
        }
        self.cal.push(
            self.bucket.min(self.duration),
            Event {
                target: ROUTER,
                kind: SAMPLE,
                data: 0,
            },
        );
        self.cal.push(
            self.warmup,
            Event {
                target: ROUTER,
                kind: WARMUP_END,
                data: 0,
            },
        );
    }

    /// Runs to the end of the horizon and returns the measurements.
    pub fn run(mut self) -> RepStats {
        while let Some((t, ev)) = self.cal.pop() {
            if t.0 > self.duration {
                break;
            }
            self.events += 1;
            self.dispatch(t.0, ev);
        }
        let stations = self.station_stats();
        self.rec.finish(self.duration, stations, self.events)
    }

    #[inline]
    fn dispatch(&mut self, now: u64, ev: Event) {
        match ev.target {
            WORKLOAD if ev.kind == ARRIVE => self.on_arrival(now),
            WORKLOAD => self.on_user_wake(now, ev.data as u32),
            ROUTER if ev.kind == DELAY_DONE => self.step_done(now, ev.data as u32),
            ROUTER if ev.kind == SAMPLE => self.on_sample(now),
            ROUTER => self.on_warmup_end(now),
            s => {
                let mut ctx = Ctx::new(SimTime(now), &mut self.cal);
                self.stations[(s - FIRST_STATION) as usize].handle(ev, &mut ctx, &mut self.out);
                self.drain(now);
            }
        }
    }

    #[inline]
    fn on_arrival(&mut self, now: u64) {
        let a = self.arrivals.as_mut().expect("open workload");
        if let Some(t) = a.next_after(now) {
            self.cal.push(
                t,
                Event {
                    target: WORKLOAD,
                    kind: ARRIVE,
                    data: 0,
                },
            );
        }
        self.new_request(now, NONE);
    }

    fn on_user_wake(&mut self, now: u64, user: u32) {
        let users = self.users.as_ref().expect("closed workload");
        if f64::from(user) < users.target.at(now) {
            self.new_request(now, user);
        } else if let Some(t) = users.target.first_time_above(f64::from(user), now) {
            self.cal.push(
                t,
                Event {
                    target: WORKLOAD,
                    kind: USER_WAKE,
                    data: u64::from(user),
                },
            );
        }
    }

    #[inline]
    fn new_request(&mut self, now: u64, user: u32) {
        let class = self.mix.class(&mut self.mix_rng);
        let key = if self.needs_keys {
            self.mix.key(&mut self.key_rng)
        } else {
            0
        };
        let deadline = self.classes[class as usize]
            .deadline
            .map_or(u64::MAX, |d| now.saturating_add(d));
        let req = self.reqs.insert(Request {
            class,
            step: 0,
            pending: 0,
            parent: NONE,
            user,
            created: now,
            deadline,
            key,
            failed: None,
        });
        self.rec.arrive(class, now);
        self.advance(now, req);
        self.drain(now);
    }

    /// Starts the current step of `req` (finishing it when the path is done).
    #[inline]
    fn advance(&mut self, now: u64, req: u32) {
        let r = *self.reqs.get(req);
        let Some(step) = self.classes[r.class as usize].path.get(r.step as usize) else {
            return self.finish(now, req, None);
        };
        let mut ctx = Ctx::new(SimTime(now), &mut self.cal);
        match step {
            Step::Visit(s) => {
                self.stations[*s as usize].arrive(req, r.class, r.deadline, &mut ctx, &mut self.out)
            }
            Step::Delay(d) => {
                let delay = d.sample_ns(&mut self.delay_rng);
                ctx.schedule_in(
                    delay,
                    Event {
                        target: ROUTER,
                        kind: DELAY_DONE,
                        data: u64::from(req),
                    },
                );
            }
            Step::Fork(branches) => {
                self.reqs.get_mut(req).pending = branches.len() as u32;
                for &s in branches {
                    let child = self.reqs.insert(Request {
                        parent: req,
                        user: NONE,
                        pending: 0,
                        ..r
                    });
                    self.stations[s as usize].arrive(
                        child,
                        r.class,
                        r.deadline,
                        &mut ctx,
                        &mut self.out,
                    );
                }
            }
        }
    }

    /// Processes the outcomes stations reported, including those that processing adds.
    #[inline]
    fn drain(&mut self, now: u64) {
        let mut i = 0;
        while i < self.out.len() {
            let o = self.out[i];
            i += 1;
            match o {
                Outcome::Done(req) => self.step_done(now, req),
                Outcome::Failed(req, kind) => self.step_failed(now, req, kind),
            }
        }
        self.out.clear();
    }

    #[inline]
    fn step_done(&mut self, now: u64, req: u32) {
        let parent = self.reqs.get(req).parent;
        if parent != NONE {
            return self.branch_done(now, req, parent);
        }
        self.reqs.get_mut(req).step += 1;
        self.advance(now, req);
    }

    fn step_failed(&mut self, now: u64, req: u32, kind: ErrorKind) {
        let parent = self.reqs.get(req).parent;
        if parent != NONE {
            self.reqs.get_mut(parent).failed.get_or_insert(kind);
            return self.branch_done(now, req, parent);
        }
        self.finish(now, req, Some(kind));
    }

    fn branch_done(&mut self, now: u64, child: u32, parent: u32) {
        self.reqs.remove(child);
        let p = self.reqs.get_mut(parent);
        p.pending -= 1;
        if p.pending > 0 {
            return;
        }
        match p.failed {
            Some(kind) => self.finish(now, parent, Some(kind)),
            None => {
                p.step += 1;
                self.advance(now, parent);
            }
        }
    }

    #[inline]
    fn finish(&mut self, now: u64, req: u32, error: Option<ErrorKind>) {
        let r = *self.reqs.get(req);
        self.reqs.remove(req);
        let error = error.or((now > r.deadline).then_some(ErrorKind::Timeout));
        match error {
            None => self.rec.complete(r.class, r.created, now),
            Some(kind) => self.rec.fail(r.class, kind, r.created, now),
        }
        if r.user != NONE {
            let think = self
                .users
                .as_ref()
                .expect("closed workload")
                .think
                .sample_ns(&mut self.think_rng);
            self.cal.push(
                now.saturating_add(think),
                Event {
                    target: WORKLOAD,
                    kind: USER_WAKE,
                    data: u64::from(r.user),
                },
            );
        }
    }

    fn on_sample(&mut self, now: u64) {
        // Samples fall on multiples of the bucket, and the last one at the end of the run.
        let bucket_start = (now.saturating_sub(1) / self.bucket) * self.bucket;
        let width = (now - bucket_start).max(1) as f64;
        let mut samples = Vec::with_capacity(self.stations.len());
        for (i, s) in self.stations.iter_mut().enumerate() {
            let (busy, queue) = s.areas(now);
            let (pb, pq) = self.samples[i];
            samples.push(((busy - pb) / width, (queue - pq) / width));
            self.samples[i] = (busy, queue);
        }
        let instances = self
            .stations
            .iter()
            .map(|s| f64::from(s.spec().workers))
            .collect();
        self.rec.sample_stations(now, samples, instances);
        if now < self.duration {
            let next = (now + self.bucket).min(self.duration);
            self.cal.push(
                next,
                Event {
                    target: ROUTER,
                    kind: SAMPLE,
                    data: 0,
                },
            );
        }
    }

    fn on_warmup_end(&mut self, now: u64) {
        self.warm_areas = self.stations.iter_mut().map(|s| s.areas(now)).collect();
        self.warm_counts = self.stations.iter().map(Station::counts).collect();
    }

    fn station_stats(&mut self) -> Vec<StationStats> {
        let window = self.duration.saturating_sub(self.warmup).max(1) as f64;
        let warm = self.warm_areas.clone();
        self.stations
            .iter_mut()
            .enumerate()
            .map(|(i, s)| {
                let (busy, queue) = s.areas(self.duration);
                let workers = f64::from(s.spec().workers);
                let (c, w) = (s.counts(), self.warm_counts[i]);
                StationStats {
                    arrivals: c.arrivals - w.arrivals,
                    waited: c.waited - w.waited,
                    rejected: c.rejected - w.rejected,
                    name: s.spec().name.clone(),
                    utilization: (busy - warm[i].0) / window / workers,
                    mean_queue: (queue - warm[i].1) / window,
                    workers,
                }
            })
            .collect()
    }
}
