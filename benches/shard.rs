//! Shard routers: routes per second over a stream of one million keys drawn from Zipf(0.99)
//! over a million keys, with 3 and 16 shards.
//!
//! - `route/NAME/N`: each router of `scalesim::model::shard` by name, through [`Router::route`]
//!   (`range` splits the letters into N nearly equal runs).
//! - `bounded`: each request is placed and released 1,000 requests later, so about 1,000 are
//!   in flight (loads bounded in flight, as a balancer would use it).
//!
//! Run with `cargo bench --no-default-features --bench shard -- --warm-up-time 1
//! --measurement-time 3`; throughput is printed as elements (routes) per second.

use std::collections::VecDeque;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scalesim::engine::Rng;
use scalesim::model::shard::{Router, Spec};
use scalesim::model::workload::KeyDist;

const KEYS: u64 = 1_000_000;
const IN_FLIGHT: usize = 1_000;

fn stream() -> Vec<u64> {
    let dist = KeyDist::zipf(KEYS, 0.99).expect("valid");
    let mut rng = Rng::seed_from(42);
    (0..KEYS).map(|_| dist.sample(&mut rng)).collect()
}

/// N runs of letters, as even in letter count as they can be.
fn letter_runs(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let (lo, hi) = (i * 26 / n, (i + 1) * 26 / n - 1);
            format!(
                "{}-{}",
                char::from(b'A' + lo as u8),
                char::from(b'A' + hi as u8)
            )
        })
        .collect()
}

fn routers(c: &mut Criterion) {
    let keys = stream();
    let mut g = c.benchmark_group("route");
    g.throughput(Throughput::Elements(KEYS));
    for shards in [3usize, 16] {
        let spec = Spec {
            shards,
            key_space: KEYS,
            ranges: letter_runs(shards),
            ..Spec::default()
        };
        for name in Router::NAMES {
            let mut r = Router::build(name, &spec).expect("valid spec");
            g.bench_function(format!("{name}/{shards}"), |b| {
                b.iter(|| {
                    let mut window = VecDeque::with_capacity(IN_FLIGHT + 1);
                    let mut acc = 0usize;
                    for &k in &keys {
                        let s = r.route(black_box(k));
                        acc = acc.wrapping_add(s);
                        if name == "bounded" {
                            window.push_back(s);
                            if window.len() > IN_FLIGHT {
                                r.release(window.pop_front().unwrap_or(0));
                            }
                        }
                    }
                    while let Some(s) = window.pop_front() {
                        r.release(s);
                    }
                    acc
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, routers);
criterion_main!(benches);
