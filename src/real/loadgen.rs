//! The load generator: [`execute`] runs one strategy under one load and measures it.
//!
//! ```text
//!  pacer thread ──spawn at intended time──► request task ──► Backend (pools, cache) ──► servers
//!   (open loop)    (or `rejected` past the       │ timeout from the intended start
//!                   in-flight bound)             ▼
//!  user tasks ───── request, think, repeat ──► SharedRecorder (HdrHistograms, counters)
//!   (closed loop)
//!  shopper tasks ── page, think, next state ──► (the same) + each shopper's Sessions
//!   (sessions)
//!  monitor task ─── heartbeat + lag poll per bucket, replica probe per interval
//!  fault schedule ─ FaultInjector::inject at its time (on the calling task)
//! ```
//!
//! **Open loop.** A dedicated OS thread walks the arrival stream, sleeps until each arrival's
//! intended time (`std::thread::sleep`, so pacing is not limited to the Tokio timer's
//! millisecond) and spawns the request on the runtime. Latency is measured from the intended
//! time, so when the system stalls the requests queued behind the stall count their waiting
//! (no coordinated omission). When `max_in_flight` requests are outstanding a new arrival is
//! not sent but counted as `rejected`, so memory stays bounded whatever the system does. A
//! request not done within `request_timeout` of its intended start counts as a `timeout`.
//!
//! **Closed loop.** `users` tasks start evenly over the ramp; each picks a class and a key from
//! its own seeded stream, sends, waits, and thinks for an exponential time. A user whose
//! request failed pauses at least 10 ms, so a dead server does not become a busy loop.
//!
//! **Sessions.** `users` shopper tasks start evenly over the ramp; each walks the scenario's
//! session graph with its own seeded streams ([`crate::real::shoppers`]): the page of its
//! state, its measured latency against a patience, the state's think time, the next state.
//! Their sessions are added up into the outcome's `sessions` component.
//!
//! All stop sending at `warmup + duration`, then wait for outstanding requests (at most one
//! request timeout). Open-loop arrivals of the measured window that the pacer had not sent by
//! then (it fell behind) are counted as `not_sent` in the `loadgen` component, and those past
//! `max_requests` as `not_sent_max_requests`: neither is in `requests`. Faults run on the calling task at their times; a failed injection is
//! logged in the outcome and the run goes on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;

use super::measure::{
    DispatchStats, FaultRecord, Layout, RealOutcome, SharedRecorder, Trace, to_f64,
};
use super::monitor::{LagSample, MonitorConn, ProbeSample, probe, sample_lag};
use super::pgpool::GAVE_UP;
use super::plan::{
    Arrival, CacheMode, Endpoints, FaultAt, FaultInjector, Load, Op, RealError, RealPlan,
};
use super::schema::loaded_data;
use super::sharded::ReshardRecord;
use super::shoppers::{Shopper, Shoppers, total};
use super::strategy::Backend;
use super::workload::{check_mix, stream_rng};
use crate::engine::Rng;
use crate::model::sessions::Sessions;
use crate::model::workload::Mix;
use crate::observe::ErrorKind;

/// Recorder shards: enough that concurrent requests rarely wait for each other.
const SHARDS: usize = 8;
/// Pause of a closed-loop user after a failed request.
const ERROR_PAUSE: Duration = Duration::from_millis(10);

