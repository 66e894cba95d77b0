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

/// A count, or a word such as `"auto"`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum RawReplications {
    /// A number.
    Number(i64),
    /// A word.
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
    pub replications: Option<RawReplications>,
    #[serde(default)]
    pub max_replications: Option<i64>,
    #[serde(default)]
    pub precision: Option<f64>,
    #[serde(default)]
    pub precision_metrics: Option<Vec<String>>,
    #[serde(default)]
    pub bucket: Option<RawDur>,
    #[serde(default)]
    pub percentiles: Vec<f64>,
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    pub workload: RawWorkload,
    pub classes: BTreeMap<String, RawClass>,
    #[serde(default)]
    pub stations: BTreeMap<String, RawStation>,
    #[serde(default)]
    pub services: BTreeMap<String, RawStation>,
    #[serde(default)]
    pub controllers: BTreeMap<String, RawController>,
    #[serde(default)]
    pub budgets: BTreeMap<String, RawBudget>,
    #[serde(default)]
    pub bulkheads: BTreeMap<String, RawBulkhead>,
    #[serde(default)]
    pub breakers: BTreeMap<String, RawBreaker>,
    #[serde(default)]
    pub caches: BTreeMap<String, RawCache>,
    #[serde(default)]
    pub databases: BTreeMap<String, RawDatabase>,
    #[serde(default)]
    pub pools: BTreeMap<String, RawPool>,
    #[serde(default)]
    pub topics: BTreeMap<String, RawTopic>,
    #[serde(default)]
    pub consumers: BTreeMap<String, RawConsumers>,
    pub regions: Option<RawRegions>,
    pub sessions: Option<RawSessions>,
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
    #[serde(default)]
    pub loads: Vec<RawLoad>,
    #[serde(default)]
    pub objectives: Vec<RawObjective>,
    #[serde(default)]
    pub checklist: Vec<RawCheckItem>,
}

/// `[[loads]]`: a named load every strategy also runs at (overrides, like a strategy's `set`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoad {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub set: BTreeMap<String, toml::Value>,
}

/// `[[objectives]]`: a verdict per strategy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawObjective {
    pub name: String,
    #[serde(default)]
    pub goal: String,
    pub kind: String,
    pub load: Option<String>,
    pub metric: Option<String>,
    pub max: Option<f64>,
    pub min: Option<f64>,
    pub multiple: Option<f64>,
}

/// `[[checklist]]`: an item of a checklist, with the figures that are its evidence.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheckItem {
    pub section: String,
    pub item: String,
    #[serde(default)]
    pub evidence: Vec<String>,
    #[serde(default)]
    pub note: String,
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
    pub metric: Option<String>,
    pub users: Option<f64>,
    pub ramp_up: Option<RawDur>,
    pub think: Option<RawDist>,
    pub keys: Option<RawKeys>,
    pub count: Option<f64>,
}

/// `[budgets.NAME]`: a retry budget.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub max_tokens: Option<f64>,
    pub token_ratio: Option<f64>,
    pub percent: Option<f64>,
    pub min_concurrency: Option<i64>,
}

/// `[breakers.NAME]`: a circuit breaker, `type = "resilience4j"` or `"opossum"`, with that
/// library's options (snake_case).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBreaker {
    #[serde(rename = "type")]
    pub kind: String,
    // resilience4j
    pub failure_rate_threshold: Option<f64>,
    pub slow_call_rate_threshold: Option<f64>,
    pub slow_call_duration: Option<RawDur>,
    pub wait_in_open: Option<RawDur>,
    pub wait_multiplier: Option<f64>,
    pub permitted_calls_in_half_open: Option<i64>,
    pub minimum_calls: Option<i64>,
    pub window_type: Option<String>,
    pub window_size: Option<i64>,
    pub max_wait_in_half_open: Option<RawDur>,
    pub automatic_transition: Option<bool>,
    // opossum
    pub timeout: Option<RawDur>,
    pub reset_timeout: Option<RawDur>,
    pub error_threshold_percentage: Option<f64>,
    pub rolling_count_timeout: Option<RawDur>,
    pub rolling_count_buckets: Option<i64>,
    pub volume_threshold: Option<i64>,
    pub allow_warm_up: Option<bool>,
}

