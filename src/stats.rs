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

pub mod ci;
pub mod dist;
