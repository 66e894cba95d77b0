//! Normalization of the multi-metric proposal: stabilization windows, rate-limit policies
//! and the in-memory history they read (recommendations and scale events).

use super::types::{Millis, SECOND};

/// How a scaling policy measures its allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// An absolute number of pods per period.
    Pods,
    /// A percentage of the replicas at the start of the period.
    Percent,
}

/// One rate-limit policy (`HPAScalingPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScalingPolicy {
    /// Pods or Percent.
    pub kind: PolicyKind,
    /// Pods, or percent.
    pub value: i32,
    /// The window the allowance applies to, seconds.
    pub period_seconds: i32,
}

impl ScalingPolicy {
    /// `value` pods per `period_seconds`.
    pub fn pods(value: i32, period_seconds: i32) -> ScalingPolicy {
        ScalingPolicy {
            kind: PolicyKind::Pods,
            value,
            period_seconds,
        }
    }

    /// `value` percent per `period_seconds`.
    pub fn percent(value: i32, period_seconds: i32) -> ScalingPolicy {
        ScalingPolicy {
            kind: PolicyKind::Percent,
            value,
            period_seconds,
        }
    }
}

/// Which policy wins when several apply (`selectPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SelectPolicy {
    /// The policy allowing the biggest change.
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// One direction of `spec.behavior` as written by the user: every field optional.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScalingRules {
    /// `stabilizationWindowSeconds`.
    pub stabilization_window_seconds: Option<i32>,
    /// `selectPolicy`.
    pub select_policy: Option<SelectPolicy>,
    /// `policies` (replaces the default list as a whole).
    pub policies: Option<Vec<ScalingPolicy>>,
    /// `tolerance` (per-direction tolerance, `HPAConfigurableTolerance`).
    pub tolerance: Option<f64>,
}

/// `spec.behavior` as written. An HPA with `behavior: None` takes the legacy path; `Some` with
/// both directions `None` (`behavior: {}`) takes the defaulted behavior path.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Behavior {
    /// `scaleUp`.
    pub scale_up: Option<ScalingRules>,
    /// `scaleDown`.
    pub scale_down: Option<ScalingRules>,
}

/// One direction with every default filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// Stabilization window, seconds.
    pub window_seconds: i32,
    /// Policy selection.
    pub select: SelectPolicy,
    /// Rate-limit policies.
    pub policies: Vec<ScalingPolicy>,
    /// Per-direction tolerance, if set (else the controller flag).
    pub tolerance: Option<f64>,
}

impl Rules {
    fn from(user: Option<&ScalingRules>, window: i32, policies: Vec<ScalingPolicy>) -> Rules {
        let user = user.cloned().unwrap_or_default();
        Rules {
            window_seconds: user.stabilization_window_seconds.unwrap_or(window),
            select: user.select_policy.unwrap_or(SelectPolicy::Max),
            policies: user.policies.unwrap_or(policies),
            tolerance: user.tolerance,
        }
    }

    /// Scale-up defaults completed field by field: window 0, `Max`, 4 pods and 100 % per 15 s.
    pub fn scale_up(user: Option<&ScalingRules>) -> Rules {
        let defaults = vec![ScalingPolicy::pods(4, 15), ScalingPolicy::percent(100, 15)];
        Rules::from(user, 0, defaults)
    }

    /// Scale-down defaults completed field by field: window = the controller's downscale
    /// stabilization flag (`flag_window`, ms, truncated to seconds), `Max`, 100 % per 15 s.
    pub fn scale_down(user: Option<&ScalingRules>, flag_window: Millis) -> Rules {
        let window = (flag_window / SECOND) as i32;
        Rules::from(user, window, vec![ScalingPolicy::percent(100, 15)])
    }

    /// The longest policy period, seconds (0 without policies).
    pub fn longest_period(&self) -> i32 {
        self.policies
            .iter()
            .map(|p| p.period_seconds)
            .max()
            .unwrap_or(0)
            .max(0)
    }
}

/// A behavior with both directions defaulted.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedBehavior {
    /// Scale-up rules.
    pub up: Rules,
    /// Scale-down rules.
    pub down: Rules,
}

impl ResolvedBehavior {
    /// Fills the defaults of `b` (`GenerateHPAScale{Up,Down}Rules` plus the controller's
    /// scale-down window).
    pub fn new(b: &Behavior, flag_window: Millis) -> ResolvedBehavior {
        ResolvedBehavior {
            up: Rules::scale_up(b.scale_up.as_ref()),
            down: Rules::scale_down(b.scale_down.as_ref(), flag_window),
        }
    }
}