/// `codel = { target = "5ms", interval = "100ms" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCodel {
    pub target: Option<RawDur>,
    pub interval: Option<RawDur>,
}

/// `[bulkheads.NAME]`: a concurrency limit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBulkhead {
    pub max_concurrent: i64,
    pub limit: Option<String>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub timeout: Option<RawDur>,
}

/// `backoff = { type = "full", base = "5ms", cap = "2s" }` or `backoff = "none"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawBackoff {
    /// A scheme without parameters.
    Name(String),
    /// A scheme with its base and cap.
    Table {
        #[serde(rename = "type")]
        kind: String,
        base: Option<RawDur>,
        cap: Option<RawDur>,
    },
}

/// One level of a `degrade` chain.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLevel {
    pub name: String,
    #[serde(default)]
    pub path: Vec<RawStep>,
    pub timeout: Option<RawDur>,
    pub attempts: Option<i64>,
    pub quality: f64,
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
    #[serde(default)]
    pub scatter: bool,
}

/// A distribution: a duration string (constant) or a table. Deserialized by hand so that a
/// typo in a table names the unknown field (an untagged enum would only say that nothing
/// matched).
#[derive(Debug, Clone)]
pub enum RawDist {
    /// A constant.
    Constant(RawDur),
    /// A parameterised distribution.
    Table(Box<RawDistTable>),
}

