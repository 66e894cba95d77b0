//! Reports: the result schema and its writers.

pub mod summary;
