//! Measurements of a real run and their conversion into the report schema.
//!
//! During a run every finished request goes to a recorder shard: its latency (microsecond
//! HdrHistograms, 3 significant digits, per class), its outcome (completed or an
//! [`ErrorKind`]) and what the strategy did on the way ([`Trace`]: cache hit or miss, which
//! server answered, whether the read was stale). Requests whose *intended* start falls in the
//! warm-up are run but left out of the totals; the per-bucket time series keep everything,
//! keyed by the time the outcome was observed ("what clients saw at t").
//!
//! [`RealOutcome`] holds the merged recorder plus the monitor's lag and probe samples and the
//! fault log, and converts into [`SeriesRow`]s, a [`Cdf`] and a [`StrategySummary`]: the run
//! is reduced as one replication of the simulator would be ([`summarize_strategy`], with the
//! same histogram reduction, [`latency_stats`]), then given its own components:
//!
//! - components: `db` (reads on the primary and replicas, writes; over all replicas
//!   `lag_ms_max`, `lag_ms_mean`, `lag_bytes_max`, `lag_samples`, `lag_unavailable`; and
//!   `stale_reads`, `stale_checked_reads`, `stale_read_ratio`), `db.replica-N` (its reads,
//!   the same stale-read figures for the reads the strategy sent it, the same lag metrics, and
//!   the replica probe: `probes`, `probe_behind`, `probe_behind_ratio`, `probe_errors`),
//!   `cache` (`hit_ratio`, `hits`, `misses`, `errors`; `loads`, the misses that read the
//!   database, and `coalesced`, those a concurrent fill served under single flight, as the
//!   simulator's `data` component counts them), and for open loops `loadgen`
//!   (`dispatch_late_ms_mean`, `dispatch_late_ms_max`: how late the pacer sent arrivals;
//!   `skipped_arrivals`; `not_sent`: measured arrivals the pacer had not sent when the run
//!   ended; `not_sent_max_requests`: measured arrivals past `max_requests`), and with
//!   shoppers `sessions` (kind `sessions`: the simulator's session metrics under its names,
//!   `sessions`, `ended`, `abandoned`, `conversions`, `conversion_rate`, `revenue_lost`,
//!   `visits.STATE`, ..., see [`crate::model::sessions`]); with a sharded strategy `shards`
//!   (kind `router`, as the simulator's router: `requests.K`, `load_max_over_mean`),
//!   `db.shard-K` (`requests`, `p50_ms`, `p99_ms` of the requests that shard served) and, when
//!   the strategy reshards, `reshard` (`started_s`, `duration_s`, `shards_before`,
//!   `shards_after`, `users_moved`, `moved_fraction`, `rows_moved`, `failed`); when the
//!   primary was used, the app instances' pools to it (kind `pool`, named as the simulator's
//!   pool they stand for, `[real] pool_name`): `acquires`, `acquired`, `acquire_wait_ms_mean`,
//!   `_p99`, `_max`, `waited_ratio`, `exhausted_ratio`, `acquire_timeouts`, `connect_refused`,
//!   `connections_opened`, `open_max` as the simulator's, and `connect_errors`,
//!   `acquire_gave_up` (see [`super::pgpool::PoolStats::metrics`]);
//! - series metrics: `throughput_rps`, `p99_ms`, `errors` (per second, as the simulator's),
//!   `stale_reads` (strategy-observed, count), `lag_ms` (max over replicas) and `lag_ms.replica-N`,
//!   `probe_behind.replica-N` (share of the bucket's probes that found the replica behind),
//!   with a cache `cache_loads` (database loads to fill it, per second: a stampede's spike),
//!   and with shards `throughput_rps.shard-K`.
//!   `t_s` counts from the start of the run, warm-up included.
//!
//! Two figures about staleness, which mean different things:
//! - `stale_read_ratio` (on `db` and on each `db.replica-N`) counts only reads the strategy
//!   served: of its reads whose key it had written before (acknowledged before the read
//!   started), the share that returned an older version. A replica the strategy never reads
//!   has none, however far behind it is. This is the simulator's `stale_read_ratio`.
//! - `probe_behind_ratio` (on `db.replica-N` only) is the replica probe's: the share of probes
//!   (a write on the primary read back at once on every replica) that found the replica
//!   behind the write just committed. Asynchronous replication puts even a healthy replica
//!   behind for a moment after each commit, so this is high on a healthy replica under a fast
//!   probe; it reaches 1 while a replica is cut off. It describes the replica, not what any
//!   strategy served.
//!
//! A single real run has no confidence intervals: `latency_ms_ci95` (strategy and classes)
//! holds no numbers (`null` in `summary.json`, `-` in tables) rather than zeros.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;

use super::monitor::{LagSample, ProbeOutcome, ProbeSample};
use super::sharded::ReshardRecord;
use crate::model::sessions::Sessions;
use crate::observe::{ErrorKind, Unit, latency_stats};
use crate::report::summary::{Cdf, ComponentSummary, Latency, SeriesRow, StrategySummary};
use crate::run::{Metrics, RepMetrics, summarize_strategy};
use crate::scenario::Scenario;

const SIGFIG: u8 = 3;
const BUCKET_SIGFIG: u8 = 2;
/// Longest latency tracked: one hour, in microseconds; longer ones are clamped.
const MAX_US: u64 = 3_600_000_000;

/// Which server answered a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Target {
    /// Nothing reached the database (a cache hit).
    #[default]
    None,
    /// The primary.
    Primary,
    /// Replica `i`.
    Replica(usize),
    /// Shard `i` (a sharded strategy's user shard).
    Shard(usize),
}

/// What the cache did for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheUse {
    /// Not consulted.
    #[default]
    Unused,
    /// Hit.
    Hit,
    /// Miss (then filled).
    Miss,
    /// Redis failed; the request went on to the database.
    Error,
    /// Miss, then served by a concurrent request's fill (single flight): no database load.
    Coalesced,
}

/// What a strategy did for one successful request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Trace {
    /// The server that answered.
    pub target: Target,
    /// Whether it wrote.
    pub write: bool,
    /// Cache outcome.
    pub cache: CacheUse,
    /// `Some(stale)` when an earlier acknowledged write of the key let us check freshness.
    pub stale: Option<bool>,
    /// Read-your-writes waited for a replica to replay a write.
    pub replay_waited: bool,
    /// Read-your-writes gave up waiting and read the primary.
    pub fell_back: bool,
}

/// Shape shared by all recorder shards of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) classes: usize,
    pub(crate) replicas: usize,
    pub(crate) shards: usize,
    pub(crate) bucket_ns: u64,
    pub(crate) warmup_ns: u64,
    pub(crate) end_ns: u64,
}

