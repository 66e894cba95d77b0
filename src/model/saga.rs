//! Sagas: a sequence of steps, each a sub-path with a compensation, run by an orchestrator.
//!
//! ```text
//! { saga = "order", steps = [
//!     { name = "reserve", do = ["inventory"], undo = ["inventory"] },
//!     { name = "charge",  do = [{ try = ["payments"], breaker = "pay" }], undo = ["payments"] },
//!     { name = "create",  do = ["orders-db"], undo = ["orders-db"] },
//!     { name = "confirm", do = ["email"] } ],
//!   undo_attempts = 5, undo_backoff = "200ms", hold = { from = "reserve", to = "charge" },
//!   orchestrator = "app" }
//! ```
//!
//! The request that reaches a saga step is its orchestrator (the guide's `OrderSagaService`,
//! which awaits `saga.execute`, then `saga.compensate` on an error, then throws). It runs the
//! steps' `do` blocks in order, as children, under the client's deadline. When step `k` fails
//! (an error, a timeout, a breaker open: whatever fails its block), it runs the `undo` blocks of
//! steps `k - 1, ..., 0` in that order; an `undo` that fails is retried after `undo_backoff`, up
//! to `undo_attempts` in all; compensations run without the client's deadline (the orchestrator
//! finishes them even when the client has left). Then the request fails with the step's
//! error. Every saga ends in exactly one outcome:
//!
//! - `completed`: every step succeeded;
//! - `compensated`: a step failed and every completed step was undone (a failure of the first
//!   step has nothing to undo and counts here);
//! - `inconsistent`: a compensation failed all its attempts (the others still run: best
//!   effort), or the orchestrator's instance crashed or stopped between two steps while
//!   something was done and not undone (the saga's state lived in its memory). Never silently
//!   dropped.
//!
//! **Choreography** (`mode = "choreography"`, each step naming its participant `by = GROUP`):
//! no orchestrator calls the participants; each step is an event that its participant's
//! consumer group receives, processes (the step's `do`, or `undo` when compensating) and
//! answers with the next event. So each step and each compensation waits for a consumer of its
//! group (behind the other messages of its partition), and a consumer crash delivers the event
//! again: the step runs twice, as at-least-once delivery does. The outcomes are counted as
//! above (the saga request stands for the order's state across the events).
//!
//! A step without `undo` is allowed only last (nothing after it can fail). `hold` measures a
//! resource held between two steps (stock reserved but not yet paid for, or released): from
//! the end of step `from` to the end of step `to`, or of `from`'s compensation, or of the saga
//! (an inconsistent saga that never released it counts it held to its end, as `holds_leaked`).
//!
//! Metrics (component `NAME`, kind `saga`): `started`, `sagas_completed`,
//! `sagas_compensated`, `sagas_inconsistent`, `compensations` (undo blocks run, retries
//! included), `compensation_retries`, `compensations_failed`, `saga_ms_mean`, `saga_ms_p99`,
//! `saga_ms_max` (start to outcome, of every saga that ended), `hold_ms_mean`, `hold_ms_p99`,
//! `hold_ms_max`, `held_mean` (resources held at once, time average), `holds_leaked`,
//! `in_progress` (at the end), `failed_at.STEP` (sagas whose forward run stopped at that step).
//! Gauges: `sagas_in_flight.NAME`, `held.NAME`.

use super::replication::LagStats;

/// One step of a saga, compiled: its blocks' first pcs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepPcs {
    /// The forward block.
    pub run: u32,
    /// The compensation block (`None` only for the last step).
    pub undo: Option<u32>,
}

/// A saga's configuration (what the compiled program and the counters share).
#[derive(Debug, Clone, PartialEq)]
pub struct SagaConfig {
    /// Name (its component).
    pub name: String,
    /// Step names.
    pub steps: Vec<String>,
    /// Attempts of each compensation in all (1: no retry).
    pub undo_attempts: u32,
    /// Sleep before retrying a compensation, ns.
    pub undo_backoff: u64,
    /// The hold: (step whose end takes it, step whose end gives it back).
    pub hold: Option<(usize, usize)>,
    /// The orchestrator's service: a crash or stop of the instance the request was at, seen
    /// between steps, leaves the saga inconsistent.
    pub orchestrator: Option<u32>,
    /// Choreography: per step, the consumer group whose consumers run it (the step's and its
    /// compensation's events go to that group); `None`: orchestrated.
    pub participants: Option<Vec<u32>>,
}