impl<'de> Deserialize<'de> for RawDist {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawDist;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a duration (\"5ms\", or seconds) or a table `{ dist = ..., ... }`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawDist, E> {
                Ok(RawDist::Constant(RawDur::Text(v.to_string())))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<RawDist, E> {
                Ok(RawDist::Constant(RawDur::Secs(v)))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawDist, E> {
                Ok(RawDist::Constant(RawDur::Secs(v as f64)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawDist, E> {
                Ok(RawDist::Constant(RawDur::Secs(v as f64)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<RawDist, A::Error> {
                let t = RawDistTable::deserialize(serde::de::value::MapAccessDeserializer::new(m))?;
                Ok(RawDist::Table(Box::new(t)))
            }
        }
        d.deserialize_any(V)
    }
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
    pub region: Option<String>,
}

fn one() -> f64 {
    1.0
}

/// A path step: a service name, or a table (`fork`, `delay`, `branch`, `by_key`, `repeat`,
/// `try`). Deserialized by hand so that a typo in a table names the unknown field.
#[derive(Debug, Clone)]
pub enum RawStep {
    /// Visit a service.
    Visit(String),
    /// Any other step.
    Special(Box<RawSpecialStep>),
}

impl<'de> Deserialize<'de> for RawStep {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawStep;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a service name or a step table (fork, delay, branch, by_key, repeat, try)",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawStep, E> {
                Ok(RawStep::Visit(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<RawStep, A::Error> {
                let t =
                    RawSpecialStep::deserialize(serde::de::value::MapAccessDeserializer::new(m))?;
                Ok(RawStep::Special(Box::new(t)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A fork or `by_key` arm: one service name or a sub-path.
#[derive(Debug, Clone)]
pub enum RawArm {
    /// One service.
    Visit(String),
    /// A sub-path.
    Path(Vec<RawStep>),
}

impl<'de> Deserialize<'de> for RawArm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawArm;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a service name or a path (an array of steps)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawArm, E> {
                Ok(RawArm::Visit(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, s: A) -> Result<RawArm, A::Error> {
                let p =
                    Vec::<RawStep>::deserialize(serde::de::value::SeqAccessDeserializer::new(s))?;
                Ok(RawArm::Path(p))
            }
        }
        d.deserialize_any(V)
    }
}

/// A repeat count: an integer, or `{ dist = "uniform" | "geometric" | "poisson", ... }`.
#[derive(Debug, Clone)]
pub enum RawCount {
    /// Exactly this many.
    Fixed(i64),
    /// Drawn from a distribution.
    Dist(RawCountDist),
}

impl<'de> Deserialize<'de> for RawCount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawCount;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a whole number, or `{ dist = \"uniform\" | \"geometric\" | \"poisson\", ... }`")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawCount, E> {
                Ok(RawCount::Fixed(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<RawCount, A::Error> {
                let t = RawCountDist::deserialize(serde::de::value::MapAccessDeserializer::new(m))?;
                Ok(RawCount::Dist(t))
            }
        }
        d.deserialize_any(V)
    }
}

/// `{ dist = "uniform", min, max }`, `{ dist = "geometric", mean }`, `{ dist = "poisson", mean }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCountDist {
    pub dist: String,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub mean: Option<f64>,
}

/// A step table: exactly one of `fork`, `delay`, `branch`, `by_key`, `repeat`, `try`, with
/// that construct's options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpecialStep {
    pub fork: Option<Vec<RawArm>>,
    pub delay: Option<RawDist>,
    pub branch: Option<Vec<RawBranchArm>>,
    pub by_key: Option<Vec<RawArm>>,
    pub router: Option<String>,
    pub ranges: Option<Vec<String>>,
    pub vnodes: Option<i64>,
    pub repeat: Option<RawCount>,
    pub path: Option<Vec<RawStep>>,
    #[serde(rename = "try")]
    pub try_: Option<Vec<RawStep>>,
    pub name: Option<String>,
    pub attempts: Option<i64>,
    pub timeout: Option<RawDur>,
    pub fallback: Option<Vec<RawStep>>,
    pub retry_on: Option<Vec<String>>,
    pub backoff: Option<RawBackoff>,
    pub budget: Option<String>,
    pub breaker: Option<String>,
    pub bulkhead: Option<String>,
    pub propagate_deadline: Option<bool>,
    pub hedge: Option<RawDur>,
    pub read_version: Option<String>,
    pub write_if: Option<String>,
    pub degrade: Option<Vec<RawLevel>>,
    pub cache: Option<Vec<String>>,
    pub load: Option<Vec<RawStep>>,
    pub fill: Option<String>,
    pub single_flight: Option<bool>,
    pub early_refresh: Option<f64>,
    pub stale_while_revalidate: Option<RawDur>,
    pub key_mod: Option<i64>,
    pub write: Option<Vec<String>>,
    pub policy: Option<String>,
    pub store: Option<Vec<RawStep>>,
    pub batch: Option<i64>,
    pub interval: Option<RawDur>,
    pub crash: Option<RawWorkerCrash>,
    pub db_read: Option<String>,
    pub db_write: Option<String>,
    pub pool: Option<String>,
    pub query: Option<String>,
    pub scan: Option<String>,
    pub rows: Option<RawCount>,
    pub page: Option<RawCount>,
    pub table: Option<i64>,
    pub row_cost: Option<RawDur>,
    pub saga: Option<String>,
    pub steps: Option<Vec<RawSagaStep>>,
    pub undo_attempts: Option<i64>,
    pub undo_backoff: Option<RawDur>,
    pub hold: Option<RawHold>,
    pub orchestrator: Option<String>,
    pub mode: Option<String>,
    pub publish: Option<String>,
    pub geo: Option<BTreeMap<String, Vec<RawStep>>>,
    pub kb: Option<f64>,
    pub rtt: Option<String>,
}

/// `[sessions]`: shoppers as a Customer Behavior Model Graph.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSessions {
    pub start: String,
    pub converts: String,
    pub revenue: Option<f64>,
    #[serde(default)]
    pub states: BTreeMap<String, RawSessionState>,
}

/// `[sessions.states.NAME]`: one page of the graph.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSessionState {
    pub class: String,
    pub think: Option<RawDist>,
    pub patience: Option<RawDist>,
    #[serde(default)]
    pub next: BTreeMap<String, f64>,
}

/// `[regions]`: names, RTT matrix, DNS failover, transfer price, an outage.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegions {
    pub names: Vec<String>,
    pub rtt_ms: Option<Vec<Vec<f64>>>,
    pub detect: Option<RawDur>,
    pub dns_ttl: Option<RawDur>,
    pub transfer_price_gb: Option<f64>,
    pub outage: Option<RawRegionOutage>,
}

/// `outage = { region = "us-east", at = "20m", for = "15m" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegionOutage {
    pub region: String,
    pub at: RawDur,
    #[serde(rename = "for")]
    pub length: RawDur,
}

/// One step of a saga: `{ name = "charge", do = [...], undo = [...] }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSagaStep {
    pub name: String,
    #[serde(rename = "do")]
    pub run: Vec<RawStep>,
    pub undo: Option<Vec<RawStep>>,
    pub by: Option<String>,
}

/// `hold = { from = "reserve", to = "charge" }` of a saga.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHold {
    pub from: String,
    pub to: Option<String>,
}

/// `[topics.NAME]`: a topic with partitions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopic {
    pub partitions: i64,
    pub append: Option<RawDist>,
}

/// `[consumers.NAME]`: a consumer group reading a topic.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConsumers {
    pub topic: String,
    pub service: String,
    #[serde(default)]
    pub path: Vec<RawStep>,
    pub attempts: Option<i64>,
    pub poison: Option<f64>,
    pub commit_interval: Option<RawDur>,
    pub poll: Option<RawDur>,
}

