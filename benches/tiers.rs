//! Cache tiers in paths: simulated requests per second of wall time.
//!
//! - `l1_l2_zipf_1m`: one million requests with Zipf(0.99) keys over one million products, each
//!   through an app service of 10 pods (random balancing, no service time), the L1 of the pod
//!   that served it (LRU, 10,000 entries each), a shared L2 (LRU, 100,000 entries, reached by
//!   a visit to a service with no service time), and a load on a double miss: the path and
//!   cache bookkeeping without queueing, the issue's 3 M requests/s target.
//! - `l1_l2_queued`: the same with exponential service times at the pods and at Redis (the
//!   events of real queueing on top).
//!
//! Run with `cargo bench --bench tiers -- --warm-up-time 1 --measurement-time 5`; throughput is
//! printed as elements (requests) per second.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scalesim::model::System;
use scalesim::scenario;

const REQUESTS: u64 = 1_000_000;

fn text(app: &str, redis: &str) -> String {
    format!(
        r#"
name = "tiers-bench"
duration = "10s"
[workload]
type = "poisson"
rate = {rate}
keys = {{ dist = "zipf", n = 1000000, alpha = 0.99 }}
[classes.read]
path = ["app", {{ cache = ["l1", "l2"], load = [{{ delay = "0s" }}] }}]
[services.app]
instances = 10
balancer = "random"
workers = 1000
service = {app}
[stations.redis]
workers = 1000
service = {redis}
[caches.l1]
per_instance = "app"
capacity = 10000
[caches.l2]
service = "redis"
capacity = 100000
"#,
        rate = REQUESTS / 10
    )
}

fn tiers(c: &mut Criterion) {
    let mut g = c.benchmark_group("tiers");
    g.throughput(Throughput::Elements(REQUESTS));
    g.sample_size(10);
    for (name, app, redis) in [
        ("l1_l2_zipf_1m", "\"0s\"", "\"0s\""),
        (
            "l1_l2_queued",
            "{ dist = \"exponential\", mean = \"1ms\" }",
            "{ dist = \"exponential\", mean = \"0.3ms\" }",
        ),
    ] {
        let loaded = scenario::load_str(&text(app, redis), Path::new("bench.toml"), &[])
            .expect("the bench scenario loads");
        g.bench_function(name, |b| {
            b.iter(|| black_box(System::new(&loaded.base.system, 1).run().events))
        });
    }
    g.finish();
}

criterion_group!(benches, tiers);
criterion_main!(benches);
