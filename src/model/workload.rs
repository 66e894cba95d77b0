//! Workloads: when requests arrive, of which class, for which key.
//!
//! Open workloads are arrival processes: deterministic (`constant`), Poisson with a rate that may
//! vary in time (`poisson`, `ramp`, `stages`, `spike`, `diurnal`; non-homogeneous ones by
//! Lewis-Shedler thinning against the profile's maximum rate), a two-state Markov-modulated
//! Poisson process (`mmpp`), or a replay of recorded arrival times. Closed workloads are virtual
//! users who think, send one request, wait for its answer and think again; their number follows
//! k6-like stages. The same generator drives the simulator and the real load generator, so both
//! see the same arrivals for the same seed.

use rand_distr::{Distribution, Exp1};

use super::dist::{Dist, pick};
use crate::engine::Rng;
use crate::engine::SimTime;

mod keys;

pub use keys::KeyDist;

/// A piecewise-linear target over time: `(end time ns, target at end)`, starting at `start`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stages {
    /// Value at time zero.
    pub start: f64,
    /// Breakpoints: at `end_ns` the value reaches `target`, linearly from the previous one.
    pub points: Vec<(u64, f64)>,
}

impl Stages {
    /// The value at `t` (the last target holds after the last stage).
    pub fn at(&self, t: u64) -> f64 {
        let (mut t0, mut v0) = (0u64, self.start);
        for &(t1, v1) in &self.points {
            if t < t1 {
                let f = (t - t0) as f64 / (t1 - t0).max(1) as f64;
                return v0 + (v1 - v0) * f;
            }
            (t0, v0) = (t1, v1);
        }
        v0
    }

    /// The earliest time `>= from` at which the value exceeds `v`, if any.
    pub fn first_time_above(&self, v: f64, from: u64) -> Option<u64> {
        if self.at(from) > v {
            return Some(from);
        }
        let (mut t0, mut v0) = (0u64, self.start);
        for &(t1, v1) in &self.points {
            if t1 > from && v1 > v {
                // Linear segment from (t0, v0) to (t1, v1) crosses v.
                let f = if v1 > v0 {
                    ((v - v0) / (v1 - v0)).max(0.0)
                } else {
                    0.0
                };
                let t = t0 + ((t1 - t0) as f64 * f).floor() as u64 + 1;
                // Strictly after `from` (the value there is not above `v`), so callers progress.
                let t = t.clamp(from + 1, t1.max(from + 1));
                if self.at(t) > v {
                    return Some(t);
                }
                // Rounding (or a value so small that it underflows) left the value at or below
                // `v` there: bisect to the first instant above it (`at(t1)` is `v1`), rather
                // than have the caller step one nanosecond at a time.
                let (mut lo, mut hi) = (t, t1.max(t));
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if self.at(mid) > v {
                        hi = mid
                    } else {
                        lo = mid + 1
                    }
                }
                return Some(lo);
            }
            (t0, v0) = (t1, v1);
        }
        None
    }

    /// The largest value reached.
    pub fn max(&self) -> f64 {
        self.points.iter().map(|p| p.1).fold(self.start, f64::max)
    }
}

/// The rate of an open workload over time, requests per second.
#[allow(missing_docs)] // fields are described on each variant
#[derive(Debug, Clone, PartialEq)]
pub enum RateProfile {
    /// Piecewise-linear (covers constant, ramp and k6-style stages).
    Stages(Stages),
    /// Black-Friday spike: `base` until `at`, ramps to `base * multiplier` over `ramp`, holds
    /// for `hold`, ramps back over `ramp`.
    Spike {
        base: f64,
        multiplier: f64,
        at: u64,
        ramp: u64,
        hold: u64,
    },
    /// `mean * (1 + amplitude * sin(2 pi (t / period) + phase))`.
    Diurnal {
        mean: f64,
        amplitude: f64,
        period: u64,
        phase: f64,
    },
}

