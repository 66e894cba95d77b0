//! Shoppers as sessions: a Customer Behavior Model Graph (Menascé & Almeida) of states, each
//! sending one page request of its class, with think times, transition probabilities and a
//! patience; conversions and revenue, and what slow pages cost in both.
//!
//! ```text
//! [sessions]
//! start = "home"                 the first page of every session
//! converts = "pay"               a page of this state that succeeds in time is an order
//! revenue = 80                   per order
//!
//! [sessions.states.home]
//! class = "browse"               the request class its page sends (its path, its timeout)
//! think = "8s"                   after the page, before the next
//! patience = { dist = "exponential", mean = "6s" }   a slower page (or an error) ends the session
//! next = { search = 0.4, product = 0.4, exit = 0.2 }
//! ```
//!
//! With `[sessions]`, every arrival of the workload starts a session (open: sessions per
//! second, under any arrival profile) and a closed workload's users run sessions one after
//! another (a user thinks its workload `think`, then starts the next). A session sends the
//! page of its state, and when the page is back: if it failed or took longer than a patience
//! drawn for it, the shopper abandons; else a page of `converts` counts an order, and the
//! session moves to the next state (drawn from `next`, `exit` ending it) after the state's
//! think time.
//!
//! An abandonment at state s loses, on average, the orders a session at s would still have
//! placed: the probability `P(s)` that the chain reaches `converts` from s (solved once from the
//! graph), so `conversions_lost` and `revenue_lost` are expectations, not guesses.
//!
//! Metrics (component `sessions`): `sessions`, `ended`, `abandoned`, `conversions`,
//! `conversion_rate` (of the sessions that ended or abandoned), `conversions_lost`,
//! `revenue`, `revenue_lost`, `revenue_per_hour`, `session_s_mean`, `pages_per_session`,
//! `in_progress`, `visits.STATE`, `abandoned.STATE`. Gauge: `sessions_active.sessions`.

use super::dist::Dist;
use crate::engine::Rng;

/// Where a transition goes: a state, or [`EXIT`].
pub const EXIT: u16 = u16::MAX;

/// One state of the graph.
#[derive(Debug, Clone)]
pub struct StateSpec {
    /// Name.
    pub name: String,
    /// The class its page sends.
    pub class: u16,
    /// Think time after its page.
    pub think: Dist,
    /// Patience: a page slower than a draw of it ends the session (`None`: infinite).
    pub patience: Option<Dist>,
    /// Transitions: (probability, target).
    pub next: Vec<(f64, u16)>,
}

/// The graph.
#[derive(Debug, Clone)]
pub struct SessionsSpec {
    /// States.
    pub states: Vec<StateSpec>,
    /// The first state.
    pub start: u16,
    /// The state whose successful page is an order.
    pub converts: u16,
    /// Revenue per order.
    pub revenue: f64,
}

impl SessionsSpec {
    /// `P(s)`: the probability that a session at state `s` (its page not yet sent) reaches the
    /// converting state, without abandonment. Solved by Gauss-Seidel on `P = 1` at
    /// `converts`, `P(s) = sum_t p(s, t) P(t)` elsewhere, `P(exit) = 0`.
    pub fn conversion_probabilities(&self) -> Vec<f64> {
        let n = self.states.len();
        let mut p = vec![0.0; n];
        for _ in 0..100_000 {
            let mut change: f64 = 0.0;
            for s in 0..n {
                let x = if s == self.converts as usize {
                    1.0
                } else {
                    self.states[s]
                        .next
                        .iter()
                        .filter(|(_, t)| *t != EXIT)
                        .map(|(q, t)| q * p[*t as usize])
                        .sum()
                };
                change = change.max((x - p[s]).abs());
                p[s] = x;
            }
            if change < 1e-13 {
                break;
            }
        }
        p
    }

    /// Mean visits to each state per session without abandonment: `V = e_start + V P`
    /// (the visit ratios of the graph), by Gauss-Seidel.
    pub fn visit_ratios(&self) -> Vec<f64> {
        let n = self.states.len();
        let mut v = vec![0.0; n];
        for _ in 0..100_000 {
            let mut change: f64 = 0.0;
            for t in 0..n {
                let mut x = if t == self.start as usize { 1.0 } else { 0.0 };
                for (s, st) in self.states.iter().enumerate() {
                    for (q, to) in &st.next {
                        if *to as usize == t {
                            x += v[s] * q;
                        }
                    }
                }
                change = change.max((x - v[t]).abs());
                v[t] = x;
            }
            if change < 1e-12 {
                break;
            }
        }
        v
    }
}

