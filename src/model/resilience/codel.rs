//! CoDel (Controlled Delay, RFC 8289): active queue management that sheds by queueing delay.
//!
//! Requests are timestamped when they join the queue. At dequeue, once the sojourn time has
//! stayed above `target` for a whole `interval`, CoDel drops the request at the head and
//! enters the dropping state, where it drops again at intervals `interval / sqrt(count)`,
//! shrinking as drops accumulate, until a request's sojourn falls below `target` (or the queue
//! empties). A new dropping state starts from the previous drop rate when it follows the
//! last one closely (within 16 intervals), as the RFC's pseudo-code does. A standing queue is
//! drained; a burst that clears within an interval is left alone.

use std::collections::VecDeque;

/// CoDel's state for one queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Codel {
    target: u64,
    interval: u64,
    first_above: u64,
    drop_next: u64,
    count: u32,
    last_count: u32,
    dropping: bool,
    /// Requests dropped.
    pub dropped: u64,
}

impl Codel {
    /// CoDel with `target` and `interval`, ns (the RFC's defaults are 5 ms and 100 ms).
    pub fn new(target: u64, interval: u64) -> Codel {
        Codel {
            target,
            interval,
            first_above: 0,
            drop_next: 0,
            count: 0,
            last_count: 0,
            dropping: false,
            dropped: 0,
        }
    }

    fn control_law(&self, t: u64, count: u32) -> u64 {
        t + (self.interval as f64 / f64::from(count.max(1)).sqrt()) as u64
    }

    /// Pops the head of `queue` and says whether CoDel may drop it (`dodequeue`).
    fn pop<T>(
        &mut self,
        now: u64,
        queue: &mut VecDeque<T>,
        since: &impl Fn(&T) -> u64,
    ) -> Option<(T, bool)> {
        let item = queue.pop_front()?;
        let sojourn = now.saturating_sub(since(&item));
        let mut ok_to_drop = false;
        if sojourn < self.target || queue.is_empty() {
            self.first_above = 0;
        } else if self.first_above == 0 {
            self.first_above = now + self.interval;
        } else if now >= self.first_above {
            ok_to_drop = true;
        }
        Some((item, ok_to_drop))
    }

    /// The next request to serve from `queue` at `now`; those CoDel drops on the way go to
    /// `drop`. `since` reads a request's enqueue time.
    pub fn dequeue<T>(
        &mut self,
        now: u64,
        queue: &mut VecDeque<T>,
        since: impl Fn(&T) -> u64,
        mut drop: impl FnMut(T),
    ) -> Option<T> {
        let Some((mut item, mut ok)) = self.pop(now, queue, &since) else {
            self.dropping = false;
            return None;
        };
        if self.dropping {
            if !ok {
                self.dropping = false;
            }
            while self.dropping && now >= self.drop_next {
                drop(item);
                self.dropped += 1;
                self.count += 1;
                match self.pop(now, queue, &since) {
                    None => {
                        self.dropping = false;
                        return None;
                    }
                    Some((next, next_ok)) => {
                        (item, ok) = (next, next_ok);
                        if ok {
                            self.drop_next = self.control_law(self.drop_next, self.count);
                        } else {
                            self.dropping = false;
                        }
                    }
                }
            }
        } else if ok {
            drop(item);
            self.dropped += 1;
            let next = self.pop(now, queue, &since);
            self.dropping = true;
            let delta = self.count.saturating_sub(self.last_count);
            self.count = if delta > 1 && now.saturating_sub(self.drop_next) < 16 * self.interval {
                delta
            } else {
                1
            };
            self.drop_next = self.control_law(now, self.count);
            self.last_count = self.count;
            return next.map(|(i, _)| i);
        }
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    /// Serves one request per millisecond from a queue fed one request per millisecond plus
    /// one more every `extra_every` (0: none); returns the drops and the last sojourn served.
    fn standing(extra_every: u64, rounds: u64) -> (u64, u64) {
        let mut c = Codel::new(5 * MS, 100 * MS);
        let mut q: VecDeque<u64> = VecDeque::new();
        let mut last = 0;
        for k in 0..rounds {
            let now = k * MS;
            q.push_back(now);
            if extra_every > 0 && k % extra_every == 0 {
                q.push_back(now);
            }
            if let Some(t) = c.dequeue(now, &mut q, |t| *t, |_| {}) {
                last = now - t;
            }
        }
        (c.dropped, last)
    }

    #[test]
    fn a_queue_that_keeps_up_is_never_touched() {
        assert_eq!(standing(0, 10_000).0, 0);
    }

    #[test]
    fn an_overloaded_queue_is_held_near_the_target() {
        // 20 % overload of unresponsive traffic: without CoDel the sojourn would grow by
        // 200 ms a second, to 4 s over the run.
        let (dropped, last) = standing(5, 20_000);
        assert!(dropped > 3_000, "dropped {dropped}");
        assert!(last < 50 * MS, "sojourn {} ms", last / MS);
    }

    #[test]
    fn drops_only_after_a_full_interval_above_target() {
        let mut c = Codel::new(5 * MS, 100 * MS);
        let mut q: VecDeque<u64> = (0..1000).map(|_| 0).collect();
        // Sojourn 10 ms at t = 10 ms: above target, first_above set to 110 ms.
        assert!(c.dequeue(10 * MS, &mut q, |t| *t, |_| {}).is_some());
        assert!(c.dequeue(109 * MS, &mut q, |t| *t, |_| {}).is_some());
        assert_eq!(c.dropped, 0);
        c.dequeue(110 * MS, &mut q, |t| *t, |_| {});
        assert_eq!(c.dropped, 1);
    }
}
