mod cli;
mod common;
mod determinism;
mod fuzz;
mod properties;
mod report;
mod sims;
#[cfg(feature = "real")]
mod real_infra;
