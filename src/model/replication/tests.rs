//! Hand-computed timelines (positions, lag, acknowledgements, failover, each routing
//! strategy, bad specs), then random event sequences checked against an oracle that keeps
//! every surviving write in a plain list and answers each question by scanning it.

use std::collections::VecDeque;

use proptest::prelude::*;

use super::*;

fn db(replicas: usize, quorum: usize) -> Replication {
    Replication::new(&ReplicationSpec { replicas, quorum }, 100).unwrap()
}

/// Ships `lsn` to every replica that can take it and delivers it at once.
fn ship_all(db: &mut Replication, lsn: Lsn) {
    for r in 0..db.replicas() {
        if let Some(s) = db.shipment(r, lsn) {
            db.arrive(s);
        }
    }
}

/// Delivers and replays everything on every live replica.
fn drain(db: &mut Replication) {
    for r in 0..db.replicas() {
        if let Some(s) = db.catch_up(r) {
            assert!(db.arrive(s));
        }
        let received = db.received(r);
        db.replayed(r, received);
    }
}

// ----- positions, staleness, lag -----

#[test]
fn commits_take_consecutive_positions_and_mark_their_keys() {
    let mut db = db(2, 0);
    assert_eq!(db.commit(5, 10), Ok(1));
    assert_eq!(db.commit(6, 20), Ok(2));
    assert_eq!(db.commit(5, 30), Ok(3));
    assert_eq!(
        (db.head(), db.latest(5), db.latest(6), db.latest(7)),
        (3, 3, 2, 0)
    );
    assert_eq!(db.record(2).map(|r| (r.key, r.at)), Some((6, 20)));
    assert_eq!(db.commit(100, 40), Err(WriteError::KeyOutOfRange));
    assert_eq!((db.stats().writes, db.stats().writes_failed), (3, 1));
}

#[test]
fn a_replica_is_stale_for_a_key_until_it_applies_the_keys_latest_write() {
    let mut db = db(1, 0);
    let a = db.commit(1, 0).unwrap();
    let b = db.commit(2, 0).unwrap();
    ship_all(&mut db, b);
    assert!(db.is_stale(0, 1) && db.is_stale(0, 2) && !db.is_stale(0, 3));
    assert_eq!(db.next_replay(0), Some(a));
    assert!(db.replayed(0, a));
    assert!(!db.is_stale(0, 1) && db.is_stale(0, 2));
    assert_eq!(db.next_replay(0), Some(b));
    assert!(db.replayed(0, b));
    assert_eq!(db.next_replay(0), None);
    assert!(!db.is_stale(0, 2));
    // A key outside the key space was never written.
    assert!(!db.is_stale(0, 1_000));
}

#[test]
fn lag_is_now_minus_the_commit_time_of_the_oldest_record_not_applied() {
    // Commits at 100, 200 and 300 ns; records 1 and 2 arrive at 250, record 3 at 350;
    // replay applies 1 at 400, 2 and 3 at 600.
    let mut db = db(1, 0);
    for at in [100, 200, 300] {
        db.commit(at / 100, at).unwrap();
    }
    assert_eq!((db.lag(0, 300), db.lsn_lag(0)), (300 - 100, 3));
    let s = db.shipment(0, 2).unwrap();
    assert!(db.arrive(s));
    let s = db.shipment(0, 3).unwrap();
    assert!(db.arrive(s));
    assert!(db.replayed(0, 1));
    assert_eq!((db.lag(0, 500), db.lsn_lag(0)), (500 - 200, 2));
    assert!(db.replayed(0, 3));
    assert_eq!((db.lag(0, 700), db.lsn_lag(0)), (0, 0));
    // A write at 800 seen at 1000: 200 behind.
    db.commit(4, 800).unwrap();
    assert_eq!(db.lag(0, 1_000), 200);
}

#[test]
fn replay_stops_at_what_was_received_and_ignores_old_reports() {
    let mut db = db(1, 0);
    db.commit(1, 0).unwrap();
    db.commit(2, 0).unwrap();
    assert_eq!(db.next_replay(0), None);
    ship_all(&mut db, 1);
    assert!(db.replayed(0, 1));
    assert!(!db.replayed(0, 1));
    assert_eq!(db.applied(0), 1);
}

