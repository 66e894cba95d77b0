mod report;
#[cfg(feature = "real")]
mod real_infra;
