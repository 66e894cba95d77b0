//! Number formatting shared by the terminal table and the HTML page.
//!
//! Humans read the table, so numbers get a precision that fits their size (three significant
//! figures or so, never exponents), and a CI is printed with the same decimals as its value:
//! `41.2 ±0.8`. Non-finite values print as `–` so a NaN never looks like a measurement.
//! Machine outputs (CSV, JSON) do not use this module: they keep full precision.

/// Decimals that show three or four significant figures of `x`: none from 1000 up, at most 4.
pub(crate) fn decimals(x: f64) -> usize {
    let a = x.abs();
    match a {
        _ if a == 0.0 || a >= 1000.0 => 0,
        _ if a >= 10.0 => 1,
        _ if a >= 1.0 => 2,
        _ if a >= 0.1 => 3,
        _ => 4,
    }
}

/// The decimals for a column of numbers: those of its largest finite magnitude, so the
/// decimal points line up and the largest value keeps three or four significant figures.
pub(crate) fn column_decimals(values: impl IntoIterator<Item = f64>) -> usize {
    let max = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    decimals(max)
}

/// `x` with [`decimals`] precision; `–` when not finite.
pub(crate) fn num(x: f64) -> String {
    fixed(x, decimals(x))
}

/// `x` with `d` decimals; `–` when not finite.
pub(crate) fn fixed(x: f64, d: usize) -> String {
    if x.is_finite() {
        format!("{x:.d$}")
    } else {
        "–".to_string()
    }
}

/// `value ±ci`, both with `d` decimals; just the value when `ci` is 0 or not finite.
pub(crate) fn with_ci_fixed(value: f64, ci: f64, d: usize) -> String {
    if !value.is_finite() || !ci.is_finite() || ci == 0.0 {
        return fixed(value, d);
    }
    format!("{value:.d$} ±{ci:.d$}")
}

/// A fraction as a percentage with two decimals, e.g. `0.0123` → `1.23`; tiny non-zero
/// rates show as `<0.01` rather than a misleading `0.00`.
pub(crate) fn percent(fraction: f64) -> String {
    let p = fraction * 100.0;
    match p {
        _ if !p.is_finite() => "–".to_string(),
        _ if p > 0.0 && p < 0.005 => "<0.01".to_string(),
        _ => format!("{p:.2}"),
    }
}

/// A value of the metric named `metric` (an SLO key such as `latency_ms.p99` or
/// `error_rate`) with its unit: fractions as percentages, latencies in ms.
pub(crate) fn metric_value(metric: &str, value: f64) -> String {
    if !value.is_finite() {
        return "–".to_string();
    }
    match metric {
        "error_rate" | "availability" => format!("{} %", percent_precise(value)),
        m if m.starts_with("latency_ms") || m.ends_with("_ms") => format!("{} ms", num(value)),
        _ => num(value),
    }
}

/// A fraction as a percentage with enough decimals to tell 99.9 from 99.99.
fn percent_precise(fraction: f64) -> String {
    let p = fraction * 100.0;
    let text = format!("{p:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A figure named `metric` (a latency key such as `p99`, `availability`, `error_rate`, a
/// `cost_…`, or `NAME.METRIC`) with its ±95 % half-width (none when 0) and its unit:
/// latencies in ms, availability and error rates as percentages with three decimals (99.993
/// stays apart from 99.99), other ratios and utilization as percentages, costs in dollars.
pub(crate) fn figure(metric: &str, value: f64, ci: f64) -> String {
    if !value.is_finite() {
        return "–".to_string();
    }
    let last = metric.rsplit('.').next().unwrap_or(metric);
    let pct = |x: f64| x * 100.0;
    let latency = ["mean", "max"].contains(&last)
        || (last.starts_with('p') && last[1..].parse::<f64>().is_ok())
        || last.contains("_ms");
    if latency {
        format!("{} ms", with_ci_fixed(value, ci, decimals(value)))
    } else if last == "availability" || last == "error_rate" {
        format!("{} %", with_ci_fixed(pct(value), pct(ci), 3))
    } else if last == "utilization" || last.contains("ratio") {
        format!(
            "{} %",
            with_ci_fixed(pct(value), pct(ci), decimals(pct(value)))
        )
    } else if last.starts_with("cost") {
        format!(
            "${}",
            with_ci_fixed(value, ci, if value.abs() < 0.01 { 4 } else { 2 })
        )
    } else {
        with_ci_fixed(value, ci, decimals(value))
    }
}

/// A parameter value or setting as written in a scenario: `0.5`, `600`, `1e-7`.
pub(crate) fn plain(x: f64) -> String {
    if x.is_finite() {
        x.to_string()
    } else {
        "–".to_string()
    }
}

/// A cost with two decimals (currency style), more for tiny amounts.
pub(crate) fn money(x: f64) -> String {
    match x.abs() {
        a if !a.is_finite() => "–".to_string(),
        a if a != 0.0 && a < 0.01 => format!("{x:.4}"),
        _ => format!("{x:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_follows_magnitude() {
        assert_eq!(num(1234.56), "1235");
        assert_eq!(num(123.456), "123.5");
        assert_eq!(num(41.23), "41.2");
        assert_eq!(num(4.123), "4.12");
        assert_eq!(num(0.0123), "0.0123");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(f64::NAN), "–");
    }

    #[test]
    fn ci_uses_value_precision() {
        let with_ci = |v: f64, ci: f64| with_ci_fixed(v, ci, decimals(v));
        assert_eq!(with_ci(141.23, 0.84), "141.2 ±0.8");
        assert_eq!(with_ci(41.2, 0.0), "41.2");
        assert_eq!(with_ci(1500.0, 12.0), "1500 ±12");
        assert_eq!(money(0.004), "0.0040");
        assert_eq!(percent(0.0123), "1.23");
        assert_eq!(metric_value("error_rate", 0.002), "0.2 %");
        assert_eq!(metric_value("availability", 0.9999), "99.99 %");
        assert_eq!(metric_value("latency_ms.p99", 45.0), "45.0 ms");
        assert_eq!(plain(600.0), "600");
        assert_eq!(percent(0.00001), "<0.01");
        assert_eq!(percent(0.0), "0.00");
        assert_eq!(column_decimals([5.47, 14.1, f64::NAN]), 1);
        assert_eq!(with_ci_fixed(5.47, 0.16, 1), "5.5 ±0.2");
    }

    #[test]
    fn figures_carry_their_unit_and_keep_the_nines() {
        assert_eq!(figure("p99", 87.654, 3.21), "87.7 ±3.2 ms");
        assert_eq!(figure("purchase.p99", 87.654, 0.0), "87.7 ms");
        assert_eq!(figure("availability", 0.99993, 0.00002), "99.993 ±0.002 %");
        assert_eq!(figure("availability", 0.9999, 0.0), "99.990 %");
        assert_eq!(figure("db.lag_ms_p99", 12.0, 0.0), "12.0 ms");
        assert_eq!(figure("cost_per_million", 0.5, 0.0), "$0.50");
        assert_eq!(figure("error_rate", 0.0012, 0.0), "0.120 %");
        assert_eq!(figure("throughput_rps", 1234.5, 0.0), "1234");
        assert_eq!(figure("b.utilization", 0.797, 0.0), "79.7 %");
        assert_eq!(figure("l1.hit_ratio", 0.5213, 0.0), "52.1 %");
        assert_eq!(figure("p99", f64::NAN, 0.0), "–");
    }
}
