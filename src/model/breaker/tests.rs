//! The two libraries' own test suites, ported as data, plus the edge rules.
//!
//! Each case keeps the name of the test it comes from and replays its inputs (times, calls,
//! outcomes) and its assertions as a script of steps; one interpreter per library runs them.
//! Assertions about events, listeners, names, exception types or threads have no counterpart
//! here; where a test mixes them with state assertions, only the state assertions are kept.
//!
//! resilience4j, `CircuitBreakerStateMachineTest.java` (36 tests): 33 ported. Skipped:
//! - `shouldReturnTheCorrectName`: breaker names are not modelled.
//! - `shouldPublishEachEventOnceInMetricOnlyState`: only checks event publication.
//! - `circuitBreakerDoesNotPublishStateTransitionEventsForInternalTransitions`: only checks
//!   event publication (that same-state transitions are legal is in
//!   `allCircuitBreakerStatesAllowTransitionToItsOwnState`).
//!
//! opossum: the tests on state transitions, thresholds, volume threshold, half-open, warm-up,
//! rolling stats, timeouts and the semaphore, 24 ported: 15 of the 66 in `test/test.js`, and
//! all of `half-open-test.js` (2), `volume-threshold-test.js` (3), `closed-test.js` (1) and
//! `warmup-test.js` (3). The 9 option-default tests of `test/test.js` (`… defaults to …`,
//! `… can be set to 0`, default capacity) are checked in `opossum_defaults` instead. The other
//! 42 are not ported: fallbacks (return values and `fallbacks` counts), events and their latency
//! or parameters, names and groups, abort controllers, callback and non-function actions,
//! percentiles, caches, the missing-action error.

use super::opossum::{self, Admission};
use super::resilience4j::{self as r4j, WaitInterval, WindowType};
use super::{Breaker, Outcome, State};

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;
const MIN: u64 = 60 * S;
const HOUR: u64 = 60 * MIN;

const C: State = State::Closed;
const O: State = State::Open;
const H: State = State::HalfOpen;
const D: State = State::Disabled;
const F: State = State::ForcedOpen;
const M: State = State::MetricsOnly;

// ---------------------------------------------------------------------------------------------
// resilience4j

/// One step of a resilience4j script; times and durations in ns.
#[derive(Debug, Clone, Copy)]
enum R {
    /// Set the clock.
    At(u64),
    /// Move the clock forward.
    Advance(u64),
    /// `tryAcquirePermission` answers this.
    Acquire(bool),
    Release,
    /// `onSuccess` with this duration.
    Success(u64),
    /// `onError` (recorded) with this duration.
    Error(u64),
    /// `onError` with an ignored exception.
    Ignored,
    Is(State),
    FailureRate(f32),
    SlowRate(f32),
    Slow(u32),
    Buffered(u32),
    Successful(u32),
    NotPermitted(u64),
    /// failure rate, successful, buffered, failed, not permitted (the Java test's helper).
    Metrics(f32, u32, u32, u32, u64),
    /// `transitionTo…State`, and whether it is legal.
    To(State, bool),
    OpenFor(u64),
    /// `transitionToOpenStateUntil` an absolute time.
    OpenUntil(u64),
    Reset,
}

struct RCase {
    name: &'static str,
    config: fn() -> r4j::Config,
    steps: &'static [R],
}

/// The Java test's `setUp`: time-based window of 20 s with 5 calls minimum, 4 trial calls,
/// thresholds 50 %, slow above 4 s, 5 s in open, 1 s at most in half-open.
fn setup() -> r4j::Config {
    r4j::Config {
        window_type: WindowType::TimeBased,
        window_size: 20,
        minimum_calls: 5,
        failure_rate_threshold: 50.0,
        slow_call_rate_threshold: 50.0,
        slow_call_duration: 4 * S,
        wait_in_open: WaitInterval::Constant(5 * S),
        permitted_calls_in_half_open: 4,
        max_wait_in_half_open: S,
        ..r4j::Config::default()
    }
}

/// Count-based window of 5, 4 trial calls, exponential backoff from 5 s.
fn interval() -> r4j::Config {
    r4j::Config {
        window_size: 5,
        permitted_calls_in_half_open: 4,
        wait_in_open: WaitInterval::Exponential {
            initial: 5 * S,
            multiplier: 1.5,
        },
        ..r4j::Config::default()
    }
}

fn half_open_limit_to_closed() -> r4j::Config {
    r4j::Config {
        max_wait_in_half_open: S,
        state_after_half_open_wait: C,
        ..r4j::Config::default()
    }
}

fn initially_open() -> r4j::Config {
    r4j::Config {
        initial_state: O,
        window_type: WindowType::TimeBased,
        window_size: 1,
        permitted_calls_in_half_open: 4,
        wait_in_open: WaitInterval::Constant(2 * S),
        automatic_transition: true,
        ..r4j::Config::default()
    }
}

fn initially_metrics_only() -> r4j::Config {
    r4j::Config {
        initial_state: M,
        ..interval()
    }
}

use R::*;

const RESET: R = Metrics(-1.0, 0, 0, 0, 0);
const FOUR_TRIALS: [R; 6] = [
    Acquire(true),
    Acquire(true),
    Acquire(true),
    Acquire(true),
    Acquire(false),
    Acquire(false),
];