/// An unstabilized recommendation remembered for stabilization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recommendation {
    /// Recommended replicas.
    pub replicas: i32,
    /// When it was made.
    pub at: Millis,
}

/// A past scaling step, remembered for the rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleEvent {
    /// Replicas added (up) or removed (down), ≥ 0.
    pub change: i32,
    /// When.
    pub at: Millis,
    /// Older than the longest policy period at some store: its slot may be reused.
    pub outdated: bool,
}

/// The controller's in-memory state for one HPA, lost on restart.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    /// Recommendations; `None` until the first sync records `(current, now)`.
    pub recommendations: Option<Vec<Recommendation>>,
    /// Scale-up events.
    pub up_events: Vec<ScaleEvent>,
    /// Scale-down events.
    pub down_events: Vec<ScaleEvent>,
}

/// Why the stabilized recommendation is what it is (condition `AbleToScale`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stabilization {
    /// The proposal passed unchanged.
    ReadyForNewScale,
    /// Held down by a lower recent recommendation.
    ScaleUpStabilized,
    /// Held up by a higher recent recommendation.
    ScaleDownStabilized,
}

impl Stabilization {
    /// Upstream's reason string.
    pub fn as_str(self) -> &'static str {
        match self {
            Stabilization::ReadyForNewScale => "ReadyForNewScale",
            Stabilization::ScaleUpStabilized => "ScaleUpStabilized",
            Stabilization::ScaleDownStabilized => "ScaleDownStabilized",
        }
    }
}

/// What bounded the final count (condition `ScalingLimited`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Not limited.
    DesiredWithinRange,
    /// Raised to `minReplicas`.
    TooFewReplicas,
    /// Lowered to `maxReplicas`.
    TooManyReplicas,
    /// Lowered to the scale-up rate limit.
    ScaleUpLimit,
    /// Raised to the scale-down rate limit.
    ScaleDownLimit,
}

impl Limit {
    /// Upstream's reason string.
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::DesiredWithinRange => "DesiredWithinRange",
            Limit::TooFewReplicas => "TooFewReplicas",
            Limit::TooManyReplicas => "TooManyReplicas",
            Limit::ScaleUpLimit => "ScaleUpLimit",
            Limit::ScaleDownLimit => "ScaleDownLimit",
        }
    }
}

/// The outcome of normalization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Normalized {
    /// The replica count to scale to.
    pub replicas: i32,
    /// The stabilization reason.
    pub stabilization: Stabilization,
    /// The limit reason.
    pub limit: Limit,
}

/// Whether `at` is strictly newer than `now - window` (Go's `After(cutoff)`).
fn within(at: Millis, now: Millis, window: Millis) -> bool {
    at > now - window
}

/// Σ change of the events strictly newer than `now - period_seconds`
/// (`getReplicasChangePerPeriod`).
pub fn replicas_change_in_period(period_seconds: i32, events: &[ScaleEvent], now: Millis) -> i32 {
    let period = Millis::from(period_seconds) * SECOND;
    events
        .iter()
        .filter(|e| within(e.at, now, period))
        .fold(0i32, |s, e| s.wrapping_add(e.change))
}

/// Records `(desired, now)` in the slot of the last entry that `is_old`, or appends.
fn record(recs: &mut Vec<Recommendation>, old: Option<usize>, desired: i32, now: Millis) {
    let rec = Recommendation {
        replicas: desired,
        at: now,
    };
    match old {
        Some(i) => recs[i] = rec,
        None => recs.push(rec),
    }
}

/// Legacy stabilization (`stabilizeRecommendation`): the maximum of `desired` and every
/// recommendation not older than `window` (both directions), then records `desired`.
pub fn stabilize_recommendation(
    recs: &mut Vec<Recommendation>,
    desired: i32,
    window: Millis,
    now: Millis,
) -> i32 {
    let cutoff = now - window;
    let mut best = desired;
    let mut old = None;
    for (i, r) in recs.iter().enumerate() {
        if r.at < cutoff {
            old = Some(i);
        } else if r.replicas > best {
            best = r.replicas;
        }
    }
    record(recs, old, desired, now);
    best
}