#[test]
fn the_log_keeps_only_what_some_replica_has_not_applied() {
    let mut db = db(2, 0);
    for i in 0..10 {
        db.commit(i, i).unwrap();
    }
    assert_eq!(db.log_len(), 10);
    ship_all(&mut db, 10);
    db.replayed(0, 10);
    assert_eq!(db.log_len(), 10); // replica 1 has applied nothing
    db.replayed(1, 4);
    assert_eq!(db.log_len(), 6);
    // A replica that is down keeps its place (its lag stays exact when it comes back).
    assert!(db.replica_down(1));
    db.commit(0, 50).unwrap();
    assert_eq!(db.log_len(), 7);
    assert_eq!(db.lag(1, 60), 60 - 4); // record 5 committed at 4
    db.replica_up(1);
    drain(&mut db);
    assert_eq!(db.log_len(), 0);
    // With no replica at all the log stays empty.
    let mut solo = Replication::new(
        &ReplicationSpec {
            replicas: 0,
            quorum: 0,
        },
        10,
    )
    .unwrap();
    solo.commit(3, 0).unwrap();
    assert_eq!((solo.log_len(), solo.latest(3)), (0, 1));
}

// ----- shipping and links -----

#[test]
fn a_replica_that_goes_down_loses_what_was_in_flight_and_catches_up_after() {
    let mut db = db(1, 0);
    let lsn = db.commit(1, 0).unwrap();
    let in_flight = db.shipment(0, lsn).unwrap();
    assert!(db.replica_down(0));
    assert!(!db.replica_down(0));
    assert_eq!(db.shipment(0, lsn), None);
    db.commit(2, 0).unwrap();
    assert!(db.replica_up(0));
    assert!(!db.arrive(in_flight), "a shipment from before the outage");
    let s = db.catch_up(0).unwrap();
    assert_eq!(s.upto, 2);
    assert!(db.arrive(s));
    assert!(!db.arrive(s), "nothing new");
    assert_eq!(db.catch_up(0), None);
}

// ----- acknowledgement -----

#[test]
fn asynchronous_commit_acknowledges_at_once() {
    let mut db = db(2, 0);
    let lsn = db.commit(1, 0).unwrap();
    assert_eq!(db.acked_upto(), lsn);
}

#[test]
fn quorum_commit_waits_for_k_replicas_and_never_goes_back() {
    let mut db = db(3, 2);
    for k in 0..5 {
        db.commit(k, 0).unwrap();
    }
    assert_eq!(db.acked_upto(), 0);
    let s = db.shipment(0, 5).unwrap();
    db.arrive(s);
    assert_eq!(db.acked_upto(), 0, "one replica is not a quorum of two");
    let s = db.shipment(1, 3).unwrap();
    db.arrive(s);
    assert_eq!((db.acked_upto(), db.received_by(2)), (3, 3));
    let s = db.shipment(2, 4).unwrap();
    db.arrive(s);
    assert_eq!((db.acked_upto(), db.received_by(1)), (4, 5));
    // Two replicas go down: fewer than two receive now, but what was acknowledged stays.
    db.replica_down(0);
    db.replica_down(2);
    assert_eq!((db.acked_upto(), db.received_by(2)), (4, 0));
    assert_eq!(db.received_by(0), db.head());
}

#[test]
fn synchronous_commit_with_its_replica_down_blocks() {
    let mut db = db(1, 1);
    db.replica_down(0);
    let lsn = db.commit(1, 0).unwrap();
    assert_eq!(db.shipment(0, lsn), None);
    assert_eq!(db.acked_upto(), 0);
    db.replica_up(0);
    let s = db.catch_up(0).unwrap();
    db.arrive(s);
    assert_eq!(db.acked_upto(), lsn);
}

// ----- failover -----

