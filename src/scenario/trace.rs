//! Metric traces as monitoring systems export them: CSV rows of `timestamp,metric,value`
//! (a header row is optional), timestamps in seconds (Unix time or from any origin; the
//! first row's time becomes zero). A trace drives the `rates` workload (a recorded request
//! rate) and the HPA dry run (`scalesim hpa-dry-run`).

use std::collections::BTreeMap;
use std::path::Path;

/// Each metric's `(seconds from the trace's start, value)` samples, in time order.
pub type Trace = BTreeMap<String, Vec<(f64, f64)>>;

/// Reads a trace; an error names the file and line.
pub fn read(path: &Path) -> Result<Trace, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    parse(&text).map_err(|(line, m)| format!("{}:{line}: {m}", path.display()))
}

/// Parses trace text; an error carries its 1-based line.
pub fn parse(text: &str) -> Result<Trace, (usize, String)> {
    let mut rows: Vec<(f64, String, f64)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if rows.is_empty() && i == first_data_line(text) && cells[0].parse::<f64>().is_err() {
            continue; // the header
        }
        let [t, metric, value] = cells[..] else {
            return Err((
                i + 1,
                format!(
                    "expected `timestamp,metric,value`, got {} cells",
                    cells.len()
                ),
            ));
        };
        let num = |what: &str, s: &str| -> Result<f64, (usize, String)> {
            s.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| (i + 1, format!("{what} `{s}` is not a number")))
        };
        let (t, value) = (num("timestamp", t)?, num("value", value)?);
        if metric.is_empty() {
            return Err((i + 1, "the metric name is empty".into()));
        }
        if value < 0.0 {
            return Err((i + 1, format!("value {value} of `{metric}` is negative")));
        }
        if rows.last().is_some_and(|r| r.0 > t) {
            return Err((
                i + 1,
                format!("timestamp {t} goes back in time: rows must be in time order"),
            ));
        }
        rows.push((t, metric.to_string(), value));
    }
    let Some(t0) = rows.first().map(|r| r.0) else {
        return Err((1, "no samples".into()));
    };
    let mut trace = Trace::new();
    for (t, m, v) in rows {
        trace.entry(m).or_default().push((t - t0, v));
    }
    Ok(trace)
}

fn first_data_line(text: &str) -> usize {
    text.lines()
        .position(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
        .unwrap_or(0)
}

/// The latest sample of `samples` at or before `t`.
pub fn at(samples: &[(f64, f64)], t: f64) -> Option<f64> {
    let i = samples.partition_point(|s| s.0 <= t);
    i.checked_sub(1).map(|i| samples[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_group_by_metric_from_the_first_timestamp() {
        let t = parse(
            "timestamp,metric,value\n1700000000,cpu,2.5\n1700000015,rps,100\n1700000015,cpu,3\n",
        )
        .expect("parses");
        assert_eq!(t["cpu"], [(0.0, 2.5), (15.0, 3.0)]);
        assert_eq!(t["rps"], [(15.0, 100.0)]);
        assert_eq!(at(&t["cpu"], 14.9), Some(2.5));
        assert_eq!(at(&t["cpu"], 15.0), Some(3.0));
        assert_eq!(at(&t["rps"], 1.0), None);
    }

    #[test]
    fn bad_rows_name_their_line() {
        assert_eq!(parse("0,cpu,1\n5,cpu\n").unwrap_err().0, 2);
        assert!(
            parse("0,cpu,1\n5,cpu,x\n")
                .unwrap_err()
                .1
                .contains("`x` is not a number")
        );
        assert!(
            parse("5,cpu,1\n0,cpu,1\n")
                .unwrap_err()
                .1
                .contains("back in time")
        );
        assert!(parse("0,cpu,-1\n").unwrap_err().1.contains("negative"));
        assert!(parse("# nothing\n").unwrap_err().1.contains("no samples"));
    }
}
