//! One HPA's reconcile: metric specs, the multi-metric maximum, and the sync that ties the
//! replica calculator to normalization and the in-memory history.

use std::collections::BTreeMap;

use super::Behavior;
use super::behavior::{
    History, LegacyLimit, Limit, Normalized, Recommendation, ResolvedBehavior,
    normalize_desired_replicas, normalize_desired_replicas_with_behavior, store_scale_event,
};
use super::calc::{
    ReplicaCalculator, Tolerances, UtilizationProposal, ValueProposal, external_average,
    object_average,
};
use super::types::{HpaError, Millis, Pod, PodMetrics, PodUsage, SECOND, pod_metrics_from_usage};

/// What a metric's value is compared with (`MetricTarget`); values in milli-units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricTarget {
    /// Average percent of the pods' requests (Resource, ContainerResource).
    Utilization(i32),
    /// Average value per pod.
    AverageValue(i64),
    /// Total value (Object, External).
    Value(i64),
}

/// One entry of `spec.metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MetricSpec {
    /// A resource of the target's pods, summed over containers.
    Resource {
        /// Resource name (`cpu`, `memory`).
        resource: String,
        /// Utilization or AverageValue.
        target: MetricTarget,
    },
    /// A resource of one named container of the target's pods.
    ContainerResource {
        /// Resource name.
        resource: String,
        /// Container name.
        container: String,
        /// Utilization or AverageValue.
        target: MetricTarget,
    },
    /// A custom per-pod metric.
    Pods {
        /// Metric name.
        metric: String,
        /// AverageValue.
        target: MetricTarget,
    },
    /// A custom metric of one other object.
    Object {
        /// Metric name.
        metric: String,
        /// The described object.
        object: String,
        /// Value or AverageValue.
        target: MetricTarget,
    },
    /// A metric from outside the cluster.
    External {
        /// Metric name.
        metric: String,
        /// Value or AverageValue.
        target: MetricTarget,
    },
    /// A source type the controller does not know (API validation rejects it; upstream's tests
    /// use one to exercise the invalid-metric rules). Always fails.
    Unknown(String),
}

impl MetricSpec {
    /// CPU utilization at `percent` of request, the API server's default metric being 80.
    pub fn cpu_utilization(percent: i32) -> MetricSpec {
        MetricSpec::Resource {
            resource: super::CPU.into(),
            target: MetricTarget::Utilization(percent),
        }
    }

    /// The `ScalingActive` reason upstream sets when this metric fails.
    pub fn failure_reason(&self) -> &'static str {
        match self {
            MetricSpec::Resource { .. } => "FailedGetResourceMetric",
            MetricSpec::ContainerResource { .. } => "FailedGetContainerResourceMetric",
            MetricSpec::Pods { .. } => "FailedGetPodsMetric",
            MetricSpec::Object { .. } => "FailedGetObjectMetric",
            MetricSpec::External { .. } => "FailedGetExternalMetric",
            MetricSpec::Unknown(_) => "InvalidMetricSourceType",
        }
    }
}

/// Where the sync reads metric values: what the metrics APIs would return now.
pub trait MetricsSource {
    /// Per-pod samples of `resource` (of `container` only, if given) and their timestamp.
    fn resource(
        &self,
        resource: &str,
        container: Option<&str>,
    ) -> Result<(PodMetrics, Millis), HpaError>;
    /// Per-pod samples of a custom metric.
    fn pods(&self, metric: &str) -> Result<(PodMetrics, Millis), HpaError>;
    /// A custom metric's value for `object`.
    fn object(&self, metric: &str, object: &str) -> Result<(i64, Millis), HpaError>;
    /// An external metric's series values.
    fn external(&self, metric: &str) -> Result<(Vec<i64>, Millis), HpaError>;
}