impl RateProfile {
    /// Rate at `t`.
    pub fn at(&self, t: u64) -> f64 {
        match self {
            RateProfile::Stages(s) => s.at(t),
            RateProfile::Spike {
                base,
                multiplier,
                at,
                ramp,
                hold,
            } => spike_at(t, *base, *multiplier, *at, *ramp, *hold),
            RateProfile::Diurnal {
                mean,
                amplitude,
                period,
                phase,
            } => {
                let x = 2.0 * std::f64::consts::PI * (t as f64 / *period as f64) + phase;
                mean * (1.0 + amplitude * x.sin())
            }
        }
    }

    /// An upper bound of the rate over all time.
    pub fn max(&self) -> f64 {
        match self {
            RateProfile::Stages(s) => s.max(),
            RateProfile::Spike {
                base, multiplier, ..
            } => base * multiplier.max(1.0),
            RateProfile::Diurnal {
                mean, amplitude, ..
            } => mean * (1.0 + amplitude.abs()),
        }
    }

    /// Whether the rate is zero at `t` and ever after (stages whose last target is zero).
    fn zero_from(&self, t: u64) -> bool {
        match self {
            RateProfile::Stages(s) => s
                .points
                .last()
                .is_some_and(|&(end, v)| t >= end && v <= 0.0),
            _ => false,
        }
    }

    fn scaled(&self, k: f64) -> RateProfile {
        match self {
            RateProfile::Stages(s) => RateProfile::Stages(Stages {
                start: s.start * k,
                points: s.points.iter().map(|&(t, v)| (t, v * k)).collect(),
            }),
            RateProfile::Spike {
                base,
                multiplier,
                at,
                ramp,
                hold,
            } => RateProfile::Spike {
                base: base * k,
                multiplier: *multiplier,
                at: *at,
                ramp: *ramp,
                hold: *hold,
            },
            RateProfile::Diurnal {
                mean,
                amplitude,
                period,
                phase,
            } => RateProfile::Diurnal {
                mean: mean * k,
                amplitude: *amplitude,
                period: *period,
                phase: *phase,
            },
        }
    }
}

fn spike_at(t: u64, base: f64, mult: f64, at: u64, ramp: u64, hold: u64) -> f64 {
    let peak = base * mult;
    // Saturating: an endless ramp or hold (a duration that saturated to u64::MAX) must not
    // wrap around to an end before its start.
    let up_end = at.saturating_add(ramp);
    let down_start = up_end.saturating_add(hold);
    let down_end = down_start.saturating_add(ramp);
    let lerp = |a: f64, b: f64, t0: u64, t1: u64| {
        a + (b - a) * ((t - t0) as f64 / (t1 - t0).max(1) as f64)
    };
    match t {
        t if t < at => base,
        t if t < up_end => lerp(base, peak, at, up_end),
        t if t < down_start => peak,
        t if t < down_end => lerp(peak, base, down_start, down_end),
        _ => base,
    }
}

/// An open arrival process.
#[allow(missing_docs)] // fields are described on each variant
#[derive(Debug, Clone)]
pub enum Arrivals {
    /// Evenly spaced arrivals at `rate` per second.
    Constant { rate: f64 },
    /// (Non-homogeneous) Poisson arrivals following a rate profile.
    Poisson(RateProfile),
    /// Two-state MMPP: rates per state and mean sojourn times (seconds) per state.
    Mmpp { rates: [f64; 2], sojourn: [f64; 2] },
    /// Recorded arrival times, ns, sorted.
    Replay(std::sync::Arc<[u64]>),
}

impl Arrivals {
    /// The same process with every rate multiplied by `k` (replay: times divided by `k`).
    pub fn scaled(&self, k: f64) -> Arrivals {
        match self {
            Arrivals::Constant { rate } => Arrivals::Constant { rate: rate * k },
            Arrivals::Poisson(p) => Arrivals::Poisson(p.scaled(k)),
            Arrivals::Mmpp { rates, sojourn } => Arrivals::Mmpp {
                rates: [rates[0] * k, rates[1] * k],
                sojourn: *sojourn,
            },
            Arrivals::Replay(ts) => {
                Arrivals::Replay(ts.iter().map(|&t| (t as f64 / k) as u64).collect())
            }
        }
    }

