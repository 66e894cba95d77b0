//! Validation: from [`RawScenario`] to a [`Scenario`] that cannot hold invalid values.
//!
//! Units are resolved to nanoseconds, names to indices, and every impossible value (a negative
//! rate, zero workers, a path naming no station) becomes a [`ScenarioError`] naming the field.

use std::path::Path;

use super::ScenarioError;
use super::raw::*;
use super::units::parse_duration;
use crate::engine::SimTime;
use crate::model::dist::Dist;
use crate::model::workload::{Arrivals, KeyDist, Load, Mix, RateProfile, Stages, Users};
use crate::model::{Shared, SystemSpec};

mod sessions;
mod topology;

type Res<T> = Result<T, ScenarioError>;

/// A validated scenario for one strategy (and one sweep point).
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Scenario name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Root seed.
    pub seed: u64,
    /// Replications (with [`Scenario::auto_replications`], the count to start with).
    pub replications: u32,
    /// `replications = "auto"`: add replications until the chosen figures are precise enough.
    pub auto_replications: Option<AutoReplications>,
    /// `warmup = "auto"`: each replication's warm-up is chosen by MSER-5 from its own latency
    /// series ([`crate::stats::mser`]); `system.warmup` is then 0, the pilot run's.
    pub auto_warmup: bool,
    /// Extra percentiles to report (e.g. 99.99).
    pub percentiles: Vec<f64>,
    /// The system to simulate.
    pub system: SystemSpec,
    /// Service-level objectives.
    pub slo: Slo,
    /// Prices.
    pub prices: Prices,
    /// Station names, by index.
    pub station_names: Vec<String>,
    /// Class names, by index.
    pub class_names: Vec<String>,
    /// The `[real]` table, validated by the real driver.
    pub real: Option<toml::Table>,
    /// Valid but probably not meant (printed as warnings).
    pub warnings: Vec<ScenarioError>,
}

impl Scenario {
    /// The scenario with its load multiplied by `k`.
    pub fn scaled(&self, k: f64) -> Scenario {
        let mut s = self.clone();
        s.system.load = self.system.load.scaled(k);
        s
    }
}

/// The stopping rule of `replications = "auto"`: replications are added until the 95 %
/// half-width of every figure in `metrics` is at most `precision` times its mean, in every
/// strategy and sweep point, or `max` replications have run.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoReplications {
    /// Replications run first.
    pub min: u32,
    /// Most replications.
    pub max: u32,
    /// Target relative half-width (0.05: ±5 % of the mean).
    pub precision: f64,
    /// Latency figures judged: `mean`, `p50`, `p90`, `p95`, `p99`, `p999`, `max`.
    pub metrics: Vec<String>,
}

/// Replications `replications = "auto"` runs first (fewer than `max_replications` if that is
/// lower): a t interval from two is too wide to tell how many more are needed.
pub const AUTO_MIN_REPLICATIONS: u32 = 3;

/// Default relative half-width of `replications = "auto"`.
pub const AUTO_PRECISION: f64 = 0.05;

/// Figures `precision_metrics` may name (keys of `latency_ms` in `summary.json`).
pub const PRECISION_METRICS: [&str; 7] = ["mean", "p50", "p90", "p95", "p99", "p999", "max"];

/// SLO thresholds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Slo {
    /// `(statistic, threshold ms)`: statistic is `mean`, `p50`, `p90`, `p95`, `p99` or `p999`.
    pub latency_ms: Vec<(String, f64)>,
    /// Highest acceptable error rate (0..1).
    pub max_error_rate: Option<f64>,
    /// Lowest acceptable availability (0..1).
    pub min_availability: Option<f64>,
    /// Lowest acceptable throughput, requests per second.
    pub min_throughput: Option<f64>,
    /// Highest acceptable ratio of the cost per million requests at a sweep's last point to
    /// its first (1: cost grows linearly with the load).
    pub max_cost_growth: Option<f64>,
    /// Bounds on components' metrics: `(component, metric, max, min)` (`slo.components`, keyed
    /// `"COMPONENT.METRIC"`: `"recommendations.e2e_ms_p99" = { max = 60000 }`).
    pub components: Vec<(String, String, Option<f64>, Option<f64>)>,
}

/// Prices in currency units.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prices {
    /// Per worker-hour, by service index.
    pub worker_hour: Vec<f64>,
    /// Per instance-hour, by service index.
    pub instance_hour: Vec<f64>,
    /// Per million requests.
    pub per_million_requests: f64,
    /// Fixed per hour.
    pub fixed_per_hour: f64,
}

