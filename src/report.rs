//! Reports: the result schema and its writers.

mod format;
pub mod html;
pub mod plot;
pub mod summary;
pub mod table;
pub mod tidy;

pub use html::html;
pub use plot::{Plot, plots};
pub use table::render_table;
pub use tidy::{summary_csv, timeseries_csv};