impl Layout {
    fn buckets(&self) -> usize {
        usize::try_from(self.end_ns.div_ceil(self.bucket_ns).max(1)).unwrap_or(1)
    }

    fn bucket_of(&self, t_ns: u64) -> usize {
        usize::try_from(t_ns / self.bucket_ns)
            .unwrap_or(usize::MAX)
            .min(self.buckets() - 1)
    }

    fn measured(&self, intended_ns: u64) -> bool {
        intended_ns >= self.warmup_ns && intended_ns < self.end_ns
    }
}

#[derive(Debug, Clone)]
struct ClassStats {
    requests: u64,
    completed: u64,
    errors: [u64; ErrorKind::COUNT],
    hist: Histogram<u64>,
    /// Sum of the latencies recorded in `hist`, µs (for the exact mean).
    latency_sum_us: f64,
}

impl ClassStats {
    fn new() -> Self {
        ClassStats {
            requests: 0,
            completed: 0,
            errors: [0; ErrorKind::COUNT],
            hist: new_hist(SIGFIG),
            latency_sum_us: 0.0,
        }
    }

    fn merge(&mut self, o: &ClassStats) {
        self.requests += o.requests;
        self.completed += o.completed;
        for (x, y) in self.errors.iter_mut().zip(o.errors) {
            *x += y;
        }
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.hist.add(&o.hist);
        self.latency_sum_us += o.latency_sum_us;
    }

    /// The simulator's per-replication figures of this class over a window of `secs`.
    fn metrics(&self, secs: f64, percentiles: &[f64]) -> Metrics {
        let latency = latency_stats(&self.hist, self.latency_sum_us, Unit::Micros, percentiles);
        Metrics {
            arrived: self.requests,
            completed: self.completed,
            failed: self.errors,
            throughput: ratio(to_f64(self.completed), secs),
            latency: latency.fixed,
            extra: latency.extra,
        }
    }
}

/// Counts of what the strategies did, over the measured window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Counters {
    cache_hits: u64,
    /// Misses, coalesced ones included.
    cache_misses: u64,
    /// Misses served by another request's fill (single flight).
    cache_coalesced: u64,
    cache_errors: u64,
    primary_reads: u64,
    writes: u64,
    replica_reads: Vec<u64>,
    /// Per replica: reads of the strategy it served that could be judged, and the stale ones.
    replica_checked: Vec<u64>,
    replica_stale: Vec<u64>,
    stale_checked: u64,
    stale_reads: u64,
    replay_waits: u64,
    fallbacks: u64,
}

#[derive(Debug, Clone, Default)]
struct BucketStats {
    completions: u64,
    /// Completions per shard (sharded strategies).
    shard_completions: Vec<u64>,
    errors: u64,
    stale_reads: u64,
    /// Cache misses that loaded from the database.
    cache_loads: u64,
    hist: Option<Histogram<u64>>,
}

/// Histograms and counters of (a shard of) one run.
#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    layout: Layout,
    classes: Vec<ClassStats>,
    counters: Counters,
    /// Latency of the measured requests each shard served.
    shard_hists: Vec<Histogram<u64>>,
    buckets: Vec<BucketStats>,
}

fn new_hist(sigfig: u8) -> Histogram<u64> {
    // Bounds are constants within hdrhistogram's limits, so this cannot fail.
    Histogram::new_with_bounds(1, MAX_US, sigfig).expect("valid histogram bounds")
}

impl Recorder {
    pub(crate) fn new(layout: Layout) -> Self {
        Recorder {
            layout,
            classes: vec![ClassStats::new(); layout.classes],
            counters: Counters {
                replica_reads: vec![0; layout.replicas],
                replica_checked: vec![0; layout.replicas],
                replica_stale: vec![0; layout.replicas],
                ..Counters::default()
            },
            shard_hists: vec![new_hist(SIGFIG); layout.shards],
            buckets: vec![
                BucketStats {
                    shard_completions: vec![0; layout.shards],
                    ..BucketStats::default()
                };
                layout.buckets()
            ],
        }
    }

    /// Records one request of `class`, meant to start at `intended_ns` and finished (or
    /// rejected) at `done_ns`, both from the start of the run.
    pub(crate) fn record(
        &mut self,
        class: u32,
        intended_ns: u64,
        done_ns: u64,
        outcome: &Result<Trace, ErrorKind>,
    ) {
        let latency_us = (done_ns.saturating_sub(intended_ns) / 1_000).clamp(1, MAX_US);
        self.record_bucket(done_ns, latency_us, outcome);
        if !self.layout.measured(intended_ns) {
            return;
        }
        let Some(stats) = self.classes.get_mut(class as usize) else {
            return;
        };
        stats.requests += 1;
        match outcome {
            Ok(trace) => {
                stats.completed += 1;
                stats.hist.saturating_record(latency_us);
                stats.latency_sum_us += to_f64(latency_us);
                self.counters.count(trace);
                if let Target::Shard(i) = trace.target
                    && let Some(h) = self.shard_hists.get_mut(i)
                {
                    h.saturating_record(latency_us);
                }
            }
            Err(kind) => stats.errors[kind.index()] += 1,
        }
    }

    fn record_bucket(&mut self, done_ns: u64, latency_us: u64, outcome: &Result<Trace, ErrorKind>) {
        let i = self.layout.bucket_of(done_ns);
        let b = &mut self.buckets[i];
        match outcome {
            Ok(trace) => {
                b.completions += 1;
                b.hist
                    .get_or_insert_with(|| new_hist(BUCKET_SIGFIG))
                    .saturating_record(latency_us);
                b.stale_reads += u64::from(trace.stale == Some(true));
                b.cache_loads += u64::from(trace.cache == CacheUse::Miss);
                if let Target::Shard(i) = trace.target
                    && let Some(n) = b.shard_completions.get_mut(i)
                {
                    *n += 1;
                }
            }
            Err(_) => b.errors += 1,
        }
    }

    /// Adds another shard of the same run.
    pub(crate) fn merge(&mut self, other: &Recorder) {
        for (a, b) in self.classes.iter_mut().zip(&other.classes) {
            a.merge(b);
        }
        self.counters.merge(&other.counters);
        for (a, b) in self.shard_hists.iter_mut().zip(&other.shard_hists) {
            let _ = a.add(b);
        }
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            a.completions += b.completions;
            for (x, y) in a.shard_completions.iter_mut().zip(&b.shard_completions) {
                *x += y;
            }
            a.errors += b.errors;
            a.stale_reads += b.stale_reads;
            a.cache_loads += b.cache_loads;
            if let Some(h) = &b.hist {
                let _ = a.hist.get_or_insert_with(|| new_hist(BUCKET_SIGFIG)).add(h);
            }
        }
    }

    /// All classes together.
    fn overall(&self) -> ClassStats {
        let mut all = ClassStats::new();
        for c in &self.classes {
            all.merge(c);
        }
        all
    }
}

