//! Cache throughput: requests per second through a warm cache, each request a lookup and, on
//! a miss, an insert (as a cache tier in the simulator uses it).
//!
//! - `POLICY/CAPACITY`: LRU and S3-FIFO with 10 k and 100 k entries, over a stream of one
//!   million requests drawn beforehand from Zipf(0.99) over one million keys (the simulator's
//!   sampler), so only the cache is timed. The cache stays warm from one iteration to the next.
//!
//! Run with `cargo bench --no-default-features --bench cache`; throughput is printed as
//! elements (requests) per second; the miss ratio of each case is printed once, so lookups plus
//! inserts per second are `requests/s * (1 + miss ratio)`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scalesim::engine::Rng;
use scalesim::model::cache::{Cache, CacheSpec, Lookup, Policy};
use scalesim::model::workload::KeyDist;

const KEYS: u64 = 1_000_000;
const REQUESTS: usize = 1_000_000;

/// One pass of `keys` through `cache`: a lookup each, an insert on a miss. Returns the misses.
fn pass(cache: &mut Cache, keys: &[u64]) -> u64 {
    let mut misses = 0;
    for (i, &k) in keys.iter().enumerate() {
        let now = i as u64;
        if let Lookup::Miss | Lookup::Expired = cache.lookup(k, now) {
            cache.insert(k, 0, 1, now);
            misses += 1;
        }
    }
    misses
}

fn bench(c: &mut Criterion) {
    let dist = KeyDist::zipf(KEYS, 0.99).expect("valid Zipf");
    let mut rng = Rng::seed_from(1);
    let keys: Vec<u64> = (0..REQUESTS).map(|_| dist.sample(&mut rng)).collect();
    let mut group = c.benchmark_group("cache");
    group.throughput(Throughput::Elements(REQUESTS as u64));
    for policy in [Policy::Lru, Policy::S3Fifo] {
        for capacity in [10_000u64, 100_000] {
            let spec = CacheSpec {
                capacity,
                bytes: None,
                policy,
                ttl: None,
            };
            let mut cache = Cache::new(&spec, KEYS, 1).expect("valid spec");
            pass(&mut cache, &keys);
            let misses = pass(&mut cache, &keys);
            println!(
                "{}/{capacity}: miss ratio {:.4}",
                policy.name(),
                misses as f64 / REQUESTS as f64
            );
            group.bench_function(format!("{}/{capacity}", policy.name()), |b| {
                b.iter(|| black_box(pass(&mut cache, black_box(&keys))))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
