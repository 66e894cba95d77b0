//! Controllers: components that wake on their own schedule, read what the services expose
//! ([`Snapshot`]) and act on them (instances wanted, crashes).
//!
//! A controller never holds a reference to a service: the system wakes it with the services
//! and a [`Ctx`], and it returns when it wants to wake next. The autoscaler and the failure
//! injector are controllers; the first one here replays a table:
//!
//! - `schedule`: at given times, set a service's instances or crash some of its instances
//!   (scheduled scaling, as a cron-driven scaler or a game day does).

use super::service::{Service, Snapshot};
use super::station::Outcome;
use crate::engine::Ctx;

/// What a schedule entry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Set the instances wanted.
    Instances(u32),
    /// Crash this many ready instances (they restart after the service's restart time).
    Crash(u32),
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
}

impl ControllerSpec {
    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            ControllerSpec::Schedule { name, .. } => name,
        }
    }

    /// The services it acts on.
    pub fn targets(&self) -> Vec<u32> {
        match self {
            ControllerSpec::Schedule { service, .. } => vec![*service],
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
}

impl Controller {
    /// A controller in its initial state.
    pub fn new(spec: ControllerSpec) -> Controller {
        Controller {
            spec,
            next: 0,
            actions: 0,
            last: None,
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
                    }
                    self.actions += 1;
                    self.next += 1;
                }
                self.last = Some(svc.snapshot(now));
                steps.get(self.next).map(|s| s.0)
            }
        }
    }

    /// Named metrics over the run: `actions`, and `desired_last` (instances wanted after the
    /// last action).
    pub fn metrics(&self) -> Vec<(String, f64)> {
        vec![
            ("actions".to_string(), self.actions as f64),
            (
                "desired_last".to_string(),
                self.last.map_or(0.0, |s| f64::from(s.desired)),
            ),
        ]
    }
}
