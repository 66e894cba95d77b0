//! Flows across services against independent results: saga invariants over many seeds and
//! failure rates (every saga ends in one outcome; a compensation runs only for a step that
//! completed), a partition with one consumer is an M/M/1 queue, no message is lost and
//! duplicates come only from crashes, and bad input is named by file, line and field.

use std::path::Path;

use proptest::prelude::*;
use scalesim::model::{FlowTotals, System};
use scalesim::scenario;
use scalesim::stats::theory as th;

use crate::common::{component, metric, run_text};

/// A saga of four steps on services `s0..s3`, compensations on `u0..u2`; each service fails
/// a share of its visits (`fail[i]` for `s_i`, `undo_fail` for every `u_i`); the orchestrator
/// `app` crashes one instance every `crash_every` when given.
fn saga(fail: [f64; 4], undo_fail: f64, attempts: u32, crash_every: Option<&str>) -> String {
    let mut text = format!(
        r#"
name = "saga"
duration = "120s"
[workload]
type = "poisson"
rate = 200
[classes.order]
path = ["app", {{ saga = "order", orchestrator = "app", undo_attempts = {attempts}, undo_backoff = "50ms", hold = {{ from = "s0", to = "s1" }}, steps = [
    {{ name = "s0", do = ["s0"], undo = ["u0"] }},
    {{ name = "s1", do = ["s1"], undo = ["u1"] }},
    {{ name = "s2", do = ["s2"], undo = ["u2"] }},
    {{ name = "s3", do = ["s3"] }},
] }}]
[services.app]
instances = 4
workers = 64
service = "1ms"
restart = "5s"
"#
    );
    for (i, p) in fail.iter().enumerate() {
        text += &format!(
            "[services.s{i}]\nworkers = 64\nservice = {{ dist = \"exponential\", mean = \"5ms\" }}\n\
             [controllers.f{i}]\ntype = \"schedule\"\nservice = \"s{i}\"\nschedule = [{{ at = \"0s\", error_rate = {p} }}]\n"
        );
    }
    for i in 0..3 {
        text += &format!(
            "[services.u{i}]\nworkers = 64\nservice = {{ dist = \"exponential\", mean = \"5ms\" }}\n\
             [controllers.g{i}]\ntype = \"schedule\"\nservice = \"u{i}\"\nschedule = [{{ at = \"0s\", error_rate = {undo_fail} }}]\n"
        );
    }
    if let Some(every) = crash_every {
        text += &format!(
            "[controllers.crash]\ntype = \"failures\"\nservice = \"app\"\nmtbf = \"{every}\"\nmttr = \"5s\"\n"
        );
    }
    text
}

/// The error loading `text` as `bad.toml` gives (it must be refused).
fn refused(text: &str) -> String {
    scenario::load_str(text, Path::new("bad.toml"), &[])
        .expect_err("refused")
        .to_string()
}

