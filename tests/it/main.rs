mod cli;
mod common;
mod determinism;
mod report;
mod sims;
#[cfg(feature = "real")]
mod real_infra;
