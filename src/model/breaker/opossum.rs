//! opossum's `CircuitBreaker` (Node), driven by simulated time.
//!
//! opossum runs on Node timers: a `setInterval` that rotates the rolling buckets, started at
//! construction; a `setTimeout` of `reset_timeout` started on every entry to OPEN; a warm-up
//! `setTimeout` of `rolling_count_timeout`. Here every method takes `now` (ns) and first applies
//! every timer due at or before `now`; [`Breaker::next_timer`] gives the next one that changes
//! the state (the reset timer), so a simulator can wake the breaker then. Node runs a delay below
//! 1 ms as 1 ms, and so does this model. Option values are in ns where opossum's are in ms.
//!
//! The action itself is the caller's: after [`Breaker::fire`] admits a call, the caller reports
//! exactly one of [`Breaker::success`], [`Breaker::failure`], [`Breaker::timeout`] or
//! [`Breaker::filtered_error`] (an error that `errorFilter` accepts, which opossum counts as a
//! success). The call's own timeout (`options.timeout`) is also the caller's to schedule, at
//! [`Breaker::call_deadline`]; a settlement after the timeout is not reported, as opossum
//! ignores it. Not modelled: fallbacks, caches, coalescing, `enable`/`disable`, health checks,
//! shutdown and latency percentiles.

use super::State;

const MS: u64 = 1_000_000;

/// Constructor options; `Default` gives opossum's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Per-call timeout (ns; default 10 s; `None` is opossum's `timeout: false`).
    pub timeout: Option<u64>,
    /// Time in OPEN before HALF_OPEN (ns, default 30 s).
    pub reset_timeout: u64,
    /// Failure percentage strictly above which the breaker opens (default 50).
    pub error_threshold_percentage: f64,
    /// Length of the rolling window (ns, default 10 s; 0 makes the window 10 s as in opossum,
    /// but the warm-up 0).
    pub rolling_count_timeout: u64,
    /// Buckets in the rolling window (default 10; 0 means 10 as in opossum).
    pub rolling_count_buckets: u32,
    /// Fires in the window needed before failures can open the breaker (default 0).
    pub volume_threshold: u64,
    /// Never open during the first `rolling_count_timeout` (default false).
    pub allow_warm_up: bool,
    /// Calls in flight at most (semaphore; default `Number.MAX_SAFE_INTEGER`).
    pub capacity: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout: Some(10_000 * MS),
            reset_timeout: 30_000 * MS,
            error_threshold_percentage: 50.0,
            rolling_count_timeout: 10_000 * MS,
            rolling_count_buckets: 10,
            volume_threshold: 0,
            allow_warm_up: false,
            capacity: (1 << 53) - 1,
        }
    }
}

/// What [`Breaker::fire`] did with a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The call runs; report its outcome.
    Admitted,
    /// Rejected because the breaker is open, or half-open with its trial taken (`EOPENBREAKER`).
    RejectedOpen,
    /// Rejected by the semaphore (`ESEMLOCKED`); opossum counts this as a failure too.
    RejectedSemaphore,
}

/// Counts of one bucket, or of the whole window (`status.stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Calls to `fire`, rejected ones included.
    pub fires: u64,
    /// Failures, timeouts and semaphore rejections included.
    pub failures: u64,
    /// Successes, filtered errors included.
    pub successes: u64,
    /// Timeouts.
    pub timeouts: u64,
    /// Rejections because the breaker was open.
    pub rejects: u64,
    /// Rejections by the semaphore.
    pub semaphore_rejections: u64,
}

impl Stats {
    fn add(&mut self, o: &Stats) {
        self.fires += o.fires;
        self.failures += o.failures;
        self.successes += o.successes;
        self.timeouts += o.timeouts;
        self.rejects += o.rejects;
        self.semaphore_rejections += o.semaphore_rejections;
    }
}