#[test]
fn failover_promotes_the_replica_that_received_most_and_loses_the_rest() {
    let mut db = db(3, 0);
    // Keys: 1 written at LSN 1, 2 and 5; key 2 at 3; key 3 at 4 and 6.
    for key in [1, 1, 2, 3, 1, 3] {
        db.commit(key, 0).unwrap();
    }
    for (r, upto) in [(0, 2), (1, 4), (2, 6)] {
        let s = db.shipment(r, upto).unwrap();
        db.arrive(s);
    }
    db.replayed(0, 2);
    db.replayed(1, 1);
    db.replayed(2, 6);
    db.replica_down(2); // the one with everything is down
    assert_eq!(db.promote(), None, "the primary is still up");
    assert!(db.fail_primary());
    assert_eq!(db.commit(1, 0), Err(WriteError::PrimaryDown));
    assert_eq!(db.read(Node::Primary, 1), Read::Unavailable);
    assert_eq!(db.promote(), Some(1));
    // Lost: LSNs 5 (key 1) and 6 (key 3), both acknowledged (asynchronous).
    let s = db.stats();
    assert_eq!((s.writes_lost, s.acked_writes_lost, s.failovers), (2, 2, 1));
    assert_eq!(
        (db.head(), db.latest(1), db.latest(2), db.latest(3)),
        (4, 2, 3, 4)
    );
    assert_eq!((db.epoch(), db.fork(0)), (1, Some(4)));
    // Replica 2 had applied past the fork: rewound.
    assert_eq!((db.applied(2), db.received(2)), (4, 4));
    assert!(!db.is_up(1));
    // Writes continue from the fork; the new primary ships to the others.
    assert_eq!(db.commit(9, 0), Ok(5));
    let s = db.catch_up(0).unwrap();
    assert_eq!(s.upto, 5);
    db.arrive(s);
    db.replayed(0, 5);
    assert!(!db.is_stale(0, 1) && !db.is_stale(0, 9));
    // The vacant slot rejoins as a replica rebuilt from the new primary: caught up.
    assert!(db.replica_up(1));
    assert_eq!((db.applied(1), db.lag(1, 99)), (5, 0));
}

#[test]
fn a_shipment_of_the_old_primary_is_refused_after_a_promotion() {
    let mut db = db(2, 0);
    let lsn = db.commit(1, 0).unwrap();
    let late = db.shipment(1, lsn).unwrap();
    db.fail_primary();
    assert_eq!(db.promote(), Some(0));
    assert_eq!(
        db.commit(2, 0),
        Ok(1),
        "LSN 1 is reused on the new timeline"
    );
    assert!(!db.arrive(late));
    assert!(db.is_stale(1, 2) && !db.is_stale(1, 1));
}

#[test]
fn acknowledged_writes_survive_a_failover_under_synchronous_commit() {
    let mut db = db(2, 1);
    for key in 0..4 {
        db.commit(key, 0).unwrap();
    }
    let s = db.shipment(1, 3).unwrap();
    db.arrive(s);
    assert_eq!(db.acked_upto(), 3);
    db.fail_primary();
    assert_eq!(db.promote(), Some(1));
    let s = db.stats();
    assert_eq!((s.writes_lost, s.acked_writes_lost), (1, 0));
}

#[test]
fn a_primary_that_recovers_before_any_promotion_loses_nothing() {
    let mut db = db(1, 0);
    db.commit(1, 0).unwrap();
    db.fail_primary();
    assert!(db.recover_primary());
    assert!(!db.recover_primary());
    assert_eq!((db.commit(1, 0), db.stats().writes_lost), (Ok(2), 0));
}

#[test]
fn no_promotion_without_a_live_replica() {
    let mut db = db(1, 0);
    db.replica_down(0);
    db.fail_primary();
    assert_eq!(db.promote(), None);
    assert!(!db.primary_up());
}

// ----- routing -----

fn router(routing: Routing, replicas: usize) -> Router {
    Router::new(routing, replicas, 4).unwrap()
}

fn routes(r: &mut Router, db: &Replication, n: usize) -> Vec<Node> {
    (0..n).map(|_| r.route(db, 0, 0, &[])).collect()
}

#[test]
fn primary_routing_always_reads_the_primary() {
    let db = db(2, 0);
    let mut r = router(Routing::Primary, 2);
    assert_eq!(routes(&mut r, &db, 3), [Node::Primary; 3]);
}

#[test]
fn round_robin_skips_replicas_that_are_down_and_falls_back_to_the_primary() {
    let mut db = db(3, 0);
    let mut r = router(Routing::RoundRobin, 3);
    use Node::Replica as R;
    assert_eq!(routes(&mut r, &db, 4), [R(0), R(1), R(2), R(0)]);
    db.replica_down(2);
    assert_eq!(routes(&mut r, &db, 3), [R(1), R(0), R(1)]);
    db.replica_down(0);
    db.replica_down(1);
    assert_eq!(routes(&mut r, &db, 2), [Node::Primary; 2]);
}

