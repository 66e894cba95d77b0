//! A study: named loads every strategy runs at, objectives judged on them, and a checklist.
//!
//! A strategy answers "which design"; a load answers "under what traffic". The guide's
//! questions need both: p99 at the peak test, availability over a year of failures, growth
//! from 1x to 10x. So a scenario may name loads (`[[loads]]`, overrides applied on top of every
//! strategy, as a strategy's `set` is applied on top of the file; a field that `--set` names
//! keeps the command line's value, so `--set duration=60s` shortens every load) and
//! objectives, each a verdict per strategy:
//!
//! | `kind` | fields | passes when |
//! |---|---|---|
//! | `metric` | `load`, `metric`, `max` or `min` | the metric's mean over replications at that load is within the bound |
//! | `slo` | `load` | every `[slo]` check holds at that load |
//! | `capacity` | `multiple` | the `[capacity]` search reaches that load scale |
//! | `cost_growth` | | the `[sweep]`'s cost per million requests grows at most `[slo] max_cost_growth` |
//!
//! A metric is a latency key (`p99`, `mean`, ... in ms), `error_rate`, `availability`,
//! `throughput_rps`, `cost_per_hour`, `cost_per_million`, `downtime_min_per_year`, or
//! `NAME.METRIC` for a request class's latency (`purchase.p99`) or a component's metric
//! (`db.lag_ms_p99`). A checklist item cites its evidence as `objective:NAME`, `LOAD:METRIC`
//! (a figure at a load) or `METRIC` (a figure at the base point); an item without evidence is
//! reported as not covered. Names are checked when the file loads; whether a dotted metric
//! was measured is known only after the run, and a missing one fails (`not measured`).

use std::path::Path;

use super::raw::{RawCheckItem, RawObjective};
use super::{Scenario, ScenarioError};

/// A named load: every strategy's scenario with the load's overrides.
#[derive(Debug, Clone)]
pub struct Load {
    /// Name (`peak`).
    pub name: String,
    /// What the load is.
    pub description: String,
    /// `points[j]`: strategy `j` at this load.
    pub points: Vec<Scenario>,
}

/// An objective: what is judged, per strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    /// Short name (`performance`).
    pub name: String,
    /// The goal in words, as the report shows it.
    pub goal: String,
    /// How it is judged.
    pub check: Check,
}

/// How an [`Objective`] is judged.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// A metric's mean at a load within a bound.
    Metric {
        /// Index into the loads.
        load: usize,
        /// The metric (see the module docs).
        metric: String,
        /// Upper bound.
        max: Option<f64>,
        /// Lower bound.
        min: Option<f64>,
    },
    /// Every `[slo]` check at a load.
    Slo {
        /// Index into the loads.
        load: usize,
    },
    /// The capacity search reaches this load scale.
    Capacity {
        /// The load scale to reach (10 for "10x growth").
        multiple: f64,
    },
    /// The sweep's cost per million requests grows at most `[slo] max_cost_growth`.
    CostGrowth,
}

/// A checklist item and what the run shows about it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckItem {
    /// Section heading.
    pub section: String,
    /// The item.
    pub item: String,
    /// The figures that are its evidence (none: not covered).
    pub evidence: Vec<Evidence>,
    /// A remark shown beside it.
    pub note: String,
}

/// One piece of evidence of a [`CheckItem`].
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// An objective's verdicts (index).
    Objective(usize),
    /// A metric at a load (`None`: the base point).
    Figure {
        /// Index into the loads.
        load: Option<usize>,
        /// The metric.
        metric: String,
    },
}

/// Metrics of a whole strategy that objectives and evidence may name (besides `NAME.METRIC`).
pub const METRICS: [&str; 13] = [
    "mean",
    "p50",
    "p90",
    "p95",
    "p99",
    "p999",
    "max",
    "error_rate",
    "availability",
    "throughput_rps",
    "cost_per_hour",
    "cost_per_million",
    "downtime_min_per_year",
];

/// What a study needs from the rest of the file.
#[derive(Debug)]
pub struct Context<'a> {
    /// The file.
    pub path: &'a Path,
    /// The load names, in file order.
    pub loads: &'a [String],
    /// Whether the file has `[capacity]`.
    pub capacity: bool,
    /// Whether the file has `[sweep]` and `[slo] max_cost_growth`.
    pub cost_growth: bool,
}

impl Context<'_> {
    fn load(&self, field: &str, name: &str) -> Result<usize, ScenarioError> {
        self.loads.iter().position(|l| l == name).ok_or_else(|| {
            let known = if self.loads.is_empty() {
                "the file has no [[loads]]".to_string()
            } else {
                format!("[[loads]] has {}", self.loads.join(", "))
            };
            ScenarioError::new(
                self.path,
                field,
                format!("names no load `{name}` ({known})"),
            )
            .suggest(name, self.loads.iter().map(String::as_str))
        })
    }
}

fn metric(ctx: &Context<'_>, field: &str, m: &str) -> Result<String, ScenarioError> {
    if METRICS.contains(&m)
        || m.rsplit_once('.')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
    {
        return Ok(m.to_string());
    }
    Err(ScenarioError::new(
        ctx.path,
        field,
        format!(
            "unknown metric `{m}`: one of {}, or NAME.METRIC for a class or a component",
            METRICS.join(", ")
        ),
    )
    .suggest(m, METRICS))
}

