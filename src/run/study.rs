//! Judging a study: objectives' verdicts, where latency and cost come from, and the checklist.
//!
//! Two steps, because the figures arrive at two times:
//! - [`judge`] runs with the replications at hand (in [`super::run`]): `metric` and `slo`
//!   objectives at a load, with Student-t intervals from the per-replication values, and the
//!   breakdowns of every load;
//! - [`finish`] runs on the summary alone once the capacity search is done (and again after
//!   `scalesim merge`): `capacity` and `cost_growth` objectives, and the checklist, whose
//!   evidence may cite any objective.
//!
//! A verdict is on the mean over replications, as SLOs are; it is `confident` when the whole
//! 95 % interval is on the same side of the threshold.
//!
//! The latency breakdown is Little's law per component: the mean number of requests present
//! at a service (waiting and in service, time-averaged) over the rate of requests is the mean
//! time one request spends there, over all its visits. These add up to the mean response time
//! less what no component holds (fixed delays, network hops, back-offs), which is shown as its
//! own line. It attributes the mean; the tier that holds the most time is the one whose queue
//! drives the tail too when one tier saturates, which is what the report is read for.
//! Services that work for messages rather than requests are left out: consumer groups' own
//! services, and those only their paths visit (a payment provider behind a consumer).

use super::metrics::RepMetrics;
use super::{cost_items, summarize_strategy};
use crate::model::program::Step;
use crate::report::format::{figure as show, metric_value, money, num, percent};
use crate::report::summary::{
    Breakdown, ChecklistResult, ComponentShare, LoadPoint, ObjectiveResult, StrategySummary,
    StudySummary, Summary, Verdict,
};
use crate::scenario::{Check, Evidence, Loaded, Scenario};
use crate::stats::ci::t_interval;

/// The replications of one strategy at one load, as [`super::run`] holds them.
#[derive(Debug)]
pub struct LoadReps<'a> {
    /// Index into `loaded.loads`.
    pub load: usize,
    /// Index into `loaded.strategies`.
    pub strategy: usize,
    /// The replications.
    pub reps: Vec<&'a RepMetrics>,
}

/// Whether `loaded` asks for a study.
pub fn wanted(loaded: &Loaded) -> bool {
    !loaded.objectives.is_empty() || !loaded.checklist.is_empty()
}