impl Counters {
    fn count(&mut self, t: &Trace) {
        match t.cache {
            CacheUse::Hit => self.cache_hits += 1,
            CacheUse::Miss => self.cache_misses += 1,
            CacheUse::Coalesced => {
                self.cache_misses += 1;
                self.cache_coalesced += 1;
            }
            CacheUse::Error => self.cache_errors += 1,
            CacheUse::Unused => {}
        }
        match (t.target, t.write) {
            (_, true) => self.writes += 1,
            (Target::Primary | Target::Shard(_), false) => self.primary_reads += 1,
            (Target::Replica(i), false) => {
                if let Some(r) = self.replica_reads.get_mut(i) {
                    *r += 1;
                }
            }
            (Target::None, false) => {}
        }
        if let Some(stale) = t.stale {
            self.stale_checked += 1;
            self.stale_reads += u64::from(stale);
            if let (Target::Replica(i), false) = (t.target, t.write) {
                if let Some(n) = self.replica_checked.get_mut(i) {
                    *n += 1;
                }
                if let Some(n) = self.replica_stale.get_mut(i) {
                    *n += u64::from(stale);
                }
            }
        }
        self.replay_waits += u64::from(t.replay_waited);
        self.fallbacks += u64::from(t.fell_back);
    }

    fn merge(&mut self, o: &Counters) {
        self.cache_hits += o.cache_hits;
        self.cache_misses += o.cache_misses;
        self.cache_coalesced += o.cache_coalesced;
        self.cache_errors += o.cache_errors;
        self.primary_reads += o.primary_reads;
        self.writes += o.writes;
        let per_replica = [
            (&mut self.replica_reads, &o.replica_reads),
            (&mut self.replica_checked, &o.replica_checked),
            (&mut self.replica_stale, &o.replica_stale),
        ];
        for (mine, theirs) in per_replica {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
        self.stale_checked += o.stale_checked;
        self.stale_reads += o.stale_reads;
        self.replay_waits += o.replay_waits;
        self.fallbacks += o.fallbacks;
    }
}

/// A recorder split into mutex-guarded shards, so concurrent requests rarely contend.
#[derive(Debug)]
pub(crate) struct SharedRecorder {
    shards: Vec<Mutex<Recorder>>,
}

impl SharedRecorder {
    pub(crate) fn new(layout: Layout, shards: usize) -> Self {
        SharedRecorder {
            shards: (0..shards.max(1))
                .map(|_| Mutex::new(Recorder::new(layout)))
                .collect(),
        }
    }

    /// Records into shard `shard % shards`.
    pub(crate) fn record(
        &self,
        shard: usize,
        class: u32,
        intended_ns: u64,
        done_ns: u64,
        outcome: &Result<Trace, ErrorKind>,
    ) {
        let shard = &self.shards[shard % self.shards.len()];
        let mut r = shard.lock().unwrap_or_else(PoisonError::into_inner);
        r.record(class, intended_ns, done_ns, outcome);
    }

    /// All shards merged.
    pub(crate) fn merged(&self) -> Recorder {
        let lock = |m: &Mutex<Recorder>| m.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let mut out = lock(&self.shards[0]);
        for s in &self.shards[1..] {
            out.merge(&lock(s));
        }
        out
    }
}

/// One injected fault and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRecord {
    /// When it was injected, from the start of the run.
    pub at: Duration,
    /// The fault.
    pub fault: String,
    /// The injector's verdict.
    pub result: Result<(), String>,
}

/// Everything one real run measured.
#[derive(Debug, Clone)]
pub struct RealOutcome {
    pub(crate) strategy: String,
    pub(crate) class_names: Vec<String>,
    pub(crate) cache: bool,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    pub(crate) bucket: Duration,
    pub(crate) recorder: Recorder,
    pub(crate) lag: Vec<LagSample>,
    pub(crate) probes: Vec<ProbeSample>,
    pub(crate) faults: Vec<FaultRecord>,
    pub(crate) dispatch: DispatchStats,
    pub(crate) sessions: Option<Sessions>,
    pub(crate) reshard: Option<ReshardRecord>,
    /// The app-side pools to the primary: the component name and its metrics.
    pub(crate) pool: Option<(String, BTreeMap<String, f64>)>,
}

/// How well the open-loop pacer kept to the intended times (all zeros for closed loops).
///
/// Latency is measured from the intended time either way; a large lateness means the load
/// generator itself (CPU, scheduling) could not keep up and is part of what was measured.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DispatchStats {
    /// Arrivals sent or rejected.
    pub dispatched: u64,
    /// Arrivals skipped because their class index was out of range.
    pub skipped_arrivals: u64,
    /// Arrivals meant for the measured window that were never sent: the run ended before the
    /// pacer got to them (it fell behind). Not in `requests`.
    pub not_sent: u64,
    /// Arrivals meant for the measured window that were not sent because `max_requests` had
    /// been sent. Not in `requests`.
    pub not_sent_max_requests: u64,
    /// Mean delay between an arrival's intended time and its dispatch, ms.
    pub late_mean_ms: f64,
    /// Largest such delay, ms.
    pub late_max_ms: f64,
}

impl RealOutcome {
    /// Strategy name.
    pub fn strategy(&self) -> &str {
        &self.strategy
    }

    /// The open-loop pacer's statistics.
    pub fn dispatch(&self) -> &DispatchStats {
        &self.dispatch
    }

    /// Faults injected, in order.
    pub fn faults(&self) -> &[FaultRecord] {
        &self.faults
    }

    /// Replication-lag samples, in time order per replica.
    pub fn lag_samples(&self) -> &[LagSample] {
        &self.lag
    }

    /// Replica probe results.
    pub fn probe_samples(&self) -> &[ProbeSample] {
        &self.probes
    }

    /// The run's results in the report schema, reduced exactly as the simulator reduces one
    /// replication, except that it has no confidence intervals (one run; they hold no
    /// numbers, see [`Latency::none`]): counts, errors by kind, error rate, availability,
    /// throughput, latency with the scenario's extra percentiles, per-class figures in the
    /// scenario's class order (matched by name), SLO verdicts and cost from `sc`, the
    /// scenario the plan was made from. The components are the real run's own (see the module
    /// docs).
    pub fn to_strategy_summary(&self, sc: &Scenario) -> StrategySummary {
        let rep = self.rep_metrics(&sc.class_names, &sc.percentiles);
        let mut s = summarize_strategy(&self.strategy, sc, &[&rep], None);
        s.latency_ms_ci95 = Latency::none(&sc.percentiles);
        for c in &mut s.classes {
            c.latency_ms_ci95 = Latency::none(&sc.percentiles);
        }
        s.components = self.components();
        s
    }