/// One session in progress.
#[derive(Debug, Clone, Copy)]
struct Session {
    state: u16,
    started: u64,
    pages: u32,
    user: u32,
}

#[derive(Debug, Clone, Default)]
struct Counts {
    started: u64,
    ended: u64,
    abandoned: u64,
    conversions: u64,
    lost: f64,
    length_ns: f64,
    pages: u64,
    visits: Vec<u64>,
    abandoned_at: Vec<u64>,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.started += o.started;
        self.ended += o.ended;
        self.abandoned += o.abandoned;
        self.conversions += o.conversions;
        self.lost += o.lost;
        self.length_ns += o.length_ns;
        self.pages += o.pages;
        for (a, b) in self.visits.iter_mut().zip(&o.visits) {
            *a += b;
        }
        for (a, b) in self.abandoned_at.iter_mut().zip(&o.abandoned_at) {
            *a += b;
        }
    }
}

/// What happens after a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The next page, after this think time (ns).
    Page(u64),
    /// The session ended (exit or abandonment); the closed-loop user it belonged to, if any.
    Ended(u32),
}

/// Sessions of one replication.
#[derive(Debug, Clone)]
pub struct Sessions {
    spec: SessionsSpec,
    p_convert: Vec<f64>,
    live: Vec<Session>,
    free: Vec<u32>,
    active: u64,
    counts: Counts,
    warm: Counts,
    rng: Rng,
}

impl Sessions {
    /// The sessions of `spec`, drawing transitions, think times and patience from `rng`.
    pub fn new(spec: SessionsSpec, rng: Rng) -> Sessions {
        let n = spec.states.len();
        let counts = Counts {
            visits: vec![0; n],
            abandoned_at: vec![0; n],
            ..Counts::default()
        };
        Sessions {
            p_convert: spec.conversion_probabilities(),
            spec,
            live: Vec::new(),
            free: Vec::new(),
            active: 0,
            warm: counts.clone(),
            counts,
            rng,
        }
    }

    /// Starts a session for `user` (a closed-loop user, or `NONE`): its id and its first page's
    /// class.
    pub fn start(&mut self, now: u64, user: u32) -> (u32, u16) {
        let s = Session {
            state: self.spec.start,
            started: now,
            pages: 0,
            user,
        };
        let id = match self.free.pop() {
            Some(i) => {
                self.live[i as usize] = s;
                i
            }
            None => {
                self.live.push(s);
                (self.live.len() - 1) as u32
            }
        };
        self.counts.started += 1;
        self.active += 1;
        self.counts.visits[self.spec.start as usize] += 1;
        (id, self.spec.states[self.spec.start as usize].class)
    }

    /// Session `id`'s page came back after `latency` ns, failed or not.
    pub fn page_done(&mut self, now: u64, id: u32, latency: u64, failed: bool) -> Next {
        let s = self.live[id as usize];
        let state = &self.spec.states[s.state as usize];
        let patience = state
            .patience
            .as_ref()
            .map_or(u64::MAX, |d| d.sample_ns(&mut self.rng));
        self.live[id as usize].pages += 1;
        if failed || latency > patience {
            self.counts.abandoned += 1;
            self.counts.abandoned_at[s.state as usize] += 1;
            self.counts.lost += self.p_convert[s.state as usize];
            return self.end(now, id);
        }
        if s.state == self.spec.converts {
            self.counts.conversions += 1;
        }
        let u = self.rng.next_f64();
        let mut acc = 0.0;
        let mut to = EXIT;
        for (q, t) in &state.next {
            acc += q;
            if u < acc {
                to = *t;
                break;
            }
        }
        if to == EXIT {
            self.counts.ended += 1;
            return self.end(now, id);
        }
        let think = state.think.sample_ns(&mut self.rng);
        self.live[id as usize].state = to;
        self.counts.visits[to as usize] += 1;
        Next::Page(think)
    }

    fn end(&mut self, now: u64, id: u32) -> Next {
        let s = self.live[id as usize];
        self.counts.length_ns += (now - s.started) as f64;
        // `s` was read before this page was counted.
        self.counts.pages += u64::from(s.pages) + 1;
        self.free.push(id);
        self.active -= 1;
        Next::Ended(s.user)
    }

    /// The class of session `id`'s current page, and its closed-loop user.
    pub fn page_of(&self, id: u32) -> (u16, u32) {
        let s = &self.live[id as usize];
        (self.spec.states[s.state as usize].class, s.user)
    }

