//! Axis ranges and ticks, chosen by us rather than by plotters.
//!
//! Ticks fall on 1-2-5 steps (linear) or on 1, 2, 5 × 10ᵏ (logarithmic, where the axis works
//! in log₁₀ space and labels show the real values). Degenerate data never yield an empty range:
//! no data gives `0..1`, a single value is padded on both sides. Tick generation is by index and
//! capped, so a span tiny next to its magnitude cannot loop or flood the axis.

/// One axis: the drawn range, bold ticks with labels, light grid lines. It is itself the
/// plotters coordinate (see the [`Ranged`] impl), so plotters draws exactly our ticks.
#[derive(Clone, Debug)]
pub(super) struct Axis {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) ticks: Vec<f64>,
    pub(super) minor: Vec<f64>,
    /// Coordinates are log₁₀ of the values.
    pub(super) log: bool,
    /// Ticks are category slots (no vertical grid lines).
    pub(super) categorical: bool,
    /// Linear tick step, which sets the label precision.
    step: f64,
}

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

/// Roughly how many labelled ticks an axis gets.
const TARGET_TICKS: f64 = 6.0;
/// Most ticks an axis ever gets.
const MAX_TICKS: i64 = 40;

impl Axis {
    /// A linear axis spanning the data exactly (x axes: time, load).
    pub(super) fn exact(values: impl Iterator<Item = f64>) -> Self {
        let (lo, hi) = pad_flat(extent(values).unwrap_or((0.0, 1.0)));
        Self::linear(lo, hi, false)
    }

    /// A linear axis from zero (or the minimum, if negative) to a little above the maximum,
    /// rounded out to whole ticks (y axes).
    pub(super) fn from_zero(values: impl Iterator<Item = f64>) -> Self {
        let (lo, hi) = extent(values).unwrap_or((0.0, 1.0));
        let (lo, hi) = (lo.min(0.0), hi.max(0.0));
        let (lo, hi) = if lo == hi {
            (0.0, 1.0)
        } else {
            pad_flat((lo, hi))
        };
        let hi = hi + (hi - lo) * 0.05;
        Self::linear(lo, hi, true)
    }

    /// A linear axis over exactly `lo..hi`.
    pub(super) fn fixed(lo: f64, hi: f64) -> Self {
        let (lo, hi) = pad_flat((lo, hi));
        Self::linear(lo, hi, false)
    }

    /// `n` categories at 0, 1, ..., n - 1, with half a slot of room on each side.
    pub(super) fn categories(n: usize) -> Self {
        let ticks: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let hi = n.max(1) as f64 - 0.5;
        Self {
            lo: -0.5,
            hi,
            ticks,
            minor: Vec::new(),
            log: false,
            categorical: true,
            step: 1.0,
        }
    }

    fn linear(lo: f64, hi: f64, round_out: bool) -> Self {
        let step = nice_step((hi - lo) / TARGET_TICKS);
        let (lo, hi) = if round_out && step > 0.0 {
            ((lo / step).floor() * step, (hi / step).ceil() * step)
        } else {
            (lo, hi)
        };
        let ticks = multiples(lo, hi, step);
        let minor = multiples(lo, hi, step / 2.0);
        Self {
            lo,
            hi,
            ticks,
            minor,
            log: false,
            categorical: false,
            step,
        }
    }

