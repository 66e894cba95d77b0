//! Words and units for the names the results use: time-series metrics and gauges (titles and
//! y axes of the charts) and swept parameters (x axes).
//!
//! A gauge is named `FAMILY.COMPONENT` (`busy.app`, `hit_ratio.l1`, `lag_ms.replica-1`); the
//! family decides the words and the unit, the component is named as the scenario names it.
//! [`GAUGES`] is the one table of families: a new gauge gets a row here, and a test checks
//! that every family the models emit has one.

/// A gauge family: `(family, what it measures, y axis label with unit)`. The chart title is
/// `Component: what`, e.g. `App: busy workers`.
pub const GAUGES: [(&str, &str, &str); 24] = [
    ("busy", "busy workers", "Busy workers (time average)"),
    (
        "queue",
        "requests waiting",
        "Requests waiting (time average)",
    ),
    (
        "instances",
        "instances",
        "Instances (starting, ready or draining)",
    ),
    ("ready", "ready instances", "Ready instances (count)"),
    (
        "spread",
        "load spread over instances",
        "Busiest / mean instance utilization (ratio)",
    ),
    ("limit", "concurrency limit", "Limit (requests in flight)"),
    (
        "in_flight",
        "requests in flight",
        "Requests in flight (count)",
    ),
    (
        "open",
        "breaker state",
        "State (0 closed, 0.5 half-open, 1 open)",
    ),
    ("hit_ratio", "cache hit ratio", "Hits / lookups (ratio)"),
    (
        "queue_depth",
        "write-behind queue",
        "Writes waiting (count)",
    ),
    (
        "queue_age_ms",
        "oldest write waiting",
        "Age of the oldest queued write (ms)",
    ),
    ("lag_ms", "replication lag", "Replication lag (ms)"),
    (
        "lag",
        "consumer lag",
        "Messages waiting for a consumer (count)",
    ),
    (
        "oldest_age_ms",
        "oldest message waiting",
        "Age of the oldest unconsumed message (ms)",
    ),
    (
        "sagas_in_flight",
        "sagas in progress",
        "Sagas started, not yet ended (count)",
    ),
    ("held", "resources held", "Held by sagas (count)"),
    ("up", "region up", "Up (1) or down (0)"),
    (
        "sessions_active",
        "shoppers browsing",
        "Sessions in progress (count)",
    ),
    (
        "dns_away",
        "clients sent elsewhere",
        "Lookups answered with another region (share)",
    ),
    (
        "probe_behind",
        "replica behind a probe",
        "Probes that found the replica behind (share of the bucket's)",
    ),
    (
        "pool_in_use",
        "pooled connections in use",
        "Connections in use (time average, all instances)",
    ),
    (
        "pool_waiting",
        "requests waiting for a connection",
        "Requests waiting for a connection (time average)",
    ),
    (
        "connections",
        "open connections",
        "Connections open at the server (count)",
    ),
    (
        "throughput_rps",
        "requests served",
        "Throughput (requests/s)",
    ),
];

/// Whole-run series (no component): `(name, title, y axis label with unit)`.
const SERIES: [(&str, &str, &str); 8] = [
    (
        "throughput_rps",
        "Completed requests per second",
        "Throughput (requests/s)",
    ),
    ("p99_ms", "p99 latency", "p99 latency (ms)"),
    (
        "errors",
        "Failed requests per second",
        "Errors (requests/s)",
    ),
    (
        "lag_ms",
        "Replication lag (max over replicas)",
        "Replication lag (ms)",
    ),
    ("stale_reads", "Stale reads", "Stale reads (per bucket)"),
    (
        "queue",
        "Requests waiting",
        "Requests waiting (time average)",
    ),
    ("instances", "Instances", "Instances (count)"),
    (
        "cache_loads",
        "Database loads to fill the cache",
        "Cache fills from the database (loads/s)",
    ),
];

/// `(title, y axis label)` of a time-series metric: from [`SERIES`], [`GAUGES`], or, for a
/// name neither knows, from its unit suffix (`_ms`, `_rps`), else the name itself.
pub fn series_labels(metric: &str) -> (String, String) {
    if let Some((_, title, y)) = SERIES.iter().find(|(n, _, _)| *n == metric) {
        return ((*title).to_string(), (*y).to_string());
    }
    if let Some((family, component)) = metric.split_once('.')
        && let Some((_, what, y)) = GAUGES.iter().find(|(f, _, _)| *f == family)
    {
        return (
            format!("{}: {what}", capitalized(component)),
            (*y).to_string(),
        );
    }
    match metric.rsplit_once('_') {
        Some((p, "ms")) if is_percentile(p) => {
            (format!("{p} latency"), format!("{p} latency (ms)"))
        }
        Some((stem, "ms")) => (words(stem), format!("{} (ms)", words(stem))),
        Some((stem, "rps")) => (words(stem), format!("{} (requests/s)", words(stem))),
        _ => (metric.to_string(), metric.to_string()),
    }
}