/// Runs `load` against `endpoints` with the strategy of `plan`, injecting `plan.faults`
/// through `faults`, and returns what was measured.
///
/// Needs the data set loaded by [`crate::real::schema::load_data`] with at least
/// `plan.products` products and `plan.users` users. Must be called within a Tokio runtime
/// (multi-threaded for meaningful numbers).
pub async fn execute(
    plan: RealPlan,
    load: Load,
    endpoints: &Endpoints,
    faults: &dyn FaultInjector,
) -> Result<RealOutcome, RealError> {
    plan.validate()?;
    endpoints.check_hosts()?;
    check_load(&plan, &load)?;
    check_data(&plan, endpoints).await?;
    let backend = Backend::connect(
        endpoints,
        &plan.strategy,
        plan.products,
        plan.users,
        plan.request_timeout,
    )
    .await?;
    if plan.flush_cache {
        backend.flush_cache().await?;
    }
    let ctx = Arc::new(RunCtx::new(&plan, backend));
    ctx.backend
        .pool_stats()
        .measure_from(ctx.start + plan.warmup);
    let monitor = spawn_monitor(endpoints, &plan, ctx.start)?;
    let (driven, fault_log, reshard) = tokio::join!(
        drive(load, &ctx),
        run_faults(faults, &plan.faults, ctx.start, plan.total()),
        reshard(&plan, &ctx),
    );
    let Driven { dispatch, sessions } = driven?;
    let (lag, probes) = monitor
        .await
        .map_err(|e| RealError::Internal(e.to_string()))?;
    ctx.backend.close().await;
    let measured = Measured {
        dispatch,
        sessions,
        lag,
        probes,
        faults: fault_log,
        reshard,
    };
    Ok(outcome(&plan, &ctx, measured))
}

/// What the side tasks of a run gathered.
struct Measured {
    dispatch: DispatchStats,
    sessions: Option<Sessions>,
    lag: Vec<LagSample>,
    probes: Vec<ProbeSample>,
    faults: Vec<FaultRecord>,
    reshard: Option<ReshardRecord>,
}

fn outcome(plan: &RealPlan, ctx: &RunCtx, m: Measured) -> RealOutcome {
    RealOutcome {
        strategy: plan.strategy.name.clone(),
        class_names: plan.classes.iter().map(|c| c.name.clone()).collect(),
        cache: matches!(plan.strategy.cache, CacheMode::CacheAside { .. }),
        warmup: plan.warmup,
        duration: plan.duration,
        bucket: plan.bucket,
        recorder: ctx.recorder.merged(),
        lag: m.lag,
        probes: m.probes,
        faults: m.faults,
        dispatch: m.dispatch,
        sessions: m.sessions,
        reshard: m.reshard,
        pool: Some((
            plan.strategy.app.name.clone(),
            ctx.backend.pool_stats().metrics(),
        )),
    }
}

/// Reshards a sharded strategy at its planned time (within the run), while the load goes on.
async fn reshard(plan: &RealPlan, ctx: &RunCtx) -> Option<ReshardRecord> {
    let at = plan.strategy.sharding.as_ref()?.reshard.as_ref()?.at;
    if at >= plan.total() {
        return None;
    }
    tokio::time::sleep_until(tokio::time::Instant::from_std(ctx.start + at)).await;
    ctx.backend.reshard(ctx.start.elapsed()).await
}

fn check_load(plan: &RealPlan, load: &Load) -> Result<(), RealError> {
    if let Load::Sessions(s) = load {
        s.check(plan.classes.len())?;
    }
    if let Load::Closed { users, mix, .. } = load {
        if *users == 0 {
            return Err(RealError::InvalidPlan(
                "closed load needs at least one user".into(),
            ));
        }
        if mix.cumulative.len() != plan.classes.len() {
            return Err(RealError::InvalidPlan(format!(
                "{} class weights for {} classes",
                mix.cumulative.len(),
                plan.classes.len()
            )));
        }
        check_mix(mix)?;
    }
    Ok(())
}

async fn check_data(plan: &RealPlan, endpoints: &Endpoints) -> Result<(), RealError> {
    let Some(data) = loaded_data(endpoints).await? else {
        return Err(RealError::NoData(
            "load the data set first (schema::load_data)".into(),
        ));
    };
    if data.products < plan.products || data.users < plan.users {
        return Err(RealError::InvalidPlan(format!(
            "plan wants {} products and {} users, the database holds {} and {}",
            plan.products, plan.users, data.products, data.users
        )));
    }
    Ok(())
}

/// What the request tasks share.
#[derive(Debug)]
struct RunCtx {
    backend: Backend,
    recorder: SharedRecorder,
    ops: Vec<Op>,
    start: Instant,
    warmup: Duration,
    total: Duration,
    timeout: Duration,
    max_in_flight: usize,
    max_requests: u64,
    seed: u64,
    in_flight: AtomicUsize,
    sent: AtomicU64,
}

