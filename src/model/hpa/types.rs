//! Plain input types: pods, metric samples, errors, and the time unit.

use std::collections::BTreeMap;

/// A point in time or a duration, in milliseconds since an arbitrary epoch. Signed, so that
/// "a pod that started before the epoch" and Go's zero time (`0` in the ported tests) can be
/// written directly.
pub type Millis = i64;

/// One second in [`Millis`].
pub const SECOND: Millis = 1000;

/// The resource name whose pods get the CPU readiness rules of pod grouping.
pub const CPU: &str = "cpu";

/// A pod's lifecycle phase (`status.phase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PodPhase {
    /// Accepted but not all containers running (counted as unready).
    Pending,
    /// Bound and running.
    Running,
    /// All containers terminated successfully.
    Succeeded,
    /// All containers terminated, at least one in failure (ignored).
    Failed,
    /// State could not be obtained.
    Unknown,
}

/// The status of a pod condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// The condition does not hold.
    False,
    /// Not known (neither rule "is False" nor "is True" matches it).
    Unknown,
}

/// The pod's `Ready` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyCondition {
    /// Its status.
    pub status: ConditionStatus,
    /// When it last changed.
    pub last_transition: Millis,
}

/// A container of a pod spec and its resource requests.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Container {
    /// Its name, unique in the pod.
    pub name: String,
    /// Requests by resource name, in milli-units (`cpu` 1.0 is 1000).
    pub requests: BTreeMap<String, i64>,
    /// An init container with `restartPolicy: Always` (a sidecar): its requests count.
    pub restart_always: bool,
}

/// A pod as the HPA's pod lister sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pod {
    /// Its name; metric samples refer to it.
    pub name: String,
    /// Its phase.
    pub phase: PodPhase,
    /// The `Ready` condition, if the pod has one.
    pub ready: Option<ReadyCondition>,
    /// `status.startTime`, if set.
    pub start_time: Option<Millis>,
    /// Whether it has a deletion timestamp (terminating).
    pub deleting: bool,
    /// Regular containers.
    pub containers: Vec<Container>,
    /// Init containers (only `restart_always` ones contribute requests).
    pub init_containers: Vec<Container>,
    /// Pod-level requests (`spec.resources.requests`, KEP-2837), milli-units.
    pub pod_requests: Option<BTreeMap<String, i64>>,
}

impl Pod {
    /// A running, ready pod started at `start` (ready since then) with no containers.
    pub fn running(name: impl Into<String>, start: Millis) -> Pod {
        Pod {
            name: name.into(),
            phase: PodPhase::Running,
            ready: Some(ReadyCondition {
                status: ConditionStatus::True,
                last_transition: start,
            }),
            start_time: Some(start),
            deleting: false,
            containers: Vec::new(),
            init_containers: Vec::new(),
            pod_requests: None,
        }
    }

    /// Whether the pod is `Running` with `Ready == True` (what Object/External `Value`
    /// targets count).
    pub fn is_running_and_ready(&self) -> bool {
        self.phase == PodPhase::Running
            && self
                .ready
                .is_some_and(|c| c.status == ConditionStatus::True)
    }
}

/// One pod's metric sample, as the metrics client returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodMetric {
    /// Value in milli-units (for resources, the pod's or the named container's usage).
    pub value: i64,
    /// When it was measured (end of the window).
    pub timestamp: Millis,
    /// Over how long it was measured.
    pub window: Millis,
}

/// Samples by pod name. Names need not match a listed pod (foreign samples are kept).
pub type PodMetrics = BTreeMap<String, PodMetric>;

/// One container's usage in a resource-metrics item; `None` when the resource is absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerUsage {
    /// Container name.
    pub name: String,
    /// Usage of the queried resource in milli-units, if reported.
    pub usage: Option<i64>,
}

/// One item of the resource metrics API (`PodMetrics`): a pod's per-container usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodUsage {
    /// Pod name.
    pub pod: String,
    /// Measurement time.
    pub timestamp: Millis,
    /// Measurement window.
    pub window: Millis,
    /// Per-container usage of the queried resource.
    pub containers: Vec<ContainerUsage>,
}

/// Why a metric could not produce a replica proposal. Every variant is recoverable: the
/// controller counts the metric as invalid for this sync and goes on (§4 of the reference).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HpaError {
    /// The metrics source failed or returned nothing.
    #[error("unable to get metrics: {0}")]
    Fetch(String),
    /// The selector matched no pods.
    #[error("no pods returned by selector while calculating replica count")]
    NoPods,
    /// Every sample belonged to an unready or ignored pod.
    #[error("did not receive metrics for targeted pods (pods might be unready)")]
    NoTargetedMetrics,
    /// A listed pod lacks a request for the resource.
    #[error("missing request for {resource} in container {container} of Pod {pod}")]
    MissingRequest {
        /// Resource name.
        resource: String,
        /// Container name (empty for pod-level requests).
        container: String,
        /// Pod name.
        pod: String,
    },
    /// The named container is not in a pod's spec.
    #[error("container {container} not found in Pod {pod}")]
    ContainerNotFound {
        /// Container name.
        container: String,
        /// Pod name.
        pod: String,
    },
    /// The named container is not in a pod's metrics.
    #[error("container {container} not present in metrics for pod {pod}")]
    ContainerNotInMetrics {
        /// Container name.
        container: String,
        /// Pod name.
        pod: String,
    },
    /// No sample belonged to a pod with a request (the sum of requests is zero).
    #[error("no metrics returned matched known pods")]
    NoMatchingRequests,
    /// The metric spec sets no usable target for its source type.
    #[error("invalid metric source: {0}")]
    InvalidSpec(&'static str),
}

/// Turns resource-metrics items into per-pod samples, as the resource metrics client does.
///
/// Without `container`, a pod's value is the sum over its containers, and a pod with no
/// containers or with a container lacking the resource gets no sample. With `container`, the
/// named container's usage is taken (no sample if the resource is absent) and a pod without
/// that container is an error. An empty `items` is an error ("no metrics returned").
pub fn pod_metrics_from_usage(
    items: &[PodUsage],
    container: Option<&str>,
) -> Result<PodMetrics, HpaError> {
    if items.is_empty() {
        return Err(HpaError::Fetch(
            "no metrics returned from resource metrics API".into(),
        ));
    }
    let mut out = PodMetrics::new();
    for item in items {
        let sample = |value| PodMetric {
            value,
            timestamp: item.timestamp,
            window: item.window,
        };
        match container {
            Some(name) => {
                let c = item
                    .containers
                    .iter()
                    .find(|c| c.name == name)
                    .ok_or_else(|| HpaError::ContainerNotInMetrics {
                        container: name.into(),
                        pod: item.pod.clone(),
                    })?;
                if let Some(v) = c.usage {
                    out.insert(item.pod.clone(), sample(v));
                }
            }
            None => {
                let sum: Option<i64> = item.containers.iter().map(|c| c.usage).sum();
                if let (false, Some(v)) = (item.containers.is_empty(), sum) {
                    out.insert(item.pod.clone(), sample(v));
                }
            }
        }
    }
    Ok(out)
}
