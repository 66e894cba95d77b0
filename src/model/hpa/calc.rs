//! Per-metric replica proposals: pod grouping, requests, utilization and the damped
//! ("conservative") pass for missing and unready pods.

use std::collections::{BTreeMap, BTreeSet};

use super::types::{CPU, ConditionStatus, HpaError, Millis, Pod, PodMetric, PodMetrics, PodPhase};

/// The tolerance band around a usage ratio of 1: no change while
/// `1 - down <= ratio <= 1 + up` (inclusive at both ends).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// Allowed relative shortfall before scaling down.
    pub down: f64,
    /// Allowed relative excess before scaling up.
    pub up: f64,
}

impl Tolerances {
    /// The same tolerance both ways.
    pub fn symmetric(t: f64) -> Tolerances {
        Tolerances { down: t, up: t }
    }

    /// Whether `ratio` is inside the band.
    pub fn is_within(self, ratio: f64) -> bool {
        (1.0 - self.down) <= ratio && ratio <= (1.0 + self.up)
    }
}

/// How the pods of a target fall apart for one metric (`groupPods`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grouping {
    /// Pods whose samples count as they are.
    pub ready_count: usize,
    /// Pending pods and (CPU only) pods not yet ready or still warming up.
    pub unready: BTreeSet<String>,
    /// Pods with no sample.
    pub missing: BTreeSet<String>,
    /// Terminating and failed pods: dropped entirely.
    pub ignored: BTreeSet<String>,
}

/// Sorts `pods` into ready, unready, missing and ignored for a metric on `resource` (`""` for a
/// Pods metric). Only `cpu` consults readiness: a pod without a `Ready` condition or start time
/// is unready; during `cpu_init` after its start a pod is unready if not ready or if its sample
/// does not yet cover a full window since the last readiness change; after that, only a pod
/// that has never been ready (`Ready == False` and its last transition within
/// `readiness_delay` of its start) is unready.
pub fn group_pods(
    pods: &[Pod],
    metrics: &PodMetrics,
    resource: &str,
    cpu_init: Millis,
    readiness_delay: Millis,
    now: Millis,
) -> Grouping {
    let mut g = Grouping::default();
    for pod in pods {
        if pod.deleting || pod.phase == PodPhase::Failed {
            g.ignored.insert(pod.name.clone());
            continue;
        }
        if pod.phase == PodPhase::Pending {
            g.unready.insert(pod.name.clone());
            continue;
        }
        let Some(sample) = metrics.get(&pod.name) else {
            g.missing.insert(pod.name.clone());
            continue;
        };
        if resource == CPU && cpu_unready(pod, sample, cpu_init, readiness_delay, now) {
            g.unready.insert(pod.name.clone());
            continue;
        }
        g.ready_count += 1;
    }
    g
}

fn cpu_unready(
    pod: &Pod,
    sample: &PodMetric,
    cpu_init: Millis,
    delay: Millis,
    now: Millis,
) -> bool {
    let (Some(cond), Some(start)) = (pod.ready, pod.start_time) else {
        return true;
    };
    let is_false = cond.status == ConditionStatus::False;
    if start + cpu_init > now {
        is_false || sample.timestamp < cond.last_transition + sample.window
    } else {
        is_false && start + delay > cond.last_transition
    }
}

/// Each pod's request for `resource` in milli-units (`calculateRequests`): the named
/// `container`'s request, else the pod-level request when `pod_level` is on and the pod sets
/// one, else the sum over its containers and restartable init containers. Covers every listed
/// pod, ignored ones included; any missing request is an error.
pub fn pod_requests(
    pods: &[Pod],
    container: Option<&str>,
    resource: &str,
    pod_level: bool,
) -> Result<BTreeMap<String, i64>, HpaError> {
    let requests = requests_by_pod(pods, container, resource, pod_level)?;
    Ok(requests
        .into_iter()
        .map(|(pod, r)| (pod.to_owned(), r))
        .collect())
}

/// [`pod_requests`] keyed by the pods' own names (what a sync uses: no name is copied).
fn requests_by_pod<'p>(
    pods: &'p [Pod],
    container: Option<&str>,
    resource: &str,
    pod_level: bool,
) -> Result<BTreeMap<&'p str, i64>, HpaError> {
    let mut out = BTreeMap::new();
    for pod in pods {
        let request = match (&pod.pod_requests, container) {
            (Some(reqs), None) if pod_level => {
                *reqs.get(resource).ok_or_else(|| HpaError::MissingRequest {
                    resource: resource.into(),
                    container: String::new(),
                    pod: pod.name.clone(),
                })?
            }
            _ => container_requests(pod, container, resource)?,
        };
        out.insert(pod.name.as_str(), request);
    }
    Ok(out)
}