fn drained(text: &str, seed: u64) -> FlowTotals {
    let loaded = scenario::load_str(text, Path::new("test.toml"), &[]).expect("loads");
    System::new(&loaded.base.system, seed).run_and_drain(600_000_000_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    /// Every saga ends completed, compensated or inconsistent, none is stuck after a drain,
    /// and (without crashes) the compensations run are exactly those of the steps completed
    /// before the failing one: a saga stopped at step k undoes k steps.
    #[test]
    fn every_saga_ends_in_one_outcome_and_undoes_only_what_it_did(
        f0 in 0.0..0.3f64, f1 in 0.0..0.3f64, f2 in 0.0..0.3f64, f3 in 0.0..0.3f64,
        undo_fail in 0.0..0.6f64, attempts in 1u32..4, seed in 0u64..1000,
    ) {
        let text = saga([f0, f1, f2, f3], undo_fail, attempts, None);
        let (sagas, _) = drained(&text, seed);
        let (started, completed, compensated, inconsistent, in_progress) = sagas[0];
        prop_assert_eq!(in_progress, 0);
        prop_assert_eq!(completed + compensated + inconsistent, started);
        let s = run_text(&text, &[], seed);
        let c = component(&s, "order");
        let first_runs = metric(c, "compensations") - metric(c, "compensation_retries");
        let owed: f64 = (0..4).map(|k| k as f64 * metric(c, &format!("failed_at.s{k}"))).sum();
        // Sagas still running at the end of the measured run owe some too.
        let open = metric(c, "in_progress");
        prop_assert!(
            first_runs <= owed && owed - first_runs <= 3.0 * open,
            "compensations {first_runs} for {owed} completed steps of failed sagas ({open} open)"
        );
    }

    /// Orchestrator crashes leave sagas inconsistent, never stuck or uncounted.
    #[test]
    fn crashes_of_the_orchestrator_are_counted(seed in 0u64..1000) {
        let text = saga([0.01, 0.01, 0.01, 0.01], 0.0, 3, Some("20s"));
        let (sagas, _) = drained(&text, seed);
        let (started, completed, compensated, inconsistent, in_progress) = sagas[0];
        prop_assert_eq!(in_progress, 0);
        prop_assert_eq!(completed + compensated + inconsistent, started);
        prop_assert!(inconsistent > 0, "4 instances crashing every 20 s, none inconsistent");
    }
}

/// Steps that fail and compensations that never do: every failed saga is compensated, none is
/// inconsistent; compensations that always fail leave every saga stopped after a completed step
/// inconsistent.
#[test]
fn only_failed_compensations_leave_sagas_inconsistent() {
    let (sagas, _) = drained(&saga([0.1, 0.1, 0.1, 0.1], 0.0, 1, None), 9);
    let (started, _, compensated, inconsistent, _) = sagas[0];
    assert_eq!(inconsistent, 0);
    assert!(
        compensated > started / 10,
        "{compensated} of {started} compensated"
    );
    let s = run_text(&saga([0.0, 0.2, 0.0, 0.0], 1.0, 2, None), &[], 9);
    let c = component(&s, "order");
    // Only s1 fails; its saga has s0 to undo, which fails both attempts.
    assert_eq!(metric(c, "sagas_compensated"), 0.0);
    let stopped = metric(c, "failed_at.s1");
    let bad = metric(c, "sagas_inconsistent");
    assert!(
        stopped > 1000.0 && (bad - stopped).abs() <= metric(c, "in_progress") + 1.0,
        "{bad} of {stopped}"
    );
}

#[test]
fn failure_free_sagas_all_complete_and_hold_for_the_second_step() {
    let s = run_text(&saga([0.0; 4], 0.0, 1, None), &[], 3);
    let c = component(&s, "order");
    assert_eq!(
        metric(c, "sagas_compensated") + metric(c, "sagas_inconsistent"),
        0.0
    );
    assert!(metric(c, "sagas_completed") > 20_000.0);
    // Held from the end of s0 to the end of s1: one exponential 5 ms visit at an idle
    // station (64 workers, 200/s), mean 5 ms.
    let hold = metric(c, "hold_ms_mean");
    assert!((hold - 5.0).abs() < 0.25, "hold {hold} ms");
    // Little's law: resources held at once = rate x hold time.
    let held = metric(c, "held_mean");
    assert!((held - 200.0 * hold / 1000.0).abs() < 0.05, "held {held}");
}

/// One publisher at `rate`, a one-partition topic, one consumer whose work is exponential
/// with mean 10 ms.
fn mm1(rate: f64, commit: &str, extra: &str) -> String {
    format!(
        r#"
name = "mm1"
duration = "2000s"
warmup = "100s"
[workload]
type = "poisson"
rate = {rate}
[classes.publish]
path = [{{ publish = "events" }}]
[topics.events]
partitions = 1
append = "0ms"
[services.worker]
service = {{ dist = "exponential", mean = "10ms" }}
restart = "2s"
[consumers.group]
topic = "events"
service = "worker"
commit_interval = "{commit}"
{extra}
"#
    )
}

/// A partition with one consumer is an M/M/1 queue: the mean time from publish to the end of
/// processing is 1 / (mu - lambda), and the mean number waiting is rho^2 / (1 - rho).
#[test]
fn a_partition_with_one_consumer_is_mm1() {
    for rate in [50.0, 80.0] {
        let s = run_text(&mm1(rate, "5s", ""), &[], 11);
        let g = component(&s, "group");
        let w = th::mm1_mean_response(rate, 100.0);
        let lq = rate * th::mm1_mean_wait(rate, 100.0);
        let e2e = metric(g, "e2e_ms_mean") / 1000.0;
        let lag = metric(g, "lag_mean");
        assert!(
            (e2e - w).abs() < 0.06 * w,
            "rate {rate}: e2e {e2e} s, M/M/1 {w} s"
        );
        assert!(
            (lag - lq).abs() < 0.08 * lq,
            "rate {rate}: lag {lag}, M/M/1 Lq {lq}"
        );
        assert_eq!(metric(g, "duplicates"), 0.0, "no crash, no duplicate");
    }
}

/// Crashes of the consumer: nothing is lost (published = consumed + dead-lettered, after a
/// drain), what was processed but not committed is delivered again and processed twice;
/// with a commit after each message, a crash redelivers only the message in processing.
#[test]
fn no_message_is_lost_and_duplicates_come_from_crashes() {
    let crash = "poison = 0.01\n[controllers.crash]\ntype = \"failures\"\nservice = \"worker\"\n\
                 mtbf = \"60s\"\nmttr = \"2s\"";
    for (commit, extra, dup) in [
        ("5s", crash, true),
        ("0s", crash, false),
        ("5s", "poison = 0.01", false),
    ] {
        let text = mm1(50.0, commit, extra);
        let (_, groups) = drained(&text, 5);
        let [
            published,
            consumed,
            dlq,
            queued,
            inflight,
            duplicates,
            redelivered,
        ] = groups[0];
        assert_eq!((queued, inflight), (0, 0), "drained");
        assert_eq!(published, consumed + dlq, "commit {commit}: lost messages");
        assert!(dlq > 0, "poison messages reach the dead-letter queue");
        assert_eq!(
            duplicates > 0,
            dup,
            "commit {commit}, {extra}: {duplicates} duplicates"
        );
        assert!(duplicates <= redelivered);
    }
}

#[test]
fn bad_flows_are_named_by_file_line_and_field() {
    let no_undo = r#"
name = "x"
duration = "10s"
[workload]
type = "poisson"
rate = 1
[classes.order]
path = [{ saga = "order", steps = [
    { name = "reserve", do = ["a"] },
    { name = "charge", do = ["a"] },
] }]
[services.a]
service = "1ms"
"#;
    let e = refused(no_undo);
    assert!(
        e.contains("bad.toml:8")
            && e.contains("classes.order.path.0.steps.0")
            && e.contains("undo"),
        "{e}"
    );
    let no_topic = r#"
name = "x"
duration = "10s"
[workload]
type = "poisson"
rate = 1
[classes.c]
path = ["a"]
[services.a]
service = "1ms"
[topics.orders]
partitions = 3
[consumers.email]
topic = "order"
service = "a"
"#;
    let e = refused(no_topic);
    assert!(
        e.contains("bad.toml:14") && e.contains("consumers.email.topic") && e.contains("`orders`"),
        "{e}"
    );
    let publish = no_topic
        .replace("path = [\"a\"]", "path = [\"a\", { publish = \"ordres\" }]")
        .replace("topic = \"order\"", "topic = \"orders\"");
    let e = refused(&publish);
    assert!(e.contains("bad.toml:8") && e.contains("publish"), "{e}");
    let partitions = no_topic.replace("partitions = 3", "partitions = 0");
    let e = refused(&partitions);
    assert!(e.contains("topics.orders.partitions"), "{e}");
}

/// Clients in three regions, `rate` requests per second in each; only the regions in `arms`
/// serve (a 1 ms constant service).
fn regional(arms: &[&str], extra: &str) -> String {
    let geo: Vec<String> = arms
        .iter()
        .map(|r| format!("{r} = [\"app-{r}\"]"))
        .collect();
    let mut text = format!(
        r#"
name = "regions"
duration = "600s"
[workload]
type = "poisson"
rate = 300
[regions]
names = ["us-east", "eu-west", "asia-southeast"]
{extra}
"#
    );
    for r in ["us-east", "eu-west", "asia-southeast"] {
        text += &format!(
            "[classes.{r}]\nregion = \"{r}\"\npath = [{{ geo = {{ {} }}, kb = 10 }}]\n\
             [services.app-{r}]\nworkers = 1000\nservice = \"1ms\"\n",
            geo.join(", ")
        );
    }
    text
}

/// A request from region r served in region s takes at least the RTT of (r, s): here every
/// region's clients are served in eu-west, so their fastest request is RTT + 1 ms.
#[test]
fn a_request_pays_at_least_the_rtt_between_its_region_and_the_serving_one() {
    let s = run_text(&regional(&["eu-west"], ""), &[], 2);
    for (class, rtt_ms) in [(0, 170.0), (1, 0.0), (2, 68.0)] {
        // Classes are in name order: asia-southeast, eu-west, us-east.
        let h = &s.classes[class].latency;
        // The histogram keeps 3 significant digits: its minimum is within 0.1 %.
        let min_ms = h.min() as f64 / 1e6;
        assert!(
            min_ms >= (rtt_ms + 1.0) * 0.999 && min_ms < (rtt_ms + 1.0) * 1.002,
            "class {class}: fastest {min_ms} ms, RTT {rtt_ms} ms"
        );
    }
    let r = component(&s, "regions");
    assert_eq!(
        metric(r, "served.eu-west"),
        metric(r, "served_remote") + s.classes[1].completed as f64
    );
}

/// An outage of us-east from 100 s to 400 s: requests DNS still sends there fail until the
/// health checks notice (30 s) and then while the resolvers move over one TTL (60 s, half of
/// the lookups on average): about rate x (detect + ttl / 2) errors; the others are served
/// from eu-west, the nearest region, 68 ms away.
#[test]
fn a_region_outage_fails_requests_for_detection_plus_half_a_ttl() {
    let text = regional(
        &["us-east", "eu-west", "asia-southeast"],
        "detect = \"30s\"\ndns_ttl = \"60s\"\noutage = { region = \"us-east\", at = \"100s\", for = \"300s\" }",
    );
    let mut errors = 0.0;
    let seeds = 5;
    for seed in 0..seeds {
        let s = run_text(&text, &[], seed);
        errors += metric(component(&s, "regions"), "dns_errors");
    }
    let expect = 100.0 * (30.0 + 60.0 / 2.0);
    let mean = errors / f64::from(seeds as u32);
    assert!(
        (mean - expect).abs() < 0.05 * expect,
        "{mean} errors, expected {expect}"
    );
}

#[test]
fn bad_regions_are_named_by_file_line_and_field() {
    let base = regional(&["eu-west"], "");
    let cases = [
        (
            "rtt_ms = [[0, 68], [68, 0]]",
            "regions.rtt_ms",
            "square 3 x 3",
        ),
        (
            "rtt_ms = [[0, 68, 170], [68, 0, -1], [170, 170, 0]]",
            "regions.rtt_ms.1.2",
            "zero or positive",
        ),
        (
            "outage = { region = \"us-eats\", at = \"1m\", for = \"1m\" }",
            "regions.outage.region",
            "`us-east`",
        ),
    ];
    for (line, field, words) in cases {
        let text = base.replace(
            "names = [\"us-east\", \"eu-west\", \"asia-southeast\"]",
            &format!("names = [\"us-east\", \"eu-west\", \"asia-southeast\"]\n{line}"),
        );
        let e = refused(&text);
        assert!(
            e.contains("bad.toml:") && e.contains(field) && e.contains(words),
            "{line}: {e}"
        );
    }
    let unknown = base.replace("names = [\"us-east\"", "names = [\"mars-1\"");
    let e = refused(&unknown);
    assert!(e.contains("rtt_ms") && e.contains("mars-1"), "{e}");
}

/// A choreographed saga: each step waits for a consumer of its participant's group, so with
/// one consumer per group a step's events queue behind each other; every saga still ends in
/// one outcome, and a step without a participant is refused.
#[test]
fn a_choreographed_saga_runs_its_steps_through_its_participants_consumers() {
    let text = r#"
name = "ch"
duration = "300s"
[workload]
type = "poisson"
rate = 5
[classes.order]
path = [{ saga = "order", mode = "choreography", steps = [
  { name = "a", by = "ga", do = ["sa"], undo = ["sa"] },
  { name = "b", by = "gb", do = ["sb"] },
] }]
[services.sa]
workers = 100
service = { dist = "exponential", mean = "50ms" }
[services.sb]
workers = 100
service = { dist = "exponential", mean = "100ms" }
[services.ha]
service = "1us"
[services.hb]
service = "1us"
[topics.t]
partitions = 1
[consumers.ga]
topic = "t"
service = "ha"
[consumers.gb]
topic = "t"
service = "hb"
"#;
    let s = run_text(text, &[], 4);
    let saga = component(&s, "order");
    // Each participant is one consumer on one partition: an M/M/1 queue per step (rate 5,
    // means 50 and 100 ms), so the saga takes the sum of the two M/M/1 response times.
    let expect = th::mm1_mean_response(5.0, 20.0) + th::mm1_mean_response(5.0, 10.0);
    let mean = metric(saga, "saga_ms_mean") / 1000.0;
    assert!(
        (mean - expect).abs() < 0.08 * expect,
        "saga {mean} s, expected {expect} s"
    );
    let (sagas, _) = drained(text, 4);
    let (started, completed, compensated, inconsistent, open) = sagas[0];
    assert_eq!((open, completed + compensated + inconsistent), (0, started));
    let missing = text.replace(", by = \"gb\"", "");
    let e = refused(&missing);
    assert!(e.contains("steps.1") && e.contains("by"), "{e}");
}

/// A typo inside a distribution table names the unknown field (it used to say only that the
/// value matched no form of a distribution).
#[test]
fn a_typo_in_a_distribution_names_the_field() {
    let text = r#"
name = "x"
duration = "10s"
[workload]
type = "poisson"
rate = 1
[classes.c]
path = ["a"]
[services.a]
service = { dist = "uniform", low = "1ms", high = "2ms" }
"#;
    let e = refused(text);
    assert!(
        e.contains("bad.toml:10")
            && e.contains("services.a.service")
            && e.contains("unknown field")
            && e.contains("`min`"),
        "{e}"
    );
}

/// SLOs on components' metrics: a bound holds or fails on the strategy's mean, a metric a
/// strategy does not measure fails, and a key that is not `COMPONENT.METRIC` is refused.
#[test]
fn slos_bound_components_metrics() {
    let text = format!(
        "{}\n[slo]\ncomponents = {{ \"group.e2e_ms_mean\" = {{ max = 50 }}, \"group.lag_mean\" = {{ min = 100 }}, \"group.nothing\" = {{ max = 1 }} }}\n[[strategies]]\nname = \"base\"\n",
        mm1(50.0, "5s", "")
    )
    .replace("duration = \"2000s\"", "duration = \"200s\"");
    let loaded = scenario::load_str(&text, Path::new("slo.toml"), &[]).expect("loads");
    let report = scalesim::run::run(
        &loaded,
        &scalesim::run::RunOptions {
            replications: Some(2),
            ..Default::default()
        },
    );
    let checks = &report.summary.strategies[0].slo.checks;
    let by = |m: &str| checks.iter().find(|c| c.metric == m).expect(m);
    // M/M/1 at rho 0.5: 20 ms from publish to processed, 0.5 waiting.
    assert!(by("group.e2e_ms_mean").passed, "{checks:?}");
    assert!(!by("group.lag_mean").passed, "{checks:?}");
    let missing = by("group.nothing");
    assert!(
        !missing.passed && missing.name.contains("not measured"),
        "{checks:?}"
    );
    let e = refused(&text.replace("\"group.nothing\"", "\"nothing\""));
    assert!(
        e.contains("slo.components.nothing") && e.contains("COMPONENT.METRIC"),
        "{e}"
    );
}