/// `[pools.NAME]`: a connection pool in each instance of a service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPool {
    pub per_instance: String,
    pub server: String,
    #[serde(default)]
    pub min: i64,
    pub max: i64,
    pub acquire_timeout: Option<RawDur>,
    pub idle_timeout: Option<RawDur>,
    pub evict: Option<RawDur>,
    pub connect: Option<RawDist>,
}

/// `crash = { at = "10m", restart = "1m" }` of a write-behind worker.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkerCrash {
    pub at: RawDur,
    pub restart: RawDur,
}

/// `[databases.NAME]`: a primary and its read replicas, each a service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    pub primary: String,
    #[serde(default)]
    pub replicas: Vec<String>,
    pub ship: Option<RawDist>,
    pub replay: Option<RawDist>,
    pub commit: Option<RawCommit>,
    pub routing: Option<String>,
    pub window: Option<RawDur>,
    pub max_lag: Option<RawDur>,
    pub failover: Option<RawFailover>,
    pub replica_down: Option<RawOutage>,
    pub replica_cut: Option<RawOutage>,
    pub lag_sample: Option<RawDur>,
}

/// `commit = "async"`, `"sync"` or `{ quorum = k }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawCommit {
    Mode(String),
    Quorum(RawQuorum),
}

/// `{ quorum = k }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuorum {
    pub quorum: i64,
}

/// `failover = { at = "10m", detect = "10s", promote = "20s" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFailover {
    pub at: RawDur,
    pub detect: RawDur,
    pub promote: RawDur,
}

/// `replica_down = { replica = 1, at = "5m", for = "2m" }` (`replica`: a slot from 0, or the
/// replica's service name).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutage {
    pub replica: RawReplicaRef,
    pub at: RawDur,
    #[serde(rename = "for")]
    pub duration: RawDur,
}

/// A replica by slot or by service name.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawReplicaRef {
    Slot(i64),
    Service(String),
}

/// `[caches.NAME]`: a cache tier.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCache {
    pub per_instance: Option<String>,
    pub service: Option<String>,
    pub capacity: i64,
    pub bytes: Option<i64>,
    pub value_size: Option<RawDist>,
    pub policy: Option<String>,
    pub ttl: Option<RawDur>,
    pub ttl_jitter: Option<f64>,
    pub ttl_restart_on_hit: Option<bool>,
    pub hit: Option<RawDist>,
    pub miss: Option<RawDist>,
    pub invalidation: Option<RawDist>,
    pub price_gb: Option<f64>,
    pub fill_price_gb: Option<f64>,
}