pub(super) struct V<'a> {
    file: &'a Path,
    base_dir: &'a Path,
}

impl V<'_> {
    pub(super) fn err(&self, field: impl Into<String>, msg: impl Into<String>) -> ScenarioError {
        ScenarioError::new(self.file, field, msg)
    }

    pub(super) fn dur(&self, field: &str, d: &RawDur) -> Res<f64> {
        let s = match d {
            RawDur::Secs(s) => *s,
            RawDur::Text(t) => parse_duration(t).map_err(|m| self.err(field, m))?,
        };
        if !s.is_finite() || s < 0.0 {
            return Err(self.err(field, format!("must be a non-negative duration, got {s}")));
        }
        Ok(s)
    }

    pub(super) fn ns(&self, field: &str, d: &RawDur) -> Res<u64> {
        Ok(SimTime::from_secs_f64(self.dur(field, d)?).0)
    }

    pub(super) fn opt_ns(&self, field: &str, d: &Option<RawDur>) -> Res<Option<u64>> {
        d.as_ref().map(|d| self.ns(field, d)).transpose()
    }

    pub(super) fn positive(&self, field: &str, x: Option<f64>) -> Res<f64> {
        let x = x.ok_or_else(|| self.err(field, "is required here"))?;
        if !(x.is_finite() && x > 0.0) {
            return Err(self.err(field, format!("must be positive, got {x}")));
        }
        Ok(x)
    }

    pub(super) fn non_negative(&self, field: &str, x: f64) -> Res<f64> {
        if !(x.is_finite() && x >= 0.0) {
            return Err(self.err(field, format!("must be zero or positive, got {x}")));
        }
        Ok(x)
    }

    pub(super) fn fraction(&self, field: &str, x: f64) -> Res<f64> {
        if !(0.0..=1.0).contains(&x) {
            return Err(self.err(field, format!("must be between 0 and 1, got {x}")));
        }
        Ok(x)
    }
}