fn container_requests(pod: &Pod, container: Option<&str>, resource: &str) -> Result<i64, HpaError> {
    let sidecars = pod.init_containers.iter().filter(|c| c.restart_always);
    let mut request = 0i64;
    for c in pod.containers.iter().chain(sidecars) {
        if container.is_none_or(|name| name == c.name) {
            let r = c
                .requests
                .get(resource)
                .ok_or_else(|| HpaError::MissingRequest {
                    resource: resource.into(),
                    container: c.name.clone(),
                    pod: pod.name.clone(),
                })?;
            request = request.wrapping_add(*r);
            if container.is_some() {
                return Ok(request);
            }
        }
    }
    match container {
        Some(name) => Err(HpaError::ContainerNotFound {
            container: name.into(),
            pod: pod.name.clone(),
        }),
        None => Ok(request),
    }
}

/// `(ratio, utilization %, raw average)` over the samples whose pod has a request: the
/// utilization is the truncated integer `Σusage·100 / Σrequest`, and the ratio is that integer
/// over the target (`GetResourceUtilizationRatio`).
pub fn utilization_ratio(
    metrics: &PodMetrics,
    requests: &BTreeMap<&str, i64>,
    target: i32,
) -> Result<(f64, i32, i64), HpaError> {
    let (mut usage, mut requested, mut n) = (0i64, 0i64, 0i64);
    for (pod, m) in metrics {
        if let Some(r) = requests.get(pod.as_str()) {
            usage = usage.wrapping_add(m.value);
            requested = requested.wrapping_add(*r);
            n += 1;
        }
    }
    if requested == 0 {
        return Err(HpaError::NoMatchingRequests);
    }
    let utilization = (usage.wrapping_mul(100) / requested) as i32;
    Ok((
        f64::from(utilization) / f64::from(target),
        utilization,
        usage / n,
    ))
}

/// `(ratio, average)` of plain values: the truncated integer mean over all samples, over the
/// target (`GetMetricUsageRatio`). `metrics` must not be empty.
pub fn usage_ratio(metrics: &PodMetrics, target: i64) -> (f64, i64) {
    let total = metrics.values().fold(0i64, |s, m| s.wrapping_add(m.value));
    let average = total / metrics.len() as i64;
    (average as f64 / target as f64, average)
}

/// `ceil(x)` converted to `i32` (saturating where Go's conversion is undefined).
fn ceil_i32(x: f64) -> i32 {
    x.ceil() as i32
}

/// A proposal from a Resource or ContainerResource metric with a `Utilization` target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtilizationProposal {
    /// Proposed replicas.
    pub replicas: i32,
    /// Current utilization, integer percent of request (first pass).
    pub utilization: i32,
    /// Current average usage per counted pod, milli-units (first pass).
    pub raw_average: i64,
    /// The samples' timestamp.
    pub timestamp: Millis,
}

/// A proposal from a plain-value metric (`AverageValue` or `Value` targets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueProposal {
    /// Proposed replicas.
    pub replicas: i32,
    /// Current value: the average per pod, or the total for `Value` targets, milli-units.
    pub usage: i64,
    /// The samples' timestamp; `None` where upstream reports none (Object and External
    /// `Value` targets drop it).
    pub timestamp: Option<Millis>,
}

/// The replica calculator for one sync: the target's pods, the clock, and the controller's
/// readiness settings (`ReplicaCalculator`).
#[derive(Debug, Clone, Copy)]
pub struct ReplicaCalculator<'a> {
    /// Pods matched by the target's selector.
    pub pods: &'a [Pod],
    /// The sync time.
    pub now: Millis,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period`.
    pub cpu_initialization_period: Millis,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay`.
    pub initial_readiness_delay: Millis,
    /// Whether pod-level requests are honoured (feature gate `PodLevelResources`).
    pub pod_level_resources: bool,
}

/// Which way the first pass points and what it saw; shared by the two damped calculations.
struct FirstPass {
    ratio: f64,
    group: Grouping,
}

impl FirstPass {
    fn scale_up_with_unready(&self) -> bool {
        !self.group.unready.is_empty() && self.ratio > 1.0
    }

    /// The undamped answer, if there is nothing to damp.
    fn direct(&self, current: i32, tol: Tolerances) -> Option<i32> {
        if self.scale_up_with_unready() || !self.group.missing.is_empty() {
            return None;
        }
        if tol.is_within(self.ratio) {
            return Some(current);
        }
        Some(ceil_i32(self.ratio * self.group.ready_count as f64))
    }

