//! Durations with units: `"250us"`, `"5ms"`, `"1.5s"`, `"2m"`, `"1h30m"`, `"1d"`; a bare number
//! is seconds.

/// Parses a duration into seconds.
pub fn parse_duration(s: &str) -> Result<f64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    let mut total = 0.0;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!(
                "`{s}` is not a duration (expected a number then a unit, like `5ms`)"
            ));
        }
        let value: f64 = rest[..num_len]
            .replace('_', "")
            .parse()
            .map_err(|_| format!("`{s}`: bad number"))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = rest[..unit_len].trim();
        total += value * unit_seconds(unit).ok_or_else(|| unit_error(s, unit))?;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// Every accepted unit spelling and its length in seconds; the error hint lists them all.
const UNITS: [(&str, f64); 10] = [
    ("ns", 1e-9),
    ("us", 1e-6),
    ("µs", 1e-6),
    ("ms", 1e-3),
    ("s", 1.0),
    ("sec", 1.0),
    ("m", 60.0),
    ("min", 60.0),
    ("h", 3600.0),
    ("d", 86400.0),
];

fn unit_seconds(unit: &str) -> Option<f64> {
    UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|&(_, secs)| secs)
}

/// "ns, us, µs, ms, s, sec, m, min, h or d": every spelling [`unit_seconds`] accepts.
fn unit_list() -> String {
    let names: Vec<&str> = UNITS.iter().map(|(n, _)| *n).collect();
    let (last, rest) = names.split_last().expect("units");
    format!("{} or {last}", rest.join(", "))
}

fn unit_error(s: &str, unit: &str) -> String {
    if unit.is_empty() {
        format!("`{s}` has no unit (use {}, e.g. `{s}ms`)", unit_list())
    } else {
        format!("`{s}`: unknown unit `{unit}` (use {})", unit_list())
    }
}

#[cfg(test)]
mod tests {
    use super::{UNITS, parse_duration};

    #[test]
    fn units() {
        assert_eq!(parse_duration("5ms").unwrap(), 0.005);
        assert_eq!(parse_duration("1.5s").unwrap(), 1.5);
        assert_eq!(parse_duration("1h30m").unwrap(), 5400.0);
        assert_eq!(parse_duration("250us").unwrap(), 0.00025);
        assert!(parse_duration("5").unwrap_err().contains("no unit"));
        assert!(
            parse_duration("5 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_duration("fast").is_err());
    }

    /// The hint lists every spelling the parser accepts, so a user never has to guess one.
    #[test]
    fn unit_hint_lists_every_spelling() {
        let hint = parse_duration("5 parsecs").unwrap_err();
        let listed: Vec<&str> = hint.split([',', ' ', '(', ')']).collect();
        for (name, secs) in UNITS {
            assert!(listed.contains(&name), "`{name}` missing from: {hint}");
            assert_eq!(parse_duration(&format!("2{name}")).unwrap(), 2.0 * secs);
        }
    }
}