/// The verdicts of `metric` and `slo` objectives (others pending until [`finish`]) and every
/// breakdown, from `summary.loads` and the replications behind them.
pub fn judge(loaded: &Loaded, summary: &Summary, reps: &[LoadReps<'_>]) -> StudySummary {
    let objectives = loaded
        .objectives
        .iter()
        .map(|o| {
            let (kind, load, metric, op, mut threshold) = describe(&o.check);
            if o.check == Check::CostGrowth {
                threshold = loaded.base.slo.max_cost_growth.unwrap_or(0.0);
            }
            let verdicts = loaded
                .strategies
                .iter()
                .enumerate()
                .map(|(j, st)| match &o.check {
                    Check::Metric {
                        load,
                        metric,
                        max,
                        min,
                    } => {
                        let s = at(summary, *load, j);
                        let mine: Vec<&RepMetrics> = reps
                            .iter()
                            .find(|r| r.load == *load && r.strategy == j)
                            .map(|r| r.reps.clone())
                            .unwrap_or_default();
                        let sc = &loaded.loads[*load].points[j];
                        metric_verdict(&st.name, s, sc, &mine, metric, *max, *min)
                    }
                    Check::Slo { load } => slo_verdict(&st.name, at(summary, *load, j)),
                    Check::Capacity { .. } | Check::CostGrowth => pending(&st.name),
                })
                .collect();
            ObjectiveResult {
                name: o.name.clone(),
                goal: o.goal.clone(),
                kind: kind.into(),
                load: load.map(|l| loaded.loads[l].name.clone()),
                metric: metric.into(),
                op: op.into(),
                threshold,
                verdicts,
            }
        })
        .collect();
    let mut breakdown = Vec::new();
    for (l, point) in summary.loads.iter().enumerate() {
        for (j, s) in point.strategies.iter().enumerate() {
            breakdown.push(breakdown_of(&point.name, s, &loaded.loads[l].points[j]));
        }
    }
    StudySummary {
        objectives,
        breakdown,
        checklist: Vec::new(),
    }
}

/// Fills the verdicts that need the whole run (capacity, cost growth) and the checklist.
pub fn finish(loaded: &Loaded, summary: &mut Summary) {
    let Some(mut study) = summary.study.take() else {
        return;
    };
    for (o, r) in loaded.objectives.iter().zip(&mut study.objectives) {
        for (j, v) in r.verdicts.iter_mut().enumerate() {
            match &o.check {
                Check::Capacity { multiple } => {
                    if let Some(c) = summary.capacity.get(j) {
                        let passed = c.max_load_scale >= *multiple;
                        *v = Verdict {
                            strategy: v.strategy.clone(),
                            passed,
                            value: c.max_load_scale,
                            ci95: 0.0,
                            confident: true,
                            detail: format!(
                                "meets every SLO up to {}{}x the base load ({} {})",
                                // The search's upper bound is only a lower bound on capacity.
                                if loaded.capacity.is_some_and(|k| c.max_load_scale >= k.to) {
                                    "at least "
                                } else {
                                    ""
                                },
                                num(c.max_load_scale),
                                num(c.max_load),
                                if matches!(
                                    loaded.base.system.load,
                                    crate::model::workload::Load::Closed(_)
                                ) {
                                    "users"
                                } else {
                                    "requests/s"
                                },
                            ),
                        };
                    }
                }
                Check::CostGrowth => {
                    if let Some(g) = summary.cost_growth.get(j) {
                        // No cost at the first point and some at the last: no ratio (0, failed).
                        let ratio = g.ratio.unwrap_or(0.0);
                        *v = Verdict {
                            strategy: v.strategy.clone(),
                            passed: g.passed,
                            value: ratio,
                            ci95: 0.0,
                            confident: true,
                            detail: format!(
                                "cost per million ${} at {} = {}, ${} at {}; SLO {} at every point",
                                money(g.cost_per_million_from),
                                g.parameter,
                                num(g.from),
                                money(g.cost_per_million_to),
                                num(g.to),
                                if g.slo_everywhere { "met" } else { "not met" },
                            ),
                        };
                    }
                }
                Check::Metric { .. } | Check::Slo { .. } => {}
            }
        }
    }
    study.checklist = loaded
        .checklist
        .iter()
        .map(|c| ChecklistResult {
            section: c.section.clone(),
            item: c.item.clone(),
            covered: !c.evidence.is_empty(),
            evidence: c
                .evidence
                .iter()
                .map(|e| evidence_line(loaded, summary, &study, e))
                .collect(),
            note: c.note.clone(),
        })
        .collect();
    summary.study = Some(study);
}

/// `(kind, load, metric, op, threshold)` of an objective, as the summary names them.
fn describe(c: &Check) -> (&'static str, Option<usize>, &str, &'static str, f64) {
    match c {
        Check::Metric {
            load,
            metric,
            max,
            min,
        } => match (max, min) {
            (Some(x), _) => ("metric", Some(*load), metric, "<=", *x),
            (None, Some(x)) => ("metric", Some(*load), metric, ">=", *x),
            (None, None) => ("metric", Some(*load), metric, "<=", 0.0),
        },
        Check::Slo { load } => ("slo", Some(*load), "slo.passed", ">=", 1.0),
        Check::Capacity { multiple } => {
            ("capacity", None, "capacity.max_load_scale", ">=", *multiple)
        }
        // Its bound is `[slo] max_cost_growth`, which [`judge`] fills in.
        Check::CostGrowth => ("cost_growth", None, "cost_growth.ratio", "<=", 0.0),
    }
}

fn pending(name: &str) -> Verdict {
    Verdict {
        strategy: name.to_string(),
        passed: false,
        value: 0.0,
        ci95: 0.0,
        confident: false,
        detail: "not run".into(),
    }
}

fn at(summary: &Summary, load: usize, j: usize) -> Option<&StrategySummary> {
    summary
        .loads
        .get(load)
        .and_then(|l: &LoadPoint| l.strategies.get(j))
}

fn metric_verdict(
    name: &str,
    s: Option<&StrategySummary>,
    sc: &Scenario,
    reps: &[&RepMetrics],
    metric: &str,
    max: Option<f64>,
    min: Option<f64>,
) -> Verdict {
    let Some(s) = s else {
        return pending(name);
    };
    let Some(value) = figure(s, metric) else {
        return Verdict {
            detail: format!("{metric} not measured"),
            ..pending(name)
        };
    };
    // Each replication summarized alone gives the spread of the figure across replications.
    let per: Vec<f64> = reps
        .iter()
        .filter_map(|r| figure(&summarize_strategy(name, sc, &[*r], None), metric))
        .collect();
    let ci95 = if per.len() > 1 {
        let h = t_interval(&per, 0.95).half_width;
        if h.is_finite() { h } else { 0.0 }
    } else {
        0.0
    };
    let (passed, confident) = match (max, min) {
        (Some(x), _) => (value <= x, (value + ci95 <= x) || (value - ci95 > x)),
        (None, Some(x)) => (value >= x, (value - ci95 >= x) || (value + ci95 < x)),
        (None, None) => (false, false),
    };
    Verdict {
        strategy: name.to_string(),
        passed,
        value,
        ci95,
        confident,
        detail: if s.error_rate >= 0.001 && !["error_rate", "availability"].contains(&metric) {
            // A latency of the completed requests says nothing of those that failed.
            format!(
                "{}; {} % of requests failed",
                show(metric, value, ci95),
                percent(s.error_rate)
            )
        } else {
            show(metric, value, ci95)
        },
    }
}

fn slo_verdict(name: &str, s: Option<&StrategySummary>) -> Verdict {
    let Some(s) = s else {
        return pending(name);
    };
    let failed: Vec<String> = s
        .slo
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{} (was {})", c.name, metric_value(&c.metric, c.value)))
        .collect();
    let detail = if failed.is_empty() {
        format!(
            "all {} SLO checks met: p99 {} ms, errors {} %, {} requests/s",
            s.slo.checks.len(),
            num(s.latency_ms.p99),
            num(s.error_rate * 100.0),
            num(s.throughput_rps),
        )
    } else {
        format!("failed: {}", failed.join("; "))
    };
    Verdict {
        strategy: name.to_string(),
        passed: s.slo.passed,
        value: if s.slo.passed { 1.0 } else { 0.0 },
        ci95: 0.0,
        confident: true,
        detail,
    }
}

/// A strategy-level figure: see [`crate::scenario::study`] for the names.
pub fn figure(s: &StrategySummary, metric: &str) -> Option<f64> {
    let lat = |l: &crate::report::summary::Latency, k: &str| {
        Some(match k {
            "mean" => l.mean,
            "p50" => l.p50,
            "p90" => l.p90,
            "p95" => l.p95,
            "p99" => l.p99,
            "p999" => l.p999,
            "max" => l.max,
            _ => return l.extra.get(k).copied(),
        })
    };
    match metric {
        "error_rate" => return Some(s.error_rate),
        "availability" => return Some(s.availability),
        "throughput_rps" => return Some(s.throughput_rps),
        "cost_per_hour" => return Some(s.cost.per_hour),
        "cost_per_million" => return Some(s.cost.per_million_requests),
        "downtime_min_per_year" => return Some(s.downtime_min_per_year),
        _ => {}
    }
    if let Some(v) = lat(&s.latency_ms, metric) {
        return Some(v);
    }
    let (a, b) = metric.split_once('.')?;
    if let Some(c) = s.classes.iter().find(|c| c.name == a) {
        return match b {
            "throughput_rps" => Some(c.throughput_rps),
            "requests" => Some(c.requests),
            _ => lat(&c.latency_ms, b),
        };
    }
    let (a, b) = metric.rsplit_once('.')?;
    let c = s.components.iter().find(|c| c.name == a)?;
    match b {
        "utilization" => Some(c.utilization),
        "mean_queue" => Some(c.mean_queue),
        _ => c.metrics.get(b).copied(),
    }
}

/// Services that work for messages rather than for requests in flight: consumer groups' own
/// services, and those their paths visit that no class's path does.
fn background(sc: &Scenario) -> Vec<&str> {
    let sys = &sc.system;
    let (mut by_classes, mut by_groups) = (Vec::new(), Vec::new());
    for c in &sys.classes {
        visits(&c.path, &mut by_classes);
    }
    for g in &sys.shared.groups {
        by_groups.push(g.service);
        visits(&g.path, &mut by_groups);
    }
    by_groups
        .into_iter()
        .filter(|i| !by_classes.contains(i))
        .map(|i| sys.services[i as usize].name())
        .collect()
}

/// The services `steps` visit directly or in any sub-path. Steps that reach services only
/// through a database's router (`db_read`, `db_write`) add none, so such a service is never
/// taken for background work.
fn visits(steps: &[Step], out: &mut Vec<u32>) {
    for step in steps {
        match step {
            Step::Visit(i) => out.push(*i),
            Step::Query(q) => out.push(q.node),
            Step::Fork(arms) => arms.iter().for_each(|a| visits(a, out)),
            Step::Branch(arms) => arms.iter().for_each(|(_, a)| visits(a, out)),
            Step::ByKey(_, arms, _) => arms.iter().for_each(|a| visits(a, out)),
            Step::Repeat(_, body) | Step::Pool(_, body) => visits(body, out),
            Step::Try(t) => {
                visits(&t.body, out);
                if let Some(f) = &t.fallback {
                    visits(f, out);
                }
            }
            Step::CacheRead(r) => visits(&r.load, out),
            Step::CacheWrite(w) => visits(&w.store, out),
            Step::Saga(_, steps) => {
                for (run, undo) in steps {
                    visits(run, out);
                    if let Some(u) = undo {
                        visits(u, out);
                    }
                }
            }
            Step::Geo(arms, _) => arms.iter().flatten().for_each(|a| visits(a, out)),
            _ => {}
        }
    }
}

/// Where `s`'s latency and cost come from (see the module docs).
fn breakdown_of(load: &str, s: &StrategySummary, sc: &Scenario) -> Breakdown {
    let rate = if s.availability > 0.0 {
        s.throughput_rps / s.availability
    } else {
        0.0
    };
    let costs = cost_items(sc, s);
    let mut components: Vec<ComponentShare> = Vec::new();
    let background = background(sc);
    for c in &s.components {
        let Some(workers) = c.metrics.get("workers_mean") else {
            continue;
        };
        if background.contains(&c.name.as_str()) {
            continue;
        }
        let present = c.mean_queue + c.utilization * workers;
        components.push(ComponentShare {
            name: c.name.clone(),
            residence_ms: if rate > 0.0 {
                present / rate * 1e3
            } else {
                0.0
            },
            cost_per_hour: 0.0,
        });
    }
    for (name, c) in costs.into_iter().filter(|(_, c)| *c != 0.0) {
        match components.iter_mut().find(|x| x.name == name) {
            Some(x) => x.cost_per_hour += c,
            None => components.push(ComponentShare {
                name,
                residence_ms: 0.0,
                cost_per_hour: c,
            }),
        }
    }
    let held: f64 = components.iter().map(|c| c.residence_ms).sum();
    let rest = s.latency_ms.mean - held;
    if rest > 0.0 {
        components.push(ComponentShare {
            name: "network and delays".into(),
            residence_ms: rest,
            cost_per_hour: 0.0,
        });
    }
    components.retain(|c| c.residence_ms > 0.0 || c.cost_per_hour > 0.0);
    components.sort_by(|a, b| {
        b.residence_ms
            .total_cmp(&a.residence_ms)
            .then(b.cost_per_hour.total_cmp(&a.cost_per_hour))
    });
    Breakdown {
        load: load.to_string(),
        strategy: s.name.clone(),
        mean_ms: s.latency_ms.mean,
        p99_ms: s.latency_ms.p99,
        cost_per_hour: s.cost.per_hour,
        cost_per_million: s.cost.per_million_requests,
        components,
    }
}

fn evidence_line(loaded: &Loaded, summary: &Summary, study: &StudySummary, e: &Evidence) -> String {
    match e {
        Evidence::Objective(i) => {
            let o = &study.objectives[*i];
            let v: Vec<String> = o
                .verdicts
                .iter()
                .map(|v| format!("{} {}", v.strategy, if v.passed { "PASS" } else { "FAIL" }))
                .collect();
            format!("objective {}: {}", o.name, v.join(", "))
        }
        Evidence::Figure { load, metric } => {
            let (name, strategies) = match load {
                Some(l) => (
                    loaded.loads[*l].name.as_str(),
                    summary.loads.get(*l).map(|p| &p.strategies),
                ),
                None => ("base", Some(&summary.strategies)),
            };
            let values: Vec<String> = strategies
                .into_iter()
                .flatten()
                .map(|s| {
                    let v = figure(s, metric)
                        .map_or("not measured".to_string(), |v| show(metric, v, 0.0));
                    format!("{} {v}", s.name)
                })
                .collect();
            format!("{metric} at {name}: {}", values.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_names_a_class_before_a_component() {
        let mut s = StrategySummary::default();
        s.latency_ms.p99 = 50.0;
        s.classes.push(crate::report::summary::ClassSummary {
            name: "purchase".into(),
            latency_ms: crate::report::summary::Latency {
                p99: 80.0,
                ..Default::default()
            },
            ..Default::default()
        });
        let mut c = crate::report::summary::ComponentSummary {
            name: "db.replica-1".into(),
            ..Default::default()
        };
        c.metrics.insert("lag_ms_p99".into(), 12.0);
        s.components.push(c);
        assert_eq!(figure(&s, "p99"), Some(50.0));
        assert_eq!(figure(&s, "purchase.p99"), Some(80.0));
        assert_eq!(figure(&s, "db.replica-1.lag_ms_p99"), Some(12.0));
        assert_eq!(figure(&s, "db.replica-1.nothing"), None);
        assert_eq!(figure(&s, "nobody.p99"), None);
    }
}