    /// Long-run mean rate, requests per second (replay: over its span).
    pub fn mean_rate(&self) -> f64 {
        match self {
            Arrivals::Constant { rate } => *rate,
            Arrivals::Poisson(p) => p.at(0).max(p.max()),
            Arrivals::Mmpp { rates, sojourn } => {
                (rates[0] * sojourn[0] + rates[1] * sojourn[1]) / (sojourn[0] + sojourn[1])
            }
            Arrivals::Replay(ts) => {
                ts.len() as f64 / SimTime(*ts.last().unwrap_or(&1)).as_secs_f64().max(1e-9)
            }
        }
    }
}

/// The running state of an [`Arrivals`] process.
#[derive(Debug, Clone)]
pub struct ArrivalState {
    process: Arrivals,
    /// Mean gap in ns of a homogeneous Poisson process (fast path: no thinning).
    poisson_gap_ns: Option<f64>,
    rng: Rng,
    mmpp_state: usize,
    mmpp_switch: u64,
    replay_next: usize,
    /// Piecewise thinning of a diurnal profile: the current segment's end and the rate's
    /// bounds over it.
    seg: (u64, f64, f64),
}

impl ArrivalState {
    /// Starts `process` with its own random stream.
    pub fn new(process: Arrivals, rng: Rng) -> ArrivalState {
        let poisson_gap_ns = match &process {
            Arrivals::Poisson(RateProfile::Stages(s)) if s.points.is_empty() && s.start > 0.0 => {
                Some(1e9 / s.start)
            }
            _ => None,
        };
        ArrivalState {
            process,
            poisson_gap_ns,
            rng,
            mmpp_state: 0,
            mmpp_switch: 0,
            replay_next: 0,
            seg: (0, 0.0, 0.0),
        }
    }

    /// The time of the next arrival after `now`, or `None` when the process has ended.
    #[inline]
    pub fn next_after(&mut self, now: u64) -> Option<u64> {
        if let Some(gap) = self.poisson_gap_ns {
            let e: f64 = Exp1.sample(&mut self.rng);
            return Some(now.saturating_add((e * gap) as u64).max(now + 1));
        }
        match &self.process {
            Arrivals::Constant { rate } => {
                (*rate > 0.0).then(|| now + SimTime::from_secs_f64(1.0 / rate).0.max(1))
            }
            Arrivals::Poisson(RateProfile::Diurnal {
                mean,
                amplitude,
                period,
                phase,
            }) => {
                let d = Sine {
                    mean: *mean,
                    amplitude: *amplitude,
                    period: *period,
                    phase: *phase,
                };
                Some(d.next_after(&mut self.seg, &mut self.rng, now))
            }
            Arrivals::Poisson(p) => thinning(p, &mut self.rng, now),
            Arrivals::Mmpp { .. } => self.next_mmpp(now),
            Arrivals::Replay(ts) => {
                let t = ts.get(self.replay_next).copied();
                self.replay_next += 1;
                t
            }
        }
    }

    fn next_mmpp(&mut self, mut now: u64) -> Option<u64> {
        let Arrivals::Mmpp { rates, sojourn } = self.process.clone() else {
            return None;
        };
        if self.mmpp_switch == 0 {
            self.mmpp_switch = now.saturating_add(exp_ns(&mut self.rng, sojourn[0]));
        }
        for _ in 0..1_000_000 {
            let rate = rates[self.mmpp_state];
            let gap = if rate > 0.0 {
                exp_ns(&mut self.rng, 1.0 / rate)
            } else {
                u64::MAX
            };
            if now.saturating_add(gap) < self.mmpp_switch {
                return Some(now + gap.max(1));
            }
            now = self.mmpp_switch;
            self.mmpp_state ^= 1;
            self.mmpp_switch = now.saturating_add(exp_ns(&mut self.rng, sojourn[self.mmpp_state]));
        }
        None
    }
}

fn exp_ns(rng: &mut Rng, mean_s: f64) -> u64 {
    SimTime::from_secs_f64(-mean_s * rng.next_open01().ln()).0
}