#[test]
fn least_loaded_picks_the_smallest_load_and_shares_ties() {
    let mut db = db(3, 0);
    let mut r = router(Routing::LeastLoaded, 3);
    assert_eq!(r.route(&db, 0, 0, &[5, 2, 9]), Node::Replica(1));
    assert_eq!(r.route(&db, 0, 0, &[5, 2, 2]), Node::Replica(2));
    assert_eq!(r.route(&db, 0, 0, &[5, 2, 2]), Node::Replica(1));
    db.replica_down(1);
    assert_eq!(r.route(&db, 0, 0, &[5, 0, 7]), Node::Replica(0));
    // Missing loads count 0.
    assert_eq!(r.route(&db, 0, 0, &[5]), Node::Replica(2));
}

#[test]
fn read_your_writes_window_reads_the_primary_for_window_ns_after_a_write() {
    let mut db = db(2, 0);
    let mut r = router(Routing::ReadYourWrites { window: 1_000 }, 2);
    let lsn = db.commit(1, 500).unwrap();
    r.wrote(&db, 2, lsn, 500);
    assert_eq!(r.route(&db, 2, 500, &[]), Node::Primary);
    assert_eq!(r.route(&db, 2, 1_499, &[]), Node::Primary);
    assert_eq!(r.route(&db, 2, 1_500, &[]), Node::Replica(0));
    // Other users, and users out of range (who go to the primary).
    assert_eq!(r.route(&db, 1, 600, &[]), Node::Replica(1));
    assert_eq!(r.route(&db, 99, 600, &[]), Node::Primary);
}

#[test]
fn read_your_writes_lsn_reads_only_replicas_that_applied_the_users_last_write() {
    let mut db = db(3, 0);
    let mut r = router(Routing::ReadYourWritesLsn, 3);
    let a = db.commit(1, 0).unwrap();
    let b = db.commit(2, 0).unwrap();
    r.wrote(&db, 0, a, 0);
    r.wrote(&db, 1, b, 0);
    ship_all(&mut db, b);
    db.replayed(1, a);
    db.replayed(2, b);
    use Node::Replica as R;
    assert_eq!(r.route(&db, 1, 0, &[]), R(2));
    assert_eq!(r.route(&db, 1, 0, &[]), R(2));
    assert_eq!(r.route(&db, 0, 0, &[]), R(1));
    assert_eq!(r.route(&db, 0, 0, &[]), R(2));
    assert_eq!(r.route(&db, 3, 0, &[]), R(0), "no write: any replica");
    db.replica_down(2);
    assert_eq!(r.route(&db, 1, 0, &[]), Node::Primary);
}

#[test]
fn read_your_writes_lsn_after_a_failover_needs_only_what_survived() {
    let mut db = db(2, 0);
    let mut r = router(Routing::ReadYourWritesLsn, 2);
    db.commit(1, 0).unwrap();
    let lost = db.commit(1, 0).unwrap();
    r.wrote(&db, 0, lost, 0);
    ship_all(&mut db, 1);
    db.replayed(0, 1);
    db.replayed(1, 1);
    db.fail_primary();
    assert_eq!(db.promote(), Some(0));
    // LSN 2 is now someone else's write, which replica 1 has not received.
    let other = db.commit(5, 0).unwrap();
    assert_eq!(other, lost);
    assert_eq!(r.route(&db, 0, 0, &[]), Node::Replica(1));
}

#[test]
fn lag_aware_skips_replicas_over_the_bound() {
    let mut db = db(2, 0);
    let mut r = router(Routing::LagAware { max_lag: 100 }, 2);
    db.commit(1, 1_000).unwrap();
    ship_all(&mut db, 1);
    db.replayed(1, 1);
    assert_eq!(r.route(&db, 0, 1_100, &[]), Node::Replica(0)); // 100: at the bound
    assert_eq!(r.route(&db, 0, 1_101, &[]), Node::Replica(1));
    assert_eq!(r.route(&db, 0, 1_101, &[]), Node::Replica(1));
    db.commit(2, 1_200).unwrap();
    assert_eq!(r.route(&db, 0, 1_301, &[]), Node::Primary);
}

// ----- bad input -----

