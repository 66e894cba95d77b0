//! A bulkhead: at most `limit` calls in flight to one dependency; a call over the limit is
//! refused at once (it does not queue), so a slow dependency cannot take every worker of its
//! callers.
//!
//! The limit is fixed, or adapts to the latency the callers see, after Netflix's
//! concurrency-limits library:
//! - **AIMD**: a call that failed or took longer than `timeout` multiplies the limit by
//!   `backoff` (0.9); a success while at least half the limit is in use adds one.
//! - **Gradient** (after the library's Gradient2): a long-term average of the call latency
//!   (exponential, 600 calls) stands for the no-load latency, a short-term one (10 calls) for
//!   the current latency; after each call `gradient = clamp(tolerance * long / short, 0.5, 1)`
//!   and `limit <- (1 - smoothing) * limit + smoothing * (limit * gradient + 4)` (the 4 is the
//!   library's default queue allowance). While latency holds, the limit grows; when it rises
//!   above `tolerance` times its long-run level, the limit shrinks. A failure multiplies the
//!   limit by `backoff`.
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
        /// Tolerated ratio of the current latency to its long-run level (1.5).
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
    rtt_long: f64,
    rtt_short: f64,
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
            rtt_long: 0.0,
            rtt_short: 0.0,
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
                    let rtt = rtt.max(1) as f64;
                    if self.rtt_long == 0.0 {
                        (self.rtt_long, self.rtt_short) = (rtt, rtt);
                    }
                    self.rtt_long += (rtt - self.rtt_long) * 2.0 / 601.0;
                    self.rtt_short += (rtt - self.rtt_short) * 2.0 / 11.0;
                    let gradient = (tolerance * self.rtt_long / self.rtt_short).clamp(0.5, 1.0);
                    let target = l * gradient + 4.0;
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
        assert!(grown > 80, "steady latency grows the limit: {grown}");
        for _ in 0..50 {
            b.try_acquire();
            b.release(100, true); // 10x the long-run latency: gradient 0.5
        }
        assert!(b.limit() < grown / 2, "{} vs {grown}", b.limit());
        assert!(b.limit() >= 5);
    }
}
