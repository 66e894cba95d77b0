//! Running the drawing code on the SVG and bitmap backends, and encoding the PNG.
//!
//! Both backends draw into memory. Text metrics (and the bitmap's glyphs) come from DejaVu
//! Sans, registered once as plotters' `sans-serif` family; the SVG names `sans-serif` and
//! lets the viewer pick its own face.

use std::sync::OnceLock;

use plotters::prelude::*;

use super::Plot;
use super::data::Chart;
use super::draw::draw;

/// Chart size in pixels.
pub(super) const SIZE: (u32, u32) = (1000, 600);

/// Why a chart could not be rendered.
#[derive(Debug, thiserror::Error)]
pub(super) enum PlotError {
    /// The embedded font could not be registered.
    #[error("cannot load the embedded DejaVu font")]
    Font,
    /// A plotters backend failed while drawing.
    #[error("cannot draw chart {chart}: {message}")]
    Draw { chart: String, message: String },
    /// PNG encoding failed.
    #[error("cannot encode chart {chart} as PNG")]
    Png {
        chart: String,
        #[source]
        source: png::EncodingError,
    },
}

/// Renders `chart` as SVG and PNG.
pub(super) fn render(chart: &Chart) -> Result<Plot, PlotError> {
    register_fonts()?;
    let svg = svg(chart)?;
    let png = png_bytes(chart)?;
    Ok(Plot {
        name: chart.name.clone(),
        title: chart.title.clone(),
        svg,
        png,
    })
}

fn register_fonts() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = REGISTERED.get_or_init(|| {
        let regular = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
        let bold =
            plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
        regular.is_ok() && bold.is_ok()
    });
    if *ok { Ok(()) } else { Err(PlotError::Font) }
}

fn draw_error(chart: &Chart) -> impl FnOnce(String) -> PlotError + '_ {
    move |message| PlotError::Draw {
        chart: chart.name.clone(),
        message,
    }
}

fn svg(chart: &Chart) -> Result<String, PlotError> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(&root, chart).map_err(|e| draw_error(chart)(e.to_string()))?;
    }
    Ok(text)
}

fn png_bytes(chart: &Chart) -> Result<Vec<u8>, PlotError> {
    let (w, h) = SIZE;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        draw(&root, chart).map_err(|e| draw_error(chart)(e.to_string()))?;
    }
    encode_png(&rgb, SIZE).map_err(|source| PlotError::Png {
        chart: chart.name.clone(),
        source,
    })
}

/// Encodes 8-bit RGB pixels as a PNG file.
fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Default);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::{Report, Summary};

    #[test]
    fn every_chart_of_an_empty_report_renders() {
        let summary: Summary = serde_json::from_str(
            r#"{"schema":1,"scenario":"s","scenario_hash":"h","seed":1,"replications":1,
                "mode":"sim","horizon_s":1.0,"strategies":[]}"#,
        )
        .unwrap();
        let report = Report {
            summary,
            timeseries: vec![],
            cdfs: vec![],
            description: String::new(),
            scenario_text: String::new(),
        };
        for chart in super::super::data::charts(&report) {
            render(&chart).unwrap();
        }
    }

    #[test]
    fn png_has_signature() {
        let bytes = encode_png(&[255; 12], (2, 2)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    }
}
