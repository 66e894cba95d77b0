//! Closed forms for one replica that applies every record a constant `d` after its commit,
//! checked against a simulation loop that drives the model with Poisson writes and reads.
//!
//! Writes arrive as a Poisson process of rate `w`, each to key `k` with probability `p_k`;
//! each is shipped at commit, arrives `d1` later and is replayed `d` after its commit
//! (`d1 < d`; a constant delay keeps the log order, so replay is sequential as the model
//! requires). Reads arrive as an independent Poisson process, each of a key drawn uniformly
//! from `K` keys, all served by the replica. By PASTA a read sees the time-stationary state.
//!
//! **Stale reads.** At time `t` the replica has applied exactly the records committed at or
//! before `t - d` (commit times increase with the LSN). A read of `k` at `t` is stale iff the
//! latest write of `k` before `t` is not applied, i.e. iff `k` had a write in `(t - d, t]`.
//! Writes of `k` are a thinned Poisson process of rate `w p_k`, so
//!
//! ```text
//! P(stale | key k) = 1 - exp(-w p_k d),    stale_read_ratio = (1/K) Σ_k (1 - exp(-w p_k d)).
//! ```
//!
//! **Lag.** The time lag at `t` is the age `A` of the oldest commit in `(t - d, t]`, 0 if there
//! is none. For `0 ≤ a < d`, `A > a` iff some write fell in `(t - d, t - a]`, so
//! `P(A > a) = 1 - exp(-w (d - a))` and
//!
//! ```text
//! E[lag] = ∫_0^d (1 - exp(-w (d - a))) da = d - (1 - exp(-w d)) / w,    P(lag = 0) = exp(-w d).
//! ```
//!
//! Reads and lag samples close in time are correlated, so the checks use batch means: the run
//! is cut into batches much longer than `d`, and the closed form must lie in a 99.9 % Student-t
//! interval over the batch values.

use std::collections::VecDeque;

use super::*;
use crate::engine::Rng;
use crate::stats::ci::t_interval;

const MS: u64 = 1_000_000;

/// The closed forms of the module docs, per key and for the mean lag (ns).
fn expected(w_per_ns: f64, p: &[f64], d: f64) -> (Vec<f64>, f64, f64) {
    let stale = p
        .iter()
        .map(|pk| 1.0 - (-w_per_ns * pk * d).exp())
        .collect();
    let mean_lag = d - (1.0 - (-w_per_ns * d).exp()) / w_per_ns;
    (stale, mean_lag, (-w_per_ns * d).exp())
}

/// An exponential gap of rate `per_ns`, ns.
fn gap(rng: &mut Rng, per_ns: f64) -> u64 {
    (-rng.next_open01().ln() / per_ns).round().max(1.0) as u64
}

/// Key `k` with probability `p[k]`.
fn pick(rng: &mut Rng, p: &[f64]) -> u64 {
    let mut u = rng.next_f64();
    for (k, pk) in p.iter().enumerate() {
        if u < *pk {
            return k as u64;
        }
        u -= pk;
    }
    p.len() as u64 - 1
}

/// What one batch saw: per key (reads, stale reads), and the lag samples' sum, count, zeros.
#[derive(Default, Clone)]
struct Batch {
    reads: Vec<(u64, u64)>,
    lag_sum: f64,
    lag_n: u64,
    lag_zero: u64,
}