const R4J_CASES: &[RCase] = &[
    RCase {
        name: "shouldThrowCallNotPermittedExceptionWhenStateIsOpen",
        config: setup,
        steps: &[To(O, true), Acquire(false), NotPermitted(1)],
    },
    RCase {
        name: "shouldThrowCallNotPermittedExceptionWhenStateIsForcedOpen",
        config: setup,
        steps: &[To(F, true), Acquire(false), NotPermitted(1)],
    },
    RCase {
        name: "shouldIncreaseCounterOnReleasePermission",
        config: setup,
        steps: &[
            To(O, true),
            To(H, true),
            FOUR_TRIALS[0],
            FOUR_TRIALS[1],
            FOUR_TRIALS[2],
            FOUR_TRIALS[3],
            FOUR_TRIALS[4],
            FOUR_TRIALS[5],
            Release,
            Acquire(true),
        ],
    },
    RCase {
        name: "shouldThrowCallNotPermittedExceptionWhenNotFurtherTestCallsArePermitted",
        config: setup,
        steps: &[
            To(O, true),
            To(H, true),
            Acquire(true),
            Acquire(true),
            Acquire(true),
            Acquire(true),
            Acquire(false),
            NotPermitted(1),
        ],
    },
    RCase {
        name: "shouldOnlyPermitFourCallsInHalfOpenState",
        config: setup,
        steps: &[
            RESET,
            To(O, true),
            To(H, true),
            Is(H),
            FOUR_TRIALS[0],
            FOUR_TRIALS[1],
            FOUR_TRIALS[2],
            FOUR_TRIALS[3],
            FOUR_TRIALS[4],
            FOUR_TRIALS[5],
            To(O, true),
            To(H, true),
            FOUR_TRIALS[0],
            FOUR_TRIALS[1],
            FOUR_TRIALS[2],
            FOUR_TRIALS[3],
            FOUR_TRIALS[4],
            FOUR_TRIALS[5],
        ],
    },
    RCase {
        name: "shouldOpenAfterFailureRateThresholdExceeded2",
        config: setup,
        steps: &[
            Success(0),
            Advance(S),
            Success(0),
            Advance(S),
            Success(0),
            Advance(S),
            Error(0),
            Advance(S),
            Error(0),
            Is(C),
            Advance(S),
            Is(C),
            Error(0),
            Is(O),
        ],
    },
    RCase {
        name: "shouldOpenAfterFailureRateThresholdExceeded",
        config: setup,
        steps: &[
            Acquire(true),
            Is(C),
            RESET,
            Acquire(true),
            Error(0),
            Is(C),
            Metrics(-1.0, 0, 1, 1, 0),
            Acquire(true),
            Error(0),
            Is(C),
            Metrics(-1.0, 0, 2, 2, 0),
            Acquire(true),
            Error(0),
            Is(C),
            Metrics(-1.0, 0, 3, 3, 0),
            Acquire(true),
            Success(0),
            Is(C),
            Metrics(-1.0, 1, 4, 3, 0),
            Success(0),
            Is(O),
            Buffered(5),
            FailureRate(60.0),
            Metrics(60.0, 2, 5, 3, 0),
            Acquire(false),
            Metrics(60.0, 2, 5, 3, 1),
        ],
    },
    RCase {
        name: "shouldOpenAfterSlowCallRateThresholdExceeded",
        config: setup,
        steps: &[
            Is(C),
            RESET,
            Acquire(true),
            Error(5 * S),
            Is(C),
            Acquire(true),
            Success(5 * S),
            Is(C),
            Acquire(true),
            Error(100 * MS),
            Is(C),
            Acquire(true),
            Success(100 * MS),
            Is(C),
            Success(5 * S),
            Is(O),
            Buffered(5),
            Slow(3),
            SlowRate(60.0),
        ],
    },
    RCase {
        // the decorated consumer advances the mock clock during the call
        name: "shouldOpenAfterSlowCallRateThresholdExceededUsingMockClock",
        config: setup,
        steps: &[
            Is(C),
            RESET,
            Acquire(true),
            Advance(5 * S),
            Success(5 * S),
            Buffered(1),
            Slow(1),
            Is(C),
            Acquire(true),
            Advance(5 * S),
            Success(5 * S),
            Buffered(2),
            Slow(2),
            Is(C),
            Acquire(true),
            Advance(S),
            Success(S),
            Buffered(3),
            Slow(2),
            Is(C),
            Acquire(true),
            Advance(S),
            Success(S),
            Buffered(4),
            Slow(2),
            Is(C),
            Acquire(true),
            Advance(5 * S),
            Success(5 * S),
            Is(O),
            Buffered(5),
            Slow(3),
            SlowRate(60.0),
        ],
    },
    RCase {
        name: "shouldTransitionToHalfOpenAfterWaitDuration",
        config: setup,
        steps: &[
            To(O, true),
            RESET,
            Is(O),
            Acquire(false),
            Advance(3 * S),
            Is(O),
            Acquire(false),
            Metrics(-1.0, 0, 0, 0, 2),
            Advance(3 * S),
            Acquire(true),
            Is(H),
            RESET,
        ],
    },
    RCase {
        name: "shouldTransitionToHalfOpenAfterPassedWaitDuration",
        config: setup,
        steps: &[
            OpenFor(2 * HOUR),
            RESET,
            Is(O),
            Acquire(false),
            Advance(HOUR),
            Is(O),
            Acquire(false),
            Metrics(-1.0, 0, 0, 0, 2),
            Advance(HOUR),
            Advance(S),
            Acquire(true),
            Is(H),
            RESET,
        ],
    },
    RCase {
        name: "shouldTransitionToHalfOpenAfterPassedWaitUntil",
        config: setup,
        steps: &[
            OpenUntil(30 * MIN),
            RESET,
            Is(O),
            Acquire(false),
            Advance(15 * MIN),
            Is(O),
            Acquire(false),
            Metrics(-1.0, 0, 0, 0, 2),
            At(30 * MIN),
            Advance(S),
            Acquire(true),
            Is(H),
            RESET,
        ],
    },
    RCase {
        name: "shouldTransitionToHalfOpenAfterWaitInterval",
        config: interval,
        steps: &[
            To(O, true),
            RESET,
            Is(O),
            Acquire(false),
            Advance(3 * S),
            Is(O),
            Acquire(false),
            Metrics(-1.0, 0, 0, 0, 2),
            Advance(3 * S),
            Acquire(true),
            Is(H),
            RESET,
            To(O, true),
            Advance(6 * S),
            Is(O), // the second wait is 7.5 s
            Acquire(false),
            Advance(5 * S),
            Acquire(true),
            Is(H),
            RESET,
        ],
    },
    RCase {
        name: "shouldTransitionBackToOpenStateWhenFailureRateIsAboveThreshold",
        config: setup,
        steps: &[
            To(O, true),
            To(H, true),
            Is(H),
            RESET,
            Acquire(true),
            Error(0),
            Acquire(true),
            Error(0),
            Acquire(true),
            Success(0),
            Acquire(true),
            Error(0),
            Is(O),
            Metrics(75.0, 1, 4, 3, 0),
        ],
    },
    RCase {
        name: "shouldTransitionBackToOpenStateWhenSlowCallRateIsAboveThreshold",
        config: setup,
        steps: &[
            To(O, true),
            To(H, true),
            Is(H),
            Acquire(true),
            Success(5 * S),
            Acquire(true),
            Success(5 * S),
            Acquire(true),
            Success(5 * S),
            Acquire(true),
            Success(S),
            Is(O),
            Slow(3),
            SlowRate(75.0),
            FailureRate(0.0),
        ],
    },
    RCase {
        name: "shouldTransitionBackToClosedStateWhenFailureIsBelowThreshold",
        config: setup,
        steps: &[
            To(O, true),
            To(H, true),
            Is(H),
            RESET,
            Acquire(true),
            Error(0),
            Acquire(true),
            Success(0),
            Acquire(true),
            Success(0),
            Acquire(true),
            Success(0),
            Acquire(true),
            Is(C),
            RESET,
            Acquire(true),
            Success(0),
            Metrics(-1.0, 1, 1, 0, 0),
        ],
    },
    RCase {
        name: "shouldResetMetrics",
        config: setup,
        steps: &[
            Is(C),
            RESET,
            Success(0),
            Error(0),
            Metrics(-1.0, 1, 2, 1, 0),
            Reset,
            RESET,
        ],
    },
    RCase {
        name: "shouldDisableCircuitBreaker",
        config: setup,
        steps: &[
            To(D, true),
            Is(D),
            RESET,
            Acquire(true),
            Success(0),
            Acquire(true),
            Error(0),
            Acquire(true),
            Error(0),
            Acquire(true),
            Error(0),
            Acquire(true),
            Error(0),
            RESET,
        ],
    },
    RCase {
        name: "shouldForceOpenCircuitBreaker",
        config: setup,
        steps: &[
            To(F, true),
            Is(F),
            Acquire(false),
            Advance(6 * S),
            Acquire(false),
            Is(F),
            Metrics(-1.0, 0, 0, 0, 2),
        ],
    },
    RCase {
        name: "shouldReleasePermissionWhenExceptionIgnored",
        config: setup,
        steps: &[
            To(O, true),
            To(H, true),
            Is(H),
            Acquire(true),
            Success(0),
            Is(H),
            Metrics(-1.0, 1, 1, 0, 0),
            Acquire(true),
            Success(0),
            Is(H),
            Metrics(-1.0, 2, 2, 0, 0),
            Acquire(true),
            Success(0),
            Is(H),
            Metrics(-1.0, 3, 3, 0, 0),
            Acquire(true),
            Ignored,
            Is(H),
            Metrics(-1.0, 3, 3, 0, 0),
            Acquire(true),
            Error(0),
            Is(C),
            RESET,
        ],
    },
    RCase {
        name: "shouldIgnoreExceptionsAndThenTransitionToClosed",
        config: setup,
        steps: &[
            To(O, true),
            To(H, true),
            Is(H),
            Acquire(true),
            Ignored,
            Is(H),
            Acquire(true),
            Ignored,
            Is(H),
            Acquire(true),
            Ignored,
            Is(H),
            Acquire(true),
            Ignored,
            Is(H),
            RESET,
            Acquire(true),
            Success(0),
            Is(H),
            Acquire(true),
            Success(0),
            Is(H),
            Acquire(true),
            Success(0),
            Is(H),
            Metrics(-1.0, 3, 3, 0, 0),
            Acquire(true),
            Success(0),
            Is(C),
            RESET,
        ],
    },
    RCase {
        name: "shouldNotAllowTransitionFromClosedToHalfOpen",
        config: setup,
        steps: &[To(H, false), Is(C)],
    },
    RCase {
        name: "shouldResetToClosedState",
        config: setup,
        steps: &[To(O, true), Reset, Is(C)],
    },
    RCase {
        name: "shouldResetClosedState",
        config: setup,
        steps: &[
            Success(0),
            Success(0),
            Successful(2),
            Reset,
            Is(C),
            Successful(0),
        ],
    },
    RCase {
        name: "shouldResetMetricsAfterMetricsOnlyStateTransition",
        config: setup,
        steps: &[
            Success(0),
            Success(0),
            Successful(2),
            To(M, true),
            Is(M),
            Successful(0),
        ],
    },
    RCase {
        name: "shouldRecordMetricsInMetricsOnlyState",
        config: setup,
        steps: &[
            To(M, true),
            Acquire(true),
            Is(M),
            RESET,
            Acquire(true),
            Error(0),
            Is(M),
            Metrics(-1.0, 0, 1, 1, 0),
            Acquire(true),
            Error(0),
            Is(M),
            Metrics(-1.0, 0, 2, 2, 0),
            Acquire(true),
            Error(0),
            Is(M),
            Metrics(-1.0, 0, 3, 3, 0),
            Acquire(true),
            Success(0),
            Is(M),
            Metrics(-1.0, 1, 4, 3, 0),
            Success(0),
            Is(M),
            Buffered(5),
            FailureRate(60.0),
            Metrics(60.0, 2, 5, 3, 0),
            Error(0),
            Is(M),
        ],
    },
    RCase {
        // every state reached, then METRICS_ONLY from it
        name: "allCircuitBreakerStatesAllowTransitionToMetricsOnlyMode",
        config: setup,
        steps: &[
            To(M, true),
            To(M, true),
            To(C, true),
            To(O, true),
            To(M, true),
            To(C, true),
            To(O, true),
            To(H, true),
            To(M, true),
            To(F, true),
            To(M, true),
            To(D, true),
            To(M, true),
            Is(M),
        ],
    },
    RCase {
        name: "allCircuitBreakerStatesAllowTransitionToItsOwnState",
        config: setup,
        steps: &[
            To(C, true),
            Is(C),
            To(O, true),
            To(O, true),
            Is(O),
            To(H, true),
            To(H, true),
            Is(H),
            To(D, true),
            To(D, true),
            Is(D),
            To(F, true),
            To(F, true),
            Is(F),
            To(M, true),
            To(M, true),
            Is(M),
        ],
    },
    RCase {
        // Thread.sleep(2000) while the half-open limit (1 s) runs out
        name: "circuitBreakerTransitionsToOpenAfterWaitDurationInHalfOpenState",
        config: setup,
        steps: &[To(O, true), To(H, true), Is(H), Advance(2 * S), Is(O)],
    },
    RCase {
        name: "circuitBreakerTransitionsToClosedAfterWaitDurationInHalfOpenState",
        config: half_open_limit_to_closed,
        steps: &[To(O, true), To(H, true), Is(H), Advance(2 * S), Is(C)],
    },
    RCase {
        name: "circuitBreakerInitializeInClosedState",
        config: interval,
        steps: &[Is(C), To(O, true), Is(O)],
    },
    RCase {
        name: "circuitBreakerInitializeInOpenState",
        config: initially_open,
        steps: &[Is(O), To(H, true), Is(H)],
    },
    RCase {
        name: "circuitBreakerInitializeInMetricOnlyState",
        config: initially_metrics_only,
        steps: &[Is(M)],
    },
];

