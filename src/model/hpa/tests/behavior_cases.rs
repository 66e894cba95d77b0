//! `horizontal_test.go`, normalization: `TestNormalizeDesiredReplicas`,
//! `TestNormalizeDesiredReplicasWithBehavior`, `TestScalingWithRules`,
//! `TestConvertDesiredReplicasWithRules`, `TestStoreScaleEvents`,
//! `TestCalculateScaleUpLimitWithScalingRules`, `TestCalculateScaleDownLimitWithBehaviors`.

use super::{NOW, ago};
use crate::model::hpa::*;
use Limit::*;

/// `generateScalingRules(pods, podsPeriod, percent, percentPeriod, window)`: `Max`, the given
/// window, a Pods policy if `pods != 0`, then a Percent policy if `percent != 0`.
fn rules(
    pods: i32,
    pods_period: i32,
    percent: i32,
    percent_period: i32,
    window: i32,
) -> ScalingRules {
    let mut policies = Vec::new();
    if pods != 0 {
        policies.push(ScalingPolicy::pods(pods, pods_period));
    }
    if percent != 0 {
        policies.push(ScalingPolicy::percent(percent, percent_period));
    }
    ScalingRules {
        stabilization_window_seconds: Some(window),
        select_policy: Some(SelectPolicy::Max),
        policies: (!policies.is_empty()).then_some(policies),
        tolerance: None,
    }
}

/// `generateEventsUniformDistribution(raw, period)`: event `i` of `n` sits at the middle of the
/// `i`-th segment of the last `period` seconds, its age truncated to whole seconds.
fn uniform(raw: &[i32], period: i32) -> Vec<ScaleEvent> {
    let seg = f64::from(period) / raw.len() as f64;
    raw.iter()
        .enumerate()
        .map(|(i, &change)| {
            let age = (f64::from(period) - seg * (i as f64 + 1.0) + seg / 2.0) as i64;
            ScaleEvent {
                change,
                at: ago(age),
                outdated: false,
            }
        })
        .collect()
}

fn rec(replicas: i32, at: Millis) -> Recommendation {
    Recommendation { replicas, at }
}

// ---------------------------------------------------------------------------------------------

