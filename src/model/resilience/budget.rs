//! Retry budgets: a retry happens only while the budget allows it, so a dependency that fails
//! everything gets a bounded multiple of its normal load instead of `attempts` times it.
//!
//! - **Token bucket** (gRPC retry throttling, gRFC A6): the count starts at `max_tokens`; each
//!   failed attempt takes 1 token, each successful one gives back `token_ratio`, clamped to
//!   `[0, max_tokens]`; retries are allowed only while the count is above `max_tokens / 2`.
//! - **Share of active requests** (Envoy's `retry_budget`): a retry may start while the
//!   retries in flight stay below `max(min_concurrency, percent % of the attempts in
//!   flight)`.

/// A retry budget shared by the scopes that name it.
#[derive(Debug, Clone, PartialEq)]
pub enum Budget {
    /// gRPC's token bucket.
    Tokens {
        /// Bucket size.
        max_tokens: f64,
        /// Tokens a success gives back.
        token_ratio: f64,
        /// Current count.
        tokens: f64,
    },
    /// Envoy's share of the active requests.
    Share {
        /// Percent of the attempts in flight that may be retries.
        percent: f64,
        /// Retries in flight always allowed.
        min_concurrency: u32,
        /// Attempts in flight (first tries and retries).
        active: u32,
        /// Retries in flight.
        active_retries: u32,
    },
}

impl Budget {
    /// gRPC's token bucket, full.
    pub fn tokens(max_tokens: f64, token_ratio: f64) -> Budget {
        Budget::Tokens {
            max_tokens,
            token_ratio,
            tokens: max_tokens,
        }
    }

    /// Envoy's budget, nothing in flight.
    pub fn share(percent: f64, min_concurrency: u32) -> Budget {
        Budget::Share {
            percent,
            min_concurrency,
            active: 0,
            active_retries: 0,
        }
    }

    /// Whether a retry may start now.
    pub fn allows_retry(&self) -> bool {
        match *self {
            Budget::Tokens {
                max_tokens, tokens, ..
            } => tokens > max_tokens / 2.0,
            Budget::Share {
                percent,
                min_concurrency,
                active,
                active_retries,
            } => {
                let limit = (percent / 100.0 * f64::from(active)).max(f64::from(min_concurrency));
                f64::from(active_retries) < limit
            }
        }
    }

    /// An attempt starts (`retry`: it is not the first).
    pub fn start(&mut self, retry: bool) {
        if let Budget::Share {
            active,
            active_retries,
            ..
        } = self
        {
            *active += 1;
            *active_retries += u32::from(retry);
        }
    }

    /// An attempt ended (`retry` as it started), successfully or not.
    pub fn end(&mut self, retry: bool, ok: bool) {
        match self {
            Budget::Tokens {
                max_tokens,
                token_ratio,
                tokens,
            } => {
                *tokens = if ok {
                    (*tokens + *token_ratio).min(*max_tokens)
                } else {
                    (*tokens - 1.0).max(0.0)
                };
            }
            Budget::Share {
                active,
                active_retries,
                ..
            } => {
                *active = active.saturating_sub(1);
                if retry {
                    *active_retries = active_retries.saturating_sub(1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_follows_grpc_retry_throttling() {
        // maxTokens 10, tokenRatio 0.1: threshold 5.
        let mut b = Budget::tokens(10.0, 0.1);
        assert!(b.allows_retry());
        for _ in 0..4 {
            b.end(false, false);
        }
        assert!(b.allows_retry(), "6 tokens > 5");
        b.end(false, false);
        assert!(!b.allows_retry(), "5 tokens is not above 5");
        // Ten successes give one token back.
        for _ in 0..10 {
            b.end(false, true);
        }
        assert!(b.allows_retry());
        // Never below 0 nor above the bucket.
        for _ in 0..100 {
            b.end(false, false);
        }
        let Budget::Tokens { tokens, .. } = b else {
            unreachable!()
        };
        assert_eq!(tokens, 0.0);
        for _ in 0..1000 {
            b.end(false, true);
        }
        let Budget::Tokens { tokens, .. } = b else {
            unreachable!()
        };
        assert!((tokens - 10.0).abs() < 1e-9);
    }

    #[test]
    fn share_budget_follows_envoy() {
        // 20 % of active attempts, at least 3 retries.
        let mut b = Budget::share(20.0, 3);
        for _ in 0..10 {
            b.start(false);
        }
        for _ in 0..3 {
            assert!(b.allows_retry());
            b.start(true);
        }
        // 13 active, 3 retries: limit max(3, 2.6) = 3.
        assert!(!b.allows_retry());
        for _ in 0..10 {
            b.start(false);
        }
        // 23 active: limit 4.6.
        assert!(b.allows_retry());
        b.end(true, false);
        b.end(true, true);
        let Budget::Share {
            active,
            active_retries,
            ..
        } = b
        else {
            unreachable!()
        };
        assert_eq!((active, active_retries), (21, 1));
    }
}