/// resilience4j tests ported (of the 36 in `CircuitBreakerStateMachineTest.java`).
const R4J_PORTED: usize = 33;

fn run_r4j(case: &RCase) {
    let mut b = r4j::Breaker::new((case.config)(), 0);
    let mut now = 0;
    for (i, step) in case.steps.iter().enumerate() {
        let at = || format!("{} step {i} ({step:?})", case.name);
        match *step {
            At(t) => now = t,
            Advance(d) => now += d,
            Acquire(ok) => assert_eq!(b.try_acquire(now), ok, "{}", at()),
            Release => b.release_permission(now),
            Success(d) => b.on_success(now, d),
            Error(d) => b.on_error(now, d),
            Ignored => b.on_ignored(now),
            Is(s) => assert_eq!(b.state(now), s, "{}", at()),
            FailureRate(r) => assert_eq!(b.failure_rate(now), r, "{}", at()),
            SlowRate(r) => assert_eq!(b.slow_call_rate(now), r, "{}", at()),
            Slow(n) => assert_eq!(b.counts(now).slow, n, "{}", at()),
            Buffered(n) => assert_eq!(b.counts(now).buffered, n, "{}", at()),
            Successful(n) => assert_eq!(b.counts(now).successful(), n, "{}", at()),
            NotPermitted(n) => assert_eq!(b.counts(now).not_permitted, n, "{}", at()),
            Metrics(rate, ok, buffered, failed, rejected) => {
                let c = b.counts(now);
                let got = (
                    b.failure_rate(now),
                    c.successful(),
                    c.buffered,
                    c.failed,
                    c.not_permitted,
                );
                assert_eq!(got, (rate, ok, buffered, failed, rejected), "{}", at());
            }
            To(s, legal) => {
                let r = match s {
                    State::Closed => b.transition_to_closed(now),
                    State::Open => b.transition_to_open(now),
                    State::HalfOpen => b.transition_to_half_open(now),
                    State::Disabled => b.transition_to_disabled(now),
                    State::ForcedOpen => b.transition_to_forced_open(now),
                    State::MetricsOnly => b.transition_to_metrics_only(now),
                };
                assert_eq!(r.is_ok(), legal, "{}", at());
            }
            OpenFor(d) => b.transition_to_open_for(now, d).unwrap(),
            OpenUntil(t) => b.transition_to_open_until(now, t).unwrap(),
            Reset => b.reset(now),
        }
    }
}

