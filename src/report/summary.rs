//! The result schema shared by the simulator and the real drivers.
//!
//! `summary.json` is [`Summary`] serialized with serde; its field names are fixed (schema 1) so
//! other tools can rely on them. [`Report`] adds what is too big for the summary (time series,
//! CDF points) and is what every writer in [`crate::report`] consumes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the `summary.json` layout. Bump on any rename or removal.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything a run produces, as consumed by the report writers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// The `summary.json` content.
    pub summary: Summary,
    /// Tidy time series rows (`timeseries.csv`).
    pub timeseries: Vec<SeriesRow>,
    /// Latency CDF points per strategy (for the CDF plot), pooled over replications.
    pub cdfs: Vec<Cdf>,
    /// Scenario description shown at the top of the HTML page.
    pub description: String,
    /// The scenario file as given (after `--set`), shown in the HTML page.
    pub scenario_text: String,
}

/// `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Layout version, [`SCHEMA_VERSION`].
    pub schema: u32,
    /// Scenario name.
    pub scenario: String,
    /// Hex hash of the validated scenario (after `--set`).
    pub scenario_hash: String,
    /// Root seed.
    pub seed: u64,
    /// Independent replications per strategy (per sweep point).
    pub replications: u32,
    /// `"sim"` for the simulator, `"real"` for runs against real servers.
    pub mode: String,
    /// Measured horizon per replication, warm-up excluded, in seconds.
    pub horizon_s: f64,
    /// Warm-up deleted from the start of each replication, seconds. Shown in the terminal
    /// table's heading; not part of `summary.json` (schema 1), so 0 after a round trip.
    #[serde(skip)]
    pub warmup_s: f64,
    /// One entry per strategy, in scenario order (at the base point for sweeps).
    pub strategies: Vec<StrategySummary>,
    /// Sweep points, empty without a sweep.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<SweepPoint>,
    /// Highest load scale meeting the SLOs, per strategy, when a capacity search ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capacity: Vec<Capacity>,
    /// Cost per million requests from a sweep's first point to its last, per strategy, when
    /// the SLO sets `max_cost_growth`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cost_growth: Vec<CostGrowth>,
    /// How `replications = "auto"` chose `replications`, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_replications: Option<AutoReplicationsSummary>,
    /// Every strategy at each named load (`[[loads]]`), in file order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loads: Vec<LoadPoint>,
    /// Objectives' verdicts, where latency and cost come from, and the checklist, when the
    /// scenario has objectives or a checklist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study: Option<StudySummary>,
    /// A real run's figures against the simulator's prediction of the same scenario
    /// (`scalesim real --compare`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
}

/// Prediction against measurement: the simulator's figures beside a real run's, per load and
/// strategy (see [`crate::report::compare`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Comparison {
    /// Replications behind each prediction.
    pub sim_replications: u32,
    /// Where the simulator's parameters came from: the `--params` file (its `[calibration]`
    /// facts: machine and date) or "the scenario's own values".
    pub params: String,
    /// The relative error a figure with a target must stay within (0.2: 20 %).
    pub tolerance: f64,
    /// One row per load, strategy and metric.
    pub rows: Vec<Compared>,
}

/// One figure predicted and measured.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Compared {
    /// `base` or a `[[loads]]` name.
    pub load: String,
    /// Strategy.
    pub strategy: String,
    /// `throughput_rps`, `latency_ms.p50`, `latency_ms.p99` or `error_rate`.
    pub metric: String,
    /// The simulator's mean over replications.
    pub predicted: f64,
    /// The real run's figure.
    pub measured: f64,
    /// `(predicted - measured) / measured`; `None` when nothing was measured (zero).
    pub relative_error: Option<f64>,
    /// Whether the figure has a target (p50 and throughput) and met it; `None` without one.
    pub within_target: Option<bool>,
}

/// Every strategy at one named load.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoadPoint {
    /// The load's name.
    pub name: String,
    /// What it is.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Strategies at this load.
    pub strategies: Vec<StrategySummary>,
}