/// Lewis-Shedler thinning: candidates at the maximum rate, kept with probability rate(t)/max.
fn thinning(p: &RateProfile, rng: &mut Rng, mut now: u64) -> Option<u64> {
    let max = p.max();
    if max.is_nan() || max <= 0.0 {
        return None;
    }
    loop {
        now = now.saturating_add(exp_ns(rng, 1.0 / max).max(1));
        if now == u64::MAX || p.zero_from(now) {
            return None;
        }
        if rng.next_f64() * max < p.at(now) {
            return Some(now);
        }
    }
}

/// A diurnal rate `mean * (1 + amplitude * sin(2 pi t / period + phase))`, sampled by
/// piecewise thinning: the period is cut into [`Sine::SEGMENTS`] segments, candidates come at
/// the segment's highest rate, and a candidate below the segment's lowest rate is kept without
/// evaluating the sine (a squeeze). The process is exactly the same non-homogeneous Poisson
/// process as plain thinning at the global maximum, with about one random gap per arrival
/// instead of `max / mean` and almost no sines.
#[derive(Debug, Clone, Copy)]
struct Sine {
    mean: f64,
    amplitude: f64,
    period: u64,
    phase: f64,
}

impl Sine {
    const SEGMENTS: u64 = 4096;

    fn at(&self, t: u64) -> f64 {
        let x = std::f64::consts::TAU * (t as f64 / self.period as f64) + self.phase;
        self.mean * (1.0 + self.amplitude * x.sin())
    }

    /// The segment holding `t`: its end and the rate's bounds over it (the endpoints, or the
    /// extreme of the sine if one falls inside).
    fn segment(&self, t: u64) -> (u64, f64, f64) {
        let len = (self.period / Self::SEGMENTS).max(1);
        let start = t - t % len;
        let end = start.saturating_add(len);
        let (a, b) = (self.at(start), self.at(end));
        let (mut lo, mut hi) = (a.min(b), a.max(b));
        let x = |t: u64| std::f64::consts::TAU * (t as f64 / self.period as f64) + self.phase;
        let (xa, xb) = (x(start), x(end));
        let inside = |c: f64| {
            // Is some c + 2 pi k in [xa, xb]?
            let k = ((xa - c) / std::f64::consts::TAU).ceil();
            c + k * std::f64::consts::TAU <= xb
        };
        let amp = self.mean * self.amplitude.abs();
        if inside(std::f64::consts::FRAC_PI_2) {
            if self.amplitude >= 0.0 {
                hi = self.mean + amp;
            } else {
                lo = self.mean - amp;
            }
        }
        if inside(-std::f64::consts::FRAC_PI_2) {
            if self.amplitude >= 0.0 {
                lo = self.mean - amp;
            } else {
                hi = self.mean + amp;
            }
        }
        // A hair of slack against rounding in the endpoints.
        (end, lo * (1.0 - 1e-12), hi * (1.0 + 1e-12))
    }

    fn next_after(&self, seg: &mut (u64, f64, f64), rng: &mut Rng, mut now: u64) -> u64 {
        loop {
            if now >= seg.0 || seg.0 == 0 {
                *seg = self.segment(now);
            }
            let (end, lo, hi) = *seg;
            if hi <= 0.0 {
                now = end;
                continue;
            }
            let e: f64 = Exp1.sample(rng);
            let t = now.saturating_add(((e * 1e9 / hi) as u64).max(1));
            if t >= end {
                // Memoryless: restart from the segment's end at the next segment's rate.
                now = end;
                continue;
            }
            now = t;
            let u = rng.next_f64() * hi;
            if u < lo || u < self.at(t) {
                return t;
            }
        }
    }
}

/// Closed-loop virtual users.
#[derive(Debug, Clone)]
pub struct Users {
    /// Active users over time (k6 stages; a constant count with a ramp-up is two points).
    pub target: Stages,
    /// Think time between a response and the next request.
    pub think: Dist,
}

/// Who generates the load.
#[derive(Debug, Clone)]
pub enum Load {
    /// Open arrivals.
    Open(Arrivals),
    /// Closed-loop users.
    Closed(Users),
}