    /// The run as one simulator replication: totals and per-class [`Metrics`] for `classes`
    /// (a class the run did not have counts zero), without stations, series or histogram.
    fn rep_metrics(&self, classes: &[String], percentiles: &[f64]) -> RepMetrics {
        let secs = self.duration.as_secs_f64();
        let class = |name: &String| match self.class_names.iter().position(|n| n == name) {
            Some(i) => self.recorder.classes[i].metrics(secs, percentiles),
            None => ClassStats::new().metrics(secs, percentiles),
        };
        let total = self.recorder.overall();
        let done = total.completed + total.errors.iter().sum::<u64>();
        RepMetrics {
            total: total.metrics(secs, percentiles),
            classes: classes.iter().map(class).collect(),
            components: Vec::new(),
            in_flight: total.requests.saturating_sub(done),
            mean_in_system: 0.0,
            events: 0,
            window_s: secs,
            series: Vec::new(),
            histogram: None,
            buckets: Vec::new(),
            auto_warmup: None,
        }
    }

    fn components(&self) -> Vec<ComponentSummary> {
        let c = &self.recorder.counters;
        let measured: Vec<&LagSample> = self.lag.iter().filter(|s| s.t >= self.warmup).collect();
        let mut db = BTreeMap::new();
        db.insert("reads_primary".to_owned(), to_f64(c.primary_reads));
        db.insert(
            "reads_replicas".to_owned(),
            to_f64(c.replica_reads.iter().sum()),
        );
        db.insert("writes".to_owned(), to_f64(c.writes));
        db.insert("stale_reads".to_owned(), to_f64(c.stale_reads));
        db.insert("stale_checked_reads".to_owned(), to_f64(c.stale_checked));
        db.insert(
            "stale_read_ratio".to_owned(),
            ratio(to_f64(c.stale_reads), to_f64(c.stale_checked)),
        );
        db.insert("replay_waits".to_owned(), to_f64(c.replay_waits));
        db.insert("ryw_fallbacks".to_owned(), to_f64(c.fallbacks));
        if !c.replica_reads.is_empty() {
            insert_lag(&mut db, measured.iter().copied());
        }
        let mut out = vec![component("db", db)];
        for i in 0..c.replica_reads.len() {
            out.push(component(
                &format!("db.replica-{i}"),
                self.replica_metrics(i, &measured),
            ));
        }
        if self.cache {
            out.push(component("cache", cache_metrics(c)));
        }
        let d = &self.dispatch;
        if d.dispatched + d.not_sent + d.not_sent_max_requests > 0 {
            out.push(component("loadgen", self.dispatch_metrics()));
        }
        if !self.recorder.shard_hists.is_empty() {
            out.extend(self.shard_components());
        }
        if let Some((name, m)) = self
            .pool
            .as_ref()
            .filter(|(_, m)| m.get("acquires").is_some_and(|a| *a > 0.0))
        {
            out.push(ComponentSummary {
                kind: "pool".to_owned(),
                ..component(name, m.clone())
            });
        }
        if let Some(s) = &self.sessions {
            let window_ns = self.duration.as_secs_f64() * 1e9;
            out.push(ComponentSummary {
                kind: "sessions".to_owned(),
                ..component("sessions", s.metrics(window_ns).into_iter().collect())
            });
        }
        out
    }

    /// `shards` (kind `router`, as the simulator's: `requests.K` and `load_max_over_mean`
    /// over the shards the run used), `db.shard-K` (`requests`, `p50_ms`, `p99_ms`) and, after
    /// a resharding, `reshard`.
    fn shard_components(&self) -> Vec<ComponentSummary> {
        let hists = &self.recorder.shard_hists;
        let requests: Vec<f64> = hists.iter().map(|h| to_f64(h.len())).collect();
        let mean = requests.iter().sum::<f64>() / to_f64(requests.len() as u64);
        let max = requests.iter().copied().fold(0.0, f64::max);
        let mut router: BTreeMap<String, f64> = requests
            .iter()
            .enumerate()
            .map(|(k, r)| (format!("requests.{k}"), *r))
            .collect();
        router.insert("load_max_over_mean".to_owned(), ratio(max, mean));
        let mut out = vec![ComponentSummary {
            kind: "router".to_owned(),
            ..component("shards", router)
        }];
        for (k, h) in hists.iter().enumerate() {
            let q = |p: f64| {
                if h.is_empty() {
                    0.0
                } else {
                    us_to_ms(h.value_at_quantile(p))
                }
            };
            let m = BTreeMap::from([
                ("requests".to_owned(), to_f64(h.len())),
                ("p50_ms".to_owned(), q(0.5)),
                ("p99_ms".to_owned(), q(0.99)),
            ]);
            out.push(component(&format!("db.shard-{k}"), m));
        }
        if let Some(r) = &self.reshard {
            let m = BTreeMap::from([
                ("started_s".to_owned(), r.started.as_secs_f64()),
                ("duration_s".to_owned(), r.took.as_secs_f64()),
                ("shards_before".to_owned(), to_f64(r.shards.0 as u64)),
                ("shards_after".to_owned(), to_f64(r.shards.1 as u64)),
                ("users_moved".to_owned(), to_f64(r.users_moved)),
                (
                    "moved_fraction".to_owned(),
                    ratio(to_f64(r.users_moved), to_f64(r.users)),
                ),
                ("rows_moved".to_owned(), to_f64(r.rows_moved)),
                ("failed".to_owned(), f64::from(u8::from(r.error.is_some()))),
            ]);
            out.push(component("reshard", m));
        }
        out
    }

    /// The resharding, if the run did one.
    pub fn reshard(&self) -> Option<&ReshardRecord> {
        self.reshard.as_ref()
    }

    fn dispatch_metrics(&self) -> BTreeMap<String, f64> {
        let d = &self.dispatch;
        BTreeMap::from([
            ("dispatch_late_ms_mean".to_owned(), d.late_mean_ms),
            ("dispatch_late_ms_max".to_owned(), d.late_max_ms),
            ("skipped_arrivals".to_owned(), to_f64(d.skipped_arrivals)),
            ("not_sent".to_owned(), to_f64(d.not_sent)),
            (
                "not_sent_max_requests".to_owned(),
                to_f64(d.not_sent_max_requests),
            ),
        ])
    }