/// What a study concludes (see [`crate::scenario::study`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct StudySummary {
    /// One per objective, in file order.
    pub objectives: Vec<ObjectiveResult>,
    /// Per load and strategy: where the latency and the cost come from.
    pub breakdown: Vec<Breakdown>,
    /// The checklist with its evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checklist: Vec<ChecklistResult>,
}

/// An objective's verdict for every strategy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ObjectiveResult {
    /// Short name.
    pub name: String,
    /// The goal in words.
    pub goal: String,
    /// `metric`, `slo`, `capacity` or `cost_growth`.
    pub kind: String,
    /// The load it is judged at, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<String>,
    /// The figure judged (`p99`, `availability`, `capacity.max_load_scale`, ...).
    pub metric: String,
    /// `<=` or `>=`.
    pub op: String,
    /// The bound.
    pub threshold: f64,
    /// Per strategy, in scenario order.
    pub verdicts: Vec<Verdict>,
}

/// One strategy's verdict on one objective.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Verdict {
    /// Strategy name.
    pub strategy: String,
    /// Whether it meets the objective (on the mean over replications).
    pub passed: bool,
    /// The figure (mean over replications).
    pub value: f64,
    /// Its Student-t 95 % half-width over replications (0 when it has none: a capacity
    /// search, one replication).
    pub ci95: f64,
    /// Whether the whole interval is on the verdict's side of the threshold.
    pub confident: bool,
    /// The figures behind it, in words.
    pub detail: String,
}

/// Where one strategy's latency and cost come from at one load.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Breakdown {
    /// The load (`base` for the base point).
    pub load: String,
    /// Strategy name.
    pub strategy: String,
    /// Mean response time, ms.
    pub mean_ms: f64,
    /// p99, ms.
    pub p99_ms: f64,
    /// Cost per hour.
    pub cost_per_hour: f64,
    /// Cost per million requests.
    pub cost_per_million: f64,
    /// Per component, largest residence first.
    pub components: Vec<ComponentShare>,
}

/// One component's share of a [`Breakdown`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComponentShare {
    /// Component name, or `network and delays` (the mean response time no component holds),
    /// `fixed`, `per request` (prices not tied to a component).
    pub name: String,
    /// Mean time a request spends there (waiting and in service, every visit), ms: by Little's
    /// law, the mean number present over the request rate.
    pub residence_ms: f64,
    /// Cost per hour it bills.
    pub cost_per_hour: f64,
}

/// A checklist item and its evidence from the run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChecklistResult {
    /// Section heading.
    pub section: String,
    /// The item.
    pub item: String,
    /// Whether the run has evidence for it.
    pub covered: bool,
    /// The evidence, one line per figure (every strategy's value).
    pub evidence: Vec<String>,
    /// A remark.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// `replications = "auto"`: the stopping rule and how close the run came to it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AutoReplicationsSummary {
    /// `max_replications`.
    pub max: u32,
    /// Target 95 % half-width relative to the mean (`precision`).
    pub precision: f64,
    /// The latency figures judged (`precision_metrics`).
    pub metrics: Vec<String>,
    /// Every figure of every strategy (and sweep point) reached the precision; else the
    /// maximum stopped the run.
    pub met: bool,
    /// The widest relative half-width left (absent when a mean is 0 and its interval is not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst_relative_half_width: Option<f64>,
    /// Where: the strategy (and sweep point) and the figure.
    pub worst_at: String,
}

/// `warmup = "auto"`: the warm-up MSER-5 chose for a strategy, from the latency series of
/// its pilot replications pooled.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct AutoWarmupSummary {
    /// Deleted from the start of every replication, seconds.
    pub warmup_s: f64,
    /// The pooled latency had not settled by half the run: too short to reach steady state,
    /// so the figures still carry the transient.
    pub too_short: bool,
    /// Pilot replications pooled.
    pub pilots: u32,
    /// What MSER-5 on each pilot alone would have deleted, seconds (a diagnostic of the
    /// spread; single replications of a busy queue mistake excursions for the transient).
    pub alone_s: Vec<f64>,
    /// Pilots that alone looked too short.
    pub alone_too_short: u32,
}

