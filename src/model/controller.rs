//! Controllers: components that wake on their own schedule, read what the services expose
//! ([`Snapshot`]) and act on them (instances wanted, crashes).
//!
//! A controller never holds a reference to a service: the system wakes it with the services
//! and a [`Ctx`], and it returns when it wants to wake next. The autoscaler and the failure
//! injector are controllers; the first one here replays a table:
//!
//! - `schedule`: at given times, set a service's instances, crash some of its instances, or
//!   start and end a brownout (slower service, a share of errors, an outage at 100 %):
//!   scheduled scaling, as a cron-driven scaler does, or a game day.
//! - `failures`: every instance of a service fails after a time drawn from `mtbf` (counted
//!   while it is ready) and is repaired after a time drawn from `mttr`, independently: the
//!   alternating renewal process whose steady-state availability is `MTBF / (MTBF + MTTR)`
//!   ([`super::resilience::availability`]).

use super::autoscale::{HpaController, HpaControllerSpec};
use super::dist::Dist;
use super::policy::{Scaler, ScalerSpec};
use super::service::{Service, Snapshot};
use super::station::Outcome;
use super::workload::RateProfile;
use crate::engine::{Ctx, Rng};

/// What a schedule entry does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    /// Set the instances wanted.
    Instances(u32),
    /// Crash this many ready instances (they restart after the service's restart time).
    Crash(u32),
    /// Service times multiplied by this factor from now on (1: normal).
    Slow(f64),
    /// This share of visits fails at once from now on (0: normal, 1: outage).
    ErrorRate(f64),
}

/// A controller's configuration.
#[derive(Debug, Clone)]
pub enum ControllerSpec {
    /// A table of timed actions on one service.
    Schedule {
        /// Name (its metrics go to a component of this name).
        name: String,
        /// Service index.
        service: u32,
        /// `(time ns, action)`, by time.
        steps: Vec<(u64, Action)>,
    },
    /// Independent failures and repairs of each instance.
    Failures {
        /// Name (also its random stream).
        name: String,
        /// Service index.
        service: u32,
        /// Time to failure of a ready instance.
        mtbf: Dist,
        /// Time to repair.
        mttr: Dist,
    },
    /// A Kubernetes HorizontalPodAutoscaler ([`super::autoscale`]).
    Hpa {
        /// Name.
        name: String,
        /// Service index.
        service: u32,
        /// The HPA and how the service's instances map to pods.
        hpa: Box<HpaControllerSpec>,
    },
    /// Threshold rules or a predictive scaler ([`super::policy`]).
    Scale {
        /// Name.
        name: String,
        /// Service index.
        service: u32,
        /// The policy, its period and bounds.
        scaler: Box<ScalerSpec>,
    },
}

impl ControllerSpec {
    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            ControllerSpec::Schedule { name, .. }
            | ControllerSpec::Failures { name, .. }
            | ControllerSpec::Hpa { name, .. }
            | ControllerSpec::Scale { name, .. } => name,
        }
    }

    /// The services it acts on.
    pub fn targets(&self) -> Vec<u32> {
        match self {
            ControllerSpec::Schedule { service, .. }
            | ControllerSpec::Failures { service, .. }
            | ControllerSpec::Hpa { service, .. }
            | ControllerSpec::Scale { service, .. } => vec![*service],
        }
    }
}

/// A controller's state.
#[derive(Debug)]
pub struct Controller {
    spec: ControllerSpec,
    next: usize,
    actions: u64,
    last: Option<Snapshot>,
    rng: Rng,
    /// Failures: when each instance slot fails next (`u64::MAX`: not drawn yet).
    fail_at: Vec<u64>,
    /// The HPA's state.
    hpa: Option<Box<HpaController>>,
    /// A rules or predictive scaler's state.
    scaler: Option<Box<Scaler>>,
}