/// Validates `raw` (read from `file`); relative data files resolve against the file's folder.
pub fn validate(raw: &RawScenario, file: &Path) -> Res<Scenario> {
    let base_dir = file.parent().unwrap_or(Path::new("."));
    let v = V { file, base_dir };
    let duration = v.ns("duration", &raw.duration)?;
    if duration == 0 {
        return Err(v.err("duration", "must be longer than zero"));
    }
    let auto_warmup = matches!(&raw.warmup, Some(RawDur::Text(t)) if t.trim() == "auto");
    let warmup = if auto_warmup {
        0
    } else {
        v.opt_ns("warmup", &raw.warmup)?.unwrap_or(0)
    };
    if warmup >= duration {
        return Err(v.err(
            "warmup",
            "must be shorter than `duration` (the warm-up is part of it)",
        ));
    }
    let (replications, auto_replications) = replications(&v, raw)?;
    let bucket = v
        .opt_ns("bucket", &raw.bucket)?
        .unwrap_or((duration / 120).max(1));
    if bucket == 0 || duration / bucket > 100_000 {
        return Err(v.err("bucket", "must be positive and give at most 100000 buckets"));
    }
    for (i, p) in raw.percentiles.iter().enumerate() {
        if !(*p > 0.0 && *p < 100.0) {
            return Err(v.err(
                format!("percentiles.{i}"),
                format!("must be between 0 and 100 (exclusive), got {p}"),
            ));
        }
    }
    let class_names: Vec<String> = raw.classes.keys().cloned().collect();
    if class_names.is_empty() {
        return Err(v.err("classes", "define at least one request class"));
    }
    let keys = raw
        .workload
        .keys
        .as_ref()
        .map(|k| keys(&v, k))
        .transpose()?
        .unwrap_or(KeyDist::None);
    let services = topology::services(&v, raw, &class_names)?;
    let station_names: Vec<String> = services.iter().map(|s| s.name().to_string()).collect();
    // Guards, controllers and services report as components: one namespace.
    for (section, names) in [
        ("budgets", raw.budgets.keys().collect::<Vec<_>>()),
        ("bulkheads", raw.bulkheads.keys().collect()),
        ("breakers", raw.breakers.keys().collect()),
        ("caches", raw.caches.keys().collect()),
        ("databases", raw.databases.keys().collect()),
        ("pools", raw.pools.keys().collect()),
        ("topics", raw.topics.keys().collect()),
        ("consumers", raw.consumers.keys().collect()),
    ] {
        if let Some(n) = names
            .iter()
            .find(|n| station_names.contains(n) || raw.controllers.contains_key(n.as_str()))
        {
            return Err(v.err(
                format!("{section}.{n}"),
                format!("`{n}` is also a service or controller: components need distinct names"),
            ));
        }
    }
    let budgets = topology::budgets(&v, raw)?;
    let bulkheads = topology::bulkheads(&v, raw)?;
    let breakers = topology::breakers(&v, raw)?;
    let mut registry = topology::Registry {
        budgets: budgets.iter().map(|b| b.0.clone()).collect(),
        bulkheads: bulkheads.iter().map(|b| b.0.clone()).collect(),
        breakers: breakers.iter().map(|b| b.0.clone()).collect(),
        breaker_timeouts: breakers.iter().map(|b| b.2).collect(),
        ..Default::default()
    };
    let tiers = topology::tiers(&v, raw, &station_names, &keys)?;
    let db_names: Vec<String> = raw.databases.keys().cloned().collect();
    let pools = topology::pools(&v, raw, &station_names)?;
    registry.warnings.extend(topology::unused_limits(&v, raw));
    let topics = topology::topics(&v, raw)?;
    let topic_names: Vec<String> = raw.topics.keys().cloned().collect();
    let regions = topology::regions(&v, raw)?;
    let group_names: Vec<String> = raw.consumers.keys().cloned().collect();
    let class_regions = topology::class_regions(&v, raw, &regions)?;
    let declared = topology::Declared {
        tiers: &tiers,
        databases: &db_names,
        pools: &pools,
        topics: &topic_names,
        regions: &regions.names,
        groups: &group_names,
    };
    let classes = raw
        .classes
        .iter()
        .map(|(n, c)| topology::class(&v, n, c, &station_names, &keys, &mut registry, &declared))
        .collect::<Res<Vec<_>>>()?;
    let groups = topology::groups(&v, raw, &station_names, &keys, &mut registry, &declared)?;
    let controllers = topology::controllers(&v, raw, &station_names)?;
    let weights: Vec<f64> = raw
        .classes
        .iter()
        .map(|(n, c)| v.non_negative(&format!("classes.{n}.weight"), c.weight))
        .collect::<Res<_>>()?;
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return Err(v.err("classes", "class weights must not all be zero"));
    }
    let mut acc = 0.0;
    let mut cumulative: Vec<f64> = weights
        .iter()
        .map(|w| {
            acc += w / total;
            acc
        })
        .collect();
    *cumulative.last_mut().expect("non-empty") = 1.0;
    let load = workload(&v, &raw.workload, warmup)?;
    let readers = match &load {
        Load::Closed(u) => u.target.max().ceil() as u64,
        Load::Open(_) => keys.space(),
    };
    let databases = topology::databases(&v, raw, &station_names, keys.space(), readers)?;
    let slo = slo(&v, &raw.slo)?;
    let prices = prices(&v, &raw.prices, &station_names)?;
    Ok(Scenario {
        name: raw.name.clone(),
        description: raw.description.clone(),
        seed: raw.seed.unwrap_or(1),
        replications,
        auto_replications,
        auto_warmup,
        percentiles: raw.percentiles.clone(),
        system: SystemSpec {
            services,
            classes,
            controllers,
            load,
            mix: Mix { cumulative, keys },
            duration,
            warmup,
            bucket,
            shared: Shared {
                budgets,
                bulkheads,
                breakers: breakers.into_iter().map(|(n, b, _)| (n, b)).collect(),
                tables: registry.tables,
                degrades: registry.degrades,
                tiers,
                databases,
                pools,
                sagas: registry.sagas,
                topics,
                groups,
                regions,
                class_regions,
                sessions: sessions::sessions(&v, raw, &class_names)?,
            },
        },
        slo,
        prices,
        station_names,
        class_names,
        real: raw.real.clone(),
        warnings: registry.warnings,
    })
}