    /// A logarithmic axis over the positive `values`.
    pub(super) fn log(values: impl Iterator<Item = f64>) -> Self {
        let logs = values.filter(|v| v.is_finite() && *v > 0.0).map(f64::log10);
        let (lo, hi) = pad_flat(extent(logs).unwrap_or((0.0, 1.0)));
        let (first, last) = (lo.floor() as i64, hi.ceil() as i64);
        let at = |mantissas: &[f64]| -> Vec<f64> {
            let decades = (first..=last).take(MAX_TICKS as usize);
            let all = decades.flat_map(|k| mantissas.iter().map(move |m| m.log10() + k as f64));
            all.filter(|v| *v >= lo - 1e-9 && *v <= hi + 1e-9).collect()
        };
        let mut ticks = at(&[1.0, 2.0, 5.0]);
        if ticks.len() > 10 {
            ticks = at(&[1.0]);
        }
        let minor = at(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
        Self {
            lo,
            hi,
            ticks,
            minor,
            log: true,
            categorical: false,
            step: 0.0,
        }
    }

    /// The axis coordinate of a data value.
    pub(super) fn coord(&self, value: f64) -> f64 {
        if self.log { value.log10() } else { value }
    }

    /// The label of a tick at coordinate `v`.
    pub(super) fn label(&self, v: f64) -> String {
        if self.log {
            let value = 10f64.powf(v);
            let magnitude = 10f64.powf(v.floor());
            return number(value, magnitude);
        }
        number(v, self.step)
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, (start, end): (i32, i32)) -> i32 {
        let fraction = (value - self.lo) / (self.hi - self.lo);
        let pixels = f64::from(end - start) * fraction;
        if pixels.is_finite() {
            start + (pixels + 1e-3).floor().clamp(-1e6, 1e6) as i32
        } else {
            start
        }
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    /// Only a fallback: the charts format labels with [`Axis::label`].
    fn format(value: &f64) -> String {
        number(*value, 0.01)
    }
}

/// Min and max of the finite values, if any.
fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Widens a range that is empty (or too thin for `f64` ticks) around its centre.
fn pad_flat((lo, hi): (f64, f64)) -> (f64, f64) {
    let scale = lo.abs().max(hi.abs());
    if hi - lo > scale * 1e-9 && (hi - lo).is_finite() {
        return (lo, hi);
    }
    let mid = (lo + hi) / 2.0;
    let pad = (mid.abs() * 0.1).max(0.5);
    (mid - pad, mid + pad)
}

/// The 1-2-5 × 10ᵏ step nearest above `raw` (0 when `raw` is not a positive finite number).
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 0.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let m = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|m| m * magnitude >= raw * 0.999);
    m.unwrap_or(10.0) * magnitude
}

/// The multiples of `step` within `lo..=hi`, at most [`MAX_TICKS`] of them.
fn multiples(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    if step.is_nan() || step <= 0.0 {
        return vec![lo, hi];
    }
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    let last = last.min(first + MAX_TICKS);
    (first..=last).map(|i| i as f64 * step).collect()
}

/// `v` with the decimals that `precision` (a tick step or magnitude) calls for; values from
/// 10 000 up as `12k`, `3.5M`, `1G`.
pub(super) fn number(v: f64, precision: f64) -> String {
    let v = if v == 0.0 { 0.0 } else { v };
    let (scaled, precision, suffix) = match v.abs() {
        a if a >= 1e9 && precision >= 1e8 => (v / 1e9, precision / 1e9, "G"),
        a if a >= 1e6 && precision >= 1e5 => (v / 1e6, precision / 1e6, "M"),
        a if a >= 1e4 && precision >= 1e3 => (v / 1e3, precision / 1e3, "k"),
        _ => (v, precision, ""),
    };
    let decimals = if precision > 0.0 {
        (-precision.log10() - 1e-9).ceil().clamp(0.0, 9.0)
    } else {
        2.0
    };
    format!("{scaled:.*}{suffix}", decimals as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_flat_and_single_values_get_a_range() {
        let a = Axis::exact(std::iter::empty());
        assert!(a.hi > a.lo);
        let a = Axis::exact([5.0, 5.0].into_iter());
        assert!(a.lo < 5.0 && a.hi > 5.0);
        let a = Axis::from_zero([0.0].into_iter());
        assert!(a.lo == 0.0 && a.hi >= 1.0);
        let a = Axis::from_zero([f64::NAN, f64::INFINITY].into_iter());
        assert!(a.hi > a.lo && !a.ticks.is_empty());
    }

    #[test]
    fn ticks_are_nice_and_bounded() {
        let a = Axis::from_zero([0.0, 87.0].into_iter());
        assert_eq!(a.ticks, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let a = Axis::exact([1e9, 1e9 + 1e-3].into_iter());
        assert!(a.ticks.len() <= MAX_TICKS as usize + 1);
    }

    #[test]
    fn log_axis_uses_decades() {
        let a = Axis::log([1.0, 1000.0].into_iter());
        assert_eq!(a.label(a.ticks[0]), "1");
        assert!(a.ticks.iter().any(|t| a.label(*t) == "100"));
        assert!(!a.ticks.iter().any(|t| a.label(*t) == "0.5"));
    }

    #[test]
    fn labels_follow_the_step() {
        assert_eq!(number(0.5, 0.1), "0.5");
        assert_eq!(number(40.0, 20.0), "40");
        assert_eq!(number(25000.0, 5000.0), "25k");
        assert_eq!(number(-0.0, 1.0), "0");
    }
}
