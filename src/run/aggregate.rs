//! From replications to the summary: means with Student-t intervals, SLO verdicts, cost, paired
//! differences against the first strategy, time series and CDFs.

use std::collections::BTreeMap;

use super::metrics::{LATENCY_KEYS, Metrics, RepMetrics};
use crate::model::resilience::availability;
use crate::observe::{ComponentStats, ErrorKind, new_histogram};
use crate::report::summary::*;
use crate::scenario::{Loaded, Scenario};
use crate::stats::ci::{paired_diff, t_interval};

const LEVEL: f64 = 0.95;

/// Mean and 95 % half-width; zeros for no data, so the summary never holds NaN (JSON has no NaN).
fn mean_ci(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let i = t_interval(xs, LEVEL);
    (finite(i.mean), finite(i.half_width))
}

fn finite(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

fn latency(v: [f64; 7], extra: BTreeMap<String, f64>) -> Latency {
    Latency {
        mean: v[0],
        p50: v[1],
        p90: v[2],
        p95: v[3],
        p99: v[4],
        p999: v[5],
        max: v[6],
        extra,
    }
}

/// `99.99` -> `p99.99`, `99.9` -> `p99.9`.
fn pct_key(p: f64) -> String {
    format!("p{p}")
}

fn latency_block(ms: &[&Metrics], pcts: &[f64]) -> (Latency, Latency) {
    let (mut m, mut h) = ([0.0; 7], [0.0; 7]);
    for k in 0..7 {
        (m[k], h[k]) = mean_ci(&ms.iter().map(|x| x.latency[k]).collect::<Vec<_>>());
    }
    let (mut em, mut eh) = (BTreeMap::new(), BTreeMap::new());
    for (i, p) in pcts.iter().enumerate() {
        let (a, b) = mean_ci(&ms.iter().map(|x| x.extra[i]).collect::<Vec<_>>());
        em.insert(pct_key(*p), a);
        eh.insert(pct_key(*p), b);
    }
    (latency(m, em), latency(h, eh))
}

fn avg(ms: &[&Metrics], f: impl Fn(&Metrics) -> f64) -> f64 {
    ms.iter().map(|m| f(m)).sum::<f64>() / ms.len().max(1) as f64
}

fn class_summary(name: &str, ms: &[&Metrics], pcts: &[f64]) -> ClassSummary {
    let (latency_ms, latency_ms_ci95) = latency_block(ms, pcts);
    ClassSummary {
        name: name.to_string(),
        requests: avg(ms, |m| m.arrived as f64),
        completed: avg(ms, |m| m.completed as f64),
        failed: avg(ms, |m| m.failed_total() as f64),
        throughput_rps: avg(ms, |m| m.throughput),
        latency_ms,
        latency_ms_ci95,
    }
}

/// Summarizes one strategy's replications; `baseline` enables paired differences.
pub fn summarize_strategy(
    name: &str,
    sc: &Scenario,
    reps: &[&RepMetrics],
    baseline: Option<(&str, &[&RepMetrics])>,
) -> StrategySummary {
    let totals: Vec<&Metrics> = reps.iter().map(|r| &r.total).collect();
    let c = class_summary(name, &totals, &sc.percentiles);
    let errors = ErrorKind::ALL
        .iter()
        .enumerate()
        .map(|(i, k)| (k.name().to_string(), avg(&totals, |m| m.failed[i] as f64)))
        .collect();
    let error_rate = avg(&totals, Metrics::error_rate);
    let mut s = StrategySummary {
        name: name.to_string(),
        requests: c.requests,
        completed: c.completed,
        failed: c.failed,
        errors,
        error_rate,
        availability: 1.0 - error_rate,
        downtime_min_per_year: availability::downtime_minutes_per_year(1.0 - error_rate),
        availability_analytic: availability::of_system(&sc.system),
        slo_violation_time_ratio: {
            let p99 = sc
                .slo
                .latency_ms
                .iter()
                .find(|(k, _)| k == "p99")
                .map(|x| x.1);
            let per: Vec<f64> = reps
                .iter()
                .map(|r| r.violation_time_ratio(p99, sc.slo.max_error_rate))
                .collect();
            per.iter().sum::<f64>() / per.len().max(1) as f64
        },
        throughput_rps: c.throughput_rps,
        latency_ms: c.latency_ms,
        latency_ms_ci95: c.latency_ms_ci95,
        classes: classes(sc, reps),
        components: components(reps),
        auto_warmup: reps
            .first()
            .and_then(|r| r.auto_warmup.as_ref())
            .map(super::auto::warmup_summary),
        ..Default::default()
    };
    apply_slo_and_cost(sc, &mut s);
    if let Some((base_name, base)) =
        baseline.filter(|(_, b)| !std::ptr::eq(b.as_ptr(), reps.as_ptr()) && b.len() == reps.len())
    {
        s.vs_baseline = paired(reps, base);
        for d in &mut s.vs_baseline {
            d.baseline = base_name.to_string();
        }
    }
    s
}

fn classes(sc: &Scenario, reps: &[&RepMetrics]) -> Vec<ClassSummary> {
    sc.class_names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let ms: Vec<&Metrics> = reps.iter().map(|r| &r.classes[i]).collect();
            class_summary(n, &ms, &sc.percentiles)
        })
        .collect()
}