/// `replications`: a count, or `"auto"` with `max_replications` and optionally `precision`
/// and `precision_metrics` (which mean nothing without it, so they are refused alone).
fn replications(v: &V<'_>, raw: &RawScenario) -> Res<(u32, Option<AutoReplications>)> {
    let auto = match &raw.replications {
        None => false,
        Some(RawReplications::Number(n)) => {
            if *n < 1 || *n > i64::from(u32::MAX) {
                return Err(v.err("replications", format!("must be at least 1, got {n}")));
            }
            false
        }
        Some(RawReplications::Text(t)) if t.trim() == "auto" => true,
        Some(RawReplications::Text(t)) => {
            return Err(v.err(
                "replications",
                format!("must be a whole number or \"auto\", got \"{t}\""),
            ));
        }
    };
    if !auto {
        for (field, given) in [
            ("max_replications", raw.max_replications.is_some()),
            ("precision", raw.precision.is_some()),
            ("precision_metrics", raw.precision_metrics.is_some()),
        ] {
            if given {
                return Err(v.err(field, "is only used with `replications = \"auto\"`"));
            }
        }
        let n = match &raw.replications {
            Some(RawReplications::Number(n)) => *n as u32,
            _ => 1,
        };
        return Ok((n, None));
    }
    let max = raw.max_replications.ok_or_else(|| {
        v.err(
            "replications",
            "`\"auto\"` needs a maximum: add `max_replications = N` (e.g. 20)",
        )
    })?;
    if !(2..=i64::from(u32::MAX)).contains(&max) {
        return Err(v.err(
            "max_replications",
            format!("must be at least 2 (an interval needs two replications), got {max}"),
        ));
    }
    let precision = raw.precision.unwrap_or(AUTO_PRECISION);
    if !(precision > 0.0 && precision < 1.0) {
        return Err(v.err(
            "precision",
            format!("is a relative half-width, between 0 and 1 (exclusive), got {precision}"),
        ));
    }
    let metrics = raw
        .precision_metrics
        .clone()
        .unwrap_or_else(|| vec!["p99".to_string()]);
    if metrics.is_empty() {
        return Err(v.err("precision_metrics", "name at least one figure"));
    }
    for (i, m) in metrics.iter().enumerate() {
        if !PRECISION_METRICS.contains(&m.as_str()) {
            return Err(v
                .err(
                    format!("precision_metrics.{i}"),
                    format!(
                        "unknown figure `{m}` (one of {})",
                        PRECISION_METRICS.join(", ")
                    ),
                )
                .suggest(m, PRECISION_METRICS));
        }
    }
    let max = max as u32;
    let min = AUTO_MIN_REPLICATIONS.min(max);
    Ok((
        min,
        Some(AutoReplications {
            min,
            max,
            precision,
            metrics,
        }),
    ))
}

/// Validates a distribution at `field`.
pub(super) fn dist(v: &V<'_>, field: &str, d: &RawDist) -> Res<Dist> {
    let t = match d {
        RawDist::Constant(x) => return Ok(Dist::Constant(v.dur(field, x)?)),
        RawDist::Table(t) => t,
    };
    let g = |k: &str, x: &Option<RawDur>| -> Res<f64> {
        let x = x.as_ref().ok_or_else(|| {
            v.err(
                format!("{field}.{k}"),
                format!("is required for `{}`", t.dist),
            )
        })?;
        v.dur(&format!("{field}.{k}"), x)
    };
    let bad = |what: &str| v.err(field, format!("invalid {} parameters: {what}", t.dist));
    Ok(match t.dist.as_str() {
        "constant" => Dist::Constant(g("value", &t.value)?),
        "exponential" | "exp" => Dist::Exponential {
            mean: positive_dur(v, field, g("mean", &t.mean)?)?,
        },
        "uniform" => {
            let (lo, hi) = (g("min", &t.min)?, g("max", &t.max)?);
            if hi < lo {
                return Err(bad("max must be at least min"));
            }
            Dist::Uniform { lo, hi }
        }
        "normal" => {
            let (mean, sd) = (g("mean", &t.mean)?, g("sd", &t.sd)?);
            let min = t
                .min
                .as_ref()
                .map(|m| v.dur(field, m))
                .transpose()?
                .unwrap_or(0.0);
            let max = t
                .max
                .as_ref()
                .map(|m| v.dur(field, m))
                .transpose()?
                .unwrap_or(f64::INFINITY);
            if max < min {
                return Err(bad("max must be at least min"));
            }
            Dist::Normal { mean, sd, min, max }
        }
        "lognormal" => lognormal(v, field, t)?,
        "gamma" => Dist::gamma(shape(v, field, t)?, g("scale", &t.scale)?)
            .ok_or_else(|| bad("shape and scale must be positive"))?,
        "weibull" => Dist::weibull(g("scale", &t.scale)?, shape(v, field, t)?)
            .ok_or_else(|| bad("shape and scale must be positive"))?,
        "pareto" => Dist::Pareto {
            xm: positive_dur(v, field, g("scale", &t.scale)?)?,
            alpha: shape(v, field, t)?,
        },
        "empirical" => empirical(v, field, t)?,
        "mixture" => mixture(v, field, t)?,
        other => {
            return Err(v
                .err(
                    format!("{field}.dist"),
                    format!("unknown distribution `{other}`"),
                )
                .suggest(other, DISTS));
        }
    })
}

