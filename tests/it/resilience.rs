//! Resilience patterns against independent results: the retry load multiplier
//! `(1 - q^k) / (1 - q)`, the AWS backoff-and-jitter study (its public simulator's figures),
//! the analytic availability of components in series and in parallel, and breakers, budgets,
//! degradation chains and bad input through the scenario format.

use std::path::Path;

use crate::common::{self, run_text as run};
use scalesim::model::resilience::availability;
use scalesim::observe::RepStats;
use scalesim::scenario::load_str;

/// The named metric of the component `name`.
fn metric(s: &RepStats, name: &str, key: &str) -> f64 {
    common::metric(common::component(s, name), key)
}

#[test]
fn retries_multiply_the_offered_load_by_the_geometric_sum() {
    // Each attempt fails with probability q (an error-rate brownout from t = 0); k attempts.
    for (q, k) in [(0.2, 3), (0.5, 4), (0.9, 5)] {
        let text = format!(
            r#"
name = "retries"
duration = "2h"
warmup = "1m"
[workload]
type = "poisson"
rate = 50
[classes.call]
path = [{{ try = ["dep"], name = "call", attempts = {k} }}]
[services.dep]
workers = 100
service = "1ms"
[controllers.faults]
type = "schedule"
service = "dep"
schedule = [{{ at = "0s", error_rate = {q} }}]
"#
        );
        let s = run(&text, &[], 3);
        let got = metric(&s, "call", "attempts_per_call");
        let want = (1.0 - f64::powi(q, k)) / (1.0 - q);
        assert!(
            (got / want - 1.0).abs() < 0.01,
            "q {q} k {k}: {got} vs {want}"
        );
        // And the calls that fail are those whose k attempts all failed.
        let failed = metric(&s, "call", "failed") / metric(&s, "call", "entered");
        assert!(
            (failed - f64::powi(q, k)).abs() < 0.01,
            "q {q} k {k}: failed {failed}"
        );
    }
}

/// The study's figures at N = 50 from its public simulator (100 runs, unseeded): write calls
/// per scheme, and the order of completion times.
#[test]
fn backoff_and_jitter_reproduce_the_aws_study() {
    let text = std::fs::read_to_string(crate::common::sim("backoff-jitter.toml")).unwrap();
    let mut calls = Vec::new();
    let mut times = Vec::new();
    for scheme in ["none", "exponential", "full", "equal", "decorrelated"] {
        let (mut c, mut t) = (0.0, 0.0);
        let reps = 40;
        for seed in 0..reps {
            let b = format!("backoff={scheme}");
            let s = run(&text, &[&b, "workload.count=50"], seed);
            c += metric(&s, "update", "attempts");
            t += s.total.latency.max() as f64 / 1e6;
        }
        calls.push(c / f64::from(reps as u32));
        times.push(t / f64::from(reps as u32));
    }
    // Reference simulator, N = 50: calls none 692, exponential 618, full 332, equal 346,
    // decorrelated 375; time (ms) none 1142, exponential 36014, full 2770, equal 4185,
    // decorrelated 2277.
    let want_calls = [692.0, 618.0, 332.0, 346.0, 375.0];
    let want_times = [1142.0, 36014.0, 2770.0, 4185.0, 2277.0];
    for i in 0..5 {
        assert!(
            (calls[i] / want_calls[i] - 1.0).abs() < 0.08,
            "calls {calls:?}"
        );
        assert!(
            (times[i] / want_times[i] - 1.0).abs() < 0.12,
            "times {times:?}"
        );
    }
    // The article's claims: full jitter does the least work, less than half of no backoff's;
    // exponential without jitter is the slowest by far.
    assert!(calls[2] < calls[3] && calls[2] < calls[4] && calls[2] < 0.5 * calls[0]);
    assert!(times[1] > 5.0 * times.iter().skip(2).fold(0.0, |a: f64, b| a.max(*b)));
}

