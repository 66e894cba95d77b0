//! Simulated time.

use std::fmt;

/// Simulated time in integer nanoseconds since the start of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub u64);

impl SimTime {
    /// Time zero.
    pub const ZERO: SimTime = SimTime(0);
    /// Nanoseconds per second.
    pub const SECOND: u64 = 1_000_000_000;

    /// From seconds (rounded to the nearest nanosecond; negative and NaN give zero).
    pub fn from_secs_f64(s: f64) -> SimTime {
        SimTime(secs_to_nanos(s))
    }

    /// As seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / Self::SECOND as f64
    }
}

/// Seconds to nanoseconds, rounded, saturating; negative and NaN give zero.
#[inline]
pub(crate) fn secs_to_nanos(s: f64) -> u64 {
    let ns = (s * 1e9).round();
    if ns.is_nan() || ns <= 0.0 {
        0
    } else if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        ns as u64
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}s", self.as_secs_f64())
    }
}