/// Validates `[[objectives]]`.
pub fn objectives(
    raw: &[RawObjective],
    ctx: &Context<'_>,
) -> Result<Vec<Objective>, ScenarioError> {
    let mut out: Vec<Objective> = Vec::new();
    for (i, o) in raw.iter().enumerate() {
        let f = |k: &str| format!("objectives.{i}.{k}");
        let err = |k: &str, m: String| ScenarioError::new(ctx.path, f(k), m);
        if out.iter().any(|p| p.name == o.name) {
            return Err(err(
                "name",
                format!("duplicate objective name `{}`", o.name),
            ));
        }
        // Fields a kind does not read are an error, not silently ignored.
        let stray = |allowed: &[&str]| -> Result<(), ScenarioError> {
            let given = [
                ("load", o.load.is_some()),
                ("metric", o.metric.is_some()),
                ("max", o.max.is_some()),
                ("min", o.min.is_some()),
                ("multiple", o.multiple.is_some()),
            ];
            match given.iter().find(|(k, g)| *g && !allowed.contains(k)) {
                Some((k, _)) => Err(err(k, format!("a `{}` objective has no `{k}`", o.kind))),
                None => Ok(()),
            }
        };
        let need_load = || match &o.load {
            Some(l) => ctx.load(&f("load"), l),
            None => Err(err(
                "load",
                format!("a `{}` objective needs `load`", o.kind),
            )),
        };
        let check = match o.kind.as_str() {
            "metric" => {
                stray(&["load", "metric", "max", "min"])?;
                let load = need_load()?;
                let m = o
                    .metric
                    .as_deref()
                    .ok_or_else(|| err("metric", "a `metric` objective needs `metric`".into()))?;
                let metric = metric(ctx, &f("metric"), m)?;
                if o.max.is_none() == o.min.is_none() {
                    return Err(err("max", "give exactly one of `max` and `min`".into()));
                }
                if o.max.or(o.min).is_some_and(|x| !x.is_finite()) {
                    return Err(err("max", "the bound must be a finite number".into()));
                }
                Check::Metric {
                    load,
                    metric,
                    max: o.max,
                    min: o.min,
                }
            }
            "slo" => {
                stray(&["load"])?;
                Check::Slo { load: need_load()? }
            }
            "capacity" => {
                stray(&["multiple"])?;
                if !ctx.capacity {
                    return Err(err(
                        "kind",
                        "a `capacity` objective needs a [capacity] search".into(),
                    ));
                }
                match o.multiple {
                    Some(m) if m > 0.0 && m.is_finite() => Check::Capacity { multiple: m },
                    _ => {
                        return Err(err(
                            "multiple",
                            "a `capacity` objective needs `multiple`, a positive load scale".into(),
                        ));
                    }
                }
            }
            "cost_growth" => {
                stray(&[])?;
                if !ctx.cost_growth {
                    return Err(err(
                        "kind",
                        "a `cost_growth` objective needs a [sweep] and [slo] max_cost_growth"
                            .into(),
                    ));
                }
                Check::CostGrowth
            }
            k => {
                let kinds = ["metric", "slo", "capacity", "cost_growth"];
                return Err(err(
                    "kind",
                    format!("unknown objective kind `{k}`: one of {}", kinds.join(", ")),
                )
                .suggest(k, kinds));
            }
        };
        out.push(Objective {
            name: o.name.clone(),
            goal: o.goal.clone(),
            check,
        });
    }
    Ok(out)
}

/// Validates `[[checklist]]` against the objectives and loads.
pub fn checklist(
    raw: &[RawCheckItem],
    objectives: &[Objective],
    ctx: &Context<'_>,
) -> Result<Vec<CheckItem>, ScenarioError> {
    raw.iter()
        .enumerate()
        .map(|(i, c)| {
            let evidence = c
                .evidence
                .iter()
                .enumerate()
                .map(|(k, e)| {
                    let field = format!("checklist.{i}.evidence.{k}");
                    if let Some(name) = e.strip_prefix("objective:") {
                        let names: Vec<&str> = objectives.iter().map(|o| o.name.as_str()).collect();
                        return names
                            .iter()
                            .position(|n| *n == name)
                            .map(Evidence::Objective)
                            .ok_or_else(|| {
                                ScenarioError::new(
                                    ctx.path,
                                    &field,
                                    format!(
                                        "names no objective `{name}` (objectives: {})",
                                        names.join(", ")
                                    ),
                                )
                                .suggest(name, names.iter().copied())
                            });
                    }
                    let (load, m) = match e.split_once(':') {
                        Some((l, m)) => (Some(ctx.load(&field, l)?), m),
                        None => (None, e.as_str()),
                    };
                    Ok(Evidence::Figure {
                        load,
                        metric: metric(ctx, &field, m)?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(CheckItem {
                section: c.section.clone(),
                item: c.item.clone(),
                evidence,
                note: c.note.clone(),
            })
        })
        .collect()
}