#[test]
fn resilience4j_suite() {
    assert_eq!(R4J_CASES.len(), R4J_PORTED);
    for case in R4J_CASES {
        run_r4j(case);
    }
}

// ---------------------------------------------------------------------------------------------
// opossum

/// One step of an opossum script; times in ms as in the JavaScript tests.
#[derive(Debug, Clone, Copy)]
enum P {
    At(u64),
    Fire(Admission),
    Succeed,
    Fail,
    TimeOut,
    Filtered,
    State(State),
    Pending(bool),
    Fires(u64),
    Failures(u64),
    Successes(u64),
    Timeouts(u64),
    Rejects(u64),
    SemaphoreRejections(u64),
    Opened(u64),
    /// `status.window[0].successes`.
    HeadSuccesses(u64),
    /// `status.window[0].isCircuitBreakerOpen`.
    HeadOpen(Option<bool>),
    WarmUp(bool),
    InFlight(u64),
    /// Timeout deadline of a call fired at 0, in ms.
    Deadline(Option<u64>),
}

struct PCase {
    name: &'static str,
    options: fn() -> opossum::Options,
    steps: &'static [P],
}

fn defaults() -> opossum::Options {
    opossum::Options::default()
}

/// `errorThresholdPercentage: 1, resetTimeout: 100`, the suites' usual breaker.
fn quick() -> opossum::Options {
    opossum::Options {
        error_threshold_percentage: 1.0,
        reset_timeout: 100 * MS,
        ..defaults()
    }
}

const A: P = P::Fire(Admission::Admitted);
const REJECTED: P = P::Fire(Admission::RejectedOpen);

