//! Observation: what the simulator and the real drivers record, in bounded memory.
//!
//! The [`Recorder`] keeps counters and HdrHistograms per request class and per time bucket.
//! Nothing grows with the number of requests: histograms are fixed-size (three significant digits
//! for totals, two for time buckets) and time buckets are fixed by the horizon. Requests that
//! arrive during the warm-up are served but not counted, so the measured window starts empty of
//! bias and the conservation law `arrived = completed + failed + in flight` holds for it.
//!
//! Shared with the real drivers: the failure kinds ([`ErrorKind`]) and the reduction of a
//! latency histogram to mean and percentiles ([`latency_stats`], in either [`Unit`]).

mod error;
mod recorder;
mod summary;

pub use error::ErrorSet;
pub use recorder::{
    BucketStats, ClassStats, ComponentStats, ErrorKind, Recorder, RepStats, new_histogram,
};
pub use summary::{LatencyStats, Unit, latency_stats};