/// Lifetime totals, never rotated away (for reports; opossum has no such counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lifetime {
    /// Admitted fires.
    pub admitted: u64,
    /// Fires rejected (open or semaphore).
    pub rejected: u64,
    /// Successes, filtered errors included.
    pub successes: u64,
    /// Failures, timeouts and semaphore rejections included.
    pub failures: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    stats: Stats,
    open: Option<bool>,
}

/// One circuit breaker with opossum's state machine.
#[derive(Debug, Clone)]
pub struct Breaker {
    options: Options,
    created: u64,
    bucket_every: u64,
    rotations: u64,
    /// Ring of buckets; `head` is opossum's `window[0]`.
    buckets: Vec<Bucket>,
    head: usize,
    state: State,
    pending_close: bool,
    reset_at: Option<u64>,
    warm_until: Option<u64>,
    in_flight: u64,
    opened: u64,
    lifetime: Lifetime,
}

/// Node's clamp: a timer delay below 1 ms runs as 1 ms.
fn node_delay(d: u64) -> u64 {
    d.max(MS)
}

impl Breaker {
    /// A closed breaker constructed at `now`; the bucket rotation is anchored here.
    pub fn new(options: Options, now: u64) -> Breaker {
        let n = if options.rolling_count_buckets == 0 {
            10
        } else {
            options.rolling_count_buckets
        };
        let window = match options.rolling_count_timeout {
            0 => 10_000 * MS,
            t => t,
        };
        // setInterval(rotate, Math.floor(timeout / buckets)) in ms
        let bucket_every = node_delay(window / MS / u64::from(n) * MS);
        let warm_until = options
            .allow_warm_up
            .then(|| now + node_delay(options.rolling_count_timeout));
        Breaker {
            options,
            created: now,
            bucket_every,
            rotations: 0,
            buckets: vec![Bucket::default(); n as usize],
            head: 0,
            state: State::Closed,
            pending_close: false,
            reset_at: None,
            warm_until,
            in_flight: 0,
            opened: 0,
            lifetime: Lifetime::default(),
        }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// CLOSED, OPEN or HALF_OPEN after the timers due by `now`.
    pub fn state(&mut self, now: u64) -> State {
        self.advance(now);
        self.state
    }

    /// Whether the next fire is the half-open trial.
    pub fn pending_close(&mut self, now: u64) -> bool {
        self.advance(now);
        self.pending_close
    }

    /// Whether the breaker is still warming up (failures cannot open it).
    pub fn warm_up(&mut self, now: u64) -> bool {
        self.advance(now);
        self.warming(now)
    }

    /// Calls admitted and not yet settled (the semaphore's taken permits).
    pub fn in_flight(&self) -> u64 {
        self.in_flight
    }

    /// Transitions into OPEN so far.
    pub fn opened(&self) -> u64 {
        self.opened
    }

    /// Lifetime totals.
    pub fn lifetime(&self) -> Lifetime {
        self.lifetime
    }

    /// When a call fired at `fired_at` times out, if the options set a timeout.
    pub fn call_deadline(&self, fired_at: u64) -> Option<u64> {
        self.options.timeout.map(|t| fired_at + node_delay(t))
    }

    /// The window's totals (`stats`), after the rotations due by `now`.
    pub fn stats(&mut self, now: u64) -> Stats {
        self.advance(now);
        self.totals()
    }

    /// The newest bucket (`status.window[0]`): its counts and its open flag (set when the
    /// breaker opened or closed during it).
    pub fn head_bucket(&mut self, now: u64) -> (Stats, Option<bool>) {
        self.advance(now);
        let b = self.buckets[self.head];
        (b.stats, b.open)
    }

    /// The next time a timer changes the state (the reset timer), if any. Bucket rotations
    /// and the warm-up end change only counts and are applied when next asked.
    pub fn next_timer(&self) -> Option<u64> {
        self.reset_at
    }

    /// `fire()`: counts a fire, then admits or rejects the call.
    pub fn fire(&mut self, now: u64) -> Admission {
        self.advance(now);
        self.bump(|s| s.fires += 1);
        if self.state != State::Closed && !self.pending_close {
            self.bump(|s| s.rejects += 1);
            self.lifetime.rejected += 1;
            return Admission::RejectedOpen;
        }
        self.pending_close = false;
        if self.in_flight >= self.options.capacity {
            self.bump(|s| s.semaphore_rejections += 1);
            self.lifetime.rejected += 1;
            self.fail(now);
            return Admission::RejectedSemaphore;
        }
        self.in_flight += 1;
        self.lifetime.admitted += 1;
        Admission::Admitted
    }

    /// The admitted call succeeded: closes a half-open breaker.
    pub fn success(&mut self, now: u64) {
        self.advance(now);
        self.settle();
        self.succeed();
    }

    /// The admitted call failed with an error that `errorFilter` accepts: a success for the
    /// breaker (the caller still sees the error).
    pub fn filtered_error(&mut self, now: u64) {
        self.success(now);
    }

    /// The admitted call failed.
    pub fn failure(&mut self, now: u64) {
        self.advance(now);
        self.settle();
        self.fail(now);
    }

    /// The admitted call timed out: a timeout and a failure.
    pub fn timeout(&mut self, now: u64) {
        self.advance(now);
        self.settle();
        self.bump(|s| s.timeouts += 1);
        self.fail(now);
    }

    /// `open()`: OPEN now (no effect if already open), starting the reset timer.
    pub fn open(&mut self, now: u64) {
        self.advance(now);
        self.go_open(now);
    }

    /// `close()`: CLOSED now, cancelling the reset timer.
    pub fn close(&mut self, now: u64) {
        self.advance(now);
        self.go_closed();
    }

    fn totals(&self) -> Stats {
        let mut t = Stats::default();
        for b in &self.buckets {
            t.add(&b.stats);
        }
        t
    }

    fn bump(&mut self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.buckets[self.head].stats);
    }