/// `{ p = 0.8, path = [...] }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBranchArm {
    pub p: f64,
    #[serde(default)]
    pub path: Vec<RawStep>,
}

/// `[stations.NAME]` or `[services.NAME]`.
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
    #[serde(default)]
    pub queue_limit_by_class: BTreeMap<String, i64>,
    pub codel: Option<RawCodel>,
    pub instances: Option<i64>,
    pub balancer: Option<String>,
    pub startup: Option<RawDist>,
    pub restart: Option<RawDist>,
    pub speeds: Option<Vec<f64>>,
    pub weights: Option<Vec<f64>>,
    pub contention: Option<RawContention>,
    pub max_connections: Option<i64>,
}

/// `contention = { sigma = 0.02, kappa = 0.0005 }`: the universal scalability law's
/// coefficients of a processor-sharing service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContention {
    #[serde(default)]
    pub sigma: f64,
    #[serde(default)]
    pub kappa: f64,
}

fn one_u32() -> i64 {
    1
}

/// `[controllers.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawController {
    #[serde(rename = "type")]
    pub kind: String,
    pub service: String,
    #[serde(default)]
    pub schedule: Vec<RawScheduleStep>,
    pub mtbf: Option<RawDist>,
    pub mttr: Option<RawDist>,
    pub manifest: Option<String>,
    pub sync_period: Option<RawDur>,
    pub cpu_request: Option<f64>,
    pub memory: Option<RawMemory>,
    #[serde(default)]
    pub measure: BTreeMap<String, String>,
    pub nodes: Option<RawNodes>,
    pub period: Option<RawDur>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub cooldown: Option<RawDur>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
    pub forecast: Option<String>,
    pub lead: Option<RawDur>,
    pub window: Option<RawDur>,
    pub capacity: Option<f64>,
    pub target_utilization: Option<f64>,
    pub bias: Option<f64>,
}

/// `nodes = { cpu = 2, memory = "8Gi", min = 1, max = 20, initial = 3, provision = "2m",
/// price_hour = 0.096 }` of an HPA controller: the node group its pods run on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNodes {
    pub cpu: f64,
    pub memory: String,
    pub min: Option<i64>,
    pub max: i64,
    pub initial: Option<i64>,
    pub provision: Option<RawDur>,
    pub price_hour: Option<f64>,
    pub unneeded_time: Option<RawDur>,
}

/// `{ metric = "cpu", above = 0.8, action = "double" }` of a `rules` controller.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub metric: String,
    pub above: Option<f64>,
    pub below: Option<f64>,
    pub action: String,
    pub count: Option<i64>,
    pub factor: Option<f64>,
}

/// `memory = { request = "512Mi", base = "200Mi", per_request = "2Mi" }` of an HPA controller.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMemory {
    pub request: String,
    pub base: String,
    pub per_request: String,
}

/// `{ at = "5m", instances = 6 }`, `{ at = "7m", crash = 1 }`, `{ at = "8m", slow = 5 }` or
/// `{ at = "8m", error_rate = 0.3 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScheduleStep {
    pub at: RawDur,
    pub instances: Option<i64>,
    pub crash: Option<i64>,
    pub slow: Option<f64>,
    pub error_rate: Option<f64>,
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
    pub max_cost_growth: Option<f64>,
    #[serde(default)]
    pub components: BTreeMap<String, RawBound>,
}

/// `{ max = 60000 }` or `{ min = 0.99 }`: a bound on a component's metric.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBound {
    pub max: Option<f64>,
    pub min: Option<f64>,
}

/// `[prices]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPrices {
    #[serde(default)]
    pub worker_hour: BTreeMap<String, f64>,
    #[serde(default)]
    pub instance_hour: BTreeMap<String, f64>,
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
    pub duration: Option<RawDur>,
}

fn cap_lo() -> f64 {
    0.1
}
fn cap_tol() -> f64 {
    0.02
}