impl RunCtx {
    fn new(plan: &RealPlan, backend: Backend) -> Self {
        let layout = Layout {
            classes: plan.classes.len(),
            replicas: backend.replica_count(),
            shards: backend.shard_count(),
            bucket_ns: nanos(plan.bucket).max(1),
            warmup_ns: nanos(plan.warmup),
            end_ns: nanos(plan.total()),
        };
        RunCtx {
            backend,
            recorder: SharedRecorder::new(layout, SHARDS),
            ops: plan.classes.iter().map(|c| c.op).collect(),
            start: Instant::now(),
            warmup: plan.warmup,
            total: plan.total(),
            timeout: plan.request_timeout,
            max_in_flight: plan.max_in_flight,
            max_requests: plan.max_requests.unwrap_or(u64::MAX),
            seed: plan.seed,
            in_flight: AtomicUsize::new(0),
            sent: AtomicU64::new(0),
        }
    }

    fn ns_at(&self, t: Instant) -> u64 {
        nanos(t.saturating_duration_since(self.start))
    }

    /// Takes a ticket for one more request, `false` once `max_requests` were sent.
    fn take_ticket(&self) -> bool {
        self.sent.fetch_add(1, Ordering::Relaxed) < self.max_requests
    }

    /// Runs one request with a deadline `timeout` after `intended`, records it, and tells
    /// how it went.
    ///
    /// A request that times out stops waiting for its work, but the work goes on as a task
    /// of its own: a statement already sent runs to its end on its connection, which then
    /// goes back to the pool, as under an application's timeout around a pooled query; work
    /// that holds no connection yet is dropped ([`GAVE_UP`]). Dropping the connection in
    /// mid-statement instead would leave the server running the statement on a backend the
    /// pool no longer counts, and under overload those pile up until the server refuses
    /// clients.
    async fn request(
        self: &Arc<Self>,
        shard: usize,
        class: u32,
        key: u64,
        intended: Instant,
    ) -> Done {
        let op = self.ops[class as usize];
        let deadline = tokio::time::Instant::from_std(intended + self.timeout);
        let gave_up = Arc::new(AtomicBool::new(false));
        let mut work = {
            let ctx = Arc::clone(self);
            let flag = Arc::clone(&gave_up);
            Box::pin(GAVE_UP.scope(flag, async move { ctx.backend.run(op, key).await }))
        };
        // Polled here while the client waits (no task hand-off on the common path).
        let res: Result<Trace, ErrorKind> = match tokio::time::timeout_at(deadline, &mut work).await
        {
            Ok(r) => r,
            Err(_) => {
                gave_up.store(true, Ordering::Release);
                tokio::spawn(work);
                Err(ErrorKind::Timeout)
            }
        };
        let (intended_ns, done_ns) = (self.ns_at(intended), self.ns_at(Instant::now()));
        self.recorder
            .record(shard, class, intended_ns, done_ns, &res);
        Done {
            ok: res.is_ok(),
            at_ns: done_ns,
            latency_ns: done_ns.saturating_sub(intended_ns),
        }
    }
}

