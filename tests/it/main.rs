mod report;
#[cfg(feature = "real")]
mod real_infra;
#[cfg(feature = "real")]
mod real_load;
