mod cli;
mod common;
mod report;
mod sims;
#[cfg(feature = "real")]
mod real_infra;