/// Behavior stabilization (`stabilizeRecommendationWithBehaviors`): scale up at most to the
/// lowest recommendation of the up window, down at most to the highest of the down window
/// (windows strict, seconds), starting from `current`; records the unstabilized `desired`.
pub fn stabilize_recommendation_with_behavior(
    recs: &mut Vec<Recommendation>,
    current: i32,
    desired: i32,
    up_window_seconds: i32,
    down_window_seconds: i32,
    now: Millis,
) -> (i32, Stabilization) {
    let up_cut = now - Millis::from(up_window_seconds) * SECOND;
    let down_cut = now - Millis::from(down_window_seconds) * SECOND;
    let (mut up, mut down, mut old) = (desired, desired, None);
    for (i, r) in recs.iter().enumerate() {
        if r.at > up_cut {
            up = up.min(r.replicas);
        }
        if r.at > down_cut {
            down = down.max(r.replicas);
        }
        if r.at < up_cut && r.at < down_cut {
            old = Some(i);
        }
    }
    let stabilized = current.max(up).min(down);
    record(recs, old, desired, now);
    let reason = if stabilized == desired {
        Stabilization::ReadyForNewScale
    } else if desired >= current {
        Stabilization::ScaleUpStabilized
    } else {
        Stabilization::ScaleDownStabilized
    };
    (stabilized, reason)
}

/// The legacy scale-up cap (only when `spec.behavior` is nil): `max(factor × current,
/// minimum)` per sync. Upstream's constants are 2 and 4; its controller tests set the factor to 8.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LegacyLimit {
    /// `scaleUpLimitFactor`.
    pub factor: f64,
    /// `scaleUpLimitMinimum`.
    pub minimum: f64,
}

impl LegacyLimit {
    /// Upstream's constants: factor 2, minimum 4.
    pub const UPSTREAM: LegacyLimit = LegacyLimit {
        factor: 2.0,
        minimum: 4.0,
    };

    /// The most replicas allowed from `current` (`calculateScaleUpLimit`).
    pub fn scale_up_limit(self, current: i32) -> i32 {
        (self.factor * f64::from(current)).max(self.minimum) as i32
    }
}

/// Legacy clamping (`convertDesiredReplicasWithRules`): to `min`, then to the lower of `max`
/// and the scale-up cap.
pub fn convert_desired_replicas_with_rules(
    current: i32,
    desired: i32,
    min: i32,
    max: i32,
    legacy: LegacyLimit,
) -> (i32, Limit) {
    let cap = legacy.scale_up_limit(current);
    let (allowed, reason) = if max > cap {
        (cap, Limit::ScaleUpLimit)
    } else {
        (max, Limit::TooManyReplicas)
    };
    if desired < min {
        (min, Limit::TooFewReplicas)
    } else if desired > allowed {
        (allowed, reason)
    } else {
        (desired, Limit::DesiredWithinRange)
    }
}

/// Replicas at the start of `p`'s period, rebuilt from both event lists.
fn period_start(
    current: i32,
    p: &ScalingPolicy,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    now: Millis,
) -> i32 {
    current - replicas_change_in_period(p.period_seconds, up, now)
        + replicas_change_in_period(p.period_seconds, down, now)
}

/// The most replicas the scale-up rules allow now (`calculateScaleUpLimitWithScalingRules`).
pub fn scale_up_limit(
    current: i32,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    rules: &Rules,
    now: Millis,
) -> i32 {
    let pick: fn(i32, i32) -> i32 = match rules.select {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => std::cmp::min,
        SelectPolicy::Max => std::cmp::max,
    };
    let mut acc = if rules.select == SelectPolicy::Min {
        i32::MAX
    } else {
        i32::MIN
    };
    for p in &rules.policies {
        let start = period_start(current, p, up, down, now);
        let proposed = match p.kind {
            PolicyKind::Pods => start + p.value,
            PolicyKind::Percent => {
                (f64::from(start) * (1.0 + f64::from(p.value) / 100.0)).ceil() as i32
            }
        };
        acc = pick(acc, proposed);
    }
    acc
}

/// The fewest replicas the scale-down rules allow now (`calculateScaleDownLimitWithBehaviors`).
pub fn scale_down_limit(
    current: i32,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    rules: &Rules,
    now: Millis,
) -> i32 {
    let pick: fn(i32, i32) -> i32 = match rules.select {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => std::cmp::max,
        SelectPolicy::Max => std::cmp::min,
    };
    let mut acc = if rules.select == SelectPolicy::Min {
        i32::MIN
    } else {
        i32::MAX
    };
    for p in &rules.policies {
        let start = period_start(current, p, up, down, now);
        let proposed = match p.kind {
            PolicyKind::Pods => start - p.value,
            PolicyKind::Percent => (f64::from(start) * (1.0 - f64::from(p.value) / 100.0)) as i32,
        };
        acc = pick(acc, proposed);
    }
    acc
}