/// A [`MetricsSource`] holding fixed answers; anything absent is a fetch error.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StaticMetrics {
    /// Resource-metrics items by resource name.
    pub resources: BTreeMap<String, Vec<PodUsage>>,
    /// Custom per-pod metrics by name, with their timestamp.
    pub pods: BTreeMap<String, (PodMetrics, Millis)>,
    /// Object metrics by `(metric, object)`.
    pub objects: BTreeMap<(String, String), (i64, Millis)>,
    /// External metrics by name.
    pub external: BTreeMap<String, (Vec<i64>, Millis)>,
}

fn absent(what: &str) -> HpaError {
    HpaError::Fetch(format!("no {what} metrics returned"))
}

impl MetricsSource for StaticMetrics {
    fn resource(
        &self,
        resource: &str,
        container: Option<&str>,
    ) -> Result<(PodMetrics, Millis), HpaError> {
        let items = self
            .resources
            .get(resource)
            .ok_or_else(|| absent("resource"))?;
        let metrics = pod_metrics_from_usage(items, container)?;
        Ok((metrics, items[0].timestamp))
    }

    fn pods(&self, metric: &str) -> Result<(PodMetrics, Millis), HpaError> {
        match self.pods.get(metric) {
            Some((m, t)) if !m.is_empty() => Ok((m.clone(), *t)),
            _ => Err(absent("custom")),
        }
    }

    fn object(&self, metric: &str, object: &str) -> Result<(i64, Millis), HpaError> {
        self.objects
            .get(&(metric.to_string(), object.to_string()))
            .copied()
            .ok_or_else(|| absent("object"))
    }

    fn external(&self, metric: &str) -> Result<(Vec<i64>, Millis), HpaError> {
        match self.external.get(metric) {
            Some((v, t)) if !v.is_empty() => Ok((v.clone(), *t)),
            _ => Err(absent("external")),
        }
    }
}

/// `spec` of a HorizontalPodAutoscaler (the scale target itself is outside: see [`SyncInput`]).
#[derive(Debug, Clone, PartialEq)]
pub struct HpaSpec {
    /// `minReplicas`; `None` means 1.
    pub min_replicas: Option<i32>,
    /// `maxReplicas`.
    pub max_replicas: i32,
    /// `metrics`; the API server turns an empty list into CPU utilization 80 %, this type does
    /// not (use [`MetricSpec::cpu_utilization`]).
    pub metrics: Vec<MetricSpec>,
    /// `behavior`; `None` selects the legacy path.
    pub behavior: Option<Behavior>,
}

/// The controller's flags and constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// `--horizontal-pod-autoscaler-tolerance` (0.1).
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (300 s).
    pub cpu_initialization_period: Millis,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (30 s).
    pub initial_readiness_delay: Millis,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (300 s).
    pub downscale_stabilization_window: Millis,
    /// The legacy scale-up cap (factor 2, minimum 4).
    pub legacy: LegacyLimit,
    /// Whether pod-level requests are used (feature gate `PodLevelResources`).
    pub pod_level_resources: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            tolerance: 0.1,
            cpu_initialization_period: 300 * SECOND,
            initial_readiness_delay: 30 * SECOND,
            downscale_stabilization_window: 300 * SECOND,
            legacy: LegacyLimit::UPSTREAM,
            pod_level_resources: true,
        }
    }
}

impl Config {
    /// The settings of upstream's unit tests: CPU initialization 120 s, readiness delay 10 s,
    /// legacy scale-up factor 8.
    pub fn upstream_tests() -> Config {
        Config {
            cpu_initialization_period: 120 * SECOND,
            initial_readiness_delay: 10 * SECOND,
            legacy: LegacyLimit {
                factor: 8.0,
                minimum: 4.0,
            },
            ..Config::default()
        }
    }
}

/// What the world looks like at a sync.
#[derive(Clone, Copy)]
pub struct SyncInput<'a> {
    /// The scale target's `spec.replicas` ("current replicas").
    pub spec_replicas: i32,
    /// The scale target's `status.replicas` (per-pod Object/External targets divide by it).
    pub status_replicas: i32,
    /// Pods matched by the target's selector.
    pub pods: &'a [Pod],
    /// Metric values.
    pub metrics: &'a dyn MetricsSource,
}