/// How one request went.
#[derive(Debug, Clone, Copy)]
struct Done {
    ok: bool,
    /// When it ended, from the start of the run.
    at_ns: u64,
    /// From its intended start to its end, as the recorder measures it.
    latency_ns: u64,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// What driving a load returned besides the recorder's measurements.
struct Driven {
    /// The open-loop pacer's statistics (zeros when closed).
    dispatch: DispatchStats,
    /// The shoppers' sessions, added up (sessions only).
    sessions: Option<Sessions>,
}

/// Runs the load to its end.
async fn drive(load: Load, ctx: &Arc<RunCtx>) -> Result<Driven, RealError> {
    let dispatch_only = |dispatch| Driven {
        dispatch,
        sessions: None,
    };
    match load {
        Load::Open(arrivals) => drive_open(arrivals, ctx).await.map(dispatch_only),
        Load::Closed {
            users,
            think_mean,
            ramp,
            mix,
        } => {
            let users = Users {
                n: users,
                think_mean,
                ramp,
                mix,
            };
            drive_closed(users, ctx)
                .await
                .map(|()| dispatch_only(DispatchStats::default()))
        }
        Load::Sessions(shoppers) => Ok(Driven {
            dispatch: DispatchStats::default(),
            sessions: drive_sessions(&shoppers, ctx).await?,
        }),
    }
}

async fn drive_open(
    arrivals: Box<dyn Iterator<Item = Arrival> + Send>,
    ctx: &Arc<RunCtx>,
) -> Result<DispatchStats, RealError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let handle = Handle::current();
    let pacer_ctx = Arc::clone(ctx);
    std::thread::Builder::new()
        .name("scalesim-pacer".into())
        .spawn(move || {
            let _ = tx.send(pace(arrivals, &pacer_ctx, &handle));
        })
        .map_err(|e| RealError::Internal(format!("cannot start the pacer thread: {e}")))?;
    let stats = rx
        .await
        .map_err(|_| RealError::Internal("the pacer thread died".into()))?;
    drain(ctx).await;
    Ok(stats)
}

/// The pacer: dispatches every arrival at its intended time, on its own thread. Arrivals of
/// the measured window that it cannot send, because the run ended first or `max_requests`
/// were sent, are counted (`not_sent`, `not_sent_max_requests`), never dropped silently.
fn pace(
    arrivals: Box<dyn Iterator<Item = Arrival> + Send>,
    ctx: &Arc<RunCtx>,
    rt: &Handle,
) -> DispatchStats {
    let end_ns = nanos(ctx.total);
    let mut stats = DispatchStats::default();
    let mut late_sum = Duration::ZERO;
    let end = ctx.start + ctx.total;
    let mut arrivals = arrivals.take_while(|a| a.at_ns < end_ns).enumerate();
    while let Some((seq, a)) = arrivals.next() {
        // The wall-clock check bounds the run even for a stream stuck at one time.
        let out_of_time = Instant::now() >= end;
        if out_of_time || !ctx.take_ticket() {
            let rest = std::iter::once(a).chain(arrivals.map(|(_, a)| a));
            let unsent = count_measured(rest, nanos(ctx.warmup));
            if out_of_time {
                stats.not_sent = unsent;
            } else {
                stats.not_sent_max_requests = unsent;
            }
            break;
        }
        let intended = ctx.start + Duration::from_nanos(a.at_ns);
        if let Some(wait) = intended.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if a.class as usize >= ctx.ops.len() {
            stats.skipped_arrivals += 1;
            continue;
        }
        let late = Instant::now().saturating_duration_since(intended);
        stats.dispatched += 1;
        late_sum += late;
        stats.late_max_ms = stats.late_max_ms.max(late.as_secs_f64() * 1e3);
        dispatch(ctx, rt, seq, a, intended);
    }
    if stats.dispatched > 0 {
        stats.late_mean_ms = late_sum.as_secs_f64() * 1e3 / to_f64(stats.dispatched);
    }
    if stats.not_sent > 0 {
        eprintln!(
            "scalesim real: {} arrivals of the measured window were not sent before the run \
             ended (the load generator fell behind); see loadgen.not_sent",
            stats.not_sent
        );
    }
    stats
}

/// How many of `arrivals` (all before the end of the run) fall in the measured window.
fn count_measured(arrivals: impl Iterator<Item = Arrival>, warmup_ns: u64) -> u64 {
    let measured = arrivals.filter(|a| a.at_ns >= warmup_ns).count();
    u64::try_from(measured).unwrap_or(u64::MAX)
}

/// Sends one arrival, or counts it as `rejected` when `max_in_flight` requests are out.
fn dispatch(ctx: &Arc<RunCtx>, rt: &Handle, seq: usize, a: Arrival, intended: Instant) {
    if ctx.in_flight.load(Ordering::Acquire) >= ctx.max_in_flight {
        let now = ctx.ns_at(Instant::now());
        let rejected = Err(ErrorKind::Rejected);
        ctx.recorder.record(seq, a.class, a.at_ns, now, &rejected);
        return;
    }
    ctx.in_flight.fetch_add(1, Ordering::AcqRel);
    let task_ctx = Arc::clone(ctx);
    rt.spawn(async move {
        let _ = task_ctx.request(seq, a.class, a.key, intended).await;
        task_ctx.in_flight.fetch_sub(1, Ordering::AcqRel);
    });
}

