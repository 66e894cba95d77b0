//! Replication bookkeeping per write-and-read: operations per second through
//! `scalesim::model::replication` with one million keys.
//!
//! One operation is what the simulator does per request pair: a commit on the primary, one
//! shipment arrival and one replay report per replica (the replicas trail the primary by 500
//! records received and 1,000 applied, so the log holds about 1,000 records), and a counted
//! read of another key on a replica in turn (the stale check). Write and read keys are drawn
//! beforehand from Zipf(0.99) over the million keys, so only the model is timed.
//!
//! - `async/2`: two replicas, asynchronous commit.
//! - `quorum2/3`: three replicas, each write acknowledged by two (every arrival recomputes the
//!   quorum position).
//!
//! Run with `cargo bench --no-default-features --bench replication`; throughput is printed as
//! elements (operations) per second.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scalesim::engine::Rng;
use scalesim::model::replication::{Node, Read, Replication, ReplicationSpec};
use scalesim::model::workload::KeyDist;

const KEYS: u64 = 1_000_000;
const OPS: usize = 100_000;
/// How far the replicas trail the primary, records received and applied.
const RECEIVE_LAG: u64 = 500;
const APPLY_LAG: u64 = 1_000;

/// One pass of `OPS` operations; returns the stale reads.
fn pass(db: &mut Replication, writes: &[u64], reads: &[u64], now: &mut u64) -> u64 {
    let n = db.replicas();
    let mut stale = 0;
    for (i, (&w, &r)) in writes.iter().zip(reads).enumerate() {
        *now += 1_000;
        let Ok(head) = db.commit(w, *now) else {
            continue;
        };
        for rep in 0..n {
            if let Some(s) = db.shipment(rep, head.saturating_sub(RECEIVE_LAG)) {
                db.arrive(s);
            }
            db.replayed(rep, head.saturating_sub(APPLY_LAG));
        }
        stale += u64::from(db.read(Node::Replica(i % n), r) == Read::Stale);
    }
    stale
}

fn bench(c: &mut Criterion) {
    let dist = KeyDist::zipf(KEYS, 0.99).expect("valid Zipf");
    let mut rng = Rng::seed_from(3);
    let writes: Vec<u64> = (0..OPS).map(|_| dist.sample(&mut rng)).collect();
    let reads: Vec<u64> = (0..OPS).map(|_| dist.sample(&mut rng)).collect();
    let mut group = c.benchmark_group("replication");
    group.throughput(Throughput::Elements(OPS as u64));
    for (name, replicas, quorum) in [("async/2", 2, 0), ("quorum2/3", 3, 2)] {
        let spec = ReplicationSpec { replicas, quorum };
        let mut db = Replication::new(&spec, KEYS).expect("valid spec");
        let mut now = 0;
        // Warm: the log buffer reaches its size, so the timed passes allocate nothing.
        let stale = pass(&mut db, &writes, &reads, &mut now);
        println!(
            "{name}: stale read ratio {:.4}, log {} records, acked up to {} of {}",
            stale as f64 / OPS as f64,
            db.log_len(),
            db.acked_upto(),
            db.head()
        );
        group.bench_function(name, |b| {
            b.iter(|| black_box(pass(&mut db, black_box(&writes), &reads, &mut now)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
