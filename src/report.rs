//! Reports: the result schema and its writers.

mod format;
pub mod summary;
pub mod table;

pub use table::render_table;