fn is_percentile(stem: &str) -> bool {
    stem.strip_prefix('p')
        .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// `a_b` as `A b`.
fn words(stem: &str) -> String {
    capitalized(&stem.replace('_', " "))
}

/// The first letter in upper case (`app` -> `App`); the rest as written.
fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Unit of a field, by its last key (and, for `rate`, whether it is the workload's).
const FIELD_UNITS: [(&str, &str); 8] = [
    ("workload.rate", "requests/s"),
    ("rate", "per second"),
    ("count", "clients"),
    ("target", "users"),
    ("users", "users"),
    ("workers", "workers"),
    ("instances", "instances"),
    ("replicas", "instances"),
];

/// The unit of the swept `parameter` of the scenario whose text is `scenario_text`: a field
/// path (`workload.count`) by its own name, a `[params]` name by the first field that refers
/// to it (`rate = "$rate"` under `[workload]`). `None` when neither says.
pub fn parameter_unit(scenario_text: &str, parameter: &str) -> Option<&'static str> {
    let path = if parameter.contains('.') {
        parameter.to_string()
    } else {
        let table: toml::Table = scenario_text.parse().ok()?;
        referrer(&toml::Value::Table(table), &format!("${parameter}"), "")?
    };
    let keys: Vec<&str> = path
        .split('.')
        .filter(|k| k.parse::<usize>().is_err())
        .collect();
    let last_two = keys[keys.len().saturating_sub(2)..].join(".");
    let last = keys.last()?;
    FIELD_UNITS
        .iter()
        .find(|(k, _)| *k == last_two || k == last)
        .map(|(_, unit)| *unit)
}

/// The path of the first string value equal to `wanted`, depth first, keys in sorted order.
fn referrer(value: &toml::Value, wanted: &str, path: &str) -> Option<String> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        toml::Value::String(s) if s == wanted => Some(path.to_string()),
        toml::Value::Table(t) => t.iter().find_map(|(k, v)| referrer(v, wanted, &join(k))),
        toml::Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, v)| referrer(v, wanted, &join(&i.to_string()))),
        _ => None,
    }
}

/// The x axis label of a sweep: `rate (requests/s)`, or the bare name without a known unit.
pub fn parameter_label(scenario_text: &str, parameter: &str) -> String {
    match parameter_unit(scenario_text, parameter) {
        Some(unit) => format!("{parameter} ({unit})"),
        None => parameter.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_get_words_and_units() {
        assert_eq!(
            series_labels("busy.app"),
            (
                "App: busy workers".to_string(),
                "Busy workers (time average)".to_string()
            )
        );
        assert_eq!(series_labels("hit_ratio.l1").0, "L1: cache hit ratio");
        assert_eq!(
            series_labels("queue_depth.orders").0,
            "Orders: write-behind queue"
        );
        assert_eq!(
            series_labels("queue_age_ms.orders").1,
            "Age of the oldest queued write (ms)"
        );
        assert_eq!(
            series_labels("lag_ms.replica-1").0,
            "Replica-1: replication lag"
        );
        assert_eq!(series_labels("lag_ms").1, "Replication lag (ms)");
        assert_eq!(series_labels("errors").1, "Errors (requests/s)");
        assert_eq!(series_labels("p99.9_ms").1, "p99.9 latency (ms)");
        assert_eq!(series_labels("db_rps").1, "Db (requests/s)");
        assert_eq!(series_labels("weird").0, "weird");
    }

    #[test]
    fn every_family_has_a_unit_in_its_axis_label() {
        for (family, _, y) in GAUGES {
            assert!(y.contains('('), "{family}: {y}");
        }
        for (name, _, y) in SERIES {
            assert!(y.contains('('), "{name}: {y}");
        }
    }

    #[test]
    fn sweep_parameters_get_the_unit_of_the_field_they_set() {
        let text = "[params]\nrate = 3\npods = 4\n[workload]\nrate = \"$rate\"\n\
                    [services.app]\ninstances = \"$pods\"\n[[strategies]]\nname = \"x\"\n";
        assert_eq!(parameter_label(text, "rate"), "rate (requests/s)");
        assert_eq!(parameter_label(text, "pods"), "pods (instances)");
        assert_eq!(
            parameter_label(text, "workload.count"),
            "workload.count (clients)"
        );
        assert_eq!(parameter_label(text, "other"), "other");
        assert_eq!(parameter_label("not toml [", "rate"), "rate");
    }
}
