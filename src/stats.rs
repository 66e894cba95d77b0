//! Pure math: confidence intervals, paired differences, queueing-theory formulas.
//!
//! Nothing here knows about the simulator: every function maps numbers to numbers, is
//! deterministic, and never panics. Invalid parameters (an unstable queue, zero servers, a
//! probability outside `[0, 1]`) give NaN, or `None` where a collection is returned.
//!
//! - [`ci`]: sample mean and standard deviation, Student-t confidence intervals, paired
//!   differences for common-random-number comparisons, and a streaming (Welford) accumulator
//!   that merges exactly (Chan et al.).
//! - [`dist`]: the distributions behind the intervals: the normal quantile (Wichura AS 241)
//!   and Student's t CDF and quantile (incomplete beta, refined from Hill's algorithm 396).
//! - [`mser`]: the MSER-5 truncation rule for the initial transient (White 1997), which
//!   `warmup = "auto"` applies to each replication's latency series.
//! - [`theory`]: closed forms for M/M/1, M/M/c (Erlang B and C), M/M/c/K, M/D/1 and M/G/1,
//!   used to check the simulator against theory.
//!
//! ```
//! use scalesim::stats::{ci, theory};
//!
//! let reps = [10.2, 9.8, 10.5, 10.1, 9.9];
//! let iv = ci::t_interval(&reps, 0.95);
//! assert!((iv.mean - 10.1).abs() < 1e-12 && iv.half_width > 0.0);
//!
//! // Four servers, service rate 1, arrivals 3.2: mean response time 1.7455.
//! let w = theory::mmc_mean_response(4, 3.2, 1.0);
//! assert!((w - 1.7455).abs() < 1e-4);
//! ```

pub mod ci;
pub mod dist;
pub mod mser;
pub mod theory;