    /// Fills missing pods (`down_fill` on a scale-down, 0 on a scale-up) and, on a scale-up
    /// with unready pods, the unready pods with 0.
    fn fill(&self, metrics: &mut PodMetrics, down_fill: impl Fn(&str) -> i64) {
        let zero = |v| PodMetric {
            value: v,
            timestamp: 0,
            window: 0,
        };
        for pod in &self.group.missing {
            if self.ratio < 1.0 {
                metrics.insert(pod.clone(), zero(down_fill(pod)));
            } else if self.ratio > 1.0 {
                metrics.insert(pod.clone(), zero(0));
            }
        }
        if self.scale_up_with_unready() {
            for pod in &self.group.unready {
                metrics.insert(pod.clone(), zero(0));
            }
        }
    }

    /// The damped answer from the second-pass ratio over `counted` samples.
    fn damped(&self, new_ratio: f64, counted: usize, current: i32, tol: Tolerances) -> i32 {
        let flips = (self.ratio < 1.0 && new_ratio > 1.0) || (self.ratio > 1.0 && new_ratio < 1.0);
        if tol.is_within(new_ratio) || flips {
            return current;
        }
        let n = ceil_i32(new_ratio * counted as f64);
        if (new_ratio < 1.0 && n > current) || (new_ratio > 1.0 && n < current) {
            return current;
        }
        n
    }
}

impl ReplicaCalculator<'_> {
    /// Groups the pods and drops the samples of ignored and unready pods.
    fn prepare(&self, metrics: &mut PodMetrics, resource: &str) -> Result<Grouping, HpaError> {
        if self.pods.is_empty() {
            return Err(HpaError::NoPods);
        }
        let g = group_pods(
            self.pods,
            metrics,
            resource,
            self.cpu_initialization_period,
            self.initial_readiness_delay,
            self.now,
        );
        for pod in g.ignored.iter().chain(&g.unready) {
            metrics.remove(pod);
        }
        if metrics.is_empty() {
            return Err(HpaError::NoTargetedMetrics);
        }
        Ok(g)
    }

    /// Resource / ContainerResource with a `Utilization` target (`GetResourceReplicas`).
    /// `metrics` are the per-pod samples (see [`super::pod_metrics_from_usage`]).
    #[allow(clippy::too_many_arguments)]
    pub fn resource_utilization(
        &self,
        current: i32,
        target_utilization: i32,
        resource: &str,
        container: Option<&str>,
        tol: Tolerances,
        mut metrics: PodMetrics,
        timestamp: Millis,
    ) -> Result<UtilizationProposal, HpaError> {
        let group = self.prepare(&mut metrics, resource)?;
        let requests = requests_by_pod(self.pods, container, resource, self.pod_level_resources)?;
        let (ratio, utilization, raw_average) =
            utilization_ratio(&metrics, &requests, target_utilization)?;
        let out = |replicas| UtilizationProposal {
            replicas,
            utilization,
            raw_average,
            timestamp,
        };
        let first = FirstPass { ratio, group };
        if let Some(r) = first.direct(current, tol) {
            return Ok(out(r));
        }
        let fallback = i64::from(target_utilization.max(100));
        first.fill(&mut metrics, |pod| {
            requests[pod].wrapping_mul(fallback) / 100
        });
        let (new_ratio, _, _) = utilization_ratio(&metrics, &requests, target_utilization)?;
        Ok(out(first.damped(new_ratio, metrics.len(), current, tol)))
    }

    /// Resource / ContainerResource with an `AverageValue` target (`GetRawResourceReplicas`).
    pub fn resource_average(
        &self,
        current: i32,
        target_average: i64,
        resource: &str,
        tol: Tolerances,
        metrics: PodMetrics,
        timestamp: Millis,
    ) -> Result<ValueProposal, HpaError> {
        self.plain(current, target_average, resource, tol, metrics, timestamp)
    }

    /// A Pods metric with an `AverageValue` target (`GetMetricReplicas`): readiness is not
    /// consulted.
    pub fn pods_average(
        &self,
        current: i32,
        target_average: i64,
        tol: Tolerances,
        metrics: PodMetrics,
        timestamp: Millis,
    ) -> Result<ValueProposal, HpaError> {
        self.plain(current, target_average, "", tol, metrics, timestamp)
    }

    /// `calcPlainMetricReplicas`: missing pods count at exactly the target on a scale-down.
    fn plain(
        &self,
        current: i32,
        target: i64,
        resource: &str,
        tol: Tolerances,
        mut metrics: PodMetrics,
        timestamp: Millis,
    ) -> Result<ValueProposal, HpaError> {
        let group = self.prepare(&mut metrics, resource)?;
        let (ratio, usage) = usage_ratio(&metrics, target);
        let out = |replicas| ValueProposal {
            replicas,
            usage,
            timestamp: Some(timestamp),
        };
        let first = FirstPass { ratio, group };
        if let Some(r) = first.direct(current, tol) {
            return Ok(out(r));
        }
        first.fill(&mut metrics, |_| target);
        let (new_ratio, _) = usage_ratio(&metrics, target);
        Ok(out(first.damped(new_ratio, metrics.len(), current, tol)))
    }

    /// `getUsageRatioReplicaCount`: scales the Running-and-Ready pod count by `ratio`, or from
    /// zero replicas returns `ceil(ratio)` with no tolerance.
    fn usage_ratio_replicas(
        &self,
        current: i32,
        ratio: f64,
        tol: Tolerances,
    ) -> Result<i32, HpaError> {
        if current == 0 {
            return Ok(ceil_i32(ratio));
        }
        if tol.is_within(ratio) {
            return Ok(current);
        }
        if self.pods.is_empty() {
            return Err(HpaError::NoPods);
        }
        let ready = self
            .pods
            .iter()
            .filter(|p| p.is_running_and_ready())
            .count();
        let x = ratio * ready as f64;
        Ok(if x > f64::from(i32::MAX) {
            i32::MAX
        } else {
            ceil_i32(x)
        })
    }

    /// An Object metric with a `Value` target (`GetObjectMetricReplicas`). The proposal carries
    /// no timestamp, as upstream's does not.
    pub fn object_value(
        &self,
        current: i32,
        target: i64,
        tol: Tolerances,
        usage: i64,
    ) -> Result<ValueProposal, HpaError> {
        let replicas = self.usage_ratio_replicas(current, usage as f64 / target as f64, tol)?;
        Ok(ValueProposal {
            replicas,
            usage,
            timestamp: None,
        })
    }

    /// An External metric with a `Value` target (`GetExternalMetricReplicas`): the series are
    /// summed (capped at `i64::MAX`). No timestamp, as upstream.
    pub fn external_value(
        &self,
        current: i32,
        target: i64,
        tol: Tolerances,
        values: &[i64],
    ) -> Result<ValueProposal, HpaError> {
        let mut usage = 0i64;
        for &v in values {
            if v > 0 && usage > i64::MAX - v {
                usage = i64::MAX;
                break;
            }
            usage = usage.wrapping_add(v);
        }
        self.object_value(current, target, tol, usage)
    }
}