/// Runs the model for `batches` batches of `batch` ns after a warm-up of `10 d`.
fn simulate(w_per_ns: f64, read_per_ns: f64, p: &[f64], d1: u64, d: u64) -> (Vec<Batch>, f64) {
    const BATCHES: usize = 40;
    let batch = 5_000 * MS;
    let spec = ReplicationSpec {
        replicas: 1,
        quorum: 0,
    };
    let mut db = Replication::new(&spec, p.len() as u64).unwrap();
    let mut rng = Rng::stream(7, "replication.theory");
    let warmup = 10 * d;
    let end = warmup + BATCHES as u64 * batch;
    let (mut next_write, mut next_read) = (gap(&mut rng, w_per_ns), gap(&mut rng, read_per_ns));
    let (mut in_flight, mut to_replay) = (VecDeque::new(), VecDeque::new());
    let mut out = vec![
        Batch {
            reads: vec![(0, 0); p.len()],
            ..Batch::default()
        };
        BATCHES
    ];
    let mut lag_total = (0.0, 0u64);
    loop {
        let now = next_write.min(next_read);
        if now >= end {
            break;
        }
        // Arrivals and replays due by now, in time order (arrivals first on a tie).
        while let Some(&(at, s)) = in_flight.front() {
            if at > now {
                break;
            }
            in_flight.pop_front();
            assert!(db.arrive(s));
        }
        while let Some(&(at, lsn)) = to_replay.front() {
            if at > now {
                break;
            }
            to_replay.pop_front();
            assert_eq!(db.next_replay(0), Some(lsn));
            assert!(db.replayed(0, lsn));
        }
        if next_write <= next_read {
            let lsn = db.commit(pick(&mut rng, p), now).unwrap();
            in_flight.push_back((now + d1, db.shipment(0, lsn).unwrap()));
            to_replay.push_back((now + d, lsn));
            next_write = now + gap(&mut rng, w_per_ns);
            continue;
        }
        next_read = now + gap(&mut rng, read_per_ns);
        if now < warmup {
            continue;
        }
        let b = &mut out[((now - warmup) / batch) as usize];
        let key = rng.below(p.len() as u64);
        let stale = db.read(Node::Replica(0), key) == Read::Stale;
        let r = &mut b.reads[key as usize];
        (r.0, r.1) = (r.0 + 1, r.1 + u64::from(stale));
        // A lag sample at each read: Poisson times too.
        let lag = db.lag(0, now);
        db.sample_lag(now);
        (b.lag_sum, b.lag_n, b.lag_zero) = (
            b.lag_sum + lag as f64,
            b.lag_n + 1,
            b.lag_zero + u64::from(lag == 0),
        );
        lag_total = (lag_total.0 + lag as f64, lag_total.1 + 1);
    }
    // The model's own statistics saw the same samples.
    let stats = db.stats();
    assert_eq!(stats.lag.count(), lag_total.1);
    let mean_ms = lag_total.0 / lag_total.1 as f64 / MS as f64;
    assert!((stats.lag.mean_ms() - mean_ms).abs() < 1e-9 * mean_ms.max(1.0));
    let reads: u64 = out.iter().flat_map(|b| &b.reads).map(|r| r.0).sum();
    let stale: u64 = out.iter().flat_map(|b| &b.reads).map(|r| r.1).sum();
    assert_eq!(
        (stats.replicas[0].reads, stats.stale_reads()),
        (reads, stale)
    );
    (out, stale as f64 / reads as f64)
}

#[test]
fn stale_reads_and_lag_match_the_closed_forms_under_poisson_writes() {
    // 200 writes/s over four keys, 2,000 reads/s; shipped in 4 ms, applied 10 ms after commit:
    // w p_k d = 0.1, 0.3, 0.6 and 1.0.
    let p = [0.05, 0.15, 0.3, 0.5];
    let (w, reads, d1, d) = (200.0 / 1e9, 2_000.0 / 1e9, 4 * MS, 10 * MS);
    let (stale, mean_lag, p_zero) = expected(w, &p, d as f64);
    let (batches, overall) = simulate(w, reads, &p, d1, d);
    let check = |what: &str, xs: Vec<f64>, want: f64| {
        let ci = t_interval(&xs, 0.999);
        assert!(
            ci.contains(want),
            "{what}: closed form {want:.5}, simulated {:.5} ± {:.5}",
            ci.mean,
            ci.half_width
        );
    };
    for (k, want) in stale.iter().enumerate() {
        let per_batch = batches
            .iter()
            .map(|b| b.reads[k].1 as f64 / b.reads[k].0 as f64)
            .collect();
        check(&format!("stale ratio of key {k}"), per_batch, *want);
    }
    let per_batch = |f: fn(&Batch) -> f64| batches.iter().map(f).collect::<Vec<_>>();
    check(
        "mean lag (ns)",
        per_batch(|b| b.lag_sum / b.lag_n as f64),
        mean_lag,
    );
    check(
        "P(lag = 0)",
        per_batch(|b| b.lag_zero as f64 / b.lag_n as f64),
        p_zero,
    );
    // Overall, keys read uniformly: the mean of the per-key forms, within 1 % absolute.
    let want = stale.iter().sum::<f64>() / p.len() as f64;
    assert!((overall - want).abs() < 0.01, "{overall} vs {want}");
}