/// Rate-limits a stabilized recommendation (`convertDesiredReplicasWithBehaviorRate`): a
/// scale-up to `min(max, max(limit, current))`, a scale-down to `max(min, min(limit, current))`.
#[allow(clippy::too_many_arguments)]
pub fn convert_desired_replicas_with_behavior_rate(
    current: i32,
    desired: i32,
    min: i32,
    max: i32,
    behavior: &ResolvedBehavior,
    history: &History,
    now: Millis,
) -> (i32, Limit) {
    let (up, down) = (&history.up_events, &history.down_events);
    if desired > current {
        let limit = scale_up_limit(current, up, down, &behavior.up, now).max(current);
        let (allowed, reason) = if max > limit {
            (limit, Limit::ScaleUpLimit)
        } else {
            (max, Limit::TooManyReplicas)
        };
        if desired > allowed {
            return (allowed, reason);
        }
    } else if desired < current {
        let limit = scale_down_limit(current, up, down, &behavior.down, now).min(current);
        let (allowed, reason) = if min < limit {
            (limit, Limit::ScaleDownLimit)
        } else {
            (min, Limit::TooFewReplicas)
        };
        if desired < allowed {
            return (allowed, reason);
        }
    }
    (desired, Limit::DesiredWithinRange)
}

/// The legacy path (`normalizeDesiredReplicas`, `spec.behavior` nil): max over the downscale
/// window, then [`convert_desired_replicas_with_rules`].
#[allow(clippy::too_many_arguments)]
pub fn normalize_desired_replicas(
    history: &mut History,
    current: i32,
    desired: i32,
    min: i32,
    max: i32,
    downscale_window: Millis,
    legacy: LegacyLimit,
    now: Millis,
) -> Normalized {
    let recs = history.recommendations.get_or_insert_with(Vec::new);
    let stabilized = stabilize_recommendation(recs, desired, downscale_window, now);
    let stabilization = if stabilized != desired {
        Stabilization::ScaleDownStabilized
    } else {
        Stabilization::ReadyForNewScale
    };
    let (replicas, limit) =
        convert_desired_replicas_with_rules(current, stabilized, min, max, legacy);
    Normalized {
        replicas,
        stabilization,
        limit,
    }
}

/// The behavior path (`normalizeDesiredReplicasWithBehaviors`): stabilization windows, then
/// the rate limits of [`convert_desired_replicas_with_behavior_rate`].
pub fn normalize_desired_replicas_with_behavior(
    history: &mut History,
    behavior: &ResolvedBehavior,
    current: i32,
    desired: i32,
    min: i32,
    max: i32,
    now: Millis,
) -> Normalized {
    let recs = history.recommendations.get_or_insert_with(Vec::new);
    let (stabilized, stabilization) = stabilize_recommendation_with_behavior(
        recs,
        current,
        desired,
        behavior.up.window_seconds,
        behavior.down.window_seconds,
        now,
    );
    let (replicas, limit) = convert_desired_replicas_with_behavior_rate(
        current, stabilized, min, max, behavior, history, now,
    );
    Normalized {
        replicas,
        stabilization,
        limit,
    }
}

/// Remembers a scaling step from `prev` to `new` (`storeScaleEvent`; only with a behavior):
/// marks the direction's events older than its longest policy period as outdated, then reuses
/// the last outdated slot or appends.
pub fn store_scale_event(
    history: &mut History,
    behavior: &ResolvedBehavior,
    prev: i32,
    new: i32,
    now: Millis,
) {
    let (events, rules, change) = if new > prev {
        (&mut history.up_events, &behavior.up, new - prev)
    } else {
        (&mut history.down_events, &behavior.down, prev - new)
    };
    let cutoff = now - Millis::from(rules.longest_period()) * SECOND;
    let mut old = None;
    for (i, e) in events.iter_mut().enumerate() {
        if e.at < cutoff {
            e.outdated = true;
        }
        if e.outdated {
            old = Some(i);
        }
    }
    let event = ScaleEvent {
        change,
        at: now,
        outdated: false,
    };
    match old {
        Some(i) => events[i] = event,
        None => events.push(event),
    }
}