    /// Replica `i`: the strategy's reads on it and their staleness, its lag, and the probe.
    fn replica_metrics(&self, i: usize, lag: &[&LagSample]) -> BTreeMap<String, f64> {
        let c = &self.recorder.counters;
        let at = |v: &[u64]| to_f64(v.get(i).copied().unwrap_or(0));
        let (checked, stale) = (at(&c.replica_checked), at(&c.replica_stale));
        let mut m = BTreeMap::new();
        m.insert("reads".to_owned(), at(&c.replica_reads));
        m.insert("stale_reads".to_owned(), stale);
        m.insert("stale_checked_reads".to_owned(), checked);
        m.insert("stale_read_ratio".to_owned(), ratio(stale, checked));
        insert_lag(&mut m, lag.iter().copied().filter(|s| s.replica == i));
        let probes = self
            .probes
            .iter()
            .filter(|p| p.replica == i && p.t >= self.warmup);
        let (mut behind, mut current, mut errors) = (0u64, 0u64, 0u64);
        for p in probes {
            match p.outcome {
                ProbeOutcome::Behind => behind += 1,
                ProbeOutcome::Current => current += 1,
                ProbeOutcome::Error => errors += 1,
            }
        }
        m.insert("probes".to_owned(), to_f64(behind + current));
        m.insert("probe_behind".to_owned(), to_f64(behind));
        m.insert(
            "probe_behind_ratio".to_owned(),
            ratio(to_f64(behind), to_f64(behind + current)),
        );
        m.insert("probe_errors".to_owned(), to_f64(errors));
        m
    }

    /// Tidy time series, one row per bucket and metric (see the module docs for the names).
    pub fn series(&self, replication: u32) -> Vec<SeriesRow> {
        let bucket_s = self.bucket.as_secs_f64();
        let mut rows = Vec::new();
        let mut push = |i: usize, metric: String, value: f64| {
            rows.push(SeriesRow {
                strategy: self.strategy.clone(),
                replication,
                t_s: to_f64(i as u64) * bucket_s,
                metric,
                value,
            });
        };
        for (i, b) in self.recorder.buckets.iter().enumerate() {
            push(i, "throughput_rps".into(), to_f64(b.completions) / bucket_s);
            if let Some(h) = b.hist.as_ref().filter(|h| !h.is_empty()) {
                push(i, "p99_ms".into(), us_to_ms(h.value_at_quantile(0.99)));
            }
            push(i, "errors".into(), to_f64(b.errors) / bucket_s);
            push(i, "stale_reads".into(), to_f64(b.stale_reads));
            if self.cache {
                push(i, "cache_loads".into(), to_f64(b.cache_loads) / bucket_s);
            }
            for (k, n) in b.shard_completions.iter().enumerate() {
                push(
                    i,
                    format!("throughput_rps.shard-{k}"),
                    to_f64(*n) / bucket_s,
                );
            }
        }
        for (i, metric, value) in self.lag_rows().into_iter().chain(self.probe_rows()) {
            push(i, metric, value);
        }
        rows.sort_by(|a, b| {
            a.t_s
                .total_cmp(&b.t_s)
                .then_with(|| a.metric.cmp(&b.metric))
        });
        rows
    }

    fn bucket_index(&self, t: Duration) -> usize {
        let last = self.recorder.buckets.len().saturating_sub(1);
        let i = t.as_nanos() / self.bucket.as_nanos().max(1);
        usize::try_from(i).unwrap_or(usize::MAX).min(last)
    }

    fn lag_rows(&self) -> Vec<(usize, String, f64)> {
        let mut per_bucket_max: BTreeMap<usize, f64> = BTreeMap::new();
        let mut rows = Vec::new();
        for s in &self.lag {
            let Some(lag) = s.lag_ms else { continue };
            let i = self.bucket_index(s.t);
            rows.push((i, format!("lag_ms.replica-{}", s.replica), lag));
            let m = per_bucket_max.entry(i).or_insert(0.0);
            *m = m.max(lag);
        }
        rows.extend(
            per_bucket_max
                .into_iter()
                .map(|(i, v)| (i, "lag_ms".to_owned(), v)),
        );
        rows
    }

    /// Per bucket and replica, the share of answered probes that found the replica behind.
    fn probe_rows(&self) -> Vec<(usize, String, f64)> {
        let mut counts: BTreeMap<(usize, usize), (u64, u64)> = BTreeMap::new();
        for p in self
            .probes
            .iter()
            .filter(|p| p.outcome != ProbeOutcome::Error)
        {
            let (behind, answered) = counts
                .entry((self.bucket_index(p.t), p.replica))
                .or_insert((0, 0));
            *behind += u64::from(p.outcome == ProbeOutcome::Behind);
            *answered += 1;
        }
        counts
            .into_iter()
            .map(|((i, r), (behind, answered))| {
                let share = ratio(to_f64(behind), to_f64(answered));
                (i, format!("probe_behind.replica-{r}"), share)
            })
            .collect()
    }

    /// Latency CDF of completed requests (all classes, warm-up excluded).
    pub fn cdf(&self) -> Cdf {
        Cdf {
            strategy: self.strategy.clone(),
            points: cdf_points(&self.recorder.overall().hist),
        }
    }

    /// Completed requests after the warm-up (the latency histogram's count).
    pub fn completed(&self) -> u64 {
        self.recorder.overall().hist.len()
    }
}

fn component(name: &str, metrics: BTreeMap<String, f64>) -> ComponentSummary {
    ComponentSummary {
        name: name.to_owned(),
        metrics,
        ..ComponentSummary::default()
    }
}

fn cache_metrics(c: &Counters) -> BTreeMap<String, f64> {
    let (hits, misses) = (to_f64(c.cache_hits), to_f64(c.cache_misses));
    let coalesced = to_f64(c.cache_coalesced);
    BTreeMap::from([
        ("hit_ratio".to_owned(), ratio(hits, hits + misses)),
        ("hits".to_owned(), hits),
        ("misses".to_owned(), misses),
        ("loads".to_owned(), misses - coalesced),
        ("coalesced".to_owned(), coalesced),
        ("errors".to_owned(), to_f64(c.cache_errors)),
    ])
}

fn insert_lag<'a>(m: &mut BTreeMap<String, f64>, samples: impl Iterator<Item = &'a LagSample>) {
    let (mut n, mut sum, mut max, mut missing) = (0u64, 0.0, 0.0f64, 0u64);
    let mut max_bytes = 0i64;
    for s in samples {
        max_bytes = max_bytes.max(s.lag_bytes.unwrap_or(0));
        match s.lag_ms {
            Some(l) => {
                n += 1;
                sum += l;
                max = max.max(l);
            }
            None => missing += 1,
        }
    }
    m.insert("lag_ms_max".to_owned(), max);
    m.insert(
        "lag_ms_mean".to_owned(),
        if n > 0 { sum / to_f64(n) } else { 0.0 },
    );
    m.insert("lag_samples".to_owned(), to_f64(n));
    m.insert("lag_bytes_max".to_owned(), max_bytes as f64);
    m.insert("lag_unavailable".to_owned(), to_f64(missing));
}

