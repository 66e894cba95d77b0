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
use super::legend::{self, Layout};

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
    let layout = legend::layout(chart, &text_width);
    let svg = svg(chart, &layout)?;
    let png = png_bytes(chart, &layout)?;
    let identical = chart.identical.iter().map(|g| g.join(" = ")).collect();
    Ok(Plot {
        name: chart.name.clone(),
        title: chart.title.clone(),
        svg,
        png,
        identical,
    })
}

/// The width of `text` in pixels at `font` pixels, in the embedded font (registered by
/// [`register_fonts`]); a generous estimate if the font cannot measure it.
pub(super) fn text_width(text: &str, font: u32) -> u32 {
    let desc = FontDesc::new(FontFamily::SansSerif, f64::from(font), FontStyle::Normal);
    match desc.box_size(text) {
        Ok((w, _)) => w,
        Err(_) => text.chars().count() as u32 * font * 7 / 10,
    }
}

pub(super) fn register_fonts() -> Result<(), PlotError> {
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

fn svg(chart: &Chart, layout: &Layout) -> Result<String, PlotError> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, layout.size).into_drawing_area();
        draw(&root, chart, layout).map_err(|e| draw_error(chart)(e.to_string()))?;
    }
    Ok(text)
}

fn png_bytes(chart: &Chart, layout: &Layout) -> Result<Vec<u8>, PlotError> {
    let (w, h) = layout.size;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, layout.size).into_drawing_area();
        draw(&root, chart, layout).map_err(|e| draw_error(chart)(e.to_string()))?;
    }
    encode_png(&rgb, layout.size).map_err(|source| PlotError::Png {
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
        for chart in super::super::data::charts(&report).0 {
            render(&chart).unwrap();
        }
    }

    #[test]
    fn png_has_signature() {
        let bytes = encode_png(&[255; 12], (2, 2)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    }
}
