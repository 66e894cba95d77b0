//! One replication of a system: the node table, the calendar, the path interpreter and the main
//! loop.
//!
//! Event targets: `0..S` are the services (nodes a path visits), `S..S+C` the controllers, and
//! [`SYSTEM`] the system itself (arrivals, user wake-ups, delays, scope timeouts, sampling,
//! end of warm-up), each with its own event kind. Dispatch is a `match` on the target's range:
//! no dynamic dispatch, no allocation per event.
//!
//! Requests run their class's compiled [`Program`]: `advance` executes ops until the request
//! waits (a visit, a delay) or spawns children (fork arms, a repeat's body, a try's body or
//! fallback) and waits at that op for them to return. A child that returns or fails reports to
//! its parent ([`System::child_returned`], [`System::child_failed`]); the op the parent waits
//! at decides what happens next (join, next iteration, retry, fallback, failure). A try's
//! timeout detaches its child: the caller moves on, the callee goes on working (and occupying
//! its server) until its current visit ends, and is then dropped.

use std::sync::Arc;

use super::controller::{Controller, ControllerSpec};
use super::program::{Op, Program, Step, compile};
use super::request::{NONE, Request, Requests};
use super::service::{Service, ServiceSpec, Visit};
use super::station::Outcome;
use super::workload::{
    ArrivalState, Load, Mix, STREAM_ARRIVALS, STREAM_KEYS, STREAM_MIX, STREAM_THINK, Users,
};
use crate::engine::{Calendar, Component, Ctx, Event, Rng, SimTime};
use crate::observe::{ComponentStats, ErrorKind, Recorder, RepStats};

/// A request class.
#[derive(Debug, Clone)]
pub struct ClassSpec {
    /// Name.
    pub name: String,
    /// The path, as a tree of steps.
    pub path: Vec<Step>,
    /// Client timeout, ns.
    pub deadline: Option<u64>,
}

/// Everything needed to build one replication.
#[derive(Debug, Clone)]
pub struct SystemSpec {
    /// Services (the nodes a path visits), by index.
    pub services: Vec<ServiceSpec>,
    /// Request classes.
    pub classes: Vec<ClassSpec>,
    /// Controllers.
    pub controllers: Vec<ControllerSpec>,
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
    /// Whether any component reads request keys: a key switch in a path, or a balancer that
    /// hashes keys or users. Keys are then drawn for every request from their own stream, so
    /// turning them on shifts no other draw.
    pub fn needs_keys(&self) -> bool {
        self.services.iter().any(|s| s.policy.needs_keys())
            || self.classes.iter().any(|c| path_reads_keys(&c.path))
    }
}

fn path_reads_keys(path: &[Step]) -> bool {
    path.iter().any(|s| match s {
        Step::Visit(_) | Step::Delay(_) => false,
        Step::ByKey(..) => true,
        Step::Fork(arms) => arms.iter().any(|a| path_reads_keys(a)),
        Step::Branch(arms) => arms.iter().any(|(_, a)| path_reads_keys(a)),
        Step::Repeat(_, b) => path_reads_keys(b),
        Step::Try(t) => {
            path_reads_keys(&t.body) || t.fallback.as_deref().is_some_and(path_reads_keys)
        }
    })
}

/// The target of the system's own events.
pub const SYSTEM: u32 = u32::MAX;

const ARRIVE: u32 = 0;
const USER_WAKE: u32 = 1;
const DELAY_DONE: u32 = 2;
const SAMPLE: u32 = 3;
const WARMUP_END: u32 = 4;
const SCOPE_TIMEOUT: u32 = 5;

/// Counters of one try scope.
#[derive(Debug, Clone, Copy, Default)]
struct ScopeCounts {
    entered: u64,
    attempts: u64,
    retries: u64,
    timeouts: u64,
    fallbacks: u64,
    failed: u64,
}

impl ScopeCounts {
    /// Adds `now - warm` (the measured window's counts).
    fn add(&mut self, now: &ScopeCounts, warm: &ScopeCounts) {
        self.entered += now.entered - warm.entered;
        self.attempts += now.attempts - warm.attempts;
        self.retries += now.retries - warm.retries;
        self.timeouts += now.timeouts - warm.timeouts;
        self.fallbacks += now.fallbacks - warm.fallbacks;
        self.failed += now.failed - warm.failed;
    }