/// `(latency_ms, fraction)` points at a quantile grid dense in the tail, increasing in both.
fn cdf_points(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let mut grid: Vec<f64> = (0..100).map(|i| f64::from(i) / 100.0).collect();
    grid.extend((0..10).map(|i| 0.99 + f64::from(i) / 1_000.0));
    grid.extend((0..10).map(|i| 0.999 + f64::from(i) / 10_000.0));
    grid.push(1.0);
    let mut points: Vec<(f64, f64)> = Vec::with_capacity(grid.len());
    for q in grid {
        let v = us_to_ms(h.value_at_quantile(q));
        let f = to_f64(h.count_between(0, h.value_at_quantile(q))) / to_f64(h.len());
        match points.last_mut() {
            Some(last) if last.0 >= v => last.1 = last.1.max(f),
            _ => points.push((v, f)),
        }
    }
    points
}

fn us_to_ms(us: u64) -> f64 {
    Unit::Micros.to_ms(to_f64(us))
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

#[allow(clippy::cast_precision_loss)]
pub(crate) fn to_f64(x: u64) -> f64 {
    x as f64
}

/// Locks a mutex, ignoring poisoning (a panicked recorder holds only counts).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::Latency;

    const MS: u64 = 1_000_000;

    fn layout() -> Layout {
        Layout {
            classes: 2,
            replicas: 2,
            shards: 0,
            bucket_ns: 1_000 * MS,
            warmup_ns: 1_000 * MS,
            end_ns: 4_000 * MS,
        }
    }

    fn ok(target: Target, stale: Option<bool>, cache: CacheUse) -> Result<Trace, ErrorKind> {
        Ok(Trace {
            target,
            stale,
            cache,
            ..Trace::default()
        })
    }

    /// The scenario of the outcomes below: classes `browse` and `buy`, an extra percentile and
    /// SLOs on latency and errors.
    fn scenario() -> Scenario {
        let text = r#"
name = "t"
duration = "4s"
warmup = "1s"
percentiles = [99.99]

[workload]
type = "poisson"
rate = 1

[classes.browse]
path = ["db"]

[classes.buy]
path = ["db"]

[stations.db]
workers = 1
service = "1ms"

[slo]
p99 = "100ms"
max_error_rate = 0.9
"#;
        let path = std::path::Path::new("t.toml");
        crate::scenario::load_str(text, path, &[]).unwrap().base
    }

    /// Zero latencies, with the scenario's extra percentile.
    fn zeros() -> Latency {
        Latency {
            extra: [("p99.99".to_owned(), 0.0)].into(),
            ..Latency::default()
        }
    }

    fn summary(o: &RealOutcome) -> StrategySummary {
        o.to_strategy_summary(&scenario())
    }

    fn outcome(rec: Recorder, lag: Vec<LagSample>, probes: Vec<ProbeSample>) -> RealOutcome {
        RealOutcome {
            strategy: "s".into(),
            class_names: vec!["browse".into(), "buy".into()],
            cache: true,
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(3),
            bucket: Duration::from_secs(1),
            recorder: rec,
            lag,
            probes,
            faults: vec![],
            dispatch: DispatchStats::default(),
            sessions: None,
            reshard: None,
            pool: None,
        }
    }

    #[test]
    fn latency_counts_from_the_intended_start_and_warmup_is_excluded() {
        let mut r = Recorder::new(layout());
        // Warm-up request: in the series, not in the totals.
        r.record(
            0,
            500 * MS,
            510 * MS,
            &ok(Target::Primary, None, CacheUse::Unused),
        );
        // Intended at 1.0 s, sent late, done at 1.25 s: 250 ms, not the service time.
        r.record(
            0,
            1_000 * MS,
            1_250 * MS,
            &ok(Target::Replica(1), Some(true), CacheUse::Miss),
        );
        r.record(1, 2_000 * MS, 2_000 * MS, &Err(ErrorKind::Rejected));
        r.record(1, 2_100 * MS, 4_100 * MS, &Err(ErrorKind::Timeout));
        let s = summary(&outcome(r, vec![], vec![]));
        assert_eq!((s.requests, s.completed, s.failed), (3.0, 1.0, 2.0));
        assert!((s.latency_ms.p50 - 250.0).abs() < 0.5, "{:?}", s.latency_ms);
        assert_eq!(s.latency_ms.mean, 250.0, "the mean is exact");
        assert!((s.latency_ms.extra["p99.99"] - 250.0).abs() < 0.5);
        assert!(s.latency_ms_ci95.is_none() && s.classes[0].latency_ms_ci95.is_none());
        let (browse, buy) = (&s.classes[0], &s.classes[1]);
        assert_eq!((browse.name.as_str(), browse.completed), ("browse", 1.0));
        assert_eq!(
            (buy.name.as_str(), buy.requests, buy.failed),
            ("buy", 2.0, 2.0)
        );
        // p99 = 250 ms misses the 100 ms objective; the error rate meets its own.
        assert!(!s.slo.passed && s.slo.checks.len() == 2 && s.slo.checks[1].passed);
        assert_eq!(s.errors["rejected"], 1.0);
        assert_eq!(s.errors["timeout"], 1.0);
        assert_eq!(s.errors["connection"], 0.0);
        assert!((s.error_rate - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.throughput_rps - 1.0 / 3.0).abs() < 1e-12);
        let db = &s.components[0];
        assert_eq!(db.name, "db");
        assert_eq!(db.metrics["stale_reads"], 1.0);
        assert_eq!(db.metrics["stale_read_ratio"], 1.0);
        let cache = s.components.iter().find(|c| c.name == "cache").unwrap();
        assert_eq!(cache.metrics["hit_ratio"], 0.0);
        assert_eq!(s.components[2].metrics["reads"], 1.0);
    }

    /// Requests per shard, the router's balance figure and the resharding reach the summary
    /// and the series under the simulator's names.
    #[test]
    fn shard_components_count_what_each_shard_served() {
        let mut r = Recorder::new(Layout {
            shards: 3,
            ..layout()
        });
        // Shard 0 serves 6 measured requests of 10 ms, shard 1 serves 2 of 40 ms, shard 2
        // none; one warm-up request on shard 2 counts in the series only.
        for i in 0..6 {
            r.record(
                0,
                1_000 * MS + i * MS,
                1_010 * MS + i * MS,
                &ok(Target::Shard(0), None, CacheUse::Unused),
            );
        }
        for i in 0..2 {
            r.record(
                1,
                2_000 * MS + i * MS,
                2_040 * MS + i * MS,
                &ok(Target::Shard(1), None, CacheUse::Unused),
            );
        }
        r.record(
            0,
            100 * MS,
            200 * MS,
            &ok(Target::Shard(2), None, CacheUse::Unused),
        );
        let mut o = outcome(r, vec![], vec![]);
        o.reshard = Some(ReshardRecord {
            started: Duration::from_secs(2),
            took: Duration::from_millis(1_500),
            shards: (3, 4),
            users_moved: 25,
            users: 100,
            rows_moved: 80,
            error: None,
        });
        let s = summary(&o);
        let find = |n: &str| s.components.iter().find(|c| c.name == n).unwrap();
        let router = find("shards");
        assert_eq!(router.kind, "router");
        assert_eq!(
            (
                router.metrics["requests.0"],
                router.metrics["requests.1"],
                router.metrics["requests.2"]
            ),
            (6.0, 2.0, 0.0)
        );
        // max 6 over mean 8/3.
        assert!((router.metrics["load_max_over_mean"] - 2.25).abs() < 1e-12);
        assert!((find("db.shard-0").metrics["p99_ms"] - 10.0).abs() < 0.05);
        assert!((find("db.shard-1").metrics["p50_ms"] - 40.0).abs() < 0.05);
        assert_eq!(find("db.shard-2").metrics["requests"], 0.0);
        let re = find("reshard");
        assert_eq!(re.metrics["moved_fraction"], 0.25);
        assert_eq!(
            (re.metrics["shards_before"], re.metrics["shards_after"]),
            (3.0, 4.0)
        );
        assert_eq!(re.metrics["failed"], 0.0);
        let series = o.series(0);
        let at = |t: f64, m: &str| {
            series
                .iter()
                .find(|row| row.t_s == t && row.metric == m)
                .map(|row| row.value)
        };
        assert_eq!(at(0.0, "throughput_rps.shard-2"), Some(1.0));
        assert_eq!(at(1.0, "throughput_rps.shard-0"), Some(6.0));
        assert_eq!(at(2.0, "throughput_rps.shard-1"), Some(2.0));
    }

    #[test]
    fn shards_merge_to_the_same_totals() {
        let shared = SharedRecorder::new(layout(), 4);
        for i in 0..100u64 {
            let res = if i % 10 == 0 {
                Err(ErrorKind::Failed)
            } else {
                ok(Target::Primary, Some(false), CacheUse::Hit)
            };
            shared.record(
                usize::try_from(i).unwrap(),
                0,
                1_000 * MS + i * MS,
                1_001 * MS + i * MS,
                &res,
            );
        }
        let s = summary(&outcome(shared.merged(), vec![], vec![]));
        assert_eq!((s.requests, s.completed, s.failed), (100.0, 90.0, 10.0));
        assert!((s.latency_ms.p99 - 1.0).abs() < 0.01);
        let cache = s.components.iter().find(|c| c.name == "cache").unwrap();
        assert_eq!(cache.metrics["hit_ratio"], 1.0);
    }

    #[test]
    fn series_have_per_bucket_throughput_p99_errors_and_lag_per_replica() {
        let mut r = Recorder::new(layout());
        for i in 0..10 {
            r.record(
                0,
                1_000 * MS + i * MS,
                1_100 * MS + i * MS,
                &ok(Target::Primary, None, CacheUse::Unused),
            );
        }
        r.record(0, 2_000 * MS, 2_500 * MS, &Err(ErrorKind::Connection));
        let lag = vec![
            LagSample {
                t: Duration::from_millis(1_500),
                replica: 0,
                lag_ms: Some(3.0),
                lag_bytes: Some(10),
            },
            LagSample {
                t: Duration::from_millis(1_500),
                replica: 1,
                lag_ms: Some(900.0),
                lag_bytes: Some(9),
            },
            LagSample {
                t: Duration::from_millis(2_500),
                replica: 1,
                lag_ms: None,
                lag_bytes: None,
            },
        ];
        let probes = vec![
            ProbeSample {
                t: Duration::from_millis(1_200),
                replica: 1,
                outcome: ProbeOutcome::Behind,
            },
            ProbeSample {
                t: Duration::from_millis(1_400),
                replica: 1,
                outcome: ProbeOutcome::Current,
            },
        ];
        let o = outcome(r, lag, probes);
        let rows = o.series(3);
        let get = |t: f64, m: &str| {
            rows.iter()
                .find(|r| r.t_s == t && r.metric == m)
                .map(|r| r.value)
        };
        assert_eq!(get(1.0, "throughput_rps"), Some(10.0));
        assert!((get(1.0, "p99_ms").unwrap() - 100.0).abs() < 1.5);
        assert_eq!(get(2.0, "errors"), Some(1.0));
        assert_eq!(get(1.0, "lag_ms.replica-1"), Some(900.0));
        assert_eq!(get(1.0, "lag_ms"), Some(900.0));
        assert_eq!(get(2.0, "lag_ms.replica-1"), None);
        assert_eq!(get(1.0, "probe_behind.replica-1"), Some(0.5));
        assert!(rows.iter().all(|r| r.replication == 3 && r.strategy == "s"));
        assert!(rows.windows(2).all(|w| w[0].t_s <= w[1].t_s));
        let s = summary(&o);
        let r1 = s
            .components
            .iter()
            .find(|c| c.name == "db.replica-1")
            .unwrap();
        assert_eq!(r1.metrics["lag_ms_max"], 900.0);
        assert_eq!(r1.metrics["lag_unavailable"], 1.0);
        assert_eq!(r1.metrics["probe_behind"], 1.0);
        assert_eq!(r1.metrics["probe_behind_ratio"], 0.5);
        let db = &s.components[0];
        assert!((db.metrics["lag_ms_mean"] - 451.5).abs() < 1e-9);
    }

    #[test]
    fn error_series_is_a_rate_as_in_the_simulator() {
        let half = Layout {
            bucket_ns: 500 * MS,
            ..layout()
        };
        let mut r = Recorder::new(half);
        r.record(0, 1_000 * MS, 1_100 * MS, &Err(ErrorKind::Failed));
        let o = RealOutcome {
            bucket: Duration::from_millis(500),
            ..outcome(r, vec![], vec![])
        };
        let rows = o.series(0);
        let errors = |t: f64| {
            rows.iter()
                .find(|r| r.t_s == t && r.metric == "errors")
                .map(|r| r.value)
        };
        // One error in a half-second bucket: two per second.
        assert_eq!((errors(1.0), errors(1.5)), (Some(2.0), Some(0.0)));
    }

    #[test]
    fn cdf_is_increasing_and_ends_at_one() {
        let mut r = Recorder::new(layout());
        for i in 1..=1000u64 {
            r.record(
                0,
                1_000 * MS,
                1_000 * MS + i * 10_000,
                &ok(Target::Primary, None, CacheUse::Unused),
            );
        }
        let cdf = outcome(r, vec![], vec![]).cdf();
        assert!(
            cdf.points
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
        );
        let last = cdf.points.last().unwrap();
        assert!(
            (last.1 - 1.0).abs() < 1e-12 && (last.0 - 10.0).abs() < 0.01,
            "{last:?}"
        );
        assert!((cdf.points[0].1 - 0.001).abs() < 1e-9);
    }

    #[test]
    fn shoppers_sessions_are_a_sessions_component_under_the_simulators_names() {
        use crate::model::dist::Dist;
        use crate::model::sessions::{EXIT, SessionsSpec, StateSpec};
        let spec = SessionsSpec {
            states: vec![StateSpec {
                name: "pay".into(),
                class: 1,
                think: Dist::Constant(0.0),
                patience: None,
                next: vec![(1.0, EXIT)],
            }],
            start: 0,
            converts: 0,
            revenue: 5.0,
        };
        let mut sessions = Sessions::new(spec, crate::engine::Rng::seed_from(1));
        for i in 0..4 {
            let (id, _) = sessions.start(i * MS, 0);
            sessions.page_done(i * MS + MS / 2, id, MS / 2, i == 3);
        }
        let o = RealOutcome {
            sessions: Some(sessions),
            ..outcome(Recorder::new(layout()), vec![], vec![])
        };
        let s = summary(&o);
        let c = s.components.iter().find(|c| c.name == "sessions").unwrap();
        assert_eq!(c.kind, "sessions", "the shoppers table looks for this kind");
        let m = |k: &str| c.metrics[k];
        assert_eq!((m("sessions"), m("ended"), m("abandoned")), (4.0, 3.0, 1.0));
        assert_eq!((m("conversions"), m("revenue")), (3.0, 15.0));
        assert_eq!((m("visits.pay"), m("abandoned.pay")), (4.0, 1.0));
        assert_eq!(m("conversion_rate"), 0.75);
        // Three orders in the 3 s window: 3,600 an hour, 18,000 in revenue.
        assert!((m("revenue_per_hour") - 18_000.0).abs() < 1e-6);
    }

    #[test]
    fn empty_runs_convert_without_nans() {
        let s = summary(&outcome(Recorder::new(layout()), vec![], vec![]));
        assert_eq!(s.availability, 1.0);
        assert_eq!(s.latency_ms, zeros());
        assert!(
            s.components
                .iter()
                .all(|c| c.metrics.values().all(|v| v.is_finite()))
        );
    }

    #[test]
    fn bucket_index_clamps_late_completions_into_the_last_bucket() {
        let l = layout();
        assert_eq!(l.buckets(), 4);
        assert_eq!(l.bucket_of(3_999 * MS), 3);
        assert_eq!(l.bucket_of(99_000 * MS), 3);
    }

    #[test]
    fn stale_read_ratio_counts_only_the_strategys_reads_and_the_probe_has_its_own_name() {
        let mut r = Recorder::new(layout());
        // The strategy reads replica 0 twice (one stale) and never reads replica 1.
        for stale in [true, false] {
            r.record(
                0,
                1_000 * MS,
                1_010 * MS,
                &ok(Target::Replica(0), Some(stale), CacheUse::Unused),
            );
        }
        // Every probe finds replica 1 behind; replica 0 current.
        let probes = (0..4u64)
            .flat_map(|k| {
                let t = Duration::from_millis(1_100 + 100 * k);
                [
                    ProbeSample {
                        t,
                        replica: 0,
                        outcome: ProbeOutcome::Current,
                    },
                    ProbeSample {
                        t,
                        replica: 1,
                        outcome: ProbeOutcome::Behind,
                    },
                ]
            })
            .collect();
        let s = summary(&outcome(r, vec![], probes));
        let m = |c: &str, k: &str| {
            let comp = s.components.iter().find(|x| x.name == c).unwrap();
            comp.metrics[k]
        };
        assert_eq!(m("db.replica-0", "stale_read_ratio"), 0.5);
        assert_eq!(m("db.replica-0", "probe_behind_ratio"), 0.0);
        assert_eq!(
            m("db.replica-1", "stale_reads"),
            0.0,
            "never read by the strategy"
        );
        assert_eq!(m("db.replica-1", "stale_read_ratio"), 0.0);
        assert_eq!(m("db.replica-1", "probe_behind_ratio"), 1.0);
        assert_eq!(m("db.replica-1", "probes"), 4.0);
        assert_eq!(m("db", "stale_read_ratio"), 0.5);
    }

    #[test]
    fn a_single_run_has_no_confidence_intervals_in_json() {
        let mut r = Recorder::new(layout());
        r.record(
            0,
            1_000 * MS,
            1_005 * MS,
            &ok(Target::Primary, None, CacheUse::Unused),
        );
        let s = summary(&outcome(r, vec![], vec![]));
        let json = serde_json::to_value(&s).unwrap();
        assert!(
            json["latency_ms_ci95"]["p99"].is_null(),
            "{}",
            json["latency_ms_ci95"]
        );
        assert!(json["latency_ms_ci95"]["p99.99"].is_null());
        assert!(json["classes"][0]["latency_ms_ci95"]["mean"].is_null());
        let back: StrategySummary = serde_json::from_value(json).unwrap();
        assert!(back.latency_ms_ci95.is_none() && back.latency_ms.p99 > 0.0);
    }

    #[test]
    fn arrivals_not_sent_are_counted_in_the_loadgen_component() {
        let o = RealOutcome {
            dispatch: DispatchStats {
                dispatched: 10,
                not_sent: 3,
                not_sent_max_requests: 2,
                ..DispatchStats::default()
            },
            ..outcome(Recorder::new(layout()), vec![], vec![])
        };
        let s = summary(&o);
        let lg = s.components.iter().find(|c| c.name == "loadgen").unwrap();
        assert_eq!(lg.metrics["not_sent"], 3.0);
        assert_eq!(lg.metrics["not_sent_max_requests"], 2.0);
        let none_sent = RealOutcome {
            dispatch: DispatchStats {
                not_sent: 7,
                ..DispatchStats::default()
            },
            ..outcome(Recorder::new(layout()), vec![], vec![])
        };
        let s = summary(&none_sent);
        let lg = s.components.iter().find(|c| c.name == "loadgen");
        assert_eq!(
            lg.map(|c| c.metrics["not_sent"]),
            Some(7.0),
            "shown even if none was sent"
        );
    }
}