    fn warming(&self, now: u64) -> bool {
        self.warm_until.is_some_and(|w| now < w)
    }

    fn settle(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    fn succeed(&mut self) {
        self.bump(|s| s.successes += 1);
        self.lifetime.successes += 1;
        if self.state == State::HalfOpen {
            self.go_closed();
        }
    }

    /// opossum's `fail()`: count, then the warm-up, volume and threshold checks in order.
    fn fail(&mut self, now: u64) {
        self.bump(|s| s.failures += 1);
        self.lifetime.failures += 1;
        if self.warming(now) {
            return;
        }
        let half_open = self.state == State::HalfOpen;
        let stats = self.totals();
        if stats.fires < self.options.volume_threshold && !half_open {
            return;
        }
        // JavaScript division: a failure with no fires left in the window is +Infinity (opens)
        let rate = stats.failures as f64 / stats.fires as f64 * 100.0;
        if rate > self.options.error_threshold_percentage || half_open {
            self.go_open(now);
        }
    }

    fn go_open(&mut self, now: u64) {
        if self.state != State::Open {
            self.state = State::Open;
            self.pending_close = false;
            self.buckets[self.head].open = Some(true);
            self.reset_at = Some(now + node_delay(self.options.reset_timeout));
            self.opened += 1;
        }
    }

    fn go_closed(&mut self) {
        if self.state != State::Closed {
            self.state = State::Closed;
            self.pending_close = false;
            self.buckets[self.head].open = Some(false);
            self.reset_at = None;
        }
    }

    /// Applies the bucket rotations and the reset timer due by `now`. They touch disjoint
    /// things (counts, state), so their order among themselves does not matter.
    fn advance(&mut self, now: u64) {
        let due = now.saturating_sub(self.created) / self.bucket_every;
        let n = self.buckets.len() as u64;
        let steps = (due - self.rotations.min(due)).min(n);
        for _ in 0..steps {
            self.head = (self.head + self.buckets.len() - 1) % self.buckets.len();
            self.buckets[self.head] = Bucket::default();
        }
        self.rotations = self.rotations.max(due);
        if self.reset_at.is_some_and(|t| t <= now) {
            self.reset_at = None;
            self.state = State::HalfOpen;
            self.pending_close = true;
        }
    }
}