#[test]
fn normalize_desired_replicas_table() {
    // (name, recommendations, prenormalized, stabilized, log length); window 5 min.
    type Row = (&'static str, Vec<Recommendation>, i32, i32, usize);
    #[rustfmt::skip]
    let cases: Vec<Row> = vec![
        ("empty log", vec![], 5, 5, 1),
        ("stabilize", vec![rec(4, ago(120)), rec(5, ago(60))], 3, 5, 3),
        ("no stabilize", vec![rec(1, ago(120)), rec(2, ago(60))], 3, 3, 3),
        ("no stabilize - old recommendations", vec![rec(10, ago(600)), rec(9, ago(540))], 3, 3, 2),
        ("stabilize - old recommendations",
            vec![rec(10, ago(600)), rec(4, ago(60)), rec(5, ago(120)), rec(9, ago(540))], 3, 5, 4),
    ];
    for (name, recs, desired, want, len) in &cases {
        let mut recs = recs.clone();
        let got = stabilize_recommendation(&mut recs, *desired, 300 * SECOND, NOW);
        assert_eq!((got, recs.len()), (*want, *len), "{name}");
    }
    assert_eq!(cases.len(), 5, "ported TestNormalizeDesiredReplicas cases");
}

// ---------------------------------------------------------------------------------------------

struct Stab {
    name: &'static str,
    recs: Vec<Recommendation>,
    current: i32,
    desired: i32,
    want: i32,
    /// Stored recommendations (replicas only), when upstream checks them.
    stored: Option<&'static [i32]>,
    up_window: i32,
    down_window: i32,
}

#[rustfmt::skip]
fn stab_cases() -> Vec<Stab> {
    let s = |name, recs, current, desired, want, stored, up_window, down_window| Stab {
        name, recs, current, desired, want, stored, up_window, down_window,
    };
    vec![
        s("empty recommendations for scaling down", vec![], 100, 5, 5, Some(&[5][..]), 0, 0),
        s("simple scale down stabilization", vec![rec(4, ago(120)), rec(5, ago(60))], 100, 3, 5,
            Some(&[4, 5, 3][..]), 0, 180),
        s("simple scale up stabilization", vec![rec(4, ago(120)), rec(5, ago(60))], 1, 7, 4,
            Some(&[4, 5, 7][..]), 300, 0),
        s("no scale down stabilization", vec![rec(1, ago(120)), rec(2, ago(60))], 100, 3, 3,
            Some(&[1, 2, 3][..]), 300, 0),
        s("no scale up stabilization", vec![rec(4, ago(120)), rec(5, ago(60))], 1, 3, 3, Some(&[4, 5, 3][..]),
            0, 300),
        s("no scale down stabilization, reuse recommendation element", vec![rec(10, ago(600)), rec(9, ago(540))],
            100, 3, 3, Some(&[10, 3][..]), 0, 0),
        s("no scale up stabilization, reuse recommendation element", vec![rec(10, ago(600)), rec(9, ago(540))], 1,
            100, 100, Some(&[10, 100][..]), 0, 0),
        s("scale down stabilization, reuse one of obsolete recommendation element",
            vec![rec(10, ago(600)), rec(4, ago(60)), rec(5, ago(120)), rec(9, ago(540))], 100, 3, 5,
            Some(&[10, 4, 5, 3][..]), 0, 180),
        s("scale up stabilization, reuse one of obsolete recommendation element",
            vec![rec(10, ago(6000)), rec(6, ago(60)), rec(5, ago(120)), rec(9, ago(180))], 1, 100, 5,
            Some(&[100, 6, 5, 9][..]), 300, 0),
        s("scale up and down stabilization, do not scale up when prenormalized rec goes down",
            vec![rec(2, ago(6000)), rec(3, ago(180))], 2, 1, 2, None, 300, 300),
        s("scale up and down stabilization, do not scale down when prenormalized rec goes up",
            vec![rec(2, ago(6000)), rec(1, ago(180))], 2, 3, 2, None, 300, 300),
    ]
}

#[test]
fn normalize_desired_replicas_with_behavior_table() {
    let cases = stab_cases();
    for c in &cases {
        let mut recs = c.recs.clone();
        let (got, _) = stabilize_recommendation_with_behavior(
            &mut recs,
            c.current,
            c.desired,
            c.up_window,
            c.down_window,
            NOW,
        );
        assert_eq!(got, c.want, "{}", c.name);
        if let Some(stored) = c.stored {
            let replicas: Vec<i32> = recs.iter().map(|r| r.replicas).collect();
            assert_eq!(replicas, stored, "{}: stored recommendations", c.name);
        }
    }
    assert_eq!(
        cases.len(),
        11,
        "ported TestNormalizeDesiredReplicasWithBehavior cases"
    );
}

// ---------------------------------------------------------------------------------------------

struct Rate {
    name: &'static str,
    up_events: Vec<ScaleEvent>,
    down_events: Vec<ScaleEvent>,
    min: i32,
    max: i32,
    up: Option<ScalingRules>,
    down: Option<ScalingRules>,
    current: i32,
    desired: i32,
    want: i32,
    limit: Limit,
}

#[rustfmt::skip]
fn rate_cases() -> Vec<Rate> {
    let r = |name, current, desired, min, max, want, limit| Rate {
        name, up_events: vec![], down_events: vec![], min, max, up: None, down: None, current, desired, want, limit,
    };
    let up = |mut c: Rate, rules| { c.up = Some(rules); c };
    let down = |mut c: Rate, rules| { c.down = Some(rules); c };
    let ev = |mut c: Rate, up: &[i32], down: &[i32]| {
        c.up_events = if up.is_empty() { vec![] } else { uniform(up, 120) };
        c.down_events = if down.is_empty() { vec![] } else { uniform(down, 120) };
        c
    };
    let e159 = [1, 5, 9];
    let e4 = [8, 12, 9, 11];
    vec![
        r("prenormalized desired replicas within range", 5, 7, 3, 8, 7, DesiredWithinRange),
        r("prenormalized desired replicas < minReplicas", 3, 1, 2, 8, 2, TooFewReplicas),
        r("prenormalized desired replicas within range when minReplicas is 0", 1, 0, 0, 10, 0, DesiredWithinRange),
        r("maxReplicas is the limit because maxReplicas < scaleUpLimit", 20, 1000, 1, 10, 10, TooManyReplicas),
        r("desired replica count is more than the maximum replica count", 100, 1000, 100, 150, 150, TooManyReplicas),
        up(r("scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies", 3, 1000, 1, 2000, 4,
            ScaleUpLimit), rules(0, 0, 1, 60, 0)),
        // Upstream marks this case `testThis` and returns before checking it.
        down(r("scaleDownLimit is the limit because scaleDownLimit > minReplicas with user defined policies", 1000,
            3, 3, 2000, 980, ScaleDownLimit), rules(20, 60, 0, 0, 0)),
        r("scaleUp with default behavior", 10, 50, 1, 1000, 20, ScaleUpLimit),
        up(r("scaleUp with pods policy larger than percent policy", 10, 500, 1, 1000, 110, ScaleUpLimit),
            rules(100, 60, 100, 60, 0)),
        up(r("scaleUp with percent policy larger than pods policy", 10, 500, 1, 1000, 20, ScaleUpLimit),
            rules(2, 60, 100, 60, 0)),
        up(r("scaleUp with spec MaxReplicas limitation with large pod policy", 10, 50, 1, 1000, 50,
            DesiredWithinRange), rules(100, 60, 0, 0, 0)),
        up(r("scaleUp with spec MaxReplicas limitation with large percent policy", 10, 50, 1, 1000, 50,
            DesiredWithinRange), rules(10000, 60, 0, 0, 0)),
        up(r("scaleUp with pod policy limitation", 10, 50, 1, 1000, 40, ScaleUpLimit), rules(30, 60, 0, 0, 0)),
        up(r("scaleUp with percent policy limitation", 10, 50, 1, 1000, 30, ScaleUpLimit), rules(0, 0, 200, 60, 0)),
        down(r("scaleDown with percent policy larger than pod policy", 100, 2, 1, 1000, 80, ScaleDownLimit),
            rules(20, 60, 1, 60, 300)),
        down(r("scaleDown with pod policy larger than percent policy", 100, 2, 1, 1000, 98, ScaleDownLimit),
            rules(2, 60, 1, 60, 300)),
        down(r("scaleDown with spec MinReplicas=nil limitation with large pod policy", 10, 0, 1, 1000, 1,
            TooFewReplicas), rules(100, 60, 0, 0, 300)),
        down(r("scaleDown with spec MinReplicas limitation with large pod policy", 10, 0, 1, 1000, 1,
            TooFewReplicas), rules(100, 60, 0, 0, 300)),
        down(r("scaleDown with spec MinReplicas limitation with large percent policy", 10, 2, 5, 1000, 5,
            TooFewReplicas), rules(0, 0, 100, 60, 300)),
        down(r("scaleDown with pod policy limitation", 10, 2, 1, 1000, 5, ScaleDownLimit), rules(5, 60, 0, 0, 300)),
        down(r("scaleDown with percent policy limitation", 10, 5, 1, 1000, 5, DesiredWithinRange),
            rules(0, 0, 50, 60, 300)),
        ev(up(r("scaleUp with spec MaxReplicas limitation with large pod policy and events", 100, 500, 1, 200, 200,
            TooManyReplicas), rules(300, 60, 0, 0, 0)), &e159, &[]),
        ev(up(r("scaleUp with spec MaxReplicas limitation with large percent policy and events", 100, 500, 1, 200,
            200, TooManyReplicas), rules(0, 0, 10000, 60, 0)), &e159, &[]),
        ev(up(r("scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events",
            100, 500, 1, 1000, 100, ScaleUpLimit), rules(5, 120, 0, 0, 0)), &e159, &[]),
        ev(up(r("scaleUp with pod policy and previous scale up events", 100, 500, 1, 1000, 235, ScaleUpLimit),
            rules(150, 120, 0, 0, 0)), &e159, &[]),
        ev(up(r("scaleUp with percent policy and previous scale up events", 100, 500, 1, 1000, 255, ScaleUpLimit),
            rules(0, 0, 200, 120, 0)), &e159, &[]),
        ev(up(r("scaleUp with percent policy and previous scale up and down events", 6, 24, 1, 1000, 16,
            ScaleUpLimit), rules(0, 0, 300, 300, 0)), &[4], &[2]),
        ev(r("scaleDown with default policy and previous events", 10, 5, 1, 1000, 5, DesiredWithinRange), &[],
            &e159),
        ev(down(r("scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events", 100,
            0, 1, 1000, 1, TooFewReplicas), rules(115, 120, 0, 0, 300)), &[], &e159),
        ev(down(r("scaleDown with spec MinReplicas limitation with large pod policy and previous events", 100, 0, 5,
            1000, 5, TooFewReplicas), rules(130, 120, 0, 0, 300)), &[], &e159),
        ev(down(r("scaleDown with spec MinReplicas limitation with large percent policy and previous events", 100,
            2, 5, 1000, 5, TooFewReplicas), rules(0, 0, 100, 120, 300)), &[], &e159),
        ev(down(r("scaleDown with pod policy limitation and previous events", 100, 2, 1, 1000, 100, ScaleDownLimit),
            rules(5, 120, 0, 0, 300)), &[], &e159),
        ev(down(r("scaleDown with percent policy limitation and previous events", 100, 0, 1, 1000, 56,
            ScaleDownLimit), rules(0, 0, 50, 120, 300)), &[], &[2, 4, 6]),
        ev(down(r("scaleDown with percent policy and previous scale up and down events", 10, 1, 1, 1000, 6,
            ScaleDownLimit), rules(0, 0, 50, 180, 0)), &[2], &[4]),
        ev(down(r("scaleDown with previous events preventing further scale down", 100, 0, 1, 1000, 100,
            ScaleDownLimit), rules(0, 0, 10, 120, 300)), &[], &[10, 10, 10]),
        ev(down(r("scaleDown with with previous events still allowing more scale down", 10, 5, 1, 1000, 5,
            DesiredWithinRange), rules(0, 0, 1000, 120, 300)), &[], &[10, 10, 10]),
        ev(up(r("check 'outdated' flag for events for one behavior for up", 100, 200, 1, 1000, 200,
            DesiredWithinRange), rules(1000, 60, 0, 0, 0)), &e4, &[]),
        ev(up(r("check that events were not marked 'outdated' for two different policies in the behavior for up",
            100, 200, 1, 1000, 200, DesiredWithinRange), rules(1000, 120, 100, 60, 0)), &e4, &[]),
        ev(up(r("check that events were marked 'outdated' for two different policies in the behavior for up", 100,
            200, 1, 1000, 200, DesiredWithinRange), rules(1000, 30, 100, 60, 0)), &e4, &[]),
        ev(down(r("check 'outdated' flag for events for one behavior for down", 100, 5, 1, 1000, 5,
            DesiredWithinRange), rules(1000, 60, 0, 0, 300)), &[], &e4),
        ev(down(r("check that events were not marked 'outdated' for two different policies in the behavior for down",
            100, 5, 1, 1000, 5, DesiredWithinRange), rules(1000, 120, 100, 60, 300)), &[], &e4),
        ev(down(r("check that events were marked 'outdated' for two different policies in the behavior for down",
            100, 5, 1, 1000, 5, DesiredWithinRange), rules(1000, 30, 100, 60, 300)), &[], &e4),
    ]
}

#[test]
fn scaling_with_rules_table() {
    let cases = rate_cases();
    for c in &cases {
        let behavior = ResolvedBehavior {
            up: Rules::scale_up(c.up.as_ref()),
            down: Rules::scale_down(c.down.as_ref(), 300 * SECOND),
        };
        let history = History {
            recommendations: None,
            up_events: c.up_events.clone(),
            down_events: c.down_events.clone(),
        };
        let got = convert_desired_replicas_with_behavior_rate(
            c.current, c.desired, c.min, c.max, &behavior, &history, NOW,
        );
        assert_eq!(got, (c.want, c.limit), "{}", c.name);
    }
    assert_eq!(cases.len(), 42, "ported TestScalingWithRules cases");
}

#[test]
fn convert_desired_replicas_with_rules_table() {
    // (name, current, desired, min, max, want, limit); upstream's tests set the factor to 8.
    let legacy = LegacyLimit {
        factor: 8.0,
        minimum: 4.0,
    };
    let cases = [
        (
            "prenormalized desired replicas within range",
            5,
            7,
            3,
            8,
            7,
            DesiredWithinRange,
        ),
        (
            "prenormalized desired replicas < minReplicas",
            3,
            1,
            2,
            8,
            2,
            TooFewReplicas,
        ),
        (
            "prenormalized desired zeroed replicas within range",
            1,
            0,
            0,
            10,
            0,
            DesiredWithinRange,
        ),
        (
            "maxReplicas is the limit because maxReplicas < scaleUpLimit",
            20,
            1000,
            1,
            10,
            10,
            TooManyReplicas,
        ),
        (
            "scaleUpLimit is the limit because scaleUpLimit < maxReplicas",
            3,
            1000,
            1,
            2000,
            24,
            ScaleUpLimit,
        ),
    ];
    for (name, current, desired, min, max, want, limit) in cases {
        let got = convert_desired_replicas_with_rules(current, desired, min, max, legacy);
        assert_eq!(got, (want, limit), "{name}");
    }
    assert_eq!(
        cases.len(),
        5,
        "ported TestConvertDesiredReplicasWithRules cases"
    );
}

// ---------------------------------------------------------------------------------------------

struct Store {
    name: &'static str,
    prev: Vec<ScaleEvent>,
    /// Expected `(change, outdated)` after storing a change of 5.
    new: &'static [(i32, bool)],
    rules: Option<ScalingRules>,
    change_in_60s: i32,
}

fn ev(change: i32, age: i64) -> ScaleEvent {
    ScaleEvent {
        change,
        at: ago(age),
        outdated: false,
    }
}

#[test]
fn store_scale_events_table() {
    let s = |name, prev, new, rules, change_in_60s| Store {
        name,
        prev,
        new,
        rules,
        change_in_60s,
    };
    #[rustfmt::skip]
    let cases = vec![
        s("empty entries with default behavior", vec![], &[][..], None, 0),
        s("empty entries with two-policy-behavior", vec![], &[(5, false)][..], Some(rules(10, 60, 100, 60, 0)), 0),
        s("one outdated entry to be kept untouched without behavior", vec![ev(7, 61)], &[(7, false)][..], None, 0),
        s("one outdated entry to be replaced with behavior", vec![ev(7, 61)], &[(5, false)][..],
            Some(rules(10, 60, 100, 60, 0)), 0),
        s("one actual entry to be not touched with behavior", vec![ev(7, 58)], &[(7, false), (5, false)][..],
            Some(rules(10, 60, 100, 60, 0)), 7),
        s("two entries, one of them to be replaced", vec![ev(7, 61), ev(6, 59)], &[(5, false), (6, false)][..],
            Some(rules(10, 60, 0, 0, 0)), 6),
        s("replace one entry, use policies with different periods", vec![ev(8, 29), ev(6, 59), ev(7, 61), ev(9, 61)],
            &[(8, false), (6, false), (7, true), (5, false)][..], Some(rules(10, 60, 100, 30, 0)), 14),
        s("two entries, both actual", vec![ev(7, 58), ev(6, 59)], &[(7, false), (6, false), (5, false)][..],
            Some(rules(10, 120, 100, 30, 0)), 13),
    ];
    for c in &cases {
        for up in [true, false] {
            let mut history = History::default();
            let events = if up {
                &mut history.up_events
            } else {
                &mut history.down_events
            };
            *events = c.prev.clone();
            assert_eq!(
                replicas_change_in_period(60, events, NOW),
                c.change_in_60s,
                "{}",
                c.name
            );
            if let Some(rules) = &c.rules {
                // Upstream passes the raw rules (no defaulting) for the direction under test.
                let raw = Rules {
                    window_seconds: 0,
                    select: SelectPolicy::Max,
                    policies: rules.policies.clone().unwrap_or_default(),
                    tolerance: None,
                };
                let behavior = ResolvedBehavior {
                    up: raw.clone(),
                    down: raw,
                };
                let new = if up { 15 } else { 5 };
                store_scale_event(&mut history, &behavior, 10, new, NOW);
            }
            let events = if up {
                &history.up_events
            } else {
                &history.down_events
            };
            let got: Vec<(i32, bool)> = events.iter().map(|e| (e.change, e.outdated)).collect();
            assert_eq!(
                got,
                c.new,
                "{} ({})",
                c.name,
                if up { "up" } else { "down" }
            );
        }
    }
    assert_eq!(cases.len(), 8, "ported TestStoreScaleEvents cases");
}

#[test]
fn calculate_limits_with_min_select_policy() {
    let rules = Rules {
        window_seconds: 300,
        select: SelectPolicy::Min,
        policies: vec![ScalingPolicy::pods(2, 60), ScalingPolicy::percent(50, 60)],
        tolerance: None,
    };
    // TestCalculateScaleUpLimitWithScalingRules, TestCalculateScaleDownLimitWithBehaviors.
    assert_eq!(scale_up_limit(1, &[], &[], &rules, NOW), 2);
    assert_eq!(scale_down_limit(5, &[], &[], &rules, NOW), 3);
}

/// Not upstream cases: the float64 and window traps of the reference, which no upstream case
/// above happens to discriminate.
#[test]
fn percent_and_window_traps() {
    let one = |p| Rules {
        window_seconds: 0,
        select: SelectPolicy::Max,
        policies: vec![p],
        tolerance: None,
    };
    // ceil(100 × 1.1) = ceil(110.00000000000001) = 111.
    assert_eq!(
        scale_up_limit(100, &[], &[], &one(ScalingPolicy::percent(10, 60)), NOW),
        111
    );
    // trunc(10 × 0.2) = trunc(1.9999999999999996) = 1.
    assert_eq!(
        scale_down_limit(10, &[], &[], &one(ScalingPolicy::percent(80, 60)), NOW),
        1
    );
    // An event exactly one period old no longer counts.
    assert_eq!(replicas_change_in_period(60, &[ev(5, 60)], NOW), 0);
    assert_eq!(replicas_change_in_period(60, &[ev(5, 59)], NOW), 5);
    // With a zero window nothing is remembered, not even a recommendation made now.
    let mut recs = vec![rec(9, NOW)];
    assert_eq!(
        stabilize_recommendation_with_behavior(&mut recs, 5, 1, 0, 0, NOW).0,
        1
    );
    // A one-second window holds a recommendation made now.
    let mut recs = vec![rec(9, NOW)];
    assert_eq!(
        stabilize_recommendation_with_behavior(&mut recs, 5, 1, 0, 1, NOW).0,
        5
    );
}
