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

fn unit_seconds(unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return None,
    })
}

fn unit_error(s: &str, unit: &str) -> String {
    if unit.is_empty() {
        format!("`{s}` has no unit (use ns, us, ms, s, m, h or d, e.g. `{s}ms`)")
    } else {
        format!("`{s}`: unknown unit `{unit}` (use ns, us, ms, s, m, h or d)")
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

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
}
