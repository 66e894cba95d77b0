//! A bulkhead: at most `limit` calls in flight to one dependency; a call over the limit is
//! refused at once (it does not queue), so a slow dependency cannot take every worker of its
//! callers.
//!
//! The limit is fixed, or adapts to the latency the callers see, after Netflix's
//! concurrency-limits library:
//! - **AIMD**: a call that failed or took longer than `timeout` multiplies the limit by
//!   `backoff` (0.9); a success while at least half the limit is in use adds one.
//! - **Gradient**: after each call, `gradient = clamp(tolerance * rtt_min / rtt, 0.5, 1)` and
//!   `limit <- (1 - smoothing) * limit + smoothing * (limit * gradient + sqrt(limit))`, where
//!   `rtt_min` is the shortest call seen (the no-load latency); a failure multiplies the
//!   limit by `backoff`. The library's periodic re-probe of `rtt_min` is left out.
//!
//! Limits stay within `[min, max]`.

/// How the limit moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// A fixed limit.
    Fixed,
    /// Additive increase, multiplicative decrease.
    Aimd {
        /// Calls longer than this count as drops, ns.
        timeout: u64,
    },
    /// Latency gradient.
    Gradient {
        /// Tolerated ratio of latency to the no-load latency (2.0).
        tolerance: f64,
        /// Weight of each new estimate (0.2).
        smoothing: f64,
    },
}

/// A concurrency limit shared by the scopes that name it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bulkhead {
    kind: Limit,
    limit: f64,
    min: f64,
    max: f64,
    backoff: f64,
    in_flight: u32,
    rtt_min: u64,
    /// Calls refused because the limit was reached.
    pub rejected: u64,
    /// Calls admitted.
    pub admitted: u64,
}

impl Bulkhead {
    /// A fixed limit of `limit` calls.
    pub fn fixed(limit: u32) -> Bulkhead {
        Bulkhead::new(Limit::Fixed, limit, limit, limit)
    }

    /// An adaptive limit starting at `initial`, kept within `[min, max]`.
    pub fn new(kind: Limit, initial: u32, min: u32, max: u32) -> Bulkhead {
        Bulkhead {
            kind,
            limit: f64::from(initial),
            min: f64::from(min.max(1)),
            max: f64::from(max.max(min).max(1)),
            backoff: 0.9,
            in_flight: 0,
            rtt_min: u64::MAX,
            rejected: 0,
            admitted: 0,
        }
    }

    /// The current limit (whole calls).
    pub fn limit(&self) -> u32 {
        self.limit as u32
    }

    /// Calls in flight.
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// Takes a slot if one is free.
    pub fn try_acquire(&mut self) -> bool {
        if self.in_flight >= self.limit() {
            self.rejected += 1;
            return false;
        }
        self.in_flight += 1;
        self.admitted += 1;
        true
    }

    /// A call admitted earlier ended after `rtt` ns; `ok` is false for a failure or timeout.
    pub fn release(&mut self, rtt: u64, ok: bool) {
        let in_flight = self.in_flight;
        self.in_flight = self.in_flight.saturating_sub(1);
        let l = self.limit;
        self.limit = match self.kind {
            Limit::Fixed => return,
            Limit::Aimd { timeout } => {
                if !ok || rtt > timeout {
                    (l * self.backoff).floor()
                } else if f64::from(in_flight) * 2.0 >= l {
                    l + 1.0
                } else {
                    l
                }
            }
            Limit::Gradient {
                tolerance,
                smoothing,
            } => {
                if ok {
                    self.rtt_min = self.rtt_min.min(rtt.max(1));
                    let gradient =
                        (tolerance * self.rtt_min as f64 / rtt.max(1) as f64).clamp(0.5, 1.0);
                    let target = l * gradient + l.sqrt();
                    (1.0 - smoothing) * l + smoothing * target
                } else {
                    l * self.backoff
                }
            }
        }
        .clamp(self.min, self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_limit_refuses_the_excess() {
        let mut b = Bulkhead::fixed(2);
        assert!(b.try_acquire() && b.try_acquire());
        assert!(!b.try_acquire());
        b.release(5, true);
        assert!(b.try_acquire());
        assert_eq!((b.admitted, b.rejected, b.limit()), (3, 1, 2));
    }

    #[test]
    fn aimd_grows_under_use_and_backs_off_on_drops() {
        let mut b = Bulkhead::new(Limit::Aimd { timeout: 100 }, 10, 1, 100);
        // Five in flight of ten: each success adds one.
        for _ in 0..5 {
            b.try_acquire();
        }
        b.release(10, true);
        assert_eq!(b.limit(), 11);
        // A slow call counts as a drop: floor(11 * 0.9) = 9.
        b.release(500, true);
        assert_eq!(b.limit(), 9);
        // Lightly used (one in flight of nine): no growth.
        b.release(10, true);
        b.release(10, true);
        assert_eq!(b.limit(), 9);
    }

    #[test]
    fn gradient_shrinks_when_latency_grows_and_recovers() {
        let mut b = Bulkhead::new(
            Limit::Gradient {
                tolerance: 2.0,
                smoothing: 0.2,
            },
            50,
            5,
            500,
        );
        for _ in 0..50 {
            b.try_acquire();
            b.release(10, true);
        }
        let grown = b.limit();
        assert!(grown > 50, "no-load latency grows the limit: {grown}");
        for _ in 0..50 {
            b.try_acquire();
            b.release(100, true); // 10x the no-load latency: gradient 0.5
        }
        assert!(b.limit() < grown / 2, "{} vs {grown}", b.limit());
        assert!(b.limit() >= 5);
    }
}
