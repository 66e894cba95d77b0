//! The simulated system: workload sources, stations and the routing of requests along their
//! class's path.
//!
//! A [`System`] owns every component and the event calendar of one replication. Component
//! indices are fixed: 0 is the workload, 1 the router (delays and time-series sampling), and
//! `2 + i` is station `i`. Stations report finished visits as data ([`station::Outcome`]) into a
//! reusable buffer; the system then moves each request to its next step, so no component ever
//! holds a reference to another.
//!
//! ```text
//!  workload ──► step 0 ──► step 1 ──► ... ──► done (record latency; closed users think again)
//!               Visit(s)   Fork[a,b,c] (join when all branches end)   Delay(dist)
//! ```

pub mod dist;
pub mod request;
pub mod station;
mod system;
pub mod workload;

pub use system::{ClassSpec, Step, System, SystemSpec};