#[test]
fn bad_specs_are_refused_with_the_reason() {
    let err = |spec: ReplicationSpec, keys| Replication::new(&spec, keys).unwrap_err();
    let ok = ReplicationSpec {
        replicas: 2,
        quorum: 1,
    };
    assert!(err(ok, 0).contains("key space"));
    assert!(err(ReplicationSpec { quorum: 3, ..ok }, 10).contains("quorum 3 is above"));
    assert!(
        err(
            ReplicationSpec {
                replicas: 65,
                quorum: 0
            },
            10
        )
        .contains("at most 64")
    );
    let rerr =
        |routing: Routing, replicas, users| Router::new(routing, replicas, users).unwrap_err();
    assert!(rerr(Routing::RoundRobin, 0, 1).contains("there are none"));
    assert!(rerr(Routing::LagAware { max_lag: 5 }, 0, 1).contains("`lag_aware`"));
    assert!(rerr(Routing::ReadYourWrites { window: 0 }, 2, 1).contains("at least 1 ns"));
    assert!(rerr(Routing::ReadYourWritesLsn, 2, 0).contains("no users"));
    assert!(Router::new(Routing::Primary, 0, 0).is_ok());
    assert!(Router::new(Routing::LagAware { max_lag: 0 }, 1, 0).is_ok());
}

// ----- metrics -----

#[test]
fn metrics_carry_the_real_runs_names() {
    let mut db = db(2, 0);
    let lsn = db.commit(1, 0).unwrap();
    ship_all(&mut db, lsn);
    assert_eq!(db.read(Node::Replica(0), 1), Read::Stale);
    db.replayed(0, lsn);
    assert_eq!(db.read(Node::Replica(0), 1), Read::Fresh);
    assert_eq!(db.read(Node::Primary, 1), Read::Fresh);
    db.replica_down(1);
    assert_eq!(db.read(Node::Replica(1), 1), Read::Unavailable);
    db.sample_lag(3_000_000); // replica 0: 0; replica 1: down
    let s = db.stats();
    assert_eq!(
        (s.reads_primary, s.reads_replicas(), s.reads_failed),
        (1, 2, 1)
    );
    assert_eq!(s.stale_read_ratio(), 1.0 / 3.0);
    let m = s.metrics();
    let names: Vec<&str> = m.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["db", "db.replica-0", "db.replica-1"]);
    let get = |c: usize, name: &str| m[c].1.iter().find(|(n, _)| *n == name).unwrap().1;
    assert_eq!(get(0, "writes_lost"), 0.0);
    assert_eq!(get(0, "lag_unavailable"), 1.0);
    assert_eq!(get(1, "reads"), 2.0);
    assert_eq!(get(1, "stale_read_ratio"), 0.5);
    for name in ["lag_ms_mean", "lag_ms_p99", "lag_ms_max", "lag_samples"] {
        assert!(m.iter().all(|(_, c)| c.iter().any(|(n, _)| *n == name)));
    }
    db.reset_stats();
    assert_eq!(db.stats().metrics()[0].1, ReplStats::new(2).metrics()[0].1);
}

#[test]
fn lag_statistics_give_mean_max_and_p99() {
    let mut l = LagStats::default();
    assert_eq!((l.mean_ms(), l.p99_ms(), l.max_ms()), (0.0, 0.0, 0.0));
    // 1..=1000 ms: mean 500.5, p99 990 (within the histogram's 1 %), max 1000.
    for ms in 1..=1_000u64 {
        l.record(ms * 1_000_000);
    }
    assert_eq!(
        (l.count(), l.mean_ms(), l.max_ms()),
        (1_000, 500.5, 1_000.0)
    );
    assert!((l.p99_ms() - 990.0).abs() <= 9.9, "{}", l.p99_ms());
}

// ----- random sequences against an oracle -----

#[derive(Debug, Clone)]
enum Op {
    Commit { key: u64, user: usize },
    Deliver(usize),
    Replay(usize, u64),
    Read { key: u64, user: usize },
    Down(usize),
    Up(usize),
    FailPrimary,
    Promote,
    Recover,
    Tick(u64),
    Sample,
}