impl Load {
    /// The same load with rates (or user counts) multiplied by `k`.
    pub fn scaled(&self, k: f64) -> Load {
        match self {
            Load::Open(a) => Load::Open(a.scaled(k)),
            Load::Closed(u) => Load::Closed(Users {
                target: Stages {
                    start: u.target.start * k,
                    points: u.target.points.iter().map(|&(t, v)| (t, v * k)).collect(),
                },
                think: u.think.clone(),
            }),
        }
    }

    /// Offered intensity: mean arrival rate (open) or peak users (closed).
    pub fn intensity(&self) -> f64 {
        match self {
            Load::Open(a) => a.mean_rate(),
            Load::Closed(u) => u.target.max(),
        }
    }
}

/// The request mix: cumulative class weights and the key distribution.
#[derive(Debug, Clone)]
pub struct Mix {
    /// Cumulative probabilities of the classes, ending at 1.
    pub cumulative: Vec<f64>,
    /// Key popularity.
    pub keys: KeyDist,
}

impl Mix {
    /// Draws a class from `rng` (the `workload.mix` stream).
    #[inline]
    pub fn class(&self, rng: &mut Rng) -> u16 {
        if self.cumulative.len() == 1 {
            0
        } else {
            pick(rng, &self.cumulative) as u16
        }
    }

    /// Draws a key from `rng` (the `workload.keys` stream, separate so that a consumer that
    /// needs no keys can skip them without shifting the class draws).
    #[inline]
    pub fn key(&self, rng: &mut Rng) -> u64 {
        self.keys.sample(rng)
    }
}

/// One arrival of an open workload, as the real load generator consumes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// Intended start, ns from the start of the run.
    pub at_ns: u64,
    /// Class index.
    pub class: u32,
    /// Key.
    pub key: u64,
}

/// The arrivals of an open workload up to `end_ns`, as an iterator: exactly the sequence the
/// simulator sees for the same seed (the `workload` and `mix` streams).
#[derive(Debug)]
pub struct ArrivalIter {
    state: ArrivalState,
    mix: Mix,
    mix_rng: Rng,
    key_rng: Rng,
    now: u64,
    end: u64,
}

impl ArrivalIter {
    /// Arrivals of `process` with `mix`, seeded from `seed`, until `end_ns`.
    pub fn new(process: Arrivals, mix: Mix, seed: u64, end_ns: u64) -> ArrivalIter {
        let state = ArrivalState::new(process, Rng::stream(seed, STREAM_ARRIVALS));
        ArrivalIter {
            state,
            mix,
            mix_rng: Rng::stream(seed, STREAM_MIX),
            key_rng: Rng::stream(seed, STREAM_KEYS),
            now: 0,
            end: end_ns,
        }
    }
}

impl Iterator for ArrivalIter {
    type Item = Arrival;
    fn next(&mut self) -> Option<Arrival> {
        let t = self.state.next_after(self.now).filter(|&t| t < self.end)?;
        self.now = t;
        let class = self.mix.class(&mut self.mix_rng);
        Some(Arrival {
            at_ns: t,
            class: u32::from(class),
            key: self.mix.key(&mut self.key_rng),
        })
    }
}

/// Random stream of the arrival process.
pub const STREAM_ARRIVALS: &str = "workload.arrivals";
/// Random stream of the class draws.
pub const STREAM_MIX: &str = "workload.mix";
/// Random stream of the key draws.
pub const STREAM_KEYS: &str = "workload.keys";
/// Random stream of think times.
pub const STREAM_THINK: &str = "workload.think";

#[cfg(test)]
mod tests {
    use super::*;

    fn count(process: Arrivals, end_s: f64) -> usize {
        let mix = Mix {
            cumulative: vec![1.0],
            keys: KeyDist::None,
        };
        ArrivalIter::new(process, mix, 1, SimTime::from_secs_f64(end_s).0).count()
    }

    #[test]
    fn poisson_count_matches_rate() {
        let n = count(
            Arrivals::Poisson(RateProfile::Stages(Stages {
                start: 100.0,
                points: vec![],
            })),
            1000.0,
        );
        assert!((n as f64 / 100_000.0 - 1.0).abs() < 0.01, "{n}");
    }

