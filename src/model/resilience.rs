//! Resilience policies that wrap a call: backoff between retries, retry budgets, bulkheads,
//! and the analytic availability of an architecture. Pure: no engine types, so tests and
//! benchmarks call them directly, and the simulator's try scopes ([`super::program::TrySpec`])
//! hold them.
//!
//! | file | what |
//! |---|---|
//! | [`backoff`] | the sleep before retry `n`: none, constant, exponential with a cap, and the AWS study's full, equal and decorrelated jitter |
//! | [`budget`] | retry budgets: gRPC's token bucket (gRFC A6 retry throttling) and Envoy's share of active requests |
//! | [`codel`] | CoDel (RFC 8289): shed by queueing delay at dequeue |
//! | [`bulkhead`] | a concurrent-call limit, fixed or adaptive (gradient, as Netflix's concurrency-limits) |
//! | [`availability`] | steady-state availability from MTBF/MTTR, series and parallel (k-of-n) composition, downtime per year |
//!
//! The circuit breakers live beside them in [`super::breaker`].

pub mod availability;
pub mod backoff;
pub mod budget;
pub mod bulkhead;
pub mod codel;

pub use backoff::Backoff;
pub use budget::Budget;
pub use bulkhead::Bulkhead;