const DISTS: [&str; 10] = [
    "constant",
    "exponential",
    "uniform",
    "normal",
    "lognormal",
    "gamma",
    "weibull",
    "pareto",
    "empirical",
    "mixture",
];

fn positive_dur(v: &V<'_>, field: &str, x: f64) -> Res<f64> {
    if x > 0.0 {
        Ok(x)
    } else {
        Err(v.err(field, "must be longer than zero"))
    }
}

fn shape(v: &V<'_>, field: &str, t: &RawDistTable) -> Res<f64> {
    v.positive(&format!("{field}.shape"), t.shape)
}

fn lognormal(v: &V<'_>, field: &str, t: &RawDistTable) -> Res<Dist> {
    if let (Some(m), Some(p)) = (&t.median, &t.p99) {
        let (m, p) = (v.dur(field, m)?, v.dur(field, p)?);
        return Dist::lognormal_median_p99(m, p)
            .ok_or_else(|| v.err(format!("{field}.p99"), "needs 0 < median < p99"));
    }
    let mu = t.mu.ok_or_else(|| {
        v.err(
            field,
            "lognormal needs `median` and `p99`, or `mu` and `sigma`",
        )
    })?;
    if !mu.is_finite() {
        return Err(v.err(
            format!("{field}.mu"),
            format!("must be a finite number, got {mu}"),
        ));
    }
    let sigma = v.positive(&format!("{field}.sigma"), t.sigma)?;
    Dist::lognormal(mu, sigma).ok_or_else(|| v.err(field, "invalid lognormal parameters"))
}

fn empirical(v: &V<'_>, field: &str, t: &RawDistTable) -> Res<Dist> {
    let durs = |k: &str, xs: &[RawDur]| {
        xs.iter()
            .enumerate()
            .map(|(i, x)| v.dur(&format!("{field}.{k}.{i}"), x))
            .collect::<Res<Vec<f64>>>()
    };
    if let (Some(edges), Some(weights)) = (&t.edges, &t.weights) {
        let edges = durs("edges", edges)?;
        if edges.len() != weights.len() + 1
            || weights.is_empty()
            || edges.windows(2).any(|w| w[1] < w[0])
        {
            return Err(v.err(
                format!("{field}.edges"),
                "a histogram needs increasing edges, one more than weights",
            ));
        }
        return Ok(Dist::Empirical {
            values: edges,
            cumulative: cumulative(v, &format!("{field}.weights"), weights)?,
        });
    }
    let mut values = match (&t.samples, &t.file) {
        (Some(s), _) => durs("samples", s)?,
        (None, Some(path)) => read_samples(v, &format!("{field}.file"), path)?,
        _ => {
            return Err(v.err(
                field,
                "empirical needs `samples`, `file`, or `edges` and `weights`",
            ));
        }
    };
    if values.is_empty() {
        return Err(v.err(field, "empirical needs at least one sample"));
    }
    values.sort_by(f64::total_cmp);
    Ok(Dist::Empirical {
        values,
        cumulative: Vec::new(),
    })
}

/// Reads one duration (seconds, or with a unit) per line; `#` comments and a header are skipped.
fn read_samples(v: &V<'_>, field: &str, path: &str) -> Res<Vec<f64>> {
    let full = v.base_dir.join(path);
    let text = std::fs::read_to_string(&full)
        .map_err(|e| v.err(field, format!("cannot read `{}`: {e}", full.display())))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let cell = line.split(',').next().unwrap_or("").trim();
        if cell.is_empty()
            || cell.starts_with('#')
            || (i == 0 && cell.parse::<f64>().is_err() && parse_duration(cell).is_err())
        {
            continue;
        }
        let x = cell
            .parse::<f64>()
            .or_else(|_| parse_duration(cell))
            .map_err(|m| v.err(field, format!("{}:{}: {m}", full.display(), i + 1)))?;
        out.push(x);
    }
    Ok(out)
}