impl std::fmt::Debug for SyncInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncInput")
            .field("spec_replicas", &self.spec_replicas)
            .field("status_replicas", &self.status_replicas)
            .field("pods", &self.pods.len())
            .finish_non_exhaustive()
    }
}

/// One metric's proposal and reported current value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proposal {
    /// Proposed replicas.
    pub replicas: i32,
    /// Current utilization percent (Utilization targets only).
    pub utilization: Option<i32>,
    /// Current value in milli-units: average (AverageValue, and raw average for Utilization)
    /// or total (Value).
    pub value: i64,
    /// The samples' timestamp, where upstream reports one.
    pub timestamp: Option<Millis>,
}

/// The conditions a sync sets, as upstream's reasons (`None`: left as before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conditions {
    /// `AbleToScale` (always true here: scale updates do not fail).
    pub able_to_scale: &'static str,
    /// `ScalingActive` status and reason.
    pub scaling_active: Option<(bool, &'static str)>,
    /// `ScalingLimited` status and reason.
    pub scaling_limited: Option<(bool, Limit)>,
}

/// The result of one sync.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Replicas the target should have after this sync (the current count if unchanged).
    pub replicas: i32,
    /// Whether the sync scaled (`replicas` differs from the current count).
    pub rescale: bool,
    /// The multi-metric proposal before normalization, when metrics were evaluated and usable.
    pub metric_replicas: Option<i32>,
    /// Per-metric outcome, in spec order (empty when metrics were not evaluated).
    pub metrics: Vec<Result<Proposal, HpaError>>,
    /// Conditions.
    pub conditions: Conditions,
    /// The first invalid metric's error, if any metric failed (the sync may still scale up).
    pub error: Option<HpaError>,
}

/// The multi-metric rule (`computeReplicasForMetrics`): the largest valid proposal, or `None`
/// ("do nothing") when every metric failed or when some failed and the rest would scale below
/// `spec_replicas`.
pub fn combine_proposals(
    results: &[Result<Proposal, HpaError>],
    spec_replicas: i32,
) -> Option<i32> {
    let mut replicas = 0;
    let mut invalid = 0;
    for r in results {
        match r {
            Ok(p) if replicas == 0 || p.replicas > replicas => replicas = p.replicas,
            Ok(_) => {}
            Err(_) => invalid += 1,
        }
    }
    if invalid >= results.len() || (invalid > 0 && replicas < spec_replicas) {
        return None;
    }
    Some(replicas)
}

/// One HorizontalPodAutoscaler: its spec, the controller settings, and the controller's
/// in-memory history for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hpa {
    spec: HpaSpec,
    config: Config,
    /// Recommendations and scale events.
    pub history: History,
    behavior: Option<ResolvedBehavior>,
}

impl Hpa {
    /// A new HPA, never synced (its first sync records the current replicas as a
    /// recommendation).
    pub fn new(spec: HpaSpec, config: Config) -> Hpa {
        let behavior = spec
            .behavior
            .as_ref()
            .map(|b| ResolvedBehavior::new(b, config.downscale_stabilization_window));
        Hpa {
            spec,
            config,
            history: History::default(),
            behavior,
        }
    }

    /// The spec (fixed at construction: its behavior is resolved once).
    pub fn spec(&self) -> &HpaSpec {
        &self.spec
    }

    /// The controller settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The behavior with defaults filled in (`None` on the legacy path).
    pub fn behavior(&self) -> Option<&ResolvedBehavior> {
        self.behavior.as_ref()
    }

    /// The tolerance band: the behavior's per-direction tolerances, else the flag.
    pub fn tolerances(&self) -> Tolerances {
        let flag = self.config.tolerance;
        match &self.behavior {
            Some(b) => Tolerances {
                down: b.down.tolerance.unwrap_or(flag),
                up: b.up.tolerance.unwrap_or(flag),
            },
            None => Tolerances::symmetric(flag),
        }
    }