/// The outcome of a saga.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every step done.
    Completed,
    /// Undone.
    Compensated,
    /// Left half done.
    Inconsistent,
}

/// Counts of one saga (a name may appear in several classes: one counter set per name).
#[derive(Debug, Clone, Default)]
struct Counts {
    started: u64,
    completed: u64,
    compensated: u64,
    inconsistent: u64,
    compensations: u64,
    retries: u64,
    undo_failed: u64,
    leaked: u64,
    failed_at: Vec<u64>,
}

/// Every saga's counters and samples.
#[derive(Debug, Clone, Default)]
pub struct Sagas {
    configs: Vec<SagaConfig>,
    counts: Vec<Counts>,
    warm: Vec<Counts>,
    latency: Vec<LagStats>,
    holds: Vec<LagStats>,
    /// Per saga: (in flight now, held now, held-area since warm-up, last change).
    live: Vec<(u64, u64, f64, u64)>,
    measuring: bool,
}

impl Sagas {
    /// Counters for `configs`.
    pub fn new(configs: Vec<SagaConfig>) -> Sagas {
        let n = configs.len();
        Sagas {
            counts: configs
                .iter()
                .map(|c| Counts {
                    failed_at: vec![0; c.steps.len()],
                    ..Counts::default()
                })
                .collect(),
            warm: Vec::new(),
            latency: vec![LagStats::default(); n],
            holds: vec![LagStats::default(); n],
            live: vec![(0, 0, 0.0, 0); n],
            configs,
            measuring: false,
        }
    }

    /// Saga `s`'s configuration.
    #[inline]
    pub fn config(&self, s: usize) -> &SagaConfig {
        &self.configs[s]
    }

    /// Sagas configured.
    pub fn len(&self) -> usize {
        self.configs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.configs.is_empty()
    }

    fn account(&mut self, s: usize, now: u64) {
        let l = &mut self.live[s];
        if self.measuring {
            l.2 += l.1 as f64 * now.saturating_sub(l.3) as f64;
        }
        l.3 = now;
    }

    /// A saga starts.
    pub fn start(&mut self, s: usize) {
        self.counts[s].started += 1;
        self.live[s].0 += 1;
    }

    /// The hold is taken.
    pub fn take(&mut self, s: usize, now: u64) {
        self.account(s, now);
        self.live[s].1 += 1;
    }

    /// The hold taken at `since` is given back.
    pub fn release(&mut self, s: usize, since: u64, now: u64) {
        self.account(s, now);
        self.live[s].1 -= 1;
        if self.measuring {
            self.holds[s].record(now - since);
        }
    }

    /// A compensation runs (`retry`: again, after a failure).
    pub fn compensation(&mut self, s: usize, retry: bool) {
        let c = &mut self.counts[s];
        c.compensations += 1;
        c.retries += u64::from(retry);
    }

    /// A compensation failed all its attempts.
    pub fn undo_failed(&mut self, s: usize) {
        self.counts[s].undo_failed += 1;
    }

    /// The forward run stopped at step `k`.
    pub fn failed_at(&mut self, s: usize, k: usize) {
        self.counts[s].failed_at[k] += 1;
    }

    /// The saga started at `started` ends with `outcome`; `holding` is when it took a hold it
    /// never gave back (counted held to now, and leaked).
    pub fn end(
        &mut self,
        s: usize,
        outcome: Outcome,
        started: u64,
        holding: Option<u64>,
        now: u64,
    ) {
        if let Some(since) = holding {
            self.release(s, since, now);
            self.counts[s].leaked += 1;
        }
        let c = &mut self.counts[s];
        match outcome {
            Outcome::Completed => c.completed += 1,
            Outcome::Compensated => c.compensated += 1,
            Outcome::Inconsistent => c.inconsistent += 1,
        }
        self.live[s].0 -= 1;
        if self.measuring {
            self.latency[s].record(now - started);
        }
    }

    /// Starts measuring.
    pub fn mark_warm(&mut self, now: u64) {
        for s in 0..self.configs.len() {
            self.account(s, now);
        }
        self.warm = self.counts.clone();
        self.measuring = true;
    }

    /// Gauges at `now`: per saga, sagas in flight and holds.
    pub fn sample(&self, out: &mut Vec<f64>) {
        for l in &self.live {
            out.push(l.0 as f64);
            out.push(l.1 as f64);
        }
    }