fn cumulative(v: &V<'_>, field: &str, weights: &[f64]) -> Res<Vec<f64>> {
    let total: f64 = weights.iter().sum();
    if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || total <= 0.0 {
        return Err(v.err(field, "weights must be non-negative and not all zero"));
    }
    let mut acc = 0.0;
    let mut c: Vec<f64> = weights
        .iter()
        .map(|w| {
            acc += w / total;
            acc
        })
        .collect();
    *c.last_mut().expect("non-empty") = 1.0;
    Ok(c)
}

fn mixture(v: &V<'_>, field: &str, t: &RawDistTable) -> Res<Dist> {
    let parts = t
        .parts
        .as_ref()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| v.err(field, "mixture needs `parts`"))?;
    let weights: Vec<f64> = parts.iter().map(|p| p.weight).collect();
    let dists = parts
        .iter()
        .enumerate()
        .map(|(i, p)| dist(v, &format!("{field}.parts.{i}.of"), &p.of))
        .collect::<Res<_>>()?;
    Ok(Dist::Mixture {
        parts: dists,
        cumulative: cumulative(v, &format!("{field}.parts"), &weights)?,
    })
}

fn keys(v: &V<'_>, k: &RawKeys) -> Res<KeyDist> {
    if k.n == 0 {
        return Err(v.err("workload.keys.n", "must be at least 1"));
    }
    let d = match k.dist.as_str() {
        "uniform" => Ok(KeyDist::Uniform { n: k.n }),
        "zipf" => {
            let alpha = v.positive("workload.keys.alpha", k.alpha)?;
            KeyDist::zipf(k.n, alpha)
                .ok_or_else(|| v.err("workload.keys", "invalid zipf parameters"))
        }
        "hotspot" => Ok(KeyDist::Hotspot {
            n: k.n,
            hot_fraction: v
                .fraction("workload.keys.hot_fraction", k.hot_fraction.unwrap_or(0.2))?,
            hot_share: v.fraction("workload.keys.hot_share", k.hot_share.unwrap_or(0.8))?,
        }),
        other => Err(v
            .err(
                "workload.keys.dist",
                format!("unknown key distribution `{other}`"),
            )
            .suggest(other, ["uniform", "zipf", "hotspot"])),
    }?;
    Ok(if k.scatter {
        KeyDist::scattered(d, k.n)
    } else {
        d
    })
}

const WORKLOADS: [&str; 11] = [
    "constant", "poisson", "ramp", "stages", "spike", "diurnal", "mmpp", "replay", "trace",
    "users", "batch",
];

fn workload(v: &V<'_>, w: &RawWorkload, warmup: u64) -> Res<Load> {
    let rate = |x: Option<f64>| v.positive("workload.rate", x);
    let profile = |p| Ok(Load::Open(Arrivals::Poisson(p)));
    match w.kind.as_str() {
        "constant" => Ok(Load::Open(Arrivals::Constant {
            rate: rate(w.rate)?,
        })),
        "poisson" => profile(RateProfile::Stages(Stages {
            start: rate(w.rate)?,
            points: vec![],
        })),
        "ramp" => {
            let from = v.non_negative("workload.from", w.from.unwrap_or(0.0))?;
            let to = v.positive("workload.to", w.to)?;
            let over = v.ns(
                "workload.over",
                w.over
                    .as_ref()
                    .ok_or_else(|| v.err("workload.over", "is required for a ramp"))?,
            )?;
            profile(RateProfile::Stages(Stages {
                start: from,
                points: vec![(over.max(1), to)],
            }))
        }
        "stages" => profile(RateProfile::Stages(stages(v, w)?)),
        "spike" => profile(RateProfile::Spike {
            base: rate(w.base.or(w.rate))?,
            multiplier: v.positive("workload.multiplier", w.multiplier)?,
            at: req_ns(v, "at", &w.at)?,
            ramp: req_ns(v, "ramp", &w.ramp)?,
            hold: req_ns(v, "hold", &w.hold)?,
        }),
        "diurnal" => {
            let amplitude = v.fraction("workload.amplitude", w.amplitude.unwrap_or(0.5))?;
            let period = req_ns(v, "period", &w.period)?.max(1);
            let phase = w.phase.unwrap_or(0.0);
            if !phase.is_finite() {
                return Err(v.err(
                    "workload.phase",
                    format!("must be a finite number of radians, got {phase}"),
                ));
            }
            profile(RateProfile::Diurnal {
                mean: rate(w.mean.or(w.rate))?,
                amplitude,
                period,
                phase,
            })
        }
        "mmpp" => mmpp(v, w),
        "replay" => replay(v, w),
        "trace" => rate_trace(v, w),
        "batch" => {
            // `count` requests all at once (contending clients, a cache stampede), by default
            // when the warm-up ends, so that they are measured.
            let n = v.positive("workload.count", w.count)?;
            if n > 10_000_000.0 || n.fract() != 0.0 {
                return Err(v.err(
                    "workload.count",
                    format!("must be a whole number up to 10000000, got {n}"),
                ));
            }
            let at = v.opt_ns("workload.at", &w.at)?.unwrap_or(warmup);
            Ok(Load::Open(Arrivals::Replay(vec![at; n as usize].into())))
        }
        "users" => users(v, w),
        other => Err(v
            .err("workload.type", format!("unknown workload type `{other}`"))
            .suggest(other, WORKLOADS)),
    }
}