fn op(keys: u64, slots: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..keys, 0..USERS).prop_map(|(key, user)| Op::Commit { key, user }),
        5 => (0..slots).prop_map(Op::Deliver),
        5 => (0..slots, 1..4u64).prop_map(|(r, n)| Op::Replay(r, n)),
        6 => (0..keys, 0..USERS).prop_map(|(key, user)| Op::Read { key, user }),
        1 => (0..slots).prop_map(Op::Down),
        1 => (0..slots).prop_map(Op::Up),
        1 => Just(Op::FailPrimary),
        1 => Just(Op::Promote),
        1 => Just(Op::Recover),
        3 => (0..500u64).prop_map(Op::Tick),
        1 => Just(Op::Sample),
    ]
}

fn routing() -> impl Strategy<Value = Routing> {
    prop_oneof![
        Just(Routing::Primary),
        Just(Routing::RoundRobin),
        Just(Routing::LeastLoaded),
        (1..2_000u64).prop_map(|window| Routing::ReadYourWrites { window }),
        Just(Routing::ReadYourWritesLsn),
        (0..2_000u64).prop_map(|max_lag| Routing::LagAware { max_lag }),
    ]
}

const USERS: usize = 3;

/// A surviving committed write, at index `lsn - 1` of the oracle's list.
#[derive(Debug, Clone, Copy)]
struct Write {
    key: u64,
    at: u64,
    user: usize,
}

/// The engine's side (FIFO links, the clock) and a plain oracle of the database.
struct Harness {
    db: Replication,
    router: Router,
    now: u64,
    /// Per replica: shipments in flight, with the link session they were sent in.
    links: Vec<VecDeque<(Shipment, u64)>>,
    /// Oracle: per replica, the link session (changes at down, up, promotion).
    session: Vec<u64>,
    up: Vec<bool>,
    vacant: Vec<bool>,
    received: Vec<Lsn>,
    primary_up: bool,
    /// Oracle: surviving writes in LSN order.
    writes: Vec<Write>,
    acked: Lsn,
    lost: u64,
    acked_lost: u64,
    quorum: usize,
    /// Reads on the primary, per replica, stale.
    reads: (u64, Vec<u64>, u64),
}

impl Harness {
    fn new(replicas: usize, quorum: usize, routing: Routing, keys: u64) -> Harness {
        let spec = ReplicationSpec { replicas, quorum };
        Harness {
            db: Replication::new(&spec, keys).unwrap(),
            router: Router::new(routing, replicas, USERS).unwrap(),
            now: 0,
            links: vec![VecDeque::new(); replicas],
            session: vec![0; replicas],
            up: vec![true; replicas],
            vacant: vec![false; replicas],
            received: vec![0; replicas],
            primary_up: true,
            writes: Vec::new(),
            acked: 0,
            lost: 0,
            acked_lost: 0,
            quorum,
            reads: (0, vec![0; replicas], 0),
        }
    }

    fn head(&self) -> Lsn {
        self.writes.len() as Lsn
    }

    /// Oracle: the k-th highest received position over live replicas.
    fn kth_received(&self) -> Lsn {
        let mut v: Vec<Lsn> = (0..self.up.len())
            .filter(|&r| self.up[r])
            .map(|r| self.received[r])
            .collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.get(self.quorum - 1).copied().unwrap_or(0)
    }