const OPOSSUM_CASES: &[PCase] = &[
    PCase {
        name: "test.js: Fails when the circuit function fails",
        options: defaults,
        steps: &[A, P::At(100), P::Fail, P::Failures(1), P::Fires(1)],
    },
    PCase {
        name: "test.js: Fails when the circuit function times out",
        options: || opossum::Options {
            timeout: Some(10 * MS),
            ..defaults()
        },
        steps: &[
            A,
            P::Deadline(Some(10)),
            P::At(10),
            P::TimeOut,
            P::Timeouts(1),
            P::Failures(1),
        ],
    },
    PCase {
        name: "test.js: Breaker opens after a configurable number of failures",
        options: || opossum::Options {
            error_threshold_percentage: 10.0,
            ..defaults()
        },
        steps: &[A, P::At(100), P::Fail, REJECTED],
    },
    PCase {
        name: "test.js: Breaker resets after a configurable amount of time",
        options: quick,
        steps: &[A, P::At(100), P::Fail, P::At(225), A],
    },
    PCase {
        name: "test.js: Breaker resets after a configurable amount of time when multiple jobs fail",
        options: quick,
        steps: &[A, A, P::At(100), P::Fail, P::Fail, P::At(225), A],
    },
    PCase {
        name: "test.js: Breaker status reflects open state",
        options: || opossum::Options {
            error_threshold_percentage: 0.0,
            ..quick()
        },
        steps: &[A, P::At(100), P::Fail, P::HeadOpen(Some(true))],
    },
    PCase {
        name: "test.js: Breaker resets for circuits with a fallback function",
        options: quick,
        steps: &[A, P::At(100), P::Fail, P::At(225), A],
    },
    PCase {
        name: "test.js: Executes fallback action, if one exists, when breaker is open",
        options: || opossum::Options {
            error_threshold_percentage: 1.0,
            ..defaults()
        },
        steps: &[A, P::At(100), P::Fail, REJECTED],
    },
    PCase {
        name: "test.js: CircuitBreaker status",
        options: || opossum::Options {
            error_threshold_percentage: 1.0,
            ..defaults()
        },
        steps: &[
            A,
            A,
            A,
            P::At(100),
            P::Succeed,
            P::Succeed,
            P::Succeed,
            P::Fires(3),
            A,
            P::At(200),
            P::Fail,
            P::Failures(1),
            P::Fires(4),
            REJECTED,
            P::Failures(1),
            P::Rejects(1),
            P::Fires(5),
        ],
    },
    PCase {
        name: "test.js: CircuitBreaker rolling counts",
        options: || opossum::Options {
            rolling_count_timeout: 200 * MS,
            rolling_count_buckets: 2,
            ..defaults()
        },
        steps: &[
            A,
            A,
            A,
            P::At(100),
            P::Succeed,
            P::Succeed,
            P::Succeed,
            P::Successes(3),
            P::At(400),
            P::HeadSuccesses(0),
        ],
    },
    PCase {
        name: "test.js: CircuitBreaker events",
        options: || opossum::Options {
            error_threshold_percentage: 1.0,
            timeout: Some(500 * MS),
            reset_timeout: 500 * MS,
            ..defaults()
        },
        steps: &[
            A,
            P::At(100),
            P::Succeed,
            P::Fires(1),
            P::Successes(1),
            P::Failures(0),
            P::Rejects(0),
            P::Opened(0),
            P::State(C),
            P::Timeouts(0),
            A,
            P::At(200),
            P::Fail,
            P::Fires(2),
            P::Successes(1),
            P::Failures(1),
            P::Rejects(0),
            P::Opened(1),
            P::Timeouts(0),
            REJECTED,
            P::Fires(3),
            P::Successes(1),
            P::Failures(1),
            P::Rejects(1),
            P::Opened(1),
            P::At(700),
            P::State(H),
            P::Fires(3),
            P::Failures(1),
            P::Rejects(1),
            A,
            P::At(800),
            P::Succeed,
            P::Fires(4),
            P::Successes(2),
            P::Failures(1),
            P::Rejects(1),
            P::Opened(1),
            P::State(C),
            P::Timeouts(0),
        ],
    },
    PCase {
        name: "test.js: circuit halfOpen",
        options: quick,
        steps: &[
            A,
            P::At(100),
            P::Fail,
            P::State(O),
            P::Pending(false),
            P::At(230),
            P::State(H),
            P::Pending(true),
            A,
            P::At(330),
            P::Fail,
            P::State(O),
            P::Pending(false),
            P::At(460),
            P::State(H),
            P::Pending(true),
            A,
            P::At(560),
            P::Succeed,
            P::State(C),
            P::Pending(false),
        ],
    },
    PCase {
        name: "test.js: Circuit Breaker timeout with semaphore released",
        options: || opossum::Options {
            timeout: Some(10 * MS),
            capacity: 2,
            ..defaults()
        },
        steps: &[A, P::At(10), P::TimeOut, P::InFlight(0)],
    },
    PCase {
        name: "test.js: CircuitBreaker semaphore rate limiting",
        options: || opossum::Options {
            timeout: Some(300 * MS),
            capacity: 1,
            ..defaults()
        },
        steps: &[
            A,
            P::Fire(Admission::RejectedSemaphore),
            P::SemaphoreRejections(1),
        ],
    },
    PCase {
        name: "test.js: CircuitBreaker without a timeout",
        options: || opossum::Options {
            timeout: None,
            ..defaults()
        },
        steps: &[P::Deadline(None), A, P::Succeed],
    },
    PCase {
        name: "half-open-test.js: When half-open, the circuit only allows one request through",
        options: quick,
        steps: &[
            A,
            P::At(1),
            P::Fail,
            P::State(O),
            P::Pending(false),
            P::At(150),
            P::State(H),
            P::Pending(true),
            A,
            P::At(650),
            P::Fail,
            P::State(O),
            P::Pending(false),
            REJECTED,
        ],
    },
    PCase {
        name: "half-open-test.js: When half-open, a filtered error should close the circuit",
        options: quick,
        steps: &[
            A,
            P::Fail,
            P::State(O),
            P::Pending(false),
            P::At(150),
            P::State(H),
            P::Pending(true),
            A,
            P::Filtered,
            P::State(C),
        ],
    },
    PCase {
        name: "volume-threshold-test.js: By default does not have a volume threshold",
        options: quick,
        steps: &[A, P::At(100), P::Fail, P::State(O), P::Pending(false)],
    },
    PCase {
        name: "volume-threshold-test.js: Has a volume threshold before tripping when option is provided",
        options: || opossum::Options {
            volume_threshold: 3,
            ..quick()
        },
        steps: &[
            A,
            P::At(100),
            P::Fail,
            P::State(C),
            P::Pending(false),
            A,
            P::At(200),
            P::Fail,
            P::State(C),
            P::Pending(false),
            A,
            P::At(300),
            P::Fail,
            P::State(O),
        ],
    },
    PCase {
        name: "volume-threshold-test.js: volume threshold does not affect halfOpen state",
        options: || opossum::Options {
            reset_timeout: 300 * MS,
            rolling_count_timeout: 300 * MS,
            volume_threshold: 2,
            ..quick()
        },
        steps: &[
            A,
            P::At(100),
            P::Fail,
            P::State(C),
            A,
            P::At(200),
            P::Fail,
            P::State(O),
            P::At(650),
            P::State(H),
            P::Fires(0),
            A,
            P::At(750),
            P::Fail,
            P::State(O),
        ],
    },
    PCase {
        name: "closed-test.js: When open, an existing request resolving does not close circuit",
        options: || opossum::Options {
            reset_timeout: 60_000 * MS,
            ..quick()
        },
        steps: &[
            A,
            A,
            P::Fail,
            P::State(O),
            P::Pending(false),
            P::At(100),
            P::Succeed,
            P::State(O),
            P::Pending(false),
        ],
    },
    PCase {
        name: "warmup-test.js: By default does not allow for warmup",
        options: quick,
        steps: &[A, P::At(100), P::Fail, P::State(O), P::Pending(false)],
    },
    PCase {
        name: "warmup-test.js: Allows for warmup when option is provided",
        options: || opossum::Options {
            allow_warm_up: true,
            ..quick()
        },
        steps: &[A, P::At(100), P::Fail, P::State(C), P::Pending(false)],
    },
    PCase {
        name: "warmup-test.js: Only warms up for rollingCountTimeout",
        options: || opossum::Options {
            allow_warm_up: true,
            rolling_count_timeout: 500 * MS,
            ..quick()
        },
        steps: &[
            A,
            P::At(100),
            P::Fail,
            P::State(C),
            P::Pending(false),
            P::At(600),
            P::WarmUp(false),
        ],
    },
];

