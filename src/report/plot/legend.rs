//! The legend column and the chart's size: laid out before drawing, from the measured width
//! of every label, so no name is ever cut.
//!
//! The column is as wide as the longest label needs, between [`MIN_WIDTH`] and [`MAX_WIDTH`]
//! pixels; a label wider than that wraps onto more lines (at spaces, or inside a word longer
//! than a line), and the chart grows taller when the rows need it. Category names under bars
//! wrap the same way within their slot.

use super::data::{Body, Chart};

/// Narrowest and widest legend column, pixels.
const MIN_WIDTH: u32 = 180;
const MAX_WIDTH: u32 = 380;
/// Where a label starts in the column (the sample is drawn left of it), pixels.
pub(super) const LABEL_X: i32 = 50;
/// Font sizes of the labels and of the note, pixels.
pub(super) const LABEL_FONT: u32 = 14;
pub(super) const NOTE_FONT: u32 = 12;
/// Line heights, pixels.
pub(super) const LABEL_LINE: i32 = 18;
pub(super) const ENTRY_GAP: i32 = 8;
pub(super) const NOTE_LINE: i32 = 16;
/// Height of the title band, and the least chart size, pixels.
pub(super) const TITLE_BAND: u32 = 56;
pub(super) const MIN_SIZE: (u32, u32) = (1000, 600);
/// Left margin and y label area of the plot, pixels (see `Frame`).
const PLOT_CHROME: u32 = 84 + 12 + 24;

/// The width of `text` at `font` pixels.
pub(super) type Measure<'a> = &'a dyn Fn(&str, u32) -> u32;

/// Where everything goes.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Layout {
    /// The chart size, pixels.
    pub(super) size: (u32, u32),
    /// Width of the legend column.
    pub(super) legend_width: u32,
    /// Each legend entry's label, as lines.
    pub(super) entries: Vec<Vec<String>>,
    /// The note under the entries, as lines.
    pub(super) note: Vec<String>,
    /// Bar charts: each category's name, as lines.
    pub(super) groups: Vec<Vec<String>>,
}

/// The labels of the legend entries of `chart`.
pub(super) fn entry_labels(chart: &Chart) -> Vec<&str> {
    match &chart.body {
        Body::Lines(c) => c.lines.iter().filter_map(|l| l.label.as_deref()).collect(),
        Body::Bars(b) => b.series.iter().map(|s| s.label.as_str()).collect(),
    }
}

/// The note: the chart's own, then which strategies coincide.
fn note_text(chart: &Chart) -> String {
    let mut parts: Vec<String> = chart.note.iter().cloned().collect();
    for group in &chart.identical {
        parts.push(format!("identical: {}", group.join(" = ")));
    }
    parts.join("; ")
}

/// Lays out `chart` with text widths from `measure`.
pub(super) fn layout(chart: &Chart, measure: Measure<'_>) -> Layout {
    let labels = entry_labels(chart);
    let widest = labels
        .iter()
        .map(|l| measure(l, LABEL_FONT))
        .max()
        .unwrap_or(0);
    let legend_width = (widest + LABEL_X as u32 + 12).clamp(MIN_WIDTH, MAX_WIDTH);
    let room = legend_width - LABEL_X as u32 - 8;
    let entries: Vec<Vec<String>> = labels
        .iter()
        .map(|l| wrap(l, room, LABEL_FONT, measure))
        .collect();
    let note = wrap(&note_text(chart), legend_width - 16, NOTE_FONT, measure);
    let groups = match &chart.body {
        Body::Bars(b) => {
            let plot = MIN_SIZE.0 - legend_width - PLOT_CHROME;
            let slot = plot / b.groups.len().max(1) as u32;
            let room = slot.saturating_sub(10).max(40);
            b.groups
                .iter()
                .map(|g| wrap(g, room, LABEL_FONT, measure))
                .collect()
        }
        Body::Lines(_) => Vec::new(),
    };
    let rows: i32 = entries
        .iter()
        .map(|e| e.len() as i32 * LABEL_LINE + ENTRY_GAP)
        .sum();
    let legend = 24 + rows + 12 + note.len() as i32 * NOTE_LINE + 24;
    let height = (TITLE_BAND + legend.max(0) as u32).max(MIN_SIZE.1);
    Layout {
        size: (MIN_SIZE.0, height),
        legend_width,
        entries,
        note,
        groups,
    }
}

/// Splits `text` into lines no wider than `room` pixels at `font`: at spaces, and inside a
/// word that is wider than a line on its own. Every character of `text` but the spaces at
/// the breaks is kept, in order.
pub(super) fn wrap(text: &str, room: u32, font: u32, measure: Measure<'_>) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let joined = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if measure(&joined, font) <= room {
            line = joined;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            let mut longer = line.clone();
            longer.push(c);
            if !line.is_empty() && measure(&longer, font) > room {
                lines.push(std::mem::take(&mut line));
                longer = c.to_string();
            }
            line = longer;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eight pixels a character at 14 px.
    fn mono(text: &str, font: u32) -> u32 {
        text.chars().count() as u32 * font * 8 / 14
    }

    #[test]
    fn wrap_keeps_every_character() {
        let m: Measure<'_> = &mono;
        assert_eq!(
            wrap("whiskers: 95 % CI over replications", 160, 14, m),
            ["whiskers: 95 % CI", "over replications"]
        );
        assert!(wrap("", 100, 14, m).is_empty());
        let long = "a".repeat(50);
        let lines = wrap(&long, 80, 14, m);
        assert_eq!(lines.concat(), long);
        assert!(lines.iter().all(|l| mono(l, 14) <= 80));
    }
}