    /// Oracle: stale when a surviving write of `key` is past what `r` applied.
    fn stale(&self, r: usize, key: u64) -> bool {
        let applied = self.db.applied(r) as usize;
        self.writes[applied.min(self.writes.len())..]
            .iter()
            .any(|w| w.key == key)
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Commit { key, user } => self.commit(key, user),
            Op::Deliver(r) => self.deliver(r),
            Op::Replay(r, n) => {
                let before = self.db.applied(r);
                let target = (before + n).min(self.db.received(r));
                let moved = self.db.replayed(r, target);
                assert_eq!(moved, self.up[r] && target > before);
            }
            Op::Read { key, user } => self.read(key, user),
            Op::Down(r) => {
                assert_eq!(self.db.replica_down(r), self.up[r]);
                if self.up[r] {
                    (self.up[r], self.session[r]) = (false, self.session[r] + 1);
                }
            }
            Op::Up(r) => self.replica_up(r),
            Op::FailPrimary => {
                assert_eq!(self.db.fail_primary(), self.primary_up);
                self.primary_up = false;
            }
            Op::Promote => self.promote(),
            Op::Recover => {
                assert_eq!(self.db.recover_primary(), !self.primary_up);
                self.primary_up = true;
            }
            Op::Tick(dt) => self.now += dt,
            Op::Sample => self.db.sample_lag(self.now),
        }
    }

    fn commit(&mut self, key: u64, user: usize) {
        let got = self.db.commit(key, self.now);
        if !self.primary_up {
            assert_eq!(got, Err(WriteError::PrimaryDown));
            return;
        }
        self.writes.push(Write {
            key,
            at: self.now,
            user,
        });
        let lsn = got.unwrap();
        assert_eq!(lsn, self.head());
        self.router.wrote(&self.db, user, lsn, self.now);
        if self.quorum == 0 {
            self.acked = lsn;
        }
        for r in 0..self.up.len() {
            let s = self.db.shipment(r, lsn);
            assert_eq!(s.is_some(), self.up[r]);
            if let Some(s) = s {
                self.links[r].push_back((s, self.session[r]));
            }
        }
    }

    fn deliver(&mut self, r: usize) {
        let Some((s, session)) = self.links[r].pop_front() else {
            return;
        };
        let expect = self.up[r] && session == self.session[r] && s.upto > self.received[r];
        assert_eq!(self.db.arrive(s), expect, "{s:?}");
        if expect {
            self.received[r] = s.upto;
            if self.quorum > 0 {
                self.acked = self.acked.max(self.kth_received());
            }
        }
    }

    fn read(&mut self, key: u64, user: usize) {
        let loads: Vec<u32> = (0..self.up.len() as u32).map(|i| (i * 7) % 3).collect();
        let node = self.router.route(&self.db, user, self.now, &loads);
        let expect = match node {
            Node::Primary if self.primary_up => Read::Fresh,
            Node::Primary => Read::Unavailable,
            Node::Replica(r) => {
                assert!(self.up[r], "routed to a replica that is down");
                if let Routing::ReadYourWritesLsn = self.router.routing() {
                    let mine = self.writes.iter().rposition(|w| w.user == user);
                    let need = mine.map_or(0, |i| i as Lsn + 1);
                    assert!(self.db.applied(r) >= need, "read-your-writes broken");
                }
                if self.stale(r, key) {
                    Read::Stale
                } else {
                    Read::Fresh
                }
            }
        };
        assert_eq!(self.db.read(node, key), expect);
        match (node, expect) {
            (_, Read::Unavailable) => {}
            (Node::Primary, _) => self.reads.0 += 1,
            (Node::Replica(r), _) => {
                self.reads.1[r] += 1;
                self.reads.2 += u64::from(expect == Read::Stale);
            }
        }
    }

    fn replica_up(&mut self, r: usize) {
        assert_eq!(self.db.replica_up(r), !self.up[r]);
        if self.up[r] {
            return;
        }
        if self.vacant[r] {
            self.received[r] = self.head();
            self.vacant[r] = false;
        }
        (self.up[r], self.session[r]) = (true, self.session[r] + 1);
        if self.quorum > 0 {
            self.acked = self.acked.max(self.kth_received());
        }
        if let Some(s) = self.db.catch_up(r) {
            self.links[r].push_back((s, self.session[r]));
        }
    }

    fn promote(&mut self) {
        let live = (0..self.up.len()).filter(|&r| self.up[r]);
        let expect = live.max_by_key(|&r| (self.received[r], std::cmp::Reverse(r)));
        let got = self.db.promote();
        if self.primary_up {
            assert_eq!(got, None);
            return;
        }
        assert_eq!(got, expect);
        let Some(chosen) = got else { return };
        let fork = self.received[chosen];
        self.lost += self.head() - fork;
        self.acked_lost += self.acked.saturating_sub(fork);
        self.acked = self.acked.min(fork);
        self.writes.truncate(fork as usize);
        (self.up[chosen], self.vacant[chosen]) = (false, true);
        self.primary_up = true;
        for r in 0..self.up.len() {
            self.received[r] = self.received[r].min(fork);
            self.session[r] += 1;
            if let Some(s) = self.db.catch_up(r) {
                self.links[r].push_back((s, self.session[r]));
            }
        }
        let s = self.db.stats();
        assert_eq!(
            (s.writes_lost, s.acked_writes_lost),
            (self.lost, self.acked_lost)
        );
    }

    /// Everything the oracle can say after each event.
    fn check(&self, keys: u64, acked_before: (usize, Lsn)) {
        let db = &self.db;
        assert_eq!(db.head(), self.head());
        assert_eq!(db.primary_up(), self.primary_up);
        assert_eq!(db.acked_upto(), self.acked);
        assert!(db.acked_upto() <= db.head());
        if db.epoch() == acked_before.0 {
            assert!(db.acked_upto() >= acked_before.1, "acked went down");
        }
        if self.quorum > 0 {
            let kth = self.kth_received();
            assert_eq!(db.received_by(self.quorum), kth);
            assert!(
                db.acked_upto() >= kth,
                "a position k live replicas hold is not acked"
            );
            if db.acked_upto() > acked_before.1 {
                assert!(db.acked_upto() <= kth, "acked beyond k receivers");
            }
        }
        let mut floor = self.head();
        for r in 0..self.up.len() {
            assert_eq!(db.is_up(r), self.up[r]);
            if self.vacant[r] {
                continue;
            }
            assert_eq!(db.received(r), self.received[r]);
            assert!(db.applied(r) <= db.received(r));
            floor = floor.min(db.applied(r));
            for key in 0..keys {
                assert_eq!(db.is_stale(r, key), self.stale(r, key), "r{r} key {key}");
            }
            let applied = db.applied(r) as usize;
            let lag = self.writes.get(applied).map_or(0, |w| self.now - w.at);
            assert_eq!(db.lag(r, self.now), lag);
            assert_eq!(db.lsn_lag(r), self.head() - applied as Lsn);
            if applied as Lsn == self.head() {
                assert!((0..keys).all(|k| !db.is_stale(r, k)));
            }
        }
        assert_eq!(
            db.log_len() as Lsn,
            self.head() - floor,
            "the log is trimmed"
        );
        for key in 0..keys {
            let latest = self.writes.iter().rposition(|w| w.key == key);
            assert_eq!(db.latest(key), latest.map_or(0, |i| i as Lsn + 1));
        }
    }

    /// Delivers and replays everything, as a long quiet period would.
    fn settle(&mut self) {
        if !self.primary_up {
            self.apply(&Op::Recover);
        }
        for r in 0..self.up.len() {
            while !self.links[r].is_empty() {
                self.deliver(r);
            }
            if let Some(s) = self.db.catch_up(r) {
                self.links[r].push_back((s, self.session[r]));
                self.deliver(r);
            }
            while let Some(next) = self.db.next_replay(r) {
                assert!(self.db.replayed(r, next));
            }
        }
    }
}