    /// One metric's proposal (`computeReplicasForMetric`).
    pub fn compute_metric(
        &self,
        spec: &MetricSpec,
        now: Millis,
        input: &SyncInput<'_>,
    ) -> Result<Proposal, HpaError> {
        let m = MetricContext {
            calc: ReplicaCalculator {
                pods: input.pods,
                now,
                cpu_initialization_period: self.config.cpu_initialization_period,
                initial_readiness_delay: self.config.initial_readiness_delay,
                pod_level_resources: self.config.pod_level_resources,
            },
            tol: self.tolerances(),
            input,
        };
        match spec {
            MetricSpec::Resource { resource, target } => m.resource(resource, None, *target),
            MetricSpec::ContainerResource {
                resource,
                container,
                target,
            } => m.resource(resource, Some(container), *target),
            MetricSpec::Pods { metric, target } => m.pods(metric, *target),
            MetricSpec::Object {
                metric,
                object,
                target,
            } => m.object(metric, object, *target),
            MetricSpec::External { metric, target } => m.external(metric, *target),
            MetricSpec::Unknown(_) => Err(HpaError::InvalidSpec("unknown metric source type")),
        }
    }

    /// One reconcile at `now` (`reconcileAutoscaler`, assuming the scale update succeeds).
    pub fn sync(&mut self, now: Millis, input: &SyncInput<'_>) -> Decision {
        let current = input.spec_replicas;
        self.history.recommendations.get_or_insert_with(|| {
            vec![Recommendation {
                replicas: current,
                at: now,
            }]
        });
        let min = self.spec.min_replicas.unwrap_or(1);
        let max = self.spec.max_replicas;
        let mut d = Decision {
            replicas: current,
            rescale: false,
            metric_replicas: None,
            metrics: Vec::new(),
            conditions: Conditions {
                able_to_scale: "SucceededGetScale",
                scaling_active: None,
                scaling_limited: None,
            },
            error: None,
        };
        let desired = if current == 0 && min != 0 {
            d.conditions.scaling_active = Some((false, "ScalingDisabled"));
            return d;
        } else if current > max {
            max
        } else if current < min {
            min
        } else {
            match self.evaluate(now, input, &mut d) {
                Some(desired) => desired,
                None => return d,
            }
        };
        if desired != current {
            d.replicas = desired;
            d.rescale = true;
            d.conditions.able_to_scale = "SucceededRescale";
            if let Some(b) = &self.behavior {
                store_scale_event(&mut self.history, b, current, desired, now);
            }
        }
        d
    }

    /// Metrics, the multi-metric rule and normalization; `None` when metrics block the sync.
    fn evaluate(&mut self, now: Millis, input: &SyncInput<'_>, d: &mut Decision) -> Option<i32> {
        let current = input.spec_replicas;
        d.metrics = self
            .spec
            .metrics
            .iter()
            .map(|m| self.compute_metric(m, now, input))
            .collect();
        let first_bad = d.metrics.iter().position(Result::is_err);
        if let Some(i) = first_bad {
            d.error = d.metrics[i].clone().err();
        }
        let Some(proposal) = combine_proposals(&d.metrics, current) else {
            let reason = first_bad.map_or("InvalidMetricSourceType", |i| {
                self.spec.metrics[i].failure_reason()
            });
            d.conditions.scaling_active = Some((false, reason));
            return None;
        };
        d.conditions.scaling_active = Some((true, "ValidMetricFound"));
        d.metric_replicas = Some(proposal);
        let n = self.normalize(current, proposal.max(0), now);
        d.conditions.able_to_scale = n.stabilization.as_str();
        // ScalingLimited is true exactly when the limits moved the stabilized count.
        d.conditions.scaling_limited = Some((n.limit != Limit::DesiredWithinRange, n.limit));
        Some(n.replicas)
    }

    /// The legacy path without a behavior, the behavior path with one.
    fn normalize(&mut self, current: i32, desired: i32, now: Millis) -> Normalized {
        let (min, max) = (self.spec.min_replicas.unwrap_or(1), self.spec.max_replicas);
        let history = &mut self.history;
        match &self.behavior {
            Some(b) => normalize_desired_replicas_with_behavior(
                history, b, current, desired, min, max, now,
            ),
            None => {
                let window = self.config.downscale_stabilization_window;
                normalize_desired_replicas(
                    history,
                    current,
                    desired,
                    min,
                    max,
                    window,
                    self.config.legacy,
                    now,
                )
            }
        }
    }
}

