mod report;
#[cfg(feature = "real")]
mod real_infra;
#[cfg(feature = "real")]
mod real_load;
#[cfg(feature = "real")]
mod real_session;
