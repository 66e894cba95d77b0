#[cfg(feature = "real")]
pub mod real_infra;