/// Reads one figure of a component's replication.
type Figure = Box<dyn Fn(&ComponentStats) -> f64>;

/// Per component: the mean over replications of each figure and named metric, with its 95 %
/// half-width.
fn components(reps: &[&RepMetrics]) -> Vec<ComponentSummary> {
    let Some(first) = reps.first() else {
        return Vec::new();
    };
    (0..first.components.len())
        .map(|i| {
            let over = |g: &dyn Fn(&ComponentStats) -> f64| {
                mean_ci(&reps.iter().map(|r| g(&r.components[i])).collect::<Vec<_>>())
            };
            let c = &first.components[i];
            let mut figures: Vec<(String, Figure)> = Vec::new();
            if c.kind == "service" {
                figures.push(("arrivals".into(), Box::new(|s| s.arrivals as f64)));
                figures.push(("waited".into(), Box::new(|s| s.waited as f64)));
                figures.push(("rejected".into(), Box::new(|s| s.rejected as f64)));
                figures.push(("expired".into(), Box::new(|s| s.expired as f64)));
            }
            for (k, (name, _)) in c.metrics.iter().enumerate() {
                figures.push((name.clone(), Box::new(move |s| s.metrics[k].1)));
            }
            let (mut metrics, mut metrics_ci95) = (BTreeMap::new(), BTreeMap::new());
            for (name, g) in &figures {
                let (m, h) = over(g.as_ref());
                metrics.insert(name.clone(), m);
                metrics_ci95.insert(name.clone(), h);
            }
            let (utilization, utilization_ci95) = over(&|s| s.utilization);
            ComponentSummary {
                name: c.name.clone(),
                kind: c.kind.to_string(),
                utilization,
                utilization_ci95,
                mean_queue: over(&|s| s.mean_queue).0,
                metrics,
                metrics_ci95,
            }
        })
        .collect()
}

/// Fills `s.cost` (from the scenario's provisioned workers and prices, and the measured
/// throughput) and `s.slo` (from the scenario's objectives and the measured figures). Shared by
/// simulated and real results.
pub fn apply_slo_and_cost(sc: &Scenario, s: &mut StrategySummary) {
    s.cost = cost(sc, s);
    s.slo = slo(sc, s);
}

/// Per hour: every service's provisioned workers and instances (measured time averages when the
/// summary has them, as a simulation's does; else as specified) at their prices, the nodes of
/// autoscaled node groups at theirs, the fixed price, and the per-request price at the
/// measured throughput.
fn cost(sc: &Scenario, s: &StrategySummary) -> Cost {
    // Summed in groups (services, then nodes and egress, then fixed, then per request), the
    // order the figures have always been added in, so results stay bit-identical.
    let items = cost_items(sc, s);
    let n = sc.system.services.len();
    let capacity: f64 = items[..n].iter().map(|(_, c)| c).sum();
    let nodes: f64 = items[n..items.len() - 2].iter().map(|(_, c)| c).sum();
    let per_hour = capacity + nodes + items[items.len() - 2].1 + items[items.len() - 1].1;
    let per_million = if s.throughput_rps > 0.0 {
        per_hour / (s.throughput_rps * 3600.0) * 1e6
    } else {
        0.0
    };
    Cost {
        per_hour,
        per_million_requests: per_million,
    }
}

