//! Scaling policies to compare with the HPA: threshold rules and a predictive scaler.
//!
//! Both wake every `period`, measure the service over the period that just ended from its
//! cumulative counters ([`Snapshot`]: busy-worker integral, visits, queue), decide a number of
//! instances within `[min, max]`, and set it; new instances pass through the service's
//! start-up like the HPA's pods.
//!
//! - **Rules** (the guide's hand-written autoscaling: "CPU > 80 % => double the replicas",
//!   "queue > 1,000 => add workers"): an ordered list of `metric above/below threshold =>
//!   action`; the first rule that fires acts, then nothing fires for `cooldown`. The metrics:
//!   `cpu`, the busy workers over the period divided by the ready instances' workers (0..1);
//!   `queue`, requests waiting in the whole service; `rps_per_pod`, visits per second per ready
//!   instance. Actions multiply, add, remove or set instances.
//! - **Predictive**: instances for the rate expected `lead` ahead (time to start a pod plus a
//!   period), at `target_utilization` of an instance's capacity. The forecast is either
//!   `yesterday` (the load's own rate curve one day earlier: a perfect seasonal forecast for a
//!   periodic day, times `bias` to study forecast error) or `trend` (a least-squares line
//!   through the rates measured over the last `window`, extrapolated). The decision never goes
//!   below what the rate measured now needs, so a wrong forecast costs money, not errors.

use std::collections::VecDeque;

use super::service::{Service, Snapshot};
use super::workload::RateProfile;
use crate::engine::Ctx;

/// A measured quantity a rule compares with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleMetric {
    /// Busy workers over the period / workers of the ready instances (0..1).
    Cpu,
    /// Requests waiting in the service now.
    Queue,
    /// Visits per second per ready instance over the period.
    RpsPerPod,
}

/// What a rule does to the instances wanted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RuleAction {
    /// Multiply (2: double; 0.5: halve), rounding up.
    Multiply(f64),
    /// Add this many (negative: remove).
    Add(i32),
    /// Set this many.
    Set(u32),
}

/// `metric above/below threshold => action`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// What is measured.
    pub metric: RuleMetric,
    /// Fires when the metric is above this (exclusive).
    pub above: Option<f64>,
    /// Fires when the metric is below this (exclusive).
    pub below: Option<f64>,
    /// What it does.
    pub action: RuleAction,
}

/// Where a predictive scaler's forecast comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Forecast {
    /// The load's rate curve one day earlier (the scenario's own arrival profile).
    Yesterday,
    /// A least-squares line through the rates measured over the last `window` ns.
    Trend {
        /// The window, ns.
        window: u64,
    },
}

/// A scaling policy's configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicySpec {
    /// Threshold rules.
    Rules {
        /// Rules, first match wins.
        rules: Vec<Rule>,
        /// No action for this long after one, ns.
        cooldown: u64,
    },
    /// Forecast-driven scaling.
    Predictive {
        /// The forecast.
        forecast: Forecast,
        /// How far ahead to provision, ns.
        lead: u64,
        /// Requests per second one instance serves at 100 % busy.
        capacity: f64,
        /// Utilization to provision for (0..1].
        target_utilization: f64,
        /// The forecast is multiplied by this (forecast error).
        bias: f64,
    },
}

/// A policy with its period and bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalerSpec {
    /// The policy.
    pub policy: PolicySpec,
    /// Decision period, ns.
    pub period: u64,
    /// Fewest instances.
    pub min: u32,
    /// Most instances.
    pub max: u32,
}

/// A scaler's state.
#[derive(Debug, Clone)]
pub struct Scaler {
    spec: ScalerSpec,
    profile: Option<RateProfile>,
    last: Option<(u64, Snapshot)>,
    last_action: Option<u64>,
    rates: VecDeque<(u64, f64)>,
    /// Decisions that changed the instances wanted.
    pub rescales: u64,
}

const DAY: u64 = 86_400_000_000_000;