/// opossum tests ported.
const OPOSSUM_PORTED: usize = 24;

fn run_opossum(case: &PCase) {
    let mut b = opossum::Breaker::new((case.options)(), 0);
    let mut now = 0;
    for (i, step) in case.steps.iter().enumerate() {
        let at = || format!("{} step {i} ({step:?})", case.name);
        match *step {
            P::At(ms) => now = ms * MS,
            P::Fire(a) => assert_eq!(b.fire(now), a, "{}", at()),
            P::Succeed => b.success(now),
            P::Fail => b.failure(now),
            P::TimeOut => b.timeout(now),
            P::Filtered => b.filtered_error(now),
            P::State(s) => assert_eq!(b.state(now), s, "{}", at()),
            P::Pending(p) => assert_eq!(b.pending_close(now), p, "{}", at()),
            P::Fires(n) => assert_eq!(b.stats(now).fires, n, "{}", at()),
            P::Failures(n) => assert_eq!(b.stats(now).failures, n, "{}", at()),
            P::Successes(n) => assert_eq!(b.stats(now).successes, n, "{}", at()),
            P::Timeouts(n) => assert_eq!(b.stats(now).timeouts, n, "{}", at()),
            P::Rejects(n) => assert_eq!(b.stats(now).rejects, n, "{}", at()),
            P::SemaphoreRejections(n) => {
                assert_eq!(b.stats(now).semaphore_rejections, n, "{}", at())
            }
            P::Opened(n) => assert_eq!(b.opened(), n, "{}", at()),
            P::HeadSuccesses(n) => assert_eq!(b.head_bucket(now).0.successes, n, "{}", at()),
            P::HeadOpen(f) => assert_eq!(b.head_bucket(now).1, f, "{}", at()),
            P::WarmUp(w) => assert_eq!(b.warm_up(now), w, "{}", at()),
            P::InFlight(n) => assert_eq!(b.in_flight(), n, "{}", at()),
            P::Deadline(d) => assert_eq!(b.call_deadline(0), d.map(|ms| ms * MS), "{}", at()),
        }
    }
}

#[test]
fn opossum_suite() {
    assert_eq!(OPOSSUM_CASES.len(), OPOSSUM_PORTED);
    for case in OPOSSUM_CASES {
        run_opossum(case);
    }
}

// ---------------------------------------------------------------------------------------------
// Edge rules of the reference, one test each

fn count_based(size: u32, min: u32) -> r4j::Config {
    r4j::Config {
        window_size: size,
        minimum_calls: min,
        wait_in_open: WaitInterval::Constant(5 * S),
        ..r4j::Config::default()
    }
}

#[test]
fn resilience4j_threshold_is_inclusive() {
    // 3 failures in 6 calls is 50 %, which opens at threshold 50
    let mut b = r4j::Breaker::new(count_based(6, 6), 0);
    for _ in 0..3 {
        b.on_success(0, 0);
    }
    b.on_error(0, 0);
    b.on_error(0, 0);
    assert_eq!(b.state(0), C);
    b.on_error(0, 0);
    assert_eq!(b.state(0), O);
    assert_eq!(b.failure_rate(0), 50.0);
}

#[test]
fn resilience4j_slow_is_strictly_longer() {
    let config = r4j::Config {
        slow_call_duration: S,
        ..count_based(2, 2)
    };
    let mut b = r4j::Breaker::new(config, 0);
    b.on_success(0, S);
    b.on_success(0, S + 1);
    assert_eq!(b.counts(0).slow, 1);
    assert_eq!(b.slow_call_rate(0), 50.0);
}

#[test]
fn opossum_threshold_is_strict() {
    let mut b = opossum::Breaker::new(defaults(), 0);
    for _ in 0..2 {
        assert_eq!(b.fire(0), Admission::Admitted);
    }
    b.success(0);
    b.failure(0); // 1 of 2 fires: 50 %, not above 50
    assert_eq!(b.state(0), C);
    assert_eq!(b.fire(0), Admission::Admitted);
    b.failure(0); // 2 of 3
    assert_eq!(b.state(0), O);
}

#[test]
fn resilience4j_open_wait_is_strict() {
    let mut b = r4j::Breaker::new(count_based(1, 1), 0);
    b.on_error(0, 0);
    assert_eq!(b.state(0), O);
    assert_eq!(
        b.next_timer(),
        None,
        "no timer without automatic transition"
    );
    assert!(
        !b.try_acquire(5 * S),
        "rejected at exactly the end of the wait"
    );
    assert_eq!(b.state(10 * S), O, "getState alone never leaves OPEN");
    assert!(b.try_acquire(5 * S + 1));
    assert_eq!(b.state(5 * S + 1), H);
}

#[test]
fn resilience4j_automatic_transition_is_a_timer_at_the_deadline() {
    let config = r4j::Config {
        automatic_transition: true,
        ..count_based(1, 1)
    };
    let mut b = r4j::Breaker::new(config, 0);
    b.on_error(S, 0);
    assert_eq!(b.next_timer(), Some(6 * S));
    assert_eq!(b.state(6 * S - 1), O);
    assert_eq!(b.state(6 * S), H);
    assert_eq!(b.next_timer(), None);
}

#[test]
fn resilience4j_count_based_minimum_is_capped_by_the_window() {
    let mut b = r4j::Breaker::new(count_based(5, 100), 0);
    for _ in 0..5 {
        b.on_error(0, 0);
    }
    assert_eq!(b.state(0), O, "min(100, 5) = 5 calls suffice");
    let time_based = r4j::Config {
        window_type: WindowType::TimeBased,
        ..count_based(5, 100)
    };
    let mut b = r4j::Breaker::new(time_based, 0);
    for _ in 0..5 {
        b.on_error(0, 0);
    }
    assert_eq!(b.state(0), C, "a time-based window needs all 100");
    assert_eq!(b.failure_rate(0), -1.0);
}

#[test]
fn resilience4j_time_buckets_are_epoch_seconds() {
    let config = r4j::Config {
        window_type: WindowType::TimeBased,
        window_size: 2,
        initial_state: M,
        ..r4j::Config::default()
    };
    let mut b = r4j::Breaker::new(config, 0);
    b.on_error(900 * MS, 0); // second 0
    b.on_success(1100 * MS, 0); // second 1
    assert_eq!(b.counts(1999 * MS).buffered, 2);
    // at 2.0 s the window is seconds 1 and 2: the call at 0.9 s left 1.1 s after it was made
    assert_eq!(b.counts(2 * S).buffered, 1);
    assert_eq!(b.counts(3 * S).buffered, 0);
}