impl From<ValueProposal> for Proposal {
    fn from(v: ValueProposal) -> Proposal {
        Proposal {
            replicas: v.replicas,
            utilization: None,
            value: v.usage,
            timestamp: v.timestamp,
        }
    }
}

impl From<UtilizationProposal> for Proposal {
    fn from(p: UtilizationProposal) -> Proposal {
        Proposal {
            replicas: p.replicas,
            utilization: Some(p.utilization),
            value: p.raw_average,
            timestamp: Some(p.timestamp),
        }
    }
}

/// What one metric's computation reads: the calculator, the tolerances and the world.
struct MetricContext<'a> {
    calc: ReplicaCalculator<'a>,
    tol: Tolerances,
    input: &'a SyncInput<'a>,
}

impl MetricContext<'_> {
    fn current(&self) -> i32 {
        self.input.spec_replicas
    }

    /// Resource and ContainerResource: Utilization or AverageValue.
    fn resource(
        &self,
        resource: &str,
        container: Option<&str>,
        target: MetricTarget,
    ) -> Result<Proposal, HpaError> {
        let (metrics, at) = self.input.metrics.resource(resource, container)?;
        let (calc, tol, current) = (&self.calc, self.tol, self.current());
        match target {
            MetricTarget::AverageValue(t) => calc
                .resource_average(current, t, resource, tol, metrics, at)
                .map(Into::into),
            MetricTarget::Utilization(t) => calc
                .resource_utilization(current, t, resource, container, tol, metrics, at)
                .map(Into::into),
            MetricTarget::Value(_) => Err(HpaError::InvalidSpec(
                "resource metric needs a utilization or average value target",
            )),
        }
    }

    /// Pods: AverageValue only.
    fn pods(&self, metric: &str, target: MetricTarget) -> Result<Proposal, HpaError> {
        let MetricTarget::AverageValue(t) = target else {
            return Err(HpaError::InvalidSpec(
                "pods metric needs an average value target",
            ));
        };
        let (metrics, at) = self.input.metrics.pods(metric)?;
        self.calc
            .pods_average(self.current(), t, self.tol, metrics, at)
            .map(Into::into)
    }

    /// Object: Value (against ready pods) or AverageValue (against status replicas).
    fn object(
        &self,
        metric: &str,
        object: &str,
        target: MetricTarget,
    ) -> Result<Proposal, HpaError> {
        match target {
            MetricTarget::Value(t) => {
                let (usage, _) = self.input.metrics.object(metric, object)?;
                self.calc
                    .object_value(self.current(), t, self.tol, usage)
                    .map(Into::into)
            }
            MetricTarget::AverageValue(t) => {
                let (usage, at) = self.input.metrics.object(metric, object)?;
                Ok(object_average(self.input.status_replicas, t, self.tol, usage, at).into())
            }
            MetricTarget::Utilization(_) => Err(HpaError::InvalidSpec(
                "object metric needs a value or average value target",
            )),
        }
    }

    /// External: AverageValue (checked first, as upstream) or Value.
    fn external(&self, metric: &str, target: MetricTarget) -> Result<Proposal, HpaError> {
        match target {
            MetricTarget::AverageValue(t) => {
                let (values, at) = self.input.metrics.external(metric)?;
                Ok(external_average(self.input.status_replicas, t, self.tol, &values, at).into())
            }
            MetricTarget::Value(t) => {
                let (values, _) = self.input.metrics.external(metric)?;
                self.calc
                    .external_value(self.current(), t, self.tol, &values)
                    .map(Into::into)
            }
            MetricTarget::Utilization(_) => Err(HpaError::InvalidSpec(
                "external metric needs a value or average value target",
            )),
        }
    }
}
