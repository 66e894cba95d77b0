//! Shoppers for real: the simulator's session graph ([`crate::model::sessions`]) walked by
//! closed-loop users against real servers.
//!
//! A scenario with `[sessions]` and a closed workload (`type = "users"`) runs, for real, as
//! [`Shoppers`]: `users` concurrent shoppers, each a [`Shopper`] that starts a session at the
//! graph's start state, sends the page of its state (the real operation its class maps to in
//! `[real] ops`), waits for it, and hands the page's measured latency (from the moment it was
//! sent, as the recorder measures it) to its own [`Sessions`], the simulator's state machine:
//! a failed page or one slower than a patience drawn for it abandons the session; otherwise the
//! shopper thinks the state's think time and moves along the graph, `exit` ending the session.
//! Between sessions it thinks the workload's `think`, as the simulator's users do.
//!
//! Each shopper draws from two seeded streams of its own ([`stream_rng`]): one for the graph
//! (transitions, think times, patience: the [`Sessions`] stream) and one for keys and the think
//! time between sessions. A shopper's session paths therefore depend only on the seed, its
//! index and what its pages did (latency, failure), not on how the shoppers interleave; with
//! no patience they are the same for every strategy (common random numbers).
//!
//! At the end the shoppers' sessions are added up ([`Sessions::absorb`]) into one, whose
//! [`Sessions::metrics`] are the real run's `sessions` component, under the simulator's names.

use std::time::Duration;

use super::plan::RealError;
use super::workload::stream_rng;
use crate::engine::Rng;
use crate::model::dist::Dist;
use crate::model::sessions::{Next, Sessions, SessionsSpec};
use crate::model::workload::KeyDist;

/// Stream numbers of a shopper's graph draws (plus its index).
const GRAPH_STREAM: u64 = 0x5E55_0000_0000;
/// Stream numbers of a shopper's keys and think times between sessions (plus its index).
const KEY_STREAM: u64 = 0x5E56_0000_0000;

/// The closed-loop session load of a real run (see the module docs).
#[derive(Debug, Clone)]
pub struct Shoppers {
    /// Concurrent shoppers.
    pub users: u32,
    /// Shoppers start evenly spread over this ramp-up.
    pub ramp: Duration,
    /// Think time between a session's end and the next session.
    pub think: Dist,
    /// The session graph; its states' classes index [`crate::real::plan::RealPlan::classes`].
    pub graph: SessionsSpec,
    /// Key popularity of the pages.
    pub keys: KeyDist,
}

impl Shoppers {
    /// Refuses shoppers the run cannot drive: none, a state whose class is not one of the
    /// plan's `classes`, invalid key parameters.
    pub fn check(&self, classes: usize) -> Result<(), RealError> {
        let bad = |m: String| Err(RealError::InvalidPlan(m));
        if self.users == 0 {
            return bad("sessions need at least one shopper".into());
        }
        if let Some(s) = self
            .graph
            .states
            .iter()
            .find(|s| usize::from(s.class) >= classes)
        {
            return bad(format!(
                "session state `{}` sends class {} of {classes}",
                s.name, s.class
            ));
        }
        self.keys
            .check()
            .map_err(|m| RealError::InvalidPlan(format!("key distribution: {m}")))
    }
}

/// One shopper: its sessions, one after another.
#[derive(Debug, Clone)]
pub struct Shopper {
    sessions: Sessions,
    /// The session in progress, if any.
    current: Option<u32>,
    rng: Rng,
    think: Dist,
    keys: KeyDist,
    warmup_ns: u64,
    warm: bool,
}

impl Shopper {
    /// Shopper `index` of `load`, seeded from `seed`; its counts start at `warmup_ns`.
    pub fn new(load: &Shoppers, seed: u64, index: u32, warmup_ns: u64) -> Shopper {
        let i = u64::from(index);
        Shopper {
            sessions: Sessions::new(load.graph.clone(), stream_rng(seed, GRAPH_STREAM + i)),
            current: None,
            rng: stream_rng(seed, KEY_STREAM + i),
            think: load.think.clone(),
            keys: load.keys.clone(),
            warmup_ns,
            warm: false,
        }
    }

    /// The page to send at `now_ns` (ns from the start of the run): the class and key of the
    /// session in progress, or of the first page of a new session.
    pub fn next_page(&mut self, now_ns: u64) -> (u16, u64) {
        self.warm_up(now_ns);
        let class = match self.current {
            Some(id) => self.sessions.page_of(id).0,
            None => {
                let (id, class) = self.sessions.start(now_ns, 0);
                self.current = Some(id);
                class
            }
        };
        (class, self.keys.sample(&mut self.rng))
    }