#[test]
fn resilience4j_half_open_decides_after_the_minimum() {
    let config = r4j::Config {
        permitted_calls_in_half_open: 4,
        ..count_based(10, 2)
    };
    let mut b = r4j::Breaker::new(config, 0);
    b.transition_to_open(0).unwrap();
    b.transition_to_half_open(0).unwrap();
    assert!(b.try_acquire(0));
    b.on_success(0, 0);
    assert_eq!(b.state(0), H);
    assert!(b.try_acquire(0));
    b.on_success(0, 0);
    assert_eq!(b.state(0), C, "min(2, 4) = 2 trial calls decide");
}

#[test]
fn resilience4j_exponential_backoff_and_attempts() {
    let wait = WaitInterval::Exponential {
        initial: 5 * S,
        multiplier: 1.5,
    };
    let waits: Vec<u64> = (1..=5).map(|a| wait.wait(a) / MS).collect();
    assert_eq!(waits, [5000, 7500, 11250, 16875, 25312]);
    // attempts grow with every opening and go back to 0 only in CLOSED
    let config = r4j::Config {
        wait_in_open: wait,
        permitted_calls_in_half_open: 1,
        ..count_based(1, 1)
    };
    let mut b = r4j::Breaker::new(config, 0);
    b.on_error(0, 0); // opens until 5 s
    assert!(b.try_acquire(5 * S + 1));
    b.on_error(5 * S + 1, 0); // opens again for 7.5 s
    assert!(!b.try_acquire(12_500 * MS + 1));
    assert!(b.try_acquire(12_500 * MS + 2));
    b.on_success(12_500 * MS + 2, 0);
    assert_eq!(b.state(12_500 * MS + 2), C);
    b.on_error(20 * S, 0);
    assert!(!b.try_acquire(25 * S));
    assert!(b.try_acquire(25 * S + 1), "back to 5 s after CLOSED");
}

#[test]
fn resilience4j_reset_leaves_the_half_open_limit_running() {
    // Java's reset() does not cancel the half-open timer, which later opens a CLOSED breaker
    let mut b = r4j::Breaker::new(setup(), 0);
    b.transition_to_open(0).unwrap();
    b.transition_to_half_open(0).unwrap();
    b.reset(500 * MS);
    assert_eq!(b.state(999 * MS), C);
    assert_eq!(b.next_timer(), Some(S));
    assert_eq!(b.state(S), O);
}

#[test]
fn resilience4j_outcomes_after_the_trip_are_recorded_without_effect() {
    let mut b = r4j::Breaker::new(count_based(4, 2), 0);
    b.on_error(0, 0);
    b.on_error(0, 0);
    assert_eq!(b.state(0), O);
    b.on_success(0, 0);
    b.on_success(0, 0);
    assert_eq!(b.counts(0).buffered, 4);
    assert_eq!(b.failure_rate(0), 50.0);
    assert_eq!(b.state(0), O);
}

#[test]
fn opossum_bucket_phase_is_anchored_at_construction() {
    // 10 buckets of 100 ms; rotations at 100, 200, ... after construction
    let options = opossum::Options {
        rolling_count_timeout: 1000 * MS,
        ..defaults()
    };
    let mut b = opossum::Breaker::new(options.clone(), 0);
    b.fire(99 * MS);
    assert_eq!(b.stats(999 * MS).fires, 1);
    assert_eq!(b.stats(1000 * MS).fires, 0, "counted 901 ms: (B-1)Δ + 1");
    b.fire(1000 * MS);
    assert_eq!(b.stats(1999 * MS).fires, 1);
    assert_eq!(b.stats(2000 * MS).fires, 0, "counted 1000 ms: BΔ");
    // constructed at 30 ms, the same fire lives until 1030 ms
    let mut b = opossum::Breaker::new(options, 30 * MS);
    b.fire(99 * MS);
    assert_eq!(b.stats(1029 * MS).fires, 1);
    assert_eq!(b.stats(1030 * MS).fires, 0);
}

#[test]
fn opossum_half_open_admits_one_trial_and_counts_rejects_as_fires() {
    let mut b = opossum::Breaker::new(quick(), 0);
    b.fire(0);
    b.failure(0);
    assert_eq!(b.next_timer(), Some(100 * MS));
    assert_eq!(b.fire(50 * MS), Admission::RejectedOpen);
    assert_eq!(b.state(100 * MS), H, "the reset timer needs no call");
    assert_eq!(b.fire(100 * MS), Admission::Admitted);
    assert_eq!(b.fire(100 * MS), Admission::RejectedOpen);
    let s = b.stats(100 * MS);
    assert_eq!((s.fires, s.rejects, s.failures), (4, 2, 1));
    b.failure(150 * MS);
    assert_eq!(b.state(150 * MS), O);
    assert_eq!(b.next_timer(), Some(250 * MS));
}

#[test]
fn opossum_trial_failure_ignores_volume_and_warm_up_does_not() {
    let options = opossum::Options {
        volume_threshold: 10,
        ..quick()
    };
    let mut b = opossum::Breaker::new(options, 0);
    b.open(0);
    assert_eq!(b.fire(100 * MS), Admission::Admitted);
    b.failure(100 * MS); // 1 fire < 10, but half-open
    assert_eq!(b.state(100 * MS), O);
    // during warm-up even a failed trial leaves the breaker half-open
    let options = opossum::Options {
        allow_warm_up: true,
        ..quick()
    };
    let mut b = opossum::Breaker::new(options, 0);
    b.open(0);
    b.fire(100 * MS);
    b.failure(100 * MS);
    assert_eq!(b.state(100 * MS), H);
    assert!(!b.pending_close(100 * MS));
}

#[test]
fn opossum_failure_with_no_fires_left_opens() {
    // failures / fires = 1 / 0 = Infinity in JavaScript
    let options = opossum::Options {
        rolling_count_timeout: 1000 * MS,
        ..defaults()
    };
    let mut b = opossum::Breaker::new(options, 0);
    b.fire(0);
    b.failure(5 * S);
    assert_eq!(b.stats(5 * S).fires, 0);
    assert_eq!(b.state(5 * S), O);
}