#[test]
fn simulated_availability_matches_series_and_parallel_composition() {
    // One pod then one database (series); three pods (parallel) then one database.
    for pods in [1u32, 3] {
        let text = format!(
            r#"
name = "availability"
duration = "3d"
warmup = "1h"
[workload]
type = "poisson"
rate = 2
[classes.c]
path = ["app", "db"]
[services.app]
instances = {pods}
workers = 4
service = "1ms"
[services.db]
workers = 4
service = "1ms"
[controllers.app_failures]
type = "failures"
service = "app"
mtbf = {{ dist = "exponential", mean = "2h" }}
mttr = {{ dist = "exponential", mean = "10m" }}
[controllers.db_failures]
type = "failures"
service = "db"
mtbf = {{ dist = "exponential", mean = "12h" }}
mttr = {{ dist = "exponential", mean = "30m" }}
"#
        );
        let per: Vec<f64> = (0..12)
            .map(|seed| {
                let s = run(&text, &[], seed);
                let failed: u64 = s.total.failed.iter().sum();
                s.total.completed as f64 / (s.total.completed + failed) as f64
            })
            .collect();
        let n = per.len() as f64;
        let mean = per.iter().sum::<f64>() / n;
        let sd = (per.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let a_pod = availability::component(120.0, 10.0);
        let a_db = availability::component(720.0, 30.0);
        let want = availability::series(&[availability::k_of_n(1, pods, a_pod), a_db]);
        // The report's analytic figure is the same composition.
        let loaded = load_str(&text, Path::new("a.toml"), &[]).unwrap();
        let analytic = availability::of_system(&loaded.base.system).expect("failure models");
        assert!((analytic - want).abs() < 1e-12, "{analytic} vs {want}");
        // 99 % interval of the mean (t with 11 degrees of freedom: 3.11).
        let half = 3.11 * sd / n.sqrt();
        assert!(
            (mean - want).abs() < half.max(1e-4),
            "{pods} pods: simulated {mean:.5} ± {half:.5}, analytic {want:.5}"
        );
    }
}

#[test]
fn an_open_breaker_fails_fast_into_the_fallback_and_a_budget_caps_retries() {
    let text = r#"
name = "guards"
duration = "10m"
[params]
breaker = "b"
budget = "none"
[workload]
type = "poisson"
rate = 100
[classes.c]
path = [{ try = ["dep"], name = "call", attempts = 3, breaker = "$breaker", budget = "$budget", fallback = [{ delay = "1ms" }] }]
[services.dep]
workers = 50
service = "5ms"
[controllers.outage]
type = "schedule"
service = "dep"
schedule = [{ at = "1m", error_rate = 1.0 }, { at = "6m", error_rate = 0.0 }]
[breakers.b]
type = "resilience4j"
minimum_calls = 20
window_size = 20
wait_in_open = "10s"
[budgets.tokens]
max_tokens = 10
token_ratio = 0.1
"#;
    let s = run(text, &[], 1);
    // During the five-minute outage nearly every call is refused by the open breaker.
    let short = metric(&s, "call", "short_circuited");
    assert!(short > 0.9 * 100.0 * 300.0 * 0.9, "short-circuited {short}");
    assert!(metric(&s, "b", "opened") >= 10.0);
    // Every call is answered: by the dependency or by the fallback.
    let entered = metric(&s, "call", "entered");
    let answered = metric(&s, "call", "succeeded") + metric(&s, "call", "fallback_ok");
    assert!((answered - entered).abs() <= 2.0, "{answered} of {entered}");
    // Without the breaker, a budget of 10 tokens stops the retries soon after the outage
    // starts: far fewer than the 2 x 30000 retries the outage would otherwise cause.
    let s = run(text, &["breaker=none", "budget=tokens"], 1);
    assert!(metric(&s, "call", "retries") < 1000.0);
    assert!(metric(&s, "call", "budget_denied") > 25_000.0);
}

#[test]
fn a_degradation_chain_serves_every_request_at_some_level() {
    let text = r#"
name = "degrade"
duration = "10m"
[workload]
type = "poisson"
rate = 100
[classes.c]
path = [{ degrade = [
    { name = "best", path = ["ml"], timeout = "50ms", quality = 1.0 },
    { name = "ok", path = [{ delay = "1ms" }], quality = 0.5 },
], name = "recs" }]
[services.ml]
workers = 2
service = { dist = "exponential", mean = "30ms" }
"#;
    let s = run(text, &[], 2);
    let best = metric(&s, "recs", "served_by_level.best");
    let ok = metric(&s, "recs", "served_by_level.ok");
    assert!((best + ok - 1.0).abs() < 1e-3, "{best} + {ok}");
    assert!(best > 0.2 && ok > 0.05, "{best} {ok}");
    let q = metric(&s, "recs", "quality_goodput");
    assert!((q - (best + 0.5 * ok)).abs() < 1e-9);
}

#[test]
fn bad_resilience_input_names_the_field() {
    let base = r#"
name = "bad"
duration = "1m"
[workload]
type = "poisson"
rate = 1
[classes.c]
path = [{ try = ["dep"], breaker = "b", backoff = { type = "full", base = "5ms", cap = "1s" } }]
[services.dep]
service = "1ms"
[breakers.b]
type = "opossum"
"#;
    let err = |extra: &[&str]| {
        let sets: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        match load_str(base, Path::new("bad.toml"), &sets) {
            Ok(_) => panic!("{extra:?} should be refused"),
            Err(e) => format!("{e:#}"),
        }
    };
    let e = err(&["breakers.b.error_threshold_percentage=150"]);
    assert!(
        e.contains("breakers.b.error_threshold_percentage") && e.contains("150"),
        "{e}"
    );
    let e = err(&["breakers.b.rolling_count_buckets=0"]);
    assert!(e.contains("rolling_count_buckets"), "{e}");
    let e = err(&["breakers.b.type=hystrix"]);
    assert!(e.contains("unknown breaker type"), "{e}");
    let e = err(&["breakers.b.window_size=10"]);
    assert!(e.contains("not an option of a opossum breaker"), "{e}");
    let typo = base.replace("\"full\"", "\"fibonaci\"");
    let e = format!(
        "{:#}",
        load_str(&typo, Path::new("bad.toml"), &[]).unwrap_err()
    );
    assert!(
        e.contains("unknown backoff") && e.contains("bad.toml"),
        "{e}"
    );
    assert!(load_str(base, Path::new("ok.toml"), &[]).is_ok());
}

#[test]
fn hedging_matches_the_minimum_of_two_exponentials() {
    // No queueing (1000 workers), service Exp(1 s), hedge after d: the answer comes at
    // min(S1, d + S2), whose mean is 1 - e^-d / 2; a copy is sent with probability e^-d.
    let text = r#"
name = "hedge"
duration = "30h"
warmup = "10m"
[workload]
type = "poisson"
rate = 5
[classes.c]
path = [{ try = ["dep"], name = "call", hedge = "500ms" }]
[services.dep]
workers = 1000
service = { dist = "exponential", mean = "1s" }
"#;
    let s = run(text, &[], 4);
    let d: f64 = 0.5;
    let mean = s.total.mean_ns() / 1e9;
    let want = 1.0 - (-d).exp() / 2.0;
    assert!((mean / want - 1.0).abs() < 0.01, "mean {mean} vs {want}");
    let sent = metric(&s, "call", "hedges") / metric(&s, "call", "entered");
    assert!((sent - (-d).exp()).abs() < 0.01, "hedged {sent}");
    // A hedge wins when d + S2 < S1: P = e^-d / 2.
    let wins = metric(&s, "call", "hedge_wins") / metric(&s, "call", "entered");
    assert!((wins - (-d).exp() / 2.0).abs() < 0.01, "wins {wins}");
}

#[test]
fn codel_holds_the_queueing_delay_and_class_limits_shed_the_cheap_class_first() {
    // 120 % load on one FIFO server: without shedding the queue grows for the whole run.
    let text = r#"
name = "shed"
duration = "10m"
warmup = "1m"
[params]
limit = 1000000
[workload]
type = "poisson"
rate = 120
[classes.browse]
weight = 0.6
path = ["api"]
[classes.purchase]
weight = 0.4
path = ["api"]
[services.api]
service = { dist = "exponential", mean = "10ms" }
queue_limit_by_class = { browse = "$limit" }
codel = { target = "5ms", interval = "100ms" }
"#;
    let s = run(text, &[], 8);
    let p99_ms = s.total.latency.value_at_quantile(0.99) as f64 / 1e6;
    assert!(
        p99_ms < 300.0,
        "CoDel keeps the delay bounded: p99 {p99_ms} ms"
    );
    let rejected = s.total.failed[scalesim::observe::ErrorKind::Rejected.index()] as f64;
    let arrived = s.total.arrived as f64;
    // It sheds at least the excess (1 - 1/1.2 of the work), and not much more.
    assert!(
        rejected / arrived > 0.15 && rejected / arrived < 0.3,
        "{}",
        rejected / arrived
    );

    // Without CoDel, a browse limit of 5 waiting sheds browse and protects purchases.
    let no_codel = text.replace("codel = { target = \"5ms\", interval = \"100ms\" }\n", "");
    let s = run(&no_codel, &["limit=5"], 8);
    let failed =
        |c: usize| s.classes[c].failed.iter().sum::<u64>() as f64 / s.classes[c].arrived as f64;
    assert!(failed(0) > 0.2, "browse shed {}", failed(0));
    assert!(failed(1) < 0.01, "purchase shed {}", failed(1));
}