/// What [`cost`] adds up, per hour: one item per priced service (its name), per component
/// billing nodes or egress (its name), then `fixed` and `per request` (items of 0 included).
pub fn cost_items(sc: &Scenario, s: &StrategySummary) -> Vec<(String, f64)> {
    let measured = |name: &str, metric: &str| {
        s.components
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.metrics.get(metric).copied())
    };
    let mut items: Vec<(String, f64)> = sc
        .system
        .services
        .iter()
        .enumerate()
        .map(|(i, sv)| {
            let n = sv.name();
            let instances = measured(n, "instances_mean").unwrap_or(f64::from(sv.instances));
            let workers = measured(n, "workers_mean")
                .unwrap_or(f64::from(sv.instances) * f64::from(sv.station.workers));
            let c = workers * sc.prices.worker_hour[i] + instances * sc.prices.instance_hour[i];
            (n.to_string(), c)
        })
        .collect();
    // Node groups under a cluster autoscaler bill their node-hours (the controller's metric);
    // cache tiers with a price per GB bill their bytes (a CDN's egress).
    for c in &s.components {
        for k in ["node_cost_per_hour", "egress_cost_per_hour"] {
            if let Some(v) = c.metrics.get(k) {
                items.push((c.name.clone(), *v));
            }
        }
    }
    items.push(("fixed".into(), sc.prices.fixed_per_hour));
    items.push((
        "per request".into(),
        s.throughput_rps * 3600.0 * sc.prices.per_million_requests / 1e6,
    ));
    items
}

/// Per strategy, the cost per million requests at a sweep's first and last points against
/// `limit`, and whether the SLOs held at every point.
pub(super) fn cost_growth(points: &[SweepPoint], limit: f64) -> Vec<CostGrowth> {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return Vec::new();
    };
    first
        .strategies
        .iter()
        .zip(&last.strategies)
        .enumerate()
        .map(|(j, (a, b))| {
            let (from, to) = (a.cost.per_million_requests, b.cost.per_million_requests);
            // No cost at the first point: no ratio (and no verdict) unless none at the last.
            let ratio = match (from > 0.0, to > 0.0) {
                (true, _) => Some(to / from),
                (false, false) => Some(1.0),
                (false, true) => None,
            };
            let slo_everywhere = points
                .iter()
                .all(|p| p.strategies.get(j).is_some_and(|s| s.slo.passed));
            CostGrowth {
                strategy: a.name.clone(),
                parameter: first.parameter.clone(),
                from: first.value,
                to: last.value,
                cost_per_million_from: from,
                cost_per_million_to: to,
                ratio,
                p99_ms_from: a.latency_ms.p99,
                p99_ms_to: b.latency_ms.p99,
                slo_everywhere,
                limit,
                passed: ratio.is_some_and(|r| r <= limit) && slo_everywhere,
            }
        })
        .collect()
}

