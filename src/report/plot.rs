//! Charts with plotters, each rendered twice: PNG (bitmap, 1000 pixels wide, at least 600
//! high) and SVG.
//!
//! [`plots`] turns a [`Report`] into these charts, each only when its data exist:
//!
//! | file stem | chart | data |
//! |---|---|---|
//! | `latency_vs_load` | p99 (thick) and p50 (thin) latency per strategy vs the swept parameter, with its unit | `summary.points` |
//! | `cost_vs_load` | cost per hour per strategy vs the swept parameter | `summary.points` |
//! | `latency_cdf` | empirical latency CDF per strategy, log x axis when the range is wide | `cdfs` |
//! | `timeseries_<metric>` | one chart per metric, one line per strategy (mean over replications) | `timeseries` |
//! | `latency_bars` | mean and p99 per strategy with 95 % CI whiskers | `summary.strategies` |
//! | `cost_per_million_vs_load` | cost per million requests per strategy vs the swept parameter (a study's linear-cost chart) | `summary.points`, with a study |
//! | `cost_vs_p99` | every strategy at every load and sweep point: cost per hour against p99, markers only | `summary.loads`, `summary.points`, with a study |
//! | `predicted_vs_measured_<throughput, p50, p99>` | a real run's figure (x) against the simulator's prediction (y) per strategy and load, with the line y = x | `summary.comparison` |
//! | `latency_breakdown` | mean time per request in the four components holding the most (the rest as one bar), per strategy, at the first objective's load | `summary.study.breakdown` |
//!
//! The rules every chart follows:
//! - titles and axes in words with units (`App: busy workers`, `Busy workers (time average)`;
//!   the table is `report::labels`), and a sweep's x axis carries its parameter's unit;
//! - each strategy keeps one colour, dash pattern, marker and width everywhere, drawn in a
//!   fixed order (the report's), so coinciding curves stay distinguishable; strategies whose
//!   series are identical are named in the legend and under the chart in the HTML;
//! - a time series whose every line is flat (all zeros, or a constant such as a fixed fleet)
//!   is not drawn: [`folded`] gives one line of text for it instead;
//! - the warm-up is shaded on time series, and the `[slo]` thresholds are dashed red lines on
//!   the charts they apply to (latency percentiles, throughput);
//! - the legend column is as wide as its longest name needs, wraps what is wider, and the
//!   chart grows taller rather than dropping an entry: no name is cut.
//!
//! The work is split in four: `plot/data.rs` turns the report into chart specifications
//! (plain data: lines, bars, labels; non-finite values dropped), `plot/axis.rs` chooses ranges
//! and ticks (padding empty or flat data so no range is ever empty), `plot/legend.rs` lays out
//! the legend and sizes the chart, and `plot/draw.rs` draws a specification on any plotters
//! backend, which `plot/render.rs` runs for PNG and SVG. Text is drawn with the DejaVu Sans
//! font embedded in the binary, so rendering needs no system fonts.
//!
//! Without the `plot` feature, [`plots`] and [`folded`] return nothing and the HTML page has
//! no charts.

use super::summary::Report;

#[cfg(feature = "plot")]
mod axis;
#[cfg(feature = "plot")]
mod data;
#[cfg(feature = "plot")]
mod draw;
#[cfg(feature = "plot")]
mod legend;
#[cfg(feature = "plot")]
mod render;

/// One rendered chart.
#[derive(Clone, PartialEq, Eq)]
pub struct Plot {
    /// File stem, e.g. `latency_cdf` (files `plots/latency_cdf.png` and `.svg`).
    pub name: String,
    /// Human title, also drawn in the chart.
    pub title: String,
    /// The SVG document.
    pub svg: String,
    /// The PNG file bytes.
    pub png: Vec<u8>,
    /// Strategies whose series in this chart are identical, one `a = b` per group.
    pub identical: Vec<String>,
}

impl std::fmt::Debug for Plot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plot")
            .field("name", &self.name)
            .field("title", &self.title)
            .field("svg_bytes", &self.svg.len())
            .field("png_bytes", &self.png.len())
            .field("identical", &self.identical)
            .finish()
    }
}

/// Every chart the report has data for, in the order of the table in the module docs.
///
/// A chart that fails to render (plotters reports only backend or font failures, which the
/// embedded font and in-memory backends do not produce) is left out rather than failing the
/// whole report.
pub fn plots(report: &Report) -> Vec<Plot> {
    #[cfg(feature = "plot")]
    {
        data::charts(report)
            .0
            .iter()
            .filter_map(|chart| render::render(chart).ok())
            .collect()
    }
    #[cfg(not(feature = "plot"))]
    {
        let _ = report;
        Vec::new()
    }
}

/// One line of text per chart left out because it says nothing (every line flat), e.g.
/// `App: instances (instances.app): constant 12 in every strategy`.
pub fn folded(report: &Report) -> Vec<String> {
    #[cfg(feature = "plot")]
    {
        data::charts(report).1
    }
    #[cfg(not(feature = "plot"))]
    {
        let _ = report;
        Vec::new()
    }
}