    /// `entered`, `attempts`, `retries`, `timeouts`, `fallbacks`, `failed`.
    fn metrics(&self) -> Vec<(String, f64)> {
        [
            ("entered", self.entered),
            ("attempts", self.attempts),
            ("retries", self.retries),
            ("timeouts", self.timeouts),
            ("fallbacks", self.fallbacks),
            ("failed", self.failed),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), *v as f64))
        .collect()
    }
}

/// One replication.
#[derive(Debug)]
pub struct System {
    programs: Vec<Program>,
    deadlines: Vec<Option<u64>>,
    services: Vec<Service>,
    controllers: Vec<Controller>,
    scope_names: Vec<String>,
    scopes: Vec<ScopeCounts>,
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
    path_rng: Rng,
    gauges: Vec<f64>,
    warm_scopes: Vec<ScopeCounts>,
    duration: u64,
    warmup: u64,
    bucket: u64,
    events: u64,
}

impl System {
    /// Builds a replication of `spec` seeded with `seed`, scheduling its first events.
    pub fn new(spec: &SystemSpec, seed: u64) -> System {
        let controlled: Vec<u32> = spec.controllers.iter().flat_map(|c| c.targets()).collect();
        let services = spec
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let fleet = s.instances != 1 || controlled.contains(&(i as u32));
                Service::new(Arc::new(s.clone()), i as u32, seed, fleet)
            })
            .collect::<Vec<_>>();
        let mut scope_names = Vec::new();
        let programs = spec
            .classes
            .iter()
            .map(|c| compile(&c.path, scope_names.len() as u32, &mut scope_names))
            .collect();
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
            programs,
            deadlines: spec.classes.iter().map(|c| c.deadline).collect(),
            services,
            controllers: spec
                .controllers
                .iter()
                .cloned()
                .map(Controller::new)
                .collect(),
            scopes: vec![ScopeCounts::default(); scope_names.len()],
            warm_scopes: vec![ScopeCounts::default(); scope_names.len()],
            scope_names,
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
            path_rng: Rng::stream(seed, "router.paths"),
            gauges: Vec::new(),
            duration: spec.duration,
            warmup: spec.warmup,
            bucket: spec.bucket.max(1),
            events: 0,
        };
        sys.start();
        sys
    }

    fn system_event(&mut self, at: u64, kind: u32, data: u64) {
        self.cal.push(
            at,
            Event {
                target: SYSTEM,
                kind,
                data,
            },
        );
    }

    fn start(&mut self) {
        if let Some(a) = &mut self.arrivals
            && let Some(t) = a.next_after(0)
        {
            self.system_event(t, ARRIVE, 0);
        }
        if let Some(users) = &self.users {
            let max = users.target.max().ceil() as u64;
            let wakes: Vec<(u64, u64)> = (0..max)
                .filter_map(|u| users.target.first_time_above(u as f64, 0).map(|t| (t, u)))
                .collect();
            for (t, u) in wakes {
                self.system_event(t, USER_WAKE, u);
            }
        }
        self.system_event(self.bucket.min(self.duration), SAMPLE, 0);
        self.system_event(self.warmup, WARMUP_END, 0);
        let first = self.services.len() as u32;
        for (i, c) in self.controllers.iter().enumerate() {
            if let Some(t) = c.first_wake() {
                self.cal.push(
                    t,
                    Event {
                        target: first + i as u32,
                        kind: 0,
                        data: 0,
                    },
                );
            }
        }
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
        let components = self.component_stats();
        let names = self.gauge_names();
        self.rec
            .finish(self.duration, components, names, self.events)
    }

    #[inline]
    fn dispatch(&mut self, now: u64, ev: Event) {
        let services = self.services.len() as u32;
        match ev.target {
            SYSTEM => match ev.kind {
                ARRIVE => self.on_arrival(now),
                USER_WAKE => self.on_user_wake(now, ev.data as u32),
                DELAY_DONE => self.step_done(now, ev.data as u32),
                SCOPE_TIMEOUT => self.on_scope_timeout(now, ev.data),
                SAMPLE => self.on_sample(now),
                _ => self.on_warmup_end(now),
            },
            s if s < services => {
                let mut ctx = Ctx::new(SimTime(now), &mut self.cal);
                self.services[s as usize].handle(ev, &mut ctx, &mut self.out);
                self.drain(now);
            }
            c => {
                let mut ctx = Ctx::new(SimTime(now), &mut self.cal);
                let ctl = &mut self.controllers[(c - services) as usize];
                if let Some(t) = ctl.wake(&mut self.services, &mut ctx, &mut self.out) {
                    ctx.schedule_at(SimTime(t), ev);
                }
                self.drain(now);
            }
        }
    }

    #[inline]
    fn on_arrival(&mut self, now: u64) {
        let a = self.arrivals.as_mut().expect("open workload");
        if let Some(t) = a.next_after(now) {
            self.system_event(t, ARRIVE, 0);
        }
        self.new_request(now, NONE);
    }

    fn on_user_wake(&mut self, now: u64, user: u32) {
        let users = self.users.as_ref().expect("closed workload");
        if f64::from(user) < users.target.at(now) {
            self.new_request(now, user);
        } else if let Some(t) = users.target.first_time_above(f64::from(user), now) {
            self.system_event(t, USER_WAKE, u64::from(user));
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
        let deadline = self.deadlines[class as usize].map_or(u64::MAX, |d| now.saturating_add(d));
        let req = self.reqs.insert(Request {
            class,
            user,
            created: now,
            deadline,
            key,
            ..Request::default()
        });
        self.rec.arrive(class, now);
        self.advance(now, req);
        self.drain(now);
    }

    /// A child of `parent` starting at `pc`, started at once.
    fn spawn(&mut self, now: u64, parent: u32, pc: u32, deadline: u64) -> u32 {
        let child = self.spawn_later(parent, pc, deadline);
        self.advance(now, child);
        child
    }

    /// Runs `req`'s program from its pc until it waits.
    fn advance(&mut self, now: u64, req: u32) {
        loop {
            let r = *self.reqs.get(req);
            let prog = &self.programs[r.class as usize];
            match prog.ops[r.pc as usize] {
                Op::Visit(n) => {
                    let v = Visit {
                        req,
                        class: r.class,
                        deadline: r.deadline,
                        key: r.key,
                        user: self.root_user(req),
                    };
                    let mut ctx = Ctx::new(SimTime(now), &mut self.cal);
                    return self.services[n as usize].arrive(v, &mut ctx, &mut self.out);
                }
                Op::Delay(d) => {
                    let delay = prog.dists[d as usize].sample_ns(&mut self.delay_rng);
                    return self.system_event(
                        now.saturating_add(delay),
                        DELAY_DONE,
                        u64::from(req),
                    );
                }
                Op::Jump(pc) => self.reqs.get_mut(req).pc = pc,
                Op::Branch(b) => {
                    let u = self.path_rng.next_f64();
                    self.reqs.get_mut(req).pc = prog.branch_target(b, u);
                }
                Op::Route(k) => self.reqs.get_mut(req).pc = prog.route_target(k, r.key),
                Op::Fork(f) => {
                    let n = prog.forks[f as usize].len();
                    self.reqs.get_mut(req).pending = n as u32;
                    for k in 0..n {
                        let pc = self.programs[r.class as usize].forks[f as usize][k];
                        self.spawn(now, req, pc, r.deadline);
                    }
                    return;
                }
                Op::Repeat(k) => {
                    let (count, body) = prog.repeats[k as usize];
                    let n = count.sample(&mut self.path_rng);
                    if n == 0 {
                        self.reqs.get_mut(req).pc += 1;
                        continue;
                    }
                    self.reqs.get_mut(req).pending = 1;
                    let child = self.spawn_later(req, body, r.deadline);
                    self.reqs.get_mut(child).iterations = n - 1;
                    return self.advance(now, child);
                }
                Op::Try(s) => return self.enter_scope(now, req, s),
                Op::Return => return self.returned(now, req),
            }
        }
    }

    /// A child of `parent` at `pc`, not started yet.
    fn spawn_later(&mut self, parent: u32, pc: u32, deadline: u64) -> u32 {
        let p = *self.reqs.get(parent);
        self.reqs.insert(Request {
            class: p.class,
            key: p.key,
            created: p.created,
            parent,
            pc,
            deadline,
            ..Request::default()
        })
    }

    /// The closed-loop user a request (or its root) belongs to.
    #[inline]
    fn root_user(&self, mut req: u32) -> u32 {
        loop {
            let r = self.reqs.get(req);
            if r.parent == NONE {
                return r.user;
            }
            req = r.parent;
        }
    }

    fn enter_scope(&mut self, now: u64, req: u32, s: u32) {
        let r = *self.reqs.get(req);
        let sc = &self.programs[r.class as usize].scopes[s as usize];
        let (id, attempts) = (sc.id as usize, sc.attempts);
        self.scopes[id].entered += 1;
        let p = self.reqs.get_mut(req);
        p.tries_left = attempts - 1;
        p.in_fallback = false;
        self.attempt(now, req, s);
    }

    /// Starts one attempt of scope `s` (the op `req` waits at), with its timeout.
    fn attempt(&mut self, now: u64, req: u32, s: u32) {
        let r = *self.reqs.get(req);
        let sc = &self.programs[r.class as usize].scopes[s as usize];
        let (id, body, timeout) = (sc.id as usize, sc.body, sc.timeout);
        self.scopes[id].attempts += 1;
        let deadline = timeout.map_or(r.deadline, |t| r.deadline.min(now.saturating_add(t)));
        self.reqs.get_mut(req).pending = 1;
        let child = self.spawn_later(req, body, deadline);
        if let Some(t) = timeout {
            let gen_ = self.reqs.get(child).generation;
            let data = u64::from(child) | (u64::from(gen_) << 32);
            self.system_event(now.saturating_add(t), SCOPE_TIMEOUT, data);
        }
        self.advance(now, child);
    }

    /// The request (or child) reached the end of its block.
    fn returned(&mut self, now: u64, req: u32) {
        let r = *self.reqs.get(req);
        if r.detached {
            return self.reqs.remove(req);
        }
        if r.parent == NONE {
            return self.finish(now, req, None);
        }
        if r.iterations > 0 {
            // The next iteration of a repeat's body.
            let body = self.repeat_body(r.class, r.parent);
            let c = self.reqs.get_mut(req);
            c.iterations -= 1;
            c.pc = body;
            return self.advance(now, req);
        }
        self.reqs.remove(req);
        self.child_returned(now, r.parent, None);
    }

    /// The first pc of the body of the repeat `parent` waits at.
    fn repeat_body(&self, class: u16, parent: u32) -> u32 {
        let p = self.reqs.get(parent);
        match self.programs[class as usize].ops[p.pc as usize] {
            Op::Repeat(k) => self.programs[class as usize].repeats[k as usize].1,
            other => unreachable!("a repeating child's parent waits at a repeat, not {other:?}"),
        }
    }

    /// A child of `parent` returned (`failed: None`) or failed.
    fn child_returned(&mut self, now: u64, parent: u32, failed: Option<ErrorKind>) {
        let p = *self.reqs.get(parent);
        let op = self.programs[p.class as usize].ops[p.pc as usize];
        match (op, failed) {
            (Op::Fork(_), _) => {
                let pr = self.reqs.get_mut(parent);
                pr.pending -= 1;
                if let Some(k) = failed {
                    pr.failed.get_or_insert(k);
                }
                if pr.pending > 0 {
                    return;
                }
                match pr.failed.take() {
                    Some(k) => self.fail(now, parent, k),
                    None => self.next_op(now, parent),
                }
            }
            (Op::Try(s), Some(kind)) => self.scope_failed(now, parent, s, kind),
            (_, Some(kind)) => {
                self.reqs.get_mut(parent).pending = 0;
                self.fail(now, parent, kind)
            }
            (_, None) => self.next_op(now, parent),
        }
    }

    /// Moves `req` past the op it waited at, unless it was detached meanwhile.
    fn next_op(&mut self, now: u64, req: u32) {
        let r = self.reqs.get_mut(req);
        r.pending = 0;
        if r.detached {
            return self.reqs.remove(req);
        }
        r.pc += 1;
        self.advance(now, req);
    }

    /// An attempt of scope `s` that `req` waits at failed with `kind`: retry, fall back, or
    /// fail `req`.
    fn scope_failed(&mut self, now: u64, req: u32, s: u32, kind: ErrorKind) {
        let r = *self.reqs.get(req);
        if r.detached {
            return self.reqs.remove(req);
        }
        let sc = &self.programs[r.class as usize].scopes[s as usize];
        let (id, fallback) = (sc.id as usize, sc.fallback);
        if r.in_fallback {
            self.scopes[id].failed += 1;
            return self.fail(now, req, kind);
        }
        if r.tries_left > 0 {
            self.scopes[id].retries += 1;
            self.reqs.get_mut(req).tries_left -= 1;
            return self.attempt(now, req, s);
        }
        match fallback {
            Some(pc) => {
                self.scopes[id].fallbacks += 1;
                let p = self.reqs.get_mut(req);
                p.in_fallback = true;
                p.pending = 1;
                self.spawn(now, req, pc, r.deadline);
            }
            None => {
                self.scopes[id].failed += 1;
                self.fail(now, req, kind)
            }
        }
    }

    /// A scope's attempt timed out: its caller gives up on it (the child goes on where it is,
    /// detached) and the scope handles a timeout.
    fn on_scope_timeout(&mut self, now: u64, data: u64) {
        let (child, gen_) = (data as u32, (data >> 32) as u32);
        if !self.reqs.is_live(child, gen_) {
            return;
        }
        let c = *self.reqs.get(child);
        if c.detached || c.parent == NONE {
            return;
        }
        let p = *self.reqs.get(c.parent);
        let Op::Try(s) = self.programs[p.class as usize].ops[p.pc as usize] else {
            return;
        };
        let id = self.programs[p.class as usize].scopes[s as usize].id as usize;
        self.scopes[id].timeouts += 1;
        self.detach(child);
        self.scope_failed(now, c.parent, s, ErrorKind::Timeout);
        self.drain(now);
    }

    /// Cuts `req` (and its descendants, which it waits for) from its parent.
    fn detach(&mut self, req: u32) {
        self.reqs.get_mut(req).detached = true;
    }

    /// `req` failed with `kind`: its parent handles it, or the request ends.
    fn fail(&mut self, now: u64, req: u32, kind: ErrorKind) {
        let r = *self.reqs.get(req);
        if r.detached {
            if r.pending == 0 {
                self.reqs.remove(req);
            }
            return;
        }
        if r.parent == NONE {
            return self.finish(now, req, Some(kind));
        }
        self.reqs.remove(req);
        self.child_returned(now, r.parent, Some(kind));
    }

    /// Processes the outcomes components reported, including those that processing adds.
    #[inline]
    fn drain(&mut self, now: u64) {
        let mut i = 0;
        while i < self.out.len() {
            let o = self.out[i];
            i += 1;
            match o {
                Outcome::Done(req) => self.step_done(now, req),
                Outcome::Failed(req, kind) => self.fail(now, req, kind),
            }
        }
        self.out.clear();
    }

    /// `req`'s visit or delay ended.
    #[inline]
    fn step_done(&mut self, now: u64, req: u32) {
        let r = self.reqs.get_mut(req);
        if r.detached {
            return self.reqs.remove(req);
        }
        r.pc += 1;
        self.advance(now, req);
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
            self.system_event(now.saturating_add(think), USER_WAKE, u64::from(r.user));
        }
    }

    fn on_sample(&mut self, now: u64) {
        // Samples fall on multiples of the bucket, and the last one at the end of the run.
        let bucket_start = (now.saturating_sub(1) / self.bucket) * self.bucket;
        let width = (now - bucket_start).max(1) as f64;
        self.gauges.clear();
        for s in &mut self.services {
            s.sample(now, width, &mut self.gauges);
        }
        self.rec.sample_gauges(now, self.gauges.clone());
        if now < self.duration {
            let next = (now + self.bucket).min(self.duration);
            self.system_event(next, SAMPLE, 0);
        }
    }

    fn on_warmup_end(&mut self, now: u64) {
        for s in &mut self.services {
            s.mark_warm(now);
        }
        self.warm_scopes = self.scopes.clone();
    }

    fn gauge_names(&self) -> Vec<String> {
        self.services
            .iter()
            .flat_map(Service::gauge_names)
            .collect()
    }

    fn component_stats(&mut self) -> Vec<ComponentStats> {
        let window = self.duration.saturating_sub(self.warmup).max(1) as f64;
        let mut out: Vec<ComponentStats> = self
            .services
            .iter_mut()
            .map(|s| s.stats(self.duration, window))
            .collect();
        out.extend(self.controllers.iter().map(|c| ComponentStats {
            name: c.name().to_string(),
            kind: "controller",
            metrics: c.metrics(),
            ..ComponentStats::default()
        }));
        // Scopes of the same name (one dependency called from several classes) share a
        // component.
        let mut names: Vec<&str> = self.scope_names.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let mut c = ScopeCounts::default();
            for (k, _) in self
                .scope_names
                .iter()
                .enumerate()
                .filter(|(_, n)| *n == name)
            {
                c.add(&self.scopes[k], &self.warm_scopes[k]);
            }
            out.push(ComponentStats {
                name: name.to_string(),
                kind: "scope",
                metrics: c.metrics(),
                ..ComponentStats::default()
            });
        }
        out
    }
}