fn slo(sc: &Scenario, s: &StrategySummary) -> SloResult {
    let mut checks = Vec::new();
    let mut check = |name: String, metric: &str, threshold: f64, value: f64, passed: bool| {
        checks.push(SloCheck {
            name,
            metric: metric.to_string(),
            threshold,
            value,
            passed,
        });
    };
    for (stat, ms) in &sc.slo.latency_ms {
        let k = LATENCY_KEYS.iter().position(|k| k == stat).unwrap_or(4);
        let v = [
            s.latency_ms.mean,
            s.latency_ms.p50,
            s.latency_ms.p90,
            s.latency_ms.p95,
            s.latency_ms.p99,
            s.latency_ms.p999,
            s.latency_ms.max,
        ][k];
        check(
            format!("{stat} <= {ms}ms"),
            &format!("latency_ms.{stat}"),
            *ms,
            v,
            v <= *ms,
        );
    }
    if let Some(x) = sc.slo.max_error_rate {
        check(
            format!("error rate <= {}%", x * 100.0),
            "error_rate",
            x,
            s.error_rate,
            s.error_rate <= x,
        );
    }
    if let Some(x) = sc.slo.min_availability {
        check(
            format!("availability >= {}%", x * 100.0),
            "availability",
            x,
            s.availability,
            s.availability >= x,
        );
    }
    if let Some(x) = sc.slo.min_throughput {
        check(
            format!("throughput >= {x} rps"),
            "throughput_rps",
            x,
            s.throughput_rps,
            s.throughput_rps >= x,
        );
    }
    for (component, metric, max, min) in &sc.slo.components {
        // A component a strategy does not have (or a misspelt metric) fails its check: it
        // cannot be shown to hold.
        let value = s
            .components
            .iter()
            .find(|c| c.name == *component)
            .and_then(|c| c.metrics.get(metric.as_str()).copied());
        let key = format!("{component}.{metric}");
        let missing = if value.is_none() {
            " (not measured)"
        } else {
            ""
        };
        // Not measured: 0 in the summary (a number, as every figure there), failed either way.
        let v = value.unwrap_or(0.0);
        let measured = value.is_some();
        if let Some(x) = max {
            check(
                format!("{key} <= {x}{missing}"),
                &key,
                *x,
                v,
                measured && v <= *x,
            );
        }
        if let Some(x) = min {
            check(
                format!("{key} >= {x}{missing}"),
                &key,
                *x,
                v,
                measured && v >= *x,
            );
        }
    }
    SloResult {
        passed: checks.iter().all(|c| c.passed),
        checks,
    }
}

fn paired(reps: &[&RepMetrics], base: &[&RepMetrics]) -> Vec<PairedDiff> {
    let metric = |name: &str, f: &dyn Fn(&Metrics) -> f64| {
        let a: Vec<f64> = reps.iter().map(|r| f(&r.total)).collect();
        let b: Vec<f64> = base.iter().map(|r| f(&r.total)).collect();
        let i = paired_diff(&a, &b, LEVEL);
        PairedDiff {
            metric: name.to_string(),
            baseline: String::new(),
            mean: finite(i.mean),
            ci95: finite(i.half_width),
        }
    };
    vec![
        metric("latency_ms.mean", &|m| m.latency[0]),
        metric("latency_ms.p99", &|m| m.latency[4]),
        metric("throughput_rps", &|m| m.throughput),
        metric("error_rate", &Metrics::error_rate),
    ]
}

/// Builds the report of the base point: summary, time series and CDFs.
pub fn summary_for(
    loaded: &Loaded,
    names: &[&str],
    groups: &[Vec<&RepMetrics>],
    seed: u64,
    reps: u32,
) -> Report {
    let base = groups.first().map(|g| (names[0], g.as_slice()));
    let strategies: Vec<StrategySummary> = names
        .iter()
        .zip(groups)
        .zip(&loaded.strategies)
        .map(|((n, g), s)| summarize_strategy(n, &s.scenario, g, base))
        .collect();
    // With `warmup = "auto"`, the mean over strategies of the warm-ups chosen at the base point.
    let chosen: Vec<f64> = strategies
        .iter()
        .filter_map(|s| s.auto_warmup.as_ref().map(|w| w.warmup_s))
        .collect();
    let sys = &loaded.base.system;
    let (warmup_s, horizon) = if chosen.is_empty() {
        let horizon = sys.duration.saturating_sub(sys.warmup) as f64 / 1e9;
        (sys.warmup as f64 / 1e9, horizon)
    } else {
        let w = chosen.iter().sum::<f64>() / chosen.len() as f64;
        (w, (sys.duration as f64 / 1e9 - w).max(0.0))
    };
    let summary = Summary {
        schema: SCHEMA_VERSION,
        scenario: loaded.base.name.clone(),
        scenario_hash: loaded.hash.clone(),
        seed,
        replications: reps,
        mode: "sim".into(),
        horizon_s: horizon,
        warmup_s,
        strategies,
        points: Vec::new(),
        capacity: Vec::new(),
        cost_growth: Vec::new(),
        auto_replications: None,
        loads: Vec::new(),
        study: None,
        comparison: None,
    };
    Report {
        summary,
        timeseries: timeseries(names, groups),
        cdfs: names.iter().zip(groups).map(|(n, g)| cdf(n, g)).collect(),
        description: loaded.base.description.clone(),
        scenario_text: loaded.text.clone(),
    }
}