    /// Adds the sessions of `other`, another walker of the same graph (a real run gives each
    /// shopper its own), so that [`Sessions::metrics`] covers both.
    pub fn absorb(&mut self, other: &Sessions) {
        self.counts.add(&other.counts);
        self.warm.add(&other.warm);
        self.active += other.active;
    }

    /// Starts measuring.
    pub fn mark_warm(&mut self) {
        self.warm = self.counts.clone();
    }

    /// Sessions in progress.
    pub fn active(&self) -> u64 {
        self.active
    }

    /// Whole-run totals: (started, ended, abandoned, in progress).
    pub fn totals(&self) -> (u64, u64, u64, u64) {
        let c = &self.counts;
        (c.started, c.ended, c.abandoned, self.active)
    }

    /// Metrics over a measured window of `window_ns`.
    pub fn metrics(&self, window_ns: f64) -> Vec<(String, f64)> {
        let (c, w) = (&self.counts, &self.warm);
        let d = |a: u64, b: u64| (a - b) as f64;
        let finished = d(c.ended + c.abandoned, w.ended + w.abandoned);
        let conversions = d(c.conversions, w.conversions);
        let lost = c.lost - w.lost;
        let revenue = conversions * self.spec.revenue;
        let per = |x: f64| if finished > 0.0 { x / finished } else { 0.0 };
        let hours = window_ns / 3.6e12;
        let mut m = vec![
            ("sessions".to_string(), d(c.started, w.started)),
            ("ended".into(), d(c.ended, w.ended)),
            ("abandoned".into(), d(c.abandoned, w.abandoned)),
            ("conversions".into(), conversions),
            ("conversion_rate".into(), per(conversions)),
            ("conversions_lost".into(), lost),
            ("revenue".into(), revenue),
            ("revenue_lost".into(), lost * self.spec.revenue),
            (
                "revenue_per_hour".into(),
                if hours > 0.0 { revenue / hours } else { 0.0 },
            ),
            (
                "session_s_mean".into(),
                per((c.length_ns - w.length_ns) / 1e9),
            ),
            ("pages_per_session".into(), per(d(c.pages, w.pages))),
            ("in_progress".into(), self.active as f64),
        ];
        for (s, st) in self.spec.states.iter().enumerate() {
            m.push((format!("visits.{}", st.name), d(c.visits[s], w.visits[s])));
        }
        for (s, st) in self.spec.states.iter().enumerate() {
            m.push((
                format!("abandoned.{}", st.name),
                d(c.abandoned_at[s], w.abandoned_at[s]),
            ));
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// home -> product (0.6) | exit; product -> cart (0.5) | home (0.3) | exit; cart -> pay
    /// (0.8) | exit; pay -> exit.
    fn graph() -> SessionsSpec {
        let state = |name: &str, next: Vec<(f64, u16)>| StateSpec {
            name: name.into(),
            class: 0,
            think: Dist::Constant(0.0),
            patience: None,
            next,
        };
        SessionsSpec {
            states: vec![
                state("home", vec![(0.6, 1), (0.4, EXIT)]),
                state("product", vec![(0.5, 2), (0.3, 0), (0.2, EXIT)]),
                state("cart", vec![(0.8, 3), (0.2, EXIT)]),
                state("pay", vec![(1.0, EXIT)]),
            ],
            start: 0,
            converts: 3,
            revenue: 50.0,
        }
    }

    #[test]
    fn conversion_probabilities_solve_the_chain() {
        let p = graph().conversion_probabilities();
        // P(cart) = 0.8; P(product) = 0.5 * 0.8 + 0.3 P(home); P(home) = 0.6 P(product).
        let home = 0.6 * 0.4 / (1.0 - 0.6 * 0.3);
        assert!((p[0] - home).abs() < 1e-12, "{p:?}");
        assert!((p[1] - home / 0.6).abs() < 1e-12);
        assert!((p[2] - 0.8).abs() < 1e-12 && p[3] == 1.0);
    }

    #[test]
    fn visit_ratios_solve_the_chain() {
        let v = graph().visit_ratios();
        // V(home) = 1 + 0.3 V(product), V(product) = 0.6 V(home).
        let home = 1.0 / (1.0 - 0.18);
        assert!((v[0] - home).abs() < 1e-9, "{v:?}");
        assert!((v[1] - 0.6 * home).abs() < 1e-9);
        assert!((v[2] - 0.3 * home).abs() < 1e-9);
        assert!((v[3] - 0.24 * home).abs() < 1e-9);
        // The share of sessions that convert is V(pay) (one visit at most) = P(home).
        assert!((v[3] - graph().conversion_probabilities()[0]).abs() < 1e-9);
    }
}
