//! Shoppers as sessions against the graph they walk: a session graph without abandonment
//! conserves sessions and visits its states in the graph's visit ratios (solved here), converts
//! the share the chain predicts; slower pages never convert more; bad graphs are named by file,
//! line and field.

use std::path::Path;

use proptest::prelude::*;
use scalesim::model::System;
use scalesim::scenario;

use crate::common::{component, metric, run_text};

/// home -> product 0.6 | exit; product -> cart 0.5 | home 0.3 | exit; cart -> pay 0.8 | exit;
/// pay -> exit. Pages take `service` at a station of many workers; `patience` per page.
fn shop(service: &str, patience: &str) -> String {
    format!(
        r#"
name = "shop"
duration = "600s"
[workload]
type = "poisson"
rate = 50
[sessions]
start = "home"
converts = "pay"
revenue = 10
[sessions.states.home]
class = "page"
think = "2s"
{patience}
next = {{ product = 0.6, exit = 0.4 }}
[sessions.states.product]
class = "page"
think = "2s"
{patience}
next = {{ cart = 0.5, home = 0.3, exit = 0.2 }}
[sessions.states.cart]
class = "page"
think = "2s"
{patience}
next = {{ pay = 0.8, exit = 0.2 }}
[sessions.states.pay]
class = "page"
{patience}
next = {{ exit = 1.0 }}
[classes.page]
path = ["app"]
[services.app]
workers = 1000
service = {service}
"#
    )
}

/// Without abandonment, the sessions' visits per state are the graph's visit ratios
/// (V = e_home + V P), their conversions the chain's probability of reaching `pay`, and every
/// session started ends.
#[test]
fn sessions_walk_the_graph_in_its_visit_ratios_and_all_end() {
    let text = shop("\"10ms\"", "");
    let s = run_text(&text, &[], 8);
    let c = component(&s, "sessions");
    let home = 1.0 / (1.0 - 0.6 * 0.3);
    let sessions = metric(c, "sessions");
    for (state, v) in [
        ("home", home),
        ("product", 0.6 * home),
        ("cart", 0.3 * home),
        ("pay", 0.24 * home),
    ] {
        let measured = metric(c, &format!("visits.{state}")) / sessions;
        assert!(
            (measured - v).abs() < 0.03 * v,
            "{state}: {measured} visits per session, graph {v}"
        );
    }
    let rate = metric(c, "conversion_rate");
    assert!((rate - 0.24 * home).abs() < 0.01, "conversion rate {rate}");
    assert_eq!(metric(c, "abandoned"), 0.0);
    let loaded = scenario::load_str(&text, Path::new("shop.toml"), &[]).expect("loads");
    let mut sys = System::new(&loaded.base.system, 8);
    sys.run_drained(3_600_000_000_000);
    let (started, ended, abandoned, open) = sys.session_totals().expect("sessions");
    assert_eq!((open, ended + abandoned), (0, started));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, .. ProptestConfig::default() })]

    /// Under common random numbers, slower pages never convert more, and lose more revenue.
    #[test]
    fn slower_pages_never_convert_more(seed in 0u64..1000) {
        let patience = "patience = { dist = \"exponential\", mean = \"1s\" }";
        let runs: Vec<(f64, f64)> = ["0.1s", "0.5s", "2s"]
            .iter()
            .map(|mean| {
                let text = shop(&format!("{{ dist = \"exponential\", mean = \"{mean}\" }}"), patience);
                let s = run_text(&text, &[], seed);
                let c = component(&s, "sessions");
                (metric(c, "conversions"), metric(c, "revenue_lost"))
            })
            .collect();
        for w in runs.windows(2) {
            prop_assert!(w[1].0 <= w[0].0, "conversions {runs:?}");
            prop_assert!(w[1].1 >= w[0].1, "revenue lost {runs:?}");
        }
    }
}

#[test]
fn bad_session_graphs_are_named_by_file_line_and_field() {
    let base = shop("\"10ms\"", "");
    let cases = [
        (
            "next = { product = 0.6, exit = 0.4 }",
            "next = { product = 0.6, exit = 0.3 }",
            "sessions.states.home.next",
            "add up to 0.9",
        ),
        (
            "converts = \"pay\"",
            "converts = \"paay\"",
            "sessions.converts",
            "`pay`",
        ),
        (
            "next = { pay = 0.8, exit = 0.2 }",
            "next = { cart = 0.8, exit = 0.2 }",
            "sessions.converts",
            "cannot be reached",
        ),
        (
            "[sessions.states.pay]\nclass = \"page\"",
            "[sessions.states.pay]\nclass = \"checkout\"",
            "sessions.states.pay.class",
            "no class",
        ),
        (
            "[sessions.states.pay]\nclass = \"page\"",
            "[sessions.states.pay]\nclass = \"page\"\npatience = \"soon\"",
            "sessions.states.pay.patience",
            "",
        ),
    ];
    for (from, to, field, words) in cases {
        assert!(base.contains(from), "{from}");
        let text = base.replacen(from, to, 1);
        let e = scenario::load_str(&text, Path::new("bad.toml"), &[])
            .expect_err("refused")
            .to_string();
        assert!(
            e.contains("bad.toml:") && e.contains(field) && e.contains(words),
            "{to}: {e}"
        );
    }
}