impl Summary {
    /// Warnings about the run itself: strategies (and sweep points) whose replications were
    /// too short for `warmup = "auto"` to find a steady state, and a `replications = "auto"`
    /// stopped by its maximum before reaching its precision.
    pub fn run_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let at_points = self.points.iter().flat_map(|p| {
            p.strategies
                .iter()
                .map(move |s| (format!(" at {} = {}", p.parameter, p.value), s))
        });
        let all = self
            .strategies
            .iter()
            .map(|s| (String::new(), s))
            .chain(at_points);
        for (at, s) in all {
            if let Some(w) = s.auto_warmup.as_ref().filter(|w| w.too_short) {
                out.push(format!(
                    "strategy \"{}\"{at}: the latency averaged over {} replications had not \
                     settled by half the run (MSER-5): too short to reach steady state; the \
                     figures still carry the transient (lengthen `duration`)",
                    s.name, w.pilots
                ));
            }
        }
        if let Some(a) = self.auto_replications.as_ref().filter(|a| !a.met) {
            let worst = a
                .worst_relative_half_width
                .map_or("unbounded".to_string(), |w| format!("{:.1} %", w * 100.0));
            out.push(format!(
                "replications = \"auto\" stopped at max_replications = {} before reaching ±{} %: \
                 the widest 95 % half-width is {worst} of the mean ({})",
                a.max,
                (a.precision * 1000.0).round() / 10.0,
                a.worst_at
            ));
        }
        out
    }

    /// Whether every SLO held: every strategy at the base point, every strategy at every sweep
    /// point, and every cost-growth verdict. What `--fail-on-slo` checks.
    pub fn slo_passed(&self) -> bool {
        let points = self.points.iter().flat_map(|p| &p.strategies);
        self.strategies.iter().chain(points).all(|s| s.slo.passed)
            && self.cost_growth.iter().all(|c| c.passed)
    }
}

/// How a strategy's cost per million requests grows across a load sweep: "linear cost" is a
/// ratio near 1.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CostGrowth {
    /// Strategy name.
    pub strategy: String,
    /// The swept parameter.
    pub parameter: String,
    /// Its first and last values.
    pub from: f64,
    /// Its last value.
    pub to: f64,
    /// Cost per million requests at the first point.
    pub cost_per_million_from: f64,
    /// At the last point.
    pub cost_per_million_to: f64,
    /// `cost_per_million_to / cost_per_million_from`; `None` when the first point cost
    /// nothing and the last did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// p99 at the first and last points, ms.
    pub p99_ms_from: f64,
    /// p99 at the last point, ms.
    pub p99_ms_to: f64,
    /// Whether every SLO held at every point of the sweep.
    pub slo_everywhere: bool,
    /// The limit on `ratio`.
    pub limit: f64,
    /// `ratio <= limit` and the SLOs held everywhere.
    pub passed: bool,
}

/// One strategy's results (means over replications; CIs as half-widths).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct StrategySummary {
    /// Strategy name.
    pub name: String,
    /// Requests that arrived after warm-up (mean per replication).
    pub requests: f64,
    /// Requests completed successfully.
    pub completed: f64,
    /// Requests that failed (any kind).
    pub failed: f64,
    /// Failures by kind: `timeout`, `rejected`, `failed`, ...
    pub errors: BTreeMap<String, f64>,
    /// `failed / (completed + failed)`.
    pub error_rate: f64,
    /// `completed / (completed + failed)`.
    pub availability: f64,
    /// Expected downtime per year at that availability, minutes.
    #[serde(default)]
    pub downtime_min_per_year: f64,
    /// Share of the measured time buckets that violate the SLO (p99 or error rate; any
    /// error when the scenario sets neither).
    #[serde(default)]
    pub slo_violation_time_ratio: f64,
    /// The availability MTBF / MTTR predict for this architecture (services in series,
    /// instances in parallel), when the scenario has failure models and plain paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_analytic: Option<f64>,
    /// Completions per second.
    pub throughput_rps: f64,
    /// Latency of completed requests, milliseconds.
    pub latency_ms: Latency,
    /// Student-t 95 % half-widths over replications, same keys (0 with one simulated
    /// replication). A real run has none: every field is NaN (`null` in JSON, `-` in tables),
    /// see [`Latency::none`].
    pub latency_ms_ci95: Latency,
    /// Per request class.
    pub classes: Vec<ClassSummary>,
    /// Per component.
    pub components: Vec<ComponentSummary>,
    /// SLO verdicts.
    pub slo: SloResult,
    /// Cost.
    pub cost: Cost,
    /// Paired differences against the first strategy (empty for the first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vs_baseline: Vec<PairedDiff>,
    /// The warm-ups `warmup = "auto"` chose, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_warmup: Option<AutoWarmupSummary>,
    /// The servers a real run measured (absent for simulations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<ServersSummary>,
}