impl Scaler {
    /// A scaler in its initial state; `profile` is the open workload's rate curve (for a
    /// `yesterday` forecast).
    pub fn new(spec: ScalerSpec, profile: Option<RateProfile>) -> Scaler {
        Scaler {
            spec,
            profile,
            last: None,
            last_action: None,
            rates: VecDeque::new(),
            rescales: 0,
        }
    }

    /// The decision period, ns.
    pub fn period(&self) -> u64 {
        self.spec.period
    }

    /// One decision at `ctx.now()`.
    pub fn wake(&mut self, svc: &mut Service, ctx: &mut Ctx<'_>) {
        let now = ctx.now().0;
        let snap = svc.snapshot(now);
        let Some((t0, prev)) = self.last.replace((now, snap)) else {
            return; // the first wake only starts the measurement
        };
        let secs = now.saturating_sub(t0).max(1) as f64 / 1e9;
        let rate = snap.arrivals.saturating_sub(prev.arrivals) as f64 / secs;
        let busy = (snap.busy_area - prev.busy_area).max(0.0) / 1e9 / secs;
        let current = snap.desired;
        let wanted = match &self.spec.policy {
            PolicySpec::Rules { rules, cooldown } => {
                let cooling = self
                    .last_action
                    .is_some_and(|t| now < t.saturating_add(*cooldown));
                let workers = f64::from(snap.ready.max(1) * svc.workers_per_instance());
                let measure = |m: RuleMetric| match m {
                    RuleMetric::Cpu => busy / workers,
                    RuleMetric::Queue => f64::from(snap.waiting),
                    RuleMetric::RpsPerPod => rate / f64::from(snap.ready.max(1)),
                };
                if cooling {
                    current
                } else {
                    rules
                        .iter()
                        .find(|r| fires(r, measure(r.metric)))
                        .map_or(current, |r| apply(r.action, current))
                }
            }
            PolicySpec::Predictive {
                forecast,
                lead,
                capacity,
                target_utilization,
                bias,
            } => {
                let horizon = now + lead + self.spec.period;
                let expected = match forecast {
                    Forecast::Yesterday => self.yesterday(now, horizon),
                    Forecast::Trend { window } => {
                        // Only the trend keeps the measured rates, and only its window's.
                        self.rates.push_back((now, rate));
                        while self.rates.front().is_some_and(|(t, _)| t + window < now) {
                            self.rates.pop_front();
                        }
                        self.trend(now, *window, horizon)
                    }
                } * bias;
                let need = |r: f64| (r / (capacity * target_utilization)).ceil();
                need(expected.max(rate)).min(f64::from(u32::MAX)) as u32
            }
        };
        let wanted = wanted.clamp(self.spec.min, self.spec.max);
        if wanted != current {
            self.rescales += 1;
            self.last_action = Some(now);
            svc.set_desired(wanted, ctx);
        }
    }

    /// The highest rate of the load's curve one day before `now..=horizon`.
    fn yesterday(&self, now: u64, horizon: u64) -> f64 {
        let Some(p) = &self.profile else {
            return 0.0;
        };
        // A day-periodic profile gives the same value a day earlier; a profile that is not
        // periodic (a spike) is read one day earlier where the run has that far to look back,
        // and otherwise at the same time (the load is taken to repeat daily).
        let at = |t: u64| p.at(if t >= DAY { t - DAY } else { t });
        let steps = 16u64;
        (0..=steps)
            .map(|i| at(now + (horizon - now) * i / steps))
            .fold(0.0, f64::max)
    }

