//! Engine throughput.
//!
//! - `mmc_1m`: M/M/4 at rho = 0.8 (lambda = 3.2, mu = 1), one million customers, every response
//!   time recorded in a histogram (the base point of `sims/mmc.toml`), through the general engine.
//! - `hand_loop_1m`: the same model as a hand-written loop (binary heap of (time, seq, event),
//!   the same generator and exponential sampler, the same histogram), the ceiling a general
//!   engine is compared with.
//! - `peak_load_test`: one replication of `sims/load-peak.toml` (10,000 users, 5 s mean think
//!   time, 32 simulated minutes, three classes over four stations), one strategy.
//!
//! - `balanced_20/POLICY`: one million requests into a service of 20 single-worker instances
//!   (exponential service, rho = 0.8) behind each load-balancing policy: the cost of instances
//!   and balancing on top of the engine.
//!
//! Run with `cargo bench --bench engine`; throughput is printed as elements (customers) per
//! second.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand_distr::{Distribution, Exp1};
use scalesim::engine::Rng;
use scalesim::model::System;
use scalesim::model::dist::Dist;
use scalesim::observe::new_histogram;
use scalesim::run::validate::Model;

const CUSTOMERS: u64 = 1_000_000;

fn mmc_model() -> Model {
    Model {
        name: "M/M/4".into(),
        c: 4,
        lambda: 3.2,
        service: Dist::Exponential { mean: 1.0 },
        k: None,
        ps: false,
    }
}

/// M/M/c by hand: arrival and departure events in a heap, FIFO queue, histogram of responses.
fn hand_loop(customers: u64, seed: u64) -> u64 {
    let (lambda, c) = (3.2f64, 4u32);
    let mut rng = Rng::seed_from(seed);
    let exp = |mean: f64, rng: &mut Rng| -> u64 {
        let e: f64 = Exp1.sample(rng);
        (e * mean * 1e9) as u64
    };
    let mut heap: BinaryHeap<Reverse<(u64, u64, u64)>> = BinaryHeap::new();
    let mut hist = new_histogram(3);
    let mut queue: VecDeque<u64> = VecDeque::new();
    let (mut seq, mut busy, mut arrived) = (0u64, 0u32, 0u64);
    heap.push(Reverse((0, 0, u64::MAX)));
    while let Some(Reverse((t, _, ev))) = heap.pop() {
        if ev == u64::MAX {
            arrived += 1;
            if arrived < customers {
                seq += 1;
                heap.push(Reverse((t + exp(1.0 / lambda, &mut rng), seq, u64::MAX)));
            }
            if busy < c {
                busy += 1;
                seq += 1;
                heap.push(Reverse((t + exp(1.0, &mut rng), seq, t)));
            } else {
                queue.push_back(t);
            }
        } else {
            hist.saturating_record(t - ev);
            if let Some(born) = queue.pop_front() {
                seq += 1;
                heap.push(Reverse((t + exp(1.0, &mut rng), seq, born)));
            } else {
                busy -= 1;
            }
        }
    }
    hist.len()
}

fn engine(c: &mut Criterion) {
    let spec = mmc_model().spec(CUSTOMERS);
    let mut g = c.benchmark_group("mmc");
    g.sample_size(10)
        .throughput(Throughput::Elements(CUSTOMERS));
    g.bench_function("engine_1m", |b| {
        b.iter(|| black_box(System::new(&spec, 7).run().total.completed))
    });
    g.bench_function("hand_loop_1m", |b| {
        b.iter(|| black_box(hand_loop(CUSTOMERS, 7)))
    });
    g.finish();
}

fn peak(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sims/load-peak.toml");
    let loaded = scalesim::scenario::load(&path, &[]).expect("shipped scenario loads");
    let spec = loaded.strategies[1].scenario.system.clone();
    let mut g = c.benchmark_group("load_test");
    g.sample_size(10);
    g.bench_function("peak_one_replication", |b| {
        b.iter(|| black_box(System::new(&spec, 1).run().total.completed))
    });
    g.finish();
}

/// 20 single-worker instances at rho = 0.8 behind `balancer`, about `customers` requests.
fn balanced(balancer: &str, customers: u64) -> scalesim::model::SystemSpec {
    let text = format!(
        r#"
name = "balanced"
duration = "{secs}s"
[workload]
type = "poisson"
rate = 16
keys = {{ dist = "uniform", n = 1000 }}
[classes.job]
path = ["app"]
[services.app]
instances = 20
balancer = "{balancer}"
service = {{ dist = "exponential", mean = "1s" }}
"#,
        secs = customers / 16
    );
    let loaded = scalesim::scenario::load_str(&text, Path::new("balanced.toml"), &[])
        .expect("the bench scenario loads");
    loaded.base.system
}

fn balancing(c: &mut Criterion) {
    let mut g = c.benchmark_group("balanced_20");
    g.sample_size(10)
        .throughput(Throughput::Elements(CUSTOMERS));
    for policy in [
        "round_robin",
        "random",
        "p2c",
        "least_outstanding",
        "key_hash",
    ] {
        let spec = balanced(policy, CUSTOMERS);
        g.bench_function(policy, |b| {
            b.iter(|| black_box(System::new(&spec, 7).run().total.completed))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // No criterion charts: plotters is built here with an embedded font only (no fontconfig),
    // which criterion's chart code cannot use; the numbers are printed either way.
    config = Criterion::default().without_plots();
    targets = engine, balancing, peak
}
criterion_main!(benches);