/// An Object metric with an `AverageValue` target (`GetObjectPerPodMetricReplicas`): the ratio
/// is against `target_average × status_replicas`; pods are not consulted. The reported usage is
/// `ceil(usage / status_replicas)`.
pub fn object_average(
    status_replicas: i32,
    target_average: i64,
    tol: Tolerances,
    usage: i64,
    timestamp: Millis,
) -> ValueProposal {
    let ratio = usage as f64 / (target_average as f64 * f64::from(status_replicas));
    let mut replicas = status_replicas;
    if !tol.is_within(ratio) {
        replicas = ceil_i32(usage as f64 / target_average as f64);
    }
    ValueProposal {
        replicas,
        usage: (usage as f64 / f64::from(status_replicas)).ceil() as i64,
        timestamp: Some(timestamp),
    }
}

/// An External metric with an `AverageValue` target (`GetExternalPerPodMetricReplicas`): as
/// [`object_average`] over the summed series, with `i32::MAX` / `i64::MAX` caps.
pub fn external_average(
    status_replicas: i32,
    target_average: i64,
    tol: Tolerances,
    values: &[i64],
    timestamp: Millis,
) -> ValueProposal {
    let mut usage = 0i64;
    for &v in values {
        usage = usage.wrapping_add(v);
        if usage < 0 {
            usage = i64::MAX;
            break;
        }
    }
    let ratio = usage as f64 / (target_average as f64 * f64::from(status_replicas));
    let mut replicas = status_replicas;
    if !tol.is_within(ratio) {
        let r = (usage as f64 / target_average as f64).ceil();
        replicas = if r > f64::from(i32::MAX) {
            i32::MAX
        } else {
            r as i32
        };
    }
    let usage = if usage as f64 >= i64::MAX as f64 {
        i64::MAX
    } else {
        (usage as f64 / f64::from(status_replicas)).ceil() as i64
    };
    ValueProposal {
        replicas,
        usage,
        timestamp: Some(timestamp),
    }
}