fn scenario() -> impl Strategy<Value = (usize, usize, Routing, Vec<Op>)> {
    const KEYS: u64 = 6;
    (1..=4usize)
        .prop_flat_map(|n| (Just(n), 0..=n, routing()))
        .prop_flat_map(|(n, q, routing)| {
            (
                Just(n),
                Just(q),
                Just(routing),
                prop::collection::vec(op(KEYS, n), 1..150),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_sequences_agree_with_the_oracle((n, q, routing, ops) in scenario()) {
        const KEYS: u64 = 6;
        let mut h = Harness::new(n, q, routing, KEYS);
        for op in &ops {
            let before = (h.db.epoch(), h.db.acked_upto());
            h.apply(op);
            h.check(KEYS, before);
        }
        h.settle();
        h.check(KEYS, (h.db.epoch(), h.db.acked_upto()));
        for r in (0..n).filter(|&r| h.up[r]) {
            prop_assert_eq!(h.db.applied(r), h.db.head(), "every write reached replica {}", r);
            prop_assert_eq!(h.db.lag(r, h.now), 0);
        }
        let s = h.db.stats();
        prop_assert_eq!(s.reads_primary, h.reads.0);
        prop_assert_eq!(s.replicas.iter().map(|x| x.reads).collect::<Vec<_>>(), h.reads.1.clone());
        prop_assert_eq!(s.stale_reads(), h.reads.2);
    }

    #[test]
    fn without_writes_no_read_is_stale((n, q, routing, ops) in scenario()) {
        const KEYS: u64 = 6;
        let mut h = Harness::new(n, q, routing, KEYS);
        for op in ops.iter().filter(|o| !matches!(o, Op::Commit { .. })) {
            h.apply(op);
        }
        prop_assert_eq!(h.db.stats().stale_reads(), 0);
        prop_assert_eq!(h.db.stats().writes_lost, 0);
    }
}
