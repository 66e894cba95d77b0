//! Observation: what the simulator and the real drivers record, in bounded memory.
//!
//! The [`Recorder`] keeps counters and HdrHistograms per request class and per time bucket.
//! Nothing grows with the number of requests: histograms are fixed-size (three significant digits
//! for totals, two for time buckets) and time buckets are fixed by the horizon. Requests that
//! arrive during the warm-up are served but not counted, so the measured window starts empty of
//! bias and the conservation law `arrived = completed + failed + in flight` holds for it.

mod error;
mod recorder;

pub use recorder::{
    BucketStats, ClassStats, ComponentStats, ErrorKind, Recorder, RepStats, new_histogram,
};