impl Controller {
    /// A controller in its initial state, its random stream seeded from `seed`; `profile` is
    /// the open workload's rate curve (what a predictive scaler may read as yesterday's load).
    pub fn new(spec: ControllerSpec, seed: u64, profile: Option<RateProfile>) -> Controller {
        let rng = Rng::stream(seed, &format!("{}.controller", spec.name()));
        let hpa = match &spec {
            ControllerSpec::Hpa { hpa, .. } => Some(Box::new(HpaController::new((**hpa).clone()))),
            _ => None,
        };
        let scaler = match &spec {
            ControllerSpec::Scale { scaler, .. } => {
                Some(Box::new(Scaler::new((**scaler).clone(), profile)))
            }
            _ => None,
        };
        Controller {
            hpa,
            scaler,
            spec,
            next: 0,
            actions: 0,
            last: None,
            rng,
            fail_at: Vec::new(),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        self.spec.name()
    }

    /// When it first wakes.
    pub fn first_wake(&self) -> Option<u64> {
        match &self.spec {
            ControllerSpec::Schedule { steps, .. } => steps.first().map(|s| s.0),
            ControllerSpec::Failures { .. } => Some(0),
            ControllerSpec::Hpa { .. } => self.hpa.as_ref().map(|h| h.first_wake()),
            ControllerSpec::Scale { .. } => Some(0),
        }
    }

    /// Wakes at `ctx.now()`: acts on `services`, pushes the outcomes of requests its actions
    /// ended (a crash fails them), and returns when to wake next.
    pub fn wake(
        &mut self,
        services: &mut [Service],
        ctx: &mut Ctx<'_>,
        out: &mut Vec<Outcome>,
    ) -> Option<u64> {
        let now = ctx.now().0;
        match &self.spec {
            ControllerSpec::Schedule { service, steps, .. } => {
                let svc = &mut services[*service as usize];
                while let Some(&(at, action)) = steps.get(self.next).filter(|s| s.0 <= now) {
                    let _ = at;
                    match action {
                        Action::Instances(n) => svc.set_desired(n, ctx),
                        Action::Crash(k) => {
                            for _ in 0..k {
                                svc.crash(None, ctx, out);
                            }
                        }
                        Action::Slow(f) => svc.set_slow(f),
                        Action::ErrorRate(p) => svc.set_error_rate(p),
                    }
                    self.actions += 1;
                    self.next += 1;
                }
                self.last = Some(svc.snapshot(now));
                steps.get(self.next).map(|s| s.0)
            }
            ControllerSpec::Failures {
                service,
                mtbf,
                mttr,
                ..
            } => {
                let svc = &mut services[*service as usize];
                let slots = svc.slots() as usize;
                if self.fail_at.len() < slots {
                    self.fail_at.resize(slots, u64::MAX);
                }
                for i in 0..slots {
                    if self.fail_at[i] == u64::MAX {
                        self.fail_at[i] = now.saturating_add(mtbf.sample_ns(&mut self.rng));
                    }
                    if self.fail_at[i] > now {
                        continue;
                    }
                    // Due: a ready instance fails and is repaired; one that is not ready
                    // (starting, down, removed) draws a new time to failure.
                    let mut next = now;
                    if svc.is_ready(i as u32) {
                        let repair = mttr.sample_ns(&mut self.rng);
                        svc.crash_for(Some(i as u32), repair, ctx, out);
                        self.actions += 1;
                        next = next.saturating_add(repair);
                    }
                    self.fail_at[i] = next.saturating_add(mtbf.sample_ns(&mut self.rng).max(1));
                }
                self.last = Some(svc.snapshot(now));
                // Wake at the next failure, and at least every minute for new slots.
                let soonest = self.fail_at.iter().copied().min().unwrap_or(u64::MAX);
                Some(soonest.min(now.saturating_add(60_000_000_000)))
            }
            ControllerSpec::Hpa { service, .. } => {
                let svc = &mut services[*service as usize];
                let h = self.hpa.as_mut().expect("an HPA controller has its state");
                let next = h.wake(svc, ctx);
                self.actions = h.rescales;
                self.last = Some(svc.snapshot(now));
                Some(next)
            }
            ControllerSpec::Scale { service, .. } => {
                let svc = &mut services[*service as usize];
                let sc = self.scaler.as_mut().expect("a scaler has its state");
                sc.wake(svc, ctx);
                self.actions = sc.rescales;
                self.last = Some(svc.snapshot(now));
                Some(now.saturating_add(sc.period()))
            }
        }
    }

    /// Starts measuring: what a controller bills (an HPA's nodes) counts from `now`.
    pub fn mark_warm(&mut self, now: u64) {
        if let Some(h) = &mut self.hpa {
            h.mark_warm(now);
        }
    }

    /// Named metrics over the run: `actions` (for an HPA: syncs that rescaled), and
    /// `desired_last` (instances wanted after the last action); an HPA adds `syncs`,
    /// `replicas_last`, its VPA recommendation and its cluster's figures
    /// ([`HpaController::metrics`]).
    /// `end` is the run's end, ns (the cluster's node-hours run to it from the warm-up's end).
    pub fn metrics(&self, end: u64) -> Vec<(String, f64)> {
        let mut extra = Vec::new();
        if let Some(h) = &self.hpa {
            extra.push(("syncs".to_string(), h.syncs as f64));
            extra.push(("replicas_last".to_string(), f64::from(h.replicas)));
            extra.extend(h.metrics(end));
        }
        let mut m = vec![
            ("actions".to_string(), self.actions as f64),
            (
                "desired_last".to_string(),
                self.last.map_or(0.0, |s| f64::from(s.desired)),
            ),
        ];
        m.extend(extra);
        m
    }
}
