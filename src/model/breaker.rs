//! Circuit breakers with the exact semantics of two libraries: resilience4j (Java) and opossum
//! (Node).
//!
//! Pure and engine-free, like [`super::balance`]: a breaker is told the simulated time (`u64`
//! ns from the start of the run) with every call, and answers whether a call may go, what
//! state it is in and when it next needs waking. The two libraries disagree on almost every
//! rule, and a study of breakers is only as good as its copy of the one it claims to model, so
//! each is a faithful port of its library's state machine, checked against that library's own
//! test suite (ported as data in `tests`), not a blend.
//!
//! | | [`resilience4j`] | [`opossum`] |
//! |---|---|---|
//! | window | last N calls, or N epoch seconds; fresh on every state entry | B buckets rotated every `rolling_count_timeout / B` from construction; never reset |
//! | opens when | rate ≥ threshold (failures or slow calls), after `minimum_calls` | failure rate > threshold, after `volume_threshold` fires (rejections count) |
//! | evaluated | after every recorded outcome | after every failure |
//! | OPEN → HALF_OPEN | first acquire strictly after the wait (or a timer if automatic) | a timer, `reset_timeout` after opening |
//! | HALF_OPEN | P trial calls, decided on their rates | one trial; its outcome decides |
//!
//! Timers are lazy: every call applies the timers due at or before its `now` first, in time
//! order, so a breaker left alone between calls behaves as the library with its timers. A
//! simulator that must see a timer's effect when it happens (a state change in a trace, say)
//! wakes the breaker at [`Breaker::next_timer`].
//!
//! The simulator sees one [`Breaker`]: [`Breaker::allow`] before a call, [`Breaker::record`]
//! once for every allowed call. Nothing allocates per call: the windows are sized when the
//! breaker is built.

pub mod opossum;
pub mod resilience4j;

#[cfg(test)]
mod tests;

/// The state of a breaker (the union of both libraries' states; opossum uses the first three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Calls go through and are counted.
    Closed,
    /// Calls are rejected.
    Open,
    /// Trial calls go through; their outcome decides.
    HalfOpen,
    /// resilience4j: every call goes through, nothing is recorded.
    Disabled,
    /// resilience4j: every call is rejected until an explicit transition.
    ForcedOpen,
    /// resilience4j: every call goes through and is recorded, the state never changes.
    MetricsOnly,
}

/// How an allowed call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// It succeeded.
    Success,
    /// It failed.
    Failure,
    /// It timed out (a failure for resilience4j; a timeout and a failure for opossum).
    Timeout,
    /// It failed with an error the breaker is told to ignore: resilience4j's ignored exception
    /// (not counted, permit returned); opossum has no neutral outcome and its `errorFilter`
    /// counts the call as a success.
    Ignored,
}

/// A circuit breaker of either library, as the simulator uses it.
#[derive(Debug, Clone)]
pub enum Breaker {
    /// resilience4j's state machine.
    Resilience4j(resilience4j::Breaker),
    /// opossum's state machine.
    Opossum(opossum::Breaker),
}

impl Breaker {
    /// Whether a call may start at `now` (counts the attempt either way).
    pub fn allow(&mut self, now: u64) -> bool {
        match self {
            Breaker::Resilience4j(b) => b.try_acquire(now),
            Breaker::Opossum(b) => b.fire(now) == opossum::Admission::Admitted,
        }
    }

    /// Records how an allowed call ended at `now`, after `duration` ns.
    pub fn record(&mut self, now: u64, outcome: Outcome, duration: u64) {
        match self {
            Breaker::Resilience4j(b) => match outcome {
                Outcome::Success => b.on_success(now, duration),
                Outcome::Failure | Outcome::Timeout => b.on_error(now, duration),
                Outcome::Ignored => b.on_ignored(now),
            },
            Breaker::Opossum(b) => match outcome {
                Outcome::Success => b.success(now),
                Outcome::Failure => b.failure(now),
                Outcome::Timeout => b.timeout(now),
                Outcome::Ignored => b.filtered_error(now),
            },
        }
    }

    /// The state at `now`, after the timers due by then.
    pub fn state(&mut self, now: u64) -> State {
        match self {
            Breaker::Resilience4j(b) => b.state(now),
            Breaker::Opossum(b) => b.state(now),
        }
    }

    /// When the next timer changes the state, if one is pending.
    pub fn next_timer(&self) -> Option<u64> {
        match self {
            Breaker::Resilience4j(b) => b.next_timer(),
            Breaker::Opossum(b) => b.next_timer(),
        }
    }

    /// Lifetime counters by name: `calls` (allowed), `not_permitted` (rejected), `opened`
    /// (transitions into OPEN), `successes`, `failures`.
    pub fn metrics(&self) -> Vec<(&'static str, f64)> {
        let (calls, rejected, opened, successes, failures) = match self {
            Breaker::Resilience4j(b) => {
                let t = b.totals();
                (
                    t.permitted,
                    t.not_permitted,
                    t.opened,
                    t.successes,
                    t.errors,
                )
            }
            Breaker::Opossum(b) => {
                let t = b.lifetime();
                (t.admitted, t.rejected, b.opened(), t.successes, t.failures)
            }
        };
        vec![
            ("calls", calls as f64),
            ("not_permitted", rejected as f64),
            ("opened", opened as f64),
            ("successes", successes as f64),
            ("failures", failures as f64),
        ]
    }
}