/// Waits for outstanding open-loop requests, at most one request timeout past the end.
async fn drain(ctx: &RunCtx) {
    let deadline = ctx.start + ctx.total + ctx.timeout + Duration::from_millis(500);
    while ctx.in_flight.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

struct Users {
    n: u32,
    think_mean: Duration,
    ramp: Duration,
    mix: Mix,
}

async fn drive_closed(users: Users, ctx: &Arc<RunCtx>) -> Result<(), RealError> {
    check_mix(&users.mix)?;
    let mix = Arc::new(users.mix);
    let mut set = tokio::task::JoinSet::new();
    for u in 0..users.n {
        let offset = users.ramp.mul_f64(f64::from(u) / f64::from(users.n));
        let user = User {
            index: u,
            ctx: Arc::clone(ctx),
            mix: Arc::clone(&mix),
            think_mean: users.think_mean,
            offset,
        };
        set.spawn(user.run());
    }
    while let Some(joined) = set.join_next().await {
        joined.map_err(|e| RealError::Internal(format!("user task failed: {e}")))?;
    }
    Ok(())
}

struct User {
    index: u32,
    ctx: Arc<RunCtx>,
    mix: Arc<Mix>,
    think_mean: Duration,
    offset: Duration,
}

impl User {
    async fn run(self) {
        let ctx = &self.ctx;
        let mut rng = stream_rng(ctx.seed, 0x05E2_0000 + u64::from(self.index));
        tokio::time::sleep_until(tokio::time::Instant::from_std(ctx.start + self.offset)).await;
        let end = ctx.start + ctx.total;
        let shard = self.index as usize;
        loop {
            let now = Instant::now();
            if now >= end || !ctx.take_ticket() {
                break;
            }
            let class = u32::from(self.mix.class(&mut rng));
            let key = self.mix.key(&mut rng);
            let ok = ctx.request(shard, class, key, now).await.ok;
            let mut pause = think(&mut rng, self.think_mean);
            if !ok {
                pause = pause.max(ERROR_PAUSE);
            }
            if !pause.is_zero() {
                tokio::time::sleep(pause.min(end.saturating_duration_since(Instant::now()))).await;
            }
        }
    }
}

async fn drive_sessions(load: &Shoppers, ctx: &Arc<RunCtx>) -> Result<Option<Sessions>, RealError> {
    let warmup_ns = nanos(ctx.warmup);
    let mut set = tokio::task::JoinSet::new();
    for u in 0..load.users {
        let offset = load.ramp.mul_f64(f64::from(u) / f64::from(load.users));
        let shopper = Shopper::new(load, ctx.seed, u, warmup_ns);
        set.spawn(shop(shopper, u, Arc::clone(ctx), offset));
    }
    let mut done = Vec::with_capacity(load.users as usize);
    while let Some(joined) = set.join_next().await {
        done.push(joined.map_err(|e| RealError::Internal(format!("shopper task failed: {e}")))?);
    }
    done.sort_by_key(|(u, _)| *u);
    Ok(total(done.into_iter().map(|(_, s)| s).collect()))
}

/// Shopper `index`: pages, think times and sessions until the end of the run; returns its
/// sessions.
async fn shop(
    mut shopper: Shopper,
    index: u32,
    ctx: Arc<RunCtx>,
    offset: Duration,
) -> (u32, Sessions) {
    tokio::time::sleep_until(tokio::time::Instant::from_std(ctx.start + offset)).await;
    let end = ctx.start + ctx.total;
    loop {
        let now = Instant::now();
        if now >= end || !ctx.take_ticket() {
            break;
        }
        let (class, key) = shopper.next_page(ctx.ns_at(now));
        let done = ctx
            .request(index as usize, u32::from(class), key, now)
            .await;
        let mut pause = shopper.page_done(done.at_ns, done.latency_ns, !done.ok);
        if !done.ok {
            pause = pause.max(ERROR_PAUSE);
        }
        if !pause.is_zero() {
            tokio::time::sleep(pause.min(end.saturating_duration_since(Instant::now()))).await;
        }
    }
    (index, shopper.into_sessions())
}

fn think(rng: &mut Rng, mean: Duration) -> Duration {
    if mean.is_zero() {
        return Duration::ZERO;
    }
    mean.mul_f64(-rng.next_open01().ln()).min(mean * 20)
}

/// The monitor task, which returns its lag and probe samples.
type MonitorHandle = tokio::task::JoinHandle<(Vec<LagSample>, Vec<ProbeSample>)>;

fn spawn_monitor(
    endpoints: &Endpoints,
    plan: &RealPlan,
    start: Instant,
) -> Result<MonitorHandle, RealError> {
    let conns = |urls: &[String]| -> Result<Vec<MonitorConn>, RealError> {
        urls.iter().map(|u| MonitorConn::new(u)).collect()
    };
    let mut lag_primary = MonitorConn::new(&endpoints.primary)?;
    let mut lag_replicas = conns(&endpoints.replicas)?;
    let mut probe_primary = MonitorConn::new(&endpoints.primary)?;
    let mut probe_replicas = conns(&endpoints.replicas)?;
    let end = start + plan.total();
    let (bucket, probe_every) = (plan.bucket, plan.stale_probe_interval);
    let max_wait = (bucket / 4).min(Duration::from_millis(100));
    let has_replicas = !endpoints.replicas.is_empty();
    Ok(tokio::spawn(async move {
        if !has_replicas {
            return (Vec::new(), Vec::new());
        }
        let lag = async {
            let mut out = Vec::new();
            let mut ticker = Ticker::new(start, bucket, end);
            while ticker.next().await {
                out.extend(sample_lag(&mut lag_primary, &mut lag_replicas, start, max_wait).await);
            }
            out
        };
        let probes = async {
            let mut out = Vec::new();
            let mut ticker = Ticker::new(start, probe_every, end);
            while ticker.next().await {
                out.extend(probe(&mut probe_primary, &mut probe_replicas, start).await);
            }
            out
        };
        tokio::join!(lag, probes)
    }))
}

/// Ticks every `period` from `start` until `end`, skipping ticks missed while busy.
struct Ticker {
    interval: tokio::time::Interval,
    end: Instant,
}

impl Ticker {
    fn new(start: Instant, period: Duration, end: Instant) -> Self {
        let mut interval = tokio::time::interval_at(tokio::time::Instant::from_std(start), period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        Ticker { interval, end }
    }

    /// Waits for the next tick; `false` once it would be at or after the end, returned at the
    /// end at the latest (a period longer than the run does not hold the run open).
    async fn next(&mut self) -> bool {
        let end = tokio::time::Instant::from_std(self.end);
        tokio::select! {
            t = self.interval.tick() => t.into_std() < self.end,
            () = tokio::time::sleep_until(end) => false,
        }
    }
}

#[cfg(test)]
mod ticker_tests {
    use super::*;

    #[tokio::test]
    async fn a_ticker_stops_at_the_end_not_at_its_next_tick() {
        let start = Instant::now();
        let mut t = Ticker::new(
            start,
            Duration::from_secs(3600),
            start + Duration::from_millis(50),
        );
        assert!(t.next().await, "the first tick is at the start");
        let stopped = tokio::time::timeout(Duration::from_secs(30), t.next()).await;
        assert_eq!(
            stopped,
            Ok(false),
            "the run's end, not the tick an hour later"
        );
    }
}

/// Injects the faults at their times; returns what happened.
async fn run_faults(
    injector: &dyn FaultInjector,
    faults: &[FaultAt],
    start: Instant,
    total: Duration,
) -> Vec<FaultRecord> {
    let mut sorted = faults.to_vec();
    sorted.sort_by_key(|f| f.at);
    let mut log = Vec::with_capacity(sorted.len());
    for f in sorted.into_iter().filter(|f| f.at < total) {
        tokio::time::sleep_until(tokio::time::Instant::from_std(start + f.at)).await;
        let at = start.elapsed();
        let result = injector.inject(&f.fault).await;
        log.push(FaultRecord {
            at,
            fault: f.fault,
            result,
        });
    }
    log
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::workload::KeyDist;
    use crate::real::plan::BoxFuture;
    use crate::real::workload::mix;

    #[test]
    fn think_times_are_exponential_and_capped() {
        let mut rng = stream_rng(1, 1);
        let mean = Duration::from_millis(100);
        let n = 20_000;
        let total: Duration = (0..n).map(|_| think(&mut rng, mean)).sum();
        let avg = total.as_secs_f64() / f64::from(n);
        assert!((0.095..0.105).contains(&avg), "{avg}");
        assert_eq!(think(&mut rng, Duration::ZERO), Duration::ZERO);
    }

    struct Recording(std::sync::Mutex<Vec<String>>);

    impl FaultInjector for Recording {
        fn inject<'a>(&'a self, fault: &'a str) -> BoxFuture<'a, Result<(), String>> {
            Box::pin(async move {
                self.0.lock().unwrap().push(fault.to_owned());
                if fault.starts_with("pause") {
                    Err("unsupported".into())
                } else {
                    Ok(())
                }
            })
        }
    }

    #[test]
    fn faults_fire_in_time_order_and_failures_are_logged() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let inj = Recording(std::sync::Mutex::new(Vec::new()));
        let faults = vec![
            FaultAt {
                at: Duration::from_millis(30),
                fault: "pause primary".into(),
            },
            FaultAt {
                at: Duration::from_millis(10),
                fault: "stop replica-0".into(),
            },
            FaultAt {
                at: Duration::from_secs(99),
                fault: "never".into(),
            },
        ];
        let start = Instant::now();
        let log = rt.block_on(run_faults(&inj, &faults, start, Duration::from_secs(10)));
        assert!(log[1].at >= Duration::from_millis(30) && start.elapsed() < Duration::from_secs(5));
        assert_eq!(*inj.0.lock().unwrap(), ["stop replica-0", "pause primary"]);
        assert!(log[0].result.is_ok() && log[1].result.is_err());
    }

    #[test]
    fn closed_load_with_wrong_weights_is_refused() {
        let plan = RealPlan::default();
        let load = Load::Closed {
            users: 2,
            think_mean: Duration::ZERO,
            ramp: Duration::ZERO,
            mix: mix(&[1.0, 1.0], KeyDist::Uniform { n: 10 }).unwrap(),
        };
        assert!(matches!(
            check_load(&plan, &load),
            Err(RealError::InvalidPlan(_))
        ));
        let load = Load::Closed {
            users: 0,
            think_mean: Duration::ZERO,
            ramp: Duration::ZERO,
            mix: mix(&[1.0], KeyDist::Uniform { n: 10 }).unwrap(),
        };
        assert!(check_load(&plan, &load).is_err());
    }

    #[test]
    fn ticker_ticks_until_the_end() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let ticks = rt.block_on(async {
            let start = Instant::now();
            let mut t = Ticker::new(
                start,
                Duration::from_millis(50),
                start + Duration::from_millis(225),
            );
            let mut n = 0;
            while t.next().await {
                n += 1;
            }
            n
        });
        // Five ticks (0, 50, ..., 200 ms), one fewer if the machine stalled past a tick.
        assert!((4..=5).contains(&ticks), "{ticks}");
    }

    #[test]
    fn arrivals_of_the_warmup_are_not_counted_as_not_sent() {
        let at = |ms: u64| Arrival {
            at_ns: ms * 1_000_000,
            class: 0,
            key: 0,
        };
        let arrivals = [at(10), at(999), at(1_000), at(1_500), at(2_000)];
        assert_eq!(count_measured(arrivals.into_iter(), 1_000_000_000), 3);
        assert_eq!(count_measured(std::iter::empty(), 0), 0);
    }
}