    /// Arrival times of a diurnal profile over `[0, end_s)`.
    fn diurnal_times(amplitude: f64, phase: f64, end_s: f64) -> Vec<u64> {
        let mix = Mix {
            cumulative: vec![1.0],
            keys: KeyDist::None,
        };
        let p = RateProfile::Diurnal {
            mean: 200.0,
            amplitude,
            period: SimTime::from_secs_f64(1000.0).0,
            phase,
        };
        let end = SimTime::from_secs_f64(end_s).0;
        ArrivalIter::new(Arrivals::Poisson(p), mix, 7, end)
            .map(|a| a.at_ns)
            .collect()
    }

    #[test]
    fn diurnal_counts_are_the_area_under_the_sine_in_every_quarter() {
        // Piecewise thinning must give the same process as thinning at the global maximum:
        // the count in each quarter period is Poisson with the integral of the rate as mean,
        // mean * (T/4 - A T/(2 pi) (cos(x1) - cos(x0))), checked within 4 standard deviations.
        for (amplitude, phase) in [(0.9, 0.0), (0.5, 1.0), (-0.7, 2.5)] {
            let times = diurnal_times(amplitude, phase, 1000.0);
            for q in 0..4u64 {
                let (t0, t1) = (q as f64 * 250.0, (q + 1) as f64 * 250.0);
                let x = |t: f64| std::f64::consts::TAU * t / 1000.0 + phase;
                let mean = 200.0
                    * ((t1 - t0)
                        - amplitude * 1000.0 / std::f64::consts::TAU * (x(t1).cos() - x(t0).cos()));
                let n = times
                    .iter()
                    .filter(|&&t| {
                        t >= SimTime::from_secs_f64(t0).0 && t < SimTime::from_secs_f64(t1).0
                    })
                    .count() as f64;
                assert!(
                    (n - mean).abs() < 4.0 * mean.sqrt(),
                    "A {amplitude} phase {phase} quarter {q}: {n} arrivals, expected {mean:.0}"
                );
            }
            assert!(times.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn ramp_count_is_the_area_under_the_rate() {
        let ramp = Stages {
            start: 0.0,
            points: vec![(SimTime::from_secs_f64(1000.0).0, 200.0)],
        };
        let n = count(Arrivals::Poisson(RateProfile::Stages(ramp)), 1000.0);
        assert!((n as f64 / 100_000.0 - 1.0).abs() < 0.015, "{n}");
    }

    #[test]
    fn mmpp_mean_rate() {
        let p = Arrivals::Mmpp {
            rates: [10.0, 190.0],
            sojourn: [3.0, 1.0],
        };
        let n = count(p.clone(), 20_000.0);
        assert!(
            (n as f64 / (p.mean_rate() * 20_000.0) - 1.0).abs() < 0.03,
            "{n} vs {}",
            p.mean_rate()
        );
    }

    #[test]
    fn spike_profile_shape() {
        let s = RateProfile::Spike {
            base: 10.0,
            multiplier: 5.0,
            at: 100,
            ramp: 10,
            hold: 20,
        };
        assert_eq!(s.at(50), 10.0);
        assert_eq!(s.at(105), 30.0);
        assert_eq!(s.at(115), 50.0);
        assert_eq!(s.at(135), 30.0);
        assert_eq!(s.at(200), 10.0);
        assert_eq!(s.max(), 50.0);
    }

    #[test]
    fn first_time_above_progresses() {
        let s = Stages {
            start: 0.0,
            points: vec![(120_000_000_000, 10_000.0), (1_920_000_000_000, 10_000.0)],
        };
        for u in [0.0, 1.0, 4999.0, 9999.0] {
            let t = s.first_time_above(u, 0).unwrap();
            assert!(s.at(t) > u || t == 120_000_000_000, "user {u} at {t}");
            let later = s.first_time_above(u, t).unwrap();
            assert!(later >= t);
        }
        assert_eq!(s.first_time_above(10_000.0, 0), None);
    }
}
