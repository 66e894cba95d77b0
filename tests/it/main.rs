mod auto;
mod autoscale;
mod caching;
mod ci_recipe;
mod cli;
mod common;
mod determinism;
mod diff;
mod flows;
mod fuzz;
mod patterns;
mod pools;
mod properties;
mod readme;
#[cfg(feature = "real")]
mod real_infra;
#[cfg(feature = "real")]
mod real_load;
#[cfg(feature = "real")]
mod real_session;
mod replication;
mod report;
mod resilience;
mod sessions;
mod sims;
mod study;