fn req_ns(v: &V<'_>, k: &str, d: &Option<RawDur>) -> Res<u64> {
    let field = format!("workload.{k}");
    v.ns(
        &field,
        d.as_ref()
            .ok_or_else(|| v.err(&field, "is required for this workload type"))?,
    )
}

fn stages(v: &V<'_>, w: &RawWorkload) -> Res<Stages> {
    if w.stages.is_empty() {
        return Err(v.err(
            "workload.stages",
            "needs at least one `{ duration, target }` stage",
        ));
    }
    let mut t = 0u64;
    let mut points = Vec::new();
    for (i, s) in w.stages.iter().enumerate() {
        t = t.saturating_add(
            v.ns(&format!("workload.stages.{i}.duration"), &s.duration)?
                .max(1),
        );
        points.push((
            t,
            v.non_negative(&format!("workload.stages.{i}.target"), s.target)?,
        ));
    }
    Ok(Stages {
        start: v.non_negative("workload.start", w.start.unwrap_or(0.0))?,
        points,
    })
}

fn mmpp(v: &V<'_>, w: &RawWorkload) -> Res<Load> {
    let rates = w
        .rates
        .as_ref()
        .filter(|r| r.len() == 2)
        .ok_or_else(|| v.err("workload.rates", "mmpp needs two rates, [low, high]"))?;
    let sojourn = w
        .sojourn
        .as_ref()
        .filter(|r| r.len() == 2)
        .ok_or_else(|| v.err("workload.sojourn", "mmpp needs two mean sojourn times"))?;
    let r = [
        v.non_negative("workload.rates.0", rates[0])?,
        v.non_negative("workload.rates.1", rates[1])?,
    ];
    let s = [
        v.dur("workload.sojourn.0", &sojourn[0])?,
        v.dur("workload.sojourn.1", &sojourn[1])?,
    ];
    if s[0] <= 0.0 || s[1] <= 0.0 {
        return Err(v.err("workload.sojourn", "sojourn times must be longer than zero"));
    }
    Ok(Load::Open(Arrivals::Mmpp {
        rates: r,
        sojourn: s,
    }))
}

fn replay(v: &V<'_>, w: &RawWorkload) -> Res<Load> {
    let path = w
        .file
        .as_ref()
        .ok_or_else(|| v.err("workload.file", "replay needs a CSV file of arrival times"))?;
    let mut times: Vec<u64> = read_samples(v, "workload.file", path)?
        .into_iter()
        .map(|s| SimTime::from_secs_f64(s).0)
        .collect();
    times.sort_unstable();
    Ok(Load::Open(Arrivals::Replay(times.into())))
}

/// `type = "trace"`: Poisson arrivals at a recorded request rate, `metric` of a
/// `timestamp,metric,value` CSV ([`super::trace`]), linear between samples.
fn rate_trace(v: &V<'_>, w: &RawWorkload) -> Res<Load> {
    let path = w.file.as_ref().ok_or_else(|| {
        v.err(
            "workload.file",
            "a trace workload needs a CSV of `timestamp,metric,value` rows",
        )
    })?;
    let metric = w.metric.as_ref().ok_or_else(|| {
        v.err(
            "workload.metric",
            "names the request-rate metric of the trace, e.g. `requests_per_second`",
        )
    })?;
    let trace =
        super::trace::read(&v.base_dir.join(path)).map_err(|m| v.err("workload.file", m))?;
    let samples = trace.get(metric).ok_or_else(|| {
        v.err(
            "workload.metric",
            format!("the trace has no metric `{metric}`"),
        )
        .suggest(metric, trace.keys().map(String::as_str))
    })?;
    let start = samples[0].1;
    let points = samples[1..]
        .iter()
        .map(|&(t, r)| (SimTime::from_secs_f64(t).0, r))
        .collect();
    if samples.iter().all(|s| s.1 <= 0.0) {
        return Err(v.err("workload.metric", format!("`{metric}` is zero throughout")));
    }
    Ok(Load::Open(Arrivals::Poisson(RateProfile::Stages(Stages {
        start,
        points,
    }))))
}