fn timeseries(names: &[&str], groups: &[Vec<&RepMetrics>]) -> Vec<SeriesRow> {
    let mut rows = Vec::new();
    for (n, g) in names.iter().zip(groups) {
        for (r, m) in g.iter().enumerate() {
            rows.extend(m.series.iter().map(|(t, metric, value)| SeriesRow {
                strategy: n.to_string(),
                replication: r as u32,
                t_s: *t,
                metric: metric.clone(),
                value: *value,
            }));
        }
    }
    rows
}

/// The pooled latency CDF of a strategy's replications, at quantiles dense in the tail.
fn cdf(name: &str, reps: &[&RepMetrics]) -> Cdf {
    let mut h = new_histogram(3);
    for r in reps {
        if let Some(x) = &r.histogram {
            h.add(x).ok();
        }
    }
    let mut points = Vec::new();
    if !h.is_empty() {
        let qs = (0..100)
            .map(|i| f64::from(i) / 100.0)
            .chain((0..=40).map(|i| 1.0 - 10f64.powf(-2.0 - f64::from(i) / 10.0)));
        for q in qs {
            points.push((h.value_at_quantile(q) as f64 / 1e6, q));
        }
        points.push((h.max() as f64 / 1e6, 1.0));
    }
    Cdf {
        strategy: name.to_string(),
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strategy(name: &str, per_million: f64, p99: f64, passed: bool) -> StrategySummary {
        let mut s = StrategySummary {
            name: name.into(),
            ..StrategySummary::default()
        };
        s.cost.per_million_requests = per_million;
        s.latency_ms.p99 = p99;
        s.slo.passed = passed;
        s
    }

    fn point(value: f64, rows: &[(f64, bool)]) -> SweepPoint {
        SweepPoint {
            parameter: "rate".into(),
            value,
            strategies: rows
                .iter()
                .enumerate()
                .map(|(i, &(c, ok))| strategy(&format!("s{i}"), c, 10.0 * value, ok))
                .collect(),
        }
    }

    #[test]
    fn cost_growth_compares_the_last_point_with_the_first_and_needs_the_slo_everywhere() {
        let points = [
            point(1.0, &[(1.0, true), (1.0, true), (2.0, true)]),
            point(5.0, &[(1.1, true), (1.0, false), (2.0, true)]),
            point(10.0, &[(1.2, true), (1.0, true), (3.0, true)]),
        ];
        let g = cost_growth(&points, 1.25);
        assert_eq!(g.len(), 3);
        assert!((g[0].ratio.expect("a ratio") - 1.2).abs() < 1e-12 && g[0].passed);
        // Flat cost, but an SLO failed at the middle point.
        assert!(!g[1].slo_everywhere && !g[1].passed);
        // Cost per million up 1.5x: super-linear.
        assert!((g[2].ratio.expect("a ratio") - 1.5).abs() < 1e-12);
        assert!(!g[2].passed && g[2].slo_everywhere);
        assert_eq!((g[0].from, g[0].to, g[0].p99_ms_to), (1.0, 10.0, 100.0));
        assert!(cost_growth(&[], 1.25).is_empty());
        // Free at the first point: no ratio, no pass; free throughout: flat.
        let free = [
            point(1.0, &[(0.0, true), (0.0, true)]),
            point(2.0, &[(1.0, true), (0.0, true)]),
        ];
        let g = cost_growth(&free, 1.25);
        assert_eq!((g[0].ratio, g[0].passed), (None, false));
        assert_eq!((g[1].ratio, g[1].passed), (Some(1.0), true));
    }
}