#[test]
fn opossum_semaphore_rejection_is_a_failure() {
    let options = opossum::Options {
        capacity: 1,
        ..defaults()
    };
    let mut b = opossum::Breaker::new(options, 0);
    assert_eq!(b.fire(0), Admission::Admitted);
    assert_eq!(b.fire(0), Admission::RejectedSemaphore); // 1 failure of 2 fires
    assert_eq!(b.fire(0), Admission::RejectedSemaphore); // 2 of 3: opens
    assert_eq!(b.state(0), O);
    assert_eq!(b.stats(0).failures, 2);
}

#[test]
fn opossum_defaults() {
    let o = opossum::Options::default();
    assert_eq!(o.error_threshold_percentage, 50.0);
    assert_eq!(o.reset_timeout, 30_000 * MS);
    assert_eq!(o.rolling_count_timeout, 10_000 * MS);
    assert_eq!(o.rolling_count_buckets, 10);
    assert_eq!(o.timeout, Some(10_000 * MS));
    assert_eq!(o.volume_threshold, 0);
    assert!(!o.allow_warm_up);
    assert_eq!(o.capacity, 9_007_199_254_740_991);
    // 0 buckets or 0 window falls back to 10 buckets over 10 s, as in lib/status.js
    let zero = opossum::Options {
        rolling_count_buckets: 0,
        rolling_count_timeout: 0,
        ..o
    };
    let mut b = opossum::Breaker::new(zero, 0);
    b.fire(0);
    assert_eq!(b.stats(9_999 * MS).fires, 1);
    assert_eq!(b.stats(10_000 * MS).fires, 0);
}

#[test]
fn resilience4j_defaults() {
    let c = r4j::Config::default();
    assert_eq!(c.failure_rate_threshold, 50.0);
    assert_eq!(c.slow_call_rate_threshold, 100.0);
    assert_eq!(c.slow_call_duration, 60 * S);
    assert_eq!(c.wait_in_open, WaitInterval::Constant(60 * S));
    assert_eq!(c.permitted_calls_in_half_open, 10);
    assert_eq!((c.minimum_calls, c.window_size), (100, 100));
    assert_eq!(c.window_type, WindowType::CountBased);
    assert_eq!(c.max_wait_in_half_open, 0);
    assert_eq!(c.state_after_half_open_wait, O);
    assert!(!c.automatic_transition);
}

#[test]
fn resilience4j_transition_table() {
    let all = [C, O, H, D, F, M];
    let illegal: Vec<_> = all
        .iter()
        .flat_map(|&f| all.iter().map(move |&t| (f, t)))
        .filter(|&(f, t)| !r4j::transition_allowed(f, t))
        .collect();
    assert_eq!(illegal, [(C, H), (M, O), (M, H)]);
}

/// The windows against a plain list of every call, through a METRICS_ONLY breaker (which
/// records and never transitions), over a fixed pseudo-random sequence.
#[test]
fn resilience4j_windows_match_a_plain_list() {
    for window_type in [WindowType::CountBased, WindowType::TimeBased] {
        let config = r4j::Config {
            window_type,
            window_size: 7,
            initial_state: M,
            slow_call_duration: 50 * MS,
            ..r4j::Config::default()
        };
        let mut b = r4j::Breaker::new(config, 0);
        let mut calls: Vec<(u64, bool, bool)> = Vec::new();
        let (mut now, mut x) = (0u64, 0x2545_f491_4f6c_dd1du64);
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            now += (x % 900) * MS;
            let (failed, duration) = (x & 1 == 1, (x >> 8) % 100 * MS);
            if failed {
                b.on_error(now, duration);
            } else {
                b.on_success(now, duration);
            }
            calls.push((now / S, failed, duration > 50 * MS));
            let kept: Vec<_> = match window_type {
                WindowType::CountBased => calls.iter().rev().take(7).collect(),
                WindowType::TimeBased => calls.iter().filter(|c| c.0 + 7 > now / S).collect(),
            };
            let c = b.counts(now);
            let failed = kept.iter().filter(|c| c.1).count() as u32;
            let slow = kept.iter().filter(|c| c.2).count() as u32;
            assert_eq!(
                (c.buffered, c.failed, c.slow),
                (kept.len() as u32, failed, slow)
            );
        }
    }
}

#[test]
fn wrapper_routes_both_libraries() {
    let mut r = Breaker::Resilience4j(r4j::Breaker::new(count_based(2, 2), 0));
    let mut o = Breaker::Opossum(opossum::Breaker::new(quick(), 0));
    for b in [&mut r, &mut o] {
        assert!(b.allow(0));
        assert!(b.allow(0));
        b.record(0, Outcome::Success, 0);
        b.record(0, Outcome::Timeout, 0); // 50 %: at resilience4j's threshold, above opossum's 1 %
        assert_eq!(b.state(0), O);
        assert!(!b.allow(0));
        let m = b.metrics();
        assert_eq!(
            &m[..3],
            &[("calls", 2.0), ("not_permitted", 1.0), ("opened", 1.0)]
        );
        assert_eq!(&m[3..], &[("successes", 1.0), ("failures", 1.0)]);
    }
    assert_eq!(o.next_timer(), Some(100 * MS));
    assert_eq!(o.state(100 * MS), H);
    assert!(o.allow(100 * MS));
    o.record(100 * MS, Outcome::Ignored, 0); // errorFilter: a success, closes
    assert_eq!(o.state(100 * MS), C);
}

/// opossum's rolling window against a plain list: a fire made after `k` rotations is counted
/// while fewer than B rotations more have happened. Fixed pseudo-random times and phases.
#[test]
fn opossum_window_matches_a_plain_list() {
    let (mut x, buckets) = (0x9e37_79b9_7f4a_7c15u64, 7u64);
    for created in [0, 13 * MS, 999 * MS] {
        let options = opossum::Options {
            rolling_count_timeout: 700 * MS,
            rolling_count_buckets: buckets as u32,
            ..defaults()
        };
        let mut b = opossum::Breaker::new(options, created);
        let rotations = |t: u64| (t - created) / (100 * MS);
        let (mut now, mut fired) = (created, Vec::new());
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            now += (x % 60) * MS;
            b.fire(now);
            b.success(now);
            fired.push(rotations(now));
            let kept = fired
                .iter()
                .filter(|&&k| rotations(now) - k < buckets)
                .count();
            assert_eq!(b.stats(now).fires, kept as u64);
        }
    }
}
