#[cfg(feature = "real")]
mod real_load;