    /// The least-squares line through the rates of the last `window`, at `horizon`.
    fn trend(&self, now: u64, window: u64, horizon: u64) -> f64 {
        let pts: Vec<(f64, f64)> = self
            .rates
            .iter()
            .filter(|(t, _)| t + window >= now)
            .map(|&(t, r)| ((t as f64 - now as f64) / 1e9, r))
            .collect();
        let n = pts.len() as f64;
        if pts.len() < 2 {
            return pts.last().map_or(0.0, |p| p.1);
        }
        let (mx, my) = (
            pts.iter().map(|p| p.0).sum::<f64>() / n,
            pts.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        let ahead = (horizon - now) as f64 / 1e9;
        (my + slope * (ahead - mx)).max(0.0)
    }
}

fn fires(r: &Rule, value: f64) -> bool {
    r.above.is_none_or(|a| value > a) && r.below.is_none_or(|b| value < b)
}

/// The instances a rule's action asks for, from `current`.
pub fn apply(action: RuleAction, current: u32) -> u32 {
    match action {
        RuleAction::Multiply(k) => (f64::from(current) * k).ceil().clamp(0.0, 1e6) as u32,
        RuleAction::Add(n) => (i64::from(current) + i64::from(n)).clamp(0, 1_000_000) as u32,
        RuleAction::Set(n) => n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_up_and_clamp_at_zero() {
        assert_eq!(apply(RuleAction::Multiply(2.0), 3), 6);
        assert_eq!(apply(RuleAction::Multiply(0.5), 3), 2);
        assert_eq!(apply(RuleAction::Add(-5), 3), 0);
        assert_eq!(apply(RuleAction::Add(2), 3), 5);
        assert_eq!(apply(RuleAction::Set(7), 3), 7);
    }

    #[test]
    fn a_rule_fires_strictly_beyond_its_threshold() {
        let r = Rule {
            metric: RuleMetric::Cpu,
            above: Some(0.8),
            below: None,
            action: RuleAction::Multiply(2.0),
        };
        assert!(!fires(&r, 0.8));
        assert!(fires(&r, 0.81));
        let band = Rule {
            above: Some(0.2),
            below: Some(0.4),
            ..r
        };
        assert!(fires(&band, 0.3) && !fires(&band, 0.5) && !fires(&band, 0.1));
    }

    fn scaler(policy: PolicySpec) -> Scaler {
        Scaler::new(
            ScalerSpec {
                policy,
                period: 60_000_000_000,
                min: 1,
                max: 100,
            },
            None,
        )
    }

    #[test]
    fn the_trend_extrapolates_a_straight_line_exactly() {
        let mut s = scaler(PolicySpec::Predictive {
            forecast: Forecast::Trend {
                window: 600_000_000_000,
            },
            lead: 0,
            capacity: 1.0,
            target_utilization: 1.0,
            bias: 1.0,
        });
        // rate = 100 + 2/s * t
        for i in 0..5u64 {
            let t = i * 60_000_000_000;
            s.rates.push_back((t, 100.0 + 2.0 * (t as f64 / 1e9)));
        }
        let now = 240_000_000_000;
        let got = s.trend(now, 600_000_000_000, now + 120_000_000_000);
        assert!((got - (100.0 + 2.0 * 360.0)).abs() < 1e-9, "{got}");
        // Only the window's points count: a window of 60 s sees the last two.
        s.rates.push_front((0, 1e6));
        let short = s.trend(now, 60_000_000_000, now);
        assert!((short - (100.0 + 2.0 * 240.0)).abs() < 1e-9, "{short}");
    }

    #[test]
    fn yesterday_reads_the_peak_ahead_on_a_periodic_day() {
        let mut s = scaler(PolicySpec::Predictive {
            forecast: Forecast::Yesterday,
            lead: 0,
            capacity: 1.0,
            target_utilization: 1.0,
            bias: 1.0,
        });
        s.profile = Some(RateProfile::Diurnal {
            mean: 100.0,
            amplitude: 0.5,
            period: DAY,
            phase: 0.0,
        });
        // The sine peaks at a quarter day: looking from just before it, the peak is ahead.
        let q = DAY / 4;
        let got = s.yesterday(q - 3_600_000_000_000, q + 1);
        assert!((got - 150.0).abs() < 0.5, "{got}");
        // One day later the same.
        let next = s.yesterday(DAY + q - 3_600_000_000_000, DAY + q + 1);
        assert!((next - got).abs() < 1e-9);
    }
}