/// The servers of a real run, as they were: what a measurement depends on besides the
/// strategy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ServersSummary {
    /// `containers` (started by scalesim) or `external` (`--target`).
    pub source: String,
    /// `durable` or `fast`, the `[real] durability` the containers were started with; absent
    /// for external servers, which scalesim did not configure (see `postgres_settings`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durability: Option<String>,
    /// `fsync`, `full_page_writes` and `synchronous_commit` as the primary reports them
    /// (`SHOW`); empty when it could not be asked.
    #[serde(default)]
    pub postgres_settings: BTreeMap<String, String>,
    /// CPUs per container; `null`: no limit (or external servers).
    pub cpus: Option<f64>,
    /// Memory per container, bytes; `null`: no limit (or external servers).
    pub memory_bytes: Option<i64>,
    /// The images the containers ran (none for external servers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageSummary>,
}

/// One container image of a real run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ImageSummary {
    /// `postgres` or `redis`.
    pub role: String,
    /// The name it was started by, e.g. `postgres:15`.
    pub name: String,
    /// Docker's image id (`sha256:...`), empty when it could not be inspected.
    pub id: String,
    /// `debian-lookalike` (built by `scripts/build-images.sh`, labelled
    /// `org.scalesim.image`), `official` (pulled from Docker Hub's official repository), or
    /// `other`.
    pub kind: String,
}

/// Latency statistics in milliseconds. A figure that does not exist (the confidence interval
/// of a single real run) is NaN, written as `null` in JSON and read back as NaN.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Latency {
    /// Mean.
    #[serde(deserialize_with = "nan_if_null")]
    pub mean: f64,
    /// Median.
    #[serde(deserialize_with = "nan_if_null")]
    pub p50: f64,
    /// 90th percentile.
    #[serde(deserialize_with = "nan_if_null")]
    pub p90: f64,
    /// 95th percentile.
    #[serde(deserialize_with = "nan_if_null")]
    pub p95: f64,
    /// 99th percentile.
    #[serde(deserialize_with = "nan_if_null")]
    pub p99: f64,
    /// 99.9th percentile.
    #[serde(deserialize_with = "nan_if_null")]
    pub p999: f64,
    /// Maximum.
    #[serde(deserialize_with = "nan_if_null")]
    pub max: f64,
    /// Extra percentiles the scenario asked for, keyed like `p99.99`.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "nan_map_if_null"
    )]
    pub extra: BTreeMap<String, f64>,
}

impl Latency {
    /// No figures at all (NaN everywhere, the extra percentiles `percentiles` included): the
    /// confidence interval of a single real run, which does not exist.
    pub fn none(percentiles: &[f64]) -> Latency {
        Latency {
            mean: f64::NAN,
            p50: f64::NAN,
            p90: f64::NAN,
            p95: f64::NAN,
            p99: f64::NAN,
            p999: f64::NAN,
            max: f64::NAN,
            extra: percentiles
                .iter()
                .map(|p| (format!("p{p}"), f64::NAN))
                .collect(),
        }
    }

    /// Whether it holds no figures ([`Latency::none`]).
    pub fn is_none(&self) -> bool {
        self.mean.is_nan() && self.p50.is_nan() && self.p99.is_nan()
    }
}

