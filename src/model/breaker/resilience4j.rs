//! resilience4j's `CircuitBreakerStateMachine`, driven by simulated time.
//!
//! The Java breaker reads a clock and runs two timers on a scheduler. Here every method takes
//! `now` (ns) and first fires every timer due at or before `now`, in time order; a simulator
//! that wants the timers to act on their own wakes the breaker at [`Breaker::next_timer`].
//!
//! Metrics belong to a state, as in Java: CLOSED and METRICS_ONLY start a fresh window of the
//! configured type, HALF_OPEN a fresh count-based window of `permitted_calls_in_half_open`,
//! FORCED_OPEN and DISABLED an empty one, and OPEN keeps the window (and the not-permitted
//! count) of the state it came from. The two windows are allocated once, in [`Breaker::new`].
//!
//! Units follow the Java code: rates are `f32` percentages compared with `>=` to the thresholds
//! (read as `f32`), and every wait (in open, in half-open, of the interval function) is cut to
//! whole milliseconds, since Java turns it into `toMillis()` before adding it to the clock.

use super::State;

const MS: u64 = 1_000_000;
const SEC: u64 = 1_000_000_000;

/// How the CLOSED window counts calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowType {
    /// The last `window_size` calls.
    CountBased,
    /// The calls of the last `window_size` epoch seconds (`now / 1e9`), the current one included.
    TimeBased,
}

/// The wait in OPEN as a function of `attempts` (1 for the first opening since CLOSED).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WaitInterval {
    /// Always this long (ns; `waitDurationInOpenState`).
    Constant(u64),
    /// `IntervalFunction.ofExponentialBackoff(initial, multiplier)`: `initial` for attempt 1,
    /// then each wait is the previous one in whole ms times `multiplier`, truncated.
    Exponential {
        /// First wait (ns, cut to ms).
        initial: u64,
        /// Growth per attempt (resilience4j's default is 1.5).
        multiplier: f64,
    },
}

impl WaitInterval {
    /// The wait for `attempt` (ns, whole ms).
    pub fn wait(self, attempt: u32) -> u64 {
        match self {
            WaitInterval::Constant(d) => to_ms(d),
            WaitInterval::Exponential {
                initial,
                multiplier,
            } => {
                let mut ms = initial / MS;
                for _ in 1..attempt.max(1) {
                    ms = (ms as f64 * multiplier) as u64; // Java's (long) cast saturates too
                }
                ms.saturating_mul(MS)
            }
        }
    }
}

/// Every setting of `CircuitBreakerConfig` that shapes the state machine; `Default` gives
/// resilience4j's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Sliding window of CLOSED (default count-based).
    pub window_type: WindowType,
    /// Calls (count-based) or seconds (time-based) in the window (default 100).
    pub window_size: u32,
    /// Calls needed before rates are computed (default 100; count-based windows use
    /// `min(minimum_calls, window_size)`).
    pub minimum_calls: u32,
    /// Failure rate (percent) at or above which the breaker opens (default 50).
    pub failure_rate_threshold: f64,
    /// Slow-call rate (percent) at or above which the breaker opens (default 100).
    pub slow_call_rate_threshold: f64,
    /// A call lasting strictly longer is slow (ns, default 60 s).
    pub slow_call_duration: u64,
    /// Wait in OPEN (default constant 60 s).
    pub wait_in_open: WaitInterval,
    /// Trial calls in HALF_OPEN, and the size of its window (default 10).
    pub permitted_calls_in_half_open: u32,
    /// Longest stay in HALF_OPEN (ns, default 0: no limit; below 1 ms means no limit).
    pub max_wait_in_half_open: u64,
    /// Where the half-open limit sends the breaker: [`State::Open`] (default) or [`State::Closed`].
    pub state_after_half_open_wait: State,
    /// Go from OPEN to HALF_OPEN by a timer at the end of the wait (default false: only on the
    /// first acquire strictly after it).
    pub automatic_transition: bool,
    /// State at construction (default CLOSED).
    pub initial_state: State,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            window_type: WindowType::CountBased,
            window_size: 100,
            minimum_calls: 100,
            failure_rate_threshold: 50.0,
            slow_call_rate_threshold: 100.0,
            slow_call_duration: 60 * SEC,
            wait_in_open: WaitInterval::Constant(60 * SEC),
            permitted_calls_in_half_open: 10,
            max_wait_in_half_open: 0,
            state_after_half_open_wait: State::Open,
            automatic_transition: false,
            initial_state: State::Closed,
        }
    }
}