fn users(v: &V<'_>, w: &RawWorkload) -> Res<Load> {
    let think = match &w.think {
        Some(d) => dist(v, "workload.think", d)?,
        None => Dist::Constant(0.0),
    };
    let target = if w.stages.is_empty() {
        let n = v.positive("workload.users", w.users)?;
        let ramp = v.opt_ns("workload.ramp_up", &w.ramp_up)?.unwrap_or(0);
        Stages {
            start: if ramp == 0 { n } else { 0.0 },
            points: if ramp == 0 { vec![] } else { vec![(ramp, n)] },
        }
    } else {
        stages(v, w)?
    };
    if target.max() > 10_000_000.0 {
        return Err(v.err("workload.users", "at most 10000000 users"));
    }
    Ok(Load::Closed(Users { target, think }))
}

fn slo(v: &V<'_>, s: &RawSlo) -> Res<Slo> {
    let mut latency_ms = Vec::new();
    for (k, d) in [
        ("mean", &s.mean),
        ("p50", &s.p50),
        ("p90", &s.p90),
        ("p95", &s.p95),
        ("p99", &s.p99),
        ("p999", &s.p999),
    ] {
        if let Some(d) = d {
            latency_ms.push((k.to_string(), v.dur(&format!("slo.{k}"), d)? * 1e3));
        }
    }
    Ok(Slo {
        latency_ms,
        max_error_rate: s
            .max_error_rate
            .map(|x| v.fraction("slo.max_error_rate", x))
            .transpose()?,
        min_availability: s
            .min_availability
            .map(|x| v.fraction("slo.min_availability", x))
            .transpose()?,
        min_throughput: s
            .min_throughput
            .map(|x| v.non_negative("slo.min_throughput", x))
            .transpose()?,
        max_cost_growth: s
            .max_cost_growth
            .map(|x| v.positive("slo.max_cost_growth", Some(x)))
            .transpose()?,
        components: s
            .components
            .iter()
            .map(|(key, b)| {
                let f = format!("slo.components.{key}");
                let Some((component, metric)) = key.split_once('.') else {
                    return Err(v.err(
                        &f,
                        "name a component's metric as \"COMPONENT.METRIC\" (\"email.e2e_ms_p99\")",
                    ));
                };
                if b.max.is_none() && b.min.is_none() {
                    return Err(v.err(&f, "give `max`, `min` or both"));
                }
                for x in [b.max, b.min].into_iter().flatten() {
                    if !x.is_finite() {
                        return Err(v.err(&f, format!("a bound is a finite number, got {x}")));
                    }
                }
                Ok((component.to_string(), metric.to_string(), b.max, b.min))
            })
            .collect::<Res<_>>()?,
    })
}

fn prices(v: &V<'_>, p: &RawPrices, services: &[String]) -> Res<Prices> {
    let per_service = |table: &std::collections::BTreeMap<String, f64>, what: &str| {
        let mut out = vec![0.0; services.len()];
        for (name, price) in table {
            let field = format!("prices.{what}.{name}");
            let i = services.iter().position(|s| s == name).ok_or_else(|| {
                v.err(&field, format!("no service named `{name}`"))
                    .suggest(name, services.iter().map(String::as_str))
            })?;
            out[i] = v.non_negative(&field, *price)?;
        }
        Ok::<_, ScenarioError>(out)
    };
    Ok(Prices {
        worker_hour: per_service(&p.worker_hour, "worker_hour")?,
        instance_hour: per_service(&p.instance_hour, "instance_hour")?,
        per_million_requests: v
            .non_negative("prices.per_million_requests", p.per_million_requests)?,
        fixed_per_hour: v.non_negative("prices.fixed_per_hour", p.fixed_per_hour)?,
    })
}