    /// The gauge names, in [`Sagas::sample`]'s order.
    pub fn gauge_names(&self) -> Vec<String> {
        self.configs
            .iter()
            .flat_map(|c| {
                [
                    format!("sagas_in_flight.{}", c.name),
                    format!("held.{}", c.name),
                ]
            })
            .collect()
    }

    /// Per saga: its name and metrics over the measured window (ending at `end`, `window_ns`
    /// long).
    pub fn metrics(&mut self, end: u64, window_ns: f64) -> Vec<(String, Vec<(String, f64)>)> {
        let mut out = Vec::new();
        for s in 0..self.configs.len() {
            self.account(s, end);
            let (c, w) = (
                &self.counts[s],
                self.warm.get(s).cloned().unwrap_or_default(),
            );
            let d = |a: u64, b: u64| (a - b) as f64;
            let lat = &self.latency[s];
            let hold = &self.holds[s];
            let mut m = vec![
                ("started".to_string(), d(c.started, w.started)),
                ("sagas_completed".into(), d(c.completed, w.completed)),
                ("sagas_compensated".into(), d(c.compensated, w.compensated)),
                (
                    "sagas_inconsistent".into(),
                    d(c.inconsistent, w.inconsistent),
                ),
                ("compensations".into(), d(c.compensations, w.compensations)),
                ("compensation_retries".into(), d(c.retries, w.retries)),
                (
                    "compensations_failed".into(),
                    d(c.undo_failed, w.undo_failed),
                ),
                ("saga_ms_mean".into(), lat.mean_ms()),
                ("saga_ms_p99".into(), lat.p99_ms()),
                ("saga_ms_max".into(), lat.max_ms()),
                ("hold_ms_mean".into(), hold.mean_ms()),
                ("hold_ms_p99".into(), hold.p99_ms()),
                ("hold_ms_max".into(), hold.max_ms()),
                (
                    "held_mean".into(),
                    if window_ns > 0.0 {
                        self.live[s].2 / window_ns
                    } else {
                        0.0
                    },
                ),
                ("holds_leaked".into(), d(c.leaked, w.leaked)),
                ("in_progress".into(), self.live[s].0 as f64),
            ];
            for (k, name) in self.configs[s].steps.iter().enumerate() {
                let before = w.failed_at.get(k).copied().unwrap_or(0);
                m.push((format!("failed_at.{name}"), d(c.failed_at[k], before)));
            }
            out.push((self.configs[s].name.clone(), m));
        }
        out
    }

    /// Totals over the whole run, warm-up included (for invariants): (started, completed,
    /// compensated, inconsistent, in progress).
    pub fn totals(&self, s: usize) -> (u64, u64, u64, u64, u64) {
        let c = &self.counts[s];
        (
            c.started,
            c.completed,
            c.compensated,
            c.inconsistent,
            self.live[s].0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SagaConfig {
        SagaConfig {
            name: "order".into(),
            steps: vec!["reserve".into(), "charge".into()],
            undo_attempts: 3,
            undo_backoff: 0,
            hold: Some((0, 1)),
            orchestrator: None,
            participants: None,
        }
    }

    #[test]
    fn outcomes_add_up_and_holds_are_timed() {
        let mut s = Sagas::new(vec![config()]);
        s.mark_warm(0);
        s.start(0);
        s.take(0, 10);
        s.release(0, 10, 40);
        s.end(0, Outcome::Completed, 0, None, 50);
        s.start(0);
        s.take(0, 100);
        s.end(0, Outcome::Inconsistent, 90, Some(100), 200);
        let m: std::collections::HashMap<String, f64> = s
            .metrics(200, 200.0)
            .into_iter()
            .next()
            .unwrap()
            .1
            .into_iter()
            .collect();
        assert_eq!(m["started"], 2.0);
        assert_eq!(m["sagas_completed"] + m["sagas_inconsistent"], 2.0);
        assert_eq!(m["holds_leaked"], 1.0);
        assert_eq!(m["in_progress"], 0.0);
        // Held 30 ns and 100 ns over a 200 ns window.
        assert!((m["held_mean"] - 130.0 / 200.0).abs() < 1e-12);
        assert_eq!(s.totals(0), (2, 1, 0, 1, 0));
    }
}