/// A transition that resilience4j refuses (`IllegalStateTransitionException`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IllegalTransition {
    /// State the breaker was in (and stays in).
    pub from: State,
    /// State asked for.
    pub to: State,
}

/// Whether resilience4j allows going from `from` to `to`: all pairs except
/// CLOSED→HALF_OPEN, METRICS_ONLY→OPEN and METRICS_ONLY→HALF_OPEN.
pub fn transition_allowed(from: State, to: State) -> bool {
    !matches!(
        (from, to),
        (State::Closed, State::HalfOpen)
            | (State::MetricsOnly, State::Open)
            | (State::MetricsOnly, State::HalfOpen)
    )
}

/// Counters of the current state's metrics (`CircuitBreaker.Metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Calls in the window.
    pub buffered: u32,
    /// Failed calls in the window.
    pub failed: u32,
    /// Slow calls (successful or failed) in the window.
    pub slow: u32,
    /// Slow failed calls in the window.
    pub slow_failed: u32,
    /// Rejected calls since these metrics were created.
    pub not_permitted: u64,
}

impl Counts {
    /// Successful calls in the window.
    pub fn successful(&self) -> u32 {
        self.buffered - self.failed
    }
}

/// Lifetime totals, across states (for reports; resilience4j has no such counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    /// Permitted acquires.
    pub permitted: u64,
    /// Rejected acquires.
    pub not_permitted: u64,
    /// Recorded successes.
    pub successes: u64,
    /// Recorded errors.
    pub errors: u64,
    /// Ignored outcomes.
    pub ignored: u64,
    /// Transitions into OPEN.
    pub opened: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Agg {
    calls: u32,
    failed: u32,
    slow: u32,
    slow_failed: u32,
}

impl Agg {
    fn add(&mut self, o: Agg) {
        self.calls += o.calls;
        self.failed += o.failed;
        self.slow += o.slow;
        self.slow_failed += o.slow_failed;
    }
    fn sub(&mut self, o: Agg) {
        self.calls -= o.calls;
        self.failed -= o.failed;
        self.slow -= o.slow;
        self.slow_failed -= o.slow_failed;
    }
}

/// A ring of buckets: one call each (count-based) or one epoch second each (time-based), with
/// their running total, as FixedSizeSlidingWindowMetrics / SlidingTimeWindowMetrics.
#[derive(Debug, Clone)]
struct Window {
    time_based: bool,
    buckets: Vec<(Agg, u64)>,
    head: usize,
    total: Agg,
}

impl Window {
    fn new(time_based: bool, size: u32) -> Window {
        Window {
            time_based,
            buckets: vec![(Agg::default(), 0); size as usize],
            head: 0,
            total: Agg::default(),
        }
    }

    fn reset(&mut self, now: u64) {
        let sec = now / SEC;
        for (i, b) in self.buckets.iter_mut().enumerate() {
            *b = (Agg::default(), sec + i as u64);
        }
        self.head = 0;
        self.total = Agg::default();
    }

    fn step(&mut self) -> usize {
        self.head = (self.head + 1) % self.buckets.len();
        self.total.sub(self.buckets[self.head].0);
        self.head
    }

    /// Moves a time-based window to `now`'s epoch second, clearing the seconds that left it.
    fn advance(&mut self, now: u64) {
        if !self.time_based || self.buckets.is_empty() {
            return;
        }
        let sec = now / SEC;
        let diff = sec.saturating_sub(self.buckets[self.head].1);
        let mut left = diff.min(self.buckets.len() as u64);
        while left > 0 {
            left -= 1;
            let h = self.step();
            self.buckets[h] = (Agg::default(), sec - left);
        }
    }