/// A number, or NaN for `null` (how JSON writes a NaN).
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn nan_map_if_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, f64>, D::Error> {
    let map = BTreeMap::<String, Option<f64>>::deserialize(d)?;
    Ok(map
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or(f64::NAN)))
        .collect())
}

/// One request class's results.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ClassSummary {
    /// Class name.
    pub name: String,
    /// Arrivals.
    pub requests: f64,
    /// Completions.
    pub completed: f64,
    /// Failures.
    pub failed: f64,
    /// Completions per second.
    pub throughput_rps: f64,
    /// Latency, milliseconds.
    pub latency_ms: Latency,
    /// CI half-widths.
    pub latency_ms_ci95: Latency,
}

/// One component's results.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ComponentSummary {
    /// Component name.
    pub name: String,
    /// What it is: `service`, `controller`, `scope` (a try scope), or a real run's `db`,
    /// `cache`, `loadgen`, ...
    #[serde(default)]
    pub kind: String,
    /// Busy fraction of its provisioned workers, time-averaged.
    pub utilization: f64,
    /// 95 % half-width of `utilization` over replications.
    #[serde(default)]
    pub utilization_ci95: f64,
    /// Time-averaged number waiting (not in service).
    pub mean_queue: f64,
    /// Named metrics, snake_case with units in the name (`instances_mean`, `hit_ratio`,
    /// `lag_ms_p99`, `utilization_max_over_mean`, ...).
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// 95 % half-widths of `metrics` over replications (absent for real runs).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics_ci95: BTreeMap<String, f64>,
}

/// SLO verdicts for one strategy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct SloResult {
    /// All checks passed.
    pub passed: bool,
    /// Each check.
    pub checks: Vec<SloCheck>,
}

/// One SLO check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct SloCheck {
    /// Human-readable, e.g. `p99 <= 100ms`.
    pub name: String,
    /// Metric key, e.g. `latency_ms.p99`, `error_rate`, `availability`.
    pub metric: String,
    /// Threshold.
    pub threshold: f64,
    /// Measured value (0 for a component metric that was not measured: its name ends in
    /// `(not measured)` and it fails).
    pub value: f64,
    /// Verdict.
    pub passed: bool,
}

/// Cost figures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Cost {
    /// Currency units per hour of operation at the simulated load.
    pub per_hour: f64,
    /// Currency units per million completed requests.
    pub per_million_requests: f64,
}

/// A paired difference (this strategy minus the baseline) over common-random-number replications.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct PairedDiff {
    /// Metric key, e.g. `latency_ms.p99`.
    pub metric: String,
    /// Baseline strategy name.
    pub baseline: String,
    /// Mean difference.
    pub mean: f64,
    /// 95 % half-width.
    pub ci95: f64,
}

/// One point of a sweep.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepPoint {
    /// Swept parameter name.
    pub parameter: String,
    /// Its value at this point.
    pub value: f64,
    /// Strategies at this point.
    pub strategies: Vec<StrategySummary>,
}

/// Capacity-search result for one strategy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Capacity {
    /// Strategy name.
    pub strategy: String,
    /// Highest load scale that met all SLOs (0 when none did).
    pub max_load_scale: f64,
    /// Offered load at that scale, requests per second (or users for closed workloads).
    pub max_load: f64,
}

/// One tidy time-series row: `strategy, replication, t_s, metric, value`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeriesRow {
    /// Strategy name.
    pub strategy: String,
    /// Replication index.
    pub replication: u32,
    /// Bucket start, seconds since the start of the run.
    pub t_s: f64,
    /// Metric name: `throughput_rps`, `p99_ms`, `queue`, `instances`, `errors`, `lag_ms`, ...
    pub metric: String,
    /// Value.
    pub value: f64,
}

/// An empirical latency CDF for one strategy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cdf {
    /// Strategy name.
    pub strategy: String,
    /// `(latency_ms, cumulative fraction)` points, increasing.
    pub points: Vec<(f64, f64)>,
}