    /// The page came back at `now_ns`, after `latency_ns`, failed or not; returns how long the
    /// shopper thinks before its next page (the state's think time, or the workload's between
    /// sessions).
    pub fn page_done(&mut self, now_ns: u64, latency_ns: u64, failed: bool) -> Duration {
        self.warm_up(now_ns);
        let Some(id) = self.current else {
            return Duration::ZERO;
        };
        match self.sessions.page_done(now_ns, id, latency_ns, failed) {
            Next::Page(think) => Duration::from_nanos(think),
            Next::Ended(_) => {
                self.current = None;
                Duration::from_nanos(self.think.sample_ns(&mut self.rng))
            }
        }
    }

    /// Whether a session is in progress.
    pub fn in_session(&self) -> bool {
        self.current.is_some()
    }

    /// The shopper's sessions, measured from the warm-up (a shopper that never got past it
    /// measured nothing).
    pub fn into_sessions(mut self) -> Sessions {
        if !self.warm {
            self.sessions.mark_warm();
        }
        self.sessions
    }

    fn warm_up(&mut self, now_ns: u64) {
        if !self.warm && now_ns >= self.warmup_ns {
            self.sessions.mark_warm();
            self.warm = true;
        }
    }
}

/// The sessions of all `shoppers`, added up in shopper order (so sums of floats are the same
/// whatever order the shoppers finished in); `None` without shoppers.
pub fn total(shoppers: Vec<Sessions>) -> Option<Sessions> {
    let mut it = shoppers.into_iter();
    let mut all = it.next()?;
    for s in it {
        all.absorb(&s);
    }
    Some(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::sessions::{EXIT, StateSpec};

    const MS: u64 = 1_000_000;

    /// home -> product 0.6 | exit; product -> pay 0.5 | home 0.2 | exit; pay -> exit; classes
    /// 0 (home, product) and 1 (pay).
    fn load(patience: Option<Dist>) -> Shoppers {
        let state = |name: &str, class, next: Vec<(f64, u16)>| StateSpec {
            name: name.into(),
            class,
            think: Dist::Exponential { mean: 0.01 },
            patience: patience.clone(),
            next,
        };
        Shoppers {
            users: 4,
            ramp: Duration::ZERO,
            think: Dist::Constant(0.5),
            graph: SessionsSpec {
                states: vec![
                    state("home", 0, vec![(0.6, 1), (0.4, EXIT)]),
                    state("product", 0, vec![(0.5, 2), (0.2, 0), (0.3, EXIT)]),
                    state("pay", 1, vec![(1.0, EXIT)]),
                ],
                start: 0,
                converts: 2,
                revenue: 10.0,
            },
            keys: KeyDist::Uniform { n: 100 },
        }
    }

    /// Walks `pages` pages of `latency_ns` each (one every 10 ms); returns the (class, key) of
    /// every page sent and the shopper.
    fn walk(mut s: Shopper, pages: u64, latency_ns: u64) -> (Vec<(u16, u64)>, Shopper) {
        let mut sent = Vec::new();
        for p in 0..pages {
            sent.push(s.next_page(p * 10 * MS));
            s.page_done(p * 10 * MS + latency_ns, latency_ns, false);
        }
        (sent, s)
    }

    fn metric(s: &Sessions, name: &str) -> f64 {
        s.metrics(1e9)
            .into_iter()
            .find(|(k, _)| k == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .1
    }

    #[test]
    fn a_shoppers_path_depends_only_on_the_seed_and_its_index() {
        let l = load(None);
        let a = walk(Shopper::new(&l, 7, 3, 0), 500, MS).0;
        let b = walk(Shopper::new(&l, 7, 3, 0), 500, MS).0;
        assert_eq!(a, b);
        // Without patience the page latency changes nothing.
        assert_eq!(a, walk(Shopper::new(&l, 7, 3, 0), 500, 900 * MS).0);
        assert_ne!(a, walk(Shopper::new(&l, 7, 4, 0), 500, MS).0);
        assert_ne!(a, walk(Shopper::new(&l, 8, 3, 0), 500, MS).0);
        assert!(a.iter().all(|(c, k)| *c < 2 && *k < 100));
    }

    #[test]
    fn sessions_are_conserved_and_visit_the_graph_in_its_ratios() {
        let l = load(None);
        let (_, s) = walk(Shopper::new(&l, 1, 0, 0), 40_000, MS);
        let open = u64::from(s.in_session());
        let s = s.into_sessions();
        let started = metric(&s, "sessions");
        let finished = metric(&s, "ended") + metric(&s, "abandoned");
        assert_eq!(started, finished + open as f64);
        assert_eq!(metric(&s, "abandoned"), 0.0);
        // Every page sent is a visit, and so is the next page of a session in progress (a
        // visit counts when the graph moves to its state).
        let visits: f64 = ["home", "product", "pay"]
            .iter()
            .map(|n| metric(&s, &format!("visits.{n}")))
            .sum();
        assert_eq!(visits, (40_000 + open) as f64);
        // V = e_home + V P: home 1 / (1 - 0.12), product 0.6 home, pay 0.3 home.
        let v = l.graph.visit_ratios();
        for (i, n) in ["home", "product", "pay"].iter().enumerate() {
            let per = metric(&s, &format!("visits.{n}")) / started;
            assert!((per - v[i]).abs() < 0.03, "{n}: {per} vs {}", v[i]);
        }
        let unpaid = metric(&s, "visits.pay") - metric(&s, "conversions");
        assert!(unpaid == 0.0 || unpaid == open as f64, "{unpaid}");
    }

    #[test]
    fn zero_patience_abandons_every_session_at_its_first_page() {
        let l = load(Some(Dist::Constant(0.0)));
        let (_, s) = walk(Shopper::new(&l, 1, 0, 0), 1_000, MS);
        assert!(!s.in_session());
        let s = s.into_sessions();
        assert_eq!(metric(&s, "sessions"), 1_000.0);
        assert_eq!(metric(&s, "abandoned"), 1_000.0);
        assert_eq!(metric(&s, "abandoned.home"), 1_000.0);
        assert_eq!(metric(&s, "conversions"), 0.0);
        assert!(metric(&s, "revenue_lost") > 0.0);
    }

    #[test]
    fn a_failed_page_abandons_and_the_shopper_thinks_before_the_next_session() {
        let l = load(None);
        let mut s = Shopper::new(&l, 1, 0, 0);
        s.next_page(0);
        assert_eq!(s.page_done(MS, MS, true), Duration::from_millis(500));
        assert!(!s.in_session());
        assert_eq!(metric(&s.into_sessions(), "abandoned.home"), 1.0);
    }

    #[test]
    fn pages_before_the_warm_up_are_not_counted_and_shoppers_add_up() {
        let l = load(None);
        // Pages every 10 ms for 1 s; the warm-up ends at 500 ms.
        let (_, a) = walk(Shopper::new(&l, 1, 0, 500 * MS), 100, MS);
        let (_, b) = walk(Shopper::new(&l, 1, 1, 500 * MS), 100, MS);
        let (a, b) = (a.into_sessions(), b.into_sessions());
        let visits = |s: &Sessions| -> f64 {
            ["home", "product", "pay"]
                .iter()
                .map(|n| metric(s, &format!("visits.{n}")))
                .sum()
        };
        // Only the visits the graph made after 500 ms count: about 50 of the 100.
        assert!((45.0..=50.0).contains(&visits(&a)), "{}", visits(&a));
        let both = total(vec![a.clone(), b.clone()]).unwrap();
        for m in ["sessions", "ended", "conversions", "visits.home", "revenue"] {
            assert_eq!(metric(&both, m), metric(&a, m) + metric(&b, m), "{m}");
        }
        let finished = |s: &Sessions| metric(s, "ended") + metric(s, "abandoned");
        let rate =
            (metric(&a, "conversions") + metric(&b, "conversions")) / (finished(&a) + finished(&b));
        assert!((metric(&both, "conversion_rate") - rate).abs() < 1e-12);
        assert!(total(Vec::new()).is_none());
    }

    #[test]
    fn shoppers_the_plan_cannot_drive_are_refused() {
        assert!(load(None).check(2).is_ok());
        assert!(load(None).check(1).is_err());
        let none = Shoppers {
            users: 0,
            ..load(None)
        };
        assert!(none.check(2).is_err());
        let bad_keys = Shoppers {
            keys: KeyDist::Uniform { n: 0 },
            ..load(None)
        };
        assert!(bad_keys.check(2).is_err());
    }
}