    fn record(&mut self, now: u64, one: Agg) {
        if self.buckets.is_empty() {
            return; // Java would divide by zero here; nothing is recorded
        }
        let h = if self.time_based {
            self.advance(now);
            self.head
        } else {
            let h = self.step();
            self.buckets[h].0 = Agg::default();
            h
        };
        self.buckets[h].0.add(one);
        self.total.add(one);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Main,
    Trial,
    Empty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimerKind {
    ToHalfOpen,
    AfterHalfOpenWait,
}

#[derive(Debug, Clone, Copy)]
struct Timer {
    at: u64,
    kind: TimerKind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Check {
    BelowMinimum,
    Below,
    Exceeded,
}

/// One circuit breaker with resilience4j's state machine.
#[derive(Debug, Clone)]
pub struct Breaker {
    config: Config,
    state: State,
    attempts: u32,
    main: Window,
    trial: Window,
    which: Which,
    not_permitted: u64,
    permits: i64,
    wait_until: u64,
    timer: Option<Timer>,
    orphans: Vec<Timer>,
    totals: Totals,
}

impl Breaker {
    /// A breaker in `config.initial_state` at time `now`.
    pub fn new(config: Config, now: u64) -> Breaker {
        let time_based = config.window_type == WindowType::TimeBased;
        let mut b = Breaker {
            main: Window::new(time_based, config.window_size),
            trial: Window::new(false, config.permitted_calls_in_half_open),
            config,
            state: State::Closed,
            attempts: 0,
            which: Which::Main,
            not_permitted: 0,
            permits: 0,
            wait_until: 0,
            timer: None,
            orphans: Vec::with_capacity(2),
            totals: Totals::default(),
        };
        b.main.reset(now);
        match b.config.initial_state {
            State::Closed => {}
            State::Open => {
                let wait = b.config.wait_in_open.wait(1);
                b.enter_open(now, 1, now + wait, wait);
            }
            State::HalfOpen => b.enter_half_open(now, 1),
            other => b.enter_fresh(now, other, 1),
        }
        b
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The state after the timers due by `now`.
    pub fn state(&mut self, now: u64) -> State {
        self.fire_timers(now);
        self.state
    }

    /// `tryAcquirePermission`: whether a call may start at `now`.
    pub fn try_acquire(&mut self, now: u64) -> bool {
        self.fire_timers(now);
        let ok = match self.state {
            State::Closed | State::MetricsOnly | State::Disabled => true,
            State::Open if now > self.wait_until => {
                self.open_to_half_open(now);
                self.half_open_acquire()
            }
            State::HalfOpen => self.half_open_acquire(),
            State::Open | State::ForcedOpen => {
                self.not_permitted += 1;
                false
            }
        };
        if ok {
            self.totals.permitted += 1;
        } else {
            self.totals.not_permitted += 1;
        }
        ok
    }

    /// `releasePermission`: gives a half-open permit back (no effect in other states).
    pub fn release_permission(&mut self, now: u64) {
        self.fire_timers(now);
        if self.state == State::HalfOpen {
            self.permits += 1;
        }
    }

    /// A call that lasted `duration` (ns) succeeded.
    pub fn on_success(&mut self, now: u64, duration: u64) {
        self.totals.successes += 1;
        self.record(now, false, duration);
    }

    /// A call that lasted `duration` (ns) failed with a recorded error.
    pub fn on_error(&mut self, now: u64, duration: u64) {
        self.totals.errors += 1;
        self.record(now, true, duration);
    }

    /// A call ended with an ignored error: neither success nor failure; returns its permit.
    pub fn on_ignored(&mut self, now: u64) {
        self.totals.ignored += 1;
        self.release_permission(now);
    }

    /// Failure rate of the current metrics (percent), or -1 below the minimum of calls.
    pub fn failure_rate(&mut self, now: u64) -> f32 {
        let t = self.snapshot(now);
        self.rate(t.calls, t.failed)
    }

    /// Slow-call rate of the current metrics (percent), or -1 below the minimum of calls.
    pub fn slow_call_rate(&mut self, now: u64) -> f32 {
        let t = self.snapshot(now);
        self.rate(t.calls, t.slow)
    }

    /// Counters of the current metrics.
    pub fn counts(&mut self, now: u64) -> Counts {
        let t = self.snapshot(now);
        Counts {
            buffered: t.calls,
            failed: t.failed,
            slow: t.slow,
            slow_failed: t.slow_failed,
            not_permitted: self.not_permitted,
        }
    }

    /// Lifetime totals.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// The earliest pending timer (automatic OPEN→HALF_OPEN, half-open limit), if any.
    pub fn next_timer(&self) -> Option<u64> {
        self.timer
            .iter()
            .chain(self.orphans.iter())
            .map(|t| t.at)
            .min()
    }

    /// `transitionToOpenState`: OPEN for the interval of `attempts + 1`, keeping the metrics.
    pub fn transition_to_open(&mut self, now: u64) -> Result<(), IllegalTransition> {
        self.fire_timers(now);
        self.go_open(now)
    }

    /// `transitionToOpenStateFor`: OPEN for `wait` (ns), attempts unchanged.
    pub fn transition_to_open_for(&mut self, now: u64, wait: u64) -> Result<(), IllegalTransition> {
        self.fire_timers(now);
        self.check(State::Open)?;
        let wait = to_ms(wait);
        self.enter_open(now, self.attempts, now + wait, wait);
        Ok(())
    }

    /// `transitionToOpenStateUntil`: OPEN until `until` (ns), attempts unchanged.
    pub fn transition_to_open_until(
        &mut self,
        now: u64,
        until: u64,
    ) -> Result<(), IllegalTransition> {
        self.fire_timers(now);
        self.check(State::Open)?;
        self.enter_open(now, self.attempts, until, to_ms(until.saturating_sub(now)));
        Ok(())
    }

    /// `transitionToHalfOpenState`.
    pub fn transition_to_half_open(&mut self, now: u64) -> Result<(), IllegalTransition> {
        self.fire_timers(now);
        self.go_half_open(now)
    }

    /// `transitionToClosedState`: CLOSED with a fresh window.
    pub fn transition_to_closed(&mut self, now: u64) -> Result<(), IllegalTransition> {
        self.fire_timers(now);
        self.go_closed(now)
    }

    /// `transitionToDisabledState`: permits everything, records nothing.
    pub fn transition_to_disabled(&mut self, now: u64) -> Result<(), IllegalTransition> {
        self.fire_timers(now);
        self.check(State::Disabled)?;
        self.enter_fresh(now, State::Disabled, 0);
        Ok(())
    }

    /// `transitionToMetricsOnlyState`: permits everything, records, never transitions.
    pub fn transition_to_metrics_only(&mut self, now: u64) -> Result<(), IllegalTransition> {
        self.fire_timers(now);
        self.check(State::MetricsOnly)?;
        self.enter_fresh(now, State::MetricsOnly, 0);
        Ok(())
    }

    /// `transitionToForcedOpenState`: rejects everything until another transition.
    pub fn transition_to_forced_open(&mut self, now: u64) -> Result<(), IllegalTransition> {
        self.fire_timers(now);
        self.check(State::ForcedOpen)?;
        self.enter_fresh(now, State::ForcedOpen, self.attempts + 1);
        Ok(())
    }

    /// `reset`: CLOSED with fresh metrics from any state. As in Java, the pending timer of the
    /// state left is not cancelled; it still fires later and attempts its transition.
    pub fn reset(&mut self, now: u64) {
        self.fire_timers(now);
        if let Some(t) = self.timer.take() {
            self.orphans.push(t);
        }
        self.enter_fresh(now, State::Closed, 0);
    }

    fn check(&self, to: State) -> Result<(), IllegalTransition> {
        if transition_allowed(self.state, to) {
            Ok(())
        } else {
            Err(IllegalTransition {
                from: self.state,
                to,
            })
        }
    }

    fn go_open(&mut self, now: u64) -> Result<(), IllegalTransition> {
        self.check(State::Open)?;
        let attempts = self.attempts + 1;
        let wait = self.config.wait_in_open.wait(attempts);
        self.enter_open(now, attempts, now + wait, wait);
        Ok(())
    }

    fn go_half_open(&mut self, now: u64) -> Result<(), IllegalTransition> {
        self.check(State::HalfOpen)?;
        self.enter_half_open(now, self.attempts);
        Ok(())
    }

    fn go_closed(&mut self, now: u64) -> Result<(), IllegalTransition> {
        self.check(State::Closed)?;
        self.enter_fresh(now, State::Closed, 0);
        Ok(())
    }

    fn enter_open(&mut self, now: u64, attempts: u32, until: u64, timer_in: u64) {
        self.state = State::Open;
        self.attempts = attempts;
        self.wait_until = until;
        self.totals.opened += 1;
        self.timer = self.config.automatic_transition.then_some(Timer {
            at: now + timer_in,
            kind: TimerKind::ToHalfOpen,
        });
    }

    fn enter_half_open(&mut self, now: u64, attempts: u32) {
        self.state = State::HalfOpen;
        self.attempts = attempts;
        self.trial.reset(now);
        self.which = Which::Trial;
        self.not_permitted = 0;
        self.permits = i64::from(self.config.permitted_calls_in_half_open);
        let limit = to_ms(self.config.max_wait_in_half_open);
        self.timer = (limit >= MS).then_some(Timer {
            at: now + limit,
            kind: TimerKind::AfterHalfOpenWait,
        });
    }

    /// CLOSED and METRICS_ONLY (fresh main window), FORCED_OPEN and DISABLED (empty metrics).
    fn enter_fresh(&mut self, now: u64, state: State, attempts: u32) {
        self.state = state;
        // DISABLED and METRICS_ONLY report 0 attempts in Java whatever they came from.
        self.attempts = if state == State::ForcedOpen {
            attempts
        } else {
            0
        };
        self.not_permitted = 0;
        self.timer = None;
        self.which = if matches!(state, State::Closed | State::MetricsOnly) {
            self.main.reset(now);
            Which::Main
        } else {
            Which::Empty
        };
    }

    fn open_to_half_open(&mut self, now: u64) {
        self.timer = None;
        self.enter_half_open(now, self.attempts);
    }

    fn half_open_acquire(&mut self) -> bool {
        if self.permits > 0 {
            self.permits -= 1;
            true
        } else {
            self.not_permitted += 1;
            false
        }
    }

    fn fire_timers(&mut self, now: u64) {
        while let Some(at) = self.next_timer().filter(|&at| at <= now) {
            let t = match self.timer {
                Some(t) if t.at == at => self.timer.take(),
                _ => {
                    let i = self.orphans.iter().position(|t| t.at == at);
                    i.map(|i| self.orphans.remove(i))
                }
            };
            let Some(t) = t else { break };
            // Java swallows the IllegalStateTransitionException of a stale timer.
            let _ = match t.kind {
                TimerKind::ToHalfOpen => self.go_half_open(t.at),
                TimerKind::AfterHalfOpenWait
                    if self.config.state_after_half_open_wait == State::Closed =>
                {
                    self.go_closed(t.at)
                }
                TimerKind::AfterHalfOpenWait => self.go_open(t.at),
            };
        }
    }

    fn window(&mut self) -> Option<&mut Window> {
        match self.which {
            Which::Main => Some(&mut self.main),
            Which::Trial => Some(&mut self.trial),
            Which::Empty => None,
        }
    }

    fn snapshot(&mut self, now: u64) -> Agg {
        self.fire_timers(now);
        match self.window() {
            Some(w) => {
                w.advance(now);
                w.total
            }
            None => Agg::default(),
        }
    }

    fn minimum(&self) -> u32 {
        match self.which {
            Which::Main if self.main.time_based => self.config.minimum_calls,
            Which::Main => self.config.minimum_calls.min(self.config.window_size),
            Which::Trial => self
                .config
                .minimum_calls
                .min(self.config.permitted_calls_in_half_open),
            Which::Empty => 0,
        }
    }

    fn rate(&self, calls: u32, part: u32) -> f32 {
        if calls == 0 || calls < self.minimum() {
            -1.0
        } else {
            part as f32 * 100.0 / calls as f32
        }
    }

    fn record(&mut self, now: u64, failed: bool, duration: u64) {
        self.fire_timers(now);
        if matches!(self.state, State::Disabled | State::ForcedOpen) {
            return;
        }
        let slow = duration > self.config.slow_call_duration;
        let one = Agg {
            calls: 1,
            failed: u32::from(failed),
            slow: u32::from(slow),
            slow_failed: u32::from(slow && failed),
        };
        let Some(w) = self.window() else { return };
        w.record(now, one);
        let total = w.total;
        let check = self.check_rates(total);
        match (self.state, check) {
            (State::Closed, Check::Exceeded) | (State::HalfOpen, Check::Exceeded) => {
                let _ = self.go_open(now);
            }
            (State::HalfOpen, Check::Below) => {
                let _ = self.go_closed(now);
            }
            _ => {}
        }
    }

    fn check_rates(&self, t: Agg) -> Check {
        let failure = self.rate(t.calls, t.failed);
        let slow = self.rate(t.calls, t.slow);
        if failure == -1.0 || slow == -1.0 {
            Check::BelowMinimum
        } else if failure >= self.config.failure_rate_threshold as f32
            || slow >= self.config.slow_call_rate_threshold as f32
        {
            Check::Exceeded
        } else {
            Check::Below
        }
    }
}

fn to_ms(ns: u64) -> u64 {
    ns / MS * MS
}
