//! Reports: the result schema and its writers.
//!
//! Every writer is a pure function of a [`Report`] (plus, for the files, a [`Manifest`]); none
//! of them runs a simulation or reads the clock, so the same results always give the same
//! bytes. The writers and what they produce:
//!
//! | writer | output |
//! |---|---|
//! | [`render_table`] | the terminal comparison table (strategies as rows, CIs, SLO verdicts) |
//! | [`summary_json`] | `summary.json`, exactly `serde_json` of [`Summary`] |
//! | [`summary_csv`], [`timeseries_csv`] | tidy long-form CSV for pandas / R |
//! | [`plots`] | PNG + SVG charts with plotters (empty without the `plot` feature) |
//! | [`html`](fn@html) | one self-contained page: inline CSS and SVG, no scripts, no network |
//! | [`write_all`] | all of the above into a directory, atomically per file |
//! | [`diff::render`] | `scalesim diff`: two results compared, changed rows only (or all) |
//!
//! [`write_all`] renders everything in memory first, writes it into a staging directory
//! `out/.tmp-*` (each file fsync'ed), and only then renames the files into `out/`, so a failure
//! never leaves a half-written file behind; `manifest.json` is renamed last and so marks a
//! complete report.
//!
//! ```
//! use scalesim::report::{self, summary::{Summary, StrategySummary, SCHEMA_VERSION}};
//!
//! let summary = Summary {
//!     schema: SCHEMA_VERSION,
//!     scenario: "shop".into(),
//!     scenario_hash: "ab12".into(),
//!     seed: 7,
//!     replications: 5,
//!     mode: "sim".into(),
//!     horizon_s: 600.0,
//!     warmup_s: 60.0,
//!     strategies: vec![StrategySummary { name: "cache-aside".into(), ..Default::default() }],
//!     points: vec![],
//!     capacity: vec![],
//!     cost_growth: vec![],
//!     auto_replications: None,
//!     loads: vec![],
//!     study: None,
//!     comparison: None,
//! };
//! let table = report::render_table(&summary, false);
//! assert!(table.contains("cache-aside"));
//! let csv = report::summary_csv(&summary);
//! assert!(csv.starts_with("scenario,point_parameter,point_value,strategy,class,component,metric,value,ci95"));
//! ```

pub mod compare;
pub mod diff;
mod files;
pub(crate) mod format;
pub mod html;
pub mod labels;
pub mod plot;
pub mod study;
pub mod summary;
pub mod table;
pub mod tidy;

pub use files::{
    Formats, Manifest, ReportError, RunFacts, Written, summary_json, write_all, write_atomic,
};
pub use html::html;
pub use plot::{Plot, plots};
pub use summary::{Report, SeriesRow, Summary};
pub use table::render_table;
pub use tidy::{summary_csv, timeseries_csv};
