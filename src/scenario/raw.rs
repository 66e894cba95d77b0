#![allow(missing_docs)] // fields mirror the file format, documented in README.md
//! The scenario file as written: a serde mirror with `deny_unknown_fields`, no validation.
//!
//! Every field is documented in README.md ("Scenario format"). Optional sections default to
//! empty; the validated form in [`super::valid`] fills in the documented defaults.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A number or a duration string (`"5ms"`); bare numbers are seconds.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum RawDur {
    /// Seconds.
    Secs(f64),
    /// With a unit.
    Text(String),
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub duration: RawDur,
    #[serde(default)]
    pub warmup: Option<RawDur>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub replications: Option<u32>,
    #[serde(default)]
    pub bucket: Option<RawDur>,
    #[serde(default)]
    pub percentiles: Vec<f64>,
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    pub workload: RawWorkload,
    pub classes: BTreeMap<String, RawClass>,
    pub stations: BTreeMap<String, RawStation>,
    #[serde(default)]
    pub strategies: Vec<RawStrategy>,
    #[serde(default)]
    pub slo: RawSlo,
    #[serde(default)]
    pub prices: RawPrices,
    #[serde(default)]
    pub sweep: Option<RawSweep>,
    #[serde(default)]
    pub capacity: Option<RawCapacity>,
    #[serde(default)]
    pub real: Option<toml::Table>,
}

/// `[workload]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    #[serde(rename = "type")]
    pub kind: String,
    pub rate: Option<f64>,
    pub from: Option<f64>,
    pub to: Option<f64>,
    pub over: Option<RawDur>,
    pub start: Option<f64>,
    #[serde(default)]
    pub stages: Vec<RawStage>,
    pub base: Option<f64>,
    pub multiplier: Option<f64>,
    pub at: Option<RawDur>,
    pub ramp: Option<RawDur>,
    pub hold: Option<RawDur>,
    pub mean: Option<f64>,
    pub amplitude: Option<f64>,
    pub period: Option<RawDur>,
    pub phase: Option<f64>,
    pub rates: Option<Vec<f64>>,
    pub sojourn: Option<Vec<RawDur>>,
    pub file: Option<String>,
    pub users: Option<f64>,
    pub ramp_up: Option<RawDur>,
    pub think: Option<RawDist>,
    pub keys: Option<RawKeys>,
}

/// One k6-style stage.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub duration: RawDur,
    pub target: f64,
}

/// `keys = { dist = "zipf", n = 100000, alpha = 0.99 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeys {
    pub dist: String,
    pub n: u64,
    pub alpha: Option<f64>,
    pub hot_fraction: Option<f64>,
    pub hot_share: Option<f64>,
}

/// A distribution: a duration string (constant) or a table.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawDist {
    /// A constant.
    Constant(RawDur),
    /// A parameterised distribution.
    Table(Box<RawDistTable>),
}

/// `{ dist = "...", ... }`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDistTable {
    pub dist: String,
    pub value: Option<RawDur>,
    pub mean: Option<RawDur>,
    pub median: Option<RawDur>,
    pub p99: Option<RawDur>,
    pub mu: Option<f64>,
    pub sigma: Option<f64>,
    pub sd: Option<RawDur>,
    pub min: Option<RawDur>,
    pub max: Option<RawDur>,
    pub shape: Option<f64>,
    pub scale: Option<RawDur>,
    pub samples: Option<Vec<RawDur>>,
    pub edges: Option<Vec<RawDur>>,
    pub weights: Option<Vec<f64>>,
    pub file: Option<String>,
    pub parts: Option<Vec<RawPart>>,
}

/// A mixture part: a weight and a distribution.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPart {
    pub weight: f64,
    pub of: RawDist,
}

/// `[classes.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClass {
    #[serde(default = "one")]
    pub weight: f64,
    pub path: Vec<RawStep>,
    pub timeout: Option<RawDur>,
}

fn one() -> f64 {
    1.0
}

/// A path step: a station name, `{ fork = [..] }` or `{ delay = dist }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawStep {
    /// Visit a station.
    Visit(String),
    /// Fork/join or delay.
    Special(RawSpecialStep),
}

/// `{ fork = ["a", "b"] }` or `{ delay = "5ms" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpecialStep {
    pub fork: Option<Vec<String>>,
    pub delay: Option<RawDist>,
}

/// `[stations.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStation {
    #[serde(default = "one_u32")]
    pub workers: i64,
    #[serde(default)]
    pub discipline: Option<String>,
    pub queue_capacity: Option<i64>,
    pub service: RawDist,
    #[serde(default)]
    pub service_by_class: BTreeMap<String, RawDist>,
}

fn one_u32() -> i64 {
    1
}

/// `[[strategies]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStrategy {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub set: BTreeMap<String, toml::Value>,
}

/// `[slo]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    pub mean: Option<RawDur>,
    pub p50: Option<RawDur>,
    pub p90: Option<RawDur>,
    pub p95: Option<RawDur>,
    pub p99: Option<RawDur>,
    pub p999: Option<RawDur>,
    pub max_error_rate: Option<f64>,
    pub min_availability: Option<f64>,
    pub min_throughput: Option<f64>,
}

/// `[prices]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPrices {
    #[serde(default)]
    pub worker_hour: BTreeMap<String, f64>,
    #[serde(default)]
    pub per_million_requests: f64,
    #[serde(default)]
    pub fixed_per_hour: f64,
}

/// `[sweep]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    pub param: String,
    pub values: Option<Vec<f64>>,
    pub from: Option<f64>,
    pub to: Option<f64>,
    pub steps: Option<u32>,
}

/// `[capacity]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCapacity {
    #[serde(default = "cap_lo")]
    pub from: f64,
    pub to: f64,
    #[serde(default = "cap_tol")]
    pub tolerance: f64,
}

fn cap_lo() -> f64 {
    0.1
}
fn cap_tol() -> f64 {
    0.02
}
