//! Read routing: which node serves a read, a pure decision over the replication state.
//!
//! | name | rule | state |
//! |---|---|---|
//! | `primary` | always the primary | none |
//! | `round_robin` | live replicas in turn | a cursor |
//! | `least_loaded` | the live replica with the least outstanding work (the engine's count); ties in turn | a cursor |
//! | `read_your_writes` | the primary for `window` ns after the reader's own last write, else round robin | last write time per user |
//! | `read_your_writes_lsn` | in turn, a live replica that has applied the reader's last write; none: the primary | last write LSN per user |
//! | `lag_aware` | in turn, a live replica whose time lag is at most `max_lag`; none: the primary | a cursor |
//!
//! A replica that is down (or a vacant slot) is never chosen; when no replica qualifies, the
//! read goes to the primary, even if the primary is down (the read then fails).
//!
//! `read_your_writes_lsn` guarantees a reader sees its own last write. A failover that loses
//! that write lowers the position the reader needs to the fork point (the newest position the
//! write could have survived at), so the guarantee holds for what survived.

use super::{Lsn, Node, Replication};

/// A routing strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Routing {
    /// Every read on the primary.
    Primary,
    /// Live replicas in turn.
    RoundRobin,
    /// The live replica with the least outstanding work.
    LeastLoaded,
    /// The primary for `window` ns after the reader's own last write.
    ReadYourWrites {
        /// ns, at least 1.
        window: u64,
    },
    /// A replica only if it has applied the reader's last write.
    ReadYourWritesLsn,
    /// Replicas whose time lag is at most `max_lag` ns (0: only caught-up replicas).
    LagAware {
        /// ns.
        max_lag: u64,
    },
}

impl Routing {
    /// Names as scenario files spell them, in declaration order.
    pub const NAMES: [&'static str; 6] = [
        "primary",
        "round_robin",
        "least_loaded",
        "read_your_writes",
        "read_your_writes_lsn",
        "lag_aware",
    ];

    /// Its name in scenario files.
    pub fn name(self) -> &'static str {
        Self::NAMES[match self {
            Routing::Primary => 0,
            Routing::RoundRobin => 1,
            Routing::LeastLoaded => 2,
            Routing::ReadYourWrites { .. } => 3,
            Routing::ReadYourWritesLsn => 4,
            Routing::LagAware { .. } => 5,
        }]
    }

    /// Whether the strategy makes sense with `replicas` replica slots and `users` readers.
    pub fn check(self, replicas: usize, users: usize) -> Result<(), String> {
        let name = self.name();
        if self != Routing::Primary && replicas == 0 {
            return Err(format!(
                "routing `{name}` reads from replicas, but there are none (use `primary`)"
            ));
        }
        if let Routing::ReadYourWrites { window: 0 } = self {
            return Err(format!(
                "routing `{name}` needs a window of at least 1 ns (0 is plain `round_robin`)"
            ));
        }
        if self.per_user() && users == 0 {
            return Err(format!(
                "routing `{name}` tracks each user's last write, but there are no users"
            ));
        }
        Ok(())
    }

    fn per_user(self) -> bool {
        matches!(
            self,
            Routing::ReadYourWrites { .. } | Routing::ReadYourWritesLsn
        )
    }
}

/// A user's last write.
#[derive(Debug, Clone, Copy, Default)]
struct LastWrite {
    /// Its LSN (0: none), valid in `epoch`.
    lsn: Lsn,
    /// When it committed, ns.
    at: u64,
    /// The failover epoch `lsn` was taken in.
    epoch: usize,
    wrote: bool,
}

/// A routing strategy with its state.
#[derive(Debug, Clone)]
pub struct Router {
    routing: Routing,
    /// The slot to try first next time.
    cursor: usize,
    /// Per user, for the read-your-writes strategies (empty otherwise).
    users: Vec<LastWrite>,
}

impl Router {
    /// A router for `replicas` replica slots and users `0..users` (per-user state is
    /// allocated here for the read-your-writes strategies only: 32 bytes a user).
    pub fn new(routing: Routing, replicas: usize, users: usize) -> Result<Router, String> {
        routing.check(replicas, users)?;
        let users = if routing.per_user() { users } else { 0 };
        Ok(Router {
            routing,
            cursor: 0,
            users: vec![LastWrite::default(); users],
        })
    }

    /// Its strategy.
    pub fn routing(&self) -> Routing {
        self.routing
    }

    /// User `user` committed the write `lsn` at `now` (ns). Ignored for a user out of range.
    #[inline]
    pub fn wrote(&mut self, db: &Replication, user: usize, lsn: Lsn, now: u64) {
        if let Some(u) = self.users.get_mut(user) {
            *u = LastWrite {
                lsn,
                at: now,
                epoch: db.epoch(),
                wrote: true,
            };
        }
    }

    /// The node to serve a read by `user` at `now` (ns). `loads[r]` is replica `r`'s
    /// outstanding work (`least_loaded` only; missing entries count 0). A read-your-writes
    /// read by a user out of range goes to the primary.
    #[inline]
    pub fn route(&mut self, db: &Replication, user: usize, now: u64, loads: &[u32]) -> Node {
        let chosen = match self.routing {
            Routing::Primary => None,
            Routing::RoundRobin => self.next(db, |_| true),
            Routing::LeastLoaded => self.least_loaded(db, loads),
            Routing::ReadYourWrites { window } => match self.users.get(user) {
                Some(u) if u.wrote && now.saturating_sub(u.at) < window => None,
                Some(_) => self.next(db, |_| true),
                None => None,
            },
            Routing::ReadYourWritesLsn => match self.needed(db, user) {
                Some(need) => self.next(db, |r| db.applied(r) >= need),
                None => None,
            },
            Routing::LagAware { max_lag } => self.next(db, |r| db.lag(r, now) <= max_lag),
        };
        chosen.map_or(Node::Primary, Node::Replica)
    }

    /// The position a replica must have applied to serve `user` (their last write, lowered to
    /// the fork point of every failover since); `None` for a user out of range.
    fn needed(&mut self, db: &Replication, user: usize) -> Option<Lsn> {
        let u = self.users.get_mut(user)?;
        while u.epoch < db.epoch() {
            u.lsn = u.lsn.min(db.fork(u.epoch).unwrap_or(0));
            u.epoch += 1;
        }
        Some(u.lsn)
    }

    /// The first live replica from the cursor on that passes `ok`; the cursor moves past it.
    #[inline]
    fn next(&mut self, db: &Replication, ok: impl Fn(usize) -> bool) -> Option<usize> {
        let n = db.replicas();
        let start = self.cursor;
        for i in 0..n {
            let r = (start + i) % n;
            if db.is_up(r) && ok(r) {
                self.cursor = (r + 1) % n;
                return Some(r);
            }
        }
        None
    }

    /// The live replica with the least load, the first met from the cursor among equals.
    fn least_loaded(&mut self, db: &Replication, loads: &[u32]) -> Option<usize> {
        let n = db.replicas();
        let mut best: Option<(u32, usize)> = None;
        for i in 0..n {
            let r = (self.cursor + i) % n;
            let load = loads.get(r).copied().unwrap_or(0);
            if db.is_up(r) && best.is_none_or(|(b, _)| load < b) {
                best = Some((load, r));
            }
        }
        let (_, r) = best?;
        self.cursor = (r + 1) % n;
        Some(r)
    }
}
